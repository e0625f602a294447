//! One district's polygons in one vector tile, valid by construction (MVT 2.1 section 4.3.4):
//! no ring crossing or touching itself or another, no zero-area ring, no repeated closing point
//! (rings end with ClosePath), exteriors clockwise on screen (positive area by the surveyor's
//! formula in tile coordinates, y down) and holes counter-clockwise.
//!
//! The steps, and why in this order:
//! 1. **clip** each ring to the tile and its buffer, exactly, in floating point
//!    (Sutherland-Hodgman against the square). First, so that every later step works on small
//!    numbers: a district can reach billions of tile units away at deep zooms, beyond i32.
//!    Clipping a concave ring this way leaves zero-width back-and-forth edges along the square;
//!    step 3 removes them.
//! 2. **quantise** to the integer tile grid (the encoder's i32 units), dropping repeated points.
//!    Before the repair, because rounding is what breaks validity: two edges a fraction of a unit
//!    apart snap onto each other, thin parts collapse, a ring closes on its first point.
//!    Repairing before rounding would be undone by it.
//! 3. **repair** on that grid with `i_overlay` (the engine under geo's `BooleanOps`), even-odd
//!    over all rings, OGC output, exteriors with a positive surveyor's area in tile coordinates
//!    (counter-clockwise in i_overlay's y-up sense): exactly MVT's exterior winding, holes the
//!    other way (`orient_shapes` makes sure of both). Its
//!    arithmetic is exact on integers, so its output is valid on the very grid the tile stores,
//!    and nothing after it moves a vertex. A single ring that is already simple is recognised
//!    by i_overlay's fast path and passed through without rebuilding (the common case).
//! 4. **encode** the rings as they are; each ring starts at a vertex other than the previous
//!    ring's last one (the `mvt` encoder would merge the two and drop the MoveTo).
//!
//! The per-zoom simplification (districts' `simplify`) runs before all this, at start-up.
//!
//! The clip is written here rather than taken from geo: `BooleanOps::intersection` with the
//! square would also repair, but in floating point, before rounding, and costs a full overlay
//! per ring; Sutherland-Hodgman against an axis-aligned square is a few lines and linear.

use districts::repair::orient_shapes;
use geo_types::{Coord, MultiPolygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay};
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::{IntContour, IntShapes};

/// Tile coordinate extent (the MVT default).
pub const EXTENT: u32 = 4096;
/// Geometry kept outside the tile, in tile units, so that strokes join across tile edges.
pub const BUFFER: f64 = 64.0;

/// The overlay used for every district of a tile (its buffers are reused).
pub(crate) fn tile_overlay() -> Overlay {
    let options = IntOverlayOptions {
        preserve_input_collinear: false,
        output_direction: ContourDirection::CounterClockwise,
        preserve_output_collinear: false,
        min_output_area: 0,
        ogc: true,
    };
    Overlay::new_custom(1024, options, Default::default())
}

/// Web Mercator to tile units for one tile (y down).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TileFrame {
    min_x: f64,
    max_y: f64,
    scale: f64,
}

impl TileFrame {
    /// The frame of a tile with these Mercator bounds.
    pub(crate) fn new(b: &tile_math::Bounds) -> TileFrame {
        TileFrame {
            min_x: b.min_x,
            max_y: b.max_y,
            scale: f64::from(EXTENT) / b.width(),
        }
    }

    fn to_tile(self, c: &Coord<f64>) -> [f64; 2] {
        [
            (c.x - self.min_x) * self.scale,
            (self.max_y - c.y) * self.scale,
        ]
    }

    /// One tile unit squared, in square Mercator metres: the smallest area a district can have
    /// and still show in the tile.
    pub(crate) fn unit_area(self) -> f64 {
        (1.0 / self.scale).powi(2)
    }
}

/// Clips an open ring (no closing point) to the square `[lo, hi]²` (Sutherland-Hodgman).
fn clip_ring(mut pts: Vec<[f64; 2]>, lo: f64, hi: f64) -> Vec<[f64; 2]> {
    for (axis, bound, keep_above) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)]
    {
        let Some(&last) = pts.last() else {
            break;
        };
        let inside = |p: &[f64; 2]| {
            if keep_above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        let mut prev = last;
        let mut prev_in = inside(&prev);
        for &p in &pts {
            let p_in = inside(&p);
            if p_in != prev_in {
                let t = (bound - prev[axis]) / (p[axis] - prev[axis]);
                let mut q = [
                    prev[0] + t * (p[0] - prev[0]),
                    prev[1] + t * (p[1] - prev[1]),
                ];
                q[axis] = bound;
                out.push(q);
            }
            if p_in {
                out.push(p);
            }
            prev = p;
            prev_in = p_in;
        }
        pts = out;
    }
    pts
}

/// Twice the signed (surveyor's) area of an open ring.
fn twice_area(pts: &[[f64; 2]]) -> f64 {
    let Some(&last) = pts.last() else {
        return 0.0;
    };
    let mut a = 0.0;
    let mut prev = last;
    for &p in pts {
        a += prev[0] * p[1] - p[0] * prev[1];
        prev = p;
    }
    a
}

/// What a district leaves in a tile.
pub(crate) enum Clipped {
    /// Nothing of it reaches the tile and its buffer.
    Outside,
    /// Something does, but it collapses on the grid; the clipped area (tile units²) and a
    /// point of it (tile units) are given for the caller's decision.
    Collapsed {
        /// Area of the clipped (unrounded) geometry.
        area: f64,
        /// The first vertex of its largest ring.
        at: [f64; 2],
    },
    /// Valid rings on the grid: shapes of an exterior followed by its holes.
    Rings(IntShapes),
}

/// Clips, quantises and repairs one district's geometry for the tile `frame` (steps 1 to 3 of
/// the module docs).
pub(crate) fn clip_and_repair(
    geometry: &MultiPolygon<f64>,
    frame: TileFrame,
    overlay: &mut Overlay,
) -> Clipped {
    let lo = -BUFFER;
    let hi = f64::from(EXTENT) + BUFFER;
    let mut contours: Vec<IntContour> = Vec::new();
    let mut area = 0.0;
    let mut largest: Option<(f64, [f64; 2])> = None;
    for poly in &geometry.0 {
        for (k, ring) in std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .enumerate()
        {
            let n = ring.0.len().saturating_sub(1);
            if n < 3 {
                continue;
            }
            let pts: Vec<[f64; 2]> = ring.0[..n].iter().map(|c| frame.to_tile(c)).collect();
            let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for p in &pts {
                for a in 0..2 {
                    min[a] = min[a].min(p[a]);
                    max[a] = max[a].max(p[a]);
                }
            }
            if max[0] < lo || min[0] > hi || max[1] < lo || min[1] > hi {
                continue;
            }
            let pts = if min[0] >= lo && max[0] <= hi && min[1] >= lo && max[1] <= hi {
                pts
            } else {
                clip_ring(pts, lo, hi)
            };
            let a = twice_area(&pts).abs() / 2.0;
            area += if k == 0 { a } else { -a };
            if let Some(&first) = pts.first()
                && k == 0
                && largest.is_none_or(|(l, _)| a > l)
            {
                largest = Some((a, first));
            }
            let mut c: IntContour = Vec::with_capacity(pts.len());
            for p in &pts {
                // Coordinates are inside [lo, hi] here, far from i32's limits.
                let q = IntPoint::new(p[0].round() as i32, p[1].round() as i32);
                if c.last() != Some(&q) {
                    c.push(q);
                }
            }
            while c.len() > 1 && c.first() == c.last() {
                c.pop();
            }
            if c.len() >= 3 {
                contours.push(c);
            }
        }
    }
    let Some((_, at)) = largest else {
        return Clipped::Outside;
    };
    let shapes = match &contours[..] {
        [] => Vec::new(),
        // Already simple and wound as MVT wants: passed through.
        [one] => match overlay.simplify_contour(one, FillRule::EvenOdd) {
            None => vec![vec![one.clone()]],
            Some(mut shapes) => {
                orient_shapes(&mut shapes);
                shapes
            }
        },
        many => {
            let mut shapes = overlay
                .simplify_shape(many, FillRule::EvenOdd)
                .unwrap_or_default();
            orient_shapes(&mut shapes);
            shapes
        }
    };
    if shapes.iter().all(Vec::is_empty) {
        Clipped::Collapsed {
            area: area.max(0.0),
            at,
        }
    } else {
        Clipped::Rings(shapes)
    }
}

/// A square of one tile unit at `at` (clamped into the tile and its buffer): how a district
/// that must show but collapses on the grid is drawn.
pub(crate) fn unit_square(at: [f64; 2]) -> IntShapes {
    let lo = -BUFFER as i32;
    let hi = EXTENT as i32 + BUFFER as i32 - 1;
    let x = (at[0].floor() as i32).clamp(lo, hi);
    let y = (at[1].floor() as i32).clamp(lo, hi);
    vec![vec![vec![
        IntPoint::new(x, y),
        IntPoint::new(x + 1, y),
        IntPoint::new(x + 1, y + 1),
        IntPoint::new(x, y + 1),
    ]]]
}

/// Encodes valid rings as MVT polygon geometry (step 4 of the module docs): the command
/// integers as the packed varints a feature's `geometry` field holds. They are the very
/// integers the `mvt` crate's `GeomEncoder` makes of the same points (with a box wider than
/// any vertex, so its own clipping never applies; [`encode_rings`] is that encoder, compared
/// in the tests), written here because the crate keeps them private and a tile built with it
/// holds every feature as a protobuf struct: several times the tile's size in memory.
pub(crate) fn encode_rings_packed(shapes: &IntShapes) -> Vec<u8> {
    let mut enc = PolygonEncoder::default();
    for ring in rings_in_order(shapes) {
        for p in ring {
            enc.add_point(p.x, p.y);
        }
        enc.complete_ring();
    }
    let mut out = Vec::with_capacity(enc.data.len() * 2);
    for v in enc.data {
        crate::mvt_writer::put_varint(&mut out, u64::from(v));
    }
    out
}

/// Every ring's points in the order they are encoded: a ring starts at its first point that is
/// not the previous ring's last (the encoder would drop a MoveTo to a point it is already at,
/// and with it a vertex), and goes once round.
fn rings_in_order(shapes: &IntShapes) -> impl Iterator<Item = impl Iterator<Item = IntPoint>> {
    let mut last: Option<IntPoint> = None;
    shapes.iter().flatten().map(move |ring| {
        let n = ring.len();
        let start = (0..n).find(|&i| Some(ring[i]) != last).unwrap_or(0);
        if n > 0 {
            last = Some(ring[(start + n - 1) % n]);
        }
        (0..n).map(move |k| ring[(start + k) % n])
    })
}

/// MVT command ids (MVT 2.1 section 4.3.1).
const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

/// The polygon case of `mvt::GeomEncoder` on integer points, step for step: repeated points
/// skipped, a point continuing a straight horizontal or vertical run replaces the previous one,
/// each ring's LineTo count set when it closes.
#[derive(Default)]
struct PolygonEncoder {
    data: Vec<u32>,
    cmd_offset: usize,
    count: u32,
    pt0: Option<(i32, i32)>,
    pt1: Option<(i32, i32)>,
}

impl PolygonEncoder {
    fn push_command(&mut self, id: u32) {
        self.cmd_offset = self.data.len();
        self.data.push(id | (1 << 3));
    }

    fn push_point(&mut self, x: i32, y: i32) {
        self.pt0 = self.pt1;
        let (px, py) = self.pt0.unwrap_or((0, 0));
        self.data.push(zigzag(x.saturating_sub(px)));
        self.data.push(zigzag(y.saturating_sub(py)));
        self.pt1 = Some((x, y));
        self.count += 1;
    }

    fn add_point(&mut self, x: i32, y: i32) {
        if self.pt1 == Some((x, y)) {
            // The first point of a ring on the previous ring's last: no MoveTo (the encoder's
            // rule; `encode_rings_packed` never starts a ring there). Any other: skipped.
            if self.count == 0 {
                self.count += 1;
            }
            return;
        }
        match self.count {
            0 => self.push_command(MOVE_TO),
            1 => self.push_command(LINE_TO),
            _ => {}
        }
        if self.count >= 2 && self.continues_run(x, y) {
            self.data.pop();
            self.data.pop();
            self.pt1 = self.pt0;
            self.count -= 1;
        }
        self.push_point(x, y);
    }

    /// Whether `(x, y)` carries on the straight axis-parallel run of the last two points.
    fn continues_run(&self, x: i32, y: i32) -> bool {
        if let (Some((p0x, p0y)), Some((p1x, p1y))) = (self.pt0, self.pt1) {
            if p0x == p1x && p1x == x {
                return (p0y < p1y && p1y < y) || (p0y > p1y && p1y > y);
            }
            if p0y == p1y && p1y == y {
                return (p0x < p1x && p1x < x) || (p0x > p1x && p1x > x);
            }
        }
        false
    }

    fn complete_ring(&mut self) {
        if self.count > 1 {
            let off = self.cmd_offset;
            self.data[off] = (self.data[off] & 0x7) | ((self.count - 1) << 3);
            self.push_command(CLOSE_PATH);
        }
        self.count = 0;
        self.pt0 = None;
    }
}

/// A parameter integer (MVT 2.1 section 4.3.2).
fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// [`encode_rings_packed`] through the `mvt` crate's own encoder: the reference it is
/// compared with.
#[cfg(test)]
pub(crate) fn encode_rings(shapes: &IntShapes) -> Result<mvt::GeomData, mvt::Error> {
    use mvt::{GeomEncoder, GeomType};
    use pointy::BBox;
    // A box wider than any vertex: the encoder's own clipping never applies.
    let reach = EXTENT as i32 + 2 * BUFFER as i32;
    let mut enc = GeomEncoder::<i32>::new(GeomType::Polygon)
        .bbox(BBox::new([(-reach, -reach), (2 * reach, 2 * reach)]));
    for ring in rings_in_order(shapes) {
        for p in ring {
            enc.add_point(p.x, p.y)?;
        }
        enc.complete_geom()?;
    }
    enc.encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn frame() -> TileFrame {
        // Tile units = Mercator metres, y flipped: the tile spans x 0..4096, y 0..4096.
        TileFrame {
            min_x: 0.0,
            max_y: 4096.0,
            scale: 1.0,
        }
    }

    /// Twice the surveyor's area in tile coordinates (positive: an MVT exterior).
    fn surveyor(ring: &[IntPoint]) -> i64 {
        districts::repair::twice_area(ring)
    }

    #[test]
    fn exteriors_come_out_with_positive_tile_area_and_holes_negative() {
        let outer = polygon![(x: 100.0, y: 100.0), (x: 900.0, y: 100.0), (x: 900.0, y: 900.0), (x: 100.0, y: 900.0)];
        let hole = geo_types::LineString::from(vec![
            (300.0, 300.0),
            (600.0, 300.0),
            (600.0, 600.0),
            (300.0, 600.0),
            (300.0, 300.0),
        ]);
        let p = geo_types::Polygon::new(outer.exterior().clone(), vec![hole]);
        let mut ov = tile_overlay();
        let Clipped::Rings(shapes) = clip_and_repair(&MultiPolygon(vec![p]), frame(), &mut ov)
        else {
            panic!("rings expected");
        };
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].len(), 2);
        assert!(surveyor(&shapes[0][0]) > 0, "{shapes:?}");
        assert!(surveyor(&shapes[0][1]) < 0, "{shapes:?}");
    }

    #[test]
    fn a_concave_ring_clipped_at_the_buffer_leaves_no_back_and_forth_edge() {
        // A U shape whose two arms leave the buffered tile on the right: clipping joins them
        // along x = 4160 with edges running back over each other, which the repair removes.
        let u = polygon![(x: 3000.0, y: 1000.0), (x: 9000.0, y: 1000.0), (x: 9000.0, y: 1500.0),
            (x: 3500.0, y: 1500.0), (x: 3500.0, y: 2500.0), (x: 9000.0, y: 2500.0),
            (x: 9000.0, y: 3000.0), (x: 3000.0, y: 3000.0)];
        let mut ov = tile_overlay();
        let Clipped::Rings(shapes) = clip_and_repair(&MultiPolygon(vec![u]), frame(), &mut ov)
        else {
            panic!("rings expected");
        };
        // One simple ring: the U, cut at the buffer edge (8 corners).
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].len(), 1);
        assert_eq!(shapes[0][0].len(), 8, "{shapes:?}");
        assert!(surveyor(&shapes[0][0]) > 0);
    }

    #[test]
    fn a_sliver_thinner_than_a_unit_collapses_and_reports_its_area() {
        let sliver = polygon![(x: 100.0, y: 100.0), (x: 3000.0, y: 100.0), (x: 3000.0, y: 100.3), (x: 100.0, y: 100.3)];
        let mut ov = tile_overlay();
        match clip_and_repair(&MultiPolygon(vec![sliver]), frame(), &mut ov) {
            Clipped::Collapsed { area, .. } => assert!((area - 870.0).abs() < 1.0, "{area}"),
            _ => panic!("collapsed expected"),
        }
    }

    #[test]
    fn rings_never_start_where_the_previous_one_ended() {
        // Two squares touching at a corner: the second would start at the first's last point.
        let shapes = vec![
            vec![vec![
                IntPoint::new(0, 0),
                IntPoint::new(10, 0),
                IntPoint::new(10, 10),
                IntPoint::new(0, 10),
            ]],
            vec![vec![
                IntPoint::new(0, 10),
                IntPoint::new(-10, 10),
                IntPoint::new(-10, 20),
                IntPoint::new(0, 20),
            ]],
        ];
        let geom = encode_rings(&shapes).expect("encodes");
        // Per ring: MoveTo, 2 parameters, LineTo, 6 parameters, ClosePath. Had the second
        // ring started at (0, 10), the encoder would have dropped its MoveTo and a point.
        assert_eq!(geom.len(), 22);
        // The same integers as packed varints (all under 128 here: a byte each).
        assert_eq!(encode_rings_packed(&shapes).len(), 22);
    }
}
