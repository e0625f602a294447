//! Static map of England at 1600 px wide, PNG, for LAD 2019 (317 English districts) and LSOA 2011
//! (32,844), IMD 2019 in OrRd quintiles with legend, title and credit: the same map as the peer
//! `shared/bench/geopandas_static.py` draws. Timed: layout (`Figure::new`) + `to_png` (polygons,
//! overlay text through resvg, PNG encoding). Reading and projecting the GeoJSON happens once,
//! outside the timed loop; the peer's number to compare with is its `plot_save_s`.

#[path = "../tests/common/figure_data.rs"]
mod figure_data;

use std::hint::black_box;
use std::time::Duration;

use choropleth::figure::{Figure, FigureOptions, InsetCorner, fit_extent};
use criterion::{Criterion, criterion_group, criterion_main};
use figure_data::Layer;

fn options(title: &str) -> FigureOptions {
    FigureOptions {
        width: 1600,
        height: 1800,
        scale: 1.0,
        title: title.to_string(),
        subtitle: "England, 2019".to_string(),
        credit: figure_data::CREDIT.to_string(),
        london_inset: Some(InsetCorner::TopRight),
        ..FigureOptions::default()
    }
}

fn png(layer: &Layer, title: &str) -> Vec<u8> {
    let Some(bounds) = layer.bounds_of(&[]) else {
        panic!("layer has no geometry")
    };
    let extent = match fit_extent(bounds, 1.0, 1.0, 0.0) {
        Ok(e) => e,
        Err(e) => panic!("extent: {e}"),
    };
    let figure = match Figure::new(layer.districts(&[]), extent, &layer.legend, options(title)) {
        Ok(f) => f,
        Err(e) => panic!("figure: {e}"),
    };
    match figure.to_png() {
        Ok(p) => p,
        Err(e) => panic!("png: {e}"),
    }
}

/// Checks the output before timing: a PNG of the requested size.
fn check(bytes: &[u8]) {
    let img = match image::load_from_memory(bytes) {
        Ok(i) => i,
        Err(e) => panic!("benchmark output is not a PNG: {e}"),
    };
    assert_eq!((img.width(), img.height()), (1600, 1800));
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("static_map_england_1600px_png");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));

    let lad = Layer::lad_imd().unwrap_or_else(|e| panic!("LAD 2019: {e}"));
    assert_eq!(lad.areas.len(), 317);
    check(&png(
        &lad,
        "Index of Multiple Deprivation 2019: average score",
    ));
    group.bench_function("lad19", |b| {
        b.iter(|| {
            black_box(png(
                &lad,
                "Index of Multiple Deprivation 2019: average score",
            ))
        });
    });
    drop(lad);

    let lsoa = Layer::lsoa_imd().unwrap_or_else(|e| panic!("LSOA 2011: {e}"));
    assert_eq!(lsoa.areas.len(), 32_844);
    check(&png(&lsoa, "Index of Multiple Deprivation 2019: decile"));
    group.bench_function("lsoa11", |b| {
        b.iter(|| black_box(png(&lsoa, "Index of Multiple Deprivation 2019: decile")));
    });
    // The SVG of the same LSOA map (layout + writing ~3 MB of path data), for the record.
    let svg = |layer: &Layer| {
        let extent = layer
            .bounds_of(&[])
            .unwrap_or_else(|| panic!("no geometry"));
        let figure = Figure::new(
            layer.districts(&[]),
            extent,
            &layer.legend,
            options("Index of Multiple Deprivation 2019: decile"),
        )
        .unwrap_or_else(|e| panic!("figure: {e}"));
        figure.to_svg()
    };
    assert_eq!(svg(&lsoa).matches("<path").count(), 32_844 + 4_835);
    group.bench_function("lsoa11_svg", |b| b.iter(|| black_box(svg(&lsoa))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
