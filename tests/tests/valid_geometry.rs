//! Valid geometry for every client (issue 10): the vector tiles of lad19, lad21 and lsoa11 and
//! the GeoJSON and OGC API output of every layer at every zoom.
//!
//! Vector tiles are checked by readers other than placemap's encoder: `tests/scripts/
//! check_geometry.py` decodes each tile strictly (protobuf schema of `mapbox_vector_tile`,
//! command stream decoded per MVT 2.1), checks every polygon with GEOS (shapely), the winding
//! and the closing points, and has GDAL's MVT driver (`ogrinfo`) read as many features as
//! placemap encoded. It needs `python3` with shapely and mapbox_vector_tile, and `ogrinfo`:
//! missing tools fail the test under `CI=true` (`.ci/run` installs them) and skip it otherwise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use maps::ExportOptions;
use placemap_e2e::{get, state};
use serde_json::Value;
use tile_math::TileId;

/// The UK, lon/lat.
const UK: [f64; 4] = [-8.65, 49.86, 1.77, 60.86];
/// Tiles of issue 10 that GDAL could not read: (layer, z, x, y).
const REPORTED: [(&str, u8, u32, u32); 4] = [
    ("lad19", 5, 15, 10),
    ("lad19", 6, 31, 20),
    ("lad19", 10, 508, 325),
    ("lsoa11", 12, 2046, 1362),
];
/// Sampled tiles per layer at zooms 7 to 14.
const SAMPLED: usize = 200;

/// Runs the checker script; `None` (after saying why) when a tool is missing outside CI.
fn run_checker(args: &[&str]) -> Option<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_geometry.py");
    let missing = |why: String| {
        assert!(
            !test_support::in_ci(),
            "{why}: CI must have python3 with shapely and mapbox_vector_tile, and gdal-bin (.ci/run)"
        );
        eprintln!("skipping the independent geometry check: {why}");
        None
    };
    let out = match std::process::Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => return missing(format!("python3 does not run: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("checker output is not JSON ({e}): {stdout}\n{stderr}"));
    if out.status.code() == Some(2) {
        return missing(format!("missing {}", summary["missing"]));
    }
    assert!(
        out.status.success(),
        "the checker found problems: {summary:#}\n{stderr}"
    );
    Some(summary)
}

/// A small seeded generator (xorshift64*), so the sample is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every tile of z0-z6 over the UK, the reported tiles, and `SAMPLED` tiles at z7-z14 around
/// vertices of random districts (where borders are cut and clipped) and between two vertices
/// (often inside).
fn tiles_for(layer_id: &str, seed: u64) -> Vec<TileId> {
    let st = state();
    let layer = st.maps.atlas.layer(layer_id).expect("layer");
    let mut tiles: BTreeSet<TileId> = (0..=6u8)
        .flat_map(|z| tile_math::tiles_covering(UK[0], UK[1], UK[2], UK[3], z))
        .collect();
    for &(l, z, x, y) in &REPORTED {
        if l == layer_id {
            tiles.insert(TileId::new(z, x, y, 22).expect("tile"));
        }
    }
    let mut rng = Rng(seed);
    let mut sampled = BTreeSet::new();
    while sampled.len() < SAMPLED {
        let d = &layer.districts[rng.below(layer.districts.len())];
        let ring = &d.wgs84.0.0[rng.below(d.wgs84.0.0.len())].exterior().0;
        let a = ring[rng.below(ring.len())];
        let b = ring[rng.below(ring.len())];
        let (lon, lat) = if rng.below(2) == 0 {
            (a.x, a.y)
        } else {
            (f64::midpoint(a.x, b.x), f64::midpoint(a.y, b.y))
        };
        let z = 7 + rng.below(8) as u8;
        let t = tile_math::tile_for_lonlat(lon, lat, z);
        if !tiles.contains(&t) {
            sampled.insert(t);
        }
    }
    tiles.extend(sampled);
    tiles.into_iter().collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("placemap-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn vector_tile_pyramids_are_valid_for_geos_and_gdal() {
    let st = state();
    let dir = scratch("mvt-valid");
    let mut manifest = Vec::new();
    let mut inconsistent = Vec::new();
    for (n, layer_id) in ["lad19", "lad21", "lsoa11"].into_iter().enumerate() {
        let bands = st.maps.bands(layer_id).expect("bands");
        // Districts seen per zoom in the z0-z6 pyramid, which covers every district.
        let mut seen: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); 7];
        let tiles = tiles_for(layer_id, 0x5EED_0000 + n as u64);
        for t in tiles {
            let (bytes, listed) = maps::vector_tiles::encode_listed(&st.maps, layer_id, &[], t)
                .unwrap_or_else(|e| panic!("{layer_id} {t}: {e}"));
            let in_pyramid =
                t.z <= 6 && tile_math::tiles_covering(UK[0], UK[1], UK[2], UK[3], t.z).contains(&t);
            if in_pyramid {
                seen[usize::from(t.z)].extend(listed.iter().copied());
            }
            let rel = format!("{layer_id}/{}/{}/{}.pbf", t.z, t.x, t.y);
            let path = dir.join(&rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("tile dir");
            std::fs::write(&path, &bytes).expect("write tile");
            let reported = REPORTED.contains(&(layer_id, t.z, t.x, t.y));
            manifest.push(serde_json::json!({
                "path": rel, "layer": layer_id, "features": listed.len(), "reported": reported,
                "exact": reported || in_pyramid,
            }));
        }
        // No district of a tile unit or more is missing from a zoom; none smaller is drawn.
        for (z, seen) in seen.iter().enumerate() {
            let unit = (tile_math::tile_size_metres(z as u8) / 4096.0).powi(2);
            let expected: BTreeSet<usize> = bands
                .areas(z as u8)
                .iter()
                .enumerate()
                .filter(|(_, a)| **a >= unit)
                .map(|(i, _)| i)
                .collect();
            let odd: Vec<_> = seen.symmetric_difference(&expected).collect();
            if !odd.is_empty() {
                inconsistent.push(format!(
                    "{layer_id} z{z}: {} districts drawn though smaller than a tile unit, or \
                     missing though larger: {:?}",
                    odd.len(),
                    &odd[..odd.len().min(10)]
                ));
            }
        }
    }
    assert!(manifest.len() >= 3 * SAMPLED);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).expect("manifest"),
    )
    .expect("write manifest");
    let summary = run_checker(&["mvt", dir.to_str().expect("utf-8 path")]);
    // PLACEMAP_KEEP_TILES=1 leaves the tiles for a look with other tools.
    if std::env::var("PLACEMAP_KEEP_TILES").is_ok_and(|v| v == "1") {
        eprintln!("tiles kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(inconsistent.is_empty(), "{inconsistent:#?}");
    if let Some(summary) = summary {
        assert_eq!(summary["tiles"].as_u64(), Some(manifest.len() as u64));
        assert!(
            summary["features"].as_u64().unwrap_or(0) > 10_000,
            "{summary}"
        );
    }
}

/// Checks FeatureCollections with GEOS (see the module docs) and that each file has the
/// features expected (by file name).
fn check_geojson_files(files: &[(PathBuf, usize)]) {
    let args: Vec<&str> = std::iter::once("geojson")
        .chain(files.iter().map(|(p, _)| p.to_str().expect("utf-8 path")))
        .collect();
    if let Some(s) = run_checker(&args) {
        assert_eq!(s["files"].as_u64(), Some(files.len() as u64));
        for (path, n) in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("file name");
            assert_eq!(
                s["features_per_file"][name].as_u64(),
                Some(*n as u64),
                "{name}"
            );
        }
    }
}

/// Every source geometry the catalogue does not list as invalid is valid (on the repair's own
/// grid), and every listed one was repaired at load and reported in the layer's load notes.
#[test]
fn the_catalogue_lists_every_invalid_source_geometry_and_load_repairs_them() {
    use rayon::prelude::*;
    let st = state();
    let mut unlisted = Vec::new();
    for layer in &st.maps.atlas.layers {
        let still_invalid: Vec<&str> = layer
            .districts
            .par_iter()
            .filter(|d| districts::repair::repair(&d.wgs84.0).is_some())
            .map(|d| d.code.as_str())
            .collect();
        if !still_invalid.is_empty() {
            unlisted.push(format!("{}: {still_invalid:?}", layer.meta.id));
        }
        for code in &layer.meta.invalid_geometries {
            assert!(
                layer
                    .load_notes
                    .iter()
                    .any(|n| n.starts_with(code.as_str()) && n.contains("repaired (")),
                "{}: {code} is listed but its repair is not in the load notes: {:?}",
                layer.meta.id,
                layer.load_notes
            );
        }
    }
    assert!(
        unlisted.is_empty(),
        "invalid source geometry not listed in boundaries/catalog.toml invalid_geometries: {unlisted:#?}"
    );
}

/// The checker is not a test that cannot fail: a bow tie and a clockwise exterior are caught.
#[test]
fn the_geojson_checker_finds_invalid_and_wrongly_wound_features() {
    let dir = scratch("geojson-checker");
    let path = dir.join("bad.geojson");
    let square = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";
    let bow = "[[[0,0],[2,2],[2,0],[0,2],[0,0]]]";
    let clockwise = "[[[0,0],[0,1],[1,1],[1,0],[0,0]]]";
    let features: Vec<String> = [("ok", square), ("bow", bow), ("cw", clockwise)]
        .iter()
        .map(|(id, rings)| {
            format!(
                r#"{{"type":"Feature","id":"{id}","geometry":{{"type":"MultiPolygon","coordinates":[{rings}]}},"properties":{{}}}}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    std::fs::write(&path, text).expect("write");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_geometry.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg("geojson")
        .arg(&path)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(out) = out else {
        assert!(!test_support::in_ci(), "python3 must run in CI");
        return;
    };
    if out.status.code() == Some(2) {
        assert!(!test_support::in_ci(), "CI must have shapely (.ci/run)");
        return;
    }
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(out.status.code(), Some(1), "{summary}");
    assert_eq!(summary["problems"].as_u64(), Some(2), "{summary}");
    let examples = summary["examples"].to_string();
    assert!(examples.contains("bad.geojson bow: GEOS"), "{examples}");
    assert!(
        examples.contains("bad.geojson cw: exterior wound the wrong way"),
        "{examples}"
    );
}

#[test]
fn geojson_of_every_layer_is_valid_and_wound_at_every_zoom() {
    use rayon::prelude::*;
    let st = state();
    let dir = scratch("geojson-valid");
    let jobs: Vec<(&districts::Layer, Option<u8>)> = st
        .maps
        .atlas
        .layers
        .iter()
        .flat_map(|l| (0..=14u8).map(Some).chain([None]).map(move |z| (l, z)))
        .collect();
    let files: Vec<(PathBuf, usize)> = jobs
        .par_iter()
        .map(|&(layer, zoom)| {
            let id = &layer.meta.id;
            let q = ExportOptions {
                indicators: Some(String::new()),
                zoom,
                ..ExportOptions::default()
            };
            let text = maps::export::layer_geojson(&st.maps, layer, &q)
                .unwrap_or_else(|e| panic!("{id} zoom {zoom:?}: {e}"));
            let name = match zoom {
                Some(z) => format!("{id}-z{z}.geojson"),
                None => format!("{id}-full.geojson"),
            };
            let path = dir.join(name);
            std::fs::write(&path, &text).expect("write GeoJSON");
            (path, layer.districts.len())
        })
        .collect();
    check_geojson_files(&files);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn ogc_items_of_every_layer_are_valid() {
    let st = state();
    let dir = scratch("ogc-valid");
    let mut files = Vec::new();
    for layer in &st.maps.atlas.layers {
        let id = &layer.meta.id;
        let mut offset = 0;
        while offset < layer.districts.len() {
            let r = get(&format!(
                "/ogc/collections/{id}/items?limit=10000&offset={offset}&indicators="
            ))
            .await;
            assert_eq!(r.status, 200, "{}", r.text());
            let path = dir.join(format!("{id}-{offset}.geojson"));
            std::fs::write(&path, r.text()).expect("write items");
            files.push((path, (layer.districts.len() - offset).min(10_000)));
            offset += 10_000;
        }
    }
    check_geojson_files(&files);
    let _ = std::fs::remove_dir_all(&dir);
}
