//! Mapbox Vector Tiles (`GET /tiles/{layer}/{z}/{x}/{y}.mvt`) and their TileJSON
//! (`GET /tiles/{layer}.json`), for web maps that style districts themselves (MapLibre,
//! OpenLayers, QGIS). One MVT layer named after the boundary layer; each district is a
//! feature with `code`, `name` and the chosen indicators (default period) as attributes
//! (encoded by `maps::vector_tiles`); tiles share the PNG tiles' byte-bounded cache and ETags.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maps::vector_tiles::{TILE_SIZE_LIMIT, encode, tile_indicators};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::params::reject_unknown;
use crate::state::SharedState;

/// What finding the complete-from zoom may hold at once: one tile per core being encoded.
const COMPLETE_ZOOM_BYTES: u64 = 64 * 1024 * 1024;

/// The media type MapLibre and GDAL expect.
const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// Parses `{y}.mvt` or `{y}.pbf`.
fn parse_y(file: &str) -> Result<u32, ApiError> {
    let hint = "vector tile URLs end in {y}.mvt (or .pbf), e.g. /tiles/lad19/7/63/41.mvt";
    let stem = file
        .strip_suffix(".mvt")
        .or_else(|| file.strip_suffix(".pbf"))
        .ok_or_else(|| {
            ApiError::bad_request(format!("{file:?} is not a vector tile name"), hint)
        })?;
    stem.parse::<u32>()
        .map_err(|_| ApiError::bad_request(format!("tile y {stem:?} is not a whole number"), hint))
}

/// `indicators=` with `@N` / `version=N` pins of uploaded datasets resolved.
fn pinned_list(
    state: &SharedState,
    layer: &districts::Layer,
    q: &HashMap<String, String>,
) -> Result<Option<String>, ApiError> {
    let version = q
        .get("version")
        .map(|v| crate::params::parse_num::<u32>("version", v))
        .transpose()?;
    Ok(state
        .maps
        .pin_list(layer, q.get("indicators").map(String::as_str), version)?)
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`.
pub async fn tile(
    State(state): State<SharedState>,
    Path((layer_id, z, x, y_file)): Path<(String, String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &["indicators", "version"])?;
    let layer = state.layer(&layer_id)?;
    let y = parse_y(&y_file)?;
    let tile = crate::routes::tiles::tile_id(&state, &z, &x, y)?;
    let list = pinned_list(&state, layer, &q)?;
    let inds = tile_indicators(layer, list.as_deref())?;
    let ids: Vec<&str> = inds.iter().map(|i| i.meta.id.as_str()).collect();
    let cache_key: Arc<str> = format!("mvt/{layer_id}/{}", ids.join(",")).into();

    let mut h = std::hash::DefaultHasher::new();
    (
        &state.maps.data_version,
        &*cache_key,
        tile.z,
        tile.x,
        tile.y,
    )
        .hash(&mut h);
    let tag = format!("\"{:016x}\"", h.finish());
    if let Some(r) = crate::routes::tiles::not_modified(&state, &headers, &tag) {
        return Ok(r);
    }
    // Scale 0 marks vector tiles in the shared (style, z, x, y, scale) key.
    let key = (cache_key, tile.z, tile.x, tile.y, 0u8);
    let bytes = match state.tiles.get(&key) {
        Some(b) => {
            state.metrics.tile_cache_hits.inc();
            b
        }
        None => {
            state.metrics.tile_cache_misses.inc();
            crate::routes::tiles::geometry_built(&state, &layer_id).await;
            let st = state.clone();
            let layer_id = layer_id.clone();
            let ids: Vec<String> = ids.iter().map(std::string::ToString::to_string).collect();
            let b = state
                .heavy(
                    crate::admission::Class::Tile,
                    crate::routes::tiles::TILE_BYTES,
                    move |_| -> Result<bytes::Bytes, ApiError> {
                        Ok(encode(&st.maps, &layer_id, &ids, tile)?)
                    },
                )
                .await?;
            state.tiles.insert(key, b.clone());
            b
        }
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(r)
}

/// `GET /tiles/{layer}.json`: TileJSON 3.0 for the vector tiles, with `vector_layers`, the
/// size limit (`placemap:tile_size_limit`) and the zoom from which no tile leaves a district
/// out (`placemap:complete_from_zoom`).
pub async fn tilejson(
    State(state): State<SharedState>,
    base: crate::base_url::BaseUrl,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    reject_unknown(&q, &["indicators", "version"])?;
    let layer_id = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::not_found(
            format!("no such resource /tiles/{file}"),
            "vector TileJSON is /tiles/{layer}.json; raster TileJSON /tiles/{layer}/{indicator}.json",
        )
    })?;
    let layer = state.layer(layer_id)?;
    let list = pinned_list(&state, layer, &q)?;
    let inds = tile_indicators(layer, list.as_deref())?;
    let origin = base.as_str();
    let query = match &list {
        Some(list) => format!("?indicators={}", crate::params::urlencode(list)),
        None => String::new(),
    };
    let mut fields = serde_json::Map::new();
    fields.insert("code".into(), json!("GSS code"));
    fields.insert("name".into(), json!("district name"));
    for ind in &inds {
        let kind = if ind.meta.categorical {
            "String"
        } else {
            "Number"
        };
        fields.insert(
            ind.meta.id.clone(),
            json!(format!("{kind}: {} ({})", ind.meta.title, ind.meta.unit)),
        );
    }
    let mut attribution: Vec<&str> = vec![layer.meta.provenance.attribution.as_str()];
    for ind in &inds {
        if !attribution.contains(&ind.meta.provenance.attribution.as_str()) {
            attribution.push(&ind.meta.provenance.attribution);
        }
    }
    // Tiles over the size limit leave their smallest districts out: say from which zoom none
    // does (found once per layer and indicators; about a second of both cores for LSOAs).
    let ids: Vec<String> = inds.iter().map(|i| i.meta.id.clone()).collect();
    let complete_from_zoom =
        match state
            .maps
            .known_complete_from_zoom(layer_id, &ids, TILE_SIZE_LIMIT)
        {
            Some(known) => known,
            None => {
                let st = state.clone();
                let layer_id = layer_id.to_string();
                state
                    .heavy(
                        crate::admission::Class::Analysis,
                        COMPLETE_ZOOM_BYTES,
                        move |cancel| -> Result<Option<u8>, ApiError> {
                            Ok(st.maps.complete_from_zoom(
                                &layer_id,
                                &ids,
                                TILE_SIZE_LIMIT,
                                &|| cancel.is_cancelled(),
                            )?)
                        },
                    )
                    .await?
            }
        };
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": layer.meta.title,
        "scheme": "xyz",
        "format": "pbf",
        "tiles": [format!("{origin}/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt{query}")],
        "minzoom": 0,
        "maxzoom": state.config.max_zoom,
        "bounds": maps::export::layer_bounds(layer),
        "attribution": attribution.join(" "),
        "vector_layers": [{
            "id": layer_id,
            "description": layer.meta.title,
            "minzoom": 0,
            "maxzoom": state.config.max_zoom,
            "fields": fields,
        }],
        "placemap:tile_size_limit": TILE_SIZE_LIMIT,
        "placemap:complete_from_zoom": complete_from_zoom,
    })))
}
