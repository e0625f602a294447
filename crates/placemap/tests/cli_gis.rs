//! `placemap export --format gpkg|fgb|shp` and `placemap tiles` to MBTiles on the real data,
//! read back by GDAL (`ogrinfo`; missing GDAL fails under `CI=true` and skips otherwise) and
//! SQLite; bad formats, indicators and output paths are clear errors.

use std::path::Path;
use std::process::Command;

fn placemap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_placemap"));
    c.current_dir(test_support::repo_root());
    c.env_remove("PLACEMAP_DATA");
    c.arg("--quiet");
    c
}

fn run(args: &[&str]) -> (i32, String) {
    let out = placemap().args(args).output().expect("placemap runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn have_gdal() -> bool {
    let ok = Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(!test_support::in_ci(), "CI must have gdal-bin (.ci/run)");
        eprintln!("skipping: ogrinfo is not installed (apt-get install gdal-bin)");
    }
    ok
}

fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo")
        .args(args)
        .output()
        .expect("ogrinfo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("ERROR"),
        "ogrinfo {args:?}: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn export_writes_geopackage_flatgeobuf_and_zipped_shapefile() {
    if !have_gdal() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for (format, file) in [
        ("gpkg", "lad19.gpkg"),
        ("fgb", "lad19.fgb"),
        ("shp", "lad19.shp.zip"),
    ] {
        let out = dir.path().join(file);
        let path = out.display().to_string();
        let (code, err) = run(&[
            "export",
            "--layer",
            "lad19",
            "--format",
            format,
            "--indicators",
            "imd_score,area_class_group",
            "--out",
            &path,
        ]);
        assert_eq!(code, 0, "{format}: {err}");
        let info = ogrinfo(&["-ro", "-al", "-so", &path]);
        assert!(info.contains("Feature Count: 382"), "{format}: {info}");
        assert!(info.contains(r#"ID["EPSG",4326]"#), "{format}: {info}");
        assert!(info.contains("imd_score: Real"), "{format}: {info}");
        assert!(
            info.contains("area_class: String") || info.contains("area_class_group: String"),
            "{format}: {info}"
        );
        // Hartlepool's IMD average score (file 10), as the CSV and GeoJSON exports give it.
        let hartlepool = ogrinfo(&["-ro", "-al", "-q", "-where", "code = 'E06000001'", &path]);
        assert!(
            hartlepool.contains("imd_score (Real) = 35.037"),
            "{format}: {hartlepool}"
        );
        assert!(
            hartlepool.contains("name (String) = Hartlepool"),
            "{format}: {hartlepool}"
        );
    }
    // In the British National Grid: the .prj and the extent in metres.
    let bng = dir.path().join("bng.shp.zip");
    let (code, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "shp",
        "--indicators",
        "imd_score",
        "--crs",
        "EPSG:27700",
        "--out",
        &bng.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let info = ogrinfo(&["-ro", "-al", "-so", &bng.display().to_string()]);
    assert!(info.contains(r#"ID["EPSG",27700]]"#), "{info}");
    // Eastings from the Scillies' 0 km to Lowestoft's 655 km, northings to Shetland's 1,218 km.
    let extent: Vec<f64> = info
        .lines()
        .find_map(|l| l.strip_prefix("Extent: "))
        .expect("extent")
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|t| t.parse().ok())
        .collect();
    assert!(
        extent.len() == 4 && extent[0] >= 0.0 && extent[2] > 650_000.0 && extent[3] > 1_200_000.0,
        "{extent:?}"
    );
    std::fs::remove_file(&bng).expect("removed");
    // Only the finished files: no temporary file left beside them.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    left.sort();
    assert_eq!(left, ["lad19.fgb", "lad19.gpkg", "lad19.shp.zip"]);
}

#[test]
fn bad_gis_exports_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("x.gpkg");
    let path = out.display().to_string();
    let (code, err) = run(&[
        "export", "--layer", "lad19", "--format", "kml", "--out", &path,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("kml") && err.contains("gpkg"), "{err}");
    let (code, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "gpkg",
        "--indicators",
        "no_such",
        "--out",
        &path,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("no_such"), "{err}");
    let (code, err) = run(&[
        "export", "--layer", "lad19", "--format", "fgb", "--zoom", "6", "--out", &path,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("zoom"), "{err}");
    let (code, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "gpkg",
        "--crs",
        "EPSG:2157",
        "--out",
        &path,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2157") && err.contains("27700"), "{err}");
    let (code, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "shp",
        "--out",
        &dir.path().join("x.shp").display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("x.shp.zip"), "{err}");
    let missing = dir.path().join("no/such/dir/x.shp.zip");
    let (code, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "shp",
        "--indicators",
        "imd_score",
        "--out",
        &missing.display().to_string(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("no/such/dir"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
}

#[test]
fn tiles_writes_an_mbtiles_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("lad19.mbtiles");
    let path = out.display().to_string();
    let (code, err) = run(&[
        "tiles",
        "--layer",
        "lad19",
        "--indicators",
        "imd_score",
        "--max-zoom",
        "5",
        "--out",
        &path,
    ]);
    assert_eq!(code, 0, "{err}");
    check_mbtiles(&out);
    if have_gdal() {
        // GDAL's MBTiles driver reads the vector layer back.
        let info = ogrinfo(&["-ro", "-so", &path, "lad19"]);
        assert!(info.contains("Layer name: lad19"), "{info}");
        assert!(info.contains("imd_score"), "{info}");
    }
    // --format wins over the extension.
    let other = dir.path().join("lad19.bin");
    let (code, err) = run(&[
        "tiles",
        "--layer",
        "lad19",
        "--max-zoom",
        "3",
        "--format",
        "mbtiles",
        "--out",
        &other.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    check_mbtiles(&other);
}

/// MBTiles 1.3: the metadata rows, `vector_layers` in `json`, gzipped MVT in TMS rows.
fn check_mbtiles(path: &Path) {
    use std::io::Read;
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("an SQLite file");
    let meta = |name: &str| -> String {
        db.query_row("SELECT value FROM metadata WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("metadata {name}: {e}"))
    };
    assert_eq!(meta("format"), "pbf");
    assert_eq!(meta("minzoom"), "0");
    let json: serde_json::Value = serde_json::from_str(&meta("json")).expect("json metadata");
    assert_eq!(json["vector_layers"][0]["id"], "lad19");
    let bounds: Vec<f64> = meta("bounds")
        .split(',')
        .map(|v| v.parse().expect("number"))
        .collect();
    assert!(
        bounds[0] < -5.0 && bounds[2] > 1.0 && bounds[1] > 49.0,
        "{bounds:?}"
    );
    // z0 is one tile, row 0 in both schemes; z1's England tile is x 0, y 0 in XYZ: TMS row 1.
    let tile = |z: u32, x: u32, row: u32| -> Option<Vec<u8>> {
        db.query_row(
            "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            [z, x, row],
            |r| r.get(0),
        )
        .ok()
    };
    let z1 = tile(1, 0, 1).expect("the z1 tile over Britain, in TMS rows");
    assert!(tile(1, 0, 0).is_none(), "no tile south of the equator");
    let mut mvt = Vec::new();
    flate2::read::GzDecoder::new(&z1[..])
        .read_to_end(&mut mvt)
        .expect("gzipped");
    assert!(
        mvt.windows(5).any(|w| w == b"lad19"),
        "the layer name is in the tile"
    );
    let n: u32 = db
        .query_row("SELECT COUNT(*) FROM tiles", [], |r| r.get(0))
        .expect("count");
    assert!(n >= 5, "{n} tiles");
}
