//! The tile window: bounds checked, the affine map from Web Mercator metres to tile pixels, and
//! district rings turned into pixel paths, clipped to a window a little wider than the tile.

use geo_types::{LineString, MultiPolygon};
use thiserror::Error;
use tile_math::Bounds;
use tiny_skia::PathBuilder;

use super::style::TileSize;

/// Why a tile cannot be rendered.
#[derive(Debug, Error, PartialEq)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum RenderError {
    /// The tile bounds are not finite or have no area.
    #[error(
        "tile bounds ({min_x}, {min_y}, {max_x}, {max_y}) are not a finite box with positive width and height"
    )]
    InvalidBounds {
        min_x: f64,
        min_y: f64,
        max_x: f64,
        max_y: f64,
    },
    /// The caller's `cancelled()` turned true while the tile was drawn (its request went away).
    #[error("rendering the tile was cancelled")]
    Cancelled,
}

/// Margin of the clip window around the tile, px: wider than half the widest line drawn (the
/// 2.5 px highlight, 5 px on a retina tile), so the edges that clipping adds along the window are
/// never visible. Kept small: every edge inside the window is rasterised and stroked (64 px
/// doubled the edges of a z10 district tile).
const CLIP_PAD_PX: f64 = 8.0;

/// The tile's bounds and the affine map from mercator metres to tile pixels.
pub(super) struct View {
    pub(super) bounds: Bounds,
    pub(super) size_px: f64,
    pub(super) sx: f64,
    pub(super) sy: f64,
    /// Metres per pixel (the larger of x and y).
    pub(super) metres_per_px: f64,
}

impl View {
    pub(super) fn new(bounds: Bounds, size: TileSize) -> Result<View, RenderError> {
        let b = bounds;
        let finite = [b.min_x, b.min_y, b.max_x, b.max_y]
            .iter()
            .all(|v| v.is_finite());
        if !finite || b.width() <= 0.0 || b.height() <= 0.0 {
            return Err(RenderError::InvalidBounds {
                min_x: b.min_x,
                min_y: b.min_y,
                max_x: b.max_x,
                max_y: b.max_y,
            });
        }
        let size_px = f64::from(size.px());
        let sx = size_px / b.width();
        let sy = size_px / b.height();
        Ok(View {
            bounds,
            size_px,
            sx,
            sy,
            metres_per_px: (1.0 / sx).max(1.0 / sy),
        })
    }

    pub(super) fn to_px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.bounds.min_x) * self.sx,
            (self.bounds.max_y - y) * self.sy,
        )
    }

    /// The feature's bounding box, if it touches the tile (a margin of a few pixels keeps outlines).
    pub(super) fn reaching_bbox(&self, g: &MultiPolygon<f64>) -> Option<Bounds> {
        let m = CLIP_PAD_PX * self.metres_per_px;
        let b = &self.bounds;
        let grown = Bounds {
            min_x: b.min_x - m,
            min_y: b.min_y - m,
            max_x: b.max_x + m,
            max_y: b.max_y + m,
        };
        bbox(g).filter(|fb| fb.intersects(&grown))
    }
}

/// Bounding box over the finite coordinates of the exteriors, `None` if there are none. (Four
/// running extremes, no per-point branch on an `Option`: this runs over every vertex of every
/// candidate district of every tile.)
fn bbox(g: &MultiPolygon<f64>) -> Option<Bounds> {
    let (mut min_x, mut min_y) = (f64::INFINITY, f64::INFINITY);
    let (mut max_x, mut max_y) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for c in g.0.iter().flat_map(|p| p.exterior().0.iter()) {
        if c.x.is_finite() && c.y.is_finite() {
            min_x = min_x.min(c.x);
            min_y = min_y.min(c.y);
            max_x = max_x.max(c.x);
            max_y = max_y.max(c.y);
        }
    }
    (min_x <= max_x).then_some(Bounds {
        min_x,
        min_y,
        max_x,
        max_y,
    })
}

/// Appends every ring of a district to the path.
pub(super) fn add_feature(
    pb: &mut PathBuilder,
    g: &MultiPolygon<f64>,
    view: &View,
    px: &mut Vec<(f64, f64)>,
    clipped: &mut Vec<(f64, f64)>,
) {
    for poly in &g.0 {
        add_ring(pb, poly.exterior(), view, px, clipped);
        for hole in poly.interiors() {
            add_ring(pb, hole, view, px, clipped);
        }
    }
}

/// Appends one ring, in pixels, to the path. Non-finite coordinates are dropped; a ring wholly
/// outside the clip window is left out; a ring reaching far outside is clipped to the window first.
fn add_ring(
    pb: &mut PathBuilder,
    ring: &LineString<f64>,
    view: &View,
    px: &mut Vec<(f64, f64)>,
    clipped: &mut Vec<(f64, f64)>,
) {
    px.clear();
    let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in &ring.0 {
        let (x, y) = view.to_px(c.x, c.y);
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        lo_x = lo_x.min(x);
        lo_y = lo_y.min(y);
        hi_x = hi_x.max(x);
        hi_y = hi_y.max(y);
        px.push((x, y));
    }
    if px.len() < 3 {
        return;
    }
    let lo = -CLIP_PAD_PX;
    let hi = view.size_px + CLIP_PAD_PX;
    if hi_x < lo || hi_y < lo || lo_x > hi || lo_y > hi {
        // Its bounding box misses the window, so its interior does not reach the tile either.
        return;
    }
    // Rings reaching beyond the window are clipped to it: the rasteriser then walks only the edges
    // that matter (a district seen at z10 may have thousands of vertices outside the tile), and
    // far-away vertices never lose precision as f32.
    if lo_x < lo || lo_y < lo || hi_x > hi || hi_y > hi {
        clip_ring(px, lo, hi, clipped);
        if px.len() < 3 {
            return;
        }
    }
    let mut iter = px.iter();
    let Some(&(x0, y0)) = iter.next() else {
        return;
    };
    pb.move_to(x0 as f32, y0 as f32);
    for &(x, y) in iter {
        pb.line_to(x as f32, y as f32);
    }
    pb.close();
}

/// Sutherland–Hodgman clipping of a closed ring to the square window [lo, hi]².
///
/// Written by hand because the general polygon clippers (geo's boolean ops) are far heavier than
/// this guard needs: the clipped ring only has to fill the same pixels inside the window with the
/// even-odd rule, and the edges it adds along the window border lie outside the visible tile.
/// Clips `ring` in place; `scratch` is working space (no allocation once both have grown).
fn clip_ring(ring: &mut Vec<(f64, f64)>, lo: f64, hi: f64, scratch: &mut Vec<(f64, f64)>) {
    let mut cur = ring;
    let mut next = scratch;
    // Each edge of the window: (axis 0 = x / 1 = y, bound, keep values >= bound?)
    for (axis, bound, keep_ge) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        next.clear();
        let inside = |p: (f64, f64)| {
            let v = if axis == 0 { p.0 } else { p.1 };
            if keep_ge { v >= bound } else { v <= bound }
        };
        let cross = |a: (f64, f64), b: (f64, f64)| {
            let (av, bv) = if axis == 0 { (a.0, b.0) } else { (a.1, b.1) };
            let t = (bound - av) / (bv - av);
            if axis == 0 {
                (bound, a.1 + t * (b.1 - a.1))
            } else {
                (a.0 + t * (b.0 - a.0), bound)
            }
        };
        let Some(&last) = cur.last() else {
            // Nothing left: the ring misses the window. `cur` is empty, so is the result.
            next.clear();
            std::mem::swap(&mut cur, &mut next);
            continue;
        };
        let mut prev = last;
        for &p in cur.iter() {
            match (inside(prev), inside(p)) {
                (true, true) => next.push(p),
                (true, false) => next.push(cross(prev, p)),
                (false, true) => {
                    next.push(cross(prev, p));
                    next.push(p);
                }
                (false, false) => {}
            }
            prev = p;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    // Four passes, four swaps: the result is back in the buffer that came in as `ring`.
}
