//! The R-tree of districts (rstar `bulk_load`) with exact point-in-polygon after the envelope hit.
//!
//! # How a lookup works
//!
//! Every ring of every district (exterior rings and holes alike) gets its own envelope in one
//! R-tree. A point is tested against each ring whose envelope holds it, with a crossing-number
//! test, and the parities are added up per district (even-odd over *all* rings of the district).
//! That handles holes, and also files that store a hole as a separate overlapping polygon (the
//! ONS BGC file gives South Cambridgeshire a polygon that covers Cambridge a second time).
//! Rings of many vertices carry a small edge index (edges binned by y), so a test touches only
//! the few edges at the point's latitude instead of thousands.
//!
//! # Border rule
//!
//! A point exactly on a border belongs to the district *just east* of it; on an east-west
//! (horizontal) border, to the district *just north* of it. Formally, the point is classified as
//! if it were moved by `(ε, δ)` with `0 < δ ≪ ε` infinitesimal, which puts it strictly inside at
//! most one district of a gap-free tiling. The crossing test implements this with the half-open
//! rule: an edge counts when `lower.y <= y < upper.y` and the point is strictly left of the edge
//! (exact orientation via geo's robust kernel), so the answer is the same every time and for
//! both neighbours. A point in the sea belongs to no district.
//!
//! The crossing test is written here rather than taken from geo's `Contains`, because geo's
//! boundary semantics (a point on the boundary is *not* contained) leave border points in no
//! district, and geo has no even-odd rule across the polygons of a multipolygon.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::Coord;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::geometry::Wgs84;

/// Rings with more edges than this get a y-bin edge index; smaller ones are scanned whole.
const BINNED_RING_MIN_EDGES: usize = 24;
/// Average number of edges per y-bin for a binned ring.
const EDGES_PER_BIN: usize = 4;
/// Points per rayon task in [`DistrictIndex::lookup_many`].
const LOOKUP_CHUNK: usize = 4096;

/// One ring of one district: a closed run of `edges + 1` coordinates in `DistrictIndex::coords`.
#[derive(Debug, Clone)]
struct Ring {
    district: usize,
    start: usize,
    edges: usize,
    bins: Option<YBins>,
}

/// Edges of a ring binned by y, stored in `DistrictIndex::bin_offsets` / `bin_edges` (CSR).
#[derive(Debug, Clone)]
struct YBins {
    ymin: f64,
    inv_height: f64,
    count: usize,
    /// Position of this ring's `count + 1` offsets in `bin_offsets`.
    offsets_start: usize,
}

impl YBins {
    /// Bin of `y`, clamped. Monotone in `y`, so an edge spanning `y` is in `y`'s bin.
    fn bin(&self, y: f64) -> usize {
        let b = ((y - self.ymin) * self.inv_height).floor();
        if b <= 0.0 {
            0
        } else {
            (b as usize).min(self.count - 1)
        }
    }
}

/// Spatial index over a layer's districts: envelopes in an R-tree, rings copied in a compact
/// form so the index owns everything it needs (no lifetime, cheap to share behind an `Arc`).
#[derive(Debug, Default)]
pub struct DistrictIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    rings: Vec<Ring>,
    coords: Vec<Coord<f64>>,
    bin_offsets: Vec<usize>,
    bin_edges: Vec<usize>,
    grid: CellGrid,
    districts: usize,
}

impl DistrictIndex {
    /// Builds the index over districts in layer order; lookups return positions in `geoms`.
    ///
    /// ```
    /// use districts::{index::DistrictIndex, Wgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// let west = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    /// let east = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)];
    /// let index = DistrictIndex::build(&[Wgs84(MultiPolygon(vec![west])), Wgs84(MultiPolygon(vec![east]))]);
    /// assert_eq!(index.lookup(0.5, 0.5), Some(0));
    /// assert_eq!(index.lookup(1.0, 0.5), Some(1)); // on the shared border: the eastern district
    /// assert_eq!(index.lookup(5.0, 5.0), None);
    /// ```
    pub fn build(geoms: &[Wgs84]) -> DistrictIndex {
        let mut index = DistrictIndex {
            districts: geoms.len(),
            ..DistrictIndex::default()
        };
        let mut envelopes = Vec::new();
        for (district, geom) in geoms.iter().enumerate() {
            for polygon in &geom.0.0 {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    if let Some(envelope) = index.push_ring(district, &ring.0) {
                        envelopes.push(GeomWithData::new(envelope, index.rings.len() - 1));
                    }
                }
            }
        }
        index.tree = RTree::bulk_load(envelopes);
        index.grid = CellGrid::build(&index);
        index
    }

    /// Copies one ring (closing it if needed) and builds its edge bins; `None` for a ring of
    /// fewer than three distinct positions, which encloses nothing.
    fn push_ring(&mut self, district: usize, ring: &[Coord<f64>]) -> Option<Rectangle<[f64; 2]>> {
        let first = *ring.first()?;
        if ring.len() < 3 || !ring.iter().all(|c| c.x.is_finite() && c.y.is_finite()) {
            return None;
        }
        let start = self.coords.len();
        self.coords.extend_from_slice(ring);
        if ring.last() != Some(&first) {
            self.coords.push(first);
        }
        let pts = &self.coords[start..];
        let edges = pts.len() - 1;
        let (mut min, mut max) = (first, first);
        for c in pts {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        let bins = (edges >= BINNED_RING_MIN_EDGES && max.y > min.y).then(|| {
            let count = edges / EDGES_PER_BIN;
            let bins = YBins {
                ymin: min.y,
                inv_height: count as f64 / (max.y - min.y),
                count,
                offsets_start: self.bin_offsets.len(),
            };
            // Counting sort of edges into bins: first the sizes, then the positions.
            let mut sizes = vec![0usize; count];
            let spans: Vec<(usize, usize)> = pts
                .windows(2)
                .map(|w| (bins.bin(w[0].y.min(w[1].y)), bins.bin(w[0].y.max(w[1].y))))
                .collect();
            for &(lo, hi) in &spans {
                for size in &mut sizes[lo..=hi] {
                    *size += 1;
                }
            }
            let mut offset = self.bin_edges.len();
            let mut next = Vec::with_capacity(count);
            for size in &sizes {
                self.bin_offsets.push(offset);
                next.push(offset);
                offset += size;
            }
            self.bin_offsets.push(offset);
            self.bin_edges.resize(offset, 0);
            for (edge, &(lo, hi)) in spans.iter().enumerate() {
                for slot in &mut next[lo..=hi] {
                    self.bin_edges[*slot] = edge;
                    *slot += 1;
                }
            }
            bins
        });
        self.rings.push(Ring {
            district,
            start,
            edges,
            bins,
        });
        Some(Rectangle::from_corners([min.x, min.y], [max.x, max.y]))
    }

    /// Number of districts the index was built over.
    pub fn len(&self) -> usize {
        self.districts
    }

    /// True when built over no districts.
    pub fn is_empty(&self) -> bool {
        self.districts == 0
    }

    /// The district containing the point (see the module docs for the border rule), or `None`
    /// in the sea. Where bad data makes districts overlap, the lowest position wins.
    ///
    /// ```
    /// use districts::{index::DistrictIndex, Wgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// // A square with a hole stored as a second, overlapping polygon (even-odd rule).
    /// let outer = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
    /// let hole = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
    /// let index = DistrictIndex::build(&[Wgs84(MultiPolygon(vec![outer, hole]))]);
    /// assert_eq!(index.lookup(3.0, 3.0), Some(0));
    /// assert_eq!(index.lookup(1.5, 1.5), None);
    /// ```
    pub fn lookup(&self, lon: f64, lat: f64) -> Option<usize> {
        match self.grid.cell(lon, lat) {
            None => None,
            Some(cell) => match self.grid.owners[cell] {
                NO_DISTRICT => None,
                MIXED => self.lookup_exact(lon, lat),
                owner => Some(owner as usize),
            },
        }
    }

    /// The exact test behind [`lookup`](Self::lookup): R-tree envelope hits, then even-odd.
    fn lookup_exact(&self, lon: f64, lat: f64) -> Option<usize> {
        let p = Coord { x: lon, y: lat };
        // Districts with an odd number of crossings so far; a point is inside very few rings,
        // so a small inline set avoids allocating per lookup.
        let mut odd = OddSet::default();
        for hit in self.tree.locate_all_at_point(&[lon, lat]) {
            let ring = &self.rings[hit.data];
            if self.ring_crossings_odd(ring, p) {
                odd.toggle(ring.district);
            }
        }
        odd.min()
    }

    /// Crossing parity of the ray from `p` towards +x with one ring (half-open rule).
    fn ring_crossings_odd(&self, ring: &Ring, p: Coord<f64>) -> bool {
        let pts = &self.coords[ring.start..ring.start + ring.edges + 1];
        let mut odd = false;
        match &ring.bins {
            Some(bins) => {
                let b = bins.bin(p.y);
                let lo = self.bin_offsets[bins.offsets_start + b];
                let hi = self.bin_offsets[bins.offsets_start + b + 1];
                for &e in &self.bin_edges[lo..hi] {
                    odd ^= crosses(pts[e], pts[e + 1], p);
                }
            }
            None => {
                for w in pts.windows(2) {
                    odd ^= crosses(w[0], w[1], p);
                }
            }
        }
        odd
    }

    /// [`lookup`](Self::lookup) for many `(lon, lat)` points, in parallel chunks; the output is
    /// in input order.
    ///
    /// ```
    /// use districts::{index::DistrictIndex, Wgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    /// let index = DistrictIndex::build(&[Wgs84(MultiPolygon(vec![square]))]);
    /// assert_eq!(index.lookup_many(&[(0.5, 0.5), (2.0, 2.0)]), vec![Some(0), None]);
    /// ```
    pub fn lookup_many(&self, pts: &[(f64, f64)]) -> Vec<Option<usize>> {
        pts.par_iter()
            .with_min_len(LOOKUP_CHUNK)
            .map(|&(lon, lat)| self.lookup(lon, lat))
            .collect()
    }

    /// Districts with a ring envelope intersecting the box (candidates, not exact), sorted and
    /// without repeats.
    ///
    /// ```
    /// use districts::{index::DistrictIndex, Wgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// let a = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    /// let b = polygon![(x: 5.0, y: 5.0), (x: 6.0, y: 5.0), (x: 6.0, y: 6.0), (x: 5.0, y: 6.0)];
    /// let index = DistrictIndex::build(&[Wgs84(MultiPolygon(vec![a])), Wgs84(MultiPolygon(vec![b]))]);
    /// assert_eq!(index.candidates_in_bbox(-1.0, -1.0, 5.5, 5.5), vec![0, 1]);
    /// assert_eq!(index.candidates_in_bbox(2.0, 2.0, 3.0, 3.0), Vec::<usize>::new());
    /// ```
    pub fn candidates_in_bbox(
        &self,
        min_lon: f64,
        min_lat: f64,
        max_lon: f64,
        max_lat: f64,
    ) -> Vec<usize> {
        let envelope = AABB::from_corners([min_lon, min_lat], [max_lon, max_lat]);
        let mut out: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|hit| self.rings[hit.data].district)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The district containing the point, else the district with the nearest border within
    /// `max_distance_deg` (planar distance in degrees), e.g. for a GPS fix just off the coast.
    ///
    /// ```
    /// use districts::{index::DistrictIndex, Wgs84};
    /// use geo_types::{polygon, MultiPolygon};
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    /// let index = DistrictIndex::build(&[Wgs84(MultiPolygon(vec![square]))]);
    /// assert_eq!(index.nearest(1.05, 0.5, 0.1), Some(0));
    /// assert_eq!(index.nearest(1.5, 0.5, 0.1), None);
    /// ```
    pub fn nearest(&self, lon: f64, lat: f64, max_distance_deg: f64) -> Option<usize> {
        if let Some(found) = self.lookup(lon, lat) {
            return Some(found);
        }
        let p = Coord { x: lon, y: lat };
        let max_d2 = max_distance_deg * max_distance_deg;
        let mut best: Option<(f64, usize)> = None;
        for hit in self.tree.locate_within_distance([lon, lat], max_d2) {
            let ring = &self.rings[hit.data];
            let pts = &self.coords[ring.start..ring.start + ring.edges + 1];
            let d2 = pts
                .windows(2)
                .map(|w| segment_distance_2(w[0], w[1], p))
                .fold(f64::INFINITY, f64::min);
            let better = match best {
                None => true,
                Some((bd, bdist)) => d2 < bd || (d2 == bd && ring.district < bdist),
            };
            if d2 <= max_d2 && better {
                best = Some((d2, ring.district));
            }
        }
        best.map(|(_, district)| district)
    }

    /// Approximate heap memory held by the index, in bytes (for start-up logs).
    pub fn heap_bytes(&self) -> usize {
        self.coords.capacity() * std::mem::size_of::<Coord<f64>>()
            + self.rings.capacity() * std::mem::size_of::<Ring>()
            + (self.bin_offsets.capacity() + self.bin_edges.capacity())
                * std::mem::size_of::<usize>()
            + self.tree.size() * std::mem::size_of::<GeomWithData<Rectangle<[f64; 2]>, usize>>() * 2
            + self.grid.owners.capacity() * std::mem::size_of::<u32>()
    }
}

/// Cell marker: some edge may touch the cell, so points in it take the exact test.
const MIXED: u32 = u32::MAX;
/// Cell marker: the cell is in no district (sea, or a hole).
const NO_DISTRICT: u32 = u32::MAX - 1;
/// Target number of grid cells per ring edge, and the bounds on the grid size.
const CELLS_PER_EDGE: usize = 16;
const MIN_CELLS: usize = 1 << 12;
const MAX_CELLS: usize = 1 << 22;

/// A uniform grid over the layer's extent that answers most lookups without any geometry.
///
/// Every cell that an edge's bounding box touches is `MIXED`. Any other cell contains no
/// point of any edge, and neither does a connected run of such cells, so the even-odd answer is
/// the same everywhere in it: it is computed once per connected run (union-find over the
/// grid) with the exact test and stored. Lookups in the sea or deep inside a district are then
/// one array read; only points near a border pay for the exact test.
#[derive(Debug, Default)]
struct CellGrid {
    min: [f64; 2],
    max: [f64; 2],
    inv_size: [f64; 2],
    dims: [usize; 2],
    owners: Vec<u32>,
}

impl CellGrid {
    /// Column or row of a coordinate; monotone, so an edge's bbox covers every cell its points map to.
    fn axis(&self, v: f64, axis: usize) -> usize {
        // `as usize` truncates towards zero and saturates, so for c >= 0 it is floor, and it
        // compiles to one instruction where `f64::floor` is a libm call on baseline x86-64.
        let c = (v - self.min[axis]) * self.inv_size[axis];
        if c <= 0.0 {
            0
        } else {
            (c as usize).min(self.dims[axis] - 1)
        }
    }

    /// Cell of a point, `None` outside the extent of all rings (so in no district).
    fn cell(&self, x: f64, y: f64) -> Option<usize> {
        // Written so that NaN also lands outside.
        let inside = x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1];
        (inside && !self.owners.is_empty())
            .then(|| self.axis(y, 1) * self.dims[0] + self.axis(x, 0))
    }

    fn build(index: &DistrictIndex) -> CellGrid {
        let envelope = index.tree.root().envelope();
        let edges: usize = index.rings.iter().map(|r| r.edges).sum();
        if index.rings.is_empty() || index.districts >= NO_DISTRICT as usize {
            return CellGrid::default();
        }
        let (lower, upper) = (envelope.lower(), envelope.upper());
        let (w, h) = (upper[0] - lower[0], upper[1] - lower[1]);
        if !(w > 0.0 && h > 0.0) {
            return CellGrid::default();
        }
        let target = (edges * CELLS_PER_EDGE).clamp(MIN_CELLS, MAX_CELLS) as f64;
        let cols = ((target * w / h).sqrt().round() as usize).clamp(1, MAX_CELLS);
        let rows = (target / cols as f64).round().clamp(1.0, MAX_CELLS as f64) as usize;
        let mut grid = CellGrid {
            min: lower,
            max: upper,
            inv_size: [cols as f64 / w, rows as f64 / h],
            dims: [cols, rows],
            owners: vec![NO_DISTRICT; cols * rows],
        };
        for ring in &index.rings {
            for e in index.coords[ring.start..=ring.start + ring.edges].windows(2) {
                let (c0, c1) = (
                    grid.axis(e[0].x.min(e[1].x), 0),
                    grid.axis(e[0].x.max(e[1].x), 0),
                );
                let (r0, r1) = (
                    grid.axis(e[0].y.min(e[1].y), 1),
                    grid.axis(e[0].y.max(e[1].y), 1),
                );
                for r in r0..=r1 {
                    grid.owners[r * cols + c0..=r * cols + c1].fill(MIXED);
                }
            }
        }
        // Union-find over the clean cells, joining each to its clean left and lower neighbours.
        let mut parent: Vec<u32> = (0..(cols * rows) as u32).collect();
        fn find(parent: &mut [u32], mut i: usize) -> usize {
            while parent[i] as usize != i {
                parent[i] = parent[parent[i] as usize];
                i = parent[i] as usize;
            }
            i
        }
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if grid.owners[i] == MIXED {
                    continue;
                }
                for j in [(c > 0).then(|| i - 1), (r > 0).then(|| i - cols)]
                    .into_iter()
                    .flatten()
                {
                    if grid.owners[j] != MIXED {
                        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                        parent[a.max(b)] = a.min(b) as u32;
                    }
                }
            }
        }
        // One exact lookup per connected run, at the centre of a cell that maps back to itself.
        let mut answer: Vec<u32> = vec![MIXED; cols * rows];
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if grid.owners[i] == MIXED {
                    continue;
                }
                let root = find(&mut parent, i);
                if answer[root] == MIXED {
                    let x = grid.min[0] + (c as f64 + 0.5) / grid.inv_size[0];
                    let y = grid.min[1] + (r as f64 + 0.5) / grid.inv_size[1];
                    if grid.cell(x, y) == Some(i) {
                        answer[root] = index.lookup_exact(x, y).map_or(NO_DISTRICT, |d| d as u32);
                    }
                }
            }
        }
        for i in 0..cols * rows {
            if grid.owners[i] != MIXED {
                grid.owners[i] = answer[find(&mut parent, i)];
            }
        }
        grid
    }
}

/// Whether edge `a`-`b` crosses the ray from `p` towards +x, by the half-open rule of the
/// module docs: `lower.y <= p.y < upper.y` and `p` strictly left of the upward edge.
#[inline]
fn crosses(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    let (lo, hi) = if a.y <= b.y { (a, b) } else { (b, a) };
    if p.y < lo.y || p.y >= hi.y {
        return false;
    }
    if p.x < lo.x.min(hi.x) {
        return true;
    }
    if p.x > lo.x.max(hi.x) {
        return false;
    }
    RobustKernel::orient2d(lo, hi, p) == Orientation::CounterClockwise
}

/// Squared planar distance from `p` to segment `a`-`b`.
fn segment_distance_2(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> f64 {
    let d = b - a;
    let len2 = d.x * d.x + d.y * d.y;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * d.x + (p.y - a.y) * d.y) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let q = Coord {
        x: a.x + t * d.x,
        y: a.y + t * d.y,
    };
    (p.x - q.x).powi(2) + (p.y - q.y).powi(2)
}

/// A set of district positions with a toggle, inline for the usual handful, spilling to the heap.
#[derive(Default)]
struct OddSet {
    inline: [usize; 8],
    len: usize,
    spill: Vec<usize>,
}

impl OddSet {
    fn toggle(&mut self, district: usize) {
        if let Some(i) = self.inline[..self.len].iter().position(|&d| d == district) {
            self.len -= 1;
            self.inline[i] = self.inline[self.len];
        } else if let Some(i) = self.spill.iter().position(|&d| d == district) {
            self.spill.swap_remove(i);
        } else if self.len < self.inline.len() {
            self.inline[self.len] = district;
            self.len += 1;
        } else {
            self.spill.push(district);
        }
    }

    fn min(&self) -> Option<usize> {
        self.inline[..self.len]
            .iter()
            .chain(&self.spill)
            .copied()
            .min()
    }
}
