//! Static report maps over HTTP (`/static/{layer}/{indicator}.{png,svg}`): England, a region, a
//! highlight, golden PNGs, and bad options answered 4xx with hints.

use placemap_e2e::{check_golden_png, expect_client_error, get};

#[tokio::test]
async fn golden_static_england_region_and_highlight() {
    for (uri, name) in [
        (
            "/static/lad19/imd_score.png?width=800&height=900",
            "static/http_england_lad19_imd.png",
        ),
        (
            "/static/lad19/median_weekly_pay.png?region=North%20East&width=800&height=900",
            "static/http_north_east_lad19_pay.png",
        ),
        (
            "/static/lad19/imd_score.png?highlight=E06000001,E08000021&width=800&height=900&inset=false",
            "static/http_england_lad19_imd_highlight.png",
        ),
        // Issue 15: at 800 x 600 the text was 7-8 px high and the top pay class near white;
        // `small_figures_keep_text_readable` checks the text height, the palette tests the contrast.
        (
            "/static/lad19/median_weekly_pay.png?width=800&height=600",
            "static/http_england_lad19_pay_800x600.png",
        ),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.text());
        assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
        check_golden_png(name, &r.body);
    }
}

#[tokio::test]
async fn svg_has_text_as_text_and_the_credit() {
    let r = get("/static/lad19/imd_score.svg?highlight=E06000001&title=Deprivation%20in%20England")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    let svg = r.text();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"));
    assert!(svg.contains(">Deprivation in England<"), "custom title");
    assert!(svg.contains("Hartlepool"), "highlighted district labelled");
    assert!(svg.contains("Crown copyright"), "credit line");
    assert!(svg.contains("London"), "London inset");
    // One path per English district at least (the inset adds London's again).
    assert!(svg.matches("<path").count() >= 317);
}

#[tokio::test]
async fn print_scale_and_lsoa_map() {
    let r = get("/static/lad19/imd_score.png?width=600&height=700&scale=2").await;
    assert_eq!(r.status, 200);
    let img = image::load_from_memory(&r.body).expect("PNG");
    assert_eq!((img.width(), img.height()), (1200, 1400));
    let r = get("/static/lsoa11/imd_decile.png?region=North%20East&width=600&height=700").await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn bad_static_options_are_4xx_with_hints() {
    let j = expect_client_error("/static/lad19/imd_score.png?region=Atlantis", 404).await;
    assert!(j["hint"].as_str().is_some_and(|h| h.contains("North East")));
    expect_client_error("/static/lad19/imd_score.png?districts=", 400).await;
    expect_client_error("/static/lad19/imd_score.png?districts=E99999999", 404).await;
    expect_client_error("/static/lad19/imd_score.png?width=0", 400).await;
    expect_client_error("/static/lad19/imd_score.png?width=100000", 400).await;
    expect_client_error("/static/lad19/imd_score.png?width=abc", 400).await;
    expect_client_error("/static/lad19/imd_score.png?scale=99", 400).await;
    expect_client_error("/static/lad19/imd_score.png?colour=red", 400).await;
    expect_client_error(
        "/static/lad19/imd_score.png?region=London&bbox=-1,51,0,52",
        400,
    )
    .await;
    expect_client_error("/static/lad19/imd_score.gif", 404).await;
    // Every layer has regions now (tests/tests/regions.rs); an unknown one is still a 404.
    expect_client_error("/static/lad21/imd_score.png?region=Londres", 404).await;
    expect_client_error("/static/lad19/imd_score.png?k=20", 400).await;
}

/// Issue 15: at 800 x 600 the credit and the legend's small print were 7-8 px high. No text on
/// a figure of any size is under `MIN_TEXT_PX`, and the credit still fits under the map.
#[tokio::test]
async fn small_figures_keep_text_readable() {
    for (w, h) in [(800, 600), (400, 300), (1600, 1200)] {
        let r = placemap_e2e::get(&format!(
            "/static/lad19/median_weekly_pay.svg?width={w}&height={h}"
        ))
        .await;
        assert_eq!(r.status, 200, "{w}x{h}: {}", r.text());
        let svg = r.text();
        let sizes: Vec<f64> = svg
            .split("font-size=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .filter_map(|s| s.parse().ok())
            .collect();
        assert!(sizes.len() > 10, "{w}x{h}: {sizes:?}");
        let smallest = sizes.iter().copied().fold(f64::MAX, f64::min);
        assert!(
            smallest >= choropleth::figure::MIN_TEXT_PX,
            "{w}x{h}: text {smallest} px high"
        );
    }
}

/// Issue 15: a map of a box or of chosen districts had the layer's whole title in its subtitle
/// before the kind of district ("Local authority districts (May 2021), UK, BUC ..., local
/// authority districts, 2021").
#[tokio::test]
async fn subtitles_name_the_kind_of_district_once() {
    for q in ["bbox=-1.6,54.5,-1.0,55.0", "districts=E06000001,E06000004"] {
        let r = placemap_e2e::get(&format!("/static/lad21/median_weekly_pay.svg?{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text());
        let svg = r.text();
        let texts: Vec<&str> = svg
            .split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .collect();
        let subtitle = texts
            .iter()
            .find(|t| t.contains(", 2021"))
            .unwrap_or_else(|| panic!("{q}: no subtitle in {texts:?}"));
        assert_eq!(
            subtitle
                .to_lowercase()
                .matches("local authority districts")
                .count(),
            1,
            "{q}: {subtitle}"
        );
        assert!(!subtitle.contains("BUC"), "{q}: {subtitle}");
    }
}

/// Issue 15: a figure's classes divide the districts it shows. The North East IMD map had three
/// empty classes (England's breaks); the England pay map counted 60/58/51/65/70 under
/// "Quantiles" (UK breaks, England drawn). `domain=all` keeps the layer's classes.
#[tokio::test]
async fn figure_classes_divide_the_districts_shown() {
    let st = placemap_e2e::state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let opts = maps::StyleOptions::default();
    for (ind, region, n) in [
        ("imd_score", "north-east", 12),
        ("median_weekly_pay", "england", 0),
    ] {
        let ind = layer.indicator(ind).expect("indicator");
        let shown = maps::region::select(layer, region).expect("region");
        let style = maps::style::resolve_within(layer, ind, &opts, &shown).expect("style");
        let c = style.classification.as_ref().expect("numeric");
        assert!(c.counts.iter().all(|&k| k > 0), "{region}: {:?}", c.counts);
        let (lo, hi) = (
            c.counts.iter().min().copied().unwrap_or(0),
            c.counts.iter().max().copied().unwrap_or(0),
        );
        assert!(
            hi - lo <= 2,
            "{region}: quantiles should be even: {:?}",
            c.counts
        );
        if n > 0 {
            assert_eq!(c.counts.iter().sum::<usize>(), n, "{region}");
        }
    }
    // Over HTTP: the regional figure renders, domain=all too, a bad domain is a 400.
    for q in [
        "region=north-east",
        "region=north-east&domain=all",
        "districts=E06000001",
    ] {
        let r = placemap_e2e::get(&format!("/static/lad19/imd_score.svg?{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text());
    }
    let r = placemap_e2e::get("/static/lad19/imd_score.svg?domain=some").await;
    assert_eq!(r.status, 400);
}

/// Issue 15: legends take the figures' region=, bbox=, districts= and domain=, and count the
/// districts shown: an LSOA bbox= map showed national counts (6,568 per class).
#[tokio::test]
async fn legends_count_the_districts_a_figure_shows() {
    let total = |j: &serde_json::Value| -> u64 {
        j["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["count"].as_u64())
            .sum::<u64>()
            + j["no_data"]["count"].as_u64().unwrap_or(0)
    };
    let ne = placemap_e2e::get("/legend/lad19/imd_score.json?region=north-east").await;
    assert_eq!(ne.status, 200, "{}", ne.text());
    let ne = ne.json();
    assert_eq!(total(&ne), 12, "{ne}");
    assert!(
        ne["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["count"].as_u64() > Some(0))
    );
    let bbox = "-1.7,54.5,-1.0,55.1";
    let l = placemap_e2e::get(&format!("/legend/lsoa11/imd_decile.json?bbox={bbox}")).await;
    assert_eq!(l.status, 200, "{}", l.text());
    let n = total(&l.json());
    let st = placemap_e2e::state();
    let layer = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let touching = layer.index.candidates_in_bbox(-1.7, 54.5, -1.0, 55.1).len() as u64;
    assert_eq!(n, touching, "the legend counts the LSOAs the box touches");
    assert!(n < 2000, "not national counts: {n}");
    // The tiles' legend is unchanged without them; figure-only options are refused.
    let all = placemap_e2e::get("/legend/lad19/imd_score.json")
        .await
        .json();
    assert_eq!(total(&all), 382);
    let r = placemap_e2e::get("/legend/lad19/imd_score.json?width=800").await;
    assert_eq!(r.status, 400);
}
