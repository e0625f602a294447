//! Outlines at most a pixel wide: Xiaolin Wu's anti-aliased lines, their coverage scaled by the
//! line's width (what tiny-skia does for such "hairlines"), united in a mask and blended once.
//!
//! Written by hand: tiny-skia draws hairlines through its general raster pipeline one or two
//! pixels at a time, which was a fifth of a district tile's time once fills were fast; the
//! `line_drawing` crate's Wu iterator starts each segment at a rounded x without moving y to
//! match (up to half a pixel off at every vertex of a polyline) and works on pixel corners,
//! not centres. Each segment covers the columns (or rows) whose centre lies in `[start, end)`,
//! so a vertex shared by two segments is drawn once.

use tiny_skia::{Path, PathSegment, Pixmap, PremultipliedColorU8};

use super::fill::{blend_px, div255};

/// Strokes hairlines, reusing one coverage byte per pixel between tiles.
///
/// Every line's coverage is first united into the mask (`a + b - ab`: what two source-over
/// blends of one colour leave), and the mask is blended into the pixmap once at the end. A
/// tile's outlines cross each pixel several times (every shared border is stroked once per
/// district, and at low zooms small areas' borders crowd together); blending each crossing was
/// a sixth of a small-area tile's time.
pub(super) struct Hairlines {
    /// One byte per pixel; all zero between strokes (the final blend clears what it read).
    mask: Vec<u8>,
}

impl Hairlines {
    pub(super) fn new() -> Hairlines {
        Hairlines { mask: Vec::new() }
    }

    /// Strokes every segment of `path` (pixel coordinates) as an anti-aliased line of `width`
    /// px (0 < `width` <= 1) in colour `c` (premultiplied).
    pub(super) fn stroke(
        &mut self,
        pixmap: &mut Pixmap,
        path: &Path,
        width: f32,
        c: PremultipliedColorU8,
    ) {
        let (w, h) = (pixmap.width() as i64, pixmap.height() as i64);
        let scale = (width.clamp(0.0, 1.0) * 256.0) as u32;
        if scale == 0 {
            return;
        }
        let len = (w * h) as usize;
        if self.mask.len() != len {
            self.mask.clear();
            self.mask.resize(len, 0);
        }
        let mask = &mut self.mask;
        let (mut top, mut bottom) = (h, -1i64);
        let mut plot = |x: i64, y: i64, cover: f32| {
            if x < 0 || y < 0 || x >= w || y >= h {
                return;
            }
            // cover in [0, 1] times width in [0, 256]: at most 255 after the shift.
            let m = ((cover * scale as f32) as u32).min(255);
            if m != 0 {
                let cell = &mut mask[(y * w + x) as usize];
                let a = u32::from(*cell);
                *cell = (a + m - div255(a * m)) as u8;
                top = top.min(y);
                bottom = bottom.max(y);
            }
        };
        let (mut start, mut last) = ((0.0f32, 0.0f32), (0.0f32, 0.0f32));
        for seg in path.segments() {
            match seg {
                PathSegment::MoveTo(p) => {
                    start = (p.x, p.y);
                    last = start;
                }
                PathSegment::LineTo(p) => {
                    line(last, (p.x, p.y), (w, h), &mut plot);
                    last = (p.x, p.y);
                }
                // The renderer's paths hold only lines; a curve is drawn as its chord.
                PathSegment::QuadTo(_, p) | PathSegment::CubicTo(_, _, p) => {
                    line(last, (p.x, p.y), (w, h), &mut plot);
                    last = (p.x, p.y);
                }
                PathSegment::Close => {
                    line(last, start, (w, h), &mut plot);
                    last = start;
                }
            }
        }
        if bottom < top {
            return;
        }
        let pixels: &mut [[u8; 4]] = bytemuck::cast_slice_mut(pixmap.pixels_mut());
        let (from, to) = ((top * w) as usize, ((bottom + 1) * w) as usize);
        blend_mask(&mut self.mask[from..to], &mut pixels[from..to], c);
    }
}

/// Blends `c` into `px` at the coverage of each mask byte, and clears the mask; 32 bytes are
/// tested at once (four `u64` loads), so the empty stretches between lines cost little.
fn blend_mask(mask: &mut [u8], px: &mut [[u8; 4]], c: PremultipliedColorU8) {
    const CHUNK: usize = 32;
    let empty = |m: &[u8]| {
        m.chunks_exact(8)
            .all(|w| u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) == 0)
    };
    for (m32, p32) in mask.chunks_mut(CHUNK).zip(px.chunks_mut(CHUNK)) {
        if m32.len() == CHUNK && empty(m32) {
            continue;
        }
        for (m, p) in m32.iter_mut().zip(p32.iter_mut()) {
            if *m != 0 {
                blend_px(p, c, *m);
                *m = 0;
            }
        }
    }
}

/// One Wu line from `a` to `b`: for each column (row, for a steep line) whose centre lies in
/// the segment's span, the two pixels nearest the line share its coverage.
fn line(a: (f32, f32), b: (f32, f32), (w, h): (i64, i64), plot: &mut impl FnMut(i64, i64, f32)) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if !(dx.is_finite() && dy.is_finite()) {
        return;
    }
    let steep = dy.abs() > dx.abs();
    // Work along the major axis u, with v the minor one.
    let (mut a, mut b) = if steep {
        ((a.1, a.0), (b.1, b.0))
    } else {
        (a, b)
    };
    if a.0 > b.0 {
        std::mem::swap(&mut a, &mut b);
    }
    let (u_len, v_len) = if steep { (h, w) } else { (w, h) };
    let du = b.0 - a.0;
    if du <= 0.0 {
        return;
    }
    let g = (b.1 - a.1) / du;
    // Columns i with centre i + 0.5 in [a.u, b.u), kept on the tile (a pixel of margin for v).
    let first = ceil(a.0 - 0.5).max(0);
    let end = ceil(b.0 - 0.5).min(u_len);
    let (lo_v, hi_v) = (a.1.min(b.1), a.1.max(b.1));
    if first >= end || hi_v < -1.0 || lo_v > (v_len + 1) as f32 {
        return;
    }
    for i in first..end {
        let v = a.1 + g * (i as f32 + 0.5 - a.0) - 0.5;
        let j = floor(v);
        let f = v - j as f32;
        if steep {
            plot(j, i, 1.0 - f);
            plot(j + 1, i, f);
        } else {
            plot(i, j, 1.0 - f);
            plot(i, j + 1, f);
        }
    }
}

/// `v.floor()` as an integer by casts: `f32::floor` is a libm call on baseline x86-64, made
/// for every pixel of every outline. (Saturates for huge `v`; such pixels fail the bounds test.)
#[inline(always)]
fn floor(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v { t - 1 } else { t }
}

/// `v.ceil()` as an integer by casts (see [`floor`]).
#[inline(always)]
fn ceil(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) < v { t + 1 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiny_skia::PathBuilder;

    fn alpha(p: &Pixmap, x: u32, y: u32) -> u8 {
        p.pixel(x, y).map_or(0, PremultipliedColorU8::alpha)
    }

    #[test]
    fn floor_and_ceil_by_casts_agree_with_f32s() {
        for v in [
            -2.5f32, -1.0, -0.5, -0.0, 0.0, 0.25, 1.0, 1.5, 255.99, 256.0,
        ] {
            assert_eq!(floor(v), v.floor() as i64, "floor {v}");
            assert_eq!(ceil(v), v.ceil() as i64, "ceil {v}");
        }
    }

    fn white() -> PremultipliedColorU8 {
        tiny_skia::ColorU8::from_rgba(255, 255, 255, 255).premultiply()
    }

    #[test]
    fn a_line_on_pixel_centres_covers_one_pixel_per_column_by_its_width() {
        let mut p = Pixmap::new(32, 32).expect("pixmap");
        let mut pb = PathBuilder::new();
        pb.move_to(2.0, 10.5);
        pb.line_to(30.0, 10.5);
        let path = pb.finish().expect("path");
        Hairlines::new().stroke(&mut p, &path, 0.5, white());
        // Centres 2.5 to 29.5: the columns whose centre lies in [2, 30).
        for x in 2..30 {
            assert!(
                (126..=129).contains(&alpha(&p, x, 10)),
                "x {x}: {}",
                alpha(&p, x, 10)
            );
            assert_eq!(alpha(&p, x, 9), 0);
            assert_eq!(alpha(&p, x, 11), 0);
        }
        assert_eq!(alpha(&p, 1, 10), 0);
        assert_eq!(alpha(&p, 30, 10), 0);
    }

    #[test]
    fn a_line_between_rows_is_shared_and_steep_lines_and_closing_edges_are_drawn() {
        let mut p = Pixmap::new(32, 32).expect("pixmap");
        let mut pb = PathBuilder::new();
        // A closed square: the top edge lies between rows 4 and 5, the closing edge is the left.
        pb.move_to(4.5, 5.0);
        pb.line_to(20.5, 5.0);
        pb.line_to(20.5, 21.0);
        pb.line_to(4.5, 21.0);
        pb.close();
        let path = pb.finish().expect("path");
        Hairlines::new().stroke(&mut p, &path, 1.0, white());
        let (a4, a5) = (alpha(&p, 10, 4), alpha(&p, 10, 5));
        assert!(
            (126..=129).contains(&a4) && (126..=129).contains(&a5),
            "{a4} {a5}"
        );
        // Right (steep) edge and the closing left edge: full pixels on their centres.
        assert_eq!(alpha(&p, 20, 12), 255);
        assert_eq!(alpha(&p, 4, 12), 255);
        assert_eq!(alpha(&p, 12, 12), 0, "inside stays empty");
    }

    #[test]
    fn crossings_of_one_pixel_unite_as_two_blends_would_and_the_mask_is_left_clear() {
        let mut p = Pixmap::new(32, 32).expect("pixmap");
        p.fill(tiny_skia::Color::from_rgba8(0, 0, 255, 255));
        let mut pb = PathBuilder::new();
        // The same half-width line twice (a border stroked once per district), then a third
        // line elsewhere.
        for _ in 0..2 {
            pb.move_to(2.0, 10.5);
            pb.line_to(30.0, 10.5);
        }
        pb.move_to(2.0, 20.5);
        pb.line_to(30.0, 20.5);
        let path = pb.finish().expect("path");
        let mut h = Hairlines::new();
        h.stroke(&mut p, &path, 0.5, white());
        // Half coverage twice: 1 - (1 - 1/2)^2 = 3/4 white over blue; once: 1/2.
        let twice = p.pixel(15, 10).expect("pixel");
        assert!((190..=193).contains(&twice.red()), "{twice:?}");
        assert_eq!((twice.green(), twice.blue()), (twice.red(), 255));
        let once = p.pixel(15, 20).expect("pixel");
        assert!((126..=129).contains(&once.red()), "{once:?}");
        assert!(
            h.mask.iter().all(|&m| m == 0),
            "mask cleared for the next stroke"
        );
    }

    #[test]
    fn lines_far_outside_or_not_finite_draw_nothing() {
        let mut p = Pixmap::new(16, 16).expect("pixmap");
        let mut pb = PathBuilder::new();
        pb.move_to(-60.0, -60.0);
        pb.line_to(-60.0, 70.0);
        pb.line_to(-50.0, 70.0);
        let path = pb.finish().expect("path");
        Hairlines::new().stroke(&mut p, &path, 1.0, white());
        line((0.0, f32::NAN), (10.0, 10.0), (16, 16), &mut |_, _, _| {
            panic!("a NaN line plots nothing")
        });
        assert!(p.pixels().iter().all(|c| c.alpha() == 0));
    }
}
