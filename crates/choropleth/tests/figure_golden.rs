//! Golden static maps under the repository's `tests/expected/static/`: England (with the London
//! inset), the North East region, and England with highlighted, labelled districts, all on the
//! real LAD 2019 boundaries and IMD 2019 average scores, 800 px wide.
//!
//! `PLACEMAP_BLESS=1` rewrites the golden files. Otherwise PNGs are compared per pixel with a
//! tolerance for anti-aliasing (mean absolute difference under 2, under 1% of pixels off by more
//! than 32 in some channel) and SVGs structurally (same number of `<path>` and `<text>` elements,
//! same text contents). A missing golden file fails under `CI=true` and is written otherwise.

#[path = "common/figure_data.rs"]
mod figure_data;

use std::path::PathBuf;
use std::sync::OnceLock;

use choropleth::figure::{Figure, FigureOptions, InsetCorner, fit_extent};
use figure_data::{CREDIT, Layer, NORTH_EAST};

fn lad() -> &'static Layer {
    static LAD: OnceLock<Layer> = OnceLock::new();
    LAD.get_or_init(|| Layer::lad_imd().unwrap_or_else(|e| panic!("LAD 2019 + IMD: {e}")))
}

fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/expected/static"
    ))
}

fn options(subtitle: &str, height: u32, inset: bool) -> FigureOptions {
    FigureOptions {
        width: 800,
        height,
        scale: 1.0,
        title: "Index of Multiple Deprivation 2019: average score".to_string(),
        subtitle: subtitle.to_string(),
        credit: CREDIT.to_string(),
        legend_title: Some("IMD average score".to_string()),
        london_inset: inset.then_some(InsetCorner::TopRight),
        ..FigureOptions::default()
    }
}

/// Contents of every `<text>` element, in document order.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let open_end = t.find('>')?;
            let close = t.find("</text>")?;
            Some(&t[open_end + 1..close])
        })
        .collect()
}

fn compare_png(name: &str, actual: &[u8], expected: &[u8]) {
    let a = image::load_from_memory(actual)
        .expect("new PNG decodes")
        .to_rgba8();
    let e = image::load_from_memory(expected)
        .unwrap_or_else(|err| panic!("golden {name}.png does not decode: {err}"))
        .to_rgba8();
    assert_eq!(a.dimensions(), e.dimensions(), "{name}.png size");
    let mut sum = 0u64;
    let mut off = 0u64;
    for (pa, pe) in a.pixels().zip(e.pixels()) {
        let diffs = pa.0.iter().zip(pe.0.iter()).map(|(x, y)| x.abs_diff(*y));
        let (s, m) = diffs.fold((0u64, 0u8), |(s, m), d| (s + u64::from(d), m.max(d)));
        sum += s;
        if m > 32 {
            off += 1;
        }
    }
    let pixels = u64::from(a.width()) * u64::from(a.height());
    let mean = sum as f64 / (pixels * 4) as f64;
    let off_share = off as f64 / pixels as f64;
    assert!(
        mean < 2.0 && off_share < 0.01,
        "{name}.png differs from the golden file: mean abs diff {mean:.3}, {:.3}% of pixels off by > 32 \
         (re-bless with PLACEMAP_BLESS=1 if the change is intended)",
        off_share * 100.0
    );
}

fn compare_svg(name: &str, actual: &str, expected: &str) {
    for tag in ["<path", "<text", "<use", "<rect"] {
        assert_eq!(
            actual.matches(tag).count(),
            expected.matches(tag).count(),
            "{name}.svg: number of {tag} elements"
        );
    }
    assert_eq!(texts(actual), texts(expected), "{name}.svg: text contents");
}

fn check(name: &str, figure: &Figure<'_>) {
    let svg = figure.to_svg();
    let png = figure.to_png().expect("PNG");
    let dir = golden_dir();
    let (svg_path, png_path) = (
        dir.join(format!("{name}.svg")),
        dir.join(format!("{name}.png")),
    );
    let bless = std::env::var("PLACEMAP_BLESS").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if bless || !(svg_path.exists() && png_path.exists()) {
        assert!(
            bless || !ci,
            "golden files {} / {} are missing (run with PLACEMAP_BLESS=1 and commit them)",
            svg_path.display(),
            png_path.display()
        );
        std::fs::create_dir_all(&dir).expect("create tests/expected/static");
        std::fs::write(&svg_path, &svg).expect("write golden SVG");
        std::fs::write(&png_path, &png).expect("write golden PNG");
        println!(
            "note: wrote golden files {} and {}",
            svg_path.display(),
            png_path.display()
        );
        return;
    }
    let expected_svg = std::fs::read_to_string(&svg_path).expect("read golden SVG");
    let expected_png = std::fs::read(&png_path).expect("read golden PNG");
    compare_svg(name, &svg, &expected_svg);
    compare_png(name, &png, &expected_png);
}

#[test]
fn golden_england() {
    let layer = lad();
    let extent = layer.bounds_of(&[]).expect("England");
    let figure = Figure::new(
        layer.districts(&[]),
        extent,
        &layer.legend,
        options("Local authority districts, England (quintiles)", 900, true),
    )
    .expect("figure");
    assert!(figure.inset_rect().is_some());
    check("england_lad19_imd", &figure);
}

#[test]
fn golden_north_east() {
    let layer = lad();
    let ne = layer.bounds_of(&NORTH_EAST).expect("North East");
    let extent = fit_extent(ne, 1.0, 1.0, 0.0).expect("extent");
    let figure = Figure::new(
        layer.districts(&["E06000001", "E08000021", "E06000047"]),
        extent,
        &layer.legend,
        options(
            "North East, local authority districts (England quintiles)",
            800,
            false,
        ),
    )
    .expect("figure");
    check("north_east_lad19_imd", &figure);
}

#[test]
fn golden_highlight() {
    let layer = lad();
    let extent = layer.bounds_of(&[]).expect("England");
    let figure = Figure::new(
        layer.districts(&[
            "E06000009",
            "E08000003",
            "E06000010",
            "E09000030",
            "E07000008",
        ]),
        extent,
        &layer.legend,
        options("Most and least deprived districts highlighted", 900, true),
    )
    .expect("figure");
    check("england_lad19_imd_highlight", &figure);
}
