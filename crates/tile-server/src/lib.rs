//! The HTTP face of placemap (axum on tokio): config -> state -> routes. [`app`] is a function
//! of the shared state so tests drive it with `tower::ServiceExt::oneshot`.

/// The base of absolute links: `--public-url`, trusted proxies, or a checked `Host`.
pub mod base_url;
/// Byte ranges of downloads (`Range`, `If-Range`, 206 and 416).
pub mod byte_ranges;
/// Configuration: raw as given, then resolved and validated.
pub mod config;
/// The one error shape and its mapping to HTTP.
pub mod error;
/// Typed options read from the query string (the `maps` option sets).
pub mod extract;
/// The current state as requests see it (swapped when datasets change).
pub mod live;
/// Prometheus metrics.
pub mod metrics;
/// Query parameter parsing with 400s that say what is wrong.
pub mod params;
/// Route handlers, one module per kind of resource.
pub mod routes;
/// Loading the atlas and starting the server.
pub mod serve;
/// Shared state built once at start-up.
pub mod state;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
pub use crate::state::{AppState, SharedState};

/// Counts requests and latencies by matched route.
async fn track(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            status: res.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { route })
        .observe(start.elapsed().as_secs_f64());
    res
}

/// Client errors that axum and tower-http answer themselves (413 from the body limit layer, 405,
/// extractor rejections) come as plain text. On `/datasets`, and for 413 anywhere, they are
/// rewritten as the JSON `{"error", "hint"}` every other client error has; `limit` is the upload
/// limit named in a 413.
async fn json_errors(limit: usize, req: Request, next: Next) -> Response {
    use axum::http::{StatusCode, header};
    let datasets = req.uri().path().starts_with("/datasets");
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if !status.is_client_error()
        || is_json
        || !(datasets || status == StatusCode::PAYLOAD_TOO_LARGE)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("client error");
    let (error, hint) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            format!("the request body is over the limit of {limit} bytes"),
            "upload a smaller table, or start the server with a larger --max-upload-bytes"
                .to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            format!("{reason} on this path"),
            "POST /datasets uploads and GET /datasets lists; GET, PUT or DELETE /datasets/{id}"
                .to_string(),
        ),
        _ if text.is_empty() => (reason.to_string(), "see GET /datasets".to_string()),
        _ => (text, reason.to_string()),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": error, "hint": hint }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "no such route",
        "routes: /layers, /layers/{layer}.geojson, /layers/{layer}/districts/{code}, /tiles/{layer}/{indicator}/{z}/{x}/{y}.png, /tiles/{layer}/{indicator}.json, /legend/{layer}/{indicator}.{svg,png,json}, /lookup, /static/{layer}/{indicator}.{png,svg}, /map/{layer}/{indicator}, /stats/..., /datasets, /datasets/new, /health, /metrics",
    )
}

/// The router of every route, with compression, CORS, timeouts, body limits, tracing and metrics.
pub fn app(state: SharedState) -> Router {
    app_live(live::LiveState::fixed(state))
}

/// [`app`] over live state: the maps change when datasets are uploaded, and `/datasets`
/// accepts uploads when the state has a dataset store.
pub fn app_live(live: live::LiveState) -> Router {
    let state = live.0.snapshot();
    let cors = if state.config.cors_origins.iter().any(|o| o == "*") {
        CorsLayer::new().allow_origin(AllowOrigin::any())
    } else {
        let origins: Vec<axum::http::HeaderValue> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        CorsLayer::new().allow_origin(AllowOrigin::list(origins))
    };
    // Web clients on other origins reading downloads in pieces need to see the range headers.
    let cors = cors.expose_headers([
        axum::http::header::ACCEPT_RANGES,
        axum::http::header::CONTENT_RANGE,
        axum::http::header::ETAG,
    ]);
    let timeout = state.config.request_timeout;
    let upload_limit = live.0.hub.as_ref().map_or(0, |h| h.limits.max_bytes);
    // Multipart framing adds a little to the file itself.
    let body_limit = state.config.max_body_bytes.max(upload_limit + 64 * 1024);
    Router::new()
        .route("/health", get(routes::health::health))
        .route("/metrics", get(routes::health::metrics))
        .route("/layers", get(routes::data::list_layers))
        .route("/layers/{file}", get(routes::data::layer_file))
        .route(
            "/layers/{layer}/districts",
            get(routes::data::list_districts),
        )
        .route(
            "/layers/{layer}/districts/{code}",
            get(routes::data::one_district),
        )
        .route(
            "/lookup",
            get(routes::lookup::lookup_point).post(routes::lookup::lookup_many),
        )
        .route("/tiles/{file}", get(routes::vector::tilejson))
        .route("/tiles/{layer}/{file}", get(routes::tiles::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(routes::vector::tile))
        .route(
            "/tiles/{layer}/{indicator}/{z}/{x}/{y}",
            get(routes::tiles::tile),
        )
        .route("/legend/{layer}/{file}", get(routes::legend::legend))
        .route("/static/{layer}/{file}", get(routes::staticmap::static_map))
        .route("/map/{layer}/{indicator}", get(routes::map::page))
        .route("/map/assets/{*path}", get(routes::map::asset))
        .route("/ogc", get(routes::ogc::landing))
        .route("/ogc/api", get(routes::ogc::api))
        .route("/ogc/conformance", get(routes::ogc::conformance))
        .route("/ogc/collections", get(routes::ogc::collections))
        .route("/ogc/collections/{layer}", get(routes::ogc::collection))
        .route("/ogc/collections/{layer}/items", get(routes::ogc::items))
        .route(
            "/ogc/collections/{layer}/items/{code}",
            get(routes::ogc::item),
        )
        .route("/stats", get(routes::stats::index))
        .route("/stats/aggregate", get(routes::stats::aggregate))
        .route(
            "/stats/{layer}/{indicator}/compare",
            get(routes::stats::compare),
        )
        .route(
            "/stats/{layer}/{indicator}/correlate",
            get(routes::stats::correlate),
        )
        .route(
            "/stats/{layer}/{indicator}/moran",
            get(routes::stats::moran),
        )
        .route(
            "/stats/{layer}/{indicator}/clusters",
            get(routes::stats::clusters),
        )
        .route(
            "/datasets",
            get(routes::datasets::list).post(routes::datasets::create),
        )
        .route("/datasets/new", get(routes::upload_page::page))
        .route("/datasets/assets/{*path}", get(routes::upload_page::asset))
        .route(
            "/datasets/{id}",
            get(routes::datasets::show)
                .put(routes::datasets::update)
                .delete(routes::datasets::delete),
        )
        .fallback(not_found)
        // Inside `track` (so 206 and 416 are counted as such) and inside compression (which
        // leaves partial responses alone).
        .layer(middleware::from_fn(byte_ranges::ranges))
        .layer(middleware::from_fn_with_state(live.clone(), track))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            json_errors(
                if upload_limit > 0 {
                    upload_limit
                } else {
                    body_limit
                },
                req,
                next,
            )
        }))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(live)
}
