//! Golden static maps under the repository's `tests/expected/static/`: England (with the London
//! inset), the North East region, and England with highlighted, labelled districts, all on the
//! real LAD 2019 boundaries and IMD 2019 average scores, 800 px wide.
//!
//! Compared with `test_support::golden` (PNGs per pixel with its one tolerance, SVGs
//! structurally); `PLACEMAP_BLESS=1` rewrites the golden files, and a missing golden file fails
//! under `CI=true`.

use crate::figure_data;

use std::sync::OnceLock;

use choropleth::figure::{Figure, FigureOptions, InsetCorner, fit_extent};
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
