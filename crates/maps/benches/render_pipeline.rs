//! Tile rendering through the server's own pipeline (issue 3), single thread, on the peer
//! benchmark's tile set (England z5..z10, 120 sampled tiles per zoom, the list written by
//! crates/choropleth/benches/gen_tiles_z5_z10.py with mapnik_tiles.py's own code).
//!
//! Two groups:
//! - `server_pipeline_z5_z10/{lad19,lsoa11}`: the server state's per-zoom gap-free simplified
//!   geometry (`Loaded::bands`, i.e. `districts::simplify::ZoomBands`) and its band R-tree, the
//!   server's 4 px query margin, `choropleth::render::TileRenderer` + `PngEncoder`, in the peer's
//!   style (OrRd 5 classes, 0.5 px white outline, 256 px; classes as
//!   ../shared/bench/prep_peers.sh; districts without a class are not drawn, as Mapnik has no
//!   rule for them). This is the number compared with Mapnik (`mapnik_tiles.py ... 5 10 120`).
//! - `server_render_fn_z5_z10/{lad19_imd_score,lsoa11_imd_decile}`: the route's own
//!   `maps::raster::render_tile` with the server's default style for the indicator
//!   (house outline width per zoom, no-data hatch for districts without a value).
//!
//! Setup (catalogue, atlas, zoom bands, style) is outside the timed loop; a pixel check at
//! district interior points runs before timing. Throughput is in tiles per second.

mod common;

use std::hint::black_box;
use std::time::Duration;

use choropleth::render::{
    Feature, Fill, Outline, PngEncoder, Rgba, TileRenderer, TileSize, TileStyle,
};
use common::SharedState;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use districts::layer::PeriodValues;
use geo::InteriorPoint;
use tile_math::TileId;

/// ColorBrewer OrRd 5, as mapnik_tiles.py.
const ORRD: [Rgba; 5] = [
    Rgba(0xfe, 0xf0, 0xd9, 255),
    Rgba(0xfd, 0xcc, 0x8a, 255),
    Rgba(0xfc, 0x8d, 0x59, 255),
    Rgba(0xe3, 0x4a, 0x33, 255),
    Rgba(0xb3, 0x00, 0x00, 255),
];

fn numeric(state: &maps::Loaded, layer: &str, indicator: &str) -> Vec<Option<f64>> {
    let l = state.atlas.layer(layer).expect("layer loaded");
    let ind = l.indicator(indicator).expect("indicator joined");
    match ind.period(&ind.default_period).map(|p| &p.values) {
        Some(PeriodValues::Numeric(v)) => v.clone(),
        _ => panic!("{layer}/{indicator} has no numeric default period"),
    }
}

/// LAD classes of prep_peers.sh: quintiles of the IMD score (numpy linear interpolation),
/// class = number of breaks strictly below the value (numpy searchsorted "left").
fn lad_classes(values: &[Option<f64>]) -> Vec<Option<u8>> {
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (sorted.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
    };
    let breaks = [quantile(0.2), quantile(0.4), quantile(0.6), quantile(0.8)];
    values
        .iter()
        .map(|v| v.map(|v| breaks.iter().filter(|b| **b < v).count() as u8))
        .collect()
}

/// LSOA classes of prep_peers.sh: (IMD decile - 1) / 2.
fn lsoa_classes(deciles: &[Option<f64>]) -> Vec<Option<u8>> {
    deciles
        .iter()
        .map(|d| d.filter(|d| *d >= 1.0).map(|d| ((d as u8) - 1) / 2))
        .collect()
}

fn peer_style(z: u8) -> TileStyle {
    TileStyle {
        outline: Some(Outline {
            colour: Rgba::WHITE,
            width_px: 0.5,
        }),
        ..TileStyle::for_zoom(z)
    }
}

/// One tile through the server's zoom bands, in the peer's style: query, render, encode.
fn peer_tile(
    state: &maps::Loaded,
    layer: &str,
    classes: &[Option<u8>],
    t: TileId,
    renderer: &mut TileRenderer,
    encoder: &mut PngEncoder,
) -> Vec<u8> {
    let bands = state.bands(layer).expect("zoom bands built");
    let b = t.mercator_bounds();
    let pad = tile_math::metres_per_pixel(t.z) * 4.0;
    let hits = bands.query(
        t.z,
        b.min_x - pad,
        b.min_y - pad,
        b.max_x + pad,
        b.max_y + pad,
    );
    let geoms = bands.geometry(t.z);
    let feats = hits.iter().filter_map(|&i| {
        classes[i].map(|c| Feature {
            geometry: &geoms[i].0,
            fill: Fill::Solid(ORRD[usize::from(c)]),
            highlight: false,
        })
    });
    let raster = renderer
        .render(b, feats, &peer_style(t.z))
        .expect("tile bounds are valid");
    encoder
        .encode_raster(&raster, TileSize::Standard)
        .expect("tile encodes")
}

/// Before timing: at z14 the pixel at a district's interior point has its class colour.
fn check(state: &maps::Loaded, layer: &str, classes: &[Option<u8>]) {
    let l = state.atlas.layer(layer).expect("layer loaded");
    let (mut r, mut e) = (TileRenderer::new(TileSize::Standard), PngEncoder::new());
    let step = (l.districts.len() / 12).max(1);
    let mut checked = 0;
    for (i, d) in l.districts.iter().enumerate().step_by(step) {
        let (Some(c), Some(p)) = (classes[i], d.wgs84.0.interior_point()) else {
            continue;
        };
        let t = tile_math::tile_for_lonlat(p.x(), p.y(), 14);
        let png = peer_tile(state, layer, classes, t, &mut r, &mut e);
        let img = image::load_from_memory(&png)
            .expect("PNG decodes")
            .to_rgba8();
        let b = t.mercator_bounds();
        let (mx, my) = tile_math::lonlat_to_mercator(p.x(), p.y());
        let x = ((mx - b.min_x) / b.width() * 256.0) as u32;
        let y = ((b.max_y - my) / b.height() * 256.0) as u32;
        let want = ORRD[usize::from(c)];
        assert_eq!(
            img.get_pixel(x.min(255), y.min(255)).0,
            [want.0, want.1, want.2, want.3],
            "{layer}: {} at ({}, {})",
            d.code,
            p.x(),
            p.y()
        );
        checked += 1;
    }
    assert!(checked >= 10, "{layer}: only {checked} districts checked");
}

/// One untimed pass (printed for BENCHMARKS.md): bytes a tile's PNG holds against the bytes its
/// `Vec` allocated, for the route's own render path. The route turns the `Vec` into `Bytes`, which
/// keeps the whole allocation, while the tile cache weighs `len()` only.
fn describe_png_allocations(state: &SharedState, tiles: &[TileId]) {
    use choropleth::render::TileRaster;
    for (layer, indicator) in [("lad19", "imd_score"), ("lsoa11", "imd_decile")] {
        let l = state.layer(layer).expect("layer loaded");
        let ind = state.indicator(l, indicator).expect("indicator joined");
        let style =
            maps::style::resolve(l, ind, &Default::default()).expect("default style resolves");
        let bands = state.bands(layer).expect("zoom bands built");
        for (size, deeper) in [
            (TileSize::Standard, 0u8),
            (TileSize::Retina, 0),
            (TileSize::Retina, 4),
        ] {
            let mut r = TileRenderer::new(size);
            let mut e = PngEncoder::new();
            let (mut len, mut cap) = ([0usize; 3], [0usize; 3]);
            let mut count = [0usize; 3];
            for &t0 in tiles {
                // `deeper` > 0: the tile's first descendant that many zooms down (z9..z14).
                let t = TileId::new(t0.z + deeper, t0.x << deeper, t0.y << deeper, 22)
                    .expect("valid tile");
                let b = t.mercator_bounds();
                let hits = bands.query(t.z, b.min_x, b.min_y, b.max_x, b.max_y);
                let geoms = bands.geometry(t.z);
                let feats = hits.iter().map(|&i| Feature {
                    geometry: &geoms[i].0,
                    fill: style.fills[i],
                    highlight: false,
                });
                let raster = r
                    .render(b, feats, &TileStyle::for_zoom(t.z))
                    .expect("valid bounds");
                let kind = match raster {
                    TileRaster::Empty => 0,
                    TileRaster::Flat(_) => 1,
                    TileRaster::Pixels(_) => 2,
                };
                let png = e.encode_raster(&raster, size).expect("encodes");
                len[kind] += png.len();
                cap[kind] += png.capacity();
                count[kind] += 1;
            }
            for (k, name) in ["empty", "flat", "pixels"].iter().enumerate() {
                if count[k] > 0 {
                    println!(
                        "png allocation {layer} {}px z+{deeper} {name}: {} tiles, mean len {} B, mean capacity {} B ({:.1}x)",
                        size.px(),
                        count[k],
                        len[k] / count[k],
                        cap[k] / count[k],
                        cap[k] as f64 / len[k].max(1) as f64
                    );
                }
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let tiles = common::peer_tiles();
    assert_eq!(tiles.len(), 329, "the peer's tile list");
    let state = common::state();
    let lad = lad_classes(&numeric(&state, "lad19", "imd_score"));
    let lsoa = lsoa_classes(&numeric(&state, "lsoa11", "imd_decile"));
    assert_eq!(
        lad.iter().flatten().count(),
        317,
        "English LADs with a class"
    );
    assert_eq!(lsoa.iter().flatten().count(), 32_844, "LSOAs with a class");
    check(&state, "lad19", &lad);
    check(&state, "lsoa11", &lsoa);
    describe_png_allocations(&state, &tiles);

    let mut g = c.benchmark_group("server_pipeline_z5_z10");
    g.throughput(Throughput::Elements(tiles.len() as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for (layer, classes) in [("lad19", &lad), ("lsoa11", &lsoa)] {
        let (mut r, mut e) = (TileRenderer::new(TileSize::Standard), PngEncoder::new());
        g.bench_function(layer, |b| {
            b.iter(|| {
                let mut bytes = 0usize;
                for &t in &tiles {
                    bytes += peer_tile(&state, layer, classes, t, &mut r, &mut e).len();
                }
                black_box(bytes)
            });
        });
    }
    g.finish();

    let mut g = c.benchmark_group("server_render_fn_z5_z10");
    g.throughput(Throughput::Elements(tiles.len() as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for (layer, indicator) in [("lad19", "imd_score"), ("lsoa11", "imd_decile")] {
        let l = state.layer(layer).expect("layer loaded");
        let ind = state.indicator(l, indicator).expect("indicator joined");
        let style =
            maps::style::resolve(l, ind, &Default::default()).expect("default style resolves");
        g.bench_function(format!("{layer}_{indicator}"), |b| {
            b.iter(|| {
                let mut bytes = 0usize;
                for &t in &tiles {
                    bytes += maps::raster::render_tile(&state, &style, t, TileSize::Standard)
                        .map(|png| png.len())
                        .expect("tile renders");
                }
                black_box(bytes)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
