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

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use districts::Atlas;
use districts::catalog::Catalog;
use tile_math::TileId;
use tile_server::SharedState;
use tile_server::config::RawConfig;
use tile_server::state::AppState;

fn data_dir() -> PathBuf {
    std::env::var_os("PLACEMAP_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

fn catalog_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../boundaries/catalog.toml"
    ))
}

fn parse_tiles(text: &str) -> Vec<TileId> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<u32> = l.split_whitespace().map(|n| n.parse().unwrap()).collect();
            TileId::new(v[0] as u8, v[1], v[2], 22).unwrap()
        })
        .collect()
}

fn tiles(layer: &str) -> Vec<TileId> {
    let var = format!("PLACEMAP_MVT_TILES_{}", layer.to_uppercase());
    match std::env::var(&var) {
        Ok(path) => parse_tiles(&std::fs::read_to_string(&path).unwrap()),
        Err(_) => parse_tiles(include_str!("../../choropleth/benches/tiles_z5_z10.txt")),
    }
}

fn state() -> SharedState {
    let catalog = Catalog::load(&catalog_path(), &data_dir()).unwrap();
    let layers = vec!["lad19".to_string(), "lsoa11".to_string()];
    let atlas = Atlas::load(&catalog, &layers).unwrap();
    let config = RawConfig {
        data_dir: data_dir(),
        catalog: catalog_path(),
        layers,
        ..RawConfig::default()
    }
    .resolve()
    .unwrap();
    let version = tile_server::serve::data_version(&catalog);
    Arc::new(AppState::new(config, atlas, version, Vec::new()))
}

fn bench(c: &mut Criterion) {
    let state = state();
    let mut g = c.benchmark_group("mvt_encode");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    for layer in ["lad19", "lsoa11"] {
        let tiles = tiles(layer);
        let mut empty = 0;
        let mut total = 0usize;
        for &t in &tiles {
            let b = tile_server::routes::vector::encode(&state, layer, &[], t).unwrap();
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
                    bytes += tile_server::routes::vector::encode(&state, layer, &[], t)
                        .unwrap()
                        .len();
                }
                black_box(bytes)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
