//! Issue 15: ordinal indicators (IMD deciles) get one class per value with their own labels,
//! not "1 - 2, 2 - 4, ..." under "Manual breaks"; and a regional map's classes divide the
//! region, so its legend has no empty class. Checked on the tiles' legend, a region's legend,
//! the static figure (golden PNGs, reviewed by eye) and the MapLibre style; counts are checked
//! against the IMD file itself.

use std::collections::BTreeSet;

use placemap_e2e::{check_golden_png, data_dir, get, state};

/// LSOA 2011 codes of the North East, from the ONS lookup file.
fn north_east_lsoas() -> BTreeSet<String> {
    let mut rdr = csv::Reader::from_path(data_dir().join("lsoa11_msoa11_lad17_lookup_ew.csv"))
        .expect("lookup file");
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (lsoa, rgn) = (col("LSOA11CD"), col("RGN11NM"));
    rdr.records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[rgn] == "North East")
        .map(|r| r[lsoa].to_string())
        .collect()
}

/// IMD 2019 decile of every LSOA, from File 1 (the column the catalogue names).
fn imd_deciles() -> Vec<(String, u32)> {
    let text =
        std::fs::read_to_string(data_dir().join("imd2019_lsoa_file1_imd.csv")).expect("IMD file 1");
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|c| c == n).expect(n);
    let (code, decile) = (
        col("LSOA code (2011)"),
        col("Index of Multiple Deprivation (IMD) Decile"),
    );
    rdr.records()
        .map(|r| r.expect("row"))
        .map(|r| {
            (
                r[code].to_string(),
                r[decile].trim().parse().expect("decile"),
            )
        })
        .collect()
}

fn counts(legend: &serde_json::Value) -> Vec<u64> {
    legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["count"].as_u64().expect("count"))
        .collect()
}

fn labels(legend: &serde_json::Value) -> Vec<String> {
    legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["label"].as_str().expect("label").to_string())
        .collect()
}

#[tokio::test]
async fn deciles_get_one_class_per_decile_with_labels() {
    let r = get("/legend/lsoa11/imd_decile.json").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let legend = r.json();
    assert_eq!(legend["scheme"], "One class per decile");
    let l = labels(&legend);
    assert_eq!(l.len(), 10, "{l:?}");
    assert_eq!(l[0], "1 (most deprived 10%)");
    assert_eq!(l[4], "5");
    assert_eq!(l[9], "10 (least deprived 10%)");
    // Each class holds exactly the LSOAs of its decile in File 1.
    let mut want = vec![0u64; 10];
    for (_, d) in imd_deciles() {
        want[d as usize - 1] += 1;
    }
    assert_eq!(counts(&legend), want);
    // Each entry is one value, not a range.
    for (i, e) in legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .enumerate()
    {
        assert_eq!(e["lower"], e["upper"]);
        assert_eq!(e["upper"].as_f64(), Some(i as f64 + 1.0));
    }
    // Ten distinct colours, decile 1 (most deprived) red: RdYlBu's red end.
    let colours: BTreeSet<&str> = legend["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["color"].as_str().expect("colour"))
        .collect();
    assert_eq!(colours.len(), 10);
    let first = legend["entries"][0]["color"].as_str().expect("colour");
    let c = choropleth::palette::Rgb::from_hex(first).expect("hex");
    assert!(c.r > 150 && c.b < 80, "decile 1 is red: {first}");
}

#[tokio::test]
async fn explicit_classes_still_override_the_scale() {
    let r = get("/legend/lsoa11/imd_decile.json?scheme=quantile&k=5").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let legend = r.json();
    assert_eq!(legend["scheme"], "quantile");
    assert_eq!(labels(&legend).len(), 5);
    let r = get("/legend/lsoa11/imd_decile.json?scheme=manual&breaks=3,7").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(labels(&r.json()).len(), 3);
    // A user's palette applies to the ten classes.
    let r = get("/legend/lsoa11/imd_decile.json?palette=viridis").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let legend = r.json();
    assert_eq!(labels(&legend).len(), 10);
    assert!(
        legend["palette"]
            .as_str()
            .is_some_and(|p| p.starts_with("viridis"))
    );
}

#[tokio::test]
async fn every_decile_indicator_is_declared_ordinal() {
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let deciles: Vec<&str> = lsoa
        .indicators
        .iter()
        .filter(|i| i.meta.id.ends_with("_decile") && !i.meta.id.contains("share"))
        .map(|i| i.meta.id.as_str())
        .collect();
    assert!(deciles.len() >= 9, "{deciles:?}");
    for id in deciles {
        let ind = lsoa.indicator(id).expect("indicator");
        let scale = ind.meta.ordinal.as_ref();
        assert!(
            scale.is_some_and(|s| s.from == 1 && s.to == 10 && s.each == "decile"),
            "{id} is not declared a decile scale"
        );
    }
}

/// The decile map of the North East: ten classes, each counting the region's LSOAs of that
/// decile (before, five overlapping classes under "Manual breaks"); golden figure.
#[tokio::test]
async fn golden_north_east_decile_map() {
    let r = get("/legend/lsoa11/imd_decile.json?region=north-east").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let legend = r.json();
    let ne = north_east_lsoas();
    let mut want = vec![0u64; 10];
    for (code, d) in imd_deciles() {
        if ne.contains(&code) {
            want[d as usize - 1] += 1;
        }
    }
    assert_eq!(counts(&legend), want, "class counts are the region's LSOAs");
    assert_eq!(
        counts(&legend).iter().sum::<u64>() + legend["no_data"]["count"].as_u64().unwrap_or(0),
        ne.len() as u64,
        "every North East LSOA counted once"
    );
    let r = get("/static/lsoa11/imd_decile.png?region=north-east&width=800&height=900").await;
    assert_eq!(r.status, 200, "{}", r.text());
    check_golden_png("static/http_north_east_lsoa11_imd_decile.png", &r.body);
    let svg = get("/static/lsoa11/imd_decile.svg?region=north-east&width=800&height=900")
        .await
        .text();
    assert!(svg.contains("One class per decile"), "scheme named");
    assert!(svg.contains("1 (most deprived 10%)") && svg.contains("10 (least deprived 10%)"));
    assert!(!svg.contains("Manual breaks"));
}

/// The North East IMD map: its classes divide the region's 12 districts (before, England's
/// quintiles left three classes empty); golden figure.
#[tokio::test]
async fn golden_north_east_imd_map_has_no_empty_class() {
    let r = get("/legend/lad19/imd_score.json?region=north-east").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let legend = r.json();
    let c = counts(&legend);
    assert!(c.iter().all(|n| *n > 0), "an empty class: {c:?}");
    assert_eq!(
        c.iter().sum::<u64>(),
        12,
        "the North East's 12 districts: {c:?}"
    );
    let r = get("/static/lad19/imd_score.png?region=north-east&width=800&height=900").await;
    assert_eq!(r.status, 200, "{}", r.text());
    check_golden_png("static/http_north_east_lad19_imd_score.png", &r.body);
}

/// MapLibre styles carry the same ten classes and colours as the tiles and legends.
#[tokio::test]
async fn maplibre_style_has_the_decile_classes() {
    let r = get("/styles/lsoa11/imd_decile.json").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let style = r.json();
    let legend = &style["metadata"]["placemap:legend"];
    assert_eq!(legend["scheme"], "One class per decile");
    assert_eq!(labels(legend).len(), 10);
    let fill = style["layers"][0]["paint"]["fill-color"].to_string();
    for e in legend["entries"].as_array().expect("entries") {
        let colour = e["color"].as_str().expect("colour");
        assert!(fill.contains(colour), "fill lacks {colour}");
    }
}
