//! The HTTP face of placemap (axum on tokio): config -> state -> routes. [`app`] is a function
//! of the shared state so tests drive it with `tower::ServiceExt::oneshot`.

// Admission control of heavy work: documented by its own `//!` (its links resolve there).
pub mod admission;
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
/// HTML error pages for browsers, JSON for everything else.
pub mod html_errors;
/// The current state as requests see it (swapped when datasets change).
pub mod live;
/// Prometheus metrics.
pub mod metrics;
/// The OGC API as HTML pages for people (`f=html`, or a browser's `Accept`).
pub mod ogc_html;
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
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::decompression::DecompressionBody;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics::{RequestLabels, RouteLabels};
pub use crate::state::{AppState, SharedState};

/// Counts `res` in the request metrics of its route, with its latency from `start`.
fn record(state: &SharedState, route: String, status: u16, start: Instant) {
    let labels = RequestLabels { route, status };
    state.metrics.requests.get_or_create(&labels).inc();
    // The route's name moves on to the latency's labels rather than being copied.
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: labels.route,
        })
        .observe(start.elapsed().as_secs_f64());
}

/// The body limits of the router, for the 413 answers that name them.
#[derive(Clone, Copy, Debug)]
struct BodyLimits {
    /// `POST /lookup` (the configured `max_body_bytes`).
    lookup: usize,
    /// Dataset uploads (`--max-upload-bytes`), 0 when uploads are off.
    upload: usize,
    /// Every other route.
    other: usize,
}

/// Every request's life on the server, in one middleware rather than four (see [`app_live`]
/// on what each costs):
/// 1. the time limit ([`time_limit`]);
/// 2. plain-text client errors made JSON ([`json_errors`]);
/// 3. JSON errors made HTML pages for browsers ([`html_errors::html_errors`]);
/// 4. `X-Content-Type-Options: nosniff` on every answer;
/// 5. the request counted in the metrics of its route, with its latency ([`record`]).
///
/// A route layer (the route is known), outside the body limits of the routes that read bodies
/// (their 413s become JSON and are counted), inside the compression layer (it reads bodies as
/// the handlers wrote them).
async fn answers(
    state: SharedState,
    limits: BodyLimits,
    timeout: std::time::Duration,
    req: Request,
    next: Next,
) -> Response {
    use axum::http::header;
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let asked = Asked {
        browser: html_errors::wants_page(&req),
        lookup: req.uri().path() == "/lookup",
        datasets: req.uri().path().starts_with("/datasets"),
        encoding: req
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(|v| error::clip(v, 40).into_owned()),
    };
    let res = time_limit(timeout, next.run(req)).await;
    let res = json_errors(limits, &asked, res).await;
    let mut res = html_errors::html_errors(asked.browser, res).await;
    // Every answer, the JSON errors quoting input among them, is read as what it says it is.
    res.headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(header::HeaderValue::from_static("nosniff"));
    record(&state, route, res.status().as_u16(), start);
    res
}

/// What [`answers`] needs of the request once the response is there.
struct Asked {
    /// A browser's GET or HEAD asking for HTML.
    browser: bool,
    lookup: bool,
    datasets: bool,
    /// The request body's `Content-Encoding`, clipped.
    encoding: Option<String>,
}

/// Client errors that axum and tower-http answer themselves (413 from the body limit layers,
/// 415 from request decompression, 405, extractor rejections such as a path segment that is not
/// UTF-8 after percent-decoding) come as plain text. They are rewritten as the JSON
/// `{"error", "hint"}` every other client error has (the fuzz targets check every route).
async fn json_errors(limits: BodyLimits, asked: &Asked, res: Response) -> Response {
    use axum::http::{StatusCode, header};
    let datasets = asked.datasets;
    let encoding = &asked.encoding;
    let status = res.status();
    // JSON errors, and HTML pages (the OGC API's HTML face), pass as they are.
    let is_ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json") || c.starts_with("text/html"));
    if !status.is_client_error() || is_ours {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("client error");
    let (error, hint) = match status {
        StatusCode::PAYLOAD_TOO_LARGE if asked.lookup => (
            format!("the request body is over the limit of {} bytes", limits.lookup),
            "split the points into smaller batches, or start the server with a larger --max-body-bytes"
                .to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE if datasets && limits.upload > 0 => (
            format!("the request body is over the limit of {} bytes", limits.upload),
            "upload a smaller table, or start the server with a larger --max-upload-bytes"
                .to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            format!("the request body is over the limit of {} bytes", limits.other),
            "send a smaller body".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            format!(
                "request bodies with Content-Encoding {} are not accepted",
                encoding.as_deref().unwrap_or("(unknown)")
            ),
            "send the body uncompressed, or compressed with Content-Encoding: gzip".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED if datasets => (
            format!("{reason} on this path"),
            "POST /datasets uploads and GET /datasets lists; GET, PUT or DELETE /datasets/{id}"
                .to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            format!("{reason} on this path"),
            "maps, tiles and statistics are read with GET; POST is for /lookup and /datasets"
                .to_string(),
        ),
        _ if text.is_empty() && datasets => (reason.to_string(), "see GET /datasets".to_string()),
        _ if text.is_empty() => (reason.to_string(), "check the method and the URL".to_string()),
        _ if datasets => (
            error::clip(&text, error::MAX_MESSAGE_CHARS).into_owned(),
            reason.to_string(),
        ),
        _ => (
            error::clip(&text, error::MAX_MESSAGE_CHARS).into_owned(),
            "path segments and query values must be UTF-8 text, percent-encoded".to_string(),
        ),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": error, "hint": hint }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Inflates request bodies sent with `Content-Encoding: gzip` (tower-http's request
/// decompression); other encodings get a 415. Only requests that declare an encoding go
/// through it: each body wrapper it adds would hide the body limit's own error from axum's
/// extractors, which then answer 400 rather than 413. Inside the body limit layer, which checks
/// the body as sent; the extractors' limits (`DefaultBodyLimit`, the lookup's own) count the
/// inflated bytes, so a gzip bomb is a 413.
async fn decompress(req: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    if !req
        .headers()
        .contains_key(axum::http::header::CONTENT_ENCODING)
    {
        return next.run(req).await;
    }
    let next = std::sync::Mutex::new(Some(next));
    let inner = tower::service_fn(move |req: Request<DecompressionBody<Body>>| {
        let next = next.lock().ok().and_then(|mut n| n.take());
        async move {
            Ok::<Response, std::convert::Infallible>(match next {
                Some(next) => next.run(req.map(Body::new)).await,
                // A oneshot service is called once.
                None => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            })
        }
    });
    match tower_http::decompression::RequestDecompression::new(inner)
        .oneshot(req)
        .await
    {
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route", routes::home::route_hint())
}

/// Stops a request that runs longer than `limit` (dropping its future cancels the work, as
/// tower-http's `TimeoutLayer` does) and answers like every other 503: JSON with a hint and
/// `Retry-After`, which `TimeoutLayer`'s bare status lacks.
async fn time_limit(
    limit: std::time::Duration,
    answer: impl std::future::Future<Output = Response>,
) -> Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, answer).await {
        Ok(res) => res,
        Err(_) => ApiError::Unavailable {
            message: format!(
                "the request took longer than the server's limit of {:.0} s and was stopped",
                limit.as_secs_f64()
            ),
            hint: Some(
                "retry in a moment, or ask for less (a smaller area, fewer districts or permutations)"
                    .into(),
            ),
            retry_after: Some(1),
        }
        .into_response(),
    }
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
    let lookup_limit = state.config.max_body_bytes;
    // Multipart framing adds a little to the file itself; `/lookup` has its own, lower limit
    // on top of this one.
    let body_limit = lookup_limit.max(upload_limit + 64 * 1024);
    let limits = BodyLimits {
        lookup: lookup_limit,
        upload: upload_limit,
        other: body_limit,
    };
    // Each `from_fn` layer costs every request it wraps a clone of the stack inside it and two
    // allocations: seven of them were a fifth of a cached tile's server time (about 25 us).
    // So the middlewares that act on a few routes wrap only those, and the ones every request
    // needs are one (`answers`).
    // Request bodies (gzip-encoded uploads and point batches) arrive only here: they are
    // inflated and held to the body limits here (no other route reads a body).
    let with_bodies = Router::new()
        .route(
            "/lookup",
            get(routes::lookup::lookup_point)
                .post(routes::lookup::lookup_many)
                .layer::<_, std::convert::Infallible>(axum::extract::DefaultBodyLimit::max(
                    lookup_limit,
                )),
        )
        .route(
            "/datasets",
            get(routes::datasets::list).post(routes::datasets::create),
        )
        .route(
            "/datasets/{id}",
            get(routes::datasets::show)
                .put(routes::datasets::update)
                .delete(routes::datasets::delete),
        )
        .layer(middleware::from_fn(decompress))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit));
    // Downloads read in pieces (GDAL's /vsicurl/, resumed downloads): the only file-like answers.
    let files = Router::new()
        .route("/layers/{file}", get(routes::data::layer_file))
        .route("/static/{layer}/{file}", get(routes::staticmap::static_map))
        .layer(middleware::from_fn(byte_ranges::ranges));
    // OGC API - Features answers HTML to browsers and to `f=html`.
    let ogc = Router::new()
        .route("/ogc", get(routes::ogc::landing))
        .route("/ogc/api", get(routes::ogc::api))
        .route("/ogc/conformance", get(routes::ogc::conformance))
        .route("/ogc/collections", get(routes::ogc::collections))
        .route("/ogc/collections/{layer}", get(routes::ogc::collection))
        .route("/ogc/collections/{layer}/items", get(routes::ogc::items))
        .route(
            "/ogc/collections/{layer}/queryables",
            get(routes::ogc::queryables),
        )
        .route(
            "/ogc/collections/{layer}/items/{code}",
            get(routes::ogc::item),
        )
        .layer(middleware::from_fn_with_state(
            live.clone(),
            ogc_html::html_face,
        ));
    // What every route's answers go through (see `answers`).
    let answered = || {
        middleware::from_fn_with_state(
            live.clone(),
            move |State(state): State<SharedState>, req: Request, next: Next| {
                answers(state, limits, timeout, req, next)
            },
        )
    };
    // PNG tiles never compress (PNG is deflated already), so they skip the compression layer,
    // which wraps every body it passes: 5 % of a cached tile's server time.
    let png_tiles = Router::new()
        .route(
            "/tiles/{layer}/{indicator}/{z}/{x}/{y}",
            get(routes::tiles::tile),
        )
        .layer(answered());
    Router::new()
        .route("/", get(routes::home::index))
        .route("/health", get(routes::health::health))
        .route("/metrics", get(routes::health::metrics))
        .route("/layers", get(routes::data::list_layers))
        .route(
            "/layers/{layer}/districts",
            get(routes::data::list_districts),
        )
        .route(
            "/layers/{layer}/districts/{code}",
            get(routes::data::one_district),
        )
        .route("/tiles/{file}", get(routes::vector::tilejson))
        .route("/tiles/{layer}/{file}", get(routes::tiles::tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(routes::vector::tile))
        .route("/legend/{layer}/{file}", get(routes::legend::legend))
        .route("/styles/{file}", get(routes::styles::sprite))
        .route("/styles/{layer}/{file}", get(routes::styles::style))
        .route("/map/{layer}/{indicator}", get(routes::map::page))
        .route("/map/assets/{*path}", get(routes::map::asset))
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
        .route("/datasets/new", get(routes::upload_page::page))
        .route("/datasets/assets/{*path}", get(routes::upload_page::asset))
        .merge(with_bodies)
        .merge(files)
        .merge(ogc)
        .fallback(not_found)
        .layer(answered())
        .layer(CompressionLayer::new())
        .merge(png_tiles)
        // Outside the error answers and the time limit, so their answers carry the CORS
        // headers too, and cloned once per request rather than by every layer outside it.
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(live)
}
