//! Start-up cost of reading boundary files: the 15 MB LSOA GeoJSON (32,844 features) and the
//! LAD 2019 GeoJSON (382 features). Compare with GeoPandas `gpd.read_file` (BENCHMARKS.md,
//! section 7, "Boundary loading").

use std::hint::black_box;
use test_support::data_dir;

use criterion::{Criterion, criterion_group, criterion_main};
use districts::load::{BoundarySpec, load_boundaries};

fn bench_load(c: &mut Criterion) {
    let cases = [
        (
            "lsoa11_geojson",
            "lsoa_2011_england_generalised_wgs84.geojson",
            "lsoa11cd",
            "lsoa11nm",
            32_844,
        ),
        (
            "lad19_geojson",
            "lad_2019_uk_generalised_wgs84.geojson",
            "lad19cd",
            "lad19nm",
            382,
        ),
    ];
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    for (id, file, code, name, expected) in cases {
        let path = data_dir().join(file);
        let spec = BoundarySpec::new(code, name);
        // Correctness check before timing.
        match load_boundaries(&path, &spec) {
            Ok(loaded) => assert_eq!(loaded.features.len(), expected, "{file}"),
            Err(e) => panic!("cannot load {file}: {e}"),
        }
        group.bench_function(id, |b| {
            b.iter(|| {
                black_box(load_boundaries(black_box(&path), &spec).map(|l| l.features.len()))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
