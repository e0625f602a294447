//! Downloads for desktop GIS (GeoPackage, FlatGeobuf, zipped Shapefile) on the real data, read
//! back by GDAL: `ogrinfo` reports the SRS, feature count and field types, `ogr2ogr` turns each
//! file into GeoJSON whose every feature has the same values and the same (valid) geometry as
//! placemap's own GeoJSON export of the same request, and GDAL's GeoPackage validator passes.
//! Needs gdal-bin and python3-gdal: missing tools fail the test under `CI=true` (`.ci/run`
//! installs them) and skip it otherwise. QGIS loads a GeoPackage when PyQGIS is installed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use placemap_e2e::{expect_client_error, get};
use serde_json::Value;

/// GDAL's GeoPackage validator, from python3-gdal.
const VALIDATE_GPKG: &str = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";

/// Whether `ogrinfo` and `ogr2ogr` run; outside CI a missing GDAL skips the test.
fn have_gdal() -> bool {
    let ok = ["ogrinfo", "ogr2ogr"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        assert!(!test_support::in_ci(), "CI must have gdal-bin (.ci/run)");
        eprintln!("skipping: ogrinfo / ogr2ogr are not installed (apt-get install gdal-bin)");
    }
    ok
}

/// A fresh directory of its own for each call (tests run in parallel).
fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("placemap-gis-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} runs: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd} {args:?}: {stderr}");
    // GDAL warns on stderr about anything odd it meets in a file.
    assert!(
        !stderr.contains("ERROR") && !stderr.contains("Warning"),
        "{cmd} {args:?}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ogrinfo -al -so` of a file: its summary text.
fn summary(path: &Path) -> String {
    run(
        "ogrinfo",
        &["-ro", "-al", "-so", &path.display().to_string()],
    )
}

/// The field types `ogrinfo -so` reports (`imd_score` -> `Real`).
fn field_types(summary: &str) -> HashMap<String, String> {
    summary
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(": ")?;
            let kind = rest.split_whitespace().next()?;
            matches!(kind, "String" | "Real" | "Integer" | "Integer64")
                .then(|| (name.to_string(), kind.to_string()))
        })
        .collect()
}

/// The file as GeoJSON through `ogr2ogr`.
fn as_geojson(path: &Path) -> Value {
    let text = run(
        "ogr2ogr",
        &["-f", "GeoJSON", "/vsistdout/", &path.display().to_string()],
    );
    serde_json::from_str(&text).expect("ogr2ogr wrote GeoJSON")
}

fn ring(v: &Value) -> LineString<f64> {
    LineString(
        v.as_array()
            .expect("ring")
            .iter()
            .map(|c| Coord {
                x: c[0].as_f64().expect("x"),
                y: c[1].as_f64().expect("y"),
            })
            .collect(),
    )
}

fn multipolygon(g: &Value) -> MultiPolygon<f64> {
    let polygon = |p: &Value| {
        let rings = p.as_array().expect("rings");
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match g["type"].as_str() {
        Some("MultiPolygon") => MultiPolygon(
            g["coordinates"]
                .as_array()
                .expect("polygons")
                .iter()
                .map(polygon)
                .collect(),
        ),
        Some("Polygon") => MultiPolygon(vec![polygon(&g["coordinates"])]),
        other => panic!("not a polygon: {other:?}"),
    }
}

/// The vertices of a geometry on a 1e-7 grid, sorted: equal for the same rings whatever their
/// orientation (Shapefile winds exteriors clockwise, GeoJSON counter-clockwise).
fn vertices(mp: &MultiPolygon<f64>) -> Vec<(i64, i64)> {
    use geo::CoordsIter;
    let mut v: Vec<(i64, i64)> = mp
        .coords_iter()
        .map(|c| ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64))
        .collect();
    v.sort_unstable();
    v
}

fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every feature of `file` (read by GDAL, field names mapped by `rename`) has the properties
/// and vertices of the feature with its code in placemap's GeoJSON `reference`, and a valid
/// geometry. Returns the number of features compared.
/// In a Shapefile (`shapefile` true) an empty text reads back as null (dBase has no null) and
/// text is cut to 254 bytes.
fn matches_reference(
    file: &Value,
    reference: &Value,
    rename: &HashMap<String, String>,
    shapefile: bool,
) -> usize {
    let by_code: HashMap<&str, &Value> = reference["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| (f["properties"]["code"].as_str().expect("code"), f))
        .collect();
    let features = file["features"].as_array().expect("features");
    for f in features {
        let props: HashMap<String, &Value> = f["properties"]
            .as_object()
            .expect("properties")
            .iter()
            .map(|(k, v)| (rename.get(k).cloned().unwrap_or_else(|| k.clone()), v))
            .collect();
        let code = props["code"].as_str().expect("code is text");
        let want = by_code
            .get(code)
            .unwrap_or_else(|| panic!("{code} is not in the GeoJSON export"));
        let want_props = want["properties"].as_object().expect("properties");
        // A missing value is null in one format and an absent property in another.
        let mut keys: Vec<&String> = want_props.keys().chain(props.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let expected = want_props.get(k).unwrap_or(&Value::Null);
            let got = props.get(k).copied().unwrap_or(&Value::Null);
            let same = match (expected, got) {
                (Value::Number(a), Value::Number(b)) => same_number(
                    a.as_f64().unwrap_or(f64::NAN),
                    b.as_f64().unwrap_or(f64::NAN),
                ),
                (Value::String(a), Value::Null) if shapefile => a.is_empty(),
                // dBase text holds 254 bytes: a longer reason is cut.
                (Value::String(a), Value::String(b)) if shapefile && a.len() > 254 => {
                    a.starts_with(b.as_str()) && b.len() > 250
                }
                (a, b) => a == b,
            };
            assert!(
                same,
                "{code}.{k}: {got} in the file, {expected} in the GeoJSON"
            );
        }
        let geometry = multipolygon(&f["geometry"]);
        assert!(
            geometry.is_valid(),
            "{code}: GDAL reads an invalid geometry"
        );
        assert_eq!(
            vertices(&geometry),
            vertices(&multipolygon(&want["geometry"])),
            "{code}: the geometry differs from the GeoJSON export's"
        );
    }
    features.len()
}

/// The Shapefile's field names mapped to the full names, from `{layer}_fields.txt`.
fn shapefile_names(dir: &Path, zip: &Path, layer: &str) -> HashMap<String, String> {
    let zip_path = zip.display().to_string();
    let out = dir.join("fields");
    let _ = std::fs::create_dir_all(&out);
    run(
        "python3",
        &[
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
            &zip_path,
            &out.display().to_string(),
        ],
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("unzipped")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        assert!(
            names.contains(&format!("{layer}.{ext}")),
            "{ext} missing: {names:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join(format!("{layer}.cpg"))).expect("cpg"),
        "UTF-8"
    );
    let table = std::fs::read_to_string(out.join(format!("{layer}_fields.txt"))).expect("fields");
    table
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols[0].len() <= 10 && cols[0].is_ascii(), "{l}");
            (cols[0].to_string(), cols[1].to_string())
        })
        .collect()
}

/// Downloads `/layers/{layer}.{ext}?{query}` in every format and checks each against the
/// GeoJSON of the same query: SRS, count, field types, values, geometry. Returns the count.
async fn check_layer(layer: &str, query: &str, real: &[&str], text: &[&str]) -> usize {
    check_layer_in(layer, query, 4326, real, text).await
}

/// [`check_layer`] for files whose SRS is EPSG:`epsg` (the query's `crs=`).
async fn check_layer_in(
    layer: &str,
    query: &str,
    epsg: u32,
    real: &[&str],
    text: &[&str],
) -> usize {
    let dir = scratch(layer);
    let reference = get(&format!("/layers/{layer}.geojson?{query}")).await;
    assert_eq!(reference.status, 200, "{}", reference.text());
    let reference = reference.json();
    let count = reference["features"].as_array().expect("features").len();
    for (ext, media) in [
        ("gpkg", "application/geopackage+sqlite3"),
        ("fgb", "application/flatgeobuf"),
        ("shp.zip", "application/zip"),
    ] {
        let r = get(&format!("/layers/{layer}.{ext}?{query}")).await;
        assert_eq!(r.status, 200, "{ext}: {}", r.text());
        assert_eq!(r.header("content-type").as_deref(), Some(media));
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.contains(&format!("{layer}.{ext}"))),
            "{ext}: no file name"
        );
        let path = dir.join(format!("{layer}.{ext}"));
        std::fs::write(&path, &r.body).expect("written");

        let info = summary(&path);
        assert!(
            info.contains(&format!("Layer name: {layer}")),
            "{ext}: {info}"
        );
        assert!(
            info.contains(&format!("Feature Count: {count}")),
            "{ext}: {info}"
        );
        // Shapefile has one polygon type, single or multi.
        let kind = if ext == "shp.zip" {
            "Polygon"
        } else {
            "Multi Polygon"
        };
        assert!(
            info.contains(&format!("Geometry: {kind}\n")),
            "{ext}: {info}"
        );
        assert!(
            info.contains(&format!(r#"ID["EPSG",{epsg}]]"#)),
            "{ext}: SRS\n{info}"
        );
        let rename = if ext == "shp.zip" {
            shapefile_names(&dir, &path, layer)
        } else {
            HashMap::new()
        };
        let types: HashMap<String, String> = field_types(&info)
            .into_iter()
            .map(|(k, v)| (rename.get(&k).cloned().unwrap_or(k), v))
            .collect();
        for f in real {
            assert_eq!(
                types.get(*f).map(String::as_str),
                Some("Real"),
                "{ext} {f}: {info}"
            );
        }
        for f in text {
            assert_eq!(
                types.get(*f).map(String::as_str),
                Some("String"),
                "{ext} {f}: {info}"
            );
        }
        for f in reference["features"].as_array().expect("features") {
            for k in f["properties"].as_object().expect("properties").keys() {
                assert!(types.contains_key(k), "{ext}: no field {k}: {info}");
            }
        }
        let n = matches_reference(&as_geojson(&path), &reference, &rename, ext == "shp.zip");
        assert_eq!(n, count, "{ext}");

        if ext == "gpkg" {
            check_geopackage(&path, layer, count, epsg);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    count
}

/// GDAL's validator and SQLite's integrity check pass; the R-tree holds every feature.
fn check_geopackage(path: &Path, layer: &str, count: usize, epsg: u32) {
    let p = path.display().to_string();
    let integrity = run("ogrinfo", &["-ro", &p, "-sql", "PRAGMA integrity_check"]);
    assert!(
        integrity.contains("integrity_check (String) = ok"),
        "{integrity}"
    );
    let rtree = run(
        "ogrinfo",
        &[
            "-ro",
            &p,
            "-sql",
            &format!("SELECT COUNT(*) AS n FROM rtree_{layer}_geom"),
        ],
    );
    assert!(rtree.contains(&format!("n (Integer) = {count}")), "{rtree}");
    if Path::new(VALIDATE_GPKG).exists() {
        // python3-gdal's validator: exit status 0 and nothing reported.
        let out = Command::new("/usr/bin/python3")
            .args([VALIDATE_GPKG, &p])
            .output()
            .expect("python3 runs");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.trim().is_empty(),
            "validate_gpkg.py: {said}"
        );
    } else {
        assert!(
            !test_support::in_ci(),
            "CI must have python3-gdal (.ci/run)"
        );
        eprintln!("skipping validate_gpkg.py: python3-gdal is not installed");
    }
    qgis_loads(path, layer, count, epsg);
}

/// QGIS opens the GeoPackage with its features and CRS (only where PyQGIS is installed).
fn qgis_loads(path: &Path, layer: &str, count: usize, epsg: u32) {
    let script = "import sys\n\
        from qgis.core import QgsApplication, QgsVectorLayer\n\
        app = QgsApplication([], False); app.initQgis()\n\
        l = QgsVectorLayer(sys.argv[1] + '|layername=' + sys.argv[2], 'x', 'ogr')\n\
        print(l.isValid(), l.featureCount(), l.crs().authid())\n";
    if !crate::qgis::have_pyqgis() {
        return;
    }
    let out = Command::new(crate::qgis::python())
        .args(["-c", script, &path.display().to_string(), layer])
        .env("QT_QPA_PLATFORM", "offscreen")
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        format!("True {count} EPSG:{epsg}"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn lad19_downloads_match_the_geojson_export_in_gdal() {
    if !have_gdal() {
        return;
    }
    // Numeric and categorical indicators; Hartlepool's IMD score is 35.037 (file 10).
    let n = check_layer(
        "lad19",
        "indicators=imd_score,imd_lsoa_share_most_deprived_decile,area_class_group",
        &["imd_score", "imd_lsoa_share_most_deprived_decile"],
        &["code", "name", "region_name", "area_class_group"],
    )
    .await;
    assert_eq!(n, 382);
}

#[tokio::test]
async fn british_national_grid_downloads_match_the_geojson_export_in_that_crs() {
    if !have_gdal() {
        return;
    }
    // Eastings and northings in metres, to the centimetre, valid on that grid.
    let n = check_layer_in(
        "lad19",
        "indicators=imd_score&crs=EPSG:27700",
        27700,
        &["imd_score"],
        &["code", "name"],
    )
    .await;
    assert_eq!(n, 382);
}

#[tokio::test]
async fn msoa11_downloads_match_the_geojson_export_in_gdal() {
    if !have_gdal() {
        return;
    }
    let n = check_layer("msoa11", "", &[], &["code", "name"]).await;
    assert!(n > 6000, "{n} MSOAs");
}

#[tokio::test]
async fn every_period_of_a_changed_geography_with_reasons_and_short_shapefile_names() {
    if !have_gdal() {
        return;
    }
    // lad23 with median weekly pay in every period: many `median_weekly_pay_YYYY` columns
    // (one Shapefile name each) and reasons where a 2023 merger left no value.
    check_layer(
        "lad23",
        "indicators=median_weekly_pay&periods=all&bbox=-3.6,54.0,-2.2,55.2",
        &["median_weekly_pay_2021", "median_weekly_pay_2022"],
        &["code", "name", "median_weekly_pay_2022_no_data_reason"],
    )
    .await;
}

#[tokio::test]
async fn ogc_items_offer_the_files_and_bad_requests_are_4xx() {
    if !have_gdal() {
        return;
    }
    let dir = scratch("ogc");
    for f in ["gpkg", "application/flatgeobuf", "shp"] {
        let r = get(&format!(
            "/ogc/collections/lad19/items?f={}&indicators=imd_score&bbox=-1.4,54.5,-1.1,54.7",
            f.replace('/', "%2F")
        ))
        .await;
        assert_eq!(r.status, 200, "{f}: {}", r.text());
        let ext = match f {
            "gpkg" => "gpkg",
            "shp" => "shp.zip",
            _ => "fgb",
        };
        let path = dir.join(format!("lad19.{ext}"));
        std::fs::write(&path, &r.body).expect("written");
        let info = summary(&path);
        let count: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Feature Count: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            (2..40).contains(&count),
            "{f}: {count} features around Teesside\n{info}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    expect_client_error("/ogc/collections/lad19/items?f=gpkg&limit=5", 400).await;
    expect_client_error("/ogc/collections/lad19/items?f=kml", 400).await;
    expect_client_error("/ogc/collections/lad19/items?f=fgb&colour=red", 400).await;
    expect_client_error("/layers/lad19.gpkg?indicators=no_such_indicator", 404).await;
    expect_client_error("/layers/lad19.fgb?zoom=5", 400).await;
    expect_client_error("/layers/lad19.shp.zip?precision=99", 400).await;
    expect_client_error("/layers/lad19.gpkg?periods=latest", 404).await;
    expect_client_error("/layers/no_such_layer.gpkg", 404).await;
}

#[test]
fn a_cancelled_download_stops_in_every_format() {
    use maps::formats::{GisFormat, layer_file_cancellable};
    let st = placemap_e2e::state();
    let layer = st.maps.layer("msoa11").expect("msoa11");
    for format in GisFormat::ALL {
        // The client goes away after the first few hundred features.
        let looks = std::cell::Cell::new(0);
        let cancelled = || {
            looks.set(looks.get() + 1);
            looks.get() > 4
        };
        let e = layer_file_cancellable(layer, &maps::ExportOptions::default(), format, &cancelled)
            .expect_err("cancelled");
        assert_eq!(e.kind(), maps::ErrorKind::Cancelled, "{format:?}: {e}");
        assert_eq!(
            looks.get(),
            5,
            "{format:?} stopped at the first look after the cancel"
        );
    }
}
