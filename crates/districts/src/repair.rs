//! Making polygons OGC-valid: no self-intersecting or self-touching ring, no zero-area ring or
//! spike, no overlapping parts, holes inside their shell; exteriors counter-clockwise and holes
//! clockwise (RFC 7946 in lon/lat, geo's default orientation).
//!
//! The work is done by `i_overlay` (the engine under geo's `BooleanOps`), called directly for
//! two things geo does not expose: its OGC output mode (`ogc: true` splits self-touching rings
//! into a shell and a hole, as OGC requires) and its fast path that reports a single ring as
//! already valid without rebuilding it. Coordinates are mapped to i_overlay's integer grid over
//! the geometry's own extent (a power of two per unit, about 1/2^30 of the extent, i.e. well
//! under a millimetre for a district); a geometry that is valid on that grid is left exactly
//! as it was, so valid neighbours keep their shared vertices bit for bit.
//!
//! Filling is even-odd over all rings, as the renderer and point-in-polygon lookups fill: a
//! part stored as an overlapping polygon inside another (a hole written as a "nested shell")
//! becomes that hole.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay};
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::{IntContour, IntShapes};

/// The options every repair here uses: OGC-valid output, counter-clockwise exteriors (y up),
/// collinear vertices kept, so that a valid input comes back vertex for vertex.
fn options() -> IntOverlayOptions {
    IntOverlayOptions {
        preserve_input_collinear: true,
        output_direction: ContourDirection::CounterClockwise,
        preserve_output_collinear: true,
        min_output_area: 0,
        ogc: true,
    }
}

/// A repaired geometry and what changed, for the load report.
#[derive(Clone, Debug, PartialEq)]
pub struct Repaired {
    /// The valid geometry.
    pub geometry: MultiPolygon<f64>,
    /// Polygons and rings before the repair.
    pub before: (usize, usize),
    /// Polygons and rings after it.
    pub after: (usize, usize),
}

impl Repaired {
    /// One line for a load report: "3 polygons, 4 rings -> 2 polygons, 4 rings".
    pub fn describe(&self) -> String {
        format!(
            "{} polygon(s), {} ring(s) -> {} polygon(s), {} ring(s)",
            self.before.0, self.before.1, self.after.0, self.after.1
        )
    }
}

/// The integer grid of one geometry: origin and scale (a power of two).
struct Grid {
    min: Coord<f64>,
    scale: f64,
}

/// The bounding box of a geometry with finite coordinates.
struct Bounds {
    min: Coord<f64>,
    max: Coord<f64>,
}

impl Bounds {
    fn of(mp: &MultiPolygon<f64>) -> Option<Bounds> {
        let mut min = Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        };
        let mut max = Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        };
        for c in
            mp.0.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|r| r.0.iter())
        {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        (min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite())
            .then_some(Bounds { min, max })
    }
}

impl Grid {
    fn of(mp: &MultiPolygon<f64>) -> Option<Grid> {
        let Bounds { min, max } = Bounds::of(mp)?;
        let extent = (max.x - min.x).max(max.y - min.y);
        if !(extent.is_finite() && extent > 0.0) {
            return None;
        }
        // 2^30 grid units over the extent leaves i_overlay room for its i32 arithmetic.
        let scale = 2f64.powi((f64::from(1u32 << 30) / extent).log2().floor() as i32);
        Some(Grid { min, scale })
    }

    fn to_int(&self, c: &Coord<f64>) -> IntPoint {
        IntPoint::new(
            ((c.x - self.min.x) * self.scale).round() as i32,
            ((c.y - self.min.y) * self.scale).round() as i32,
        )
    }

    fn to_float(&self, p: IntPoint) -> Coord<f64> {
        Coord {
            x: self.min.x + f64::from(p.x) / self.scale,
            y: self.min.y + f64::from(p.y) / self.scale,
        }
    }

    /// A ring on the grid, open (no closing point), without repeated consecutive points.
    fn ring(&self, ring: &LineString<f64>) -> IntContour {
        let mut out: IntContour = Vec::with_capacity(ring.0.len());
        for c in &ring.0 {
            let p = self.to_int(c);
            if out.last() != Some(&p) {
                out.push(p);
            }
        }
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        out
    }
}

/// Twice the signed area of an open integer ring (positive counter-clockwise, y up).
pub fn twice_area(ring: &[IntPoint]) -> i64 {
    let n = ring.len();
    if n < 3 {
        return 0;
    }
    let mut a = 0i64;
    let mut prev = ring[n - 1];
    for &p in ring {
        a += i64::from(prev.x) * i64::from(p.y) - i64::from(p.x) * i64::from(prev.y);
        prev = p;
    }
    a
}

/// Whether the overlay's output is the input again: the same polygons with the same holes,
/// vertex for vertex, up to start vertices and orientation. (With collinear vertices kept,
/// i_overlay returns a valid input unchanged; an invalid one gains intersection vertices, loses
/// spikes, or has its rings regrouped, e.g. a nested shell becoming a hole.)
fn same_polygons(input: &[Vec<IntContour>], output: &IntShapes) -> bool {
    let key = |rings: &[IntContour]| {
        let mut holes: Vec<Vec<IntPoint>> = rings.iter().skip(1).map(|r| canonical(r)).collect();
        holes.sort_unstable();
        (
            rings.first().map(|r| canonical(r)).unwrap_or_default(),
            holes,
        )
    };
    if input.len() != output.len() {
        return false;
    }
    let mut a: Vec<_> = input.iter().map(|p| key(p)).collect();
    let mut b: Vec<_> = output.iter().map(|p| key(p)).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// Orients rings as RFC 7946 and geo want them: exteriors counter-clockwise (positive area,
/// y up), holes clockwise. (i_overlay's OGC mode can return a hole split off a self-touching
/// ring counter-clockwise.)
pub fn orient_shapes(shapes: &mut IntShapes) {
    for shape in shapes.iter_mut() {
        for (k, ring) in shape.iter_mut().enumerate() {
            if (twice_area(ring) > 0) != (k == 0) {
                ring.reverse();
            }
        }
    }
}

/// A ring as a comparable value: rotated to start at its smallest vertex, then the direction
/// whose second vertex is smaller.
fn canonical(ring: &[IntPoint]) -> Vec<IntPoint> {
    let n = ring.len();
    let Some(start) = (0..n).min_by_key(|&i| (ring[i].x, ring[i].y)) else {
        return Vec::new();
    };
    let fwd: Vec<IntPoint> = (0..n).map(|k| ring[(start + k) % n]).collect();
    let bwd: Vec<IntPoint> = (0..n).map(|k| ring[(start + n - k) % n]).collect();
    let key = |r: &[IntPoint]| r.get(1).map(|p| (p.x, p.y));
    if key(&bwd) < key(&fwd) { bwd } else { fwd }
}

/// The repaired geometry of `mp`, or `None` when it is already valid (on the grid described in
/// the module docs) or has no extent to speak of.
///
/// ```
/// use districts::repair::repair;
/// use geo_types::{polygon, MultiPolygon};
/// // A bow tie: one ring crossing itself.
/// let bow = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 2.0), (x: 2.0, y: 0.0), (x: 0.0, y: 2.0)]]);
/// let fixed = repair(&bow).expect("repaired");
/// assert_eq!(fixed.after, (2, 2)); // two triangles
/// let square = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
/// assert!(repair(&square).is_none());
/// ```
pub fn repair(mp: &MultiPolygon<f64>) -> Option<Repaired> {
    let grid = Grid::of(mp)?;
    let on_grid = OnGrid::of(&grid, mp);
    let mut shapes = on_grid.overlay()?;
    orient_shapes(&mut shapes);
    let polygons: Vec<Polygon<f64>> = shapes
        .iter()
        .filter(|s| !s.is_empty())
        .map(|shape| {
            let ring = |r: &IntContour| {
                let mut ls: Vec<Coord<f64>> = r.iter().map(|&p| grid.to_float(p)).collect();
                if let Some(&first) = ls.first() {
                    ls.push(first);
                }
                LineString(ls)
            };
            Polygon::new(ring(&shape[0]), shape[1..].iter().map(ring).collect())
        })
        .collect();
    let after = (
        polygons.len(),
        polygons.iter().map(|p| 1 + p.interiors().len()).sum(),
    );
    Some(Repaired {
        geometry: MultiPolygon(polygons),
        before: (mp.0.len(), on_grid.polygons.iter().map(Vec::len).sum()),
        after,
    })
}

/// One geometry's polygons as rings on a grid, before any repair.
struct OnGrid {
    polygons: Vec<Vec<IntContour>>,
}

impl OnGrid {
    fn of(grid: &Grid, mp: &MultiPolygon<f64>) -> OnGrid {
        OnGrid {
            polygons: mp
                .0
                .iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| grid.ring(r))
                        .collect()
                })
                .collect(),
        }
    }

    /// The valid shapes (not yet oriented), or `None` when the rings are valid as they are.
    fn overlay(&self) -> Option<IntShapes> {
        let rings: Vec<IntContour> = self.polygons.iter().flatten().cloned().collect();
        let mut overlay = Overlay::new_custom(
            rings.iter().map(Vec::len).sum(),
            options(),
            Default::default(),
        );
        let shapes = if let [ring] = &rings[..] {
            // One ring: i_overlay checks it without a full overlay and answers `None` when it
            // is simple and already counter-clockwise.
            overlay.simplify_contour(ring, FillRule::EvenOdd)?
        } else {
            overlay.simplify_shape(&rings, FillRule::EvenOdd)?
        };
        if same_polygons(&self.polygons, &shapes) && rings.iter().all(|r| r.len() >= 3) {
            return None;
        }
        Some(shapes)
    }
}

/// A geometry made valid on the grid of a number of decimal places: what a writer of rounded
/// coordinates (GeoJSON) prints, so that the rounded output itself is valid. Rounding a valid
/// geometry can make it invalid (two close vertices become one, a thin part folds onto itself);
/// repairing after rounding cannot.
#[derive(Clone, Debug, PartialEq)]
pub struct DecimalShapes {
    /// Decimal places: coordinate `v` stands for `(origin + v) / 10^decimals`.
    pub decimals: u32,
    /// The grid point of the geometry's lower-left corner, in units of `10^-decimals`.
    pub origin: [i64; 2],
    /// Polygons (exterior first, counter-clockwise with y up; holes clockwise), open rings.
    pub shapes: IntShapes,
}

/// `mp` rounded to `decimals` decimal places and made OGC-valid there (see [`DecimalShapes`]);
/// `None` when the geometry spans too many grid units for i_overlay's 32-bit arithmetic (about
/// 10 degrees at 8 decimals), where the caller writes it unrepaired.
///
/// ```
/// use districts::repair::on_decimal_grid;
/// use geo_types::{polygon, MultiPolygon};
/// // Two vertices 0.4 units apart become one at 0 decimals: the spike they made goes.
/// let spike = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 3.0),
///     (x: 2.2, y: 3.0), (x: 2.0, y: 6.0), (x: 1.8, y: 3.0), (x: 0.0, y: 3.0)]]);
/// let grid = on_decimal_grid(&spike, 0).expect("fits");
/// assert_eq!(grid.shapes.len(), 1);
/// assert!(grid.shapes[0][0].iter().all(|p| p.y <= 3)); // the rectangle, without the spike
/// ```
pub fn on_decimal_grid(mp: &MultiPolygon<f64>, decimals: u32) -> Option<DecimalShapes> {
    let scale = 10f64.powi(i32::try_from(decimals).ok()?);
    let bounds = Bounds::of(mp)?;
    let origin = [
        (bounds.min.x * scale).floor(),
        (bounds.min.y * scale).floor(),
    ];
    let span =
        ((bounds.max.x * scale).ceil() - origin[0]).max((bounds.max.y * scale).ceil() - origin[1]);
    if !(span.is_finite() && span <= f64::from(1u32 << 30)) {
        return None;
    }
    let grid = Grid {
        min: Coord {
            x: origin[0] / scale,
            y: origin[1] / scale,
        },
        scale,
    };
    let on_grid = OnGrid::of(&grid, mp);
    let mut shapes = match on_grid.overlay() {
        Some(shapes) => shapes,
        None => on_grid.polygons,
    };
    shapes.retain(|s| !s.is_empty());
    orient_shapes(&mut shapes);
    // The float origin is a whole number of grid units well inside i64.
    Some(DecimalShapes {
        decimals,
        origin: [origin[0] as i64, origin[1] as i64],
        shapes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Validation};
    use geo_types::polygon;

    #[test]
    fn valid_polygons_are_left_alone_whatever_their_orientation() {
        let cw = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0)];
        assert!(repair(&MultiPolygon(vec![cw])).is_none());
        let holed = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (4.0, 0.0),
                (4.0, 4.0),
                (0.0, 4.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (1.0, 1.0),
                (1.0, 2.0),
                (2.0, 2.0),
                (2.0, 1.0),
                (1.0, 1.0),
            ])],
        );
        assert!(repair(&MultiPolygon(vec![holed])).is_none());
    }

    #[test]
    fn a_nested_shell_becomes_a_hole_and_a_spike_goes() {
        let outer =
            polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        let inner =
            polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
        let fixed = repair(&MultiPolygon(vec![outer, inner])).expect("repaired");
        assert_eq!(fixed.after, (1, 2));
        assert!(fixed.geometry.is_valid());
        assert!((fixed.geometry.unsigned_area() - 15.0).abs() < 1e-9);

        let spike = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 6.0, y: 0.0), (x: 4.0, y: 0.0),
            (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)];
        let fixed = repair(&MultiPolygon(vec![spike])).expect("repaired");
        assert!(fixed.geometry.is_valid());
        assert_eq!(fixed.geometry.0[0].exterior().0.len(), 5);
    }

    #[test]
    fn a_self_touching_ring_is_split_the_ogc_way() {
        // A square whose boundary dips in at (2, 4) around a triangle: an "inverted" hole.
        let ring = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 2.0, y: 4.0),
            (x: 1.0, y: 2.0), (x: 3.0, y: 2.0), (x: 2.0, y: 4.0), (x: 0.0, y: 4.0)];
        let fixed = repair(&MultiPolygon(vec![ring])).expect("repaired");
        assert!(fixed.geometry.is_valid(), "{fixed:?}");
        assert_eq!(fixed.after, (1, 2));
        let p = &fixed.geometry.0[0];
        assert!(p.exterior().0.len() >= 5);
        assert!(Polygon::new(p.exterior().clone(), vec![]).signed_area() > 0.0);
        assert!(Polygon::new(p.interiors()[0].clone(), vec![]).signed_area() < 0.0);
    }
}
