//! Liveness and metrics: `GET /health`, `GET /metrics` (Prometheus text).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::metrics::Format;
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
        "per_zoom_geometry": { "layers_ready": state.maps.bands_ready().0, "layers": state.maps.bands_ready().1 },
        "tile_cache": { "entries": state.tiles.entry_count(), "bytes": state.tiles.weighted_size(), "capacity_bytes": state.config.cache_bytes },
    }))
}

/// `GET /metrics`: the Prometheus text format 0.0.4, or OpenMetrics 1.0.0 when `Accept` asks
/// for `application/openmetrics-text` (see [`Format::negotiate`]).
pub async fn metrics(State(state): State<SharedState>, headers: HeaderMap) -> impl IntoResponse {
    let format = Format::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    state.tiles.run_pending_tasks();
    // Cache gauges are read at scrape time.
    let text = state.metrics.encode(
        format,
        &[
            (
                "tile_cache_bytes",
                "Bytes held by the tile cache.",
                state.tiles.weighted_size(),
            ),
            (
                "tile_cache_entries",
                "Tiles held by the tile cache.",
                state.tiles.entry_count(),
            ),
        ],
    );
    ([(header::CONTENT_TYPE, format.content_type())], text)
}
