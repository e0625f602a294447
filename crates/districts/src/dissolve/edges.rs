//! The exact dissolve: snap, split, cancel shared edges, chain the rest into rings.
//!
//! 1. **Snap.** Every vertex is matched to the first input vertex within the tolerance (a hash
//!    grid of tolerance-sized cells), so near-identical copies of a shared vertex (the LAD 2021
//!    BUC file has Allerdale/Carlisle vertices 1e-9 m apart) become one. Positions are never
//!    computed, only chosen among input vertices.
//! 2. **Split.** An edge passing within the tolerance of another ring's vertex (a T-junction,
//!    where one side of a border has a vertex the other lacks) is split there, so both sides of
//!    every shared border are made of the same edges.
//! 3. **Cancel.** Rings are oriented with the interior on the left (shells counter-clockwise,
//!    holes clockwise; a shell nested in another shell of the same district, as ONS files store
//!    some holes, counts as a hole). An edge and its reverse are a shared border: both go.
//! 4. **Chain.** What is left is the outer boundary, every vertex with as many edges in as out.
//!    Edges are walked into closed rings, taking the sharpest left turn at a vertex with several
//!    ways on, then cut at repeated vertices, so parts touching at a point stay separate rings.
//! 5. **Classify.** Counter-clockwise rings are shells, clockwise rings holes, each hole going to
//!    the smallest shell that contains it. Rings thinner than the tolerance (area not above
//!    tolerance x perimeter) are slivers and are dropped, and counted.
//!
//! Why this is exact: the output consists of input edges only (some split at input vertices),
//! so the outer boundary is unchanged and every output vertex is an input vertex; a gap or
//! overlap between members could only survive as an edge that found no reverse, which snapping
//! and splitting rule out for borders that match within the tolerance.
//!
//! Hand-written rather than geo's boolean ops, measured on LAD 2021 (`tests/dissolve_real.rs`):
//! a pairwise `union` leaves sliver holes along former borders (10 in North Yorkshire, up to
//! 0.65 m², 5 in Somerset); `unary_union`, clean here, rounds every vertex through its integer
//! grid (none of Cumberland's 173 output vertices is an input vertex; moved up to 0.085 mm), so
//! the outline no longer matches the unmerged neighbours' copies bit for bit. geo's
//! `StitchTriangles` cancels edges like this module but needs bit-identical vertices and is
//! deprecated.

use std::collections::HashMap;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

/// How close two vertices (or a vertex and an edge) must be to count as the same.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Snap {
    /// A fraction of the larger side of the members' bounding box: CRS-independent (1e-7 is
    /// 8 mm on Cumberland in metres, and about the same in degrees).
    Relative(f64),
    /// In the units of the coordinates (metres for British National Grid).
    Absolute(f64),
}

impl Default for Snap {
    /// `Relative(1e-7)`: far above floating-point noise, far below any generalisation step.
    fn default() -> Self {
        Snap::Relative(1e-7)
    }
}

/// Options of [`dissolve`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DissolveOptions {
    /// Snapping tolerance.
    pub snap: Snap,
}

/// What one dissolve did, for notes and tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DissolveStats {
    /// The tolerance used, in coordinate units.
    pub tolerance: f64,
    /// Vertices read (closing vertices not counted).
    pub input_vertices: usize,
    /// Vertices moved onto a different input vertex within the tolerance.
    pub snapped_vertices: usize,
    /// Vertices inserted into an edge of another ring (T-junctions).
    pub split_points: usize,
    /// Pairs of opposite edges removed (shared borders).
    pub cancelled_edges: usize,
    /// Output rings dropped as slivers (thinner than the tolerance), plus degenerate input rings.
    pub dropped_slivers: usize,
    /// Holes that no shell contains (only with overlapping or inconsistent members); dropped.
    pub unplaced_holes: usize,
    /// Area of the members (holes subtracted), in squared coordinate units.
    pub input_area: f64,
    /// Area of the result.
    pub output_area: f64,
}

/// The result of [`dissolve`]: one multipolygon and what it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Dissolved {
    /// Shells counter-clockwise, holes clockwise, largest part first.
    pub geometry: MultiPolygon<f64>,
    /// Counts of what was snapped, split, cancelled and dropped.
    pub stats: DissolveStats,
}

/// Dissolves members that tile an area (neighbours that do not overlap) into one multipolygon,
/// in whatever planar CRS they come in. See the module docs for how and why it is exact.
///
/// ```
/// use districts::dissolve::{dissolve, DissolveOptions};
/// use geo_types::{polygon, MultiPolygon};
/// let a = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
/// // The shared border's vertices are 1e-12 off: still one rectangle, no sliver.
/// let b = MultiPolygon(vec![polygon![(x: 1.0 + 1e-12, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0 - 1e-12)]]);
/// let d = dissolve(&[&a, &b], &DissolveOptions::default());
/// assert_eq!(d.geometry.0.len(), 1);
/// assert!(d.geometry.0[0].interiors().is_empty());
/// assert_eq!(d.stats.snapped_vertices, 2);
/// // The six input corners on the outline (a's copies of the snapped pair), closed.
/// assert_eq!(d.geometry.0[0].exterior().0.len(), 7);
/// assert!(d.geometry.0[0].exterior().0.contains(&geo_types::coord! { x: 1.0, y: 1.0 }));
/// ```
pub fn dissolve(members: &[&MultiPolygon<f64>], options: &DissolveOptions) -> Dissolved {
    let tolerance = tolerance(members, options.snap);
    let mut stats = DissolveStats {
        tolerance,
        ..DissolveStats::default()
    };
    let mut vertices = Vertices::new(tolerance);
    let mut rings: Vec<Vec<u32>> = Vec::new();
    for member in members {
        let depths = nesting_depths(member);
        for (polygon, depth) in member.0.iter().zip(depths) {
            let shell_ccw = depth % 2 == 0;
            let rings_of = std::iter::once((polygon.exterior(), shell_ccw))
                .chain(polygon.interiors().iter().map(|h| (h, !shell_ccw)));
            for (ring, want_ccw) in rings_of {
                match vertices.ring(ring, &mut stats) {
                    Some(mut ids) => {
                        let area = vertices.signed_area(&ids);
                        if area == 0.0 {
                            stats.dropped_slivers += 1;
                            continue;
                        }
                        if (area > 0.0) != want_ccw {
                            ids.reverse();
                        }
                        stats.input_area += if want_ccw { area.abs() } else { -area.abs() };
                        rings.push(ids);
                    }
                    None => stats.dropped_slivers += 1,
                }
            }
        }
    }
    let edges = split_edges(&vertices, &rings, &mut stats);
    let remaining = cancel(edges, &mut stats);
    let walks = chain(&vertices, remaining);
    let geometry = classify(&vertices, walks, &mut stats);
    stats.output_area = geometry
        .0
        .iter()
        .map(|p| {
            ring_area(&p.exterior().0) + p.interiors().iter().map(|h| ring_area(&h.0)).sum::<f64>()
        })
        .sum();
    Dissolved { geometry, stats }
}

/// The tolerance in coordinate units (0 for an empty input or a non-positive option).
fn tolerance(members: &[&MultiPolygon<f64>], snap: Snap) -> f64 {
    let t = match snap {
        Snap::Absolute(t) => t,
        Snap::Relative(f) => {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for c in members
                .iter()
                .flat_map(|m| m.0.iter())
                .flat_map(|p| p.exterior().0.iter())
            {
                x0 = x0.min(c.x);
                y0 = y0.min(c.y);
                x1 = x1.max(c.x);
                y1 = y1.max(c.y);
            }
            if x1 < x0 {
                0.0
            } else {
                f * (x1 - x0).max(y1 - y0)
            }
        }
    };
    if t.is_finite() && t > 0.0 { t } else { 0.0 }
}

/// For each polygon of a district, how many of its other shells contain it: an odd depth is a
/// hole stored as a separate overlapping polygon (even-odd semantics, as the loaders keep it).
fn nesting_depths(mp: &MultiPolygon<f64>) -> Vec<usize> {
    let n = mp.0.len();
    let mut depths = vec![0; n];
    if n < 2 {
        return depths;
    }
    let boxes: Vec<[f64; 4]> = mp.0.iter().map(|p| bbox(&p.exterior().0)).collect();
    for (i, inner) in mp.0.iter().enumerate() {
        for (j, outer) in mp.0.iter().enumerate() {
            let (bi, bj) = (boxes[i], boxes[j]);
            if i == j || bi[0] < bj[0] || bi[1] < bj[1] || bi[2] > bj[2] || bi[3] > bj[3] {
                continue;
            }
            // A vertex of the inner shell that is not a vertex of the outer one (parts that
            // touch share vertices, which are on the boundary, neither in nor out).
            let outer_ring = &outer.exterior().0;
            let probe = inner
                .exterior()
                .0
                .iter()
                .find(|c| !outer_ring.iter().any(|o| o == *c));
            if let Some(p) = probe
                && point_in_ring(*p, outer_ring)
            {
                depths[i] += 1;
            }
        }
    }
    depths
}

/// `[min_x, min_y, max_x, max_y]` of coordinates.
fn bbox(coords: &[Coord<f64>]) -> [f64; 4] {
    coords.iter().fold(
        [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
        |[x0, y0, x1, y1], c| [x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y)],
    )
}

/// Crossing-number test (a point on the boundary may go either way; callers avoid that).
fn point_in_ring(p: Coord<f64>, ring: &[Coord<f64>]) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Shoelace area of a closed ring (positive counter-clockwise).
fn ring_area(coords: &[Coord<f64>]) -> f64 {
    coords
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0
}

/// Snapped vertices: each distinct position once, found again through a hash grid.
struct Vertices {
    tolerance: f64,
    positions: Vec<Coord<f64>>,
    grid: HashMap<(i64, i64), Vec<u32>, foldhash::fast::RandomState>,
}

impl Vertices {
    fn new(tolerance: f64) -> Self {
        Vertices {
            tolerance,
            positions: Vec::new(),
            grid: HashMap::default(),
        }
    }

    fn cell(&self, c: Coord<f64>) -> (i64, i64) {
        if self.tolerance > 0.0 {
            // Saturating float-to-int casts: coordinates are finite (the loaders check).
            (
                (c.x / self.tolerance).floor() as i64,
                (c.y / self.tolerance).floor() as i64,
            )
        } else {
            (c.x.to_bits() as i64, c.y.to_bits() as i64)
        }
    }

    /// The id of the nearest known vertex within the tolerance, else of a new vertex at `c`.
    fn id(&mut self, c: Coord<f64>, stats: &mut DissolveStats) -> u32 {
        let (cx, cy) = self.cell(c);
        let tol2 = self.tolerance * self.tolerance;
        let mut best: Option<(f64, u32)> = None;
        let reach = if self.tolerance > 0.0 { 1 } else { 0 };
        for dx in -reach..=reach {
            for dy in -reach..=reach {
                let Some(ids) = self
                    .grid
                    .get(&(cx.saturating_add(dx), cy.saturating_add(dy)))
                else {
                    continue;
                };
                for &id in ids {
                    let p = self.positions[id as usize];
                    let d2 = (p.x - c.x).powi(2) + (p.y - c.y).powi(2);
                    if (d2 <= tol2 || p == c) && best.is_none_or(|(bd, _)| d2 < bd) {
                        best = Some((d2, id));
                    }
                }
            }
        }
        if let Some((d2, id)) = best {
            if d2 > 0.0 {
                stats.snapped_vertices += 1;
            }
            return id;
        }
        let id = self.positions.len() as u32;
        self.positions.push(c);
        self.grid.entry((cx, cy)).or_default().push(id);
        id
    }

    /// A ring as vertex ids, open (no closing repeat), without consecutive repeats; `None` if
    /// fewer than three distinct vertices are left.
    fn ring(&mut self, ring: &LineString<f64>, stats: &mut DissolveStats) -> Option<Vec<u32>> {
        let coords = match ring.0.as_slice() {
            [rest @ .., last] if rest.first() == Some(last) => rest,
            all => all,
        };
        stats.input_vertices += coords.len();
        let mut ids: Vec<u32> = Vec::with_capacity(coords.len());
        for &c in coords {
            let id = self.id(c, stats);
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        while ids.len() > 1 && ids.first() == ids.last() {
            ids.pop();
        }
        (ids.len() >= 3).then_some(ids)
    }

    /// Shoelace area of a ring of ids (positive counter-clockwise).
    fn signed_area(&self, ids: &[u32]) -> f64 {
        let n = ids.len();
        (0..n)
            .map(|i| {
                let a = self.positions[ids[i] as usize];
                let b = self.positions[ids[(i + 1) % n] as usize];
                a.x * b.y - b.x * a.y
            })
            .sum::<f64>()
            / 2.0
    }

    fn at(&self, id: u32) -> Coord<f64> {
        self.positions[id as usize]
    }
}

/// Every directed edge of every ring, split at vertices lying on it within the tolerance.
fn split_edges(
    vertices: &Vertices,
    rings: &[Vec<u32>],
    stats: &mut DissolveStats,
) -> Vec<(u32, u32)> {
    let total: usize = rings.iter().map(Vec::len).sum();
    let mut edges = Vec::with_capacity(total);
    let tol = vertices.tolerance;
    let tree = (tol > 0.0).then(|| {
        RTree::bulk_load(
            vertices
                .positions
                .iter()
                .enumerate()
                .map(|(i, c)| GeomWithData::new([c.x, c.y], i as u32))
                .collect(),
        )
    });
    let mut on_edge: Vec<(f64, u32)> = Vec::new();
    for ring in rings {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            let Some(tree) = &tree else {
                edges.push((a, b));
                continue;
            };
            let (pa, pb) = (vertices.at(a), vertices.at(b));
            let envelope = AABB::from_corners(
                [pa.x.min(pb.x) - tol, pa.y.min(pb.y) - tol],
                [pa.x.max(pb.x) + tol, pa.y.max(pb.y) + tol],
            );
            let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
            let len2 = dx * dx + dy * dy;
            on_edge.clear();
            for hit in tree.locate_in_envelope(&envelope) {
                let w = hit.data;
                if w == a || w == b || len2 == 0.0 {
                    continue;
                }
                let [px, py] = *hit.geom();
                let t = ((px - pa.x) * dx + (py - pa.y) * dy) / len2;
                let cross = (px - pa.x) * dy - (py - pa.y) * dx;
                if t > 0.0 && t < 1.0 && cross * cross <= tol * tol * len2 {
                    on_edge.push((t, w));
                }
            }
            if on_edge.is_empty() {
                edges.push((a, b));
                continue;
            }
            on_edge.sort_by(|x, y| x.0.total_cmp(&y.0));
            stats.split_points += on_edge.len();
            let mut from = a;
            for &(_, w) in &on_edge {
                edges.push((from, w));
                from = w;
            }
            edges.push((from, b));
        }
    }
    edges
}

/// Removes each edge together with one reverse copy; returns what is left, sorted (so the
/// output does not depend on hashing).
fn cancel(edges: Vec<(u32, u32)>, stats: &mut DissolveStats) -> Vec<(u32, u32)> {
    let mut count: HashMap<(u32, u32), u32, foldhash::fast::RandomState> = HashMap::default();
    for (a, b) in edges {
        match count.get_mut(&(b, a)) {
            Some(c) if *c > 0 => {
                *c -= 1;
                stats.cancelled_edges += 1;
            }
            _ => *count.entry((a, b)).or_default() += 1,
        }
    }
    let mut left: Vec<(u32, u32)> = count
        .into_iter()
        .flat_map(|(e, c)| std::iter::repeat_n(e, c as usize))
        .collect();
    left.sort_unstable();
    left
}

/// Walks the remaining edges into closed vertex sequences (each vertex has as many edges in as
/// out, since rings are closed and cancelling removes one in and one out at both ends).
fn chain(vertices: &Vertices, edges: Vec<(u32, u32)>) -> Vec<Vec<u32>> {
    let mut out: HashMap<u32, Vec<u32>, foldhash::fast::RandomState> = HashMap::default();
    let mut starts: Vec<u32> = Vec::new();
    for (a, b) in edges {
        let e = out.entry(a).or_default();
        if e.is_empty() {
            starts.push(a);
        }
        e.push(b);
    }
    let mut walks = Vec::new();
    for start in starts {
        while let Some(first) = out.get_mut(&start).and_then(Vec::pop) {
            let mut walk = vec![start];
            let (mut prev, mut here) = (start, first);
            while here != start {
                walk.push(here);
                let Some(next) = take_left_turn(vertices, &mut out, prev, here) else {
                    // Unbalanced vertex: impossible for closed input rings; end the walk here.
                    break;
                };
                prev = here;
                here = next;
            }
            walks.push(walk);
        }
    }
    walks
}

/// Takes the edge out of `here` turning most sharply left after arriving from `prev`: the one
/// at the smallest clockwise angle from the way back, which keeps each walk around one face.
fn take_left_turn(
    vertices: &Vertices,
    out: &mut HashMap<u32, Vec<u32>, foldhash::fast::RandomState>,
    prev: u32,
    here: u32,
) -> Option<u32> {
    let ways = out.get_mut(&here)?;
    if ways.len() <= 1 {
        return ways.pop();
    }
    let h = vertices.at(here);
    let angle = |id: u32| {
        let p = vertices.at(id);
        (p.y - h.y).atan2(p.x - h.x)
    };
    let back = angle(prev);
    let tau = std::f64::consts::TAU;
    let clockwise = |id: u32| {
        let cw = (back - angle(id)).rem_euclid(tau);
        if cw == 0.0 { tau } else { cw }
    };
    let (best, _) = ways
        .iter()
        .enumerate()
        .map(|(i, &w)| (i, clockwise(w)))
        .min_by(|x, y| x.1.total_cmp(&y.1))?;
    Some(ways.swap_remove(best))
}

/// Cuts a closed walk at repeated vertices into simple rings.
fn simple_rings(walk: &[u32]) -> Vec<Vec<u32>> {
    let mut rings = Vec::new();
    let mut stack: Vec<u32> = Vec::with_capacity(walk.len());
    let mut at: HashMap<u32, usize, foldhash::fast::RandomState> = HashMap::default();
    for &v in walk.iter().chain(walk.first()) {
        if let Some(&i) = at.get(&v) {
            let ring: Vec<u32> = stack.drain(i + 1..).collect();
            for r in &ring {
                at.remove(r);
            }
            let mut ring_with_start = Vec::with_capacity(ring.len() + 1);
            ring_with_start.push(v);
            ring_with_start.extend(ring);
            rings.push(ring_with_start);
        } else {
            at.insert(v, stack.len());
            stack.push(v);
        }
    }
    rings
}

/// Turns walks into polygons: shells (counter-clockwise) with the holes they contain.
fn classify(
    vertices: &Vertices,
    walks: Vec<Vec<u32>>,
    stats: &mut DissolveStats,
) -> MultiPolygon<f64> {
    let mut shells: Vec<(LineString<f64>, f64, [f64; 4])> = Vec::new();
    let mut holes: Vec<(LineString<f64>, [f64; 4])> = Vec::new();
    for ring in walks.iter().flat_map(|w| simple_rings(w)) {
        if ring.len() < 3 {
            stats.dropped_slivers += 1;
            continue;
        }
        let mut coords: Vec<Coord<f64>> = ring.iter().map(|&id| vertices.at(id)).collect();
        coords.push(coords[0]);
        let area = ring_area(&coords);
        let perimeter: f64 = coords
            .windows(2)
            .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
            .sum();
        if area == 0.0 || area.abs() <= vertices.tolerance * perimeter {
            stats.dropped_slivers += 1;
            continue;
        }
        let b = bbox(&coords);
        if area > 0.0 {
            shells.push((LineString(coords), area, b));
        } else {
            holes.push((LineString(coords), b));
        }
    }
    let mut interiors: Vec<Vec<LineString<f64>>> = vec![Vec::new(); shells.len()];
    for (hole, hb) in holes {
        // The midpoint of an edge: hole vertices may touch the shell, edge middles cannot
        // (a shared edge would have cancelled).
        let probe = match hole.0.as_slice() {
            [a, b, ..] => Coord {
                x: (a.x + b.x) / 2.0,
                y: (a.y + b.y) / 2.0,
            },
            _ => continue,
        };
        let owner = shells
            .iter()
            .enumerate()
            .filter(|(_, (_, _, sb))| {
                hb[0] >= sb[0] && hb[1] >= sb[1] && hb[2] <= sb[2] && hb[3] <= sb[3]
            })
            .filter(|(_, (ring, _, _))| point_in_ring(probe, &ring.0))
            .min_by(|x, y| x.1.1.total_cmp(&y.1.1))
            .map(|(i, _)| i);
        match owner {
            Some(i) => interiors[i].push(hole),
            None => stats.unplaced_holes += 1,
        }
    }
    let mut polygons: Vec<(f64, Polygon<f64>)> = shells
        .into_iter()
        .zip(interiors)
        .map(|((shell, area, _), holes)| (area, Polygon::new(shell, holes)))
        .collect();
    polygons.sort_by(|x, y| y.0.total_cmp(&x.0));
    MultiPolygon(polygons.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x: f64, y: f64, s: f64) -> Polygon<f64> {
        polygon![(x: x, y: y), (x: x + s, y: y), (x: x + s, y: y + s), (x: x, y: y + s)]
    }

    fn run(members: &[MultiPolygon<f64>]) -> Dissolved {
        let refs: Vec<&MultiPolygon<f64>> = members.iter().collect();
        dissolve(&refs, &DissolveOptions::default())
    }

    #[test]
    fn a_ring_of_squares_keeps_its_enclave_as_a_hole() {
        // Eight unit squares around a missing centre.
        let members: Vec<MultiPolygon<f64>> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .filter(|&(i, j)| (i, j) != (1, 1))
            .map(|(i, j)| MultiPolygon(vec![square(i as f64, j as f64, 1.0)]))
            .collect();
        let d = run(&members);
        assert_eq!(d.geometry.0.len(), 1);
        let p = &d.geometry.0[0];
        assert_eq!(p.interiors().len(), 1);
        assert!((d.stats.output_area - 8.0).abs() < 1e-12);
        // Corners and edge midpoints of the outer square stay: they are input vertices.
        assert_eq!(p.exterior().0.len(), 13);
    }

    #[test]
    fn squares_touching_at_a_corner_stay_two_parts() {
        let d = run(&[
            MultiPolygon(vec![square(0.0, 0.0, 1.0)]),
            MultiPolygon(vec![square(1.0, 1.0, 1.0)]),
        ]);
        assert_eq!(d.geometry.0.len(), 2);
    }

    #[test]
    fn a_t_junction_is_split() {
        // The right square's border has a vertex at (1, 0.5) the left one lacks.
        let right = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.5)];
        let d = run(&[
            MultiPolygon(vec![square(0.0, 0.0, 1.0)]),
            MultiPolygon(vec![right]),
        ]);
        assert_eq!(d.stats.split_points, 1);
        assert_eq!(d.geometry.0.len(), 1);
        // Six corners of the two squares, closed; (1, 0.5) was on the shared border only.
        assert_eq!(d.geometry.0[0].exterior().0.len(), 7);
    }

    #[test]
    fn a_nested_shell_counts_as_a_hole_filled_by_its_neighbour() {
        // The outer district stores its hole as an overlapping polygon; the inner fills it.
        let outer = MultiPolygon(vec![square(0.0, 0.0, 3.0), square(1.0, 1.0, 1.0)]);
        let inner = MultiPolygon(vec![square(1.0, 1.0, 1.0)]);
        let d = run(&[outer, inner]);
        assert_eq!(d.geometry.0.len(), 1);
        assert!(d.geometry.0[0].interiors().is_empty());
        assert!((d.stats.output_area - 9.0).abs() < 1e-12);
    }
}
