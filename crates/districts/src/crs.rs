//! Coordinate reference systems of the boundary files we read, and reprojection to WGS84.
//!
//! Only the three systems UK boundary files come in are known: WGS84 lon/lat, Web Mercator and
//! the British National Grid. Anything else is refused with an error naming what the file
//! said, rather than guessed (a wrong guess puts districts in the sea without any error).

use std::fmt;

use geo_types::{Coord, MultiPolygon};
use proj4rs::Proj;
use proj4rs::transform::{Transform, TransformClosure, transform};
use thiserror::Error;

/// The PROJ definition of EPSG:27700 with the published OSGB36 -> WGS84 Helmert (7 parameters),
/// a few metres from OSTN15, which is far below the generalisation of any boundary file.
pub const BNG_PROJ4: &str = "+proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 \
     +y_0=-100000 +ellps=airy +towgs84=446.448,-125.157,542.06,0.15,0.247,0.842,-20.489 \
     +units=m +no_defs";

/// The PROJ definition of WGS84 longitude/latitude (the target of every reprojection).
pub const WGS84_PROJ4: &str = "+proj=longlat +datum=WGS84";

/// A coordinate reference system a boundary file can be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Crs {
    /// EPSG:4326 / OGC:CRS84, longitude then latitude in degrees (RFC 7946 order).
    Wgs84,
    /// EPSG:3857 spherical Web Mercator, metres.
    WebMercator,
    /// EPSG:27700 OSGB 1936 / British National Grid, metres.
    BritishNationalGrid,
}

/// Why a CRS could not be recognised or a coordinate not reprojected.
#[derive(Clone, Debug, Error)]
pub enum CrsError {
    /// A CRS name (GeoJSON `crs` member, catalogue entry) that is not one we know.
    #[error("unknown CRS name {name:?}: expected EPSG:4326 / OGC CRS84, EPSG:3857 or EPSG:27700")]
    UnknownName {
        /// The name as written.
        name: String,
    },
    /// A `.prj` WKT whose PROJCS/GEOGCS is not one we know.
    #[error(
        "unsupported CRS in WKT: {kind}[\"{name}\"]; supported: British National Grid \
         (OSGB 1936), WGS 84 geographic, WGS 84 / Pseudo-Mercator"
    )]
    UnknownWkt {
        /// `PROJCS` or `GEOGCS` (or their WKT2 spellings).
        kind: String,
        /// The name quoted in the WKT.
        name: String,
    },
    /// Text that is not WKT at all.
    #[error("cannot read WKT: {msg}")]
    MalformedWkt {
        /// What is wrong.
        msg: String,
    },
    /// proj4rs refused the projection definition (a bug, since the definitions are constants).
    #[error("cannot set up projection {definition:?}: {msg}")]
    Projection {
        /// The PROJ string.
        definition: &'static str,
        /// proj4rs' message.
        msg: String,
    },
    /// A coordinate could not be transformed (outside the projection's domain, NaN...).
    #[error("cannot reproject ({x}, {y}) from {crs} to EPSG:4326: {msg}")]
    Transform {
        /// Source CRS.
        crs: Crs,
        /// Source x.
        x: f64,
        /// Source y.
        y: f64,
        /// What went wrong.
        msg: String,
    },
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Crs::Wgs84 => "EPSG:4326",
            Crs::WebMercator => "EPSG:3857",
            Crs::BritishNationalGrid => "EPSG:27700",
        })
    }
}

/// Upper-cases and turns `_`/`-` into single spaces, so `GCS_WGS_1984` and `WGS 84` compare.
fn normalise_name(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| match c {
            '_' | '-' => ' ',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Crs {
    /// Recognises a CRS name as written in a GeoJSON `crs` member or the catalogue:
    /// `EPSG:27700`, `urn:ogc:def:crs:EPSG::27700`, `http://www.opengis.net/def/crs/EPSG/0/3857`,
    /// `urn:ogc:def:crs:OGC:1.3:CRS84`, `EPSG:4326`, `EPSG:3857`, `EPSG:900913`, ...
    ///
    /// ```
    /// use districts::crs::Crs;
    /// assert_eq!(Crs::from_name("urn:ogc:def:crs:EPSG::27700").unwrap(), Crs::BritishNationalGrid);
    /// assert_eq!(Crs::from_name("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap(), Crs::Wgs84);
    /// assert_eq!(Crs::from_name("EPSG:900913").unwrap(), Crs::WebMercator);
    /// assert!(Crs::from_name("EPSG:2157").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Crs, CrsError> {
        let upper = name.trim().to_ascii_uppercase();
        // The code is the last `:`- or `/`-separated part; the authority must be one we know.
        let code = upper
            .rsplit([':', '/'])
            .next()
            .unwrap_or_default()
            .to_string();
        let authority_ok = upper.contains("EPSG")
            || upper.contains("OGC")
            || upper.contains("ESRI")
            || upper == code;
        let crs = match code.as_str() {
            "4326" | "CRS84" | "WGS84" if authority_ok => Some(Crs::Wgs84),
            "3857" | "900913" | "3785" | "102100" | "102113" if authority_ok => {
                Some(Crs::WebMercator)
            }
            "27700" if authority_ok => Some(Crs::BritishNationalGrid),
            _ => None,
        };
        crs.ok_or_else(|| CrsError::UnknownName {
            name: name.to_string(),
        })
    }

    /// Recognises the CRS of a shapefile's `.prj` (ESRI or OGC WKT) by its PROJCS/GEOGCS names.
    ///
    /// ```
    /// use districts::crs::Crs;
    /// let wkt = r#"PROJCS["OSGB_1936_British_National_Grid",GEOGCS["GCS_OSGB 1936",DATUM["D_OSGB_1936",SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]],PROJECTION["Transverse_Mercator"],UNIT["Meter",1]]"#;
    /// assert_eq!(Crs::from_prj_wkt(wkt).unwrap(), Crs::BritishNationalGrid);
    /// let err = Crs::from_prj_wkt(r#"PROJCS["TM65_Irish_Grid",GEOGCS["GCS_TM65"]]"#).unwrap_err();
    /// assert!(err.to_string().contains("TM65_Irish_Grid"));
    /// ```
    pub fn from_prj_wkt(wkt: &str) -> Result<Crs, CrsError> {
        let wkt = wkt.trim_start_matches('\u{feff}').trim();
        let open = wkt.find('[').ok_or_else(|| CrsError::MalformedWkt {
            msg: format!("no '[' in {:?}", truncate(wkt, 60)),
        })?;
        let kind = wkt[..open].trim().to_ascii_uppercase();
        let name = quoted_after(wkt, open).ok_or_else(|| CrsError::MalformedWkt {
            msg: format!("no quoted name after {kind}["),
        })?;
        let norm = normalise_name(name);
        let whole = normalise_name(wkt);
        let unknown = || CrsError::UnknownWkt {
            kind: kind.clone(),
            name: name.to_string(),
        };
        match kind.as_str() {
            "PROJCS" | "PROJCRS" | "PROJECTEDCRS" => {
                if norm.contains("BRITISH NATIONAL GRID")
                    || (norm.contains("OSGB") && whole.contains("TRANSVERSE MERCATOR"))
                {
                    Ok(Crs::BritishNationalGrid)
                } else if norm.contains("PSEUDO MERCATOR")
                    || norm.contains("MERCATOR AUXILIARY SPHERE")
                    || norm.contains("POPULAR VISUALISATION")
                    || norm.contains("WEB MERCATOR")
                {
                    Ok(Crs::WebMercator)
                } else {
                    Err(unknown())
                }
            }
            "GEOGCS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS" => {
                let bare = norm.trim_start_matches("GCS ");
                if matches!(bare, "WGS 1984" | "WGS 84" | "WGS84") {
                    Ok(Crs::Wgs84)
                } else {
                    Err(unknown())
                }
            }
            _ => Err(unknown()),
        }
    }

    /// Suggests the CRS a set of coordinates is probably in, from their ranges, for error hints
    /// about UK files that do not say their CRS. `None` if the ranges fit none of them.
    ///
    /// ```
    /// use districts::crs::Crs;
    /// assert_eq!(Crs::suggest_from_ranges(-299_426.0, 7_256_064.0, -88_403.0, 7_520_897.0), Some(Crs::WebMercator));
    /// assert_eq!(Crs::suggest_from_ranges(82_678.0, 5_343.0, 655_605.0, 657_534.0), Some(Crs::BritishNationalGrid));
    /// assert_eq!(Crs::suggest_from_ranges(-8.6, 49.9, 1.8, 60.8), Some(Crs::Wgs84));
    /// ```
    pub fn suggest_from_ranges(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Option<Crs> {
        let within = |lo: f64, hi: f64, a: f64, b: f64| a >= lo && b <= hi;
        if within(-180.0, 180.0, min_x, max_x) && within(-90.0, 90.0, min_y, max_y) {
            Some(Crs::Wgs84)
        } else if within(-50_000.0, 800_000.0, min_x, max_x)
            && within(-50_000.0, 1_350_000.0, min_y, max_y)
        {
            Some(Crs::BritishNationalGrid)
        } else if within(-1_200_000.0, 300_000.0, min_x, max_x)
            && within(6_200_000.0, 8_800_000.0, min_y, max_y)
        {
            Some(Crs::WebMercator)
        } else {
            None
        }
    }

    /// The box a coordinate must lie in to be meaningful in this CRS: `(min_x, min_y, max_x, max_y)`.
    /// For the British National Grid it is the grid's extent with a 100 km margin (ONS files
    /// have eastings slightly below 0 off the Scilly Isles).
    pub fn valid_range(self) -> (f64, f64, f64, f64) {
        match self {
            Crs::Wgs84 => (-180.0, -90.0, 180.0, 90.0),
            Crs::WebMercator => {
                let m = 20_037_508.342_789_244;
                (-m, -m * 1.01, m, m * 1.01)
            }
            Crs::BritishNationalGrid => (-100_000.0, -100_000.0, 800_000.0, 1_400_000.0),
        }
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The first double-quoted string after byte `from`.
fn quoted_after(s: &str, from: usize) -> Option<&str> {
    let rest = &s[from..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(&rest[start..start + len])
}

/// A reprojection from one CRS to WGS84 lon/lat, set up once and reused for every vertex.
pub struct ToWgs84 {
    crs: Crs,
    kind: Kind,
}

enum Kind {
    Identity,
    Mercator,
    Proj { src: Box<Proj>, dst: Box<Proj> },
}

impl fmt::Debug for ToWgs84 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ToWgs84({})", self.crs)
    }
}

/// Coordinates of one ring, handed to proj4rs in one call (it transforms in place); also used
/// by the output projections of `maps::output_crs`.
pub struct CoordSlice<'a>(pub &'a mut [Coord<f64>]);

impl Transform for CoordSlice<'_> {
    fn transform_coordinates<F: TransformClosure>(
        &mut self,
        f: &mut F,
    ) -> proj4rs::errors::Result<()> {
        for c in self.0.iter_mut() {
            let (x, y, _) = f(c.x, c.y, 0.0)?;
            c.x = x;
            c.y = y;
        }
        Ok(())
    }
}

impl ToWgs84 {
    /// Sets up the reprojection from `crs` to WGS84.
    ///
    /// ```
    /// use districts::crs::{Crs, ToWgs84};
    /// let t = ToWgs84::new(Crs::BritishNationalGrid).unwrap();
    /// // Ordnance Survey's example point near Caister Water Tower (TG 51409 13177).
    /// let (lon, lat) = t.point(651_409.903, 313_177.270).unwrap();
    /// assert!((lon - 1.716_038).abs() < 1e-4 && (lat - 52.658_007).abs() < 1e-4);
    /// ```
    pub fn new(crs: Crs) -> Result<ToWgs84, CrsError> {
        let kind = match crs {
            Crs::Wgs84 => Kind::Identity,
            Crs::WebMercator => Kind::Mercator,
            Crs::BritishNationalGrid => {
                let make = |definition: &'static str| {
                    Proj::from_proj_string(definition).map_err(|e| CrsError::Projection {
                        definition,
                        msg: e.to_string(),
                    })
                };
                Kind::Proj {
                    src: Box::new(make(BNG_PROJ4)?),
                    dst: Box::new(make(WGS84_PROJ4)?),
                }
            }
        };
        Ok(ToWgs84 { crs, kind })
    }

    /// The source CRS.
    pub fn source(&self) -> Crs {
        self.crs
    }

    /// Reprojects one point to `(lon, lat)` in degrees.
    ///
    /// ```
    /// use districts::crs::{Crs, ToWgs84};
    /// let t = ToWgs84::new(Crs::WebMercator).unwrap();
    /// let (lon, lat) = t.point(-111_319.49, 7_070_118.0).unwrap();
    /// assert!((lon + 1.0).abs() < 1e-6 && (lat - 53.468_423).abs() < 1e-6);
    /// ```
    pub fn point(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let mut c = [Coord { x, y }];
        self.coords(&mut c)?;
        Ok((c[0].x, c[0].y))
    }

    /// Reprojects coordinates in place.
    pub fn coords(&self, coords: &mut [Coord<f64>]) -> Result<(), CrsError> {
        let fail = |c: &Coord<f64>, msg: String| CrsError::Transform {
            crs: self.crs,
            x: c.x,
            y: c.y,
            msg,
        };
        match &self.kind {
            Kind::Identity => {}
            Kind::Mercator => {
                for c in coords.iter_mut() {
                    let (lon, lat) = tile_math::mercator_to_lonlat(c.x, c.y);
                    c.x = lon;
                    c.y = lat;
                }
            }
            Kind::Proj { src, dst } => {
                let original_first = coords.first().copied();
                transform(src, dst, &mut CoordSlice(coords)).map_err(|e| {
                    fail(
                        &original_first.unwrap_or(Coord {
                            x: f64::NAN,
                            y: f64::NAN,
                        }),
                        e.to_string(),
                    )
                })?;
                // proj4rs works in radians for geographic coordinates.
                for c in coords.iter_mut() {
                    c.x = c.x.to_degrees();
                    c.y = c.y.to_degrees();
                }
            }
        }
        if let Some(bad) = coords.iter().find(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return Err(fail(bad, "result is not a finite number".to_string()));
        }
        Ok(())
    }

    /// Reprojects every ring of a multipolygon in place.
    ///
    /// ```
    /// use districts::crs::{Crs, ToWgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// let mut mp = MultiPolygon(vec![polygon![(x: 400_000.0, y: 300_000.0), (x: 401_000.0, y: 300_000.0),
    ///     (x: 401_000.0, y: 301_000.0), (x: 400_000.0, y: 300_000.0)]]);
    /// ToWgs84::new(Crs::BritishNationalGrid).unwrap().multipolygon(&mut mp).unwrap();
    /// let c = mp.0[0].exterior().0[0];
    /// assert!((c.x + 2.001_433).abs() < 1e-4 && (c.y - 52.597_792).abs() < 1e-4);
    /// ```
    pub fn multipolygon(&self, mp: &mut MultiPolygon<f64>) -> Result<(), CrsError> {
        if matches!(self.kind, Kind::Identity) {
            return Ok(());
        }
        let mut result = Ok(());
        for polygon in &mut mp.0 {
            polygon.exterior_mut(|ring| result = self.coords(&mut ring.0));
            result.as_ref().map_err(std::clone::Clone::clone)?;
            polygon.interiors_mut(|rings| {
                for ring in rings {
                    if result.is_ok() {
                        result = self.coords(&mut ring.0);
                    }
                }
            });
            result.as_ref().map_err(std::clone::Clone::clone)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprojection_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<ToWgs84>();
    }

    #[test]
    fn names_round_trip_through_display() {
        for crs in [Crs::Wgs84, Crs::WebMercator, Crs::BritishNationalGrid] {
            assert_eq!(Crs::from_name(&crs.to_string()).expect("recognised"), crs);
        }
        assert_eq!(
            Crs::from_name("http://www.opengis.net/def/crs/EPSG/0/3857").expect("recognised"),
            Crs::WebMercator
        );
        assert!(Crs::from_name("EPSG:4277").is_err());
        assert!(Crs::from_name("").is_err());
    }

    #[test]
    fn recognises_prj_names() {
        let merc = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"]]"#;
        assert_eq!(
            Crs::from_prj_wkt(merc).expect("recognised"),
            Crs::WebMercator
        );
        let pseudo = r#"PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84"]]"#;
        assert_eq!(
            Crs::from_prj_wkt(pseudo).expect("recognised"),
            Crs::WebMercator
        );
        let geo = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984"]]"#;
        assert_eq!(Crs::from_prj_wkt(geo).expect("recognised"), Crs::Wgs84);
        let osgb = r#"PROJCS["OSGB 1936 / British National Grid",GEOGCS["OSGB 1936"]]"#;
        assert_eq!(
            Crs::from_prj_wkt(osgb).expect("recognised"),
            Crs::BritishNationalGrid
        );
        let geo_osgb = r#"GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936"]]"#;
        let err = Crs::from_prj_wkt(geo_osgb)
            .expect_err("refused")
            .to_string();
        assert!(err.contains("GCS_OSGB_1936"), "{err}");
        assert!(Crs::from_prj_wkt("not wkt").is_err());
    }
}
