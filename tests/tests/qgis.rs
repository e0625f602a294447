//! QGIS on placemap's GIS interfaces (issue 13), over a real socket (127.0.0.1, port 0): PyQGIS,
//! headless, runs `tests/scripts/qgis_check.py` against the server. QGIS's OGC API - Features
//! client reads lad19 and QGIS transforms it to the British National Grid within 10 cm of the
//! server's own EPSG:27700 output, which QGIS also reads directly; a bbox request gets the
//! server's subset; the vector tiles load with the MapLibre style converted by QGIS's
//! `QgsMapBoxGlStyleConverter`, which fills every district with the server's colour, hatches
//! exactly the districts without data, and draws the tile with the PNG tile's colours.
//! (The GeoPackage download is opened in QGIS by `gis_files`.)
//!
//! Optional: where PyQGIS (Debian's `qgis` and `python3-qgis`) is not installed each test says
//! so and passes. `PLACEMAP_QGIS_PYTHON` names another interpreter (default `/usr/bin/python3`,
//! Debian's, where PyQGIS lives), e.g. one without QGIS to see the tests skip.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use placemap_e2e::{get, state};
use serde_json::Value;

const BNG: &str = "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F27700";

/// The interpreter that has PyQGIS.
pub(crate) fn python() -> String {
    std::env::var("PLACEMAP_QGIS_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// Whether `import qgis.core` works; says why not when it does not.
pub(crate) fn have_pyqgis() -> bool {
    let ok = std::process::Command::new(python())
        .args(["-c", "import qgis.core"])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipping the QGIS check: PyQGIS is not installed for {} (apt-get install qgis python3-qgis)",
            python()
        );
    }
    ok
}

/// Runs `qgis_check.py args` off the runtime's threads (the server answers QGIS meanwhile);
/// its JSON answer, or `None` when PyQGIS is missing.
async fn qgis_check(args: Vec<String>) -> Option<Value> {
    if !have_pyqgis() {
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/qgis_check.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python())
            .arg(script)
            .args(&args)
            .env("QT_QPA_PLATFORM", "offscreen")
            .output()
    })
    .await
    .expect("join")
    .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let answer: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("qgis_check.py: not JSON ({e}): {text}\n{stderr}"));
    if answer["missing"].is_string() {
        eprintln!("skipping the QGIS check: PyQGIS is not installed");
        return None;
    }
    assert!(
        out.status.success() && answer["error"].is_null(),
        "qgis_check.py: {answer}\n{stderr}"
    );
    Some(answer)
}

fn stop(tx: tokio::sync::oneshot::Sender<()>) {
    tx.send(()).expect("shutdown");
}

/// Pairs of vertices, asserting the same count and every pair within `tolerance` metres.
fn assert_within(what: &str, got: &Value, want: &[Value], tolerance: f64) {
    let got = got.as_array().expect("vertices");
    assert_eq!(got.len(), want.len(), "{what}: vertex count");
    let mut worst = 0.0_f64;
    for (g, w) in got.iter().zip(want) {
        let dx = g[0].as_f64().expect("x") - w[0].as_f64().expect("x");
        let dy = g[1].as_f64().expect("y") - w[1].as_f64().expect("y");
        worst = worst.max(dx.hypot(dy));
    }
    assert!(
        worst <= tolerance,
        "{what}: a vertex {worst:.3} m from the server's EPSG:27700 one"
    );
}

/// Every vertex of a GeoJSON geometry, ring after ring.
fn geojson_vertices(geometry: &Value) -> Vec<Value> {
    let polygons = match geometry["type"].as_str() {
        Some("MultiPolygon") => geometry["coordinates"]
            .as_array()
            .expect("polygons")
            .clone(),
        Some("Polygon") => vec![geometry["coordinates"].clone()],
        other => panic!("not a polygon: {other:?}"),
    };
    polygons
        .iter()
        .flat_map(|p| p.as_array().expect("rings").clone())
        .flat_map(|r| r.as_array().expect("ring").clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qgis_reads_the_ogc_api_in_british_national_grid() {
    let (addr, tx, server) = crate::socket::start().await;
    let code = "E06000001";
    let answer = qgis_check(vec![
        "oapif".into(),
        format!("http://{addr}"),
        "lad19".into(),
        code.into(),
    ])
    .await;
    stop(tx);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    let Some(answer) = answer else { return };
    eprintln!("QGIS {}", answer["qgis"]);

    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let hartlepool = &layer.districts[layer.position(code).expect("Hartlepool")];
    let count = layer.districts.len();

    // QGIS's own OGC API - Features client: the whole layer with its fields.
    let native = &answer["oapif"];
    assert_eq!(native["valid"], true, "{native}");
    assert_eq!(native["count"].as_u64(), Some(count as u64), "{native}");
    let fields: BTreeSet<&str> = native["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in ["code", "name", "imd_score"] {
        assert!(fields.contains(f), "no {f}: {fields:?}");
    }
    assert_eq!(native["name"].as_str(), Some(hartlepool.name.as_str()));

    // The server's own EPSG:27700 coordinates of Hartlepool.
    let own = get(&format!("/ogc/collections/lad19/items/{code}?crs={BNG}")).await;
    assert_eq!(own.status, 200, "{}", own.text());
    let own = geojson_vertices(&own.json()["geometry"]);
    assert!(own.len() > 10, "{} vertices", own.len());
    // QGIS 3.22 reads OGC API - Features in CRS84 only (Part 2 came later); QGIS's PROJ
    // transformation of those to EPSG:27700 agrees with the server's within 10 cm (the CRS84
    // output's 6 decimals are 5 cm at most).
    assert!(
        matches!(
            native["crs"].as_str(),
            Some("EPSG:4326" | "OGC:CRS84" | "EPSG:27700")
        ),
        "{native}"
    );
    assert_within(
        "QGIS's transformation of the OAPIF layer",
        &native["vertices_27700"],
        &own,
        0.1,
    );
    // Read in EPSG:27700 (the `crs=` request and the response's `crs` member): the layer is in
    // the British National Grid and the coordinates are the server's, to the centimetre it
    // writes.
    let gridded = &answer["ogr_27700"];
    assert_eq!(gridded["valid"], true, "{gridded}");
    assert_eq!(gridded["crs"], "EPSG:27700", "{gridded}");
    assert_eq!(gridded["count"].as_u64(), Some(count as u64), "{gridded}");
    assert_within("the EPSG:27700 layer", &gridded["vertices"], &own, 0.005);

    // A bbox request from QGIS: the districts the server itself returns for that bbox.
    let subset =
        get("/ogc/collections/lad19/items?bbox=-1.4,54.5,-1.1,54.7&limit=1000&indicators=")
            .await
            .json();
    let want: BTreeSet<&str> = subset["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .collect();
    let got: BTreeSet<&str> = native["bbox_codes"]
        .as_array()
        .expect("bbox codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(want.contains(code) && want.len() < 40, "{want:?}");
    assert_eq!(got, want, "QGIS's bbox request");
}

/// A fresh scratch directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("placemap-qgis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qgis_draws_the_vector_tiles_with_the_maplibre_style() {
    let (addr, tx, server) = crate::socket::start().await;
    let dir = scratch("tiles");
    let png = dir.join("qgis.png");
    // Teesside to the Scottish Borders: all five classes and districts without data; two
    // districts highlighted (an outline: no colour changes).
    let (z, x, y) = (7, 63, 40);
    let highlighted = ["E06000001", "E06000047"];
    let query = format!("highlight={}", highlighted.join(","));
    let answer = qgis_check(vec![
        "vectortiles".into(),
        format!("http://{addr}"),
        "lad19".into(),
        "imd_score".into(),
        query.clone(),
        z.to_string(),
        x.to_string(),
        y.to_string(),
        png.display().to_string(),
    ])
    .await;
    stop(tx);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    let Some(answer) = answer else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    eprintln!("QGIS {}", answer["qgis"]);

    let tiles = &answer["layer"];
    assert_eq!(tiles["valid"], true, "{tiles}");
    assert_eq!(tiles["crs"], "EPSG:3857", "{tiles}");
    assert_eq!(tiles["style_url_loaded"], true, "{tiles}");
    // The converter reads the whole style: no error and nothing skipped.
    let conversion = &answer["conversion"];
    assert_eq!(conversion["success"], true, "{conversion}");
    assert_eq!(
        conversion["warnings"],
        serde_json::json!([]),
        "{conversion}"
    );

    // The server's colour for each district, and its legend.
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let ind = layer.indicator("imd_score").expect("imd_score");
    let resolved = maps::style::resolve(layer, ind, &maps::StyleOptions::default()).expect("style");
    let mut colour: HashMap<&str, String> = HashMap::new();
    let mut no_data: BTreeSet<&str> = BTreeSet::new();
    for (d, fill) in layer.districts.iter().zip(&resolved.fills) {
        match fill {
            choropleth::render::Fill::Solid(c) => {
                colour.insert(&d.code, format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2));
            }
            choropleth::render::Fill::NoData => {
                no_data.insert(&d.code);
            }
        }
    }
    assert!(colour.len() > 300 && !no_data.is_empty());
    let legend = get("/legend/lad19/imd_score.json").await.json();
    let classes: BTreeSet<&str> = legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["color"].as_str())
        .collect();
    let no_data_colour = legend["no_data"]["color"].as_str().expect("no-data colour");

    let styles = answer["styles"].as_array().expect("styles");
    // The fill: every district with data gets its colour, the others the no-data grey, and
    // the colours QGIS fills with are the legend's classes.
    let fill = styles
        .iter()
        .find(|s| s["name"] == "lad19-fill")
        .expect("the fill style");
    assert_eq!(fill["layer"], "lad19");
    let fills = fill["fill"].as_object().expect("fill colours");
    assert_eq!(fills.len(), layer.districts.len());
    for (code, got) in fills {
        let want = colour
            .get(code.as_str())
            .map_or(no_data_colour, String::as_str);
        assert_eq!(got.as_str(), Some(want), "{code}");
    }
    let used: BTreeSet<&str> = fills.values().filter_map(Value::as_str).collect();
    assert!(
        classes.iter().all(|c| used.contains(c)),
        "{classes:?} not all in {used:?}"
    );
    // The hatch (from the sprite) covers exactly the districts without data.
    let hatch = styles
        .iter()
        .find(|s| s["name"] == "lad19-no-data")
        .expect("the no-data style");
    assert!(
        hatch["symbol_layers"]
            .as_array()
            .is_some_and(|l| l.iter().any(|k| k == "RasterFill")),
        "{hatch}"
    );
    let hatched: BTreeSet<&str> = hatch["selects"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(hatched, no_data);
    // The highlight outlines exactly the districts asked for.
    let outlined: BTreeSet<&str> = styles
        .iter()
        .find(|s| s["name"] == "lad19-highlight")
        .expect("the highlight style")["selects"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(outlined, highlighted.into_iter().collect());

    // QGIS's drawing of the tile has the PNG tile's colour inside each district.
    assert_eq!(answer["render"]["errors"], serde_json::json!([]));
    let drawn = image::open(&png).expect("QGIS's PNG").to_rgba8();
    assert_eq!(drawn.dimensions(), (512, 512));
    let tile = get(&format!(
        "/tiles/lad19/imd_score/{z}/{x}/{y}@2x.png?{query}"
    ))
    .await;
    assert_eq!(tile.status, 200);
    let tile = image::load_from_memory(&tile.body)
        .expect("PNG tile")
        .to_rgba8();
    let hex = |p: &image::Rgba<u8>| format!("#{:02x}{:02x}{:02x}", p[0], p[1], p[2]);
    let mut seen = BTreeSet::new();
    let mut compared = 0;
    for s in answer["samples"].as_array().expect("samples") {
        let code = s["code"].as_str().expect("code");
        let Some(want) = colour.get(code) else {
            continue;
        };
        let (col, row) = (
            u32::try_from(s["col"].as_u64().expect("col")).expect("col"),
            u32::try_from(s["row"].as_u64().expect("row")).expect("row"),
        );
        let q = drawn.get_pixel(col, row);
        let t = tile.get_pixel(col, row);
        assert_eq!((q[3], t[3]), (255, 255), "{code} at {col},{row}: opaque");
        assert_eq!(&hex(t), want, "{code}: the PNG tile at {col},{row}");
        assert_eq!(&hex(q), want, "{code}: QGIS at {col},{row}");
        seen.insert(want.clone());
        compared += 1;
    }
    assert!(compared >= 10, "{compared} districts compared");
    assert!(seen.len() >= 4, "{seen:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
