//! Readers for the static-map tests and benchmark: LAD 2019 / LSOA 2011 boundaries (GeoJSON,
//! WGS84) projected to Web Mercator with `tile_math::lonlat_to_mercator`, IMD 2019 columns, and
//! the figure inputs built from them (quintile classes in OrRd, legend, credit). The real loaders
//! live in the districts crate; these keep choropleth's tests independent of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
pub use test_support::data_dir;

use choropleth::classify::{Scheme, classify};
use choropleth::figure::{Fill, MapDistrict, Rgba};
use choropleth::legend::{Legend, LegendMeta};
use choropleth::palette::Palette;
use geo::BoundingRect;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;
use tile_math::Bounds;

/// One boundary: code, name, LAD 2019 code (its own for a LAD) and Web Mercator geometry.
pub struct Area {
    pub code: String,
    pub name: String,
    pub lad: String,
    pub mercator: MultiPolygon<f64>,
}

fn prop(props: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    props
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

/// Reads a WGS84 GeoJSON FeatureCollection, projecting to Web Mercator.
pub fn read_areas(path: &Path, code_key: &str, name_key: &str) -> Result<Vec<Area>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| format!("{}: no `features` array", path.display()))?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let ctx = |what: &str| format!("{} feature {i}: {what}", path.display());
        let props = f["properties"]
            .as_object()
            .ok_or_else(|| ctx("no properties"))?;
        let code = prop(props, code_key).ok_or_else(|| ctx(&format!("no {code_key}")))?;
        let name = prop(props, name_key).unwrap_or_default();
        let lad = prop(props, "lad19cd").unwrap_or_else(|| code.clone());
        let g = &f["geometry"];
        let polys: Vec<&Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["coordinates"]],
            Some("MultiPolygon") => g["coordinates"]
                .as_array()
                .ok_or_else(|| ctx("MultiPolygon without coordinates"))?
                .iter()
                .collect(),
            other => return Err(ctx(&format!("unsupported geometry type {other:?}"))),
        };
        let mut polygons = Vec::with_capacity(polys.len());
        for p in polys {
            let rings = p.as_array().ok_or_else(|| ctx("polygon is not an array"))?;
            let mut ls = Vec::with_capacity(rings.len());
            for r in rings {
                let pts = r.as_array().ok_or_else(|| ctx("ring is not an array"))?;
                let mut cs = Vec::with_capacity(pts.len());
                for pt in pts {
                    let lon = pt[0].as_f64().ok_or_else(|| ctx("bad coordinate"))?;
                    let lat = pt[1].as_f64().ok_or_else(|| ctx("bad coordinate"))?;
                    let (x, y) = tile_math::lonlat_to_mercator(lon, lat);
                    cs.push(Coord { x, y });
                }
                ls.push(LineString(cs));
            }
            let mut it = ls.into_iter();
            let ext = it.next().ok_or_else(|| ctx("polygon without rings"))?;
            polygons.push(Polygon::new(ext, it.collect()));
        }
        out.push(Area {
            code,
            name,
            lad,
            mercator: MultiPolygon(polygons),
        });
    }
    Ok(out)
}

/// A numeric CSV column keyed by another column (BOM-tolerant headers; empty cells skipped).
pub fn read_column(path: &Path, key: &str, value: &str) -> Result<HashMap<String, f64>, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').trim() == name)
            .ok_or_else(|| format!("{}: no column {name:?}", path.display()))
    };
    let (k, v) = (find(key)?, find(value)?);
    let mut out = HashMap::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} record {line}: {e}", path.display()))?;
        let text = rec.get(v).unwrap_or_default().trim().replace(',', "");
        if text.is_empty() {
            continue;
        }
        let x: f64 = text
            .parse()
            .map_err(|e| format!("{} record {line}: {value} {text:?}: {e}", path.display()))?;
        out.insert(rec.get(k).unwrap_or_default().to_string(), x);
    }
    Ok(out)
}

/// The credit line of IMD maps.
pub const CREDIT: &str = "Source: Ministry of Housing, Communities and Local Government, English \
    indices of deprivation 2019 (File 10, local authority district summaries). Boundaries: Office \
    for National Statistics, Local Authority Districts (December 2019), generalised. Contains \
    public sector information licensed under the Open Government Licence v3.0. Contains OS data \
    © Crown copyright and database right 2019.";

/// A layer read and classified: areas, their value, class colour, and the legend.
pub struct Layer {
    pub areas: Vec<Area>,
    pub values: Vec<Option<f64>>,
    pub fills: Vec<Fill>,
    pub legend: Legend,
}

impl Layer {
    /// English areas (code starting with `E`) of a boundary file with a value column joined,
    /// classified into quintiles and coloured OrRd (reversed when
    /// higher is better, so that worse is darker).
    // One call per layer below; a parameter struct would only restate these names.
    #[allow(clippy::too_many_arguments)]
    pub fn england(
        boundaries: &str,
        code_key: &str,
        name_key: &str,
        csv: &str,
        csv_key: &str,
        csv_value: &str,
        meta: LegendMeta,
        higher_is_better: bool,
    ) -> Result<Layer, String> {
        let dir = data_dir();
        let areas: Vec<Area> = read_areas(&dir.join(boundaries), code_key, name_key)?
            .into_iter()
            .filter(|a| a.code.starts_with('E'))
            .collect();
        let column = read_column(&dir.join(csv), csv_key, csv_value)?;
        let values: Vec<Option<f64>> = areas.iter().map(|a| column.get(&a.code).copied()).collect();
        let classes = classify(&values, &Scheme::Quantile, 5).map_err(|e| e.to_string())?;
        let palette = Palette::from_name("OrRd", 5).map_err(|e| e.to_string())?;
        // Worse is darker: a decile of 1 is the most deprived.
        let palette = if higher_is_better {
            palette.reverse()
        } else {
            palette
        };
        let colours = palette.colors();
        let fills = values
            .iter()
            .map(|v| match classes.class_of_opt(*v) {
                Some(c) => {
                    let rgb = colours[c];
                    Fill::Solid(Rgba(rgb.r, rgb.g, rgb.b, 255))
                }
                None => Fill::NoData,
            })
            .collect();
        let legend = Legend::new(&classes, &palette, meta).map_err(|e| e.to_string())?;
        Ok(Layer {
            areas,
            values,
            fills,
            legend,
        })
    }

    /// LAD 2019, IMD 2019 average score.
    pub fn lad_imd() -> Result<Layer, String> {
        Layer::england(
            "lad_2019_uk_generalised_wgs84.geojson",
            "lad19cd",
            "lad19nm",
            "imd2019_lad_summaries_file10.csv",
            "Local Authority District code (2019)",
            "IMD - Average score",
            LegendMeta {
                title: "IMD 2019 average score".into(),
                subtitle: "2019".into(),
                unit: "score".into(),
                source: CREDIT.into(),
            },
            false,
        )
    }

    /// LSOA 2011, IMD 2019 decile.
    pub fn lsoa_imd() -> Result<Layer, String> {
        Layer::england(
            "lsoa_2011_england_generalised_wgs84.geojson",
            "lsoa11cd",
            "lsoa11nm",
            "imd2019_lsoa_file1_imd.csv",
            "LSOA code (2011)",
            "Index of Multiple Deprivation (IMD) Decile",
            LegendMeta {
                title: "IMD 2019 decile".into(),
                subtitle: "2019".into(),
                unit: "decile (1 = most deprived)".into(),
                source: CREDIT.into(),
            },
            true,
        )
    }

    /// Index of the area with this code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.areas.iter().position(|a| a.code == code)
    }

    /// Figure inputs: every area, London ones (in an E09 district) flagged, `highlight` codes outlined and
    /// labelled with their names.
    pub fn districts(&self, highlight: &[&str]) -> Vec<MapDistrict<'_>> {
        self.areas
            .iter()
            .zip(&self.fills)
            .map(|(a, &fill)| {
                let hl = highlight.contains(&a.code.as_str());
                MapDistrict {
                    geometry: &a.mercator,
                    fill,
                    label: hl.then_some(a.name.as_str()),
                    highlight: hl,
                    in_london: a.lad.starts_with("E09"),
                }
            })
            .collect()
    }

    /// Bounding box of the areas whose code is in `codes` (all areas if `codes` is empty).
    pub fn bounds_of(&self, codes: &[&str]) -> Option<Bounds> {
        let mut out: Option<Bounds> = None;
        for a in &self.areas {
            if !codes.is_empty() && !codes.contains(&a.code.as_str()) {
                continue;
            }
            let Some(r) = a.mercator.bounding_rect() else {
                continue;
            };
            let b = Bounds {
                min_x: r.min().x,
                min_y: r.min().y,
                max_x: r.max().x,
                max_y: r.max().y,
            };
            out = Some(match out {
                None => b,
                Some(o) => Bounds {
                    min_x: o.min_x.min(b.min_x),
                    min_y: o.min_y.min(b.min_y),
                    max_x: o.max_x.max(b.max_x),
                    max_y: o.max_y.max(b.max_y),
                },
            });
        }
        out
    }
}

/// The North East region's LADs (2019).
pub const NORTH_EAST: [&str; 12] = [
    "E06000001",
    "E06000002",
    "E06000003",
    "E06000004",
    "E06000005",
    "E06000047",
    "E08000021",
    "E08000022",
    "E08000023",
    "E08000024",
    "E08000037",
    "E06000057",
];
