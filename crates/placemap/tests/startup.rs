//! Start-up of `placemap serve` (issue 14): the server answers as soon as layers and indicators
//! are loaded; the per-zoom geometry of tiles is finished in the background, and a tile asked for
//! before it is ready waits for it rather than failing.

use std::time::{Duration, Instant};

use crate::datasets::{http, json, serve_layers};

#[test]
fn a_tile_asked_for_at_once_is_served_and_health_reports_the_geometry_ready() {
    let state = tempfile::tempdir().expect("tempdir");
    // `serve_layers` returns once the server has printed its address: ask at once.
    let server = serve_layers(state.path(), "lad19,lsoa11");
    let (st, body) = http(
        &server.addr,
        "GET",
        "/tiles/lsoa11/imd_decile/12/2046/1362.png",
        &[],
        b"",
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    assert!(body.starts_with(b"\x89PNG"));
    let (st, body) = http(
        &server.addr,
        "GET",
        "/layers/lad19.geojson?zoom=6",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    assert_eq!(json(&body)["features"].as_array().map(Vec::len), Some(382));

    let started = Instant::now();
    loop {
        let (st, body) = http(&server.addr, "GET", "/health", &[], b"");
        assert_eq!(st, 200);
        let g = &json(&body)["per_zoom_geometry"];
        assert_eq!(g["layers"].as_u64(), Some(2), "{g}");
        if g["layers_ready"] == g["layers"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "per-zoom geometry never finished: {g}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
