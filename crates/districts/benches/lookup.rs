//! Point lookups per second, single thread, on 1 M random points in the layer's bounding box
//! (seed 7, like `shared/bench/geopandas_lookup.py`), for LAD 2019 and LSOA 2011.
//!
//! `cargo bench -p districts --bench lookup`. With `GEOPANDAS_MATCHES=lad19:gp_lad19.csv`
//! (the CSV written by `geopandas_lookup.py ... N OUT.csv`), the same points are also looked up
//! and compared with GeoPandas' answers first, and the disagreements printed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use districts::index::DistrictIndex;
use geo::{BoundingRect, Contains};
use geo_types::Point;
use rand::{RngExt, SeedableRng};

const POINTS: usize = 1_000_000;

struct Case {
    name: &'static str,
    file: &'static str,
    field: &'static str,
}

const CASES: [Case; 2] = [
    Case {
        name: "lad19",
        file: common::LAD19,
        field: "lad19cd",
    },
    Case {
        name: "lsoa11",
        file: common::LSOA11,
        field: "lsoa11cd",
    },
];

fn random_points(layer: &[(String, districts::Wgs84)], n: usize) -> Vec<(f64, f64)> {
    let bbox = layer
        .iter()
        .filter_map(|(_, g)| g.0.bounding_rect())
        .reduce(|a, b| {
            geo_types::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        })
        .expect("layer has geometry");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            (
                rng.random_range(bbox.min().x..bbox.max().x),
                rng.random_range(bbox.min().y..bbox.max().y),
            )
        })
        .collect()
}

/// Correctness before timing: the first points against a brute-force geo `Contains`.
fn check_against_geo(
    layer: &[(String, districts::Wgs84)],
    index: &DistrictIndex,
    pts: &[(f64, f64)],
) {
    let bboxes: Vec<_> = layer.iter().map(|(_, g)| g.0.bounding_rect()).collect();
    for &(x, y) in pts.iter().take(2_000) {
        let p = Point::new(x, y);
        let truth = (0..layer.len())
            .find(|&i| bboxes[i].is_some_and(|b| b.contains(&p)) && layer[i].1.0.contains(&p));
        assert_eq!(index.lookup(x, y), truth, "({x}, {y})");
    }
}

/// Optional: compare with GeoPandas' own points and answers (`lon,lat,code` CSV).
fn compare_with_geopandas(
    case: &Case,
    layer: &[(String, districts::Wgs84)],
    index: &DistrictIndex,
) {
    let Ok(spec) = std::env::var("GEOPANDAS_MATCHES") else {
        return;
    };
    for item in spec.split(',') {
        let Some((name, path)) = item.split_once(':') else {
            continue;
        };
        if name != case.name {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("GEOPANDAS_MATCHES file readable");
        let (mut agree, mut disagree) = (0usize, Vec::new());
        for line in text.lines().skip(1) {
            let mut cols = line.split(',');
            let (Some(lon), Some(lat), code) = (cols.next(), cols.next(), cols.next()) else {
                continue;
            };
            let (lon, lat): (f64, f64) = (lon.parse().expect("lon"), lat.parse().expect("lat"));
            let theirs = code.filter(|c| !c.is_empty());
            let ours = index.lookup(lon, lat).map(|i| layer[i].0.as_str());
            if ours == theirs {
                agree += 1;
            } else {
                disagree.push(format!("({lon}, {lat}) ours {ours:?} geopandas {theirs:?}"));
            }
        }
        println!(
            "{}: agree with GeoPandas on {agree} points, disagree on {}",
            case.name,
            disagree.len()
        );
        for d in &disagree {
            println!("  {d}");
        }
    }
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup_1m_single_thread");
    group.sample_size(10);
    group.throughput(Throughput::Elements(POINTS as u64));
    for case in &CASES {
        let layer = common::read_layer(case.file, case.field);
        let index = DistrictIndex::build(&common::geoms(&layer));
        let pts = random_points(&layer, POINTS);
        check_against_geo(&layer, &index, &pts);
        compare_with_geopandas(case, &layer, &index);
        let matched = pts
            .iter()
            .filter(|&&(x, y)| index.lookup(x, y).is_some())
            .count();
        println!(
            "{}: {matched} of {POINTS} points in a district; index heap {:.1} MB",
            case.name,
            index.heap_bytes() as f64 / 1e6
        );
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for &(x, y) in &pts {
                    found += usize::from(index.lookup(black_box(x), black_box(y)).is_some());
                }
                found
            });
        });
    }
    group.finish();

    let mut build = c.benchmark_group("index_build");
    build.sample_size(10);
    for case in &CASES {
        let geoms = common::geoms(&common::read_layer(case.file, case.field));
        build.bench_function(case.name, |b| {
            b.iter(|| DistrictIndex::build(black_box(&geoms)));
        });
    }
    build.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
