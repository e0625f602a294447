//! Start-up (issue 2): load, reproject, join and index LSOA 2011 England (32,844 polygons) plus
//! LAD 2019 (382) through the catalogue, exactly as `placemap serve --layers lsoa11,lad19` does
//! before it builds its tile geometry. The peer is GeoPandas reading the same two GeoJSON files
//! (bench/startup_geopandas.py); see BENCHMARKS.md.
//!
//! `Atlas::load` reads boundary files and indicator tables in parallel (rayon), so on the
//! 2-core benchmark machine it uses both cores; the peer reads on one.

use std::hint::black_box;
use std::time::Duration;
use test_support::{catalog_path, data_dir};

use criterion::{Criterion, criterion_group, criterion_main};
use districts::Atlas;
use districts::catalog::Catalog;

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
    describe(&catalog, &only);

    let mut g = c.benchmark_group("startup");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("atlas_load_lsoa11_lad19", |b| {
        b.iter(|| {
            let atlas = Atlas::load(black_box(&catalog), black_box(&only));
            black_box(atlas.map(|a| a.layers.len()).unwrap_or(0))
        });
    });
    g.finish();
}

/// One untimed pass of the stages `Atlas::load` runs, one after the other on one thread, printed
/// so BENCHMARKS.md can say where start-up time goes.
fn describe(catalog: &Catalog, only: &[String]) {
    use districts::layer::{join_tables, load_districts};
    use std::time::Instant;
    let mut layers = Vec::new();
    for id in only {
        let meta = catalog.layer(id).expect("layer in catalogue");
        let t = Instant::now();
        let mut layer = match load_districts(meta, &catalog.data_dir) {
            Ok(l) => l,
            Err(e) => panic!("{id}: {e}"),
        };
        let total = t.elapsed();
        let geoms: Vec<districts::Wgs84> =
            layer.districts.iter().map(|d| d.wgs84.clone()).collect();
        let t = Instant::now();
        layer.index = std::sync::Arc::new(districts::index::DistrictIndex::build(&geoms));
        let index = t.elapsed();
        println!(
            "stage {id}: load_districts (read, reproject, project, index) {:.0} ms; index build again alone {:.0} ms",
            total.as_secs_f64() * 1e3,
            index.as_secs_f64() * 1e3
        );
        layers.push(layer);
    }
    let mut tables = Vec::new();
    let t = Instant::now();
    for s in catalog
        .sources
        .iter()
        .filter(|s| s.layers.iter().any(|l| only.contains(l)))
    {
        let ts = Instant::now();
        match districts::indicators::read_table(catalog, s) {
            Ok(table) => tables.push(table),
            Err(e) => panic!("{}: {e}", s.id),
        }
        println!(
            "stage   table {}: {:.0} ms",
            s.id,
            ts.elapsed().as_secs_f64() * 1e3
        );
    }
    println!(
        "stage indicator tables ({}): {:.0} ms",
        tables.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    for layer in &mut layers {
        let t = Instant::now();
        join_tables(layer, catalog, &tables);
        println!(
            "stage join {} ({} indicators): {:.0} ms",
            layer.meta.id,
            layer.indicators.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

criterion_group!(benches, bench_startup);
criterion_main!(benches);
