//! Gap-free per-zoom simplification of shared borders, the way TopoJSON and mapshaper do it.
//!
//! Simplifying each district on its own would move a shared border differently on its two
//! sides and open slivers between neighbours. Instead, once at start-up:
//!
//! 1. every vertex is snapped to a 1 mm grid to match shared vertices (ONS files share exact
//!    vertices along common borders; the snap only absorbs rounding from reprojection);
//! 2. every ring is cut into *arcs* at *junctions*: vertices whose neighbours differ between
//!    the rings that use them (where a border meets the coast or a third district). A ring with
//!    no junction (an island, or a hole filled by another district) is cut at its smallest vertex,
//!    which both copies of the ring agree on;
//! 3. an arc and its reverse are one arc, stored once;
//! 4. each arc is simplified once per zoom band with its end points fixed (Douglas-Peucker via
//!    geo's `SimplifyIdx`, tolerance half a pixel at the band's most detailed zoom);
//! 5. the rings are rebuilt from the simplified arcs, so both sides of a border get the very same
//!    vertices. A ring that collapses (fewer than three distinct points, or no area) gets its arcs
//!    back unsimplified, for every ring that uses them, so neighbours stay gap-free; a lone island
//!    (one arc, no neighbour) smaller than a pixel is dropped instead, unless it is the district's
//!    only part.
//!
//! Arcs are written here rather than taken from a crate: the `topojson` crate is stale and
//! builds no topology from polygons.

use std::borrow::Borrow;
use std::collections::HashMap;

use geo::{Area, BoundingRect, SimplifyIdx};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::geometry::Mercator;

/// The zoom bands: `(min_zoom, max_zoom)`; the last band keeps the original geometry.
const BANDS: [(u8, u8); 6] = [
    (0, 4),
    (5, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, tile_math::MAX_ZOOM),
];
/// Grid (metres) that vertices are snapped to before matching shared vertices.
const SNAP_M: f64 = 1e-3;

/// Vertex counts and repairs of one zoom band, for start-up logs and the benchmark notes.
#[derive(Clone, Debug, PartialEq)]
pub struct BandStats {
    /// Lowest zoom served by this band.
    pub min_zoom: u8,
    /// Highest zoom served by this band.
    pub max_zoom: u8,
    /// Douglas-Peucker tolerance in Web Mercator metres (0 for the original geometry).
    pub tolerance_m: f64,
    /// Vertices over all rings (closing vertices included).
    pub vertices: usize,
    /// Rings kept.
    pub rings: usize,
    /// Rings that collapsed and had their arcs restored unsimplified.
    pub restored_rings: usize,
    /// Lone islands smaller than a pixel that were dropped.
    pub dropped_rings: usize,
}

/// One zoom band: every district's geometry at that band, their areas, and an R-tree of their
/// envelopes.
#[derive(Debug)]
pub struct Band {
    geoms: Vec<Mercator>,
    /// Each district's area in square Web Mercator metres at this band.
    areas: Vec<f64>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    stats: BandStats,
}

/// Every district's geometry per zoom band, built once at start-up, read-only afterwards.
#[derive(Debug)]
pub struct ZoomBands {
    bands: Vec<Band>,
}

/// A polygon part being rebuilt: exterior ring and holes.
type PartRings = (LineString<f64>, Vec<LineString<f64>>);

/// Where a ring sits in the input: district, polygon part, ring (0 = exterior, then holes).
#[derive(Clone, Copy, Debug)]
struct RingPlace {
    district: usize,
    part: usize,
    ring: usize,
}

/// The shared-border topology of a layer: vertices, arcs, and rings as lists of arcs.
struct Topology {
    coords: Vec<Coord<f64>>,
    /// Arcs as vertex ids, in their stored orientation; end points are junctions.
    arcs: Vec<Vec<u32>>,
    /// How many ring-uses each arc has (2 on a border between two districts).
    arc_uses: Vec<u32>,
    /// Per ring: its place and its arcs (arc id, used reversed).
    rings: Vec<(RingPlace, Vec<(usize, bool)>)>,
    /// Rings too degenerate to cut (fewer than three distinct vertices), kept as they are.
    degenerate: Vec<(RingPlace, LineString<f64>)>,
    /// Polygon parts of each district, for rebuilding them (the input is not read again).
    parts: Vec<usize>,
}

impl Topology {
    fn build<G: Borrow<Mercator>>(geoms: &[G]) -> Topology {
        // 1. Vertex ids by snapped position; first-seen coordinates are the output coordinates.
        let mut ids: HashMap<(i64, i64), u32> = HashMap::new();
        let mut coords = Vec::new();
        let mut ring_vids: Vec<(RingPlace, Vec<u32>)> = Vec::new();
        let mut degenerate = Vec::new();
        let mut parts = Vec::with_capacity(geoms.len());
        for (district, geom) in geoms.iter().enumerate() {
            let geom: &Mercator = geom.borrow();
            parts.push(geom.0.0.len());
            for (part, polygon) in geom.0.0.iter().enumerate() {
                let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
                for (ring, ls) in rings.enumerate() {
                    let place = RingPlace {
                        district,
                        part,
                        ring,
                    };
                    let mut vids: Vec<u32> = Vec::with_capacity(ls.0.len());
                    for c in &ls.0 {
                        let key = ((c.x / SNAP_M).round() as i64, (c.y / SNAP_M).round() as i64);
                        let id = *ids.entry(key).or_insert_with(|| {
                            coords.push(*c);
                            (coords.len() - 1) as u32
                        });
                        if vids.last() != Some(&id) {
                            vids.push(id);
                        }
                    }
                    while vids.len() > 1 && vids.first() == vids.last() {
                        vids.pop();
                    }
                    let mut distinct = vids.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    if distinct.len() < 3 {
                        degenerate.push((place, ls.clone()));
                    } else {
                        ring_vids.push((place, vids));
                    }
                }
            }
        }
        // 2. Junctions: vertices used with different neighbour pairs.
        const UNSEEN: (u32, u32) = (u32::MAX, u32::MAX);
        let mut neighbours = vec![UNSEEN; coords.len()];
        let mut junction = vec![false; coords.len()];
        for (_, vids) in &ring_vids {
            let n = vids.len();
            for k in 0..n {
                let (prev, next) = (vids[(k + n - 1) % n], vids[(k + 1) % n]);
                let pair = (prev.min(next), prev.max(next));
                let v = vids[k] as usize;
                if neighbours[v] == UNSEEN {
                    neighbours[v] = pair;
                } else if neighbours[v] != pair {
                    junction[v] = true;
                }
            }
        }
        for (_, vids) in &ring_vids {
            if !vids.iter().any(|&v| junction[v as usize])
                && let Some(&min) = vids.iter().min()
            {
                junction[min as usize] = true;
            }
        }
        // 3. Cut rings at junctions; an arc is known by its first step from either end.
        let mut arc_ids: HashMap<(u32, u32), usize> = HashMap::new();
        let mut arcs: Vec<Vec<u32>> = Vec::new();
        let mut arc_uses: Vec<u32> = Vec::new();
        let mut rings = Vec::with_capacity(ring_vids.len());
        for (place, vids) in ring_vids {
            let n = vids.len();
            let Some(start) = vids.iter().position(|&v| junction[v as usize]) else {
                continue; // unreachable: every ring got a junction above
            };
            let mut refs = Vec::new();
            let mut arc = vec![vids[start]];
            for k in 1..=n {
                let v = vids[(start + k) % n];
                arc.push(v);
                if junction[v as usize] {
                    let len = arc.len();
                    let forward = (arc[0], arc[1]);
                    let backward = (arc[len - 1], arc[len - 2]);
                    let reversed = backward < forward;
                    let key = forward.min(backward);
                    let id = *arc_ids.entry(key).or_insert_with(|| {
                        let mut stored = arc.clone();
                        if reversed {
                            stored.reverse();
                        }
                        arcs.push(stored);
                        arc_uses.push(0);
                        arcs.len() - 1
                    });
                    arc_uses[id] += 1;
                    refs.push((id, reversed));
                    arc = vec![v];
                }
            }
            rings.push((place, refs));
        }
        Topology {
            coords,
            arcs,
            arc_uses,
            rings,
            degenerate,
            parts,
        }
    }

    /// Vertex ids of a ring (closed: last == first) from per-arc vertex lists.
    fn ring_vids(&self, refs: &[(usize, bool)], arcs: &[Vec<u32>], out: &mut Vec<u32>) {
        out.clear();
        for &(id, reversed) in refs {
            let arc = &arcs[id];
            let skip = usize::from(!out.is_empty());
            if reversed {
                out.extend(arc.iter().rev().skip(skip));
            } else {
                out.extend(arc.iter().skip(skip));
            }
        }
    }

    fn ring_coords(&self, vids: &[u32]) -> LineString<f64> {
        LineString(vids.iter().map(|&v| self.coords[v as usize]).collect())
    }

    /// One simplified band: simplify every arc, rebuild rings, repair collapsed ones.
    fn band(&self, min_zoom: u8, max_zoom: u8) -> Band {
        let tolerance = tile_math::metres_per_pixel(max_zoom) * 0.5;
        let pixel_area = (2.0 * tolerance).powi(2);
        let mut arcs: Vec<Vec<u32>> = self
            .arcs
            .par_iter()
            .map(|arc| {
                let ls = self.ring_coords(arc);
                ls.simplify_idx(tolerance)
                    .into_iter()
                    .map(|i| arc[i])
                    .collect()
            })
            .collect();
        // Find collapsed rings: restore their arcs, or drop lone sub-pixel islands.
        let mut restored = 0;
        let mut dropped = vec![false; self.rings.len()];
        let mut vids = Vec::new();
        let mut parts_per_district = vec![0usize; self.parts.len()];
        for (place, _) in &self.rings {
            if place.ring == 0 {
                parts_per_district[place.district] += 1;
            }
        }
        for (r, (place, refs)) in self.rings.iter().enumerate() {
            self.ring_vids(refs, &arcs, &mut vids);
            let ring = self.ring_coords(&vids);
            if !collapsed(&ring) {
                continue;
            }
            let lone = refs.len() == 1 && self.arc_uses[refs[0].0] == 1;
            let original = self.ring_coords_original(refs);
            let small = Polygon::new(original, vec![]).unsigned_area() < pixel_area;
            let spare = place.ring > 0 || parts_per_district[place.district] > 1;
            if lone && small && spare {
                dropped[r] = true;
                if place.ring == 0 {
                    parts_per_district[place.district] -= 1;
                }
            } else {
                for &(id, _) in refs {
                    arcs[id].clone_from(&self.arcs[id]);
                }
                restored += 1;
            }
        }
        // Rebuild every district from its rings, in input order.
        let mut out: Vec<Vec<Option<PartRings>>> =
            self.parts.iter().map(|&n| vec![None; n]).collect();
        let mut put = |place: RingPlace, ls: LineString<f64>| {
            let slot = &mut out[place.district][place.part];
            match (place.ring, slot.as_mut()) {
                (0, Some((ext, _))) => *ext = ls,
                (0, None) => *slot = Some((ls, Vec::new())),
                (_, Some((_, holes))) => holes.push(ls),
                (_, None) => *slot = Some((LineString(Vec::new()), vec![ls])),
            }
        };
        let mut dropped_parts = vec![Vec::new(); self.parts.len()];
        for (r, (place, refs)) in self.rings.iter().enumerate() {
            if dropped[r] {
                if place.ring == 0 {
                    dropped_parts[place.district].push(place.part);
                }
                continue;
            }
            self.ring_vids(refs, &arcs, &mut vids);
            put(*place, self.ring_coords(&vids));
        }
        for (place, ls) in &self.degenerate {
            put(*place, ls.clone());
        }
        let geoms: Vec<Mercator> = out
            .into_iter()
            .enumerate()
            .map(|(d, parts)| {
                let polygons = parts
                    .into_iter()
                    .enumerate()
                    .filter(|(p, _)| !dropped_parts[d].contains(p))
                    .filter_map(|(_, part)| part)
                    .map(|(ext, holes)| Polygon::new(ext, holes))
                    .collect();
                Mercator(MultiPolygon(polygons))
            })
            .collect();
        Band::new(
            geoms,
            BandStats {
                min_zoom,
                max_zoom,
                tolerance_m: tolerance,
                vertices: 0,
                rings: 0,
                restored_rings: restored,
                dropped_rings: dropped.iter().filter(|&&d| d).count(),
            },
        )
    }

    fn ring_coords_original(&self, refs: &[(usize, bool)]) -> LineString<f64> {
        let mut vids = Vec::new();
        self.ring_vids(refs, &self.arcs, &mut vids);
        self.ring_coords(&vids)
    }
}

/// A closed ring with fewer than three distinct points, or no area, encloses nothing.
fn collapsed(ring: &LineString<f64>) -> bool {
    ring.0.len() < 4 || Polygon::new(ring.clone(), vec![]).unsigned_area() == 0.0
}

impl Band {
    fn new(geoms: Vec<Mercator>, mut stats: BandStats) -> Band {
        let rings = || {
            geoms
                .iter()
                .flat_map(|g| g.0.0.iter())
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        };
        stats.vertices = rings().map(|r| r.0.len()).sum();
        stats.rings = rings().count();
        let areas = geoms.par_iter().map(|g| g.0.unsigned_area()).collect();
        let envelopes = geoms
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                g.0.bounding_rect().map(|b| {
                    let rect =
                        Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                    GeomWithData::new(rect, i)
                })
            })
            .collect();
        Band {
            geoms,
            areas,
            tree: RTree::bulk_load(envelopes),
            stats,
        }
    }

    /// The zooms this band serves, lowest and highest.
    pub fn zooms(&self) -> (u8, u8) {
        (self.stats.min_zoom, self.stats.max_zoom)
    }

    /// Whether this band serves zoom `z` (the last band serves every zoom past its first).
    pub fn covers(&self, z: u8) -> bool {
        band_index(z) == band_index(self.stats.min_zoom)
    }

    /// Every district's geometry in this band, in layer order.
    pub fn geometry(&self) -> &[Mercator] {
        &self.geoms
    }

    /// Every district's area in this band (square Web Mercator metres), in layer order.
    pub fn areas(&self) -> &[f64] {
        &self.areas
    }

    /// Districts whose envelope in this band meets the box (Mercator metres), sorted.
    pub fn query(&self, min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Vec<usize> {
        let envelope = AABB::from_corners([min_x, min_y], [max_x, max_y]);
        let mut out: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|hit| hit.data)
            .collect();
        out.sort_unstable();
        out
    }

    /// Vertex counts and repairs of this band.
    pub fn stats(&self) -> &BandStats {
        &self.stats
    }
}

/// Index in [`BANDS`] of the band serving zoom `z` (zooms past the last band use it).
fn band_index(z: u8) -> usize {
    BANDS
        .iter()
        .position(|&(lo, hi)| (lo..=hi).contains(&z))
        .unwrap_or(BANDS.len() - 1)
}

/// Builds a layer's zoom bands one at a time from the shared-border topology, made once: for a
/// caller that goes through the zooms in turn (an archive), which then holds one band rather
/// than all six. Each band is the one [`ZoomBands::build`] makes for the same zooms.
///
/// ```
/// use districts::{simplify::{BandBuilder, ZoomBands}, Mercator};
/// use geo_types::{polygon, MultiPolygon};
/// let square = polygon![(x: 0.0, y: 0.0), (x: 1e4, y: 0.0), (x: 1e4, y: 1e4), (x: 0.0, y: 1e4)];
/// let geoms = [Mercator(MultiPolygon(vec![square]))];
/// let band = BandBuilder::new(&geoms).band(6);
/// assert_eq!(band.zooms(), (5, 6));
/// assert_eq!(band.geometry(), ZoomBands::build(&geoms).geometry(6));
/// ```
pub struct BandBuilder<'a, G> {
    geoms: &'a [G],
    topology: Topology,
}

impl<'a, G: Borrow<Mercator> + Sync> BandBuilder<'a, G> {
    /// The topology of `geoms` (districts in layer order), which every band is made from.
    pub fn new(geoms: &'a [G]) -> Self {
        BandBuilder {
            geoms,
            topology: Topology::build(geoms),
        }
    }

    /// The band serving zoom `z`: simplified shared borders, or for the last band a copy of
    /// the geometry as it is.
    pub fn band(&self, z: u8) -> Band {
        let i = band_index(z);
        let (min_zoom, max_zoom) = BANDS[i];
        if i + 1 < BANDS.len() {
            return self.topology.band(min_zoom, max_zoom);
        }
        Band::new(
            self.geoms.iter().map(|g| g.borrow().clone()).collect(),
            BandStats {
                min_zoom,
                max_zoom,
                tolerance_m: 0.0,
                vertices: 0,
                rings: 0,
                restored_rings: 0,
                dropped_rings: 0,
            },
        )
    }
}

impl ZoomBands {
    /// Builds every band from the layer's Web Mercator geometry (districts in layer order;
    /// the geometries or references to them), the bands in parallel.
    ///
    /// ```
    /// use districts::{simplify::ZoomBands, Mercator};
    /// use geo_types::{polygon, MultiPolygon};
    /// // Two squares of 100 km sharing a wiggly border (1 m wiggles vanish at low zoom).
    /// let west = polygon![(x: 0.0, y: 0.0), (x: 1e5, y: 0.0), (x: 1e5 + 1.0, y: 5e4),
    ///     (x: 1e5, y: 1e5), (x: 0.0, y: 1e5)];
    /// let east = polygon![(x: 1e5, y: 0.0), (x: 2e5, y: 0.0), (x: 2e5, y: 1e5),
    ///     (x: 1e5, y: 1e5), (x: 1e5 + 1.0, y: 5e4)];
    /// let bands = ZoomBands::build(&[Mercator(MultiPolygon(vec![west])), Mercator(MultiPolygon(vec![east]))]);
    /// assert_eq!(bands.geometry(3)[0].0.0[0].exterior().0.len(), 5); // wiggle gone, closed
    /// assert_eq!(bands.geometry(14)[0].0.0[0].exterior().0.len(), 6); // original
    /// ```
    pub fn build<G: Borrow<Mercator> + Sync>(geoms: &[G]) -> ZoomBands {
        let builder = BandBuilder::new(geoms);
        let bands = BANDS
            .par_iter()
            .map(|&(min_zoom, _)| builder.band(min_zoom))
            .collect();
        ZoomBands { bands }
    }

    /// The band serving zoom `z` (zooms past the last band use it).
    pub fn band(&self, z: u8) -> &Band {
        &self.bands[band_index(z)]
    }

    /// Every district's geometry for zoom `z`, in layer order (zooms past the last band use it).
    ///
    /// ```
    /// use districts::{simplify::ZoomBands, Mercator};
    /// use geo_types::{polygon, MultiPolygon};
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1e4, y: 0.0), (x: 1e4, y: 1e4), (x: 0.0, y: 1e4)];
    /// let bands = ZoomBands::build(&[Mercator(MultiPolygon(vec![square]))]);
    /// assert_eq!(bands.geometry(0).len(), 1);
    /// ```
    pub fn geometry(&self, z: u8) -> &[Mercator] {
        &self.band(z).geoms
    }

    /// Every district's area at zoom `z` (square Web Mercator metres), in layer order.
    ///
    /// ```
    /// use districts::{simplify::ZoomBands, Mercator};
    /// use geo_types::{polygon, MultiPolygon};
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1e4, y: 0.0), (x: 1e4, y: 1e4), (x: 0.0, y: 1e4)];
    /// let bands = ZoomBands::build(&[Mercator(MultiPolygon(vec![square]))]);
    /// assert_eq!(bands.areas(3), &[1e8]);
    /// ```
    pub fn areas(&self, z: u8) -> &[f64] {
        &self.band(z).areas
    }

    /// Districts whose envelope at zoom `z` meets the box (Mercator metres), sorted.
    ///
    /// ```
    /// use districts::{simplify::ZoomBands, Mercator};
    /// use geo_types::{polygon, MultiPolygon};
    /// let square = polygon![(x: 0.0, y: 0.0), (x: 1e4, y: 0.0), (x: 1e4, y: 1e4), (x: 0.0, y: 1e4)];
    /// let bands = ZoomBands::build(&[Mercator(MultiPolygon(vec![square]))]);
    /// assert_eq!(bands.query(6, 5e3, 5e3, 2e4, 2e4), vec![0]);
    /// assert!(bands.query(6, 2e4, 2e4, 3e4, 3e4).is_empty());
    /// ```
    pub fn query(&self, z: u8, min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Vec<usize> {
        self.band(z).query(min_x, min_y, max_x, max_y)
    }

    /// Vertex counts and repairs per band, most generalised first.
    pub fn stats(&self) -> Vec<BandStats> {
        self.bands.iter().map(|b| b.stats.clone()).collect()
    }
}
