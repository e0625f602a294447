//! Vector tiles on the real data, decoded by an independent reader (GDAL's MVT driver): the
//! districts, their attributes and their placement on the map survive the encoding.

use axum::body::Body;
use axum::http::Request;
use geo::Contains;
use placemap_e2e::{expect_client_error, get, send, state};
use serde_json::Value;

/// Decodes tile z/x/y with `ogr2ogr` (GDAL reads z/x/y from the path) into WGS84 GeoJSON.
fn gdal_decode(bytes: &[u8], z: u8, x: u32, y: u32, name: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("placemap-mvt-{}-{name}", std::process::id()));
    let tile_dir = dir.join(z.to_string()).join(x.to_string());
    std::fs::create_dir_all(&tile_dir).expect("tile dir");
    let tile = tile_dir.join(format!("{y}.pbf"));
    std::fs::write(&tile, bytes).expect("write tile");
    let out = dir.join("decoded.geojson");
    let _ = std::fs::remove_file(&out);
    let run = std::process::Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-t_srs", "EPSG:4326"])
        .arg(&out)
        .arg(&tile)
        .output()
        .expect("ogr2ogr runs (install gdal-bin)");
    assert!(
        run.status.success(),
        "ogr2ogr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v = serde_json::from_slice(&std::fs::read(&out).expect("decoded")).expect("GeoJSON");
    let _ = std::fs::remove_dir_all(&dir);
    v
}

/// A GeoJSON (Multi)Polygon as geo's MultiPolygon.
fn multipolygon(g: &Value) -> geo::MultiPolygon<f64> {
    let ring = |r: &Value| -> geo::LineString<f64> {
        r.as_array()
            .expect("ring")
            .iter()
            .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
            .collect::<Vec<_>>()
            .into()
    };
    let polygon = |p: &Value| {
        let rings = p.as_array().expect("rings");
        geo::Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    match g["type"].as_str() {
        Some("Polygon") => geo::MultiPolygon(vec![polygon(&g["coordinates"])]),
        Some("MultiPolygon") => geo::MultiPolygon(
            g["coordinates"]
                .as_array()
                .expect("polygons")
                .iter()
                .map(polygon)
                .collect(),
        ),
        other => panic!("not a polygon: {other:?}"),
    }
}

#[tokio::test]
async fn teesside_tile_decodes_with_districts_values_and_places() {
    // z7 tile holding Teesside.
    let (z, x, y) = (7, 63, 40);
    let uri = format!("/tiles/lad19/{z}/{x}/{y}.mvt?indicators=imd_score,imd_score_lisa");
    let r = get(&uri).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/vnd.mapbox-vector-tile")
    );
    let tag = r.header("etag").expect("etag");
    let req = Request::builder()
        .uri(&uri)
        .header("if-none-match", &tag)
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(req).await.status, 304);

    let decoded = gdal_decode(&r.body, z, x, y, "teesside");
    let features = decoded["features"].as_array().expect("features");
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let score = analysis::layer::numeric_values(layer, "imd_score", None).expect("imd_score");
    let mut codes = Vec::new();
    for f in features {
        let p = &f["properties"];
        let code = p["code"].as_str().expect("code");
        let i = layer.position(code).expect("a lad19 district");
        assert_eq!(p["name"].as_str(), Some(layer.districts[i].name.as_str()));
        match score[i] {
            Some(v) => assert!((p["imd_score"].as_f64().expect("score") - v).abs() < 1e-9),
            None => assert!(p["imd_score"].is_null(), "{code}"),
        }
        assert!(
            p.get("median_weekly_pay").is_none(),
            "only the chosen indicators"
        );
        codes.push(code.to_string());
    }
    for code in [
        "E06000001",
        "E06000002",
        "E06000003",
        "E06000004",
        "E06000047",
    ] {
        assert!(codes.contains(&code.to_string()), "{code} in {codes:?}");
    }
    // Placement and ring orientation: Hartlepool's decoded polygon holds Hartlepool's centre
    // and not Middlesbrough's.
    let hartlepool = features
        .iter()
        .find(|f| f["properties"]["code"] == "E06000001")
        .expect("Hartlepool");
    let mp = multipolygon(&hartlepool["geometry"]);
    assert!(mp.contains(&geo::Point::new(-1.2129, 54.6863)));
    assert!(!mp.contains(&geo::Point::new(-1.2348, 54.5742)));
}

#[tokio::test]
async fn tilejson_and_options() {
    let j = get("/tiles/lad19.json").await.json();
    assert_eq!(j["tilejson"], "3.0.0");
    assert_eq!(j["vector_layers"][0]["id"], "lad19");
    // No lad19 tile needs cutting: whole from the first zoom.
    assert_eq!(j["placemap:complete_from_zoom"], 0);
    assert_eq!(j["placemap:tile_size_limit"], 500_000);
    assert!(j["vector_layers"][0]["fields"]["imd_score"].is_string());
    assert!(
        j["tiles"][0]
            .as_str()
            .is_some_and(|t| t.ends_with("/tiles/lad19/{z}/{x}/{y}.mvt"))
    );
    assert!(
        j["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("Office for National Statistics"))
    );

    // All indicators: many more attributes; none: just code and name.
    let all = get("/tiles/lad19/7/63/40.mvt?indicators=all").await;
    let none = get("/tiles/lad19/7/63/40.mvt?indicators=").await;
    assert_eq!((all.status.as_u16(), none.status.as_u16()), (200, 200));
    assert!(all.body.len() > 2 * none.body.len());
    let decoded = gdal_decode(&none.body, 7, 63, 40, "none");
    let props = decoded["features"][0]["properties"]
        .as_object()
        .expect("properties");
    // GDAL reports the MVT feature id as mvt_id: the district's position in the layer.
    let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "mvt_id", "name"]);
    let st = state();
    let code = props["code"].as_str().expect("code");
    assert_eq!(
        props["mvt_id"].as_u64(),
        st.maps
            .atlas
            .layer("lad19")
            .and_then(|l| l.position(code))
            .map(|i| i as u64)
    );
    // Open sea: a valid empty tile.
    let sea = get("/tiles/lad19/7/50/40.mvt").await;
    assert_eq!(sea.status, 200);
    assert!(sea.body.is_empty());

    for (uri, status) in [
        ("/tiles/lad19/7/63/40.png", 400),
        ("/tiles/lad19/7/63/forty.mvt", 400),
        ("/tiles/lad19/31/0/0.mvt", 400),
        ("/tiles/lad19/7/63/40.mvt?indicators=nope", 404),
        ("/tiles/lad19/7/63/40.mvt?scheme=jenks", 400),
        ("/tiles/lad99/7/63/40.mvt", 404),
        ("/tiles/lad99.json", 404),
        ("/tiles/lad19.yaml", 404),
    ] {
        expect_client_error(uri, status).await;
    }
}

#[tokio::test]
async fn a_zoom_22_tile_inside_highland_holds_highland_alone() {
    use std::sync::Arc;
    // With the server's maximum zoom raised to 22 (one tile unit is 2 mm), the Highland
    // district reaches about 10^8 units beyond a tile in it; the tile still decodes to it.
    let config = tile_server::config::RawConfig {
        addr: "127.0.0.1:0".into(),
        data_dir: placemap_e2e::data_dir(),
        catalog: placemap_e2e::catalog_path(),
        layers: vec!["lad19".into()],
        max_zoom: 22,
        cache_mb: 8,
        ..tile_server::config::RawConfig::default()
    }
    .resolve()
    .expect("config");
    let st = Arc::new(tile_server::serve::load_state(config).expect("state"));
    let (z, x, y) = (22u8, 2_044_723u32, 1_274_199u32); // lon -4.5, lat 57.5 (Highland)
    let uri = format!("/tiles/lad19/{z}/{x}/{y}.mvt");
    let res = tower::ServiceExt::oneshot(
        tile_server::app(st),
        Request::builder()
            .uri(&uri)
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .expect("router");
    assert_eq!(res.status(), 200);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let decoded = gdal_decode(&body, z, x, y, "deep");
    let codes: Vec<&str> = decoded["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .collect();
    assert_eq!(codes, ["S12000017"], "Highland alone");
}

#[tokio::test]
async fn a_pmtiles_archive_holds_the_served_tiles() {
    use maps::archive::{ArchiveOptions, write_pmtiles};
    let st = state();
    let path = std::env::temp_dir().join(format!("placemap-{}.pmtiles", std::process::id()));
    let opts = ArchiveOptions {
        indicators: vec!["imd_score".into()],
        min_zoom: 4,
        max_zoom: 8,
        bbox: Some([-3.0, 54.0, -0.5, 55.5]), // the North East and around
        tile_size_limit: Some(maps::vector_tiles::TILE_SIZE_LIMIT),
        bands: maps::archive::ArchiveBands::Shared,
        spool: maps::archive::TileSpool::Memory,
    };
    let file = std::fs::File::create(&path).expect("create");
    let stats =
        write_pmtiles(&st.maps, "lad19", &opts, std::io::BufWriter::new(file)).expect("written");
    assert!(stats.tiles_written >= 10, "{stats:?}");

    // Read back with the pmtiles crate's reader: header, metadata, and every tile equal to the
    // tile the server serves.
    let reader = pmtiles::AsyncPmTilesReader::new_with_path(&path)
        .await
        .expect("archive opens");
    let h = reader.get_header();
    assert_eq!((h.min_zoom, h.max_zoom), (4, 8));
    assert_eq!(h.tile_type, pmtiles::TileType::Mvt);
    let meta: Value = serde_json::from_str(&reader.get_metadata().await.expect("metadata"))
        .expect("JSON metadata");
    assert_eq!(meta["vector_layers"][0]["id"], "lad19");
    assert!(
        meta["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("Office for National Statistics"))
    );
    let mut found = 0;
    for z in 4..=8u8 {
        for t in tile_math::tiles_covering(-3.0, 54.0, -0.5, 55.5, z) {
            let served = maps::vector_tiles::encode(&st.maps, "lad19", &["imd_score".into()], t)
                .expect("encodes");
            let coord = pmtiles::TileCoord::new(t.z, t.x, t.y).expect("coord");
            let stored = reader.get_tile_decompressed(coord).await.expect("read");
            match stored {
                Some(bytes) => {
                    assert_eq!(bytes.as_ref(), served.as_ref(), "{t:?}");
                    found += 1;
                }
                None => assert!(served.is_empty(), "{t:?} missing from the archive"),
            }
        }
    }
    assert_eq!(found, stats.tiles_written);
    // And GDAL decodes the Teesside tile from the archive to Hartlepool and its neighbours.
    let coord = pmtiles::TileCoord::new(7, 63, 40).expect("coord");
    let bytes = reader
        .get_tile_decompressed(coord)
        .await
        .expect("read")
        .expect("Teesside tile");
    let decoded = gdal_decode(&bytes, 7, 63, 40, "archive");
    assert!(
        decoded["features"]
            .as_array()
            .expect("features")
            .iter()
            .any(|f| f["properties"]["code"] == "E06000001")
    );
    let _ = std::fs::remove_file(&path);

    // A bad zoom range or indicator is refused before anything is written.
    let bad = ArchiveOptions {
        min_zoom: 8,
        max_zoom: 4,
        ..opts.clone()
    };
    assert!(write_pmtiles(&st.maps, "lad19", &bad, std::io::Cursor::new(Vec::new())).is_err());
    let bad = ArchiveOptions {
        indicators: vec!["nope".into()],
        ..opts
    };
    assert!(write_pmtiles(&st.maps, "lad19", &bad, std::io::Cursor::new(Vec::new())).is_err());
}

/// Issue 11: `/tiles/lsoa11/5/15/10.mvt` was 2.07 MB (4.16 MB with every indicator). No tile is
/// over 500 KB: the smallest small areas of a tile too big are left out, the largest kept.
#[tokio::test]
async fn vector_tiles_stay_within_the_size_limit_by_dropping_the_smallest_areas() {
    use maps::vector_tiles::{TILE_SIZE_LIMIT, encode_within};
    let st = state();
    let tile = tile_math::TileId::new(5, 15, 10, 5).expect("tile");
    for query in ["", "?indicators=all"] {
        let r = get(&format!("/tiles/lsoa11/5/15/10.mvt{query}")).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body.len() <= TILE_SIZE_LIMIT,
            "{query}: {} bytes",
            r.body.len()
        );
    }
    let full = encode_within(&st.maps, "lsoa11", &[], tile, None).expect("full tile");
    let cut = encode_within(&st.maps, "lsoa11", &[], tile, Some(TILE_SIZE_LIMIT)).expect("tile");
    assert!(
        full.bytes.len() > TILE_SIZE_LIMIT,
        "the test tile must need cutting"
    );
    assert!(cut.bytes.len() <= TILE_SIZE_LIMIT && cut.dropped > 0);
    assert_eq!(cut.listed.len() + cut.dropped, full.listed.len());
    // Every district kept is at least as large as every district dropped.
    let bands = st.maps.bands("lsoa11").expect("bands");
    let areas = bands.areas(5);
    let kept: std::collections::HashSet<usize> = cut.listed.iter().copied().collect();
    let smallest_kept = cut
        .listed
        .iter()
        .map(|&i| areas[i])
        .fold(f64::MAX, f64::min);
    let largest_dropped = full
        .listed
        .iter()
        .filter(|i| !kept.contains(i))
        .map(|&i| areas[i])
        .fold(0.0, f64::max);
    assert!(
        smallest_kept >= largest_dropped,
        "{smallest_kept} < {largest_dropped}"
    );
    // The largest stay: they cover most of the land the tile shows (the small ones left out
    // are sub-pixel at zoom 5, urban small areas; all are present from the zoom they fit).
    let area = |list: &[usize]| list.iter().map(|&i| areas[i]).sum::<f64>();
    let share = area(&cut.listed) / area(&full.listed);
    assert!(
        share > 0.8,
        "kept {} of {} areas, {share:.2} of the area",
        cut.listed.len(),
        full.listed.len()
    );
    // A tile within the limit is untouched.
    let small = tile_math::TileId::new(9, 253, 165, 9).expect("tile");
    let a = encode_within(&st.maps, "lsoa11", &[], small, None).expect("tile");
    let b = encode_within(&st.maps, "lsoa11", &[], small, Some(TILE_SIZE_LIMIT)).expect("tile");
    assert_eq!((a.bytes, b.dropped), (b.bytes, 0));
}

/// An archive says from which zoom every district is in every tile, and
/// `tile_size_limit: None` (`--no-tile-size-limit`) keeps them all.
#[tokio::test]
async fn archives_say_where_tiles_are_complete_and_can_keep_every_feature() {
    use maps::archive::{ArchiveOptions, write_pmtiles};
    let st = state();
    let opts = ArchiveOptions {
        indicators: vec![],
        min_zoom: 5,
        max_zoom: 6,
        bbox: Some([-2.5, 51.0, -0.5, 52.0]),
        tile_size_limit: Some(maps::vector_tiles::TILE_SIZE_LIMIT),
        bands: maps::archive::ArchiveBands::Shared,
        spool: maps::archive::TileSpool::Memory,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    // Progress is told for every tile, ending at all of them (the CLI's progress bar).
    let told = std::sync::Mutex::new(Vec::new());
    let cut =
        maps::archive::write_pmtiles_with(&st.maps, "lsoa11", &opts, &mut out, &|done, total| {
            told.lock().expect("progress").push((done, total));
        })
        .expect("archive");
    assert!(cut.features_dropped > 0, "{cut:?}");
    let told = told.into_inner().expect("progress");
    assert_eq!(told.len(), cut.tiles_considered);
    assert!(told.contains(&(cut.tiles_considered, cut.tiles_considered)));
    assert!(cut.bytes_compressed > 0 && cut.bytes_compressed < cut.bytes_uncompressed);
    let mut out = std::io::Cursor::new(Vec::new());
    let all = write_pmtiles(
        &st.maps,
        "lsoa11",
        &ArchiveOptions {
            tile_size_limit: None,
            ..opts.clone()
        },
        &mut out,
    )
    .expect("archive");
    assert_eq!(all.features_dropped, 0);
    assert_eq!(all.complete_from_zoom, Some(5));
    assert!(all.bytes_uncompressed > cut.bytes_uncompressed);
    // lad19 never needs cutting: complete from the first zoom.
    let mut out = std::io::Cursor::new(Vec::new());
    let lad = write_pmtiles(
        &st.maps,
        "lad19",
        &ArchiveOptions {
            min_zoom: 0,
            max_zoom: 6,
            bbox: None,
            ..opts
        },
        &mut out,
    )
    .expect("archive");
    assert_eq!((lad.features_dropped, lad.complete_from_zoom), (0, Some(0)));
}

/// Issue 11: the served TileJSON says from which zoom every small area is in every tile, the
/// same zoom an archive of those tiles finds (tiles one zoom shallower still leave some out).
#[tokio::test]
async fn the_tilejson_says_from_which_zoom_tiles_hold_every_small_area() {
    use maps::archive::{ArchiveOptions, write_pmtiles};
    let st = state();
    let j = get("/tiles/lsoa11.json").await.json();
    let z = j["placemap:complete_from_zoom"]
        .as_u64()
        .expect("a zoom from which LSOA tiles are whole") as u8;
    assert!((6..=12).contains(&z), "complete from zoom {z}");
    // Asked again: the same answer (kept, not found again).
    assert_eq!(
        get("/tiles/lsoa11.json").await.json()["placemap:complete_from_zoom"],
        u64::from(z)
    );
    let indicators: Vec<String> = st
        .maps
        .atlas
        .layer("lsoa11")
        .and_then(|l| l.meta.default_indicator.clone())
        .into_iter()
        .collect();
    let archive = write_pmtiles(
        &st.maps,
        "lsoa11",
        &ArchiveOptions {
            indicators,
            min_zoom: z - 1,
            max_zoom: z + 1,
            bbox: None,
            tile_size_limit: Some(maps::vector_tiles::TILE_SIZE_LIMIT),
            bands: maps::archive::ArchiveBands::Shared,
            spool: maps::archive::TileSpool::Memory,
        },
        std::io::Cursor::new(Vec::new()),
    )
    .expect("archive");
    assert!(archive.features_dropped > 0, "{archive:?}");
    assert_eq!(archive.complete_from_zoom, Some(z), "{archive:?}");
}
