//! `GET /datasets/new`: a page for people who do not use curl. Choose a file or paste a table,
//! see what was detected and the join report (a dry run of `POST /datasets`), describe it,
//! save, and land on the map. Plain HTML and a small script served by placemap itself, same
//! origin only, like the map page.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::live::LiveState;

const PAGE_HTML: &str = include_str!("../../assets/datasets/new.html");

/// (path under /datasets/assets/, content type, body)
const ASSETS: [(&str, &str, &[u8]); 2] = [
    (
        "new.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/datasets/new.js"),
    ),
    (
        "new.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/datasets/new.css"),
    ),
];

/// Same origin only; the form page is not meant to be framed by other sites.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'";

/// `GET /datasets/new`: the upload page (404 when the server has no dataset store).
pub async fn page(State(live): State<LiveState>) -> Result<Response, ApiError> {
    if live.0.hub.is_none() {
        return Err(ApiError::not_found(
            "datasets are not enabled on this server",
            "start placemap serve with a state directory (--state DIR or PLACEMAP_STATE)",
        ));
    }
    let mut r = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        PAGE_HTML,
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // The page shows a token field: never cached by shared caches.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `GET /datasets/assets/{*path}`: the page's script and style.
pub async fn asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    super::static_asset(&ASSETS, &path, "page")
}
