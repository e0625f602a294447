//! Issue 12: tiles and SVG figures stop soon after their request is cancelled, like static PNGs,
//! Moran's permutations and exports (a client gone, a deadline passed), on the real LSOAs.

use std::cell::Cell;

use choropleth::render::TileSize;
use maps::figure::{Format, render_cancellable};
use maps::raster::{render_tile, render_tile_cancellable};
use maps::{ErrorKind, FigureOptions, StyleOptions};
use tile_math::TileId;

/// A cancel flag that trips after `n` looks, counting every look.
fn trips_after(n: usize, looks: &Cell<usize>) -> impl Fn() -> bool + '_ {
    move || {
        looks.set(looks.get() + 1);
        looks.get() > n
    }
}

#[test]
fn a_cancelled_tile_stops_and_the_next_tile_is_whole() {
    let st = placemap_e2e::state();
    let layer = st.maps.layer("lsoa11").expect("lsoa11");
    let ind = st.maps.indicator(layer, "imd_decile").expect("imd_decile");
    let style = st
        .maps
        .styles
        .resolve(layer, ind, &StyleOptions::default())
        .expect("default style");
    // England west of Greenwich at z5: about 25,000 LSOAs in one tile.
    let tile = TileId { z: 5, x: 15, y: 10 };
    let whole = render_tile(&st.maps, &style, tile, TileSize::Retina).expect("tile renders");

    let looks = Cell::new(0);
    let e = render_tile_cancellable(
        &st.maps,
        &style,
        tile,
        TileSize::Retina,
        &trips_after(4, &looks),
    )
    .expect_err("cancelled");
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert_eq!(looks.get(), 5, "stopped at the first look after the cancel");

    // The thread's renderer is left ready: the same tile again is the same PNG.
    let again = render_tile(&st.maps, &style, tile, TileSize::Retina).expect("tile renders");
    assert_eq!(again, whole);
    // Drawn to the end, the tile looks often enough to stop within a few hundred districts.
    let looks = Cell::new(0);
    let count = || {
        looks.set(looks.get() + 1);
        false
    };
    let counted =
        render_tile_cancellable(&st.maps, &style, tile, TileSize::Retina, &count).expect("tile");
    assert_eq!(counted, whole);
    assert!(looks.get() > 50, "only {} looks", looks.get());
}

#[test]
fn a_cancelled_svg_figure_stops() {
    let st = placemap_e2e::state();
    let layer = st.maps.layer("lsoa11").expect("lsoa11");
    let ind = st.maps.indicator(layer, "imd_decile").expect("imd_decile");
    let opts = (&StyleOptions::default(), &FigureOptions::default());
    let svg = render_cancellable(&st.maps.styles, layer, ind, opts, Format::Svg, &|| false)
        .expect("SVG of the LSOAs");
    assert!(svg.starts_with(b"<svg"), "not an SVG");

    let looks = Cell::new(0);
    let e = render_cancellable(
        &st.maps.styles,
        layer,
        ind,
        opts,
        Format::Svg,
        &trips_after(4, &looks),
    )
    .expect_err("cancelled");
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    assert_eq!(looks.get(), 5, "stopped at the first look after the cancel");
}
