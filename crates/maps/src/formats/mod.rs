//! Files desktop GIS opens directly: a layer's districts with the chosen indicators and periods
//! as a GeoPackage ([`crate::formats::gpkg`]), a FlatGeobuf ([`crate::formats::fgb`]) or a
//! zipped Shapefile ([`crate::formats::shapefile`]).
//! The same bytes for `GET /layers/{layer}.gpkg|.fgb|.shp.zip`, the OGC API's `f=` and
//! `placemap export --format gpkg|fgb|shp`.
//!
//! Each writer reads one [`crate::formats::Table`]: the fields (code and name as text, the layer's kept
//! attributes as text, numeric indicators as real, categorical ones as text, a text reason
//! column after a value column where a boundary change explains a missing value: the columns
//! of the CSV export) and, per district, the geometry in the export's CRS (`crs`: WGS 84 by
//! default, British National Grid, Web Mercator; see [`crate::formats::Srs`]), rounded to a decimal
//! grid and made OGC-valid there by the same step as the GeoJSON export
//! ([`districts::repair::on_decimal_grid`]).

pub mod fgb;
pub mod gpkg;
pub mod shapefile;

use districts::layer::PeriodValues;
use districts::{Indicator, Layer};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::MapError;
use crate::export::{ValueColumn, chosen_indicators, districts_in_bbox, value_columns};
use crate::options::ExportOptions;
use crate::output_crs::{OutputCrs, Projector};

/// How many features a writer writes between two looks at the cancel flag.
pub(crate) const CHECK_EVERY: usize = 64;

/// A file format for desktop GIS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GisFormat {
    /// OGC GeoPackage (SQLite), with an R-tree spatial index.
    Gpkg,
    /// FlatGeobuf, with its packed Hilbert R-tree index.
    Fgb,
    /// ESRI Shapefile (`.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`) in a zip archive.
    Shp,
}

impl GisFormat {
    /// Every format, in the order documented.
    pub const ALL: [GisFormat; 3] = [GisFormat::Gpkg, GisFormat::Fgb, GisFormat::Shp];

    /// The file extension of a download (`gpkg`, `fgb`, `shp.zip`).
    pub fn extension(self) -> &'static str {
        match self {
            GisFormat::Gpkg => "gpkg",
            GisFormat::Fgb => "fgb",
            GisFormat::Shp => "shp.zip",
        }
    }

    /// The media type of a download.
    pub fn media_type(self) -> &'static str {
        match self {
            GisFormat::Gpkg => "application/geopackage+sqlite3",
            GisFormat::Fgb => "application/flatgeobuf",
            GisFormat::Shp => "application/zip",
        }
    }

    /// The name used in `f=` and `--format` (`gpkg`, `fgb`, `shp`).
    pub fn name(self) -> &'static str {
        match self {
            GisFormat::Gpkg => "gpkg",
            GisFormat::Fgb => "fgb",
            GisFormat::Shp => "shp",
        }
    }

    /// The format named `f` (`gpkg`, `fgb`, `shp`, or one of the media types), if any.
    pub fn from_name(f: &str) -> Option<GisFormat> {
        let f = f.to_ascii_lowercase();
        let named = GisFormat::ALL
            .into_iter()
            .find(|g| g.name() == f || g.media_type() == f || g.extension() == f);
        // Also the names GDAL and QGIS use.
        named.or(match f.as_str() {
            "geopackage" => Some(GisFormat::Gpkg),
            "flatgeobuf" => Some(GisFormat::Fgb),
            "shapefile" | "esri shapefile" | "application/x-shapefile" => Some(GisFormat::Shp),
            _ => None,
        })
    }
}

/// The coordinate reference system a file is written in, from the export's `crs`
/// ([`OutputCrs`]).
///
/// GIS files keep x = easting or longitude whatever the CRS's axis order (GeoPackage's rule,
/// and GDAL's and QGIS's for every format here), so CRS84 and EPSG:4326 give the same file:
/// longitude, latitude, labelled EPSG:4326.
#[derive(Debug)]
pub struct Srs {
    /// EPSG code.
    pub epsg: i32,
    /// Human-readable name.
    pub name: &'static str,
    /// OGC WKT 1 definition (GeoPackage `gpkg_spatial_ref_sys`, Shapefile `.prj`, FlatGeobuf
    /// header).
    pub wkt: String,
    /// Coordinates in degrees (else metres).
    pub geographic: bool,
    /// The CRS as the export options name it.
    pub crs: OutputCrs,
    projector: Projector,
}

impl Srs {
    /// The SRS of files written in `crs`.
    pub fn of(crs: OutputCrs) -> Result<Srs, MapError> {
        // Longitude first in files: EPSG:4326 data is written as CRS84 coordinates.
        let (coords, label) = match crs {
            OutputCrs::Crs84 | OutputCrs::Epsg4326 => (OutputCrs::Crs84, OutputCrs::Epsg4326),
            other => (other, other),
        };
        let name = match label {
            OutputCrs::Bng27700 => "OSGB36 / British National Grid",
            OutputCrs::WebMercator3857 => "WGS 84 / Pseudo-Mercator",
            OutputCrs::Crs84 | OutputCrs::Epsg4326 => "WGS 84",
        };
        Ok(Srs {
            epsg: i32::try_from(label.epsg()).unwrap_or(4326),
            name,
            wkt: label.wkt(),
            geographic: label.is_geographic(),
            crs,
            projector: coords.projector()?,
        })
    }

    /// `mp` (WGS 84 longitude/latitude) in this CRS, x first.
    pub fn project(&self, mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>, MapError> {
        self.projector.multipolygon(mp)
    }
}

/// The type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// UTF-8 text.
    Text,
    /// Double-precision number.
    Real,
}

/// Where a field's values come from.
#[derive(Clone, Debug)]
enum Source<'a> {
    Code,
    Name,
    Attribute(String),
    Value(ValueColumn<'a>),
    Reason(ValueColumn<'a>),
}

/// One field (column) of an exported table.
#[derive(Clone, Debug)]
pub struct Field<'a> {
    /// Its name (the CSV export's column name).
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// What it holds, for metadata ("Median weekly pay (GBP), 2021").
    pub description: String,
    source: Source<'a>,
}

/// One value of a feature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Text(&'a str),
    /// A number.
    Real(f64),
}

/// A layer's districts ready for a writer: fields, the districts chosen and the CRS.
pub struct Table<'a> {
    /// The layer.
    pub layer: &'a Layer,
    /// The fields, in order.
    pub fields: Vec<Field<'a>>,
    /// The districts exported (indices into `layer.districts`), in layer order.
    pub rows: Vec<usize>,
    /// The CRS of the geometries.
    pub srs: Srs,
    /// Decimals of the coordinate grid.
    pub decimals: u32,
    /// The attributions of the layer and of the indicators exported.
    pub attribution: String,
}

impl<'a> Table<'a> {
    /// The table of `layer` for the options of an export: `indicators`, `periods`, `bbox`,
    /// `crs` and `precision` (decimals in the CRS's unit); `zoom` and `simplify` are
    /// GeoJSON's only.
    pub fn new(layer: &'a Layer, q: &ExportOptions) -> Result<Table<'a>, MapError> {
        for (opt, given) in [
            ("zoom", q.zoom.is_some()),
            ("simplify", q.simplify.is_some()),
        ] {
            if given {
                return Err(MapError::bad_request(
                    format!("{opt} applies to GeoJSON only"),
                    "GeoPackage, FlatGeobuf and Shapefile take bbox, indicators, periods and precision (full-detail boundaries)",
                ));
            }
        }
        let crs = q.crs.unwrap_or_default();
        let decimals = u32::try_from(crs.precision(q.precision)?).unwrap_or(6);
        let srs = Srs::of(crs)?;
        let periods = q.periods_named()?;
        let inds = chosen_indicators(layer, q.indicators.as_deref())?;
        crate::export::check_periods(&inds, &periods)?;
        let rows = districts_in_bbox(layer, q.bbox)?;
        let mut fields = vec![
            Field {
                name: "code".into(),
                kind: FieldKind::Text,
                description: "GSS code".into(),
                source: Source::Code,
            },
            Field {
                name: "name".into(),
                kind: FieldKind::Text,
                description: "name".into(),
                source: Source::Name,
            },
        ];
        for a in &layer.meta.attributes {
            fields.push(Field {
                name: a.clone(),
                kind: FieldKind::Text,
                description: format!("{a} (from the boundary file)"),
                source: Source::Attribute(a.clone()),
            });
        }
        for c in value_columns(layer, &inds, &periods, &rows) {
            let ind = c.indicator;
            let kind = match ind.periods[c.period].values {
                PeriodValues::Numeric(_) => FieldKind::Real,
                PeriodValues::Categorical(_) => FieldKind::Text,
            };
            let unit = if ind.meta.unit.is_empty() {
                String::new()
            } else {
                format!(" ({})", ind.meta.unit)
            };
            let description = format!("{}{unit}, {}", ind.meta.title, ind.periods[c.period].label);
            fields.push(Field {
                name: c.name.clone(),
                kind,
                description: description.clone(),
                source: Source::Value(c.clone()),
            });
            if c.explained {
                fields.push(Field {
                    name: format!("{}_no_data_reason", c.name),
                    kind: FieldKind::Text,
                    description: format!("why {description} has no value"),
                    source: Source::Reason(c),
                });
            }
        }
        let mut attribution: Vec<&str> = vec![layer.meta.provenance.attribution.as_str()];
        for ind in &inds {
            let a = ind.meta.provenance.attribution.as_str();
            if !a.is_empty() && !attribution.contains(&a) {
                attribution.push(a);
            }
        }
        Ok(Table {
            layer,
            fields,
            rows,
            srs,
            decimals,
            attribution: attribution.join(" "),
        })
    }

    /// The values of district `i` (an index into `layer.districts`), one per field.
    pub fn cells(&self, i: usize) -> Vec<Cell<'a>> {
        let d = &self.layer.districts[i];
        self.fields
            .iter()
            .map(|f| match &f.source {
                Source::Code => Cell::Text(d.code.as_str()),
                Source::Name => Cell::Text(d.name.as_str()),
                Source::Attribute(a) => d
                    .attributes
                    .iter()
                    .find(|(k, _)| k == a)
                    .map_or(Cell::Null, |(_, v)| Cell::Text(v.as_str())),
                Source::Value(c) => value_cell(c.indicator, c.period, i),
                Source::Reason(c) => reason_cell(self.layer, c, i),
            })
            .collect()
    }

    /// The geometry of district `i` in the table's CRS, on its decimal grid and OGC-valid
    /// there (exteriors counter-clockwise, holes clockwise).
    pub fn geometry(&self, i: usize) -> Result<MultiPolygon<f64>, MapError> {
        let projected = self.srs.project(&self.layer.districts[i].wgs84.0)?;
        Ok(
            match districts::repair::on_decimal_grid(&projected, self.decimals) {
                Some(g) if !g.shapes.is_empty() => grid_to_polygons(&g),
                // Too fine a grid for this geometry's extent (or nothing left on it): the
                // geometry as placemap holds it (valid, repaired at load), projected.
                _ => projected,
            },
        )
    }

    /// The name of the file and layer: the layer id.
    pub fn name(&self) -> &str {
        &self.layer.meta.id
    }

    /// A one-paragraph description for the file's metadata.
    pub fn description(&self) -> String {
        format!(
            "{} ({}) exported by placemap. Licence: {}. {}",
            self.layer.meta.title,
            self.layer.meta.vintage,
            self.layer.meta.provenance.licence,
            self.attribution
        )
    }
}

fn value_cell<'a>(ind: &'a Indicator, period: usize, i: usize) -> Cell<'a> {
    match &ind.periods[period].values {
        PeriodValues::Numeric(v) => v[i].map_or(Cell::Null, Cell::Real),
        PeriodValues::Categorical(v) => v[i].as_deref().map_or(Cell::Null, Cell::Text),
    }
}

fn reason_cell<'a>(layer: &Layer, c: &ValueColumn<'a>, i: usize) -> Cell<'a> {
    let ind: &'a Indicator = c.indicator;
    let label = &ind.periods[c.period].label;
    let has_value = !matches!(value_cell(ind, c.period, i), Cell::Null);
    if has_value {
        return Cell::Null;
    }
    let Some(d) = layer.districts.get(i) else {
        return Cell::Null;
    };
    ind.no_data_reason(&d.code, label)
        .map_or(Cell::Null, |r| Cell::Text(r.reason.as_str()))
}

/// Polygons of a decimal grid as coordinates (rings closed again).
fn grid_to_polygons(g: &districts::repair::DecimalShapes) -> MultiPolygon<f64> {
    let scale = 10f64.powi(i32::try_from(g.decimals).unwrap_or(0));
    let point = |x: i32, y: i32| Coord {
        // Exact integers well inside f64's 53 bits; one division gives the nearest double to
        // the decimal, as parsing the GeoJSON text would.
        x: (g.origin[0] + i64::from(x)) as f64 / scale,
        y: (g.origin[1] + i64::from(y)) as f64 / scale,
    };
    let ring = |r: &Vec<i_overlay::i_float::int::point::IntPoint>| {
        LineString(r.iter().chain(r.first()).map(|p| point(p.x, p.y)).collect())
    };
    MultiPolygon(
        g.shapes
            .iter()
            .filter_map(|shape| {
                let (exterior, holes) = shape.split_first()?;
                Some(Polygon::new(
                    ring(exterior),
                    holes.iter().map(ring).collect(),
                ))
            })
            .collect(),
    )
}

/// `[min_x, min_y, max_x, max_y]` of a geometry.
pub(crate) fn envelope(mp: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    mp.bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// Writes `layer` with the options of an export as `format`, the whole file in memory; stops
/// with a [`crate::ErrorKind::Cancelled`] error soon after `cancelled()` turns true.
pub fn layer_file_cancellable(
    layer: &Layer,
    q: &ExportOptions,
    format: GisFormat,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<u8>, MapError> {
    let table = Table::new(layer, q)?;
    match format {
        GisFormat::Gpkg => gpkg::write(&table, cancelled),
        GisFormat::Fgb => fgb::write(&table, cancelled),
        GisFormat::Shp => shapefile::write(&table, cancelled),
    }
}

/// [`layer_file_cancellable`] that runs to the end.
pub fn layer_file(
    layer: &Layer,
    q: &ExportOptions,
    format: GisFormat,
) -> Result<Vec<u8>, MapError> {
    layer_file_cancellable(layer, q, format, &|| false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_media_type_and_extension() {
        for f in GisFormat::ALL {
            assert_eq!(GisFormat::from_name(f.name()), Some(f));
            assert_eq!(GisFormat::from_name(f.media_type()), Some(f));
            assert_eq!(GisFormat::from_name(f.extension()), Some(f));
        }
        assert_eq!(GisFormat::from_name("GeoPackage"), Some(GisFormat::Gpkg));
        assert_eq!(GisFormat::from_name("json"), None);
        assert_eq!(GisFormat::from_name("kml"), None);
    }

    #[test]
    fn grid_polygons_are_closed_and_scaled() {
        use geo_types::polygon;
        let square = MultiPolygon(vec![polygon![
            (x: -1.0000004, y: 54.0), (x: -0.9, y: 54.0), (x: -0.9, y: 54.1), (x: -1.0, y: 54.1)
        ]]);
        let g = districts::repair::on_decimal_grid(&square, 6).expect("fits");
        let back = grid_to_polygons(&g);
        let ring = &back.0[0].exterior().0;
        assert_eq!(ring.first(), ring.last());
        assert!(ring.iter().any(|c| c.x == -1.0 && c.y == 54.0), "{ring:?}");
    }
}
