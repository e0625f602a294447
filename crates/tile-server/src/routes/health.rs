//! Liveness and metrics: `GET /health`, `GET /metrics` (Prometheus text).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::state::SharedState;

/// `GET /health`: up, with what is loaded.
pub async fn health(State(state): State<SharedState>) -> Json<Value> {
    let layers: Vec<Value> = state
        .maps
        .atlas
        .layers
        .iter()
        .map(|l| json!({ "id": l.meta.id, "districts": l.districts.len(), "indicators": l.indicators.len() }))
        .collect();
    Json(json!({
        "status": "ok",
        "data_version": state.maps.data_version,
        "layers": layers,
        "tile_cache": { "entries": state.tiles.entry_count(), "bytes": state.tiles.weighted_size(), "capacity_bytes": state.config.cache_bytes },
    }))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<SharedState>) -> impl IntoResponse {
    state.tiles.run_pending_tasks();
    let mut text = state.metrics.encode();
    // Cache gauges are read at scrape time.
    text = text.replace(
        "# EOF\n",
        &format!(
            "# HELP placemap_tile_cache_bytes Bytes held by the tile cache.\n# TYPE placemap_tile_cache_bytes gauge\nplacemap_tile_cache_bytes {}\n# HELP placemap_tile_cache_entries Tiles held by the tile cache.\n# TYPE placemap_tile_cache_entries gauge\nplacemap_tile_cache_entries {}\n# EOF\n",
            state.tiles.weighted_size(),
            state.tiles.entry_count()
        ),
    );
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}
