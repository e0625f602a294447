//! Error pages for people: a browser that navigates to a mistyped `/map/...` address asks for
//! `text/html`, and gets a page saying what is wrong, how to put it right and where to start,
//! instead of raw JSON. Every other client (curl, `fetch`, GIS clients, `<img>` requests) keeps
//! the JSON `{"error", "hint"}` it parses.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use choropleth::escape_xml as esc;

use crate::routes::home::wants_html;

/// Largest JSON error body rewritten (they are a message and a hint, clipped to 1,000
/// characters each); a larger one passes through as it is.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Whether `req` is a browser's GET or HEAD asking for HTML, whose errors [`html_errors`]
/// makes pages.
pub fn wants_page(req: &Request) -> bool {
    matches!(*req.method(), Method::GET | Method::HEAD) && wants_html(req.headers())
}

/// Rewrites a JSON error answer to a request that asks for HTML ([`wants_page`]) as an HTML
/// page, keeping the status and every other header (`Retry-After` among them). Reads the body
/// as the handler wrote it (the caller sits inside the compression layer).
pub async fn html_errors(browser: bool, res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if !browser || !is_json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        // Too large to be one of our error bodies (or unreadable): say so without the body.
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let (Some(error), hint) = (field("error"), field("hint")) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let reason = status.canonical_reason().unwrap_or("Error");
    let hint = hint
        .map(|h| format!("<p class=\"hint\">{}</p>", esc(&h)))
        .unwrap_or_default();
    let page = format!(
        concat!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>{code} {reason} - placemap</title><style>",
            "body{{font:16px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:46rem;padding:0 1.5rem;color:#1a1a1a}}",
            ".hint{{background:#f3f6fb;border-left:4px solid #0b57d0;padding:.6rem .9rem}}a{{color:#0b57d0}}",
            "</style></head><body><h1>{code} {reason}</h1><p class=\"error\">{error}</p>{hint}",
            "<p><a href=\"/\">All layers and maps</a> · <a href=\"/layers\">layers as JSON</a></p>",
            "</body></html>\n"
        ),
        code = status.as_u16(),
        reason = esc(reason),
        error = esc(&error),
        hint = hint,
    );
    html_page(parts, page, "default-src 'none'; style-src 'unsafe-inline'")
}

/// A JSON answer's head with `page` as an HTML body instead: content type and length, the
/// page's own CSP, and `Vary: Accept` (the same address answers JSON to programs). Status and
/// every other header are kept.
pub(crate) fn html_page(
    mut parts: axum::http::response::Parts,
    page: String,
    csp: &'static str,
) -> Response {
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept"));
    Response::from_parts(parts, Body::from(page))
}
