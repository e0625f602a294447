//! Choropleth raster tiles (`GET /tiles/{layer}/{indicator}/{z}/{x}/{y}.png`, `@2x`) and their
//! TileJSON 3.0 (`GET /tiles/{layer}/{indicator}.json`).
//!
//! A tile request resolves the (cached) style, answers `If-None-Match` with 304, then the
//! byte-bounded tile cache, and only then renders on a blocking thread: an R-tree query of the
//! zoom band's simplified geometry, one affine transform, fill, outline, PNG encode.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use choropleth::render::TileSize;
use maps::options::RegionOptions;
use maps::{StyleOptions, VersionOptions};
use serde_json::{Value, json};
use tile_math::TileId;

use crate::admission::{Cancel, Class};
use crate::base_url::BaseUrl;
use crate::error::ApiError;
use crate::extract::Options;
use crate::params::urlencode;
use crate::state::SharedState;

/// Memory a tile render holds: a 512 px pixmap, its encoder's buffers and the geometry
/// queried (tiles are drawn in milliseconds and never checked for cancellation).
pub(crate) const TILE_BYTES: u64 = 4 * 1024 * 1024;

/// Parses `123.png` or `123@2x.png`.
fn parse_y(file: &str) -> Result<(u32, TileSize), ApiError> {
    let hint = "tile URLs end in {y}.png or {y}@2x.png, e.g. /tiles/lad19/imd_score/7/63/41.png";
    let stem = file
        .strip_suffix(".png")
        .ok_or_else(|| ApiError::bad_request(format!("{file:?} is not a PNG tile name"), hint))?;
    let (y, size) = match stem.strip_suffix("@2x") {
        Some(y) => (y, TileSize::Retina),
        None => (stem, TileSize::Standard),
    };
    let y = y
        .parse::<u32>()
        .map_err(|_| ApiError::bad_request(format!("tile y {y:?} is not a whole number"), hint))?;
    Ok((y, size))
}

/// The tile addressed by `z`, `x` (path segments) and `y`, or a 400 saying what is wrong.
pub(crate) fn tile_id(state: &SharedState, z: &str, x: &str, y: u32) -> Result<TileId, ApiError> {
    let hint = format!("zoom 0..{}, x and y below 2^zoom", state.config.max_zoom);
    let z: u8 = z.parse().map_err(|_| {
        ApiError::bad_request(format!("zoom {z:?} is not a whole number"), hint.clone())
    })?;
    let x: u32 = x.parse().map_err(|_| {
        ApiError::bad_request(format!("tile x {x:?} is not a whole number"), hint.clone())
    })?;
    TileId::new(z, x, y, state.config.max_zoom)
        .map_err(|e| ApiError::bad_request(e.to_string(), hint))
}

/// Waits, without holding a worker or a job slot, while the layer's per-zoom geometry is still
/// being built in the background (a server just started), up to the request timeout. Tiles
/// asked for meanwhile would otherwise each hold a tile slot while they wait for it, and the
/// ones after them be refused as busy.
pub(crate) async fn geometry_built(state: &SharedState, layer: &str) {
    let until = Instant::now() + state.config.request_timeout;
    while state.maps.bands_coming(layer) && Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A 304 when the client's `If-None-Match` names `tag` (or `*`).
pub(crate) fn not_modified(
    state: &SharedState,
    headers: &HeaderMap,
    tag: &str,
) -> Option<Response> {
    let inm = headers.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    if !inm.split(',').any(|t| t.trim() == tag || t.trim() == "*") {
        return None;
    }
    state.metrics.not_modified.inc();
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Some(r)
}

/// A strong ETag from the data version, the style and the tile.
fn etag(state: &SharedState, style_key: &str, tile: TileId, size: TileSize) -> String {
    let mut h = std::hash::DefaultHasher::new();
    state.maps.data_version.hash(&mut h);
    style_key.hash(&mut h);
    (tile.z, tile.x, tile.y, size.px()).hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn png_response(body: Bytes, etag: &str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    r
}

/// `GET /tiles/{layer}/{indicator}/{z}/{x}/{y}.png`.
pub async fn tile(
    State(state): State<SharedState>,
    Path((layer_id, indicator_id, z, x, y_file)): Path<(String, String, String, String, String)>,
    Options(((opts, pin), area)): Options<((StyleOptions, VersionOptions), RegionOptions)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layer = state.layer(&layer_id)?;
    let ind = state.indicator_at(layer, &indicator_id, pin.version)?;
    let (y, size) = parse_y(&y_file)?;
    let tile = tile_id(&state, &z, &x, y)?;
    let style = state
        .maps
        .styles
        .resolve_in_region(layer, ind, &opts, area.region.as_deref())?;
    let tag = etag(&state, &style.key, tile, size);
    if let Some(r) = not_modified(&state, &headers, &tag) {
        return Ok(r);
    }
    let key = (
        Arc::<str>::from(style.key.as_str()),
        tile.z,
        tile.x,
        tile.y,
        size.scale() as u8,
    );
    if let Some(bytes) = state.tiles.get(&key) {
        state.metrics.tile_cache_hits.inc();
        return Ok(png_response(bytes, &tag));
    }
    state.metrics.tile_cache_misses.inc();
    geometry_built(&state, &style.layer).await;
    // `hits`: the tile's districts, already queried (`None` while the per-zoom geometry is
    // still being built: the render then waits for it and queries).
    let render = move |st: &SharedState,
                       style: &maps::style::ResolvedStyle,
                       hits: Option<&[usize]>,
                       cancel: &Cancel| {
        let start = Instant::now();
        let cancelled = || cancel.is_cancelled();
        let png = match hits {
            Some(hits) => {
                maps::raster::render_tile_districts(&st.maps, style, tile, size, hits, &cancelled)
            }
            None => maps::raster::render_tile_cancellable(&st.maps, style, tile, size, &cancelled),
        };
        st.metrics
            .render_seconds
            .observe(start.elapsed().as_secs_f64());
        Ok::<_, ApiError>(png?)
    };
    // A tile up to the inline bound (default 250,000 vertices: every England tile to z10) is
    // drawn here: the hand-off to a blocking thread costs two thread wake-ups, which held two
    // connections to 1.5x one. Anything bigger goes to a blocking thread, where it can be cancelled.
    let inline = state.admission.limits().inline_tile_vertices;
    let districts = maps::raster::tile_districts(&state.maps, &style, tile, size, inline);
    let bytes = match districts {
        Some(d) if d.quick => {
            state
                .heavy_here(Class::Tile, TILE_BYTES, |cancel| {
                    render(&state, &style, Some(&d.hits), cancel)
                })
                .await?
        }
        d => {
            let st = state.clone();
            state
                .heavy(Class::Tile, TILE_BYTES, move |cancel| {
                    render(&st, &style, d.as_ref().map(|d| d.hits.as_slice()), cancel)
                })
                .await?
        }
    };
    state.tiles.insert(key, bytes.clone());
    Ok(png_response(bytes, &tag))
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The legend as a small HTML fragment (TileJSON 3.0: `legend` is text or HTML shown with the
/// map, not a URL): title, period and unit, one swatch per class with its range, no data, and
/// the credit.
fn legend_html(legend: &choropleth::legend::Legend) -> String {
    let swatch = |color: &str, label: &str| {
        format!(
            r#"<li><span style="display:inline-block;width:1em;height:1em;background:{color};margin-right:.4em;vertical-align:middle"></span>{}</li>"#,
            esc(label)
        )
    };
    let mut head = esc(&legend.title);
    if !legend.subtitle.is_empty() {
        head.push_str(&format!(", {}", esc(&legend.subtitle)));
    }
    if !legend.unit.is_empty() {
        head.push_str(&format!(" ({})", esc(&legend.unit)));
    }
    let mut out = format!(
        r#"<div class="placemap-legend"><strong>{head}</strong><ul style="list-style:none;margin:0;padding:0">"#
    );
    for e in &legend.entries {
        out.push_str(&swatch(&e.color.to_hex(), &e.label));
    }
    out.push_str(&swatch(
        &legend.no_data.color.to_hex(),
        &legend.no_data.label,
    ));
    out.push_str(&format!(
        "</ul><small>{}</small></div>",
        esc(&legend.source)
    ));
    out
}

/// `GET /tiles/{layer}/{indicator}.json`: TileJSON 3.0, with absolute tile URLs (the spec asks
/// for them, and a map on another origin resolves relative ones against its own page).
pub async fn tilejson(
    State(state): State<SharedState>,
    base: BaseUrl,
    Path((layer_id, file)): Path<(String, String)>,
    Options((opts, pin)): Options<(StyleOptions, VersionOptions)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let Some(indicator_id) = file.strip_suffix(".json") else {
        return Err(ApiError::not_found(
            format!("/tiles/{layer_id}/{file} is not a TileJSON or tile URL"),
            "TileJSON: /tiles/{layer}/{indicator}.json; tiles: /tiles/{layer}/{indicator}/{z}/{x}/{y}.png",
        ));
    };
    let layer = state.layer(&layer_id)?;
    let ind = state.indicator_at(layer, indicator_id, pin.version)?;
    let style = state.maps.styles.resolve(layer, ind, &opts)?;
    let bounds = json!(maps::export::layer_bounds(layer));
    let center = match bounds.as_array().map(|a| {
        a.iter()
            .filter_map(serde_json::Value::as_f64)
            .collect::<Vec<_>>()
    }) {
        Some(b) if b.len() == 4 => json!([(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 6]),
        _ => Value::Null,
    };
    // The tile and legend URLs name the resolved (pinned) id, so `version=` is not repeated.
    let mut query: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "version")
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    query.sort();
    let qs = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    let legend = maps::legend::legend_for(layer, ind, &style)?;
    let base = base.as_str();
    let attribution = format!(
        "{} | {}",
        ind.meta.provenance.attribution, layer.meta.provenance.attribution
    );
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": format!("{} ({})", ind.meta.title, style.showing.label()),
        "description": ind.meta.description.clone().unwrap_or_else(|| ind.meta.title.clone()),
        "version": "1.0.0",
        "attribution": attribution,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{}/{{z}}/{{x}}/{{y}}.png{qs}", layer.meta.id, ind.meta.id)],
        "minzoom": 0,
        "maxzoom": state.config.max_zoom,
        "bounds": bounds,
        "center": center,
        "legend": legend_html(&legend),
        // The legend as data (classes, colours, counts) for clients that draw their own.
        "legend_url": format!("{base}/legend/{}/{}.json{qs}", layer.meta.id, ind.meta.id),
        "placemap": {
            "layer": layer.meta.id, "indicator": ind.meta.id, "period": style.showing.label(),
            "unit": style.unit, "palette": style.palette,
            // Uploaded datasets: the version drawn, and the id that always draws it.
            "version": maps::loaded::dataset_version(ind).map(|(_, v)| v),
            "pinned_indicator": maps::loaded::pinned_id(ind),
        },
    }))
    .into_response())
}
