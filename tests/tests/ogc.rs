//! OGC API - Features on the real layers: landing page, conformance, collections, paging with
//! next links until every district has been seen once, bbox (exact intersection), one feature,
//! and bad input answered 4xx with a hint.

use std::collections::HashSet;

use placemap_e2e::{expect_client_error, get, state};
use serde_json::Value;

fn href(links: &Value, rel: &str) -> Option<String> {
    links
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
        .map(str::to_string)
}

/// The path and query of an absolute link, to send through the router.
fn local(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("absolute http link");
    rest[rest.find('/').expect("path")..].to_string()
}

#[tokio::test]
async fn landing_conformance_and_collections() {
    let r = get("/ogc").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    for rel in ["self", "service-desc", "conformance", "data"] {
        let h = href(&j["links"], rel).unwrap_or_else(|| panic!("no {rel} link: {j}"));
        assert_eq!(get(&local(&h)).await.status, 200, "{rel} {h}");
    }
    let c = get("/ogc/conformance").await.json();
    let classes: Vec<&str> = c["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));

    let cols = get("/ogc/collections").await.json();
    let ids: Vec<&str> = cols["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, state().maps.atlas.layer_ids());
    let lad19 = get("/ogc/collections/lad19").await.json();
    let bbox = &lad19["extent"]["spatial"]["bbox"][0];
    let w = bbox[0].as_f64().expect("west");
    let n = bbox[3].as_f64().expect("north");
    assert!(w < -7.0 && n > 60.0, "UK extent {bbox}");
    assert!(href(&lad19["links"], "items").is_some());

    let api = get("/ogc/api").await;
    assert_eq!(api.status, 200);
    assert!(
        api.json()["paths"]["/collections/{collectionId}/items"].is_object(),
        "{}",
        api.text()
    );
}

#[tokio::test]
async fn paging_through_next_links_returns_every_district_once() {
    let mut url = "/ogc/collections/lad19/items?limit=100&indicators=imd_score".to_string();
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let r = get(&url).await;
        assert_eq!(r.status, 200, "{url}: {}", r.text());
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/geo+json")
        );
        let j = r.json();
        assert_eq!(j["type"], "FeatureCollection");
        assert_eq!(j["numberMatched"], 382);
        let features = j["features"].as_array().expect("features");
        assert_eq!(j["numberReturned"], features.len());
        for f in features {
            let id = f["id"].as_str().expect("id").to_string();
            assert_eq!(f["properties"]["code"], id.as_str());
            assert!(f["properties"].get("imd_score").is_some());
            let props = f["properties"].as_object().expect("properties");
            assert!(!props.keys().any(|k| k.starts_with("median_weekly_pay")));
            assert!(seen.insert(id), "a district came twice");
        }
        pages += 1;
        match href(&j["links"], "next") {
            Some(next) => {
                assert!(next.contains("indicators=imd_score"), "{next}");
                url = local(&next);
            }
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (382, 4));
}

#[tokio::test]
async fn bbox_selects_what_intersects_and_items_answer_by_code() {
    // A small box in Hartlepool: only Hartlepool intersects it, though the envelopes of
    // Stockton and County Durham reach over it.
    let j = get("/ogc/collections/lad19/items?bbox=-1.27,54.63,-1.26,54.64")
        .await
        .json();
    let ids: Vec<&str> = j["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, ["E06000001"]);
    assert_eq!(j["numberMatched"], 1);
    let st = state();
    let envelopes = st
        .maps
        .atlas
        .layer("lad19")
        .expect("lad19")
        .index
        .candidates_in_bbox(-1.27, 54.63, -1.26, 54.64);
    assert!(envelopes.len() > 1, "the box must test more than envelopes");
    assert!(href(&j["links"], "next").is_none());

    let r = get("/ogc/collections/lad19/items/E06000001?indicators=imd_score,imd_score_lisa").await;
    assert_eq!(r.status, 200);
    let f = r.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["properties"]["name"], "Hartlepool");
    assert!(f["properties"]["imd_score"].as_f64().is_some());
    assert!(f["properties"]["imd_score_lisa"].is_string());
    assert_eq!(f["geometry"]["type"], "MultiPolygon");
    assert!(href(&f["links"], "collection").is_some());

    // Beyond the last page: an empty page, still 200.
    let j = get("/ogc/collections/lsoa11/items?limit=5&offset=40000")
        .await
        .json();
    assert_eq!(j["numberMatched"], 32_844);
    assert_eq!(j["numberReturned"], 0);
    // datetime is accepted (districts have no temporal geometry) and does not filter.
    let j = get("/ogc/collections/lad19/items?limit=1&datetime=2019-09-26T00:00:00Z")
        .await
        .json();
    assert_eq!(j["numberMatched"], 382);
}

#[tokio::test]
async fn bad_ogc_requests_are_4xx_with_hints() {
    for (uri, status) in [
        ("/ogc/collections/lad99", 404),
        ("/ogc/collections/lad99/items", 404),
        ("/ogc/collections/lad19/items/E99999999", 404),
        ("/ogc/collections/lad19/items?limit=0", 400),
        ("/ogc/collections/lad19/items?limit=10001", 400),
        ("/ogc/collections/lad19/items?limit=ten", 400),
        ("/ogc/collections/lad19/items?offset=-1", 400),
        ("/ogc/collections/lad19/items?bbox=1,2,3", 400),
        ("/ogc/collections/lad19/items?bbox=-1,50,1,52,0,100", 400),
        ("/ogc/collections/lad19/items?datetime=yesterday", 400),
        ("/ogc/collections/lad19/items?f=xml", 400),
        ("/ogc/collections/lad19/items?filter=x", 400),
        ("/ogc/collections/lad19/items?indicators=nope", 404),
        ("/ogc/conformance?f=xml", 400),
    ] {
        expect_client_error(uri, status).await;
    }
}

#[tokio::test]
async fn every_period_as_a_wide_table() {
    // GIS users get a time series as one column per period.
    let st = state();
    let layer = st.maps.atlas.layer("lad21").expect("lad21");
    let ind = layer.indicator("median_weekly_pay").expect("pay");
    assert!(ind.periods.len() > 10, "a time series");
    let i = layer.position("E06000001").expect("Hartlepool");
    let f = get("/ogc/collections/lad21/items/E06000001?indicators=median_weekly_pay&periods=all")
        .await
        .json();
    let props = f["properties"].as_object().expect("properties");
    for p in &ind.periods {
        let key = format!("median_weekly_pay_{}", p.label.replace(['/', '-'], "_"));
        let want = match &p.values {
            districts::layer::PeriodValues::Numeric(v) => v[i],
            districts::layer::PeriodValues::Categorical(_) => panic!("numeric"),
        };
        assert_eq!(props.get(&key).and_then(Value::as_f64), want, "{key}");
    }
    assert!(
        props.get("median_weekly_pay").is_none(),
        "periods=all names every column with its period"
    );
    // The same in the plain GeoJSON export.
    let g = get("/layers/lad21.geojson?indicators=median_weekly_pay&periods=all&bbox=-1.23,54.66,-1.21,54.68")
        .await
        .json();
    let hp = g["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["id"] == "E06000001")
        .expect("Hartlepool");
    assert_eq!(hp["properties"], f["properties"]);
    expect_client_error("/ogc/collections/lad21/items?periods=some", 404).await;
    expect_client_error("/layers/lad21.geojson?periods=latest", 404).await;
}
