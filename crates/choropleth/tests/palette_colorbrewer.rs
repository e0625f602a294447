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
        // Blues' 4-class lightest (#eff3ff) is all but white: the 4 darkest of the 5-class scheme.
        ("Blues", &["#bdd7e7", "#6baed6", "#3182bd", "#08519c"]),
    ];
    for (name, expected) in cases {
        let p = Palette::from_name(name, expected.len()).expect("known palette");
        assert_eq!(hex(&p), expected, "{name} {}", expected.len());
    }
}

/// Issue 15: the highest pay class was nearly white, so London looked empty. Every class of
/// every sequential palette, and of the diverging ones as change maps and ordinal maps cut
/// them, stands out from the white page and sea, and from the no-data grey; up to the 10
/// classes of a decile map and the 11 a palette may have.
#[test]
fn every_class_colour_stands_out_from_the_page_and_no_data() {
    use choropleth::palette::{
        MAX_PALETTE_CLASSES, MIN_DELTA_E_BACKGROUND, MIN_DELTA_E_NO_DATA, NO_DATA, PaletteKind,
    };
    let white = Rgb::new(255, 255, 255);
    for name in Palette::names() {
        for k in 2..=MAX_PALETTE_CLASSES {
            let p = Palette::from_name(name, k).expect("palette");
            let sets: Vec<Vec<Rgb>> = if p.kind == PaletteKind::Diverging {
                (1..k)
                    .filter_map(|below| {
                        Palette::diverging_split(name, below, k - below, false)
                            .expect("split")
                            .map(|s| s.colors())
                    })
                    .collect()
            } else {
                vec![p.colors()]
            };
            for colors in sets {
                for c in colors {
                    let e = c.delta_e76(white);
                    assert!(
                        e >= MIN_DELTA_E_BACKGROUND,
                        "{name} k={k}: {c} is ΔE {e:.1} from white"
                    );
                    // Greys and RdGy are grey by design: their no-data districts are told
                    // apart by the hatch alone.
                    if !matches!(name, "Greys" | "RdGy") {
                        let e = c.delta_e76(NO_DATA);
                        assert!(
                            e >= MIN_DELTA_E_NO_DATA,
                            "{name} k={k}: {c} is ΔE {e:.1} from no-data grey"
                        );
                    }
                }
            }
        }
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
