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
//! That R-tree path is the reference. Lookups go through a uniform grid over the layer
//! (`CellGrid`): a cell no border crosses holds its answer, and a cell a border crosses holds
//! copies of its edges and the districts' parities at an anchor point, from which the answer
//! for any point in the cell follows exactly (same rule, same result) by looking at those few
//! edges only. The R-tree path remains for degenerate layers where no grid can be built, and
//! serves [`DistrictIndex::candidates_in_bbox`](crate::index::DistrictIndex::candidates_in_bbox) and [`DistrictIndex::nearest`](crate::index::DistrictIndex::nearest).
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
use serde::{Deserialize, Serialize};

use crate::geometry::Wgs84;

/// Rings with more edges than this get a y-bin edge index; smaller ones are scanned whole.
const BINNED_RING_MIN_EDGES: usize = 24;
/// Average number of edges per y-bin for a binned ring.
const EDGES_PER_BIN: usize = 4;
/// Points per rayon task in [`DistrictIndex::lookup_many`].
const LOOKUP_CHUNK: usize = 4096;

/// One ring of one district: a closed run of `edges + 1` coordinates in `DistrictIndex::coords`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ring {
    district: usize,
    start: usize,
    edges: usize,
    bins: Option<YBins>,
}

/// Edges of a ring binned by y, stored in `DistrictIndex::bin_offsets` / `bin_edges` (CSR).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
/// Serialised without its R-tree (a prepared layer, [`crate::prepared`]): the tree is rebuilt
/// from the rings when a prepared layer is read back, which is faster than storing it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DistrictIndex {
    #[serde(skip)]
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

    /// An index of no district, which finds nothing: the index of a layer loaded for a command
    /// that never looks a point up ([`crate::layer::LookupIndex::Skipped`]).
    ///
    /// ```
    /// use districts::index::DistrictIndex;
    /// assert_eq!(DistrictIndex::empty().lookup(0.0, 0.0), None);
    /// ```
    pub fn empty() -> DistrictIndex {
        DistrictIndex::default()
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

    /// An index read back from a prepared layer ([`crate::prepared`]), checked so that no
    /// lookup can reach past its arrays (a file that decodes but does not hold together is
    /// refused, not trusted), with its R-tree rebuilt from the rings.
    pub(crate) fn checked(mut self, districts: usize) -> Result<DistrictIndex, String> {
        if self.districts != districts {
            return Err(format!(
                "index of {} districts for {districts} districts",
                self.districts
            ));
        }
        let mut envelopes = Vec::with_capacity(self.rings.len());
        for (i, ring) in self.rings.iter().enumerate() {
            let end = ring
                .start
                .checked_add(ring.edges)
                .filter(|&end| {
                    end < self.coords.len() && ring.edges >= 2 && ring.district < districts
                })
                .ok_or_else(|| format!("ring {i} is out of range"))?;
            let pts = &self.coords[ring.start..=end];
            // `push_ring` keeps finite rings only; anything else is a damaged file.
            if !pts.iter().all(|c| c.x.is_finite() && c.y.is_finite()) {
                return Err(format!("ring {i} has a coordinate that is not a number"));
            }
            let (mut min, mut max) = (pts[0], pts[0]);
            for c in pts {
                min.x = min.x.min(c.x);
                min.y = min.y.min(c.y);
                max.x = max.x.max(c.x);
                max.y = max.y.max(c.y);
            }
            if let Some(bins) = &ring.bins {
                let offsets = bins
                    .offsets_start
                    .checked_add(bins.count)
                    .filter(|&last| bins.count >= 1 && last < self.bin_offsets.len())
                    .map(|last| &self.bin_offsets[bins.offsets_start..=last])
                    .ok_or_else(|| format!("ring {i}: edge bins out of range"))?;
                let (lo, hi) = (offsets[0], offsets[bins.count]);
                if offsets.windows(2).any(|w| w[0] > w[1])
                    || hi > self.bin_edges.len()
                    || self.bin_edges[lo..hi].iter().any(|&e| e >= ring.edges)
                {
                    return Err(format!("ring {i}: edge bins do not match its edges"));
                }
            }
            envelopes.push(GeomWithData::new(
                Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                i,
            ));
        }
        let grid = &self.grid;
        if !grid.cells.is_empty() {
            let [cols, rows] = grid.dims;
            if cols.checked_mul(rows) != Some(grid.cells.len()) || grid.anchor_x.len() != cols {
                return Err("grid dimensions do not match its cells".into());
            }
            let bad_cell = grid.cells.iter().any(|&c| match c {
                NO_DISTRICT => false,
                owner if owner < MIXED_FLAG => owner as usize >= districts,
                mixed => (mixed & !MIXED_FLAG) as usize >= grid.entries.len(),
            });
            let bad_entry = grid
                .entries
                .iter()
                .any(|e| (e.tag & TAG_DISTRICT) as usize >= districts);
            if bad_cell || bad_entry {
                return Err("grid cells name districts or entries out of range".into());
            }
        }
        self.tree = RTree::bulk_load(envelopes);
        Ok(self)
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
        let grid = &self.grid;
        if grid.cells.is_empty() {
            return self.lookup_exact(lon, lat);
        }
        if !grid.covers(lon, lat) {
            return None;
        }
        let (c, r) = (grid.axis(lon, 0), grid.axis(lat, 1));
        match grid.cells[r * grid.dims[0] + c] {
            NO_DISTRICT => None,
            owner if owner < MIXED_FLAG => Some(owner as usize),
            mixed => grid.lookup_mixed(
                (mixed & !MIXED_FLAG) as usize,
                grid.anchor_x[c],
                Coord { x: lon, y: lat },
            ),
        }
    }

    /// The reference test (R-tree envelope hits, then even-odd), used when there is no grid;
    /// [`lookup`](Self::lookup) gives the same answer from the grid.
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
            + self.grid.heap_bytes()
    }
}

/// Grid cell value (below [`MIXED_FLAG`]): the cell is in no district (sea, or a hole).
const NO_DISTRICT: u32 = MIXED_FLAG - 1;
/// Grid cell values with this bit set are mixed cells: the rest is the start of the cell's
/// entries in `CellGrid::entries`.
const MIXED_FLAG: u32 = 1 << 31;
/// `CellEntry::tag` bit: the cell's last entry.
const TAG_LAST: u32 = 1 << 31;
/// `CellEntry::tag` bit: an unconditional toggle (the district's parity at the cell's anchor
/// point, corrected for the cell's own edges), not an edge.
const TAG_BASE: u32 = 1 << 30;
/// `CellEntry::tag` bits holding the district position.
const TAG_DISTRICT: u32 = TAG_BASE - 1;
/// Target number of grid cells per ring edge, and the bounds on the grid size.
const CELLS_PER_EDGE: usize = 6;
const MIN_CELLS: usize = 1 << 12;
const MAX_CELLS: usize = 1 << 22;

/// One entry of a mixed cell: an edge that touches the cell (copied, so a lookup reads one
/// contiguous run of memory), or a base toggle (`TAG_BASE`, `a` and `b` unused).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CellEntry {
    a: Coord<f64>,
    b: Coord<f64>,
    tag: u32,
}

/// A uniform grid over the layer's extent that answers every lookup from the cell alone.
///
/// A cell that no edge's bounding box touches ("clean") holds its single answer. A "mixed"
/// cell holds the edges whose bounding box touches it, grouped by district, and a base parity
/// per district. Each column has an anchor x `X` and each row an anchor y `Y`, both inside the
/// cell. For a point `p` in the cell, the even-odd parity of a district is its parity at the
/// anchor `(X, Y)`, flipped by every edge crossed on the path `p → (X, p.y) → (X, Y)`. That
/// path stays inside the cell, so only the cell's own edges can cross it. The horizontal leg
/// is the crossing rule of [`crosses`] taken at `p` and at `(X, p.y)`; the vertical leg is the
/// same rule turned upwards ([`crosses_up`]) at `(X, p.y)` and at `(X, Y)`. Both rules use the
/// same infinitesimal shift `(ε, δ)` of the point, so the answer is exactly the one the
/// R-tree path gives, border rule included. The `(X, Y)` terms are the same for every point
/// of the cell and are folded into the base parities at build time.
///
/// The parities at the anchors come from one sweep per row along `y = Y` (each edge spanning
/// `Y` flips its district for all anchors left of its crossing), so the build tests no
/// polygon at all. Cells are mapped with a monotone floor, so "the bbox of an edge touches
/// the cell" holds for every edge that has a point mapping to the cell.
///
/// Hand-written rather than taken from a crate: no crate offers point location with this
/// border rule and the even-odd rule across the polygons of a district.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CellGrid {
    min: [f64; 2],
    max: [f64; 2],
    inv_size: [f64; 2],
    dims: [usize; 2],
    /// Anchor x of each column (maps back to that column).
    anchor_x: Vec<f64>,
    /// Per cell, row-major: a district, [`NO_DISTRICT`], or `MIXED_FLAG | start`.
    cells: Vec<u32>,
    /// The mixed cells' entries, each cell's run sorted by district and ended by `TAG_LAST`.
    entries: Vec<CellEntry>,
}

impl CellGrid {
    /// Column or row of a coordinate; monotone, so an edge's bbox covers every cell its points map to.
    #[inline]
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

    /// Whether the point is in the extent of all rings (outside it, it is in no district).
    #[inline]
    fn covers(&self, x: f64, y: f64) -> bool {
        // Written so that NaN also lands outside.
        x >= self.min[0] && x <= self.max[0] && y >= self.min[1] && y <= self.max[1]
    }

    /// The anchor of column or row `i`: the cell centre, if it maps back to `i`.
    fn anchor(&self, i: usize, axis: usize) -> Option<f64> {
        let size = (self.max[axis] - self.min[axis]) / self.dims[axis] as f64;
        let v = self.min[axis] + (i as f64 + 0.5) * size;
        (self.axis(v, axis) == i).then_some(v)
    }

    /// Columns of row `r` that the segment `a`-`b` (whose rows include `r`) may touch: its
    /// x-range over the row's y-range, widened by a millionth of a cell against rounding, and
    /// within the columns of its bbox. Monotone mapping plus the margin make this a superset of
    /// the columns of the segment's points that map to row `r`.
    fn row_columns(&self, a: Coord<f64>, b: Coord<f64>, r: usize) -> (usize, usize) {
        let (c0, c1) = (self.axis(a.x.min(b.x), 0), self.axis(a.x.max(b.x), 0));
        if c0 == c1 || a.y == b.y {
            return (c0, c1);
        }
        let height = (self.max[1] - self.min[1]) / self.dims[1] as f64;
        let width = (self.max[0] - self.min[0]) / self.dims[0] as f64;
        let row_lo = self.min[1] + r as f64 * height - height * 1e-6;
        let row_hi = self.min[1] + (r + 1) as f64 * height + height * 1e-6;
        let (y0, y1) = (row_lo.max(a.y.min(b.y)), row_hi.min(a.y.max(b.y)));
        let x_at = |y: f64| a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y);
        let (x0, x1) = (x_at(y0), x_at(y1));
        let lo = self.axis(x0.min(x1) - width * 1e-6, 0).max(c0);
        let hi = self.axis(x0.max(x1) + width * 1e-6, 0).min(c1);
        if lo <= hi { (lo, hi) } else { (c0, c1) }
    }

    /// The exact answer for a point `p` in a mixed cell whose entries start at `start`, with
    /// `anchor_x` the anchor of the cell's column.
    #[inline]
    fn lookup_mixed(&self, start: usize, anchor_x: f64, p: Coord<f64>) -> Option<usize> {
        let q = Coord {
            x: anchor_x,
            y: p.y,
        };
        let mut district = TAG_DISTRICT;
        let mut odd = false;
        for e in &self.entries[start..] {
            let d = e.tag & TAG_DISTRICT;
            if d != district {
                // Runs are sorted by district, so the first odd one is the lowest position.
                if odd {
                    return Some(district as usize);
                }
                district = d;
            }
            odd ^= (e.tag & TAG_BASE != 0)
                ^ crosses(e.a, e.b, p)
                ^ crosses(e.a, e.b, q)
                ^ crosses_up(e.a, e.b, q);
            if e.tag & TAG_LAST != 0 {
                break;
            }
        }
        odd.then_some(district as usize)
    }

    /// Builds the grid; an empty grid (every lookup takes the R-tree path) when the layer is
    /// degenerate or too large for the cell encoding.
    fn build(index: &DistrictIndex) -> CellGrid {
        if index.rings.is_empty()
            || index.districts >= TAG_DISTRICT as usize
            || index.coords.len() >= u32::MAX as usize
        {
            return CellGrid::default();
        }
        let envelope = index.tree.root().envelope();
        let edges: usize = index.rings.iter().map(|r| r.edges).sum();
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
            ..CellGrid::default()
        };
        let anchor_x: Option<Vec<f64>> = (0..cols).map(|c| grid.anchor(c, 0)).collect();
        let anchor_y: Option<Vec<f64>> = (0..rows).map(|r| grid.anchor(r, 1)).collect();
        let (Some(anchor_x), Some(anchor_y)) = (anchor_x, anchor_y) else {
            // Cells narrower than the float spacing: no usable grid.
            return CellGrid::default();
        };

        // Every (cell, edge) pair where the edge's bbox touches the cell, bucketed by cell
        // (counting sort: `first[i]..first[i + 1]` are cell i's pairs in `pairs`).
        let ncells = cols * rows;
        let ring_edges = || {
            index.rings.iter().flat_map(|ring| {
                (ring.start..ring.start + ring.edges)
                    .map(move |k| (k, ring.district as u32))
                    .filter(|&(k, _)| index.coords[k] != index.coords[k + 1])
            })
        };
        let mut first = vec![0usize; ncells + 1];
        for (k, _) in ring_edges() {
            let (a, b) = (index.coords[k], index.coords[k + 1]);
            for r in grid.axis(a.y.min(b.y), 1)..=grid.axis(a.y.max(b.y), 1) {
                let (c0, c1) = grid.row_columns(a, b, r);
                for slot in &mut first[r * cols + c0 + 1..=r * cols + c1 + 1] {
                    *slot += 1;
                }
            }
        }
        for i in 0..ncells {
            first[i + 1] += first[i];
        }
        let mut pairs = vec![(0u32, 0u32); first[ncells]];
        let mut next = first.clone();
        for (k, district) in ring_edges() {
            let (a, b) = (index.coords[k], index.coords[k + 1]);
            for r in grid.axis(a.y.min(b.y), 1)..=grid.axis(a.y.max(b.y), 1) {
                let (c0, c1) = grid.row_columns(a, b, r);
                for i in r * cols + c0..=r * cols + c1 {
                    pairs[next[i]] = (k as u32, district);
                    next[i] += 1;
                }
            }
        }
        drop(next);

        // One sweep per row along y = anchor_y[r], right to left, carrying the set of districts
        // with odd parity at the current column's anchor.
        grid.cells = vec![NO_DISTRICT; ncells];
        let mut events: Vec<(usize, u32)> = Vec::new();
        let mut odd: Vec<u32> = Vec::new();
        let mut run: Vec<CellEntry> = Vec::new();
        let mut base: Vec<u32> = Vec::new();
        for (r, &y) in anchor_y.iter().enumerate() {
            events.clear();
            for c in 0..cols {
                let i = r * cols + c;
                for &(k, district) in &pairs[first[i]..first[i + 1]] {
                    let (a, b) = (index.coords[k as usize], index.coords[k as usize + 1]);
                    // Each edge once per row, in the first column it touches there.
                    if y < a.y.min(b.y) || y >= a.y.max(b.y) {
                        continue;
                    }
                    let (c0, c1) = grid.row_columns(a, b, r);
                    if c0 != c {
                        continue;
                    }
                    // The edge crosses the rays from the anchors of columns 0..end (anchors of
                    // columns before those it touches in this row are left of it, anchors after
                    // them right of it).
                    let mut end = c;
                    while end <= c1
                        && crosses(
                            a,
                            b,
                            Coord {
                                x: anchor_x[end],
                                y,
                            },
                        )
                    {
                        end += 1;
                    }
                    if end > 0 {
                        events.push((end - 1, district));
                    }
                }
            }
            events.sort_unstable_by(|a, b| b.cmp(a));
            let mut pending = events.iter().peekable();
            odd.clear();
            for c in (0..cols).rev() {
                while let Some(&(_, district)) = pending.next_if(|e| e.0 == c) {
                    toggle(&mut odd, district);
                }
                let i = r * cols + c;
                let cell_pairs = &pairs[first[i]..first[i + 1]];
                if cell_pairs.is_empty() {
                    grid.cells[i] = odd.iter().copied().min().unwrap_or(NO_DISTRICT);
                    continue;
                }
                let anchor = Coord { x: anchor_x[c], y };
                base.clear();
                base.extend_from_slice(&odd);
                run.clear();
                for &(k, district) in cell_pairs {
                    let (a, b) = (index.coords[k as usize], index.coords[k as usize + 1]);
                    if crosses_up(a, b, anchor) {
                        toggle(&mut base, district);
                    }
                    run.push(CellEntry {
                        a,
                        b,
                        tag: district,
                    });
                }
                run.sort_by_key(|e| e.tag);
                // The base flip rides on an edge of the same district where there is one, else
                // on a zero-length edge, which no ray crosses.
                for district in base.drain(..) {
                    match run.iter_mut().find(|e| e.tag == district) {
                        Some(e) => e.tag |= TAG_BASE,
                        None => {
                            let zero = Coord { x: 0.0, y: 0.0 };
                            let at = run.partition_point(|e| e.tag & TAG_DISTRICT < district);
                            run.insert(
                                at,
                                CellEntry {
                                    a: zero,
                                    b: zero,
                                    tag: district | TAG_BASE,
                                },
                            );
                        }
                    }
                }
                if let Some(last) = run.last_mut() {
                    last.tag |= TAG_LAST;
                }
                let start = grid.entries.len();
                if start >= NO_DISTRICT as usize {
                    return CellGrid::default();
                }
                grid.cells[i] = MIXED_FLAG | start as u32;
                grid.entries.extend_from_slice(&run);
            }
        }
        grid.entries.shrink_to_fit();
        grid.anchor_x = anchor_x;
        grid
    }

    /// Heap bytes held by the grid.
    fn heap_bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<u32>()
            + self.entries.capacity() * std::mem::size_of::<CellEntry>()
            + self.anchor_x.capacity() * std::mem::size_of::<f64>()
    }
}

/// Flips `district`'s membership of a small set.
fn toggle(set: &mut Vec<u32>, district: u32) {
    match set.iter().position(|&d| d == district) {
        Some(i) => {
            set.swap_remove(i);
        }
        None => set.push(district),
    }
}

/// Whether edge `a`-`b` crosses the ray from `p` towards +y, under the same shift of `p` as
/// [`crosses`] (by `(ε, δ)`, `0 < δ ≪ ε`): `left.x <= p.x < right.x` and the shifted `p`
/// strictly below the edge. For `p` on the edge's line the shift decides: below exactly when
/// the edge rises to the right.
#[inline]
fn crosses_up(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    let (left, right) = if a.x <= b.x { (a, b) } else { (b, a) };
    if p.x < left.x || p.x >= right.x {
        return false;
    }
    if p.y < left.y.min(right.y) {
        return true;
    }
    if p.y > left.y.max(right.y) {
        return false;
    }
    match RobustKernel::orient2d(left, right, p) {
        Orientation::Clockwise => true,
        Orientation::CounterClockwise => false,
        Orientation::Collinear => right.y > left.y,
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

#[cfg(test)]
mod tests {
    use geo_types::{LineString, MultiPolygon, Polygon};

    use super::*;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )
    }

    fn poly(pts: &[(f64, f64)]) -> Polygon<f64> {
        Polygon::new(LineString::from(pts.to_vec()), vec![])
    }

    /// A layer on [0, 64]² with fewer than 256 edges, so the grid is 64 × 64 and every anchor
    /// sits at a half-integer: edges and vertices on half-integers lie exactly on anchor lines.
    fn degenerate_layer() -> Vec<Wgs84> {
        let mut with_hole = square(10.5, 0.5, 20.5, 10.5);
        with_hole.interiors_push(LineString::from(vec![
            (12.5, 2.5),
            (14.5, 2.5),
            (14.5, 4.5),
            (12.5, 4.5),
            (12.5, 2.5),
        ]));
        vec![
            // 0: a frame corner, so the extent is exactly [0, 64]².
            Wgs84(MultiPolygon(vec![poly(&[
                (0.0, 0.0),
                (0.5, 0.0),
                (0.0, 0.5),
            ])])),
            // 1, 2: squares sharing the vertical border x = 10.5 and corners on anchors.
            Wgs84(MultiPolygon(vec![square(0.5, 0.5, 10.5, 10.5)])),
            Wgs84(MultiPolygon(vec![with_hole])),
            // 3: north of both, sharing the horizontal border y = 10.5.
            Wgs84(MultiPolygon(vec![square(0.5, 10.5, 20.5, 20.5)])),
            // 4: triangles with diagonals through anchor crossings, and a second polygon of
            // the same district overlapping the first (even-odd: the overlap is outside).
            Wgs84(MultiPolygon(vec![
                poly(&[(20.5, 0.5), (30.5, 10.5), (20.5, 10.5)]),
                square(22.5, 6.5, 26.5, 9.5),
            ])),
            // 5: fills the rest of that square; 6: overlaps 5 (lowest position wins).
            Wgs84(MultiPolygon(vec![poly(&[
                (20.5, 0.5),
                (30.5, 0.5),
                (30.5, 10.5),
            ])])),
            Wgs84(MultiPolygon(vec![square(25.5, 1.5, 40.25, 5.75)])),
            // 7: a thin sliver and a spike, vertices off and on anchors.
            Wgs84(MultiPolygon(vec![poly(&[
                (40.5, 40.5),
                (63.5, 40.5),
                (41.5, 40.75),
                (52.5, 63.5),
                (40.5, 40.5),
            ])])),
            // 8: the far corner of the frame.
            Wgs84(MultiPolygon(vec![poly(&[
                (64.0, 64.0),
                (63.5, 64.0),
                (64.0, 63.5),
            ])])),
        ]
    }

    #[test]
    fn the_grid_gives_the_exact_answer_on_borders_vertices_and_anchor_lines() {
        let index = DistrictIndex::build(&degenerate_layer());
        assert_eq!(index.grid.dims, [64, 64]);
        assert_eq!(index.grid.anchor_x[10], 10.5);
        let mut mixed = 0;
        let mut found = [0usize; 9];
        for i in 0..=256 {
            for j in 0..=256 {
                let (x, y) = (f64::from(i) / 4.0, f64::from(j) / 4.0);
                let exact = index.lookup_exact(x, y);
                assert_eq!(index.lookup(x, y), exact, "({x}, {y})");
                let cell = index.grid.cells[index.grid.axis(y, 1) * 64 + index.grid.axis(x, 0)];
                mixed += usize::from(cell >= MIXED_FLAG);
                if let Some(d) = exact {
                    found[d] += 1;
                }
            }
        }
        assert!(
            mixed > 3_000,
            "only {mixed} points took the mixed-cell path"
        );
        assert!(found.iter().all(|&n| n > 0), "{found:?}");
        // The rule itself, on the anchor lines: east wins, then north; holes and overlaps.
        assert_eq!(index.lookup(10.5, 5.5), Some(2));
        assert_eq!(index.lookup(5.5, 10.5), Some(3));
        assert_eq!(index.lookup(13.5, 3.5), None);
        assert_eq!(index.lookup(24.5, 8.0), None);
        assert_eq!(index.lookup(28.0, 3.0), Some(5));
        assert_eq!(index.lookup(35.0, 3.0), Some(6));
        assert_eq!(index.lookup(64.5, 3.0), None);
    }

    #[test]
    fn the_grid_is_exact_for_random_points_near_the_borders() {
        let layer = degenerate_layer();
        let index = DistrictIndex::build(&layer);
        // A fixed linear congruential sequence: reproducible without a dev-dependency here.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..100_000 {
            // Near a half-integer lattice point, within a millionth, or exactly on it.
            let snap = |v: f64| (v * 64.0).floor() + 0.5;
            let (x, y) = (snap(next()), snap(next()));
            let (dx, dy) = ((next() - 0.5) * 2e-6, (next() - 0.5) * 2e-6);
            for (px, py) in [(x, y), (x + dx, y), (x, y + dy), (x + dx, y + dy)] {
                assert_eq!(
                    index.lookup(px, py),
                    index.lookup_exact(px, py),
                    "({px}, {py})"
                );
            }
        }
    }
}
