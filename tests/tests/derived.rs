//! A user's own derived indicators: `[[derived]]` entries added to a copy of the catalogue
//! become indicators the server tiles, looks up, exports and lists, with the same numbers as
//! `/stats/aggregate`; a bad entry stops start-up with a message naming it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use placemap_e2e::{catalog_path, data_dir};
use tile_server::SharedState;
use tile_server::config::RawConfig;
use tower::ServiceExt;

/// The repository's catalogue plus `extra`, written to a scratch directory.
fn catalogue_with(name: &str, extra: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "placemap-derived-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let real = std::fs::read_to_string(catalog_path()).expect("read catalogue");
    let path = dir.join("catalog.toml");
    std::fs::write(&path, format!("{real}\n{extra}")).expect("write catalogue");
    path
}

fn load(catalog: PathBuf) -> Result<SharedState, String> {
    let config = RawConfig {
        addr: "127.0.0.1:0".into(),
        data_dir: data_dir(),
        catalog,
        layers: vec!["lad19".into(), "lsoa11".into()],
        cache_mb: 16,
        ..RawConfig::default()
    }
    .resolve()
    .map_err(|e| e.to_string())?;
    tile_server::serve::load_state(config)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

async fn get(state: &SharedState, uri: &str) -> (u16, Vec<u8>) {
    let req = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let res = tile_server::app(state.clone())
        .oneshot(req)
        .await
        .expect("router");
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, body.to_vec())
}

async fn json(state: &SharedState, uri: &str) -> serde_json::Value {
    let (status, body) = get(state, uri).await;
    assert_eq!(status, 200, "{uri}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON")
}

const USER_ENTRIES: &str = r#"
[[derived]]
id = "imd_lsoa_share_most_deprived_fifth"
layer = "lad19"
title = "Share of LSOAs in the most deprived 20% nationally (IMD 2019)"
unit = "proportion"
direction = "higher_is_worse"
description = "Share of the district's LSOAs in IMD deciles 1 and 2."
method = "aggregate"
from = "lsoa11"
indicator = "imd_decile"
how = "share"
class = "<=2"

[[derived]]
id = "imd_fifth_lisa"
layer = "lad19"
title = "Clusters of the share in the most deprived fifth"
unit = "LISA class"
direction = "neutral"
description = "LISA of the derived share above."
method = "lisa"
indicator = "imd_lsoa_share_most_deprived_fifth"
england_only = true
seed = 7
"#;

#[tokio::test]
async fn a_users_derived_indicators_are_served_like_any_other() {
    let state = load(catalogue_with("ok", USER_ENTRIES)).expect("loads");

    // Listed with the rest, with their coverage.
    let stats = json(&state, "/stats").await;
    let listed: Vec<&str> = stats["derived_indicators"]
        .as_array()
        .expect("derived")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(
        listed.contains(&"imd_lsoa_share_most_deprived_fifth"),
        "{listed:?}"
    );
    assert!(listed.contains(&"imd_fifth_lisa"), "{listed:?}");

    // The same numbers as /stats/aggregate with the same options, for every district.
    let agg = json(
        &state,
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_decile&how=share&class=%3C%3D2",
    )
    .await;
    let rows = agg["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 382);
    let layer = state.maps.atlas.layer("lad19").expect("lad19");
    let values = analysis::layer::numeric_values(layer, "imd_lsoa_share_most_deprived_fifth", None)
        .expect("numeric");
    let mut compared = 0;
    for row in rows {
        let code = row["code"].as_str().expect("code");
        let i = layer.position(code).expect("district");
        match (row["value"].as_f64(), values[i]) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() < 1e-12, "{code}: {a} vs {b}");
                compared += 1;
            }
            (a, b) => assert_eq!(a, b, "{code}"),
        }
    }
    assert_eq!(compared, 317, "every English district has LSOAs");

    // Looked up: Middlesbrough has most of its LSOAs in the bottom fifth.
    let j = json(&state, "/lookup?lon=-1.2348&lat=54.5742&layer=lad19").await;
    let r0 = &j["results"][0];
    assert_eq!(r0["code"], "E06000002");
    let v = r0["values"]["imd_lsoa_share_most_deprived_fifth"]["value"]
        .as_f64()
        .expect("value");
    assert!(v > 0.5, "Middlesbrough {v}");
    assert!(r0["values"]["imd_fifth_lisa"]["value"].is_string());

    // Tiled and legended.
    let (status, png) = get(
        &state,
        "/tiles/lad19/imd_lsoa_share_most_deprived_fifth/6/31/20.png",
    )
    .await;
    assert_eq!(status, 200);
    assert!(png.starts_with(b"\x89PNG"));
    let legend = json(&state, "/legend/lad19/imd_fifth_lisa.json").await;
    assert!(legend.to_string().contains("high-high"), "{legend}");
}

#[tokio::test]
async fn a_bad_derived_entry_stops_start_up_and_names_itself() {
    let bad = USER_ENTRIES.replace("class = \"<=2\"", "class = \"bottom fifth\"");
    let err = load(catalogue_with("bad", &bad))
        .err()
        .expect("must not start");
    assert!(
        err.contains("imd_lsoa_share_most_deprived_fifth")
            && err.contains("catalog.toml")
            && err.contains("class"),
        "{err}"
    );
}
