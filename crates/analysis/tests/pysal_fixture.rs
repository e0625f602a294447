//! Queen contiguity, global Moran and LISA against PySAL (libpysal 4.14 / esda 2.9) on the
//! real boundaries; fixtures made by `fixtures/make_pysal_fixture.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::HashMap;

use analysis::{LisaClass, SpatialWeights, local_moran, moran_global, queen_contiguity};
use common::read_geojson;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/").to_string() + name;
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Weights and values in the fixture's code order.
fn weights(
    fx: &Value,
    file: &str,
    code_key: &str,
    filter: impl Fn(&HashMap<String, String>) -> bool,
) -> (SpatialWeights, Vec<f64>) {
    let codes: Vec<String> = fx["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let mut by_code: HashMap<String, geo_types::MultiPolygon<f64>> = read_geojson(file)
        .into_iter()
        .filter(|f| filter(&f.props))
        .map(|f| (f.props[code_key].clone(), f.geometry))
        .collect();
    assert_eq!(by_code.len(), codes.len(), "same areas as the fixture");
    let geoms: Vec<_> = codes.iter().map(|c| by_code.remove(c).unwrap()).collect();
    let values = fx["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (queen_contiguity(&codes, &geoms).unwrap(), values)
}

fn check(fx: &Value, w: &SpatialWeights, values: &[f64]) {
    // Neighbours: exactly libpysal's, by code.
    for (i, code) in w.codes.iter().enumerate() {
        let ours: Vec<&str> = w.neighbours[i]
            .iter()
            .map(|&j| w.codes[j].as_str())
            .collect();
        let theirs: Vec<&str> = fx["neighbours"][code]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort();
        assert_eq!(ours_sorted, theirs, "neighbours of {code}");
    }
    let islands: Vec<&str> = w.islands.iter().map(|&i| w.codes[i].as_str()).collect();
    let theirs: Vec<&str> = fx["islands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(islands, theirs, "islands");

    let perms = fx["permutations"].as_u64().unwrap() as usize;
    let m = moran_global(values, w, perms, 2024).unwrap();
    let g = &fx["moran"];
    let f = |k: &str| g[k].as_f64().unwrap();
    assert!((m.i - f("I")).abs() < 1e-9, "I {} vs {}", m.i, f("I"));
    assert!((m.expected - f("EI")).abs() < 1e-12);
    assert!(
        (m.variance_normal - f("VI_norm")).abs() < 1e-9,
        "VI {} vs {}",
        m.variance_normal,
        f("VI_norm")
    );
    assert!(
        (m.z_normal - f("z_norm")).abs() < 1e-6,
        "z {} vs {}",
        m.z_normal,
        f("z_norm")
    );
    assert!(
        (m.p_normal - f("p_norm")).abs() < 1e-9,
        "p_norm {} vs {}",
        m.p_normal,
        f("p_norm")
    );
    let p = m.p_sim.unwrap();
    assert!((p - f("p_sim")).abs() < 0.05, "p_sim {p} vs {}", f("p_sim"));

    let l = local_moran(values, w, perms, 2024, 0.05).unwrap();
    let is = fx["local"]["Is"].as_array().unwrap();
    let q = fx["local"]["q"].as_array().unwrap();
    let ps = fx["local"]["p_sim"].as_array().unwrap();
    let (mut clear, mut p_close) = (0, 0);
    let mut checked = 0;
    for (i, a) in l.areas.iter().enumerate() {
        assert!(
            (a.local_i - is[i].as_f64().unwrap()).abs() < 1e-9,
            "{}: Is {} vs {}",
            a.code,
            a.local_i,
            is[i]
        );
        assert_eq!(
            a.quadrant as u64,
            q[i].as_u64().unwrap(),
            "{}: quadrant",
            a.code
        );
        if w.neighbours[i].is_empty() {
            assert_eq!(a.class, LisaClass::NoNeighbours);
            continue;
        }
        checked += 1;
        let their_p = ps[i].as_f64().unwrap();
        let our_p = a.p_sim.unwrap();
        // Sampling noise of a p-value from 999 permutations is at most ~0.016 (sd at p = 0.5).
        if (our_p - their_p).abs() < 0.06 {
            p_close += 1;
        }
        if their_p < 0.01 {
            clear += 1;
            assert!(our_p <= 0.05, "{}: pysal p {their_p}, ours {our_p}", a.code);
            assert_ne!(a.class, LisaClass::NotSignificant, "{}", a.code);
        }
    }
    assert!(clear > 0, "some clearly significant areas");
    // Nearly all local p-values agree within sampling noise (a handful may fall beyond 3.5 sd).
    assert!(
        p_close as f64 >= 0.99 * checked as f64,
        "{p_close}/{checked} local p-values close"
    );
}

#[test]
fn lad19_england_matches_pysal() {
    let fx = fixture("pysal_lad19_imd_score.json");
    let (w, values) = weights(
        &fx,
        "lad_2019_uk_generalised_wgs84.geojson",
        "lad19cd",
        |p| p["lad19cd"].starts_with('E'),
    );
    assert_eq!(w.len(), 317);
    check(&fx, &w, &values);
}

#[test]
fn lsoa11_north_east_matches_pysal() {
    let fx = fixture("pysal_lsoa11_north_east_imd_rank.json");
    let (w, values) = weights(
        &fx,
        "lsoa_2011_england_generalised_wgs84.geojson",
        "lsoa11cd",
        |p| p["region_name"] == "North East",
    );
    assert_eq!(w.len(), 1657);
    check(&fx, &w, &values);
}

#[test]
fn permutations_are_reproducible_for_a_seed_and_differ_between_seeds() {
    let fx = fixture("pysal_lad19_imd_score.json");
    let (w, values) = weights(
        &fx,
        "lad_2019_uk_generalised_wgs84.geojson",
        "lad19cd",
        |p| p["lad19cd"].starts_with('E'),
    );
    let a = local_moran(&values, &w, 199, 7, 0.05).unwrap();
    let b = local_moran(&values, &w, 199, 7, 0.05).unwrap();
    assert_eq!(a, b);
    let c = local_moran(&values, &w, 199, 8, 0.05).unwrap();
    assert_ne!(
        a.areas.iter().map(|x| x.p_sim).collect::<Vec<_>>(),
        c.areas.iter().map(|x| x.p_sim).collect::<Vec<_>>()
    );
    let g1 = moran_global(&values, &w, 199, 7).unwrap();
    assert_eq!(g1, moran_global(&values, &w, 199, 7).unwrap());
}

#[test]
fn islands_can_be_linked_to_nearest_districts() {
    let fx = fixture("pysal_lad19_imd_score.json");
    let codes: Vec<String> = fx["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let mut by_code: HashMap<String, geo_types::MultiPolygon<f64>> =
        read_geojson("lad_2019_uk_generalised_wgs84.geojson")
            .into_iter()
            .map(|f| (f.props["lad19cd"].clone(), f.geometry))
            .collect();
    let geoms: Vec<_> = codes.iter().map(|c| by_code.remove(c).unwrap()).collect();
    let mut w = queen_contiguity(&codes, &geoms).unwrap();
    let islands = w.islands.clone();
    assert!(!islands.is_empty());
    w.link_islands(&geoms, 2).unwrap();
    for &i in &islands {
        assert_eq!(w.neighbours[i].len(), 2, "{}", codes[i]);
        for &j in &w.neighbours[i] {
            assert!(
                w.neighbours[j].contains(&i),
                "symmetric link {} - {}",
                codes[i],
                codes[j]
            );
        }
    }
    // The Isle of Wight's nearest districts by centroid are on the Solent.
    if let Some(iow) = w.neighbour_codes("E06000046") {
        assert!(
            iow.iter().any(|c| [
                "E06000044",
                "E06000045",
                "E07000091",
                "E07000087",
                "E07000088",
                "E07000090"
            ]
            .contains(c)),
            "{iow:?}"
        );
    }
}
