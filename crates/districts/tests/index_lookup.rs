//! DistrictIndex on the real boundary files: interior points, borders, holes, sea, and a
//! brute-force comparison with geo's `Contains`.

use crate::common;

use std::collections::HashMap;

use districts::index::DistrictIndex;
use geo::{BoundingRect, Contains, InteriorPoint};
use geo_types::{Coord, Point, Polygon};
use rand::{RngExt, SeedableRng};

fn build(layer: &[(String, districts::Wgs84)]) -> DistrictIndex {
    DistrictIndex::build(&common::geoms(layer))
}

fn code_of(layer: &[(String, districts::Wgs84)], found: Option<usize>) -> Option<&str> {
    found.map(|i| layer[i].0.as_str())
}

fn assert_interior_points_find_own_district(
    file: &str,
    field: &str,
    expected: usize,
    max_overlaps: usize,
) {
    let layer = common::read_layer(file, field);
    assert_eq!(layer.len(), expected, "{file}: feature count");
    let index = build(&layer);
    assert_eq!(index.len(), expected);
    let pts: Vec<(f64, f64)> = layer
        .iter()
        .map(|(code, g)| {
            let p =
                g.0.interior_point()
                    .unwrap_or_else(|| panic!("{code}: no interior point"));
            (p.x(), p.y())
        })
        .collect();
    let found = index.lookup_many(&pts);
    let mut overlaps = Vec::new();
    for (i, ((code, _), f)) in layer.iter().zip(&found).enumerate() {
        if *f == Some(i) {
            continue;
        }
        // Not its own district: only acceptable where the data itself overlaps, i.e. the
        // district found really contains the point too (geo's `Contains` as the referee).
        let p = Point::new(pts[i].0, pts[i].1);
        let other = f.unwrap_or_else(|| panic!("{file}: {code}'s interior point in no district"));
        assert!(
            layer[other].1.0.contains(&p),
            "{file}: {code}'s interior point {p:?} found {}, which does not contain it",
            layer[other].0
        );
        overlaps.push(format!("{code} -> {}", layer[other].0));
    }
    assert!(overlaps.len() <= max_overlaps, "{file}: {overlaps:?}");
}

#[test]
fn every_lad19_interior_point_finds_its_own_district() {
    assert_interior_points_find_own_district(common::LAD19, "lad19cd", 382, 0);
}

#[test]
fn every_lsoa11_interior_point_finds_its_own_lsoa() {
    // Two LSOAs are data overlaps where geo's interior point lands in a neighbour too:
    // E01024572 (invalid, "nested shells") contains E01024573 a second time, and E01003702
    // (Redbridge) overlaps E01021766 (Epping Forest) by a sliver holding its interior point.
    assert_interior_points_find_own_district(common::LSOA11, "lsoa11cd", 32_844, 2);
}

#[test]
fn central_cambridge_is_cambridge_not_south_cambridgeshire_in_bgc() {
    let layer = common::read_layer(common::LAD19_BGC, "LAD19CD");
    let index = build(&layer);
    assert_eq!(
        code_of(&layer, index.lookup(0.1218, 52.2053)),
        Some("E07000008")
    );
    // Just outside Cambridge's ring, in South Cambridgeshire proper (Grantchester).
    assert_eq!(
        code_of(&layer, index.lookup(0.0950, 52.1790)),
        Some("E07000012")
    );
}

#[test]
fn sea_points_are_in_no_district() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    for (lon, lat) in [(-3.0, 53.9), (2.5, 52.0), (-6.0, 50.0), (0.0, 60.0)] {
        assert_eq!(index.lookup(lon, lat), None, "({lon}, {lat})");
    }
    assert_eq!(index.nearest(2.5, 52.0, 0.01), None);
}

/// Vertices in the middle of a border between exactly two districts (the vertex and both its
/// ring neighbours belong to the same two districts, so both sides of it are land), with them.
fn shared_vertices(layer: &[(String, districts::Wgs84)]) -> Vec<(Coord<f64>, [usize; 2])> {
    let key = |c: &Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let rings = || {
        layer.iter().enumerate().flat_map(|(i, (_, g))| {
            g.0.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(move |r| (i, r))
        })
    };
    let mut owners: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, ring) in rings() {
        for c in &ring.0 {
            let v = owners.entry(key(c)).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        }
    }
    let pair = |c: &Coord<f64>| {
        owners
            .get(&key(c))
            .filter(|v| v.len() == 2)
            .map(|v| [v[0].min(v[1]), v[0].max(v[1])])
    };
    let mut mid_border: HashMap<(u64, u64), Option<[usize; 2]>> = HashMap::new();
    for (_, ring) in rings() {
        let n = ring.0.len() - 1; // closed ring: last == first
        for k in 0..n {
            let c = &ring.0[k];
            let prev = &ring.0[(k + n - 1) % n];
            let next = &ring.0[k + 1];
            let here = pair(c).filter(|p| pair(prev) == Some(*p) && pair(next) == Some(*p));
            let entry = mid_border.entry(key(c)).or_insert(here);
            if *entry != here {
                *entry = None;
            }
        }
    }
    let mut out: Vec<(Coord<f64>, [usize; 2])> = mid_border
        .into_iter()
        .filter_map(|((x, y), p)| {
            p.map(|p| {
                let c = Coord {
                    x: f64::from_bits(x),
                    y: f64::from_bits(y),
                };
                (c, p)
            })
        })
        .collect();
    out.sort_by(|a, b| (a.0.x, a.0.y).partial_cmp(&(b.0.x, b.0.y)).expect("finite"));
    out
}

#[test]
fn a_shared_border_vertex_resolves_to_exactly_one_neighbour_the_eastern_one() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    let shared = shared_vertices(&layer);
    assert!(shared.len() > 1000, "only {} shared vertices", shared.len());
    for (v, pair) in &shared {
        let first = index.lookup(v.x, v.y);
        let found = first.unwrap_or_else(|| panic!("{v:?} of {pair:?} in no district"));
        assert!(
            pair.contains(&found),
            "{v:?} -> {found}, not one of {pair:?}"
        );
        assert_eq!(index.lookup(v.x, v.y), first, "same answer every time");
        // The rule: a border point goes to the district just east (then just north) of it.
        let nudged = index.lookup(v.x + 1e-9, v.y + 1e-14);
        assert_eq!(nudged, first, "{v:?}: nudged east gives {nudged:?}");
    }
    // A point in the middle of a shared edge, too.
    let (v, pair) = shared[shared.len() / 2];
    let found = index.lookup(v.x, v.y);
    assert!(found.is_some_and(|f| pair.contains(&f)));
}

/// The file's single interior ring, with the district that owns it.
fn the_hole(layer: &[(String, districts::Wgs84)]) -> (usize, Polygon<f64>) {
    let holes: Vec<(usize, Polygon<f64>)> = layer
        .iter()
        .enumerate()
        .flat_map(|(i, (_, g))| {
            g.0.iter()
                .flat_map(|p| p.interiors().iter())
                .map(move |r| (i, Polygon::new(r.clone(), vec![])))
        })
        .collect();
    assert_eq!(holes.len(), 1, "lad19 has exactly one interior ring");
    holes.into_iter().next().expect("one hole")
}

#[test]
fn a_point_in_the_lad19_hole_is_not_in_the_outer_district() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    let (outer, hole) = the_hole(&layer);
    let p: Point<f64> = hole.interior_point().expect("hole has an interior point");
    let found = index.lookup(p.x(), p.y());
    assert_ne!(found, Some(outer), "{} claims its own hole", layer[outer].0);
    // Whatever fills the hole (if anything) really contains the point.
    if let Some(f) = found {
        assert!(
            layer[f].1.0.contains(&p),
            "{} does not contain {p:?}",
            layer[f].0
        );
    }
}

#[test]
fn random_points_agree_with_geo_contains() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    let bboxes: Vec<_> = layer.iter().map(|(_, g)| g.0.bounding_rect()).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let (mut land, mut checked) = (0, 0);
    for _ in 0..20_000 {
        let p = Point::new(rng.random_range(-8.7..1.8), rng.random_range(49.9..60.9));
        let truth: Vec<usize> = (0..layer.len())
            .filter(|&i| bboxes[i].is_some_and(|b| b.contains(&p)) && layer[i].1.0.contains(&p))
            .collect();
        assert!(truth.len() <= 1, "{p:?} in {truth:?}");
        assert_eq!(index.lookup(p.x(), p.y()), truth.first().copied(), "{p:?}");
        land += truth.len();
        checked += 1;
    }
    assert_eq!(checked, 20_000);
    assert!(
        land > 2_000,
        "only {land} land points: the sample is not testing much"
    );
}

#[test]
fn candidates_in_bbox_covers_the_district_found_and_is_sorted() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    // Around Westminster: Westminster E09000033 must be a candidate, the list sorted, unique.
    let c = index.candidates_in_bbox(-0.15, 51.49, -0.12, 51.52);
    assert!(c.windows(2).all(|w| w[0] < w[1]), "{c:?}");
    let westminster = layer.iter().position(|(code, _)| code == "E09000033");
    assert!(westminster.is_some_and(|w| c.contains(&w)), "{c:?}");
    assert!(
        c.len() < 20,
        "too many candidates for a small box: {}",
        c.len()
    );
    assert!(index.candidates_in_bbox(2.4, 51.9, 2.6, 52.1).is_empty());
}

#[test]
fn nearest_snaps_a_point_just_off_the_coast() {
    let layer = common::read_layer(common::LAD19, "lad19cd");
    let index = build(&layer);
    // Just off Blackpool's seafront (-3.06, 53.81) in the Irish Sea.
    let off = (-3.075, 53.81);
    assert_eq!(index.lookup(off.0, off.1), None);
    assert_eq!(
        code_of(&layer, index.nearest(off.0, off.1, 0.05)),
        Some("E06000009")
    );
}
