//! MapLibre styles (`/styles/{layer}/{indicator}.json`) on the real data: every district gets
//! the colour the PNG tiles give it, for the default style and for a change map.

use std::collections::HashMap;

use placemap_e2e::{expect_client_error, get, state};

/// The colour the style's `fill-color` gives each code, and the no-data fallback.
fn colours_by_code(style: &serde_json::Value) -> (HashMap<String, String>, String) {
    let layers = style["layers"].as_array().expect("layers");
    let fill = layers
        .iter()
        .find(|l| l["type"] == "fill" && l["paint"]["fill-color"].is_array())
        .expect("a fill layer with a match expression");
    let m = fill["paint"]["fill-color"].as_array().expect("match");
    assert_eq!(m[0], "match");
    assert_eq!(m[1], serde_json::json!(["get", "code"]));
    let mut by_code = HashMap::new();
    let branches = &m[2..m.len() - 1];
    for pair in branches.chunks(2) {
        let colour = pair[1].as_str().expect("colour").to_string();
        for code in pair[0].as_array().expect("codes") {
            let code = code.as_str().expect("code").to_string();
            assert!(
                by_code.insert(code.clone(), colour.clone()).is_none(),
                "{code} twice"
            );
        }
    }
    (
        by_code,
        m[m.len() - 1].as_str().expect("fallback").to_string(),
    )
}

fn check_against_server(query: &str, style: &serde_json::Value) {
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let ind = layer.indicator("median_weekly_pay").expect("pay");
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let opts: maps::StyleOptions = maps::options::read_options(&pairs).expect("options");
    let resolved = maps::style::resolve(layer, ind, &opts).expect("style");
    let (by_code, fallback) = colours_by_code(style);
    assert_eq!(fallback, "#bdbdbd");
    let mut solid = 0;
    for (d, fill) in layer.districts.iter().zip(&resolved.fills) {
        match fill {
            choropleth::render::Fill::Solid(c) => {
                solid += 1;
                assert_eq!(
                    by_code.get(&d.code).map(String::as_str),
                    Some(format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2).as_str()),
                    "{} {}",
                    d.code,
                    d.name
                );
            }
            choropleth::render::Fill::NoData => {
                assert!(!by_code.contains_key(&d.code), "{} has no data", d.code);
            }
        }
    }
    assert_eq!(by_code.len(), solid);
    assert!(solid > 300, "{solid}");
}

#[tokio::test]
async fn style_fills_every_district_with_the_tiles_colour() {
    for query in [
        "",
        "change=2010..2020&change_kind=pct&palette=PuOr",
        "scheme=jenks&k=7&year=2015",
    ] {
        let r = get(&format!("/styles/lad19/median_weekly_pay.json?{query}")).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        let s = r.json();
        assert_eq!(s["version"], 8);
        let src = &s["sources"]["placemap-lad19"];
        assert_eq!(src["type"], "vector");
        let url = src["url"].as_str().expect("tilejson url");
        assert!(url.starts_with("http://"), "absolute: {url}");
        let path = &url[url.find("/tiles/").expect("tiles path")..];
        let tj = get(path).await;
        assert_eq!(tj.status, 200, "{path}");
        assert!(tj.json()["vector_layers"][0]["fields"]["median_weekly_pay"].is_string());
        assert!(
            src["attribution"]
                .as_str()
                .is_some_and(|a| a.contains("Open Government Licence")),
            "{src}"
        );
        assert_eq!(s["layers"][0]["source-layer"], "lad19");
        // The legend travels with the style, for the same options.
        let legend = get(&format!("/legend/lad19/median_weekly_pay.json?{query}"))
            .await
            .json();
        assert_eq!(
            s["metadata"]["placemap:legend"]["entries"],
            legend["entries"]
        );
        check_against_server(query, &s);
    }
}

#[tokio::test]
async fn no_data_districts_get_the_hatch_pattern_from_the_sprite() {
    let s = get("/styles/lad19/imd_score.json").await.json();
    let hatch = s["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["paint"]["fill-pattern"].is_string())
        .expect("a no-data layer");
    // `["match", ["get", "code"], [codes], true, false]`: a form QGIS reads too.
    assert_eq!(hatch["filter"][0], "match");
    assert_eq!(hatch["filter"][1], serde_json::json!(["get", "code"]));
    assert_eq!(hatch["filter"][3], true);
    assert_eq!(hatch["filter"][4], false);
    let codes = hatch["filter"][2].as_array().expect("no-data codes");
    // Scotland, Wales and Northern Ireland have no English IMD: 382 - 317 districts.
    assert_eq!(codes.len(), 382 - 317);
    assert!(codes.iter().any(|c| c == "S12000036"), "Edinburgh");
    let sprite = s["sprite"].as_str().expect("sprite");
    let base = &sprite[sprite.find("/styles/").expect("path")..];
    for (suffix, side) in [("", 6), ("@2x", 12)] {
        let index = get(&format!("{base}{suffix}.json")).await.json();
        let name = hatch["paint"]["fill-pattern"].as_str().expect("name");
        assert_eq!(index[name]["width"], side);
        let png = get(&format!("{base}{suffix}.png")).await;
        assert_eq!(png.header("content-type").as_deref(), Some("image/png"));
        let img = image::load_from_memory(&png.body).expect("PNG").to_rgba8();
        assert_eq!(img.dimensions(), (side, side));
        // The tiles' no-data grey and hatch.
        assert_eq!(img.get_pixel(side / 2, 0).0, [0xbd, 0xbd, 0xbd, 255]);
        assert_eq!(img.get_pixel(0, 0).0, [0x6e, 0x6e, 0x6e, 255]);
    }
}

#[tokio::test]
async fn bad_style_requests_are_client_errors() {
    for (uri, status) in [
        ("/styles/lad19/no_such.json", 404),
        ("/styles/nowhere/imd_score.json", 404),
        ("/styles/lad19/imd_score.png", 404),
        ("/styles/lad19/imd_score.json?k=99", 400),
        ("/styles/lad19/imd_score.json?palette=Jet", 400),
        ("/styles/lad19/imd_score.json?colour=red", 400),
        ("/styles/sprite.gif", 404),
        ("/styles/sprite@3x.json", 404),
    ] {
        expect_client_error(uri, status).await;
    }
}

/// What went wrong with the pay change map before (issue 15): breaks symmetric around 0 with
/// nearly every change positive gave a first class with lower = upper and no districts, 225
/// districts in one class, and a legend saying "Manual breaks" when none were given.
#[tokio::test]
async fn change_maps_have_no_empty_or_zero_width_class_and_name_their_scheme() {
    let r = get("/legend/lad21/median_weekly_pay.json?change=2010..2020&change_kind=pct").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let l = r.json();
    let entries = l["entries"].as_array().expect("entries");
    let counts: Vec<u64> = entries
        .iter()
        .map(|e| e["count"].as_u64().expect("count"))
        .collect();
    let total: u64 = counts.iter().sum();
    assert!(total > 300, "{counts:?}");
    for e in entries {
        assert!(e["count"].as_u64() > Some(0), "empty class: {l}");
        assert!(
            e["lower"].as_f64() < e["upper"].as_f64(),
            "zero-width class: {e}"
        );
    }
    assert!(
        counts.iter().all(|&c| c * 100 < total * 45),
        "one class holds most districts: {counts:?}"
    );
    assert_ne!(l["scheme"], "manual", "{l}");
    // Changes go both ways here (a few districts' pay fell): 0 is a class bound.
    assert!(
        l["scheme"]
            .as_str()
            .is_some_and(|s| s.contains("below and above 0")),
        "{}",
        l["scheme"]
    );
    assert!(
        entries.iter().any(|e| e["upper"].as_f64() == Some(0.0)),
        "{l}"
    );

    // A scheme asked for is used as asked (sequential quantiles of the changes).
    let r = get(
        "/legend/lad21/median_weekly_pay.json?change=2010..2020&change_kind=pct&scheme=quantile",
    )
    .await
    .json();
    assert_eq!(r["scheme"], "quantile", "{r}");
    let counts: Vec<u64> = r["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["count"].as_u64())
        .collect();
    assert_eq!(counts.len(), 5, "{r}");
    assert!(counts.iter().all(|&c| c > 50), "{counts:?}");
    // An explicit midpoint with every value on one side: a 422 that says so.
    let r = get("/legend/lad21/median_weekly_pay.json?change=2010..2020&midpoint=-1000").await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["hint"]
            .as_str()
            .is_some_and(|h| h.contains("midpoint"))
    );
}
