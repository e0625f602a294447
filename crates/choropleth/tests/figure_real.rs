//! Static maps of England on the real LAD 2019 boundaries and IMD 2019 scores: the SVG is valid and
//! complete (title, legend, credit as text, one path per district), the PNG has the requested size
//! and the class colours where the districts are, highlights and the London inset show, bad sizes
//! are refused.

use crate::figure_data;

use std::sync::OnceLock;

use choropleth::figure::{
    Figure, FigureError, FigureOptions, Fill, InsetCorner, MapDistrict, fit_extent,
};
use figure_data::{CREDIT, Layer};
use geo::InteriorPoint;
use image::RgbaImage;
use resvg::usvg;
use tile_math::Bounds;

const TITLE: &str = "Index of Multiple Deprivation 2019: average score";

fn lad() -> &'static Layer {
    static LAD: OnceLock<Layer> = OnceLock::new();
    LAD.get_or_init(|| Layer::lad_imd().unwrap_or_else(|e| panic!("LAD 2019 + IMD: {e}")))
}

fn england_extent(layer: &Layer) -> Bounds {
    layer.bounds_of(&[]).expect("England has geometry")
}

fn options(scale: f32, inset: bool) -> FigureOptions {
    FigureOptions {
        width: 800,
        height: 900,
        scale,
        title: TITLE.to_string(),
        subtitle: "Local authority districts, England, 2019 (quintiles)".to_string(),
        credit: CREDIT.to_string(),
        london_inset: inset.then_some(InsetCorner::TopRight),
        ..FigureOptions::default()
    }
}

/// Contents of every `<text>` element, in document order.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let (Some(open_end), Some(close)) = (rest.find('>'), rest.find("</text>")) else {
            break;
        };
        out.push(
            rest[open_end + 1..close]
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&apos;", "'")
                .replace("&quot;", "\""),
        );
        rest = &rest[close..];
    }
    out
}

fn decode(png: &[u8]) -> RgbaImage {
    image::load_from_memory(png)
        .expect("figure PNG decodes")
        .to_rgba8()
}

fn rgb_of(fill: Fill) -> [u8; 3] {
    match fill {
        Fill::Solid(c) => [c.0, c.1, c.2],
        Fill::NoData => panic!("expected a class colour"),
    }
}

/// Whether any pixel within `r` px of (x, y) has exactly `rgb`.
fn colour_near(img: &RgbaImage, x: f64, y: f64, r: i64, rgb: [u8; 3]) -> bool {
    (-r..=r).any(|dy| {
        (-r..=r).any(|dx| {
            let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
            px >= 0
                && py >= 0
                && img
                    .get_pixel_checked(px as u32, py as u32)
                    .is_some_and(|p| p.0[..3] == rgb)
        })
    })
}

#[test]
fn england_svg_is_valid_with_texts_and_one_path_per_district() {
    let layer = lad();
    assert_eq!(layer.areas.len(), 317);
    let figure = Figure::new(
        layer.districts(&[]),
        england_extent(layer),
        &layer.legend,
        options(1.0, false),
    )
    .expect("figure");
    assert_eq!(figure.districts_in_view(), 317);
    let svg = figure.to_svg();
    let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).expect("SVG parses");
    assert_eq!(tree.size().width(), 800.0);
    assert_eq!(svg.matches("<path").count(), 317);
    assert!(svg.contains(r#"fill-rule="evenodd""#));
    assert!(svg.contains(r#"font-family="DejaVu Sans""#));
    assert!(svg.contains("<pattern id=\"pm-hatch\""));

    let t = texts(&svg);
    assert!(t.contains(&TITLE.to_string()), "{t:?}");
    for e in &layer.legend.entries {
        assert!(
            t.contains(&e.label),
            "legend label {} missing in {t:?}",
            e.label
        );
        assert!(
            t.contains(&e.count.to_string()),
            "count {} missing",
            e.count
        );
    }
    assert!(t.contains(&"No data".to_string()));
    // The credit is wrapped over several lines that together give the whole text.
    let start = t
        .iter()
        .position(|s| s.starts_with("Source:"))
        .expect("credit");
    assert!(
        t.len() - start >= 2,
        "credit should wrap: {:?}",
        &t[start..]
    );
    let credit = t[start..].join(" ");
    assert_eq!(
        credit,
        CREDIT.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    // Coordinates are rounded to 0.1 px: no number in path data has two decimals.
    let d_start = svg.find(" d=\"").expect("path data") + 4;
    let d = &svg[d_start..d_start + svg[d_start..].find('"').expect("end of path data")];
    assert!(
        d.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .all(|n| n.split('.').nth(1).is_none_or(|f| f.len() <= 1)),
        "{d}"
    );
    assert!(
        figure.outline().is_some(),
        "317 districts at 800 px get outlines"
    );
}

#[test]
fn england_png_has_size_and_class_colours() {
    let layer = lad();
    let figure = Figure::new(
        layer.districts(&[]),
        england_extent(layer),
        &layer.legend,
        options(2.0, false),
    )
    .expect("figure");
    assert_eq!(figure.png_size(), (1600, 1800));
    let img = decode(&figure.to_png().expect("png"));
    assert_eq!(img.dimensions(), (1600, 1800));

    for code in ["E06000001", "E08000025", "E07000008", "E06000052"] {
        let i = layer.index_of(code).expect(code);
        let p = layer.areas[i]
            .mercator
            .interior_point()
            .expect("interior point");
        let (x, y) = figure.to_figure_px(p.x(), p.y());
        assert!(figure.map_rect().contains(x, y), "{code} in the map box");
        let rgb = rgb_of(layer.fills[i]);
        assert!(
            colour_near(&img, x * 2.0, y * 2.0, 1, rgb),
            "{code}: expected {rgb:?} at ({x:.1}, {y:.1}), found {:?}",
            img.get_pixel((x * 2.0) as u32, (y * 2.0) as u32)
        );
    }
    // Page corners are white background.
    assert_eq!(img.get_pixel(2, 2).0, [255, 255, 255, 255]);
    // The legend swatches carry the palette colours.
    let legend = figure.legend_rect();
    let colours: Vec<[u8; 3]> = layer
        .legend
        .entries
        .iter()
        .map(|e| [e.color.r, e.color.g, e.color.b])
        .collect();
    for rgb in colours {
        let found = (0..img.height()).any(|y| {
            (0..img.width()).any(|x| {
                legend.contains(f64::from(x) / 2.0, f64::from(y) / 2.0)
                    && img.get_pixel(x, y).0[..3] == rgb
            })
        });
        assert!(found, "legend swatch {rgb:?}");
    }
}

#[test]
fn highlighted_district_is_named_and_outlined() {
    let layer = lad();
    let code = "E06000009"; // Blackpool
    let figure = Figure::new(
        layer.districts(&[code]),
        england_extent(layer),
        &layer.legend,
        options(1.0, false),
    )
    .expect("figure");
    let svg = figure.to_svg();
    assert!(texts(&svg).contains(&"Blackpool".to_string()));
    assert!(svg.contains(r#"paint-order="stroke""#), "label halo");
    assert_eq!(svg.matches("<use ").count(), 1);
    assert_eq!(svg.matches("<path").count(), 317);
    usvg::Tree::from_str(&svg, &usvg::Options::default()).expect("SVG parses");

    // In the PNG, the highlight outline is dark near Blackpool's boundary.
    let img = decode(&figure.to_png().expect("png"));
    let i = layer.index_of(code).expect("Blackpool");
    let ring = &layer.areas[i].mercator.0[0].exterior().0;
    let dark = ring.iter().step_by(3).any(|c| {
        let (x, y) = figure.to_figure_px(c.x, c.y);
        (-1..=1).any(|dy| {
            (-1..=1).any(|dx| {
                let p = img.get_pixel((x as i64 + dx) as u32, (y as i64 + dy) as u32);
                p.0[0] < 80 && p.0[1] < 80 && p.0[2] < 80
            })
        })
    });
    assert!(dark, "dark highlight along Blackpool's boundary");
}

#[test]
fn london_inset_shows_london_districts_larger() {
    let layer = lad();
    let figure = Figure::new(
        layer.districts(&[]),
        england_extent(layer),
        &layer.legend,
        options(1.0, true),
    )
    .expect("figure");
    let inset = figure
        .inset_rect()
        .expect("inset drawn when asked and London is in view");
    let map = figure.map_rect();
    assert!(inset.x >= map.x && inset.x + inset.width <= map.x + map.width + 0.01);
    let svg = figure.to_svg();
    let london = layer
        .areas
        .iter()
        .filter(|a| a.code.starts_with("E09"))
        .count();
    assert_eq!(london, 33);
    assert_eq!(svg.matches("<path").count(), 317 + 33);
    assert!(texts(&svg).contains(&"London".to_string()));

    // Tower Hamlets' class colour fills a good part of the inset.
    let img = decode(&figure.to_png().expect("png"));
    let th = layer.index_of("E09000030").expect("Tower Hamlets");
    let rgb = rgb_of(layer.fills[th]);
    let mut hits = 0;
    for y in inset.y as u32..(inset.y + inset.height) as u32 {
        for x in inset.x as u32..(inset.x + inset.width) as u32 {
            if img.get_pixel(x, y).0[..3] == rgb {
                hits += 1;
            }
        }
    }
    assert!(
        hits > 100,
        "only {hits} px of Tower Hamlets' colour in the inset"
    );

    // Not asked: no inset. London out of view (North East only): no inset either.
    let no = Figure::new(
        layer.districts(&[]),
        england_extent(layer),
        &layer.legend,
        options(1.0, false),
    )
    .expect("figure");
    assert!(no.inset_rect().is_none());
    let ne = layer.bounds_of(&figure_data::NORTH_EAST).expect("NE");
    let ne_fig =
        Figure::new(layer.districts(&[]), ne, &layer.legend, options(1.0, true)).expect("figure");
    assert!(ne_fig.inset_rect().is_none());
}

#[test]
fn region_map_keeps_only_districts_in_view() {
    let layer = lad();
    let ne = layer.bounds_of(&figure_data::NORTH_EAST).expect("NE");
    let figure =
        Figure::new(layer.districts(&[]), ne, &layer.legend, options(1.0, false)).expect("figure");
    let n = figure.districts_in_view();
    // The 12 North East districts plus neighbours cut by the frame, not all of England.
    assert!((12..60).contains(&n), "{n} districts in view");
    let kept: Vec<usize> = figure.district_indices().collect();
    for code in figure_data::NORTH_EAST {
        let i = layer.index_of(code).expect(code);
        assert!(kept.contains(&i), "{code} drawn");
    }
    assert!(!kept.contains(&layer.index_of("E09000030").expect("TH")));
}

#[test]
fn bad_sizes_and_extents_are_errors() {
    let layer = lad();
    let extent = england_extent(layer);
    let make = |o: FigureOptions| Figure::new(layer.districts(&[]), extent, &layer.legend, o);
    for (w, h, s) in [
        (0, 900, 1.0),
        (800, 0, 1.0),
        (20_000, 900, 1.0),
        (800, 10_001, 1.0),
        (4000, 3000, 3.0),
        (800, 900, 0.0),
        (800, 900, -1.0),
        (800, 900, f32::INFINITY),
        (u32::MAX, u32::MAX, 1.0),
    ] {
        let o = FigureOptions {
            width: w,
            height: h,
            scale: s,
            ..options(1.0, false)
        };
        assert!(
            matches!(make(o), Err(FigureError::Size { .. })),
            "{w}x{h} at {s} must be refused"
        );
    }
    for bad in [
        Bounds {
            min_x: 0.0,
            min_y: 0.0,
            max_x: 0.0,
            max_y: 10.0,
        },
        Bounds {
            min_x: f64::NAN,
            min_y: 0.0,
            max_x: 1.0,
            max_y: 10.0,
        },
        Bounds {
            min_x: 5.0,
            min_y: 0.0,
            max_x: 1.0,
            max_y: 10.0,
        },
    ] {
        let r = Figure::new(
            layer.districts(&[]),
            bad,
            &layer.legend,
            options(1.0, false),
        );
        assert!(matches!(r, Err(FigureError::Extent { .. })), "{bad:?}");
    }
    // A credit so long it leaves no room for the map.
    let long = FigureOptions {
        width: 300,
        height: 300,
        credit: CREDIT.repeat(6),
        ..options(1.0, false)
    };
    let err = make(long).expect_err("no room");
    assert!(matches!(err, FigureError::NoRoomForMap { .. }), "{err}");
    assert!(fit_extent(extent, 100.0, 100.0, 60.0).is_err());
}

#[test]
fn no_data_is_hatched_in_svg_and_png() {
    let layer = lad();
    // Blank out Hartlepool's value: it must come out as the hatched grey.
    let i = layer.index_of("E06000001").expect("Hartlepool");
    let districts: Vec<MapDistrict<'_>> = layer
        .districts(&[])
        .into_iter()
        .enumerate()
        .map(|(j, mut d)| {
            if j == i {
                d.fill = Fill::NoData;
            }
            d
        })
        .collect();
    let ne = layer.bounds_of(&["E06000001"]).expect("Hartlepool");
    let extent = fit_extent(ne, 400.0, 400.0, 150.0).expect("extent");
    let figure =
        Figure::new(districts, extent, &layer.legend, options(1.0, false)).expect("figure");
    let svg = figure.to_svg();
    assert!(svg.contains(r#"<g fill="url(#pm-hatch)"><path"#));
    let img = decode(&figure.to_png().expect("png"));
    let p = layer.areas[i].mercator.interior_point().expect("point");
    let (x, y) = figure.to_figure_px(p.x(), p.y());
    assert!(
        colour_near(&img, x, y, 4, [0xbd, 0xbd, 0xbd]),
        "no-data grey"
    );
    assert!(colour_near(&img, x, y, 4, [0x6e, 0x6e, 0x6e]), "hatch line");
}
