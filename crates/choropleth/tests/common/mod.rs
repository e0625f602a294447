//! Small readers for the renderer's tests and benchmark: GeoJSON boundaries projected to Web
//! Mercator, and the IMD 2019 classes the peer benchmark uses (bench/prep_peers.sh). The real
//! loaders live in the districts crate; these keep the renderer's tests independent of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
pub use test_support::data_dir;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;

/// One boundary: its code and Web Mercator geometry.
pub struct District {
    pub code: String,
    pub mercator: MultiPolygon<f64>,
    pub wgs84: MultiPolygon<f64>,
}

/// Reads a WGS84 GeoJSON FeatureCollection; `code_key` names the code property (compared
/// case-insensitively).
pub fn read_geojson(path: &Path, code_key: &str) -> Result<Vec<District>, String> {
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
        let code = props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(code_key))
            .and_then(|(_, v)| v.as_str())
            .ok_or_else(|| ctx(&format!("no string property {code_key}")))?
            .to_string();
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
        let mut wgs = Vec::with_capacity(polys.len());
        for p in polys {
            let rings = p.as_array().ok_or_else(|| ctx("polygon is not an array"))?;
            let mut ls = Vec::with_capacity(rings.len());
            for r in rings {
                let pts = r.as_array().ok_or_else(|| ctx("ring is not an array"))?;
                let mut cs = Vec::with_capacity(pts.len());
                for pt in pts {
                    let x = pt[0].as_f64().ok_or_else(|| ctx("bad coordinate"))?;
                    let y = pt[1].as_f64().ok_or_else(|| ctx("bad coordinate"))?;
                    cs.push(Coord { x, y });
                }
                ls.push(LineString(cs));
            }
            let mut it = ls.into_iter();
            let ext = it.next().ok_or_else(|| ctx("polygon without rings"))?;
            wgs.push(Polygon::new(ext, it.collect()));
        }
        let wgs84 = MultiPolygon(wgs);
        let mercator = to_mercator(&wgs84);
        out.push(District {
            code,
            mercator,
            wgs84,
        });
    }
    Ok(out)
}

/// Projects lon/lat to Web Mercator metres.
pub fn to_mercator(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    g.map_coords(|c| {
        let (x, y) = tile_math::lonlat_to_mercator(c.x, c.y);
        Coord { x, y }
    })
}

fn read_csv_column_pairs(
    path: &Path,
    key_col: &str,
    val_col: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| format!("{}: no column {name:?}", path.display()))
    };
    let (k, v) = (find(key_col)?, find(val_col)?);
    let mut out = Vec::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} record {line}: {e}", path.display()))?;
        let key = rec.get(k).unwrap_or_default().to_string();
        let val = rec.get(v).unwrap_or_default().to_string();
        out.push((key, val));
    }
    Ok(out)
}

/// LAD 2019 classes of bench/prep_peers.sh: quintiles (numpy linear interpolation) of the IMD 2019
/// average score, class = number of breaks strictly below the value (numpy searchsorted "left").
pub fn lad_imd_classes(dir: &Path) -> Result<HashMap<String, u8>, String> {
    let path = dir.join("imd2019_lad_summaries_file10.csv");
    let pairs = read_csv_column_pairs(
        &path,
        "Local Authority District code (2019)",
        "IMD - Average score",
    )?;
    let mut scores = Vec::with_capacity(pairs.len());
    for (code, v) in pairs {
        let s: f64 = v
            .trim()
            .parse()
            .map_err(|e| format!("{}: score {v:?} of {code}: {e}", path.display()))?;
        scores.push((code, s));
    }
    let mut sorted: Vec<f64> = scores.iter().map(|(_, s)| *s).collect();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (sorted.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
    };
    let breaks = [quantile(0.2), quantile(0.4), quantile(0.6), quantile(0.8)];
    Ok(scores
        .into_iter()
        .map(|(c, s)| (c, breaks.iter().filter(|b| **b < s).count() as u8))
        .collect())
}

/// LSOA 2011 classes of bench/prep_peers.sh: IMD 2019 deciles paired, (decile - 1) / 2.
pub fn lsoa_imd_classes(dir: &Path) -> Result<HashMap<String, u8>, String> {
    let path = dir.join("imd2019_lsoa_file1_imd.csv");
    let pairs = read_csv_column_pairs(
        &path,
        "LSOA code (2011)",
        "Index of Multiple Deprivation (IMD) Decile",
    )?;
    let mut out = HashMap::with_capacity(pairs.len());
    for (code, v) in pairs {
        let d: u8 = v
            .trim()
            .parse()
            .map_err(|e| format!("{}: decile {v:?} of {code}: {e}", path.display()))?;
        if !(1..=10).contains(&d) {
            return Err(format!(
                "{}: decile {d} of {code} out of 1..=10",
                path.display()
            ));
        }
        out.insert(code, (d - 1) / 2);
    }
    Ok(out)
}
