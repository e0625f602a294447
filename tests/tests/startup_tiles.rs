//! Tiles asked for while a just-started server is still building its per-zoom geometry: they
//! wait for it without taking a job slot, so none is refused as busy (the browser test once saw
//! a 503 there: each early tile held a slot while it waited, and the next ones timed out).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_asked_during_start_up_wait_for_the_geometry_not_for_a_slot() {
    let mut config = placemap_e2e::test_config();
    config.layers = vec!["lsoa11".into()];
    // One tile at a time, refused after 100 ms without a slot: a tile holding the slot while
    // the LSOA geometry is built (seconds in a test build) would get the others refused.
    config.admission.tile_jobs = 1;
    config.admission.tile_wait = Duration::from_millis(100);
    let state = match tile_server::serve::load_state(config) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("loading lsoa11: {e}"),
    };
    assert!(
        state.maps.bands_coming("lsoa11"),
        "the per-zoom geometry was built before the first tile: the test shows nothing"
    );
    let app = tile_server::app(Arc::clone(&state));
    // Six z12 tiles over Manchester, all at once, each a few LSOAs (quick to draw).
    let requests = (2020..2026).map(|x| {
        let app = app.clone();
        tokio::spawn(async move {
            let uri = format!("/tiles/lsoa11/imd_decile/12/{x}/1324.png");
            let req = Request::get(&uri).body(Body::empty()).expect("request");
            let res = app.oneshot(req).await.expect("router");
            (uri, res.status())
        })
    });
    for r in requests.collect::<Vec<_>>() {
        let (uri, status) = r.await.expect("request task");
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    assert!(state.maps.bands_if_ready("lsoa11").is_some());
}

/// Which uncached tiles are drawn on the async worker (`--inline-tile-vertices`, default
/// 250,000): every tile of the peer benchmark's England list, district or small-area (printed
/// per zoom: the most vertices a tile holds); the densest small-area tiles only with the
/// default bound, not with a bound of 4,000 (what a server started with a lower bound hands to
/// a blocking thread); a `@2x` tile with a quarter of the bound; nothing when the bound is 0.
#[test]
fn england_list_tiles_are_drawn_inline_and_denser_ones_by_a_lower_bound_are_not() {
    use choropleth::render::TileSize;
    use maps::StyleOptions;
    use maps::raster::{QUICK_TILE_VERTICES, is_quick};
    use tile_math::TileId;

    let st = placemap_e2e::state();
    let style_of = |layer: &str, ind: &str| {
        let l = st.maps.layer(layer).expect("layer");
        let i = st.maps.indicator(l, ind).expect("indicator");
        st.maps
            .styles
            .resolve(l, i, &StyleOptions::default())
            .expect("default style")
    };
    // The server builds the per-zoom geometry in the background; this state is shared.
    for layer in ["lad19", "lsoa11"] {
        st.maps.bands(layer).expect("per-zoom geometry");
    }
    let lad = style_of("lad19", "imd_score");
    let lsoa = style_of("lsoa11", "imd_decile");
    let tiles = test_support::tiles::peer_tiles();
    let quick = |style, t, size, n| is_quick(&st.maps, style, t, size, n);
    // Per zoom, how many tiles of the list are quick, and the most vertices a tile holds (the
    // least bound that makes every tile of that zoom quick).
    let least_bound = |style, t| {
        let (mut lo, mut hi) = (0usize, 1usize << 24);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if quick(style, t, TileSize::Standard, mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    for (name, style) in [("lad19", &lad), ("lsoa11", &lsoa)] {
        for z in 5..=10u8 {
            let at: Vec<_> = tiles.iter().filter(|t| t.z == z).collect();
            let bounds: Vec<usize> = at.iter().map(|&&t| least_bound(style, t)).collect();
            let n_quick = bounds.iter().filter(|&&b| b <= QUICK_TILE_VERTICES).count();
            let most = bounds.iter().max().copied().unwrap_or(0);
            eprintln!(
                "{name} z{z}: {n_quick} of {} tiles quick, most vertices {most}",
                at.len()
            );
        }
    }
    for &t in &tiles {
        assert!(!quick(&lad, t, TileSize::Standard, 0), "bound 0 hands off");
        for (name, style) in [("lad19", &lad), ("lsoa11", &lsoa)] {
            assert!(
                quick(style, t, TileSize::Standard, QUICK_TILE_VERTICES),
                "{name} {t:?} is not quick"
            );
            // A @2x tile (four times the pixels) gets a quarter of the bound.
            assert_eq!(
                quick(style, t, TileSize::Retina, QUICK_TILE_VERTICES),
                least_bound(style, t) <= QUICK_TILE_VERTICES / 4,
                "{name} {t:?} @2x"
            );
        }
    }
    // England west of Greenwich at z5, the North and the Midlands at z6: thousands of LSOAs.
    let dense = [
        TileId { z: 5, x: 15, y: 10 },
        TileId { z: 6, x: 31, y: 20 },
        TileId { z: 6, x: 31, y: 21 },
    ];
    for t in dense {
        assert!(
            !quick(&lsoa, t, TileSize::Standard, 4_000),
            "lsoa11 {t:?} counted as quick with a bound of 4,000"
        );
        assert!(
            !quick(&lsoa, t, TileSize::Retina, QUICK_TILE_VERTICES),
            "lsoa11 {t:?} @2x counted as quick"
        );
    }
}
