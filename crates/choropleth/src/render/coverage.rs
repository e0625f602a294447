//! Coverage worked out from geometry instead of rasterised: tiles that no edge reaches (empty,
//! or one flat colour) and districts smaller than a pixel ("specks", blended by area).

use geo_types::{LineString, MultiPolygon};
use tile_math::Bounds;
use tiny_skia::{Pixmap, PremultipliedColorU8};

use super::clip::View;
use super::style::{Feature, Fill, Rgba, TileStyle};

/// A district no bigger than a pixel: drawn by blending its colour into the (up to 2 × 2) pixels
/// its box overlaps, with coverage = its area (and, for the outline, its perimeter × line width),
/// shared out by how much of the box lies in each pixel. This is what an anti-aliasing rasteriser
/// converges to for such shapes, at a fraction of the cost of a path fill per district.
#[derive(Clone, Copy, Debug)]
pub(super) struct Speck {
    /// Top-left pixel of the 2 × 2 block.
    x0: i64,
    y0: i64,
    /// Share of the box in each column / row of the block.
    fx: [f64; 2],
    fy: [f64; 2],
    /// Area in px² (even-odd: holes subtracted).
    pub(super) area: f64,
    /// Perimeter in px.
    pub(super) perimeter: f64,
}

impl Speck {
    pub(super) fn of(g: &MultiPolygon<f64>, b: &Bounds, view: &View) -> Option<Speck> {
        let w = b.width() * view.sx;
        let h = b.height() * view.sy;
        if w > 1.0 || h > 1.0 {
            return None;
        }
        let (bx0, by0) = view.to_px(b.min_x, b.max_y);
        let (bx1, by1) = (bx0 + w, by0 + h);
        let share = |lo: f64, hi: f64| -> (i64, [f64; 2]) {
            let first = lo.floor();
            let span = hi - lo;
            if span <= 1e-12 {
                return (first as i64, [1.0, 0.0]);
            }
            let a = ((first + 1.0).min(hi) - lo) / span;
            (first as i64, [a, 1.0 - a])
        };
        let (x0, fx) = share(bx0, bx1);
        let (y0, fy) = share(by0, by1);
        let (mut area, mut perimeter) = (0.0, 0.0);
        for poly in &g.0 {
            let (a, p) = ring_area_perimeter(poly.exterior(), view);
            area += a;
            perimeter += p;
            for hole in poly.interiors() {
                let (a, p) = ring_area_perimeter(hole, view);
                area -= a;
                perimeter += p;
            }
        }
        if !(area.is_finite() && perimeter.is_finite()) {
            return None;
        }
        Some(Speck {
            x0,
            y0,
            fx,
            fy,
            area: area.max(0.0),
            perimeter,
        })
    }

    /// Source-over blend of `c` with total coverage `amount` (px²), shared over the block.
    pub(super) fn blend(&self, pixmap: &mut Pixmap, c: Rgba, amount: f64) {
        let (w, h) = (i64::from(pixmap.width()), i64::from(pixmap.height()));
        let pixels = pixmap.pixels_mut();
        let alpha = f64::from(c.3) / 255.0;
        for (dy, fy) in self.fy.iter().enumerate() {
            for (dx, fx) in self.fx.iter().enumerate() {
                let (x, y) = (self.x0 + dx as i64, self.y0 + dy as i64);
                let cov = (amount * fx * fy).min(1.0) * alpha;
                if cov <= 0.0 || x < 0 || y < 0 || x >= w || y >= h {
                    continue;
                }
                let i = (y * w + x) as usize;
                let d = pixels[i];
                let mix = |src: u8, dst: u8| -> u8 {
                    (f64::from(src) * cov + f64::from(dst) * (1.0 - cov)).round() as u8
                };
                let r = mix(c.0, d.red());
                let g = mix(c.1, d.green());
                let b = mix(c.2, d.blue());
                let a = mix(255, d.alpha());
                // Premultiplied source-over keeps every channel <= alpha, so this always exists.
                if let Some(p) = PremultipliedColorU8::from_rgba(r.min(a), g.min(a), b.min(a), a) {
                    pixels[i] = p;
                }
            }
        }
    }
}

/// Fill colour of a speck (no-data is its grey: a hatch cannot show in one pixel).
pub(super) fn speck_colour(fill: Fill, style: &TileStyle) -> Rgba {
    match fill {
        Fill::Solid(c) => c,
        Fill::NoData => style.no_data,
    }
}

/// Absolute area (px²) and perimeter (px) of a ring.
fn ring_area_perimeter(ring: &LineString<f64>, view: &View) -> (f64, f64) {
    let (mut twice_area, mut perimeter) = (0.0, 0.0);
    for w in ring.0.windows(2) {
        let (ax, ay) = (
            (w[0].x - view.bounds.min_x) * view.sx,
            (w[0].y - view.bounds.min_y) * view.sy,
        );
        let (bx, by) = (
            (w[1].x - view.bounds.min_x) * view.sx,
            (w[1].y - view.bounds.min_y) * view.sy,
        );
        twice_area += ax * by - bx * ay;
        perimeter += ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).sqrt();
    }
    (twice_area.abs() / 2.0, perimeter)
}

/// What the tile shows if no edge reaches it.
pub(super) enum Coverage {
    Empty,
    Flat(Rgba),
    Mixed,
}

/// Decides whether the tile can skip rasterising: when no ring edge comes within reach of the
/// tile (outline and anti-aliasing included), each feature covers either all of the tile or none
/// of it, and the centre point tells which (even-odd over all rings). The topmost covering feature
/// then gives the colour, if it is an opaque solid fill.
pub(super) fn coverage_without_edges(
    view: &View,
    features: &[(Feature<'_>, Bounds)],
    style: &TileStyle,
) -> Coverage {
    let reach_px = 2.0
        + f64::from(
            style
                .outline
                .map_or(0.0, |o| o.width_px)
                .max(style.highlight.width_px),
        ) * 2.0;
    let m = reach_px * view.metres_per_px;
    let b = &view.bounds;
    let (x0, y0, x1, y1) = (b.min_x - m, b.min_y - m, b.max_x + m, b.max_y + m);
    for (f, _) in features {
        for poly in &f.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                if ring_touches_rect(ring, x0, y0, x1, y1) {
                    return Coverage::Mixed;
                }
            }
        }
    }
    let cx = (b.min_x + b.max_x) / 2.0;
    let cy = (b.min_y + b.max_y) / 2.0;
    match features
        .iter()
        .rev()
        .find(|(f, _)| contains_even_odd(f.geometry, cx, cy))
    {
        None => Coverage::Empty,
        Some((
            Feature {
                fill: Fill::Solid(c),
                ..
            },
            _,
        )) if c.3 == 255 => Coverage::Flat(*c),
        Some(_) => Coverage::Mixed,
    }
}

/// Whether any segment of the ring meets the rectangle (non-finite points count as touching, to
/// stay on the safe side).
fn ring_touches_rect(ring: &LineString<f64>, x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
    ring.0.windows(2).any(|w| {
        let (a, b) = (w[0], w[1]);
        if !(a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite()) {
            return true;
        }
        if a.x.max(b.x) < x0 || a.x.min(b.x) > x1 || a.y.max(b.y) < y0 || a.y.min(b.y) > y1 {
            return false;
        }
        // The segment's box overlaps the rectangle: it meets it unless all four corners lie
        // strictly on one side of the segment's line.
        let side = |x: f64, y: f64| (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
        let s = [side(x0, y0), side(x1, y0), side(x1, y1), side(x0, y1)];
        !(s.iter().all(|v| *v > 0.0) || s.iter().all(|v| *v < 0.0))
    })
}

/// Crossing-number test over every ring of the multipolygon (even-odd), so holes and overlapping
/// "nested shells" both count as outside.
fn contains_even_odd(g: &MultiPolygon<f64>, x: f64, y: f64) -> bool {
    let mut inside = false;
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x) {
                    inside = !inside;
                }
            }
        }
    }
    inside
}
