//! Vector tile encoding through the server's own function (`routes::vector::encode`: band
//! R-tree query, per-zoom simplified geometry, clipping, MVT encoding), single thread, with
//! `code` and `name` as the only attributes, as the GDAL peer in `bench/mvt_gdal.sh` writes.
//!
//! The tile set is the one GDAL wrote (`PLACEMAP_MVT_TILES_LAD19` / `_LSOA11`: files of `z x y`
//! lines, made by the script), or the raster benchmark's 329 England tiles z5..z10 when unset.
//! Setup is outside the timed loop; before timing every tile is encoded once and the count of
//! empty ones (no district drawn where GDAL wrote one) is printed. Throughput is in tiles per
//! second.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tile_math::TileId;

fn tiles(layer: &str) -> Vec<TileId> {
    let var = format!("PLACEMAP_MVT_TILES_{}", layer.to_uppercase());
    match std::env::var(&var) {
        Ok(path) => test_support::tiles::parse_tiles(&std::fs::read_to_string(&path).unwrap()),
        Err(_) => common::peer_tiles(),
    }
}

fn bench(c: &mut Criterion) {
    let state = common::state();
    let mut g = c.benchmark_group("mvt_encode");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for layer in ["lad19", "lsoa11"] {
        let tiles = tiles(layer);
        let mut empty = 0;
        let mut total = 0usize;
        for &t in &tiles {
            let b = maps::vector_tiles::encode(&state, layer, &[], t).unwrap();
            empty += usize::from(b.is_empty());
            total += b.len();
        }
        eprintln!(
            "{layer}: {} tiles, {empty} empty, {:.1} MB",
            tiles.len(),
            total as f64 / 1e6
        );
        g.throughput(Throughput::Elements(tiles.len() as u64));
        g.bench_function(layer, |b| {
            b.iter(|| {
                let mut bytes = 0usize;
                for &t in &tiles {
                    bytes += maps::vector_tiles::encode(&state, layer, &[], t)
                        .unwrap()
                        .len();
                }
                black_box(bytes)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
