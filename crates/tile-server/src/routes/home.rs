//! `GET /`: the front door. A browser (`Accept: text/html`) gets a page for people: every
//! layer and its indicators with a thumbnail map, and links to the interactive map, the static
//! figure, the downloads, the OGC API and (when the server stores datasets) the upload page.
//! Programs get the same as JSON, with the route table. [`ROUTES`](crate::routes::home::ROUTES) is also the hint of every
//! 404 for an unknown path, so a route added to the router and not here fails a test.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use choropleth::escape_xml as esc;
use districts::Layer;
use serde_json::{Value, json};

use crate::live::LiveState;
use crate::state::SharedState;

/// One route of the router: its path as registered, and what it does.
pub struct Route {
    /// The path as given to the router (`{name}` placeholders).
    pub path: &'static str,
    /// The addresses a person types, when they differ from `path` (file extensions).
    pub shows: &'static str,
    /// What it answers.
    pub what: &'static str,
}

const fn route(path: &'static str, shows: &'static str, what: &'static str) -> Route {
    Route { path, shows, what }
}

/// Every route, in the order a newcomer reads them.
pub const ROUTES: &[Route] = &[
    route("/", "/", "this index: HTML for browsers, JSON otherwise"),
    route(
        "/map/{layer}/{indicator}",
        "/map/{layer}/{indicator}",
        "the interactive map, embeddable",
    ),
    route(
        "/map/assets/{*path}",
        "/map/assets/...",
        "the map page's scripts and styles",
    ),
    route(
        "/static/{layer}/{file}",
        "/static/{layer}/{indicator}.{png,svg}",
        "a publication-ready figure",
    ),
    route(
        "/legend/{layer}/{file}",
        "/legend/{layer}/{indicator}.{svg,png,json}",
        "the legend of a map",
    ),
    route(
        "/styles/{layer}/{file}",
        "/styles/{layer}/{indicator}.json",
        "a MapLibre style of the map over the vector tiles",
    ),
    route(
        "/styles/{file}",
        "/styles/sprite.{json,png}",
        "the styles' sprite (the no-data hatch)",
    ),
    route(
        "/tiles/{layer}/{indicator}/{z}/{x}/{y}",
        "/tiles/{layer}/{indicator}/{z}/{x}/{y}.png",
        "choropleth raster tiles",
    ),
    route(
        "/tiles/{layer}/{file}",
        "/tiles/{layer}/{indicator}.json",
        "TileJSON of the raster tiles",
    ),
    route(
        "/tiles/{layer}/{z}/{x}/{y}",
        "/tiles/{layer}/{z}/{x}/{y}.mvt",
        "vector tiles (Mapbox Vector Tile)",
    ),
    route(
        "/tiles/{file}",
        "/tiles/{layer}.json",
        "TileJSON of the vector tiles",
    ),
    route(
        "/layers",
        "/layers",
        "every layer and indicator, with join reports",
    ),
    route(
        "/layers/{file}",
        "/layers/{layer}, /layers/{layer}.{geojson,csv,gpkg,fgb,shp.zip}",
        "a layer's metadata, or its districts to download",
    ),
    route(
        "/layers/{layer}/districts",
        "/layers/{layer}/districts",
        "the districts of a layer (code and name)",
    ),
    route(
        "/layers/{layer}/districts/{code}",
        "/layers/{layer}/districts/{code}",
        "one district's values and ranks",
    ),
    route(
        "/lookup",
        "/lookup?lon=&lat= or ?x=&y=&crs=EPSG:27700 (GET), /lookup (POST CSV or GeoJSON points)",
        "the districts at points",
    ),
    route("/ogc", "/ogc", "OGC API - Features landing page"),
    route("/ogc/api", "/ogc/api", "OpenAPI description of the OGC API"),
    route(
        "/ogc/conformance",
        "/ogc/conformance",
        "OGC conformance classes",
    ),
    route(
        "/ogc/collections",
        "/ogc/collections",
        "OGC collections (the layers)",
    ),
    route(
        "/ogc/collections/{layer}",
        "/ogc/collections/{layer}",
        "one OGC collection",
    ),
    route(
        "/ogc/collections/{layer}/items",
        "/ogc/collections/{layer}/items?crs=&filter=&sortby=",
        "OGC features, paged, in a chosen CRS, filtered (CQL2 text)",
    ),
    route(
        "/ogc/collections/{layer}/queryables",
        "/ogc/collections/{layer}/queryables",
        "the properties OGC filters may name (JSON Schema)",
    ),
    route(
        "/ogc/collections/{layer}/items/{code}",
        "/ogc/collections/{layer}/items/{code}",
        "one OGC feature",
    ),
    route("/stats", "/stats", "the statistics on offer"),
    route(
        "/stats/aggregate",
        "/stats/aggregate",
        "indicators summed or averaged by group",
    ),
    route(
        "/stats/{layer}/{indicator}/compare",
        "/stats/{layer}/{indicator}/compare",
        "one group of districts against another",
    ),
    route(
        "/stats/{layer}/{indicator}/correlate",
        "/stats/{layer}/{indicator}/correlate",
        "correlation of two indicators",
    ),
    route(
        "/stats/{layer}/{indicator}/moran",
        "/stats/{layer}/{indicator}/moran",
        "Moran's I (spatial autocorrelation)",
    ),
    route(
        "/stats/{layer}/{indicator}/clusters",
        "/stats/{layer}/{indicator}/clusters",
        "local clusters (LISA)",
    ),
    route(
        "/datasets",
        "/datasets",
        "uploaded datasets (GET lists, POST uploads)",
    ),
    route("/datasets/new", "/datasets/new", "the upload page"),
    route(
        "/datasets/assets/{*path}",
        "/datasets/assets/...",
        "the upload page's script and style",
    ),
    route(
        "/datasets/{id}",
        "/datasets/{id}",
        "one uploaded dataset (GET, PUT a new version, DELETE)",
    ),
    route("/health", "/health", "readiness and what is loaded"),
    route("/metrics", "/metrics", "Prometheus metrics"),
];

/// The hint of a 404 for an unknown path: every route a person can type.
pub fn route_hint() -> String {
    let shown: Vec<&str> = ROUTES
        .iter()
        .filter(|r| !r.path.contains("{*path}"))
        .map(|r| r.shows)
        .collect();
    format!("routes: {}", shown.join(", "))
}

/// Whether the client asked for a page (a browser's navigation sends `Accept: text/html,...`;
/// `curl`, `fetch` and image requests do not name HTML).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The z5 tiles (row, column) of a thumbnail, row by row: England and Wales.
const THUMBNAIL_TILES: [(u32, u32); 4] = [(9, 15), (9, 16), (10, 15), (10, 16)];

/// The indicator a layer's thumbnail shows: its default, else its first.
fn thumbnail_indicator(layer: &Layer) -> Option<&str> {
    layer
        .meta
        .default_indicator
        .as_deref()
        .filter(|d| layer.indicators.iter().any(|i| i.meta.id == *d))
        .or_else(|| layer.indicators.first().map(|i| i.meta.id.as_str()))
}

/// `GET /`: the page for browsers, JSON for everything else.
pub async fn index(State(live): State<LiveState>, headers: HeaderMap) -> Response {
    let state: SharedState = live.0.snapshot();
    let uploads = live.0.hub.is_some();
    if wants_html(&headers) {
        let mut r = (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page(&state, uploads),
        )
            .into_response();
        r.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        // The list changes when datasets are uploaded.
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept"));
        return r;
    }
    let mut r = Json(index_json(&state, uploads)).into_response();
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    r
}

/// No script at all on the index; images and styles from this host only.
const CSP: &str =
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'";

fn index_json(state: &SharedState, uploads: bool) -> Value {
    let layers: Vec<Value> = state
        .maps
        .atlas
        .layers
        .iter()
        .map(|l| {
            let id = &l.meta.id;
            json!({
                "id": id,
                "title": l.meta.title,
                "vintage": l.meta.vintage,
                "districts": l.districts.len(),
                "attribution": l.meta.provenance.attribution,
                "links": {
                    "metadata": format!("/layers/{id}"),
                    "geojson": format!("/layers/{id}.geojson"),
                    "csv": format!("/layers/{id}.csv"),
                    "geopackage": format!("/layers/{id}.gpkg"),
                    "flatgeobuf": format!("/layers/{id}.fgb"),
                    "shapefile": format!("/layers/{id}.shp.zip"),
                    "ogc": format!("/ogc/collections/{id}"),
                    "vector_tiles": format!("/tiles/{id}.json"),
                },
                "indicators": l.indicators.iter().map(|i| {
                    let ind = &i.meta.id;
                    json!({
                        "id": ind,
                        "title": i.meta.title,
                        "map": format!("/map/{id}/{ind}"),
                        "figure": format!("/static/{id}/{ind}.png"),
                        "legend": format!("/legend/{id}/{ind}.json"),
                        "maplibre_style": format!("/styles/{id}/{ind}.json"),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "title": "placemap",
        "layers": layers,
        "uploads": if uploads { Value::from("/datasets/new") } else { Value::Null },
        "routes": ROUTES.iter().map(|r| json!({ "path": r.shows, "what": r.what })).collect::<Vec<_>>(),
    })
}

fn page(state: &SharedState, uploads: bool) -> String {
    let mut h = String::with_capacity(16 * 1024);
    h.push_str(concat!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>placemap: maps of regional divides</title><style>",
        "body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1a1a1a}",
        "h1{margin:.2rem 0}.layers{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1.5rem;padding:0;list-style:none}",
        ".layer{border:1px solid #ccc;border-radius:6px;padding:1rem}",
        ".thumb{display:grid;grid-template-columns:1fr 1fr;max-width:20rem;background:#eef2f5;border:1px solid #ddd}",
        ".thumb img{width:100%;height:auto;display:block}",
        ".layer h2{font-size:1.15rem;margin:.2rem 0}.muted{color:#555;font-size:.9rem}",
        "ul.ind{padding-left:1.1rem}ul.ind li{margin:.25rem 0}a{color:#0b57d0}",
        "</style></head><body>\n",
        "<header><h1>placemap</h1><p>Maps of regional divides: deprivation, pay, school outcomes and ",
        "employment by district, from the published open data. Pick a layer and an indicator to open ",
        "the interactive map, a figure for a report, or the data.</p>\n",
        "<p><a href=\"/ogc\">OGC API - Features</a> for QGIS, ArcGIS and GDAL · ",
        "<a href=\"/layers\">all layers as JSON</a> · <a href=\"/stats\">statistics</a>",
    ));
    if uploads {
        h.push_str(" · <a href=\"/datasets/new\">upload your own data</a>");
    }
    h.push_str("</p></header>\n<main><ul class=\"layers\">\n");
    for l in &state.maps.atlas.layers {
        let id = esc(&l.meta.id);
        h.push_str(&format!(
            "<li class=\"layer\" id=\"layer-{id}\"><h2>{}</h2><p class=\"muted\">{} districts, {} · <code>{id}</code></p>\n",
            esc(&l.meta.title),
            l.districts.len(),
            esc(&l.meta.vintage),
        ));
        if let Some(ind) = thumbnail_indicator(l) {
            // Four cached z5 tiles (England and Wales) rather than a static figure: a page of
            // thumbnails asks for them all at once, and figures are admitted a few at a time.
            let ind = esc(ind);
            h.push_str(&format!(
                "<a class=\"thumb\" href=\"/map/{id}/{ind}\" aria-label=\"Open the map of {}\">",
                esc(&l.meta.title)
            ));
            for (y, x) in THUMBNAIL_TILES {
                h.push_str(&format!(
                    "<img src=\"/tiles/{id}/{ind}/5/{x}/{y}.png\" width=\"256\" height=\"256\" alt=\"\">"
                ));
            }
            h.push_str("</a>\n");
        }
        h.push_str("<ul class=\"ind\">\n");
        for i in &l.indicators {
            let ind = esc(&i.meta.id);
            h.push_str(&format!(
                "<li><a href=\"/map/{id}/{ind}\">{}</a> <span class=\"muted\">(<a href=\"/static/{id}/{ind}.png\">PNG</a>, <a href=\"/static/{id}/{ind}.svg\">SVG</a> figure)</span></li>\n",
                esc(&i.meta.title)
            ));
        }
        h.push_str(&format!(
            "</ul><p class=\"muted\">Download: <a href=\"/layers/{id}.geojson\">GeoJSON</a>, <a href=\"/layers/{id}.csv\">CSV</a>, <a href=\"/layers/{id}.gpkg\">GeoPackage</a>, <a href=\"/layers/{id}.fgb\">FlatGeobuf</a>, <a href=\"/layers/{id}.shp.zip\">Shapefile</a> · <a href=\"/ogc/collections/{id}\">OGC collection</a><br>{}</p></li>\n",
            esc(&l.meta.provenance.attribution)
        ));
    }
    h.push_str("</ul></main>\n<footer class=\"muted\"><h2>For programs</h2><ul>\n");
    for r in ROUTES {
        h.push_str(&format!(
            "<li><code>{}</code>: {}</li>\n",
            esc(r.shows),
            esc(r.what)
        ));
    }
    h.push_str("</ul></footer></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path registered in the router is in [`ROUTES`] and every entry of [`ROUTES`] is
    /// registered: read from the router's source, so a new route cannot be left out of the
    /// index and the 404 hint.
    #[test]
    fn routes_table_matches_the_router() {
        let src = include_str!("../lib.rs");
        let mut registered = Vec::new();
        let mut rest = src;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let tail = &rest[open + 1..];
            let Some(close) = tail.find('"') else { break };
            registered.push(&tail[..close]);
        }
        assert!(registered.len() > 20, "found {registered:?}");
        for p in &registered {
            assert!(
                ROUTES.iter().any(|r| r.path == *p),
                "{p} is routed but not in ROUTES"
            );
        }
        for r in ROUTES {
            assert!(
                registered.contains(&r.path),
                "{} is in ROUTES but not routed",
                r.path
            );
        }
    }

    #[test]
    fn browsers_get_html_and_programs_json() {
        let mut h = HeaderMap::new();
        assert!(!wants_html(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(!wants_html(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(wants_html(&h));
    }
}
