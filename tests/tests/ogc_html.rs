//! The OGC API as HTML for people (issue 13): `f=html` or a browser's `Accept`, on real data.

use axum::body::Body;
use axum::http::Request;
use placemap_e2e::{get, send, state};

async fn browse(uri: &str) -> placemap_e2e::Reply {
    let req = Request::builder()
        .uri(uri)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .body(Body::empty())
        .expect("request");
    send(req).await
}

fn is_html(r: &placemap_e2e::Reply) -> bool {
    r.header("content-type").as_deref() == Some("text/html; charset=utf-8")
}

#[tokio::test]
async fn every_ogc_document_has_an_html_face() {
    let landing = get("/ogc?f=html").await;
    assert_eq!(landing.status, 200);
    assert!(is_html(&landing));
    assert!(
        landing.text().contains("/ogc/collections?f=html"),
        "{}",
        landing.text()
    );

    let cols = browse("/ogc/collections").await;
    assert!(is_html(&cols), "a browser gets HTML without f=");
    let html = cols.text();
    for layer in &state().maps.atlas.layers {
        assert!(
            html.contains(&format!("/ogc/collections/{}/items?f=html", layer.meta.id)),
            "{} missing",
            layer.meta.id
        );
    }
    let conf = get("/ogc/conformance").await.json();
    assert!(
        conf["conformsTo"]
            .as_array()
            .expect("classes")
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.ends_with("/conf/html")))
    );

    // A page of features: a table of exactly those features, a small map of them, paging.
    let page = get("/ogc/collections/lad19/items?f=html&limit=5&offset=10").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    let json = get("/ogc/collections/lad19/items?limit=5&offset=10")
        .await
        .json();
    let ids: Vec<&str> = json["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 5);
    for id in &ids {
        assert!(html.contains(&format!("/items/{id}?f=html")), "{id}");
    }
    assert!(
        html.contains(&format!("districts={}", ids.join(","))),
        "map of the page"
    );
    let src = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("map image")
        .replace("&amp;", "&");
    let img = get(&src).await;
    assert_eq!(img.status, 200, "{src}");
    assert_eq!(img.header("content-type").as_deref(), Some("image/png"));
    assert!(
        html.contains("offset=15") && html.contains("f=html"),
        "next page link"
    );

    // One feature.
    let one = get("/ogc/collections/lad19/items/E06000001?f=html").await;
    assert_eq!(one.status, 200);
    assert!(one.text().contains("Hartlepool"));

    // JSON clients are untouched: without f= and without a browser's Accept, JSON.
    let json = get("/ogc/collections").await;
    assert!(
        json.header("content-type")
            .is_some_and(|c| c.contains("json"))
    );
    // A bad filter from a browser: an HTML error page naming the problem.
    let bad = browse("/ogc/collections/lad19/items?f=html&filter=imd_score%20%3E%3E%201").await;
    assert_eq!(bad.status, 400);
    assert!(is_html(&bad), "{}", bad.text());
}
