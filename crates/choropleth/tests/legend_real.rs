//! Legends built from real indicator columns: labels, JSON, SVG that usvg parses, and PNG
//! pixels that show the class colours and the hatched no-data swatch.

use test_support::data_dir;

use choropleth::classify::{Scheme, classify};
use choropleth::legend::{Legend, LegendMeta, SWATCH_SIZE, SWATCH_X, swatch_top};
use choropleth::palette::{NO_DATA_STYLE, Palette, Rgb};
use image::GenericImageView;

/// A column as values with missing cells (empty / NA) as `None`; "29,199" read as 29199.
fn column(file: &str, name: &str) -> Vec<Option<f64>> {
    let path = data_dir().join(file);
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let headers = reader.headers().expect("header row").clone();
    let index = headers
        .iter()
        .position(|h| h.trim_start_matches('\u{feff}') == name)
        .unwrap_or_else(|| panic!("{}: no column {name:?}", path.display()));
    reader
        .records()
        .map(|r| {
            let r = r.expect("CSV record");
            let text = r.get(index).unwrap_or("").trim().replace(',', "");
            text.parse::<f64>().ok()
        })
        .collect()
}

fn meta(title: &str, unit: &str) -> LegendMeta {
    LegendMeta {
        title: title.to_string(),
        subtitle: "2019".to_string(),
        unit: unit.to_string(),
        source: "Source: MHCLG, English indices of deprivation 2019. Contains public sector \
                 information licensed under the Open Government Licence v3.0."
            .to_string(),
    }
}

#[test]
fn pay_labels_in_pounds_with_no_data_counted() {
    let pay = column(
        "lad_indicators_ons_sni_2022_wide.csv",
        "median_weekly_pay_gbp_2021",
    );
    assert_eq!(pay.len(), 384);
    let c = classify(&pay, &Scheme::Quantile, 5).expect("classify pay");
    assert_eq!(c.no_data, 12);
    let p = Palette::for_indicator(None, 5, false).expect("palette");
    let legend = Legend::new(&c, &p, meta("Median weekly pay", "£ per week")).expect("legend");
    assert_eq!(legend.decimals, 0);
    for e in &legend.entries {
        let (lo, hi) = e.label.split_once(" – ").expect("range label");
        assert!(lo.starts_with('£') && hi.starts_with('£'), "{}", e.label);
        assert!(!e.label.contains('.'), "{}", e.label);
    }
    // Labels agree with the bounds rounded to whole pounds.
    let first = &legend.entries[0];
    assert_eq!(
        first.label,
        format!("£{:.0} – £{:.0}", first.lower, first.upper)
    );
    assert_eq!(legend.no_data.count, 12);
    assert_eq!(legend.no_data.label, "No data");
    // Counts add up to the areas with a value.
    let total: usize = legend.entries.iter().map(|e| e.count).sum();
    assert_eq!(total, 372);
}

#[test]
fn employment_labels_in_percent_and_lsoa_ranks_grouped() {
    let emp = column(
        "lad_indicators_ons_sni_2022_wide.csv",
        "employment_rate_16_64_pct_2022",
    );
    let c = classify(&emp, &Scheme::NaturalBreaks, 4).expect("classify employment");
    let p = Palette::for_indicator(None, 4, false).expect("palette");
    let legend = Legend::new(&c, &p, meta("Employment rate, 16-64", "%")).expect("legend");
    assert_eq!(legend.decimals, 1, "{:?}", legend.entries);
    assert!(
        legend
            .entries
            .iter()
            .all(|e| e.label.matches('%').count() == 2)
    );
    assert_eq!(
        legend.entries[3].label,
        format!("{:.1}% – 89.7%", legend.entries[3].lower)
    );

    let ranks = column(
        "imd2019_lsoa_file1_imd.csv",
        "Index of Multiple Deprivation (IMD) Rank",
    );
    assert_eq!(ranks.len(), 32_844);
    let c = classify(&ranks, &Scheme::EqualInterval, 4).expect("classify ranks");
    let p = Palette::for_indicator(Some("OrRd"), 4, false).expect("palette");
    let legend = Legend::new(&c, &p, meta("IMD rank", "rank")).expect("legend");
    let labels: Vec<&str> = legend.entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "1 – 8,212",
            "8,212 – 16,422",
            "16,422 – 24,633",
            "24,633 – 32,844"
        ]
    );
    assert_eq!(legend.no_data.count, 0);
}

#[test]
fn json_svg_and_png_of_the_imd_legend() {
    let imd = column("imd2019_lad_summaries_file10.csv", "IMD - Average score");
    let mut values = imd.clone();
    values.push(None); // one area without a value, to show the no-data entry
    let c = classify(&values, &Scheme::Quantile, 5).expect("classify");
    let p = Palette::for_indicator(None, 5, true).expect("palette");
    let legend =
        Legend::new(&c, &p, meta("IMD 2019 <average score> & rank", "score")).expect("legend");

    let json: serde_json::Value =
        serde_json::from_str(&legend.to_json().expect("json")).expect("valid JSON");
    assert_eq!(json["entries"].as_array().map(Vec::len), Some(5));
    assert_eq!(json["entries"][4]["color"], "#bd0026");
    assert_eq!(json["no_data"]["count"], 1);
    assert_eq!(json["no_data"]["color"], NO_DATA_STYLE.fill.to_hex());

    let svg = legend.to_svg();
    let tree =
        resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).expect("SVG parses");
    assert!(tree.size().width() >= 220.0);
    assert!(svg.contains("IMD 2019 &lt;average score&gt; &amp; rank"));
    let credit_lines = svg.matches(r#"font-size="9""#).count();
    assert!(credit_lines >= 2, "the long credit wraps");
    assert_eq!(
        svg.matches("<text").count(),
        1 + 1 + 2 * 6 + credit_lines,
        "title, subtitle, 6 rows, credit"
    );
    assert!(svg.contains("v3.0.</text></svg>"), "credit line last");
    assert!(svg.contains(r#"fill="url(#no-data-hatch)""#));

    let scale = 2.0;
    let png = legend.to_png(scale).expect("png");
    let img = image::load_from_memory(&png).expect("PNG decodes");
    assert_eq!(img.width(), (tree.size().width() * scale).ceil() as u32);
    let centre = |row: usize| {
        let x = (SWATCH_X + SWATCH_SIZE.0 / 2.0) * scale;
        let y = (swatch_top(&legend, row) + SWATCH_SIZE.1 / 2.0) * scale;
        (x as u32, y as u32)
    };
    for (row, colour) in p.colors().iter().enumerate() {
        let (x, y) = centre(row);
        let px = img.get_pixel(x, y).0;
        assert_eq!(
            Rgb::new(px[0], px[1], px[2]),
            *colour,
            "swatch {row} at {x},{y}"
        );
    }
    // The no-data swatch holds the grey and the darker hatch.
    let (cx, cy) = centre(5);
    let mut seen_fill = false;
    let mut seen_hatch = false;
    for dx in 0..40 {
        for dy in 0..20 {
            let px = img.get_pixel(cx - 20 + dx, cy - 10 + dy).0;
            let rgb = Rgb::new(px[0], px[1], px[2]);
            seen_fill |= rgb == NO_DATA_STYLE.fill;
            seen_hatch |= px[0] < 0x90 && px[0] == px[1] && px[1] == px[2];
        }
    }
    assert!(
        seen_fill && seen_hatch,
        "no-data swatch is grey with a hatch"
    );
    // Text was drawn with the embedded font: dark pixels right of the first swatch.
    let (_, y0) = centre(0);
    let label_x0 = ((SWATCH_X + SWATCH_SIZE.0 + 12.0) * scale) as u32;
    let dark = (label_x0..label_x0 + 80)
        .flat_map(|x| (y0 - 8..y0 + 8).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 100)
        .count();
    assert!(dark > 20, "label text rendered ({dark} dark pixels)");
}

#[test]
fn png_scale_is_checked_and_palette_must_match_classes() {
    let imd = column("imd2019_lad_summaries_file10.csv", "IMD - Average score");
    let c = classify(&imd, &Scheme::EqualInterval, 4).expect("classify");
    let p = Palette::from_name("Blues", 4).expect("palette");
    let legend = Legend::new(&c, &p, LegendMeta::default()).expect("legend");
    assert!(legend.to_png(0.0).is_err());
    assert!(legend.to_png(f32::NAN).is_err());
    assert!(legend.to_png(100.0).is_err());
    let wrong = Palette::from_name("Blues", 5).expect("palette");
    assert!(Legend::new(&c, &wrong, LegendMeta::default()).is_err());
}
