//! Filling a tile's paths: exact-area even-odd coverage by signed-area accumulation, blended
//! into the pixmap in the same pass that sums it.
//!
//! tiny-skia anti-aliases by supersampling and sends every partly covered run through its
//! blending pipeline (about 45 % of a district tile's time). zeno (FreeType's cell method, tried
//! next) keeps each row's cells in a list sorted by x: on small-area tiles, hundreds of LSOA
//! edges cross a row and the sorted insertions took a quarter of the tile's time
//! (BENCHMARKS.md section 19). No crate offers the alternative we need, so it is written here:
//! every edge adds, to the cells of the rows it crosses, how much the coverage of each pixel
//! changes from the pixel on its left (the accumulation method of font-rs and
//! ab_glyph_rasterizer; those two scan the whole buffer for every path, which on a tile of a few
//! large districts costs more than the edges). The running sum of a row's cells is then each
//! pixel's signed winding area; folded even-odd, it is the exact area of the pixel inside the
//! path. The scan only visits the cells each row's edges touched, eight at a time where no edge
//! did, and blends as it goes: a plain premultiplied source-over, tiny-skia's arithmetic.

use tiny_skia::{Path, PathSegment, Pixmap, Point, PremultipliedColorU8};

/// What a path is filled with: one colour, or a pattern repeated from the tile's corner.
pub(super) enum Ink<'a> {
    /// A premultiplied colour.
    Solid(PremultipliedColorU8),
    /// A square premultiplied pattern (the no-data hatch), tiled from pixel (0, 0).
    Pattern(&'a Pixmap),
}

/// No cell of the row touched: `(first, last)` with `first > last`.
const UNTOUCHED: (usize, usize) = (usize::MAX, 0);

/// Fills paths into a pixmap, reusing its cell buffer between fills.
pub(super) struct AreaFiller {
    /// Per pixel row, `width + 2` cells (an edge at the right border writes the two cells past
    /// the last pixel): the change in signed coverage from the pixel on the left. All zero
    /// between fills (the scan clears what it reads).
    cells: Vec<f32>,
    /// Per row, the first and last cell the current path's edges touched.
    touched: Vec<(usize, usize)>,
    width: usize,
    height: usize,
}

impl AreaFiller {
    pub(super) fn new() -> AreaFiller {
        AreaFiller {
            cells: Vec::new(),
            touched: Vec::new(),
            width: 0,
            height: 0,
        }
    }

    /// Fills `path` (pixel coordinates, even-odd rule, anti-aliased, open sub-paths closed)
    /// with `ink` over `pixmap`. The renderer builds only straight segments; a curve would be
    /// taken as the straight line to its end point. Outlines are not drawn here: zeno's stroker
    /// made district tiles 1.7x slower than tiny-skia's hairlines (tried; BENCHMARKS.md section
    /// 17); see `render::hairline`.
    pub(super) fn fill(&mut self, pixmap: &mut Pixmap, path: &Path, ink: Ink<'_>) {
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        if (w, h) != (self.width, self.height) {
            self.width = w;
            self.height = h;
            self.cells.clear();
            self.cells.resize((w + 2) * h, 0.0);
            self.touched.clear();
            self.touched.resize(h, UNTOUCHED);
        }
        let (mut start, mut last): (Option<Point>, Option<Point>) = (None, None);
        for segment in path.segments() {
            match segment {
                PathSegment::MoveTo(p) => {
                    if let (Some(s), Some(l)) = (start, last) {
                        self.edge(l, s);
                    }
                    start = Some(p);
                    last = Some(p);
                }
                PathSegment::LineTo(p)
                | PathSegment::QuadTo(_, p)
                | PathSegment::CubicTo(_, _, p) => {
                    if let Some(l) = last {
                        self.edge(l, p);
                    }
                    last = Some(p);
                }
                PathSegment::Close => {
                    if let (Some(s), Some(l)) = (start, last) {
                        self.edge(l, s);
                    }
                    last = start;
                }
            }
        }
        if let (Some(s), Some(l)) = (start, last) {
            self.edge(l, s);
        }
        let opaque = match &ink {
            Ink::Solid(c) => c.alpha() == 255,
            Ink::Pattern(p) => p.pixels().iter().all(|c| c.alpha() == 255),
        };
        let pixels: &mut [[u8; 4]] = bytemuck::cast_slice_mut(pixmap.pixels_mut());
        let stride = w + 2;
        for y in 0..h {
            let (first, last) = std::mem::replace(&mut self.touched[y], UNTOUCHED);
            if first > last {
                continue;
            }
            let cells = &mut self.cells[y * stride + first..=y * stride + last];
            let px = &mut pixels[y * w..(y + 1) * w];
            match &ink {
                Ink::Solid(c) => accumulate_row(cells, first, px, opaque, |_| *c),
                Ink::Pattern(p) => {
                    let side = p.width() as usize;
                    let start = (y % p.height() as usize) * side;
                    let pat_row = &p.pixels()[start..start + side];
                    accumulate_row(cells, first, px, opaque, |x| pat_row[x % side]);
                }
            }
        }
    }

    /// Adds one edge: the part above or below the tile is dropped (those rows are not drawn),
    /// a part left of the tile counts as a vertical edge on its left border (it covers every
    /// pixel to its right the same way), a part right of it as one on the right border (it
    /// covers no pixel).
    fn edge(&mut self, a: Point, b: Point) {
        let (w, h) = (self.width as f32, self.height as f32);
        if !(a.is_finite() && b.is_finite()) || a.y == b.y {
            return;
        }
        let inside = |p: Point| (0.0..=w).contains(&p.x) && (0.0..=h).contains(&p.y);
        if inside(a) && inside(b) {
            // Most edges: nothing to cut.
            if a.y < b.y {
                self.line(1.0, a, b);
            } else {
                self.line(-1.0, b, a);
            }
            return;
        }
        // Downwards, with `dir` the winding sign.
        let (dir, mut top, mut bottom) = if a.y < b.y { (1.0, a, b) } else { (-1.0, b, a) };
        if bottom.y <= 0.0 || top.y >= h {
            return;
        }
        let x_at = |p: Point, q: Point, y: f32| p.x + (q.x - p.x) * (y - p.y) / (q.y - p.y);
        if top.y < 0.0 {
            top = Point::from_xy(x_at(top, bottom, 0.0), 0.0);
        }
        if bottom.y > h {
            bottom = Point::from_xy(x_at(top, bottom, h), h);
        }
        // Split where the edge crosses x = 0 or x = w; each piece then lies on one side of both
        // borders, so clamping its ends moves it onto the border only if it lay beyond.
        let mut cuts = [top.y, bottom.y, bottom.y, bottom.y];
        let mut n = 1;
        for border in [0.0, w] {
            if (top.x - border) * (bottom.x - border) < 0.0 {
                let t = (border - top.x) / (bottom.x - top.x);
                cuts[n] = top.y + t * (bottom.y - top.y);
                n += 1;
            }
        }
        cuts[1..n].sort_unstable_by(f32::total_cmp);
        cuts[n] = bottom.y;
        let point_at = |y: f32| {
            let x = if y == top.y {
                top.x
            } else if y == bottom.y {
                bottom.x
            } else {
                x_at(top, bottom, y)
            };
            Point::from_xy(x.clamp(0.0, w), y)
        };
        for k in 0..n {
            let (y0, y1) = (cuts[k], cuts[k + 1]);
            if y1 > y0 {
                self.line(dir, point_at(y0), point_at(y1));
            }
        }
    }

    /// Adds an edge from `p` down to `q` (`0 <= p.y < q.y <= height`, both x in `0..=width`).
    ///
    /// In one pixel row the edge descends `d` (signed by `dir`) while x runs from `x0` to `x1`.
    /// Pixel column j gains `d` times the share of its square lying right of the edge, F(j);
    /// the cell of column j stores F(j) - F(j - 1). With the edge's descent spread evenly over
    /// its x span, F(j) = d (H(j + 1) - H(j)) for H(v) = the integral from x0 to v of the share
    /// of the descent left of u, du.
    fn line(&mut self, dir: f32, p: Point, q: Point) {
        let stride = self.width + 2;
        let dxdy = (q.x - p.x) / (q.y - p.y);
        let mut x = p.x;
        let first_row = p.y as usize;
        let last_row = ceil(q.y).min(self.height);
        for y in first_row..last_row {
            let dy = ((y + 1) as f32).min(q.y) - (y as f32).max(p.y);
            let x_next = (x + dxdy * dy).clamp(0.0, self.width as f32);
            let d = dy * dir;
            let (x0, x1) = if x < x_next { (x, x_next) } else { (x_next, x) };
            let j0 = x0 as usize;
            let j1 = ceil(x1).max(j0 + 1);
            let row = &mut self.cells[y * stride..(y + 1) * stride];
            if j1 == j0 + 1 {
                // Within one column: the part of the pixel right of the edge's mid point.
                let share = 1.0 - (0.5 * (x0 + x1) - j0 as f32);
                row[j0] += d * share;
                row[j0 + 1] += d * (1.0 - share);
            } else {
                let s = 1.0 / (x1 - x0);
                let area_left = |v: f32| {
                    if v <= x0 {
                        0.0
                    } else if v >= x1 {
                        0.5 * (x1 - x0) + (v - x1)
                    } else {
                        0.5 * s * (v - x0) * (v - x0)
                    }
                };
                let mut before = 0.0;
                let mut h_j = area_left(j0 as f32);
                for (j, cell) in row.iter_mut().enumerate().take(j1 + 1).skip(j0) {
                    let h_next = area_left((j + 1) as f32);
                    let f = d * (h_next - h_j);
                    *cell += f - before;
                    before = f;
                    h_j = h_next;
                }
            }
            let t = &mut self.touched[y];
            t.0 = t.0.min(j0);
            t.1 = t.1.max(j1);
            x = x_next;
        }
    }
}

/// `v.ceil()` for `v >= 0` (a cast, not a libm call).
#[inline(always)]
fn ceil(v: f32) -> usize {
    let t = v as usize;
    if (t as f32) < v { t + 1 } else { t }
}

/// Coverage (0-255) of a pixel whose summed signed area is `acc`, by the even-odd rule.
#[inline(always)]
fn coverage(acc: f32) -> u8 {
    let mut a = acc.abs();
    if a > 1.0 {
        // Winding 2 is outside by even-odd: fold a mod 2 onto 0..=1.
        a -= 2.0 * ((a * 0.5) as u32 as f32);
        if a > 1.0 {
            a = 2.0 - a;
        }
    }
    (a * 255.0 + 0.5) as u8
}

/// Sums one row's touched cells (`cells[0]` is column `first`) and blends `colour_at(x)` at each
/// pixel's coverage; clears the cells. Past the last touched cell the sum is back to zero (the
/// path is closed), so nothing there is drawn. Eight cells no edge touched share one coverage:
/// one test for all, and a straight copy when wholly covered by an opaque ink.
#[inline(always)]
fn accumulate_row(
    cells: &mut [f32],
    first: usize,
    px: &mut [[u8; 4]],
    opaque: bool,
    colour_at: impl Fn(usize) -> PremultipliedColorU8,
) {
    let visible = px.len().saturating_sub(first).min(cells.len());
    let mut acc = 0.0f32;
    let mut i = 0;
    while i < visible {
        let end = (i + 8).min(visible);
        if end == i + 8 && cells[i..end].iter().all(|c| *c == 0.0) {
            let m = coverage(acc);
            if m == 255 && opaque {
                for k in i..end {
                    px[first + k] = rgba(colour_at(first + k));
                }
            } else if m != 0 {
                for k in i..end {
                    blend_px(&mut px[first + k], colour_at(first + k), m);
                }
            }
        } else {
            for k in i..end {
                acc += cells[k];
                cells[k] = 0.0;
                let m = coverage(acc);
                if m != 0 {
                    blend_px(&mut px[first + k], colour_at(first + k), m);
                }
            }
        }
        i = end;
    }
    cells[visible..].fill(0.0);
}

#[inline(always)]
fn rgba(c: PremultipliedColorU8) -> [u8; 4] {
    [c.red(), c.green(), c.blue(), c.alpha()]
}

/// Premultiplied source-over of `c` at coverage `m` (0-255) onto `d`.
#[inline(always)]
pub(super) fn blend_px(d: &mut [u8; 4], c: PremultipliedColorU8, m: u8) {
    let s = [c.red(), c.green(), c.blue(), c.alpha()];
    if m == 255 && s[3] == 255 {
        *d = s;
        return;
    }
    if m == 0 {
        return;
    }
    let m = u32::from(m);
    let s = s.map(|v| div255(u32::from(v) * m));
    let keep = 255 - s[3];
    for k in 0..4 {
        // s[k] <= s[3], so the sum stays within 255 and every channel stays <= alpha.
        d[k] = (s[k] + div255(u32::from(d[k]) * keep)) as u8;
    }
}

/// `v / 255` rounded, for `v <= 255 * 255` (exact over that range).
#[inline(always)]
pub(super) fn div255(v: u32) -> u32 {
    let v = v + 128;
    (v + (v >> 8)) >> 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiny_skia::{PathBuilder, Rect};

    fn rect(l: f32, t: f32, r: f32, b: f32) -> Path {
        let Some(rect) = Rect::from_ltrb(l, t, r, b) else {
            panic!("valid rect");
        };
        PathBuilder::from_rect(rect)
    }

    fn colour(r: u8, g: u8, b: u8, a: u8) -> PremultipliedColorU8 {
        tiny_skia::ColorU8::from_rgba(r, g, b, a).premultiply()
    }

    fn at(p: &Pixmap, x: u32, y: u32) -> [u8; 4] {
        let c = p.pixel(x, y).unwrap_or_else(|| panic!("pixel {x},{y}"));
        [c.red(), c.green(), c.blue(), c.alpha()]
    }

    #[test]
    fn coverage_is_the_exact_area_and_the_cells_are_left_clear() {
        let mut p = Pixmap::new(64, 64).unwrap_or_else(|| panic!("pixmap"));
        let mut f = AreaFiller::new();
        // Column 10 is half covered, column 20 a quarter, rows 5-9 whole.
        f.fill(
            &mut p,
            &rect(10.5, 5.0, 20.25, 10.0),
            Ink::Solid(colour(0, 0, 255, 255)),
        );
        assert_eq!(at(&p, 15, 7), [0, 0, 255, 255]);
        let half = at(&p, 10, 7);
        assert!(
            (126..=130).contains(&half[3]),
            "half-covered pixel alpha {half:?}"
        );
        assert_eq!(half[2], half[3], "premultiplied");
        let quarter = at(&p, 20, 7);
        assert!(
            (62..=66).contains(&quarter[3]),
            "quarter-covered alpha {quarter:?}"
        );
        assert_eq!(at(&p, 9, 7), [0, 0, 0, 0]);
        assert_eq!(at(&p, 15, 10), [0, 0, 0, 0]);
        assert!(
            f.cells.iter().all(|&c| c == 0.0),
            "cells cleared for the next fill"
        );
    }

    #[test]
    fn even_odd_holes_stay_empty_and_paths_beyond_the_tile_are_clipped() {
        let mut p = Pixmap::new(32, 32).unwrap_or_else(|| panic!("pixmap"));
        let mut pb = PathBuilder::new();
        // An outer square reaching past every side, and a hole drawn the same way round.
        for (l, t, r, b) in [(-40.0, -40.0, 80.0, 80.0), (8.0, 8.0, 16.0, 16.0)] {
            pb.move_to(l, t);
            pb.line_to(r, t);
            pb.line_to(r, b);
            pb.line_to(l, b);
            pb.close();
        }
        let path = pb.finish().unwrap_or_else(|| panic!("path"));
        let mut f = AreaFiller::new();
        f.fill(&mut p, &path, Ink::Solid(colour(200, 0, 0, 255)));
        assert_eq!(at(&p, 0, 0), [200, 0, 0, 255]);
        assert_eq!(at(&p, 31, 31), [200, 0, 0, 255]);
        assert_eq!(at(&p, 12, 12), [0, 0, 0, 0]);
        assert!(f.cells.iter().all(|&c| c == 0.0));
    }

    /// Fills the closed polygon `points` in opaque black on a new `w` x `h` pixmap; returns
    /// the pixmap and its covered area in px² (the sum of alphas).
    fn fill_black(f: &mut AreaFiller, (w, h): (u32, u32), points: &[(f32, f32)]) -> (Pixmap, f64) {
        let mut p = Pixmap::new(w, h).unwrap_or_else(|| panic!("pixmap"));
        let mut pb = PathBuilder::new();
        for (k, &(x, y)) in points.iter().enumerate() {
            if k == 0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
        }
        pb.close();
        let path = pb.finish().unwrap_or_else(|| panic!("path"));
        f.fill(&mut p, &path, Ink::Solid(colour(0, 0, 0, 255)));
        let area = p
            .pixels()
            .iter()
            .map(|c| f64::from(c.alpha()) / 255.0)
            .sum();
        (p, area)
    }

    #[test]
    fn diagonal_edges_across_many_columns_and_past_the_borders_cover_their_exact_area() {
        // A diamond |x - 32| + |y - 32| <= 48 over a 64 x 64 tile: every edge runs at 45 degrees
        // and leaves the tile on two sides. Inside the tile it covers the square less four corner
        // triangles with legs of 16 px: 4096 - 4 * 128 = 3584 px².
        let mut f = AreaFiller::new();
        let (p, area) = fill_black(
            &mut f,
            (64, 64),
            &[(32.0, -16.0), (80.0, 32.0), (32.0, 80.0), (-16.0, 32.0)],
        );
        assert!((area - 3584.0).abs() < 1.0, "covered {area} px²");
        // Cut corners: the corner pixel is outside, the pixel on the cut's line half covered.
        assert_eq!(at(&p, 0, 0), [0, 0, 0, 0]);
        assert_eq!(at(&p, 32, 32), [0, 0, 0, 255]);
        for (x, y) in [(0, 15), (7, 8), (63, 15)] {
            let half = at(&p, x, y)[3];
            assert!(
                (126..=129).contains(&half),
                "pixel {x},{y} on the edge: alpha {half}"
            );
        }
        assert!(f.cells.iter().all(|&c| c == 0.0));

        // A shallow edge (many columns per row) across a 256 px row.
        let (p, area) = fill_black(&mut f, (256, 4), &[(0.0, 0.0), (256.0, 0.0), (256.0, 1.0)]);
        assert!((area - 128.0).abs() < 0.5, "covered {area} px²");
        let mid = at(&p, 128, 0)[3];
        assert!((126..=130).contains(&mid), "alpha {mid}");
    }

    #[test]
    fn translucent_ink_blends_source_over_and_patterns_repeat_from_the_corner() {
        let mut p = Pixmap::new(16, 16).unwrap_or_else(|| panic!("pixmap"));
        p.fill(tiny_skia::Color::from_rgba8(0, 0, 255, 255));
        let mut f = AreaFiller::new();
        f.fill(
            &mut p,
            &rect(0.0, 0.0, 16.0, 16.0),
            Ink::Solid(colour(255, 0, 0, 128)),
        );
        // 128/255 red over opaque blue.
        let c = at(&p, 3, 3);
        assert_eq!(c[3], 255);
        assert!(
            (127..=129).contains(&c[0]) && (126..=128).contains(&c[2]),
            "{c:?}"
        );

        let mut pat = Pixmap::new(2, 2).unwrap_or_else(|| panic!("pattern"));
        pat.fill(tiny_skia::Color::from_rgba8(0, 255, 0, 255));
        if let Some(px) = pat.pixels_mut().first_mut() {
            *px = colour(0, 0, 0, 255);
        }
        f.fill(&mut p, &rect(4.0, 4.0, 12.0, 12.0), Ink::Pattern(&pat));
        assert_eq!(at(&p, 4, 4), [0, 0, 0, 255]);
        assert_eq!(at(&p, 5, 4), [0, 255, 0, 255]);
        assert_eq!(at(&p, 6, 6), [0, 0, 0, 255]);
        assert_eq!(at(&p, 7, 6), [0, 255, 0, 255]);
        assert!(f.cells.iter().all(|&c| c == 0.0));
    }
}
