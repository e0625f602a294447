//! The HTML face of the OGC API (`f=html`, or a browser's `Accept: text/html`), so a person can
//! browse what a GIS client sees: the landing page, conformance, the collections, a collection,
//! its queryables, a page of features with a small map of them, one feature. The JSON answer of
//! the same request is rendered as a page (the JSON handlers stay the one source of truth);
//! links to other OGC documents lead to their HTML versions, `next`/`prev` included.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use choropleth::escape_xml as esc;
use serde_json::Value;

use crate::live::LiveState;
use crate::routes::home::wants_html;

/// Largest JSON document rendered as a page (a page of 10,000 LSOAs with geometry is larger:
/// those are left as JSON).
const MAX_DOCUMENT: usize = 64 * 1024 * 1024;

/// Whether the query asks for HTML (`f=html`), JSON (`f=json`...), or leaves it to `Accept`.
fn format_of(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "f")
        .map(|(_, v)| v.to_ascii_lowercase())
}

/// The query without `f=...`.
fn without_f(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("f="))
        .collect::<Vec<_>>()
        .join("&")
}

/// Serves `/ogc...` GET requests that ask for HTML from the JSON handlers.
pub async fn html_face(State(live): State<LiveState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !path.starts_with("/ogc") || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let html = match format_of(&query).as_deref() {
        Some("html") => true,
        Some(_) => false,
        None => wants_html(req.headers()) && path != "/ogc/api",
    };
    if !html {
        return next.run(req).await;
    }
    // Ask the handler for JSON.
    let rest = without_f(&query);
    let uri = if rest.is_empty() {
        path.clone()
    } else {
        format!("{path}?{rest}")
    };
    if let Ok(u) = uri.parse() {
        *req.uri_mut() = u;
    }
    req.headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if !res.status().is_success() || !is_json {
        // Errors become pages in `html_errors` (the request asked for HTML); files stay files.
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_DOCUMENT).await else {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let state = live.0.snapshot();
    let page = render(&path, &doc, &state);
    // The JSON's ETag does not name these bytes.
    parts.headers.remove(header::ETAG);
    crate::html_errors::html_page(
        parts,
        page,
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    )
}

/// An OGC link's address as the HTML version when it is one of this API's JSON documents.
fn html_href(href: &str, kind: &str) -> String {
    let ogc_doc = href.contains("/ogc") && !href.contains("/ogc/api") && kind.contains("json");
    if !ogc_doc {
        return href.to_string();
    }
    if href.contains('?') {
        format!("{href}&f=html")
    } else {
        format!("{href}?f=html")
    }
}

fn links_html(doc: &Value) -> String {
    let Some(links) = doc["links"].as_array() else {
        return String::new();
    };
    let mut h = String::from("<h2>Links</h2><ul class=\"links\">");
    for l in links {
        let href = l["href"].as_str().unwrap_or("");
        let kind = l["type"].as_str().unwrap_or("");
        let rel = l["rel"].as_str().unwrap_or("");
        let title = l["title"].as_str().unwrap_or(rel);
        h.push_str(&format!(
            "<li><a rel=\"{}\" href=\"{}\">{}</a> <span class=\"muted\">({} · {})</span> · <a href=\"{}\">as {}</a></li>",
            esc(rel),
            esc(&html_href(href, kind)),
            esc(title),
            esc(rel),
            esc(kind),
            esc(href),
            esc(if kind.is_empty() { "is" } else { kind }),
        ));
    }
    h.push_str("</ul>");
    h
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "<span class=\"muted\">no value</span>".into(),
        Value::String(s) => esc(s),
        Value::Number(n) => esc(&n.to_string()),
        Value::Bool(b) => b.to_string(),
        other => format!("<code>{}</code>", esc(&other.to_string())),
    }
}

/// A small map of the features on a page: placemap's own static figure of those districts.
fn map_of(state: &crate::state::SharedState, layer_id: &str, codes: &[&str]) -> String {
    let Ok(layer) = state.layer(layer_id) else {
        return String::new();
    };
    let Some(ind) = layer
        .meta
        .default_indicator
        .as_deref()
        .or_else(|| layer.indicators.first().map(|i| i.meta.id.as_str()))
    else {
        return String::new();
    };
    if codes.is_empty() || codes.len() > 500 {
        return String::new();
    }
    format!(
        "<p><img class=\"map\" width=\"640\" height=\"420\" alt=\"Map of the districts on this page\" src=\"/static/{}/{}.png?districts={}&amp;width=640&amp;height=420&amp;inset=false\"></p>",
        esc(layer_id),
        esc(ind),
        esc(&codes.join(","))
    )
}

fn render(path: &str, doc: &Value, state: &crate::state::SharedState) -> String {
    let layer_id = path
        .strip_prefix("/ogc/collections/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let title = doc["title"]
        .as_str()
        .or(doc["id"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| match path {
            "/ogc/conformance" => "Conformance".into(),
            "/ogc/collections" => "Collections".into(),
            p if p.ends_with("/items") => format!("Features of {layer_id}"),
            p if p.contains("/items/") => format!("Feature {}", doc["id"].as_str().unwrap_or("")),
            _ => "placemap OGC API".into(),
        });
    let mut body = String::new();
    if let Some(d) = doc["description"].as_str() {
        body.push_str(&format!("<p>{}</p>", esc(d)));
    }
    if let Some(classes) = doc["conformsTo"].as_array() {
        body.push_str("<ul>");
        for c in classes {
            body.push_str(&format!("<li><code>{}</code></li>", cell(c)));
        }
        body.push_str("</ul>");
    }
    if let Some(cols) = doc["collections"].as_array() {
        body.push_str("<table><thead><tr><th>Collection</th><th>Title</th><th>Features</th></tr></thead><tbody>");
        for c in cols {
            let id = c["id"].as_str().unwrap_or("");
            body.push_str(&format!(
                "<tr><td><a href=\"/ogc/collections/{0}?f=html\">{0}</a></td><td>{1}</td><td><a href=\"/ogc/collections/{0}/items?f=html\">browse</a></td></tr>",
                esc(id),
                cell(&c["title"])
            ));
        }
        body.push_str("</tbody></table>");
    }
    if doc["type"] == "FeatureCollection" {
        let features = doc["features"].as_array().cloned().unwrap_or_default();
        if let (Some(m), Some(r)) = (
            doc["numberMatched"].as_u64(),
            doc["numberReturned"].as_u64(),
        ) {
            body.push_str(&format!("<p>{r} of {m} features.</p>"));
        }
        let codes: Vec<&str> = features.iter().filter_map(|f| f["id"].as_str()).collect();
        body.push_str(&map_of(state, layer_id, &codes));
        let mut columns: Vec<String> = Vec::new();
        for f in &features {
            if let Some(p) = f["properties"].as_object() {
                for k in p.keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
            }
        }
        body.push_str("<div class=\"wide\"><table><thead><tr><th>id</th>");
        for c in &columns {
            body.push_str(&format!("<th>{}</th>", esc(c)));
        }
        body.push_str("</tr></thead><tbody>");
        for f in &features {
            let id = f["id"].as_str().unwrap_or("");
            body.push_str(&format!(
                "<tr><td><a href=\"/ogc/collections/{}/items/{}?f=html\">{}</a></td>",
                esc(layer_id),
                esc(id),
                esc(id)
            ));
            for c in &columns {
                body.push_str(&format!("<td>{}</td>", cell(&f["properties"][c])));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table></div>");
    } else if doc["type"] == "Feature" {
        if let Some(id) = doc["id"].as_str() {
            body.push_str(&map_of(state, layer_id, &[id]));
        }
        body.push_str("<table><tbody>");
        if let Some(p) = doc["properties"].as_object() {
            for (k, v) in p {
                body.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), cell(v)));
            }
        }
        body.push_str("</tbody></table>");
    } else if let Some(props) = doc["properties"].as_object() {
        // Queryables (a JSON Schema).
        body.push_str(
            "<table><thead><tr><th>Queryable</th><th>Type</th><th>Title</th></tr></thead><tbody>",
        );
        for (k, v) in props {
            body.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(k),
                cell(&v["type"]),
                cell(&v["title"])
            ));
        }
        body.push_str("</tbody></table>");
    }
    if let Some(crs) = doc["crs"].as_array() {
        body.push_str("<h2>Coordinate reference systems</h2><ul>");
        for c in crs {
            body.push_str(&format!("<li><code>{}</code></li>", cell(c)));
        }
        body.push_str("</ul>");
    }
    body.push_str(&links_html(doc));
    format!(
        concat!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>{title} - placemap OGC API</title><style>",
            "body{{font:15px/1.45 system-ui,sans-serif;margin:1rem auto;max-width:72rem;padding:0 1.5rem;color:#1a1a1a}}",
            "table{{border-collapse:collapse;font-size:13px}}th,td{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}}",
            ".wide{{overflow-x:auto}}.muted{{color:#555}}a{{color:#0b57d0}}img.map{{max-width:100%;height:auto;border:1px solid #ddd}}",
            "</style></head><body><p class=\"muted\"><a href=\"/\">placemap</a> · <a href=\"/ogc?f=html\">OGC API</a> · ",
            "<a href=\"/ogc/collections?f=html\">collections</a></p><h1>{title}</h1>{body}</body></html>\n"
        ),
        title = esc(&title),
        body = body
    )
}
