//! Benchmarks on the real data: all 32,844 English LSOAs aggregated to LAD 2019 districts
//! spatially, queen contiguity of the LSOAs, and Moran's I with 999 permutations on them.
//! Setup (reading files, building the envelope index) is outside the timed loops; each
//! benchmark checks its result before timing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::hint::black_box;

use analysis::{
    Aggregation, aggregate, assign_by_point, interior_points, moran_global, queen_contiguity,
};
use common::{EnvelopeIndex, number, read_csv, read_geojson};
use criterion::{Criterion, criterion_group, criterion_main};

fn benches(c: &mut Criterion) {
    let lad = read_geojson("lad_2019_uk_generalised_wgs84.geojson");
    let lad_codes: Vec<String> = lad.iter().map(|f| f.props["lad19cd"].clone()).collect();
    let index = EnvelopeIndex::new(lad.into_iter().map(|f| f.geometry).collect());
    let lsoa = read_geojson("lsoa_2011_england_generalised_wgs84.geojson");
    let codes: Vec<String> = lsoa.iter().map(|f| f.props["lsoa11cd"].clone()).collect();
    let geoms: Vec<_> = lsoa.into_iter().map(|f| f.geometry).collect();
    let rank: HashMap<String, f64> = read_csv("imd2019_lsoa_file1_imd.csv")
        .into_iter()
        .map(|r| {
            (
                r["LSOA code (2011)"].clone(),
                number(&r["Index of Multiple Deprivation (IMD) Rank"]),
            )
        })
        .collect();
    let values: Vec<Option<f64>> = codes.iter().map(|c| rank.get(c).copied()).collect();

    let spatial = || {
        let pts = interior_points(&geoms);
        let a = assign_by_point(&codes, &pts, &lad_codes, |x, y| index.locate(x, y));
        aggregate(&codes, &values, None, &a, Aggregation::Mean).unwrap()
    };
    let r = spatial();
    let assigned: usize = r.rows.iter().map(|r| r.areas_assigned).sum();
    assert!(assigned > 32_500, "{assigned} assigned");
    eprintln!(
        "spatial aggregation: {assigned} of {} LSOAs assigned, {} unassigned",
        codes.len(),
        r.exclusions.unassigned.len()
    );
    c.bench_function("aggregate_32844_lsoa_to_lad_spatial_mean", |b| {
        b.iter(|| black_box(spatial()));
    });

    let w = queen_contiguity(&codes, &geoms).unwrap();
    eprintln!(
        "queen: {} islands, {} links",
        w.islands.len(),
        w.neighbours.iter().map(Vec::len).sum::<usize>()
    );
    c.bench_function("queen_contiguity_32844_lsoa", |b| {
        b.iter(|| black_box(queen_contiguity(&codes, &geoms).unwrap()));
    });

    let v: Vec<f64> = values.iter().map(|v| v.unwrap()).collect();
    let m = moran_global(&v, &w, 999, 1).unwrap();
    assert!(m.i > 0.5 && m.p_sim == Some(0.001), "{m:?}");
    eprintln!("moran I = {}, z_norm = {}", m.i, m.z_normal);
    let mut g = c.benchmark_group("moran");
    g.sample_size(10);
    g.bench_function("moran_global_999_perm_32844_lsoa", |b| {
        b.iter(|| black_box(moran_global(&v, &w, 999, 1).unwrap()));
    });
    g.finish();
}

criterion_group!(analysis_benches, benches);
criterion_main!(analysis_benches);
