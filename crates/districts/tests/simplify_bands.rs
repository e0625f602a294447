//! ZoomBands on the real boundary files: gap-free shared borders, closed rings, vertex counts
//! and area change per band.

use crate::common;

use std::collections::{HashMap, HashSet};

use districts::Mercator;
use districts::simplify::ZoomBands;
use geo::Area;
use geo_types::Coord;

type Key = (u64, u64);

fn key(c: &Coord<f64>) -> Key {
    (c.x.to_bits(), c.y.to_bits())
}

fn rings(g: &Mercator) -> impl Iterator<Item = &geo_types::LineString<f64>> {
    g.0.0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

fn mercator(file: &str, field: &str) -> Vec<Mercator> {
    common::read_layer(file, field)
        .iter()
        .map(|(_, g)| g.to_mercator())
        .collect()
}

/// Undirected edges with how often they occur over all rings of all districts.
fn edge_counts(geoms: &[Mercator]) -> HashMap<(Key, Key), u32> {
    let mut out = HashMap::new();
    for g in geoms {
        for r in rings(g) {
            for w in r.0.windows(2) {
                let (a, b) = (key(&w[0]), key(&w[1]));
                if a != b {
                    *out.entry((a.min(b), a.max(b))).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// `max_z0_share`: most vertices z0-4 may keep, as a share of the original. Junctions (where three
/// districts meet) can never go, and small areas like LSOAs are mostly junctions.
fn check_layer(file: &str, field: &str, max_area_change_z5: f64, max_z0_share: f64) {
    let original = mercator(file, field);
    let bands = ZoomBands::build(&original);
    let stats = bands.stats();
    println!("{file}: {stats:#?}");

    // Original owners of every vertex, and the vertices on an edge that only one ring uses
    // (coast, or the edge of the layer).
    let mut owners: HashMap<Key, Vec<usize>> = HashMap::new();
    for (d, g) in original.iter().enumerate() {
        for r in rings(g) {
            for c in &r.0 {
                let o = owners.entry(key(c)).or_default();
                if !o.contains(&d) {
                    o.push(d);
                }
            }
        }
    }
    let coastal: HashSet<Key> = edge_counts(&original)
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .flat_map(|((a, b), _)| [a, b])
        .collect();
    let original_area: f64 = original.iter().map(|g| g.0.unsigned_area()).sum();

    for z in [0u8, 5, 7, 9, 11, 13] {
        let simplified = bands.geometry(z);
        assert_eq!(
            simplified.len(),
            original.len(),
            "z{z}: one geometry per district"
        );
        // Closed rings of at least four points.
        for (d, g) in simplified.iter().enumerate() {
            assert!(!g.0.0.is_empty(), "z{z}: district {d} lost all its parts");
            for r in rings(g) {
                assert!(
                    r.0.len() >= 4,
                    "z{z}: district {d} has a ring of {}",
                    r.0.len()
                );
                assert_eq!(
                    r.0.first(),
                    r.0.last(),
                    "z{z}: district {d} ring not closed"
                );
            }
        }
        // Gap-free 1: a shared vertex kept by one of its districts is kept by all of them.
        let kept: Vec<HashSet<Key>> = simplified
            .iter()
            .map(|g| rings(g).flat_map(|r| r.0.iter().map(key)).collect())
            .collect();
        let mut shared_kept = 0;
        for (v, ds) in owners.iter().filter(|(_, ds)| ds.len() > 1) {
            let by: Vec<bool> = ds.iter().map(|&d| kept[d].contains(v)).collect();
            assert!(
                by.iter().all(|&b| b == by[0]),
                "z{z}: shared vertex of {ds:?} kept only by some: {by:?}"
            );
            shared_kept += usize::from(by[0]);
        }
        assert!(shared_kept > 0, "z{z}: no shared vertex kept at all");
        // Gap-free 2: an edge used by only one simplified ring runs along the original coast;
        // a border edge kept on one side only would be a sliver.
        for ((a, b), n) in edge_counts(simplified) {
            if n == 1 {
                assert!(
                    coastal.contains(&a) && coastal.contains(&b),
                    "z{z}: edge {:?} -> {:?} used by one ring off the coast",
                    (f64::from_bits(a.0), f64::from_bits(a.1)),
                    (f64::from_bits(b.0), f64::from_bits(b.1))
                );
            }
        }
        let area: f64 = simplified.iter().map(|g| g.0.unsigned_area()).sum();
        let change = (area - original_area).abs() / original_area;
        println!("{file}: z{z} total area change {:.4} %", change * 100.0);
        if z == 5 {
            assert!(change < max_area_change_z5, "z5 area change {change}");
        }
        if z >= 13 {
            assert_eq!(simplified, &original[..], "z{z} is the original geometry");
        }
    }
    // Fewer vertices at lower zooms, and real savings at z0-4.
    let v: Vec<usize> = stats.iter().map(|s| s.vertices).collect();
    assert!(v.windows(2).all(|w| w[0] <= w[1]), "{v:?}");
    let share = v[0] as f64 / v[v.len() - 1] as f64;
    assert!(
        share < max_z0_share,
        "z0-4 keeps {share:.3} of the vertices: {v:?}"
    );
}

#[test]
fn lad19_bands_are_gap_free_and_smaller() {
    check_layer(common::LAD19, "lad19cd", 0.02, 0.2);
}

#[test]
fn lsoa11_bands_are_gap_free_and_smaller() {
    check_layer(common::LSOA11, "lsoa11cd", 0.02, 0.65);
}

#[test]
fn query_finds_the_district_under_a_box_in_every_band() {
    let original = mercator(common::LAD19, "lad19cd");
    let bands = ZoomBands::build(&original);
    let codes: Vec<String> = common::read_layer(common::LAD19, "lad19cd")
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let westminster = codes
        .iter()
        .position(|c| c == "E09000033")
        .expect("Westminster");
    let (x, y) = tile_math::lonlat_to_mercator(-0.135, 51.5);
    for z in [0u8, 5, 8, 10, 12, 16] {
        let hits = bands.query(z, x - 100.0, y - 100.0, x + 100.0, y + 100.0);
        assert!(hits.contains(&westminster), "z{z}: {hits:?}");
        assert!(hits.windows(2).all(|w| w[0] < w[1]));
    }
    let (sx, sy) = tile_math::lonlat_to_mercator(2.5, 52.0);
    assert!(
        bands
            .query(5, sx - 100.0, sy - 100.0, sx + 100.0, sy + 100.0)
            .is_empty()
    );
}

/// An archive builds its bands one at a time (`BandBuilder`, from references to the layer's
/// geometry, not copies): each is the band `ZoomBands::build` makes, geometry, areas, envelopes
/// and counts alike.
#[test]
fn bands_built_one_at_a_time_are_the_bands_built_together() {
    use districts::simplify::BandBuilder;
    let original = mercator(common::LSOA11, "lsoa11cd");
    let together = ZoomBands::build(&original);
    let refs: Vec<&Mercator> = original.iter().collect();
    let builder = BandBuilder::new(&refs);
    let (x, y) = tile_math::lonlat_to_mercator(-1.6, 54.97); // Newcastle
    for z in [0u8, 4, 5, 7, 9, 11, 12, 13, 18] {
        let alone = builder.band(z);
        let shared = together.band(z);
        assert!(alone.covers(z), "z{z}");
        assert_eq!(alone.covers(0), z <= 4, "z{z}");
        assert_eq!(alone.zooms(), shared.zooms(), "z{z}");
        assert_eq!(alone.geometry(), shared.geometry(), "z{z}");
        assert_eq!(alone.areas(), shared.areas(), "z{z}");
        assert_eq!(alone.stats(), shared.stats(), "z{z}");
        let near = |b: &districts::simplify::Band| b.query(x - 2e3, y - 2e3, x + 2e3, y + 2e3);
        assert!(!near(&alone).is_empty(), "z{z}");
        assert_eq!(near(&alone), near(shared), "z{z}");
    }
}
