//! Palettes give the published ColorBrewer k-class colours (values from colorbrewer2.org) and are
//! oriented so that worse is darker / redder.

use choropleth::palette::{DEFAULT_SEQUENTIAL, Palette, Rgb};

fn hex(p: &Palette) -> Vec<String> {
    p.colors().iter().map(Rgb::to_hex).collect()
}

#[test]
fn published_colorbrewer_classes() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "YlOrRd",
            &[
                "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c",
                "#bd0026", "#800026",
            ],
        ),
        ("OrRd", &["#fee8c8", "#fdbb84", "#e34a33"]),
        (
            "RdBu",
            &[
                "#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac",
            ],
        ),
        ("Blues", &["#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"]),
    ];
    for (name, expected) in cases {
        let p = Palette::from_name(name, expected.len()).expect("known palette");
        assert_eq!(hex(&p), expected, "{name} {}", expected.len());
    }
}

#[test]
fn two_classes_use_the_ends_of_the_three_class_scheme() {
    let p = Palette::from_name("OrRd", 2).expect("known palette");
    assert_eq!(hex(&p), ["#fee8c8", "#e34a33"]);
}

#[test]
fn names_are_case_insensitive_and_canonical() {
    for name in ["ylorrd", "YLORRD", " YlOrRd "] {
        assert_eq!(Palette::from_name(name, 4).expect("known").name, "YlOrRd");
    }
    assert_eq!(DEFAULT_SEQUENTIAL, "YlOrRd");
}

#[test]
fn worse_is_darker_whichever_way_the_indicator_runs() {
    let dark = Rgb::from_u32(0xbd0026); // YlOrRd 5, darkest
    let worse_high = Palette::for_indicator(None, 5, true).expect("default");
    let worse_low = Palette::for_indicator(None, 5, false).expect("default");
    assert_eq!(worse_high.colors().last(), Some(&dark));
    assert_eq!(worse_low.colors().first(), Some(&dark));
    assert!(worse_low.reversed && !worse_high.reversed);
    // A user's reverse= still flips the result.
    assert_eq!(worse_high.reverse().colors().first(), Some(&dark));
}
