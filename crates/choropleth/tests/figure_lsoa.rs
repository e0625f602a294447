//! The static map at LSOA scale: all 32,844 English LSOAs 2011 with IMD 2019 deciles. Outlines are
//! left out automatically (a typical LSOA is a few pixels across), every district is still one
//! `<path>`, the SVG parses, and the PNG shows the class colours where the LSOAs are.
//!
//! Set `PLACEMAP_FIGURE_OUT=DIR` to keep the PNG and SVG for a look.

use crate::figure_data;

use choropleth::figure::{Figure, FigureOptions, Fill, InsetCorner};
use figure_data::Layer;
use geo::InteriorPoint;
use resvg::usvg;

#[test]
fn england_lsoa_map_has_no_outlines_and_every_district() {
    let layer = Layer::lsoa_imd().unwrap_or_else(|e| panic!("LSOA 2011 + IMD: {e}"));
    assert_eq!(layer.areas.len(), 32_844);
    assert!(layer.fills.iter().all(|f| matches!(f, Fill::Solid(_))));
    let extent = layer.bounds_of(&[]).expect("England");
    let options = FigureOptions {
        width: 800,
        height: 900,
        title: "Index of Multiple Deprivation 2019: decile".into(),
        subtitle: "Lower layer super output areas (2011), England".into(),
        credit: figure_data::CREDIT.into(),
        london_inset: Some(InsetCorner::TopRight),
        ..FigureOptions::default()
    };
    let figure = Figure::new(layer.districts(&[]), extent, &layer.legend, options).expect("figure");
    assert_eq!(figure.outline(), None, "no outlines at LSOA scale");
    assert!(figure.inset_rect().is_some());

    let svg = figure.to_svg();
    let london = layer
        .areas
        .iter()
        .filter(|a| a.lad.starts_with("E09"))
        .count();
    assert_eq!(london, 4_835, "LSOAs in London boroughs");
    assert_eq!(svg.matches("<path").count(), 32_844 + london);
    assert!(!svg.contains(r##"stroke="#ffffff" stroke-width"##));
    usvg::Tree::from_str(&svg, &usvg::Options::default()).expect("SVG parses");

    let png = figure.to_png().expect("png");
    let img = image::load_from_memory(&png).expect("decodes").to_rgba8();
    assert_eq!(img.dimensions(), (800, 900));
    // Large rural LSOAs show their class colour at their interior point.
    let mut checked = 0;
    for (a, fill) in layer.areas.iter().zip(&layer.fills) {
        let Fill::Solid(c) = *fill else { continue };
        let Some(r) = geo::BoundingRect::bounding_rect(&a.mercator) else {
            continue;
        };
        if r.width() < 15_000.0 || r.height() < 15_000.0 {
            continue;
        }
        let p = a.mercator.interior_point().expect("point");
        let (x, y) = figure.to_figure_px(p.x(), p.y());
        if figure.inset_rect().is_some_and(|r| r.contains(x, y)) {
            continue; // under the London inset
        }
        // Anti-aliasing mixes colours along edges: some pixel next to the point is the class colour.
        let close = (-1i64..=1).any(|dy| {
            (-1i64..=1).any(|dx| {
                let px = img
                    .get_pixel((x as i64 + dx) as u32, (y as i64 + dy) as u32)
                    .0;
                px[..3]
                    .iter()
                    .zip([c.0, c.1, c.2])
                    .all(|(a, b)| a.abs_diff(b) <= 8)
            })
        });
        assert!(close, "{} at ({x:.0}, {y:.0}): expected {c:?}", a.code);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} large LSOAs checked");

    if let Some(dir) = std::env::var_os("PLACEMAP_FIGURE_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("england_lsoa11_imd.png"), &png).expect("write PNG");
        std::fs::write(dir.join("england_lsoa11_imd.svg"), &svg).expect("write SVG");
    }
}
