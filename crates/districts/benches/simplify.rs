//! ZoomBands build time (topology, per-band arc simplification, R-trees) on LAD 2019 and
//! LSOA 2011. `cargo bench -p districts --bench simplify`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use districts::Mercator;
use districts::simplify::ZoomBands;

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("zoom_bands_build");
    group.sample_size(10);
    for (name, file, field) in [
        ("lad19", common::LAD19, "lad19cd"),
        ("lsoa11", common::LSOA11, "lsoa11cd"),
    ] {
        let geoms: Vec<Mercator> = common::read_layer(file, field)
            .iter()
            .map(|(_, g)| g.to_mercator())
            .collect();
        // Correctness before timing: every district present, fewer vertices at z0-4.
        let bands = ZoomBands::build(&geoms);
        let stats = bands.stats();
        assert_eq!(bands.geometry(0).len(), geoms.len());
        assert!(stats[0].vertices < stats[stats.len() - 1].vertices);
        println!(
            "{name}: vertices per band {:?}",
            stats.iter().map(|s| s.vertices).collect::<Vec<_>>()
        );
        group.bench_function(name, |b| b.iter(|| ZoomBands::build(black_box(&geoms))));
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
