//! The grid fast path of `DistrictIndex::lookup` against a brute-force even-odd reference
//! built from geo's point-in-polygon (`CoordinatePosition`), on the real LAD 2019 and LSOA 2011
//! boundaries: 200k uniform random points in the layer's bbox, plus 100k points within a few
//! metres of a vertex (where the mixed-cell path is taken), and every 7th vertex exactly.

use crate::common;

use districts::Wgs84;
use districts::index::DistrictIndex;
use geo::{BoundingRect, CoordinatePosition, coordinate_position::CoordPos};
use geo_types::{Coord, LineString, Polygon};
use rand::{RngExt, SeedableRng};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

/// Every ring of every district as its own polygon, in an R-tree by envelope.
struct Reference {
    rings: Vec<(usize, Polygon<f64>)>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

/// What the reference says about a point.
#[derive(Debug, PartialEq)]
enum Truth {
    /// Not on any ring: the lowest district with an odd number of rings around the point.
    Inside(Option<usize>),
    /// Exactly on some ring, where the border rule decides (not checked against geo).
    OnBorder,
}

impl Reference {
    fn new(layer: &[(String, Wgs84)]) -> Reference {
        let rings: Vec<(usize, Polygon<f64>)> = layer
            .iter()
            .enumerate()
            .flat_map(|(i, (_, g))| {
                g.0.iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .map(move |r: &LineString<f64>| (i, Polygon::new(r.clone(), vec![])))
            })
            .collect();
        let envelopes = rings
            .iter()
            .enumerate()
            .filter_map(|(k, (_, p))| {
                p.bounding_rect().map(|b| {
                    let r = Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                    GeomWithData::new(r, k)
                })
            })
            .collect();
        Reference {
            rings,
            tree: RTree::bulk_load(envelopes),
        }
    }

    fn truth(&self, x: f64, y: f64) -> Truth {
        let c = Coord { x, y };
        let mut odd: Vec<usize> = Vec::new();
        for hit in self.tree.locate_all_at_point(&[x, y]) {
            let (district, ring) = &self.rings[hit.data];
            match ring.coordinate_position(&c) {
                CoordPos::OnBoundary => return Truth::OnBorder,
                CoordPos::Inside => match odd.iter().position(|d| d == district) {
                    Some(i) => {
                        odd.swap_remove(i);
                    }
                    None => odd.push(*district),
                },
                CoordPos::Outside => {}
            }
        }
        Truth::Inside(odd.into_iter().min())
    }
}

struct Tally {
    checked: usize,
    on_border: usize,
    in_district: usize,
}

fn compare(index: &DistrictIndex, reference: &Reference, pts: &[(f64, f64)], what: &str) -> Tally {
    let mut tally = Tally {
        checked: 0,
        on_border: 0,
        in_district: 0,
    };
    let mut disagreements = Vec::new();
    for &(x, y) in pts {
        match reference.truth(x, y) {
            Truth::OnBorder => tally.on_border += 1,
            Truth::Inside(truth) => {
                let ours = index.lookup(x, y);
                if ours != truth {
                    disagreements.push(format!("({x}, {y}): ours {ours:?}, reference {truth:?}"));
                }
                tally.checked += 1;
                tally.in_district += usize::from(truth.is_some());
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{what}: {} disagreements, first: {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(10)]
    );
    tally
}

fn check_layer(file: &str, field: &str, min_uniform_land: usize) {
    let layer = common::read_layer(file, field);
    let index = DistrictIndex::build(&common::geoms(&layer));
    let reference = Reference::new(&layer);
    let envelope = reference.tree.root().envelope();
    let (lo, hi) = (envelope.lower(), envelope.upper());
    let mut rng = rand::rngs::StdRng::seed_from_u64(2019);

    let uniform: Vec<(f64, f64)> = (0..200_000)
        .map(|_| {
            (
                rng.random_range(lo[0]..hi[0]),
                rng.random_range(lo[1]..hi[1]),
            )
        })
        .collect();
    let t = compare(&index, &reference, &uniform, &format!("{file} uniform"));
    assert!(
        t.on_border <= 2,
        "{file}: {} uniform points on a border",
        t.on_border
    );
    assert!(
        t.in_district >= min_uniform_land,
        "{file}: only {} uniform points on land",
        t.in_district
    );

    let vertices: Vec<Coord<f64>> = reference
        .rings
        .iter()
        .flat_map(|(_, p)| p.exterior().0.iter().copied())
        .collect();
    let near: Vec<(f64, f64)> = (0..100_000)
        .map(|_| {
            let v = vertices[rng.random_range(0..vertices.len())];
            // Up to about 5 m away: nearly all of these land in cells that borders cross.
            (
                v.x + rng.random_range(-5e-5..5e-5),
                v.y + rng.random_range(-5e-5..5e-5),
            )
        })
        .collect();
    let t = compare(&index, &reference, &near, &format!("{file} near vertices"));
    assert!(
        t.checked >= 99_900,
        "{file}: {} near points checked",
        t.checked
    );
    assert!(
        t.in_district >= 70_000,
        "{file}: {} near points on land",
        t.in_district
    );

    // Exactly on vertices: the border rule says "the district just east, then just north",
    // so the answer must be what the reference gives a hair (1e-9°) to the east, where that
    // point is clear of every ring (a point on an east-going edge is skipped). No northward
    // nudge: edges as flat as 1 in 20,000 occur (E01018194), and any fixed nudge north would
    // have to be smaller than the slope times the nudge east.
    let (mut checked, mut skipped) = (0usize, 0usize);
    for v in vertices.iter().step_by(7) {
        let nudged = (v.x + 1e-9, v.y);
        match reference.truth(nudged.0, nudged.1) {
            Truth::OnBorder => skipped += 1,
            Truth::Inside(truth) => {
                assert_eq!(index.lookup(v.x, v.y), truth, "{file}: vertex {v:?}");
                checked += 1;
            }
        }
    }
    assert!(
        skipped * 50 <= checked,
        "{file}: {skipped} nudged vertices on a border, {checked} checked"
    );
    println!("{file}: {checked} vertices checked, {skipped} on an east-going edge skipped");
}

#[test]
fn lad19_fast_path_agrees_with_even_odd_reference() {
    check_layer(common::LAD19, "lad19cd", 50_000);
}

#[test]
fn lsoa11_fast_path_agrees_with_even_odd_reference() {
    check_layer(common::LSOA11, "lsoa11cd", 60_000);
}
