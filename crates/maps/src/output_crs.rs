//! The coordinate reference systems placemap writes geometry in (OGC API - Features Part 2
//! "CRS by reference", `placemap export --crs`, GeoPackage / shapefile downloads): how a client
//! names one, its URI, EPSG code and WKT, and the projection of placemap's WGS84 geometry into it.
//!
//! The British National Grid uses the same PROJ definition (with the published OSGB36 Helmert,
//! [`districts::crs::BNG_PROJ4`]) as loading BNG files, run backwards, so a district read from a
//! BNG file comes back on its source eastings and northings within millimetres.

use std::fmt;
use std::str::FromStr;

use districts::crs::{BNG_PROJ4, Crs, ToWgs84, WGS84_PROJ4};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use proj4rs::Proj;
use proj4rs::transform::transform;

use crate::error::MapError;

/// A CRS placemap can write coordinates in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OutputCrs {
    /// OGC CRS84: WGS84 longitude, latitude in degrees (GeoJSON's RFC 7946 order; the default).
    #[default]
    Crs84,
    /// EPSG:4326: WGS84 in degrees, **latitude first** as the EPSG definition orders its axes
    /// (OGC API - Features Part 2 requires that order when a client asks for EPSG:4326).
    Epsg4326,
    /// EPSG:27700 OSGB36 / British National Grid: easting, northing in metres.
    Bng27700,
    /// EPSG:3857 WGS84 / Pseudo-Mercator: x, y in metres.
    WebMercator3857,
}

/// The accepted spellings, for error hints.
const ACCEPTED: &str = "crs must be one of http://www.opengis.net/def/crs/OGC/1.3/CRS84 (or CRS84: \
     longitude, latitude), http://www.opengis.net/def/crs/EPSG/0/4326 (or EPSG:4326: latitude, \
     longitude), http://www.opengis.net/def/crs/EPSG/0/27700 (or EPSG:27700, 27700: British \
     National Grid metres), http://www.opengis.net/def/crs/EPSG/0/3857 (or EPSG:3857: Web \
     Mercator metres)";

const WKT_WGS84_DATUM: &str = r#"DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]"#;

impl OutputCrs {
    /// Every output CRS, CRS84 first (the order collections list them in).
    pub const ALL: [OutputCrs; 4] = [
        OutputCrs::Crs84,
        OutputCrs::Epsg4326,
        OutputCrs::Bng27700,
        OutputCrs::WebMercator3857,
    ];

    /// Recognises a CRS as OGC APIs and GIS users name it: an OGC URI
    /// (`http://www.opengis.net/def/crs/EPSG/0/27700`, `.../OGC/1.3/CRS84`, also in `[...]` or
    /// as `urn:ogc:def:crs:EPSG::27700`), `EPSG:27700`, a bare code `27700`, or `CRS84`.
    ///
    /// ```
    /// use maps::output_crs::OutputCrs;
    /// assert_eq!(OutputCrs::parse("http://www.opengis.net/def/crs/EPSG/0/27700").unwrap(), OutputCrs::Bng27700);
    /// assert_eq!(OutputCrs::parse("EPSG:4326").unwrap(), OutputCrs::Epsg4326);
    /// assert_eq!(OutputCrs::parse("CRS84").unwrap(), OutputCrs::Crs84);
    /// assert_eq!(OutputCrs::parse("3857").unwrap(), OutputCrs::WebMercator3857);
    /// let e = OutputCrs::parse("EPSG:2157").unwrap_err();
    /// assert!(e.hint().unwrap().contains("EPSG/0/27700"));
    /// ```
    pub fn parse(raw: &str) -> Result<OutputCrs, MapError> {
        let bad = || {
            MapError::bad_request(
                format!(
                    "{raw:?} is not a coordinate reference system placemap can use \
                     (CRS84, EPSG:4326, EPSG:27700 or EPSG:3857)"
                ),
                ACCEPTED,
            )
        };
        let t = raw.trim();
        // A safe CURIE: `[EPSG:27700]`.
        let t = t
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(t);
        let lower = t.to_ascii_lowercase();
        let rest = [
            "http://www.opengis.net/def/crs/",
            "https://www.opengis.net/def/crs/",
        ]
        .iter()
        .find_map(|p| lower.strip_prefix(*p));
        let (authority, code) = if let Some(rest) = rest {
            // `EPSG/0/27700`, `OGC/1.3/CRS84` (the version part is not checked).
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [auth, _version, code] => (Some(*auth), *code),
                _ => return Err(bad()),
            }
        } else if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:") {
            // `EPSG::27700`, `OGC:1.3:CRS84`.
            let parts: Vec<&str> = rest.split(':').collect();
            match parts.as_slice() {
                [auth, _version, code] => (Some(*auth), *code),
                _ => return Err(bad()),
            }
        } else if let Some((auth, code)) = lower.split_once(':') {
            (Some(auth), code)
        } else {
            (None, lower.as_str())
        };
        match (authority, code) {
            (Some("ogc") | None, "crs84") => Ok(OutputCrs::Crs84),
            (Some("epsg") | None, "4326") => Ok(OutputCrs::Epsg4326),
            (Some("epsg") | None, "27700") => Ok(OutputCrs::Bng27700),
            (Some("epsg") | None, "3857") => Ok(OutputCrs::WebMercator3857),
            _ => Err(bad()),
        }
    }

    /// The OGC URI (`http://www.opengis.net/def/crs/EPSG/0/27700`), as Part 2 names CRSs in
    /// `crs` lists and the `Content-Crs` header.
    pub fn uri(self) -> &'static str {
        match self {
            OutputCrs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            OutputCrs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            OutputCrs::Bng27700 => "http://www.opengis.net/def/crs/EPSG/0/27700",
            OutputCrs::WebMercator3857 => "http://www.opengis.net/def/crs/EPSG/0/3857",
        }
    }

    /// The OGC URN (`urn:ogc:def:crs:EPSG::27700`), as GDAL and QGIS read a GeoJSON file's
    /// `crs` member.
    pub fn urn(self) -> &'static str {
        match self {
            OutputCrs::Crs84 => "urn:ogc:def:crs:OGC:1.3:CRS84",
            OutputCrs::Epsg4326 => "urn:ogc:def:crs:EPSG::4326",
            OutputCrs::Bng27700 => "urn:ogc:def:crs:EPSG::27700",
            OutputCrs::WebMercator3857 => "urn:ogc:def:crs:EPSG::3857",
        }
    }

    /// The EPSG code (CRS84 has none of its own: 4326, the same datum and units, is the code
    /// GeoPackage and shapefile readers expect for longitude/latitude data).
    pub fn epsg(self) -> u32 {
        match self {
            OutputCrs::Crs84 | OutputCrs::Epsg4326 => 4326,
            OutputCrs::Bng27700 => 27700,
            OutputCrs::WebMercator3857 => 3857,
        }
    }

    /// The short name, `EPSG:27700` or `CRS84`.
    pub fn short_name(self) -> &'static str {
        match self {
            OutputCrs::Crs84 => "CRS84",
            OutputCrs::Epsg4326 => "EPSG:4326",
            OutputCrs::Bng27700 => "EPSG:27700",
            OutputCrs::WebMercator3857 => "EPSG:3857",
        }
    }

    /// The OGC WKT 1 definition (as EPSG and GDAL write it), for a shapefile's `.prj` or a
    /// GeoPackage `gpkg_spatial_ref_sys` row. CRS84's has its axes longitude first.
    ///
    /// ```
    /// use districts::crs::Crs;
    /// use maps::output_crs::OutputCrs;
    /// // placemap's own reader recognises what it writes.
    /// assert_eq!(Crs::from_prj_wkt(&OutputCrs::Bng27700.wkt()).unwrap(), Crs::BritishNationalGrid);
    /// assert_eq!(Crs::from_prj_wkt(&OutputCrs::WebMercator3857.wkt()).unwrap(), Crs::WebMercator);
    /// assert_eq!(Crs::from_prj_wkt(&OutputCrs::Crs84.wkt()).unwrap(), Crs::Wgs84);
    /// ```
    pub fn wkt(self) -> String {
        match self {
            OutputCrs::Crs84 => format!(
                r#"GEOGCS["WGS 84",{WKT_WGS84_DATUM},AXIS["Longitude",EAST],AXIS["Latitude",NORTH],AUTHORITY["OGC","CRS84"]]"#
            ),
            OutputCrs::Epsg4326 => format!(
                r#"GEOGCS["WGS 84",{WKT_WGS84_DATUM},AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
            ),
            OutputCrs::Bng27700 => r#"PROJCS["OSGB36 / British National Grid",GEOGCS["OSGB36",DATUM["Ordnance_Survey_of_Great_Britain_1936",SPHEROID["Airy 1830",6377563.396,299.3249646,AUTHORITY["EPSG","7001"]],TOWGS84[446.448,-125.157,542.06,0.15,0.247,0.842,-20.489],AUTHORITY["EPSG","6277"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4277"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","27700"]]"#.to_string(),
            OutputCrs::WebMercator3857 => format!(
                r#"PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",{WKT_WGS84_DATUM},AUTHORITY["EPSG","4326"]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"],AUTHORITY["EPSG","3857"]]"#
            ),
        }
    }

    /// Whether coordinates are degrees (else metres).
    pub fn is_geographic(self) -> bool {
        matches!(self, OutputCrs::Crs84 | OutputCrs::Epsg4326)
    }

    /// Default decimals of written coordinates: 6 for degrees (about 10 cm), 2 for metres (1 cm).
    pub fn default_precision(self) -> usize {
        if self.is_geographic() { 6 } else { 2 }
    }

    /// Most decimals a coordinate may be written with: 10 for degrees, 3 (millimetres) for
    /// metres, where a district's extent on a finer grid would no longer fit the 32-bit
    /// arithmetic that keeps written polygons valid.
    pub fn max_precision(self) -> usize {
        if self.is_geographic() { 10 } else { 3 }
    }

    /// `precision=` for this CRS: the default when absent, a 400 naming the range when too large.
    ///
    /// ```
    /// use maps::output_crs::OutputCrs;
    /// assert_eq!(OutputCrs::Bng27700.precision(None).unwrap(), 2);
    /// assert_eq!(OutputCrs::Crs84.precision(Some(4)).unwrap(), 4);
    /// assert!(OutputCrs::Bng27700.precision(Some(6)).is_err());
    /// ```
    pub fn precision(self, precision: Option<usize>) -> Result<usize, MapError> {
        let p = precision.unwrap_or(self.default_precision());
        let max = self.max_precision();
        if p > max {
            let unit = if self.is_geographic() {
                "degrees: 6 is about 10 cm"
            } else {
                "metres: 2 is 1 cm, 3 is 1 mm"
            };
            return Err(MapError::bad_request(
                format!("precision {p} is too large for {}", self.short_name()),
                format!(
                    "use 0 to {max} decimals in {} ({unit}; default {})",
                    self.short_name(),
                    self.default_precision()
                ),
            ));
        }
        Ok(p)
    }

    /// The districts crate's CRS of the same datum and units (axis order aside).
    pub fn source_crs(self) -> Crs {
        match self {
            OutputCrs::Crs84 | OutputCrs::Epsg4326 => Crs::Wgs84,
            OutputCrs::Bng27700 => Crs::BritishNationalGrid,
            OutputCrs::WebMercator3857 => Crs::WebMercator,
        }
    }

    /// The output CRS of a boundary file's CRS (a WGS84 file is CRS84, longitude first).
    pub fn of_source(crs: Crs) -> OutputCrs {
        match crs {
            Crs::Wgs84 => OutputCrs::Crs84,
            Crs::BritishNationalGrid => OutputCrs::Bng27700,
            Crs::WebMercator => OutputCrs::WebMercator3857,
        }
    }

    /// Sets up the projection of WGS84 longitude/latitude into this CRS.
    pub fn projector(self) -> Result<Projector, MapError> {
        let kind = match self {
            OutputCrs::Crs84 => Kind::Identity,
            OutputCrs::Epsg4326 => Kind::Swap,
            OutputCrs::WebMercator3857 => Kind::Mercator,
            OutputCrs::Bng27700 => {
                let make = |definition: &str| {
                    Proj::from_proj_string(definition).map_err(|e| {
                        MapError::internal(
                            format!("setting up the projection {definition:?}"),
                            e.to_string(),
                        )
                    })
                };
                Kind::Proj {
                    src: Box::new(make(WGS84_PROJ4)?),
                    dst: Box::new(make(BNG_PROJ4)?),
                }
            }
        };
        Ok(Projector { crs: self, kind })
    }

    /// Converts a point given in this CRS (in its axis order) to WGS84 `(lon, lat)`: for
    /// `bbox-crs=`, `filter-crs=` and `/lookup?x=&y=&crs=`. Through the same reprojection as
    /// loading (and as `placemap lookup --crs`).
    ///
    /// ```
    /// use maps::output_crs::OutputCrs;
    /// let (lon, lat) = OutputCrs::Epsg4326.to_wgs84(54.69, -1.21).unwrap();
    /// assert_eq!((lon, lat), (-1.21, 54.69));
    /// let (lon, lat) = OutputCrs::Bng27700.to_wgs84(651_409.903, 313_177.270).unwrap();
    /// assert!((lon - 1.716).abs() < 1e-3 && (lat - 52.658).abs() < 1e-3);
    /// assert!(OutputCrs::Bng27700.to_wgs84(9e9, 0.0).is_err());
    /// ```
    pub fn to_wgs84(self, x: f64, y: f64) -> Result<(f64, f64), MapError> {
        let (x, y) = match self {
            OutputCrs::Epsg4326 => (y, x),
            _ => (x, y),
        };
        let crs = self.source_crs();
        let (min_x, min_y, max_x, max_y) = crs.valid_range();
        let inside = x.is_finite()
            && y.is_finite()
            && (min_x..=max_x).contains(&x)
            && (min_y..=max_y).contains(&y);
        if !inside {
            return Err(MapError::bad_request(
                format!(
                    "({x}, {y}) is outside the range of {} ({min_x} to {max_x}, {min_y} to {max_y})",
                    self.short_name()
                ),
                "give coordinates in the axis order of the CRS: longitude, latitude for CRS84; \
                 latitude, longitude for EPSG:4326; easting, northing in metres for EPSG:27700",
            ));
        }
        let t =
            ToWgs84::new(crs).map_err(|e| MapError::internal("setting up the reprojection", e))?;
        t.point(x, y).map_err(|e| {
            MapError::bad_request(e.to_string(), "give a point inside the CRS's area of use")
        })
    }
}

impl fmt::Display for OutputCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

impl FromStr for OutputCrs {
    type Err = MapError;
    fn from_str(raw: &str) -> Result<Self, MapError> {
        OutputCrs::parse(raw)
    }
}

/// The projection of WGS84 geometry into one [`OutputCrs`], set up once for many features.
pub struct Projector {
    crs: OutputCrs,
    kind: Kind,
}

enum Kind {
    Identity,
    Swap,
    Mercator,
    Proj { src: Box<Proj>, dst: Box<Proj> },
}

impl fmt::Debug for Projector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Projector({})", self.crs.short_name())
    }
}

impl Projector {
    /// The target CRS.
    pub fn crs(&self) -> OutputCrs {
        self.crs
    }

    /// Projects WGS84 `(lon, lat)` coordinates in place into the target CRS (its axis order).
    pub fn coords(&self, coords: &mut [Coord<f64>]) -> Result<(), MapError> {
        match &self.kind {
            Kind::Identity => {}
            Kind::Swap => {
                for c in coords.iter_mut() {
                    std::mem::swap(&mut c.x, &mut c.y);
                }
            }
            Kind::Mercator => {
                for c in coords.iter_mut() {
                    let (x, y) = tile_math::lonlat_to_mercator(c.x, c.y);
                    c.x = x;
                    c.y = y;
                }
            }
            Kind::Proj { src, dst } => {
                // proj4rs takes geographic coordinates in radians.
                for c in coords.iter_mut() {
                    c.x = c.x.to_radians();
                    c.y = c.y.to_radians();
                }
                transform(src, dst, &mut districts::crs::CoordSlice(coords)).map_err(|e| {
                    MapError::unprocessable(
                        format!("cannot project into {}: {e}", self.crs.short_name()),
                        "the British National Grid covers Great Britain; ask for CRS84 elsewhere",
                    )
                })?;
            }
        }
        if coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return Err(MapError::unprocessable(
                format!(
                    "a coordinate has no finite value in {}",
                    self.crs.short_name()
                ),
                "ask for CRS84",
            ));
        }
        Ok(())
    }

    /// Projects one WGS84 point, `(lon, lat)` in, the target CRS's axis order out.
    ///
    /// ```
    /// use maps::output_crs::OutputCrs;
    /// let p = OutputCrs::Bng27700.projector().unwrap();
    /// let (e, n) = p.point(1.716_051_99, 52.657_978_60).unwrap();
    /// // pyproj (EPSG:4326 -> EPSG:27700, Helmert) gives 651409.903, 313177.270.
    /// assert!((e - 651_409.903).abs() < 0.1 && (n - 313_177.270).abs() < 0.1);
    /// ```
    pub fn point(&self, lon: f64, lat: f64) -> Result<(f64, f64), MapError> {
        let mut c = [Coord { x: lon, y: lat }];
        self.coords(&mut c)?;
        Ok((c[0].x, c[0].y))
    }

    /// A WGS84 multipolygon projected into the target CRS.
    pub fn multipolygon(&self, mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>, MapError> {
        if matches!(self.kind, Kind::Identity) {
            return Ok(mp.clone());
        }
        let ring = |r: &LineString<f64>| -> Result<LineString<f64>, MapError> {
            let mut c = r.0.clone();
            self.coords(&mut c)?;
            Ok(LineString(c))
        };
        mp.0.iter()
            .map(|p| {
                let exterior = ring(p.exterior())?;
                let holes = p.interiors().iter().map(ring).collect::<Result<_, _>>()?;
                Ok(Polygon::new(exterior, holes))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(MultiPolygon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crs_parses_from_its_uri_code_and_short_name() {
        for crs in OutputCrs::ALL {
            assert_eq!(OutputCrs::parse(crs.uri()).expect("uri"), crs);
            assert_eq!(OutputCrs::parse(crs.short_name()).expect("short"), crs);
            assert_eq!(crs.uri().parse::<OutputCrs>().expect("FromStr"), crs);
        }
        for (raw, want) in [
            (
                "https://www.opengis.net/def/crs/EPSG/0/27700",
                OutputCrs::Bng27700,
            ),
            ("[EPSG:27700]", OutputCrs::Bng27700),
            (" epsg:27700 ", OutputCrs::Bng27700),
            ("27700", OutputCrs::Bng27700),
            ("urn:ogc:def:crs:EPSG::4326", OutputCrs::Epsg4326),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", OutputCrs::Crs84),
            ("OGC:CRS84", OutputCrs::Crs84),
        ] {
            assert_eq!(OutputCrs::parse(raw).expect(raw), want, "{raw}");
        }
        for bad in [
            "",
            "EPSG:2157",
            "OGC:27700",
            "http://www.opengis.net/def/crs/EPSG/0/",
            "http://example.com/27700",
            "EPSG:3857:1",
            "CRS83",
        ] {
            let e = OutputCrs::parse(bad).expect_err(bad);
            assert!(e.hint().is_some_and(|h| h.contains("EPSG:27700")), "{bad}");
        }
    }

    #[test]
    fn bng_round_trips_through_wgs84_within_a_millimetre() {
        let to = ToWgs84::new(Crs::BritishNationalGrid).expect("setup");
        let back = OutputCrs::Bng27700.projector().expect("setup");
        for (e, n) in [
            (651_409.903, 313_177.270),
            (83_000.0, 5_000.0),
            (530_000.0, 180_000.0),
            (470_000.0, 1_200_000.0),
        ] {
            let (lon, lat) = to.point(e, n).expect("to wgs84");
            let (e2, n2) = back.point(lon, lat).expect("to bng");
            assert!(
                (e2 - e).abs() < 1e-3 && (n2 - n).abs() < 1e-3,
                "{e},{n} -> {e2},{n2}"
            );
        }
    }

    #[test]
    fn epsg4326_swaps_and_mercator_matches_tile_math() {
        let p = OutputCrs::Epsg4326.projector().expect("setup");
        assert_eq!(p.point(-1.5, 54.0).expect("swap"), (54.0, -1.5));
        let m = OutputCrs::WebMercator3857.projector().expect("setup");
        assert_eq!(
            m.point(-1.5, 54.0).expect("merc"),
            tile_math::lonlat_to_mercator(-1.5, 54.0)
        );
        assert_eq!(
            OutputCrs::WebMercator3857
                .to_wgs84(-166_979.2, 7_170_156.3)
                .map(|(lon, lat)| ((lon * 1e3).round(), (lat * 1e3).round()))
                .expect("back"),
            (-1500.0, 54000.0)
        );
    }
}
