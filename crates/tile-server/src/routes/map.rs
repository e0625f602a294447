//! The embeddable interactive map (`GET /map/{layer}/{indicator}`) and its assets, all served by
//! placemap itself (Leaflet vendored) so the page works offline and talks to no other host.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maps::VersionOptions;
use serde_json::json;

use crate::error::ApiError;
use crate::params::urlencode;
use crate::state::SharedState;

const INDEX_HTML: &str = include_str!("../../assets/map/index.html");
const CONFIG_PLACEHOLDER: &str = r#"<script id="placemap-config" type="application/json">{"layer":"lad19","indicator":"imd_score"}</script>"#;

/// (path under /map/assets/, content type, body)
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/map/map.js"),
    ),
    (
        "map.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/map/map.css"),
    ),
    (
        "vendor/leaflet.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/map/vendor/leaflet.js"),
    ),
    (
        "vendor/leaflet.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/map/vendor/leaflet.css"),
    ),
    (
        "vendor/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/map/vendor/LICENSE"),
    ),
];

/// Same-origin only, embeddable anywhere (no X-Frame-Options).
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors *";

/// `GET /map/{layer}/{indicator}`: the map page with its layer and indicator filled in.
/// `?version=N` redirects to `/map/{layer}/{indicator}@N`, the one address of that version
/// (the page keeps its own path in the links it makes). Other query parameters are ignored, not
/// refused: a published map's link picks up tracking parameters (`utm_source`, `fbclid`) when
/// shared, and the page must still open.
pub async fn page(
    State(state): State<SharedState>,
    Path((layer, indicator)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let pin = version_only(&uri)?;
    let l = state.layer(&layer)?;
    let ind = state.indicator_at(l, &indicator, pin.version)?;
    if pin.version.is_some() {
        return Ok(Redirect::to(&format!(
            "/map/{}/{}",
            urlencode(&l.meta.id),
            urlencode(&ind.meta.id).replace("%40", "@")
        ))
        .into_response());
    }
    // `pinned`: the id that keeps showing this version (embed code and downloads use it).
    let config = json!({
        "layer": l.meta.id,
        "indicator": indicator,
        "pinned": maps::loaded::pinned_id(ind),
        // The style controls' choices: the server's own lists, so the page offers only what
        // the tiles accept.
        "schemes": choropleth::classify::Scheme::NAMES.iter().filter(|s| **s != "manual").collect::<Vec<_>>(),
        "palettes": choropleth::palette::Palette::names(),
        // The regions and nations region= takes on this layer (the area control).
        "regions": l.regions.names_present(&l.districts).iter().map(|name| json!({
            "name": name,
            "slug": districts::regions::slug(name),
        })).collect::<Vec<_>>(),
    })
    .to_string()
    .replace('<', "\\u003c");
    let html = INDEX_HTML.replacen(
        CONFIG_PLACEHOLDER,
        &format!(r#"<script id="placemap-config" type="application/json">{config}</script>"#),
        1,
    );
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Ok(r)
}

/// `GET /map/assets/{*path}`: the page's scripts, styles and Leaflet.
pub async fn asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    super::static_asset(&ASSETS, &path, "map")
}

/// The `version=` of a page's query string, every other parameter ignored.
fn version_only(uri: &axum::http::Uri) -> Result<VersionOptions, ApiError> {
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let only: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k == "version").collect();
    Ok(maps::options::read_options(&only)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_has_the_config_placeholder() {
        assert_eq!(
            super::INDEX_HTML.matches(super::CONFIG_PLACEHOLDER).count(),
            1
        );
    }

    #[test]
    fn tracking_parameters_are_ignored_and_a_bad_version_is_refused() {
        let uri = |q: &str| q.parse::<axum::http::Uri>().expect("uri");
        let pin = super::version_only(&uri("/map/a/b?utm_source=x&fbclid=y&version=2"));
        assert_eq!(pin.ok().and_then(|p| p.version), Some(2));
        assert!(super::version_only(&uri("/map/a/b?fbclid=y")).is_ok_and(|p| p.version.is_none()));
        assert!(super::version_only(&uri("/map/a/b?version=one")).is_err());
    }
}
