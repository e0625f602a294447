//! The tile server on the real data, driven through the router with `oneshot`.

use axum::body::Body;
use axum::http::Request;
use geo::InteriorPoint;
use placemap_e2e::{expect_client_error, get, send, state};

/// Pixel of a lon/lat point inside tile z/x/y at `px` pixels per tile.
fn pixel_of(lon: f64, lat: f64, z: u8, px: u32) -> (u32, u32, tile_math::TileId) {
    let t = tile_math::tile_for_lonlat(lon, lat, z);
    let b = t.mercator_bounds();
    let (x, y) = tile_math::lonlat_to_mercator(lon, lat);
    let fx = (x - b.min_x) / b.width() * f64::from(px);
    let fy = (b.max_y - y) / b.height() * f64::from(px);
    (fx as u32, fy as u32, t)
}

#[tokio::test]
async fn health_and_layers() {
    let r = get("/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    let r = get("/layers").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    let layers = j["layers"].as_array().expect("layers array");
    let ids: Vec<&str> = layers.iter().filter_map(|l| l["id"].as_str()).collect();
    for id in ["lad19", "lad19_bgc", "lad21", "lsoa11", "msoa11"] {
        assert!(ids.contains(&id), "missing layer {id} in {ids:?}");
    }
    let lad19 = layers.iter().find(|l| l["id"] == "lad19").expect("lad19");
    assert_eq!(lad19["district_count"], 382);
    let imd = lad19["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["id"] == "imd_score")
        .expect("imd_score");
    assert_eq!(imd["join"]["matched"], 317);
    assert!(
        imd["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("Open Government Licence"))
    );
}

#[tokio::test]
async fn hartlepool_pixel_has_its_class_colour() {
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let i = layer.position("E06000001").expect("Hartlepool");
    let p = layer.districts[i]
        .wgs84
        .0
        .interior_point()
        .expect("interior point");
    let (px, py, t) = pixel_of(p.x(), p.y(), 10, 256);
    let r = get(&format!(
        "/tiles/lad19/imd_score/{}/{}/{}.png",
        t.z, t.x, t.y
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    let img = image::load_from_memory(&r.body)
        .expect("PNG decodes")
        .to_rgba8();
    assert_eq!(img.dimensions(), (256, 256));
    // The expected colour: Hartlepool's class under the default style.
    let ind = layer.indicator("imd_score").expect("imd_score");
    let style = maps::style::resolve(layer, ind, &Default::default()).expect("style");
    let cls = style
        .classification
        .as_ref()
        .expect("numeric")
        .class_of_opt(style.values[i])
        .expect("Hartlepool has a value");
    let c = style.colors[cls];
    let got = img.get_pixel(px, py).0;
    assert_eq!(got, [c.0, c.1, c.2, 255], "pixel ({px},{py}) of tile {t}");
    // Hartlepool (IMD score ~35) is among the most deprived: the darkest class by default.
    assert_eq!(cls, style.colors.len() - 1);
}

#[tokio::test]
async fn retina_tiles_are_512px_and_etags_give_304() {
    let r = get("/tiles/lad19/imd_score/6/31/20@2x.png").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let img = image::load_from_memory(&r.body).expect("PNG decodes");
    assert_eq!((img.width(), img.height()), (512, 512));
    let etag = r.header("etag").expect("ETag");
    assert!(r.header("cache-control").is_some());
    let req = Request::builder()
        .uri("/tiles/lad19/imd_score/6/31/20@2x.png")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .expect("request");
    let r2 = send(req).await;
    assert_eq!(r2.status, 304);
    // A different style is a different ETag.
    let r3 = get("/tiles/lad19/imd_score/6/31/20@2x.png?scheme=jenks").await;
    assert_eq!(r3.status, 200);
    assert_ne!(r3.header("etag").expect("ETag"), etag);
}

#[tokio::test]
async fn sea_tiles_are_transparent() {
    // Mid-Atlantic at z7.
    let r = get("/tiles/lad19/imd_score/7/40/40.png").await;
    assert_eq!(r.status, 200);
    let img = image::load_from_memory(&r.body).expect("PNG").to_rgba8();
    assert!(img.pixels().all(|p| p.0[3] == 0));
}

#[tokio::test]
async fn bad_tile_requests_are_4xx_with_hints() {
    expect_client_error("/tiles/lad19/imd_score/3/8/0.png", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/0/8.png", 400).await;
    expect_client_error("/tiles/lad19/imd_score/30/0/0.png", 400).await;
    expect_client_error("/tiles/lad19/imd_score/a/0/0.png", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/0/x.png", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/0/0.jpg", 400).await;
    let j = expect_client_error("/tiles/nope/imd_score/3/0/0.png", 404).await;
    assert!(j["hint"].as_str().is_some_and(|h| h.contains("lad19")));
    let j = expect_client_error("/tiles/lad19/nope/3/0/0.png", 404).await;
    assert!(j["hint"].as_str().is_some_and(|h| h.contains("imd_score")));
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?scheme=wobbly", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?k=12", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?k=1", 400).await;
    expect_client_error(
        "/tiles/lad19/imd_score/3/3/2.png?scheme=manual&breaks=30,20",
        400,
    )
    .await;
    expect_client_error(
        "/tiles/lad19/imd_score/3/3/2.png?scheme=manual&breaks=a,b",
        400,
    )
    .await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?scheme=manual", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?palette=rainbow", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?wibble=1", 400).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?highlight=E99999999", 404).await;
    expect_client_error("/tiles/lad19/imd_score/3/3/2.png?year=1066", 404).await;
    expect_client_error("/tiles/lad19/median_weekly_pay/3/3/2.png?change=2010", 400).await;
    // Still serving after all that.
    assert_eq!(get("/tiles/lad19/imd_score/3/3/2.png").await.status, 200);
}

#[tokio::test]
async fn styles_years_and_changes_render() {
    for q in [
        "scheme=quantile&k=7",
        "scheme=equal&palette=Blues&reverse=true",
        "scheme=jenks&k=4",
        "scheme=stddev&k=4",
        "scheme=manual&breaks=10,20,30,40",
        "palette=viridis&highlight=E06000001,E08000021",
    ] {
        let r = get(&format!("/tiles/lad19/imd_score/6/31/20.png?{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text());
    }
    let r = get("/tiles/lad21/median_weekly_pay/6/31/20.png?year=2010").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = get("/tiles/lad21/median_weekly_pay.json?change=2010..2020&change_kind=pct").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["tilejson"], "3.0.0");
    assert!(
        j["placemap"]["period"]
            .as_str()
            .is_some_and(|p| p.contains("2010") && p.contains("2020")),
        "{j}"
    );
    assert!(
        j["tiles"][0]
            .as_str()
            .is_some_and(|t| t.contains("change=2010..2020"))
    );
}

#[tokio::test]
async fn tilejson_has_bounds_zooms_and_attribution() {
    let r = get("/tiles/lad19/imd_score.json").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["tilejson"], "3.0.0");
    assert_eq!(j["minzoom"], 0);
    assert!(j["maxzoom"].as_u64().is_some_and(|z| z >= 16));
    let b: Vec<f64> = j["bounds"]
        .as_array()
        .expect("bounds")
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    assert!(
        b[0] < -8.0 && b[2] > 1.5 && b[1] < 50.0 && b[3] > 60.0,
        "{b:?}"
    );
    assert!(
        j["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("Crown copyright"))
    );
}

#[tokio::test]
async fn geojson_layer_with_bbox_precision_and_zoom() {
    let r = get(
        "/layers/lad19.geojson?bbox=-1.4,54.5,-1.0,54.8&indicators=imd_score&precision=4&zoom=8",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    let j = r.json();
    assert_eq!(j["type"], "FeatureCollection");
    let feats = j["features"].as_array().expect("features");
    let codes: Vec<&str> = feats
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .collect();
    assert!(codes.contains(&"E06000001"), "{codes:?}");
    assert!(feats.len() < 20);
    let h = feats
        .iter()
        .find(|f| f["properties"]["code"] == "E06000001")
        .expect("Hartlepool");
    assert!(h["properties"]["imd_score"].as_f64().is_some());
    let props = h["properties"].as_object().expect("properties");
    assert!(!props.keys().any(|k| k.starts_with("median_weekly_pay")));
    let c = h["geometry"]["coordinates"][0][0][0][0]
        .as_f64()
        .expect("coordinate");
    assert!(
        (c * 1e4 - (c * 1e4).round()).abs() < 1e-6,
        "precision 4: {c}"
    );
    // Every ring closed, as RFC 7946 requires.
    for f in feats {
        for poly in f["geometry"]["coordinates"].as_array().expect("polygons") {
            for ring in poly.as_array().expect("rings") {
                let r = ring.as_array().expect("ring");
                assert!(r.len() >= 4);
                assert_eq!(r.first(), r.last());
            }
        }
    }
    expect_client_error("/layers/lad19.geojson?bbox=1,2,3", 400).await;
    expect_client_error("/layers/lad19.geojson?bbox=2,55,1,54", 400).await;
    expect_client_error("/layers/lad19.geojson?bbox=-1,54,1,95", 400).await;
    expect_client_error("/layers/lad19.geojson?precision=99", 400).await;
    expect_client_error("/layers/lad19.geojson?indicators=nope", 404).await;
    expect_client_error("/layers/nope.geojson", 404).await;
}

#[tokio::test]
async fn one_district_and_lookups() {
    let r = get("/layers/lad19/districts/e06000001").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["properties"]["name"], "Hartlepool");
    assert!(
        j["properties"]["indicators"]["imd_score"]["value"]
            .as_f64()
            .is_some()
    );
    expect_client_error("/layers/lad19/districts/E99999999", 404).await;

    let r = get("/lookup?lon=-1.2129&lat=54.6863&layer=lad19").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["results"][0]["code"], "E06000001", "{j}");
    assert!(
        j["results"][0]["values"]["imd_score"]["rank"]
            .as_u64()
            .is_some()
    );
    let r = get("/lookup?lon=-1.2129&lat=54.6863").await;
    let layers: Vec<&str> = r.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|x| x["layer"].as_str())
        .map(|s| s.to_string().leak() as &str)
        .collect();
    assert!(
        layers.contains(&"lsoa11") && layers.contains(&"lad21"),
        "{layers:?}"
    );
    let r = get("/lookup?lon=-3.0&lat=53.9&layer=lad19").await;
    assert_eq!(
        r.json()["results"].as_array().map(std::vec::Vec::len),
        Some(0)
    );
    expect_client_error("/lookup?lon=-1.2", 400).await;
    expect_client_error("/lookup?lon=abc&lat=54", 400).await;
    expect_client_error("/lookup?lon=500&lat=54", 400).await;
    expect_client_error("/lookup?lon=-1&lat=54&layer=nope", 404).await;
}

async fn post(uri: &str, ctype: &str, body: Vec<u8>) -> placemap_e2e::Reply {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", ctype)
        .body(Body::from(body))
        .expect("request");
    send(req).await
}

#[tokio::test]
async fn post_lookup_csv_and_geojson() {
    let csv = "name,lon,lat\nHartlepool,-1.2129,54.6863\nsea,-3.0,53.9\nLeeds,-1.5491,53.8008\n";
    let r = post("/lookup?layer=lad19", "text/csv", csv.into()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["count"], 3);
    assert_eq!(j["points"][0]["districts"]["lad19"]["code"], "E06000001");
    assert!(j["points"][1]["districts"]["lad19"].is_null());
    assert_eq!(j["points"][2]["districts"]["lad19"]["code"], "E08000035");
    let r = post("/lookup?layer=lad19&format=csv", "text/csv", csv.into()).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text()
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("E06000001,Hartlepool")),
        "{}",
        r.text()
    );
    let gj = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[-1.5491,53.8008]}}]}"#;
    let r = post("/lookup?layer=lad19", "application/geo+json", gj.into()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["points"][0]["districts"]["lad19"]["code"],
        "E08000035"
    );

    // Bad bodies.
    for (ctype, body, status) in [
        ("text/csv", "a,b\n1,2\n".to_string(), 400),
        ("text/csv", "lon,lat\n-1.2,abc\n".to_string(), 400),
        ("text/csv", "".to_string(), 400),
        ("application/json", "{\"type\":\"FeatureCollection\",\"features\":[".to_string(), 400),
        ("application/json", r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#.to_string(), 400),
    ] {
        let r = post("/lookup", ctype, body.clone().into_bytes()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text());
        assert!(r.json()["hint"].is_string());
    }
    // More points than the limit (5,000 in the test configuration): 413.
    let mut many = String::from("lon,lat\n");
    for i in 0..5_001 {
        many.push_str(&format!("-1.{},54.5\n", i % 1000));
    }
    let r = post("/lookup?layer=lad19", "text/csv", many.into_bytes()).await;
    assert_eq!(r.status, 413, "{}", r.text());
    // A body over the byte limit (1 MiB in the test configuration): 413 too.
    let r = post(
        "/lookup?layer=lad19",
        "text/csv",
        vec![b'1'; 2 * 1024 * 1024],
    )
    .await;
    assert_eq!(r.status, 413);
    // Answered by the body limit layer, and still the JSON every client error has.
    let j = r.json();
    assert!(
        j["error"].as_str().is_some_and(|e| e.contains("limit")) && j["hint"].is_string(),
        "{j}"
    );
}

#[tokio::test]
async fn metrics_count_requests_and_cache() {
    get("/tiles/lad19/imd_score/5/15/10.png").await;
    get("/tiles/lad19/imd_score/5/15/10.png").await;
    let r = get("/metrics").await;
    assert_eq!(r.status, 200);
    let t = r.text();
    assert!(t.contains("placemap_http_requests_total"), "{t}");
    assert!(t.contains("placemap_tile_cache_hits_total"), "{t}");
    assert!(t.contains("placemap_tile_render_seconds"), "{t}");
}

#[tokio::test]
async fn map_page_and_assets() {
    let r = get("/map/lad19/imd_score").await;
    assert_eq!(r.status, 200);
    let html = r.text();
    // The config the server fills in: layer, indicator, and the id links pin (a catalogue
    // indicator has no versions, so its own id).
    let config = html
        .split(r#"<script id="placemap-config" type="application/json">"#)
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("config element");
    let config: serde_json::Value = serde_json::from_str(config).expect("config JSON");
    assert_eq!(config["layer"], "lad19");
    assert_eq!(config["indicator"], "imd_score");
    assert_eq!(config["pinned"], "imd_score");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not reference other hosts"
    );
    assert!(r.header("x-frame-options").is_none());
    assert_eq!(get("/map/assets/vendor/leaflet.js").await.status, 200);
    expect_client_error("/map/nope/imd_score", 404).await;
    expect_client_error("/map/assets/nope.js", 404).await;
}

#[tokio::test]
async fn legends_in_three_formats() {
    let r = get("/legend/lad19/imd_score.json").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let entries = j["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 5);
    let total: u64 = entries
        .iter()
        .filter_map(|e| e["count"].as_u64())
        .sum::<u64>()
        + j["no_data"]["count"].as_u64().expect("no data count");
    assert_eq!(total, 382, "every district is in a class or no data");
    assert_eq!(
        j["no_data"]["count"], 65,
        "Wales, Scotland and NI have no IMD 2019 score"
    );
    assert!(
        j["credit"]
            .as_str()
            .is_some_and(|c| c.contains("Deprivation")),
        "{j}"
    );
    assert!(
        entries[0]["color"]
            .as_str()
            .is_some_and(|c| c.starts_with('#'))
    );
    let r = get("/legend/lad19/imd_score.svg?k=7&scheme=jenks").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(r.text().contains("<text") && r.text().contains("No data"));
    let r = get("/legend/lad19/imd_score.png").await;
    assert_eq!(r.status, 200);
    assert!(image::load_from_memory(&r.body).is_ok());
    let r = get("/legend/lad19/area_class_supergroup.json").await;
    if r.status == 200 {
        assert!(
            r.json()["entries"].as_array().is_some_and(|e| e.len() >= 7),
            "{}",
            r.text()
        );
    }
    expect_client_error("/legend/lad19/imd_score.gif", 404).await;
    expect_client_error("/legend/lad19/imd_score.png?scale=100", 400).await;
    expect_client_error("/legend/lad19/imd_score.json?k=99", 400).await;
}

#[tokio::test]
async fn bivariate_tiles_legend_and_static_map() {
    let q = "bivariate=median_weekly_pay";
    let r = get(&format!("/legend/lad19/imd_score.json?{q}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let entries = j["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 9, "3 x 3 classes");
    let counted: u64 = entries.iter().filter_map(|e| e["count"].as_u64()).sum();
    // English districts with both an IMD score and 2021 pay on LAD 2019 codes.
    assert!((290..=317).contains(&counted), "{counted}");
    assert_eq!(entries[0]["color"], "#e8e8e8");
    assert_eq!(entries[8]["color"], "#574249");
    // Hartlepool: high deprivation, low pay -> the high/low cell.
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let i = layer.position("E06000001").expect("Hartlepool");
    let ind = layer.indicator("imd_score").expect("imd");
    let query = maps::StyleOptions {
        bivariate: Some("median_weekly_pay".into()),
        ..Default::default()
    };
    let style = maps::style::resolve(layer, ind, &query).expect("style");
    // Expected cell: terciles of each indicator over districts that have both values.
    let values = |id: &str| -> Vec<Option<f64>> {
        let ind = layer.indicator(id).expect("indicator");
        match &ind.period(&ind.default_period).expect("period").values {
            districts::layer::PeriodValues::Numeric(v) => v.clone(),
            districts::layer::PeriodValues::Categorical(_) => panic!("numeric"),
        }
    };
    let (a, b) = (values("imd_score"), values("median_weekly_pay"));
    let both = |v: &[Option<f64>]| -> Vec<Option<f64>> {
        v.iter()
            .zip(a.iter().zip(&b))
            .map(|(x, (p, q))| if p.is_some() && q.is_some() { *x } else { None })
            .collect()
    };
    let ta = choropleth::classify::classify(&both(&a), &choropleth::classify::Scheme::Quantile, 3)
        .expect("terciles");
    let tb = choropleth::classify::classify(&both(&b), &choropleth::classify::Scheme::Quantile, 3)
        .expect("terciles");
    let (ci, cj) = (
        ta.class_of_opt(a[i]).expect("imd"),
        tb.class_of_opt(b[i]).expect("pay"),
    );
    assert_eq!(ci, 2, "Hartlepool is in the most deprived third");
    let grid = choropleth::palette::bivariate_3x3();
    let high_low = grid[ci][cj];
    assert_eq!(
        style.fills[i],
        choropleth::render::Fill::Solid(choropleth::render::Rgba(
            high_low.r, high_low.g, high_low.b, 255
        ))
    );
    let p = layer.districts[i]
        .wgs84
        .0
        .interior_point()
        .expect("interior point");
    let (px, py, t) = pixel_of(p.x(), p.y(), 9, 256);
    let r = get(&format!(
        "/tiles/lad19/imd_score/{}/{}/{}.png?{q}",
        t.z, t.x, t.y
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let img = image::load_from_memory(&r.body).expect("PNG").to_rgba8();
    assert_eq!(
        img.get_pixel(px, py).0,
        [high_low.r, high_low.g, high_low.b, 255]
    );
    let r = get(&format!("/static/lad19/imd_score.svg?{q}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("#574249") || r.text().contains("#574249".to_uppercase().as_str()));
    expect_client_error("/legend/lad19/imd_score.json?bivariate=nope", 404).await;
    expect_client_error("/legend/lad19/imd_score.json?bivariate=imd_score", 400).await;
    expect_client_error(
        "/legend/lad19/imd_score.json?bivariate=median_weekly_pay&k=4",
        400,
    )
    .await;
}

#[tokio::test]
async fn layer_as_csv_for_spreadsheets() {
    let r = get("/layers/lad19.csv?indicators=imd_score,imd_score_lisa").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let text = r.text();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        ["code", "name", "region_name", "imd_score", "imd_score_lisa"]
    );
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let score = analysis::layer::numeric_values(layer, "imd_score", None).expect("imd_score");
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.expect("row");
        let i = layer.position(&rec[0]).expect("district");
        let cell = &rec[3];
        match score[i] {
            Some(v) => assert_eq!(cell.parse::<f64>().ok(), Some(v), "{}", &rec[0]),
            None => assert!(cell.is_empty(), "{}", &rec[0]),
        }
        rows += 1;
    }
    assert_eq!(rows, 382);
    // Every period as its own column.
    let r = get(
        "/layers/lad21.csv?indicators=median_weekly_pay&periods=all&bbox=-1.23,54.66,-1.21,54.68",
    )
    .await;
    let first = r.text().lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("median_weekly_pay_2008") && first.contains("median_weekly_pay_2022"),
        "{first}"
    );
    expect_client_error("/layers/lad19.csv?zoom=5", 400).await;
    expect_client_error("/layers/lad19.csv?periods=latest", 404).await;
    expect_client_error("/layers/lad99.csv", 404).await;
}

/// The map page's data table reads `/layers/{layer}/districts?indicator=...`: the value and
/// colour each district has on the map, change arithmetic included.
#[tokio::test]
async fn district_list_carries_the_values_and_colours_of_the_map() {
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let ind = layer.indicator("median_weekly_pay").expect("pay");
    for (query, opts) in [
        ("", maps::StyleOptions::default()),
        (
            "&change=2010..2020&change_kind=pct",
            maps::StyleOptions {
                change: Some("2010..2020".into()),
                change_kind: Some("pct".into()),
                ..Default::default()
            },
        ),
    ] {
        let r = get(&format!(
            "/layers/lad19/districts?indicator=median_weekly_pay{query}"
        ))
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        let style = maps::style::resolve(layer, ind, &opts).expect("style");
        let list = j["districts"].as_array().expect("districts");
        assert_eq!(list.len(), layer.districts.len());
        for (i, d) in list.iter().enumerate() {
            // serde_json reads floats to within an ulp or so, not exactly.
            match (d["value"].as_f64(), style.values[i]) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{}", d["code"]);
                }
                (a, b) => assert_eq!(a, b, "{}", d["code"]),
            }
            let colour = match style.fills[i] {
                choropleth::render::Fill::Solid(c) => {
                    serde_json::json!(format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2))
                }
                choropleth::render::Fill::NoData => serde_json::Value::Null,
            };
            assert_eq!(d["colour"], colour, "{}", d["code"]);
        }
        assert_eq!(j["showing"], style.showing.label());
    }
    // Without indicator= the list is as before; style options alone are refused.
    let plain = get("/layers/lad19/districts").await.json();
    assert!(plain["districts"][0]["value"].is_null());
    let r = get("/layers/lad19/districts?year=2019").await;
    assert_eq!(r.status, 400);
}

/// `nodata=`: districts without a value hatched (default), transparent, or one colour; in the
/// PNG tiles and the MapLibre style alike (issue 11).
#[tokio::test]
async fn nodata_option_draws_missing_values_as_asked() {
    // Edinburgh has no English IMD.
    let (lon, lat) = (-3.19, 55.94);
    let (px, py, t) = pixel_of(lon, lat, 9, 256);
    // The whole tile around Edinburgh (only Scottish districts), drawn with `query`.
    let whole = |query: &'static str| async move {
        let r = get(&format!(
            "/tiles/lad19/imd_score/{}/{}/{}.png{query}",
            t.z, t.x, t.y
        ))
        .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        image::load_from_memory(&r.body).expect("PNG").to_rgba8()
    };
    let pixel = |query: &'static str| async move {
        let img = whole(query).await;
        // The hatch alternates lines and ground: sample a small block.
        let mut seen = std::collections::BTreeSet::new();
        for dy in 0..6 {
            for dx in 0..6 {
                seen.insert(img.get_pixel(px + dx, py + dy).0);
            }
        }
        seen
    };
    let hatch = pixel("").await;
    assert!(
        hatch.contains(&[0xbd, 0xbd, 0xbd, 255]) && hatch.contains(&[0x6e, 0x6e, 0x6e, 255]),
        "{hatch:?}"
    );
    let none = pixel("?nodata=none").await;
    assert_eq!(none.into_iter().collect::<Vec<_>>(), vec![[0, 0, 0, 0]]);
    // Not drawn at all, outlines included (as Mapnik draws a feature no rule matches): the
    // tile is wholly transparent, though the hatched one shows the districts' boundaries.
    assert!(whole("?nodata=none").await.pixels().all(|p| p.0[3] == 0));
    let hatched = whole("").await;
    assert!(
        hatched
            .pixels()
            .any(|p| p.0[0] > 0xe0 && p.0[1] > 0xe0 && p.0[2] > 0xe0),
        "the hatched tile shows white boundaries"
    );
    let pink = pixel("?nodata=%23ff00aa").await;
    assert_eq!(
        pink.into_iter().collect::<Vec<_>>(),
        vec![[0xff, 0x00, 0xaa, 255]]
    );
    let r = get("/tiles/lad19/imd_score/9/250/158.png?nodata=pink").await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("nodata=none"))
    );
    // The MapLibre style: no hatch layer, a transparent fallback.
    let s = get("/styles/lad19/imd_score.json?nodata=none").await.json();
    let layers = s["layers"].as_array().expect("layers");
    assert!(
        !layers
            .iter()
            .any(|l| l["paint"]["fill-pattern"].is_string())
    );
    let fill = &layers[0]["paint"]["fill-color"];
    assert_eq!(
        fill[fill.as_array().expect("match").len() - 1],
        "rgba(0, 0, 0, 0)"
    );
    // No outline for districts without a value (City of Edinburgh among them), as in the tiles;
    // the hatched style outlines every district.
    let outline = layers
        .iter()
        .find(|l| l["type"] == "line")
        .expect("outline layer");
    let filter = outline["filter"].as_array().expect("outline filter");
    assert_eq!(filter[0], "match");
    assert!(
        filter[2]
            .as_array()
            .is_some_and(|codes| codes.iter().any(|c| c == "S12000036"))
    );
    assert_eq!(
        (filter[3].clone(), filter[4].clone()),
        (serde_json::json!(false), serde_json::json!(true))
    );
    let hatched = get("/styles/lad19/imd_score.json").await.json();
    let hatched_layers = hatched["layers"].as_array().expect("layers");
    assert!(
        hatched_layers
            .iter()
            .any(|l| l["type"] == "line" && l.get("filter").is_none())
    );
}
