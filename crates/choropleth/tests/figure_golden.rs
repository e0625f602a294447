//! Golden static maps under the repository's `tests/expected/static/`: England (with the London
//! inset), the North East region, and England with highlighted, labelled districts, all on the
//! real LAD 2019 boundaries and IMD 2019 average scores, 800 px wide.
//!
//! Compared with `test_support::golden` (PNGs per pixel with its one tolerance, SVGs
//! structurally); `PLACEMAP_BLESS=1` rewrites the golden files, and a missing golden file fails
//! under `CI=true`.

use crate::figure_data;

use std::sync::OnceLock;

use choropleth::figure::{Figure, FigureError, FigureOptions, InsetCorner, fit_extent};
use figure_data::{CREDIT, Layer, NORTH_EAST};
use test_support::golden;

fn lad() -> &'static Layer {
    static LAD: OnceLock<Layer> = OnceLock::new();
    LAD.get_or_init(|| Layer::lad_imd().unwrap_or_else(|e| panic!("LAD 2019 + IMD: {e}")))
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

fn check(name: &str, figure: &Figure<'_>) {
    let svg = figure.to_svg();
    let png = figure.to_png().expect("PNG");
    golden::check_svg(&format!("static/{name}.svg"), &svg);
    golden::check_png(&format!("static/{name}.png"), &png);
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

/// Decoded RGBA pixels of a PNG.
fn pixels(png: &[u8]) -> image::RgbaImage {
    image::load_from_memory(png)
        .expect("PNG decodes")
        .to_rgba8()
}

/// (pixels that differ at all, largest channel difference) between two images of one size.
fn difference(a: &image::RgbaImage, b: &image::RgbaImage) -> (usize, u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels()
        .zip(b.pixels())
        .map(|(p, q)| {
            p.0.iter()
                .zip(q.0.iter())
                .map(|(x, y)| x.abs_diff(*y))
                .max()
                .unwrap_or(0)
        })
        .filter(|d| *d > 0)
        .fold((0, 0), |(n, m), d| (n + 1, m.max(d)))
}

/// Strips may move an anti-aliased edge pixel by a few levels (tiny-skia steps an edge from
/// where it was cut, at the strip's drawn margin): at most 8 of 255, on under 0.1% of the
/// pixels (measured: 6 levels on 133 of 720,000 pixels with 37-row strips; 7 on 2 of 9 M with
/// two strips), far inside the golden files' tolerance (32 levels).
fn assert_same_within_rounding(off: usize, most: u8, pixels: usize) {
    assert!(
        most <= 8 && off * 1000 < pixels,
        "{off} of {pixels} pixels differ between strips and whole, by up to {most}"
    );
}

/// A figure drawn in horizontal strips (as large PNGs are, to hold one strip of pixels rather
/// than the whole image) has the pixels of the figure drawn whole (within rounding): polygons, outlines and
/// highlights crossing strip edges, the London inset and the text overlay. 37-row strips cut
/// the 900 px England figure 25 times, through districts, inset, legend and title.
#[test]
fn a_figure_drawn_in_strips_has_the_pixels_of_one_drawn_whole() {
    let layer = lad();
    let extent = layer.bounds_of(&[]).expect("England");
    let figure = Figure::new(
        layer.districts(&["E06000009", "E08000003", "E09000030"]),
        extent,
        &layer.legend,
        options("Strips", 900, true),
    )
    .expect("figure");
    assert!(figure.outline().is_some() && figure.inset_rect().is_some());
    let whole = figure.to_png_in_strips(u32::MAX, &|| false).expect("whole");
    assert_eq!(
        whole,
        figure.to_png().expect("PNG"),
        "900 px is drawn whole"
    );
    let strips = figure.to_png_in_strips(37, &|| false).expect("strips");
    let (a, b) = (pixels(&whole), pixels(&strips));
    assert_eq!(b.dimensions(), (800, 900));
    let (off, most) = difference(&a, &b);
    assert_same_within_rounding(off, most, 800 * 900);
    // Cancelling stops a drawing in strips.
    let calls = std::cell::Cell::new(0);
    let r = figure.to_png_in_strips(37, &|| {
        calls.set(calls.get() + 1);
        calls.get() > 1_000
    });
    assert!(matches!(r, Err(FigureError::Cancelled)), "{r:?}");
}

/// A PNG over `STRIP_PIXELS` is drawn in strips by `to_png` and has the pixels of the same
/// figure drawn whole, within rounding (3,000 px square at scale 3: 9 M pixels, two strips).
#[test]
fn a_large_png_is_drawn_in_strips_with_the_same_pixels() {
    let layer = lad();
    let extent = layer.bounds_of(&[]).expect("England");
    let mut o = options("Large", 1000, true);
    o.width = 1000;
    o.scale = 3.0;
    let figure =
        Figure::new(layer.districts(&["E08000003"]), extent, &layer.legend, o).expect("figure");
    assert_eq!(figure.png_size(), (3000, 3000));
    assert!(u64::from(3000u32 * 3000) > choropleth::figure::STRIP_PIXELS);
    let strips = figure.to_png().expect("PNG in strips");
    let whole = figure.to_png_in_strips(u32::MAX, &|| false).expect("whole");
    let (off, most) = difference(&pixels(&whole), &pixels(&strips));
    assert_same_within_rounding(off, most, 3000 * 3000);
}
