//! Tiny readers for the real data used by the tests and the bench (test-only code: panics
//! with a clear message are fine here).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
pub use test_support::data_dir;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// Rows of a CSV (BOM stripped) as header -> value maps.
pub fn read_csv(name: &str) -> Vec<HashMap<String, String>> {
    let path = data_dir().join(name);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// A number as published: quoted thousands separators ("1,296") allowed.
pub fn number(s: &str) -> f64 {
    s.replace(',', "")
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Features of a WGS84 GeoJSON FeatureCollection: properties (as strings) and geometry.
pub struct Feature {
    pub props: HashMap<String, String>,
    pub geometry: MultiPolygon<f64>,
}

fn ring(v: &serde_json::Value) -> LineString<f64> {
    LineString(
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let p = p.as_array().unwrap();
                Coord {
                    x: p[0].as_f64().unwrap(),
                    y: p[1].as_f64().unwrap(),
                }
            })
            .collect(),
    )
}

fn polygon(v: &serde_json::Value) -> Polygon<f64> {
    let rings = v.as_array().unwrap();
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

pub fn read_geojson(name: &str) -> Vec<Feature> {
    let path = data_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g = &f["geometry"];
            let coords = &g["coordinates"];
            let geometry = match g["type"].as_str().unwrap() {
                "Polygon" => MultiPolygon(vec![polygon(coords)]),
                "MultiPolygon" => {
                    MultiPolygon(coords.as_array().unwrap().iter().map(polygon).collect())
                }
                t => panic!("unexpected geometry {t}"),
            };
            let props = f["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        },
                    )
                })
                .collect();
            Feature { props, geometry }
        })
        .collect()
}

/// Rounds half away from zero to `dp` decimals, as Excel does for the published IMD tables.
pub fn round_dp(v: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    (v * f).round() / f
}

/// A simple point lookup for tests and benches: rstar over polygon envelopes, then geo's
/// exact `Contains` (the real index lives in the districts crate).
pub struct EnvelopeIndex {
    tree: rstar::RTree<
        rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>,
    >,
    polys: Vec<MultiPolygon<f64>>,
}

impl EnvelopeIndex {
    pub fn new(polys: Vec<MultiPolygon<f64>>) -> Self {
        use geo::BoundingRect;
        let items = polys
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                p.bounding_rect().map(|r| {
                    rstar::primitives::GeomWithData::new(
                        rstar::primitives::Rectangle::from_corners(
                            [r.min().x, r.min().y],
                            [r.max().x, r.max().y],
                        ),
                        i,
                    )
                })
            })
            .collect();
        EnvelopeIndex {
            tree: rstar::RTree::bulk_load(items),
            polys,
        }
    }

    pub fn locate(&self, x: f64, y: f64) -> Option<usize> {
        use geo::Contains;
        let pt = geo_types::Point::new(x, y);
        self.tree
            .locate_all_at_point(&[x, y])
            .map(|g| g.data)
            .filter(|&i| self.polys[i].contains(&pt))
            .min()
    }
}
