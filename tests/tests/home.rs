//! The front door (`GET /`) and the error pages browsers get, on the real data.

use axum::body::Body;
use axum::http::Request;
use placemap_e2e::{get, send, state};

async fn browse(uri: &str) -> placemap_e2e::Reply {
    let req = Request::builder()
        .uri(uri)
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .body(Body::empty())
        .expect("request");
    send(req).await
}

#[tokio::test]
async fn home_page_lists_every_layer_and_indicator_with_links_that_open() {
    let r = browse("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let html = r.text();
    let st = state();
    for layer in &st.maps.atlas.layers {
        let id = &layer.meta.id;
        assert!(
            html.contains(&format!("id=\"layer-{id}\"")),
            "layer {id} missing"
        );
        assert!(html.contains(&format!("href=\"/layers/{id}.geojson\"")));
        assert!(html.contains(&format!("href=\"/layers/{id}.gpkg\"")));
        assert!(html.contains(&format!("href=\"/ogc/collections/{id}\"")));
        for ind in &layer.indicators {
            let href = format!("href=\"/map/{id}/{}\"", ind.meta.id);
            assert!(html.contains(&href), "{href} missing");
        }
    }
    assert!(html.contains("href=\"/ogc\""));
    // The links work: lad19's thumbnail tiles, map page.
    let thumbs: Vec<String> = html
        .split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| s.starts_with("/tiles/lad19/"))
        .map(str::to_string)
        .collect();
    assert_eq!(thumbs.len(), 4, "{thumbs:?}");
    for thumb in &thumbs {
        let t = get(thumb).await;
        assert_eq!(t.status, 200, "{thumb}: {}", t.text());
        assert_eq!(t.header("content-type").as_deref(), Some("image/png"));
    }
    let m = browse("/map/lad19/imd_score").await;
    assert_eq!(m.status, 200);
    assert!(m.text().contains("placemap-config"));
}

#[tokio::test]
async fn programs_get_the_index_as_json_with_every_route() {
    let r = get("/").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    let layers = j["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), state().maps.atlas.layers.len());
    let lad19 = layers.iter().find(|l| l["id"] == "lad19").expect("lad19");
    let first = &lad19["indicators"][0];
    let map = first["map"].as_str().expect("map link");
    assert_eq!(get(map).await.status, 200, "{map}");
    let legend = first["legend"].as_str().expect("legend link");
    assert_eq!(get(legend).await.status, 200, "{legend}");
    let paths: Vec<&str> = j["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    for p in ["/ogc", "/metrics", "/datasets/new"] {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
}

#[tokio::test]
async fn unknown_paths_name_every_route_in_the_hint() {
    let r = get("/no/such/thing").await;
    assert_eq!(r.status, 404);
    let hint = r.json()["hint"].as_str().expect("hint").to_string();
    for must in [
        "/ogc/collections/{layer}/items",
        "{geojson,csv,gpkg,fgb,shp.zip}",
        "{z}/{x}/{y}.mvt",
        "/map/{layer}/{indicator}",
        "/stats/{layer}/{indicator}/clusters",
        "/datasets/{id}",
    ] {
        assert!(hint.contains(must), "{must} not in {hint}");
    }
}

#[tokio::test]
async fn browsers_get_an_html_error_page_and_programs_json() {
    // A mistyped map address from the address bar: a page, with the valid ids as the hint.
    let r = browse("/map/lad19/imd_scroe").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let html = r.text();
    assert!(html.contains("<h1>404 Not Found</h1>"), "{html}");
    assert!(html.contains("imd_scroe"), "{html}");
    assert!(
        html.contains("imd_score"),
        "the hint lists the valid ids: {html}"
    );
    assert!(html.contains("href=\"/\""));
    // Input quoted in the page is escaped.
    let r = browse("/static/lad19/%3Cscript%3E.png").await;
    assert!(r.status.is_client_error());
    let html = r.text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    // An error axum answers itself in plain text (a path segment that is not UTF-8) is made
    // JSON, then a page for the browser, like the errors of the handlers.
    let r = browse("/map/lad19/%FF").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let html = r.text();
    assert!(html.contains("<h1>400 Bad Request</h1>"), "{html}");
    assert!(html.contains("UTF-8"), "{html}");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    // The same address from a program: JSON.
    let r = get("/map/lad19/imd_scroe").await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    // An image request (an <img> tag's Accept) keeps JSON too.
    let req = Request::builder()
        .uri("/tiles/lad19/imd_scroe/5/15/10.png")
        .header("accept", "image/avif,image/webp,image/png,*/*;q=0.8")
        .body(Body::empty())
        .expect("request");
    let r = send(req).await;
    assert_eq!(r.status, 404);
    assert!(r.json()["hint"].is_string());
}
