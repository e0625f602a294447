//! Renderer behaviour on small synthetic shapes, checked on the decoded PNG.

use choropleth::render::{
    Feature, Fill, Outline, PngEncoder, Rgba, TileRaster, TileRenderer, TileSize, TileStyle,
    encode_png, outline_width_for_zoom, render_tile,
};
use geo_types::{LineString, MultiPolygon, Polygon};
use image::RgbaImage;
use tile_math::Bounds;

const ORRD: [Rgba; 5] = [
    Rgba(0xfe, 0xf0, 0xd9, 255),
    Rgba(0xfd, 0xcc, 0x8a, 255),
    Rgba(0xfc, 0x8d, 0x59, 255),
    Rgba(0xe3, 0x4a, 0x33, 255),
    Rgba(0xb3, 0x00, 0x00, 255),
];
const RED: Rgba = Rgba(255, 0, 0, 255);
const BOUNDS: Bounds = Bounds {
    min_x: 0.0,
    min_y: 0.0,
    max_x: 100.0,
    max_y: 100.0,
};

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> LineString<f64> {
    LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
}

fn mp(polys: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    MultiPolygon(polys)
}

fn solid(g: &MultiPolygon<f64>, c: Rgba) -> Feature<'_> {
    Feature {
        geometry: g,
        fill: Fill::Solid(c),
        highlight: false,
    }
}

fn decode(png: &[u8]) -> RgbaImage {
    match image::load_from_memory(png) {
        Ok(i) => i.to_rgba8(),
        Err(e) => panic!("our PNG does not decode: {e}"),
    }
}

fn px(img: &RgbaImage, x: u32, y: u32) -> Rgba {
    let p = img.get_pixel(x, y).0;
    Rgba(p[0], p[1], p[2], p[3])
}

/// Renders through the full path a server takes: shortcuts, then PNG, then decode.
fn render_png(features: &[Feature<'_>], style: &TileStyle, size: TileSize) -> RgbaImage {
    let mut r = TileRenderer::new(size);
    let raster = r
        .render(BOUNDS, features.iter().copied(), style)
        .expect("valid bounds");
    let png = PngEncoder::new()
        .encode_raster(&raster, size)
        .expect("encodes");
    decode(&png)
}

#[test]
fn square_has_its_colour_inside_and_is_transparent_outside() {
    let g = mp(vec![Polygon::new(square(25.0, 25.0, 75.0, 75.0), vec![])]);
    let img = render_png(
        &[solid(&g, ORRD[2])],
        &TileStyle::for_zoom(8),
        TileSize::Standard,
    );
    assert_eq!(img.dimensions(), (256, 256));
    assert_eq!(px(&img, 128, 128), ORRD[2]);
    assert_eq!(px(&img, 70, 70), ORRD[2]);
    assert_eq!(px(&img, 10, 10).3, 0);
    assert_eq!(px(&img, 250, 128).3, 0);
    // y runs down in pixels and up in metres: the square spans rows 64..192 either way, so check
    // an asymmetric shape for orientation.
    let tri = mp(vec![Polygon::new(
        LineString::from(vec![(0.0, 100.0), (50.0, 100.0), (0.0, 50.0), (0.0, 100.0)]),
        vec![],
    )]);
    let img = render_png(
        &[solid(&tri, RED)],
        &TileStyle::for_zoom(8),
        TileSize::Standard,
    );
    assert_eq!(
        px(&img, 20, 20),
        RED,
        "north-west corner of the tile is the top-left pixel"
    );
    assert_eq!(px(&img, 20, 235).3, 0);
}

#[test]
fn hole_stays_transparent() {
    let g = mp(vec![Polygon::new(
        square(10.0, 10.0, 90.0, 90.0),
        vec![square(40.0, 40.0, 60.0, 60.0)],
    )]);
    let img = render_png(
        &[solid(&g, ORRD[4])],
        &TileStyle::for_zoom(8),
        TileSize::Standard,
    );
    assert_eq!(px(&img, 128, 128).3, 0, "hole is transparent");
    assert_eq!(px(&img, 50, 128), ORRD[4]);
}

#[test]
fn overlapping_shells_leave_the_overlap_empty() {
    // A hole stored as a second, overlapping polygon (as in ONS BGC South Cambridgeshire).
    let g = mp(vec![
        Polygon::new(square(10.0, 10.0, 90.0, 90.0), vec![]),
        Polygon::new(square(40.0, 40.0, 60.0, 60.0), vec![]),
    ]);
    let img = render_png(
        &[solid(&g, ORRD[3])],
        &TileStyle::for_zoom(8),
        TileSize::Standard,
    );
    assert_eq!(px(&img, 128, 128).3, 0, "even-odd: the overlap is empty");
    assert_eq!(px(&img, 50, 128), ORRD[3]);
}

#[test]
fn no_data_is_hatched_grey_and_never_a_class_colour() {
    let g = mp(vec![Polygon::new(square(10.0, 10.0, 90.0, 90.0), vec![])]);
    let f = Feature {
        geometry: &g,
        fill: Fill::NoData,
        highlight: false,
    };
    let style = TileStyle::for_zoom(8);
    let img = render_png(&[f], &style, TileSize::Standard);
    let mut seen = std::collections::HashSet::new();
    for y in 100..140 {
        for x in 100..140 {
            let c = px(&img, x, y);
            assert_eq!(c.3, 255, "no-data is opaque at ({x},{y})");
            assert!(
                !ORRD.contains(&c),
                "no-data pixel {c:?} equals a class colour"
            );
            seen.insert(c);
        }
    }
    assert!(seen.contains(&style.no_data), "grey background present");
    assert!(seen.contains(&style.no_data_hatch), "hatch lines present");
    // Diagonal: each hatch pixel has another one step left on the row below.
    let row: Vec<u32> = (101..130)
        .filter(|&x| px(&img, x, 110) == style.no_data_hatch)
        .collect();
    assert!(
        row.len() >= 3,
        "several hatch lines cross a 29 px row: {row:?}"
    );
    for x in row {
        assert_eq!(
            px(&img, x - 1, 111),
            style.no_data_hatch,
            "hatch is diagonal at x = {x}"
        );
        assert_ne!(
            px(&img, x, 111),
            style.no_data_hatch,
            "hatch is not vertical at x = {x}"
        );
    }
}

#[test]
fn highlight_draws_its_colour_on_the_boundary() {
    let g = mp(vec![Polygon::new(square(25.0, 25.0, 75.0, 75.0), vec![])]);
    let style = TileStyle::for_zoom(8);
    let plain = render_png(&[solid(&g, ORRD[1])], &style, TileSize::Standard);
    let mut f = solid(&g, ORRD[1]);
    f.highlight = true;
    let lit = render_png(&[f], &style, TileSize::Standard);
    // The west edge is at x = 64.0 px: pixels 63 and 64 lie under a 2.5 px line.
    for x in [63, 64] {
        assert_eq!(px(&lit, x, 128), style.highlight.colour);
        assert_ne!(px(&plain, x, 128), style.highlight.colour);
    }
    assert_eq!(px(&lit, 128, 128), ORRD[1], "inside keeps its fill");
}

#[test]
fn retina_tile_has_512_px_and_the_same_bounds() {
    let g = mp(vec![Polygon::new(square(25.0, 25.0, 75.0, 75.0), vec![])]);
    let img = render_png(&[solid(&g, RED)], &TileStyle::for_zoom(8), TileSize::Retina);
    assert_eq!(img.dimensions(), (512, 512));
    assert_eq!(px(&img, 256, 256), RED);
    assert_eq!(px(&img, 130, 256), RED);
    assert_eq!(px(&img, 120, 256).3, 0);
    // Outline widths scale with the tile: the highlight covers 2 × 2.5 px around x = 128.
    let mut f = solid(&g, RED);
    f.highlight = true;
    let style = TileStyle::for_zoom(8);
    let img = render_png(&[f], &style, TileSize::Retina);
    for x in 126..130 {
        assert_eq!(px(&img, x, 256), style.highlight.colour, "x = {x}");
    }
}

#[test]
fn outline_width_grows_with_zoom() {
    let widths: Vec<f32> = (0..=22).map(outline_width_for_zoom).collect();
    assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
    assert!(widths[12] > widths[4]);
    // Drawn: two abutting squares share a boundary at x = 50 (px 128); count how far the
    // white outline reaches into the fills.
    let a = mp(vec![Polygon::new(square(0.0, 0.0, 50.0, 100.0), vec![])]);
    let b = mp(vec![Polygon::new(square(50.0, 0.0, 100.0, 100.0), vec![])]);
    let coverage = |z: u8| -> u32 {
        let img = render_png(
            &[solid(&a, ORRD[4]), solid(&b, ORRD[4])],
            &TileStyle::for_zoom(z),
            TileSize::Standard,
        );
        (118..138)
            .map(|x| u32::from(px(&img, x, 128).1)) // green channel: 0 in the fill, 255 in white
            .sum()
    };
    assert!(
        coverage(12) > coverage(4),
        "{} vs {}",
        coverage(12),
        coverage(4)
    );
}

#[test]
fn flat_and_empty_shortcuts_agree_with_rasterising() {
    let g = mp(vec![Polygon::new(
        square(-50.0, -50.0, 150.0, 150.0),
        vec![],
    )]);
    let far = mp(vec![Polygon::new(
        square(500.0, 500.0, 600.0, 600.0),
        vec![],
    )]);
    let style = TileStyle::for_zoom(8);
    let mut r = TileRenderer::new(TileSize::Standard);
    let feats = [solid(&far, ORRD[0]), solid(&g, ORRD[2])];
    assert_eq!(
        r.render(BOUNDS, feats, &style).expect("valid"),
        TileRaster::Flat(ORRD[2])
    );
    let pixels = r.render_pixels(BOUNDS, feats, &style).expect("valid");
    let img = decode(&encode_png(pixels).expect("encodes"));
    assert!(img.pixels().all(|p| p.0 == [0xfc, 0x8d, 0x59, 255]));

    assert_eq!(
        r.render(BOUNDS, [solid(&far, RED)], &style).expect("valid"),
        TileRaster::Empty
    );
    // A tile inside the hole of a polygon is empty too.
    let holed = mp(vec![Polygon::new(
        square(-100.0, -100.0, 200.0, 200.0),
        vec![square(-50.0, -50.0, 150.0, 150.0)],
    )]);
    assert_eq!(
        r.render(BOUNDS, [solid(&holed, RED)], &style)
            .expect("valid"),
        TileRaster::Empty
    );
    // A boundary crossing the tile forces real pixels.
    let half = mp(vec![Polygon::new(
        square(-50.0, -50.0, 50.0, 150.0),
        vec![],
    )]);
    assert!(matches!(
        r.render(BOUNDS, [solid(&half, RED)], &style)
            .expect("valid"),
        TileRaster::Pixels(_)
    ));
    // No-data and translucent fills are never flat.
    let nd = Feature {
        geometry: &g,
        fill: Fill::NoData,
        highlight: false,
    };
    assert!(matches!(
        r.render(BOUNDS, [nd], &style).expect("valid"),
        TileRaster::Pixels(_)
    ));
}

#[test]
fn huge_and_non_finite_coordinates_do_not_break_the_tile() {
    // A square reaching a billion metres out on every side (far beyond f32 precision in pixels),
    // with one NaN vertex that must be dropped rather than poison the path.
    let ring = LineString::from(vec![
        (-1e12, -1e12),
        (1e12, -1e12),
        (f64::NAN, 3.0),
        (1e12, 1e12),
        (-1e12, 1e12),
        (-1e12, -1e12),
    ]);
    let g = mp(vec![Polygon::new(ring, vec![])]);
    let style = TileStyle {
        outline: Some(Outline {
            colour: Rgba::WHITE,
            width_px: 1.0,
        }),
        ..TileStyle::for_zoom(18)
    };
    let p = render_tile(BOUNDS, TileSize::Standard, [solid(&g, RED)], &style).expect("valid");
    let img = decode(&encode_png(&p).expect("encodes"));
    assert!(
        img.pixels().all(|p| p.0 == [255, 0, 0, 255]),
        "whole tile red"
    );

    // A thin sliver from far away crossing the tile: its edges keep sub-pixel precision.
    let sliver = mp(vec![Polygon::new(
        LineString::from(vec![
            (-1e9, 49.0),
            (1e9, 49.0),
            (1e9, 51.0),
            (-1e9, 51.0),
            (-1e9, 49.0),
        ]),
        vec![],
    )]);
    let no_outline = TileStyle {
        outline: None,
        ..style
    };
    let p = render_tile(
        BOUNDS,
        TileSize::Standard,
        [solid(&sliver, RED)],
        &no_outline,
    )
    .expect("valid");
    let img = decode(&encode_png(&p).expect("encodes"));
    // 49..51 m is rows 125.44..130.56: rows 126..=129 are full, 120 and 135 empty.
    for x in [0, 128, 255] {
        for y in 126..=129 {
            assert_eq!(px(&img, x, y), RED, "({x},{y})");
        }
        assert_eq!(px(&img, x, 120).3, 0);
        assert_eq!(px(&img, x, 135).3, 0);
    }

    let bad = Bounds {
        min_x: 0.0,
        min_y: 0.0,
        max_x: f64::NAN,
        max_y: 1.0,
    };
    assert!(render_tile(bad, TileSize::Standard, [], &style).is_err());
}

#[test]
fn png_round_trips_indexed_and_rgba() {
    // Few colours: indexed PNG (colour type 3 in IHDR, byte 25).
    let g = mp(vec![Polygon::new(square(25.0, 25.0, 75.0, 75.0), vec![])]);
    let style = TileStyle {
        outline: None,
        ..TileStyle::for_zoom(8)
    };
    let p = render_tile(BOUNDS, TileSize::Standard, [solid(&g, ORRD[0])], &style).expect("valid");
    let png = encode_png(&p).expect("encodes");
    assert_eq!(png[25], 3, "indexed colour type");
    let img = decode(&png);
    for (x, y, d) in img.enumerate_pixels() {
        let c = p.pixel(x, y).expect("in range").demultiply();
        assert_eq!(d.0, [c.red(), c.green(), c.blue(), c.alpha()]);
    }

    // Many colours (a gradient with varying alpha): RGBA PNG, still exact after demultiplying.
    let mut p = tiny_skia::Pixmap::new(64, 64).expect("size");
    for (i, px) in p.pixels_mut().iter_mut().enumerate() {
        // Every alpha from 0 to 250, and every seventh pixel opaque.
        let a = if i % 7 == 0 { 255 } else { (i % 251) as u8 };
        let c = tiny_skia::ColorU8::from_rgba((i / 64) as u8 * 4, (i % 64) as u8 * 4, 200, a);
        *px = c.premultiply();
    }
    let png = encode_png(&p).expect("encodes");
    assert_eq!(png[25], 6, "RGBA colour type");
    let img = decode(&png);
    for (x, y, d) in img.enumerate_pixels() {
        let c = p.pixel(x, y).expect("in range").demultiply();
        assert_eq!(d.0, [c.red(), c.green(), c.blue(), c.alpha()], "({x},{y})");
    }
}

#[test]
fn sub_pixel_districts_are_blended_by_area() {
    // 100 m tile, 256 px: a 0.2 m square is 0.512 px wide, 0.262 px² inside pixel (128, 127).
    let g = mp(vec![Polygon::new(
        square(50.05, 50.05, 50.25, 50.25),
        vec![],
    )]);
    let style = TileStyle {
        outline: None,
        ..TileStyle::for_zoom(5)
    };
    let p = render_tile(BOUNDS, TileSize::Standard, [solid(&g, RED)], &style).expect("valid");
    let c = p.pixel(128, 127).expect("in range");
    let expected = 0.512f64 * 0.512 * 255.0;
    assert!(
        (f64::from(c.alpha()) - expected).abs() <= 2.0,
        "alpha {} vs {expected}",
        c.alpha()
    );
    assert_eq!(c.red(), c.alpha(), "pure red, premultiplied");
    let painted = p.pixels().iter().filter(|p| p.alpha() > 0).count();
    assert_eq!(painted, 1, "only the pixel holding the speck");

    // With an outline, the perimeter's share of white is blended on top.
    let style = TileStyle::for_zoom(5);
    let p = render_tile(BOUNDS, TileSize::Standard, [solid(&g, RED)], &style).expect("valid");
    let c = p.pixel(128, 127).expect("in range").demultiply();
    assert!(c.green() > 0 && c.alpha() > 150, "{c:?}");
}

#[test]
fn same_fill_neighbours_merge_without_a_seam_and_unmerged_fills_paint_in_order() {
    // Two squares meeting at x = 50.2 m (px 128.512, inside a pixel column).
    let a = mp(vec![Polygon::new(square(10.0, 10.0, 50.2, 90.0), vec![])]);
    let b = mp(vec![Polygon::new(square(50.2, 10.0, 90.0, 90.0), vec![])]);
    let style = TileStyle {
        outline: None,
        ..TileStyle::for_zoom(8)
    };
    let merged = render_tile(
        BOUNDS,
        TileSize::Standard,
        [solid(&a, ORRD[3]), solid(&b, ORRD[3])],
        &style,
    )
    .expect("valid");
    let c = merged.pixel(128, 128).expect("in range");
    assert_eq!(
        c.alpha(),
        255,
        "no anti-aliasing seam between same-fill neighbours"
    );

    // Unmerged: each district on its own, the later one over the earlier where they overlap.
    let big = mp(vec![Polygon::new(square(10.0, 10.0, 90.0, 90.0), vec![])]);
    let small = mp(vec![Polygon::new(square(40.0, 40.0, 60.0, 60.0), vec![])]);
    let mut r = TileRenderer::new(TileSize::Standard);
    r.set_merge_fills(false);
    let p = r
        .render_pixels(
            BOUNDS,
            [
                solid(&big, ORRD[0]),
                solid(&small, ORRD[0]),
                solid(&small, RED),
            ],
            &style,
        )
        .expect("valid");
    let img = decode(&encode_png(p).expect("encodes"));
    assert_eq!(px(&img, 128, 128), RED);
    assert_eq!(px(&img, 50, 128), ORRD[0]);
}
