//! Start-up (issue 2): load, reproject, join and index LSOA 2011 England (32,844 polygons) plus
//! LAD 2019 (382) through the catalogue, exactly as `placemap serve --layers lsoa11,lad19` does
//! before it builds its tile geometry. The peer is GeoPandas reading the same two GeoJSON files
//! (bench/startup_geopandas.py); see BENCHMARKS.md.
//!
//! `Atlas::load` reads boundary files and indicator tables in parallel (rayon), so on the
//! 2-core benchmark machine it uses both cores; the peer reads on one.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use districts::Atlas;
use districts::catalog::Catalog;

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

fn bench_startup(c: &mut Criterion) {
    let catalog = match Catalog::load(&catalog_path(), &data_dir()) {
        Ok(c) => c,
        Err(e) => panic!("catalogue: {e}"),
    };
    let only = ["lsoa11".to_string(), "lad19".to_string()];
    // Correctness check before timing: both layers, every polygon, indicators joined, the index
    // answers (Hartlepool town hall is in Hartlepool).
    let atlas = match Atlas::load(&catalog, &only) {
        Ok(a) => a,
        Err(e) => panic!("atlas: {e}"),
    };
    let lsoa = atlas.layer("lsoa11").expect("lsoa11 loaded");
    let lad = atlas.layer("lad19").expect("lad19 loaded");
    assert_eq!(lsoa.districts.len(), 32_844);
    assert_eq!(lad.districts.len(), 382);
    assert!(lad.indicator("imd_score").is_some(), "imd_score joined");
    assert!(lsoa.indicator("imd_decile").is_some(), "imd_decile joined");
    let hit = lad.index.lookup(-1.2129, 54.6863);
    assert_eq!(
        hit.map(|i| lad.districts[i].code.as_str()),
        Some("E06000001")
    );
    drop(atlas);

    let mut g = c.benchmark_group("startup");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("atlas_load_lsoa11_lad19", |b| {
        b.iter(|| {
            let atlas = Atlas::load(black_box(&catalog), black_box(&only));
            black_box(atlas.map(|a| a.layers.len()).unwrap_or(0))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_startup);
criterion_main!(benches);
