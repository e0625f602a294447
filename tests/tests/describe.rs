//! Maps described in words (issue 15's accessible maps): the districts a description names are
//! the top and bottom ones of the data, in the SVG figure's `<desc>` and the legend JSON.

use placemap_e2e::{get, state};

/// The names of the districts of `layer` with the highest and lowest values of the
/// indicator's default period among those `keep` accepts, three each.
fn extremes(
    layer_id: &str,
    ind_id: &str,
    keep: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Vec<String>) {
    let st = state();
    let layer = st.maps.atlas.layer(layer_id).expect("layer");
    let ind = layer.indicator(ind_id).expect("indicator");
    let p = ind.period(&ind.default_period).expect("default period");
    let districts::layer::PeriodValues::Numeric(v) = &p.values else {
        panic!("numeric")
    };
    let mut vals: Vec<(f64, &str)> = layer
        .districts
        .iter()
        .zip(v)
        .filter(|(d, _)| keep(&d.code))
        .filter_map(|(d, x)| x.map(|x| (x, d.name.as_str())))
        .collect();
    vals.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let top = vals.iter().take(3).map(|x| x.1.to_string()).collect();
    let bottom = vals.iter().rev().take(3).map(|x| x.1.to_string()).collect();
    (top, bottom)
}

/// Checks that `text` names `top` after "highest in" and `bottom` after "lowest in", in order.
fn names_in_order(text: &str, top: &[String], bottom: &[String]) {
    let hi = text.find("highest in ").expect("highest in");
    let lo = text.find("lowest in ").expect("lowest in");
    let mut at = hi;
    for name in top {
        let i = text[at..].find(name.as_str()).map(|i| i + at);
        assert!(
            i.is_some_and(|i| i < lo),
            "{name} not among the highest: {text}"
        );
        at = i.unwrap_or(at);
    }
    let mut at = lo;
    for name in bottom {
        let i = text[at..].find(name.as_str()).map(|i| i + at);
        assert!(i.is_some(), "{name} not among the lowest: {text}");
        at = i.unwrap_or(at);
    }
}

#[tokio::test]
async fn the_svg_figure_describes_the_highest_and_lowest_districts_it_shows() {
    let r = get("/static/lad19/imd_score.svg").await;
    assert_eq!(r.status, 200);
    let svg = r.text();
    assert!(svg.contains(r#"role="img" aria-labelledby="pm-title pm-desc""#));
    let start = svg.find("<desc id=\"pm-desc\">").expect("desc") + "<desc id=\"pm-desc\">".len();
    let desc = &svg[start..start + svg[start..].find("</desc>").expect("end")];
    let (top, bottom) = extremes("lad19", "imd_score", &|c| c.starts_with('E'));
    // The well-known ends of the IMD 2019 ranking of district average scores.
    assert_eq!(top, ["Blackpool", "Knowsley", "Liverpool"]);
    assert_eq!(bottom, ["Hart", "Wokingham", "Chiltern"]);
    names_in_order(desc, &top, &bottom);
    assert!(desc.contains("England"), "{desc}");
    assert!(
        desc.contains("By region, the average is highest in "),
        "{desc}"
    );
}

#[tokio::test]
async fn a_regional_figure_and_the_legend_describe_what_they_show() {
    let r = get("/static/lad19/median_weekly_pay.svg?region=North%20East").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let svg = r.text();
    let start = svg.find("<desc id=\"pm-desc\">").expect("desc") + "<desc id=\"pm-desc\">".len();
    let desc = &svg[start..start + svg[start..].find("</desc>").expect("end")];
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let north_east: Vec<String> = layer
        .districts
        .iter()
        .filter(|d| {
            d.attributes
                .iter()
                .any(|(k, v)| k == "region_name" && v == "North East")
        })
        .map(|d| d.code.clone())
        .collect();
    assert_eq!(north_east.len(), 12);
    let (top, bottom) = extremes("lad19", "median_weekly_pay", &|c| {
        north_east.iter().any(|n| n == c)
    });
    names_in_order(desc, &top, &bottom);
    assert!(desc.contains("North East"), "{desc}");

    // The legend JSON (the map page's summary and embed title) describes every district.
    let legend = get("/legend/lad19/imd_score.json").await.json();
    let text = legend["description"].as_str().expect("description");
    let (top, bottom) = extremes("lad19", "imd_score", &|_| true);
    names_in_order(text, &top, &bottom);
    assert!(text.contains("65 of 382 areas have no value"), "{text}");
}
