//! Filling a tile's paths: zeno's exact-area even-odd coverage mask, blended into the pixmap in
//! one pass over the path's bounding box.
//!
//! tiny-skia anti-aliases by supersampling and sends every partly covered run, often one or two
//! pixels long, through its blending pipeline: on a district tile that was about 45 % of the
//! tile's time. zeno accumulates exact coverage cells (FreeType's method) into an 8-bit mask;
//! the blend loop below then skips empty stretches and writes fully covered ones as whole
//! pixels, eight mask bytes at a time. zeno gives only the mask, so the blend is ours: a plain
//! premultiplied source-over, the same arithmetic tiny-skia uses.

use tiny_skia::{Path, PathSegment, Pixmap, PremultipliedColorU8};
use zeno::{Command, Mask, Scratch, Vector};

/// What a path is filled with: one colour, or a pattern repeated from the tile's corner.
pub(super) enum Ink<'a> {
    /// A premultiplied colour.
    Solid(PremultipliedColorU8),
    /// A square premultiplied pattern (the no-data hatch), tiled from pixel (0, 0).
    Pattern(&'a Pixmap),
}

/// Fills paths into a square pixmap, reusing its coverage mask and zeno's scratch space.
pub(super) struct MaskFiller {
    scratch: Scratch,
    /// One byte per pixel of the tile; all zero between fills (the blend clears what it read).
    mask: Vec<u8>,
}

impl MaskFiller {
    pub(super) fn new() -> MaskFiller {
        MaskFiller {
            scratch: Scratch::new(),
            mask: Vec::new(),
        }
    }

    /// Fills `path` (pixel coordinates, even-odd rule, anti-aliased) with `ink` over `pixmap`.
    /// Outlines are not drawn here: zeno's stroker made district tiles 1.7x slower than
    /// tiny-skia's hairlines (tried; BENCHMARKS.md section 17); see `render::hairline`.
    pub(super) fn fill(&mut self, pixmap: &mut Pixmap, path: &Path, ink: Ink<'_>) {
        let (w, h) = (pixmap.width(), pixmap.height());
        let (wu, hu) = (w as usize, h as usize);
        // The part of the tile the path's bounding box covers; nothing to do outside it.
        let b = path.bounds();
        let x0 = clamp_floor(b.left(), wu);
        let x1 = clamp_ceil(b.right(), wu);
        let y0 = clamp_floor(b.top(), hu);
        let y1 = clamp_ceil(b.bottom(), hu);
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        if self.mask.len() != wu * hu {
            self.mask.clear();
            self.mask.resize(wu * hu, 0);
        }
        Mask::with_scratch(SkiaPath(path), &mut self.scratch)
            .style(zeno::Fill::EvenOdd)
            .size(w, h)
            .render_into(&mut self.mask, None);
        let opaque = match &ink {
            Ink::Solid(c) => c.alpha() == 255,
            Ink::Pattern(p) => p.pixels().iter().all(|c| c.alpha() == 255),
        };
        let pixels: &mut [[u8; 4]] = bytemuck::cast_slice_mut(pixmap.pixels_mut());
        for y in y0..y1 {
            let row = y * wu;
            let mask = &mut self.mask[row + x0..row + x1];
            let px = &mut pixels[row + x0..row + x1];
            match &ink {
                Ink::Solid(c) => blend_row(mask, px, opaque, |_| *c),
                Ink::Pattern(p) => {
                    let side = p.width() as usize;
                    let pat = p.pixels();
                    let start = (y % p.height() as usize) * side;
                    let pat_row = &pat[start..start + side];
                    blend_row(mask, px, opaque, |i| pat_row[(x0 + i) % side]);
                }
            }
        }
        // zeno writes only where the path has coverage, which lies within the box blended (and
        // cleared) above; it clips what lies outside the tile.
    }
}

/// Blends one row: `colour_at(i)` is the ink at offset `i` of the row (`opaque`: every ink
/// pixel has alpha 255). Clears the mask bytes it reads, so the mask is all zero again for the
/// next fill.
#[inline(always)]
fn blend_row(
    mask: &mut [u8],
    px: &mut [[u8; 4]],
    opaque: bool,
    colour_at: impl Fn(usize) -> PremultipliedColorU8,
) {
    let mut i = 0;
    let n = mask.len();
    while i + 8 <= n {
        let chunk: [u8; 8] = match mask[i..i + 8].try_into() {
            Ok(c) => c,
            Err(_) => break,
        };
        let word = u64::from_ne_bytes(chunk);
        if word == u64::MAX && opaque {
            // Wholly covered by an opaque ink: the ink's pixels, no blending.
            for k in 0..8 {
                px[i + k] = rgba(colour_at(i + k));
            }
            mask[i..i + 8].fill(0);
        } else if word != 0 {
            for k in 0..8 {
                blend_px(&mut px[i + k], colour_at(i + k), chunk[k]);
            }
            mask[i..i + 8].fill(0);
        }
        i += 8;
    }
    while i < n {
        if mask[i] != 0 {
            blend_px(&mut px[i], colour_at(i), mask[i]);
            mask[i] = 0;
        }
        i += 1;
    }
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
fn div255(v: u32) -> u32 {
    let v = v + 128;
    (v + (v >> 8)) >> 8
}

fn clamp_floor(v: f32, max: usize) -> usize {
    if v.is_nan() || v <= 0.0 {
        0
    } else {
        (v.floor() as usize).min(max)
    }
}

fn clamp_ceil(v: f32, max: usize) -> usize {
    if v.is_nan() || v <= 0.0 {
        0
    } else {
        (v.ceil() as usize).min(max)
    }
}

/// A tiny-skia path read as zeno path data (the renderer builds tiny-skia paths, which it also
/// strokes for the outlines).
#[derive(Clone, Copy)]
struct SkiaPath<'a>(&'a Path);

impl<'a> zeno::PathData for SkiaPath<'a> {
    type Commands = std::iter::Map<tiny_skia::PathSegmentsIter<'a>, fn(PathSegment) -> Command>;

    fn commands(&self) -> Self::Commands {
        self.0.segments().map(command as fn(PathSegment) -> Command)
    }
}

fn command(s: PathSegment) -> Command {
    let v = |p: tiny_skia::Point| Vector::new(p.x, p.y);
    match s {
        PathSegment::MoveTo(p) => Command::MoveTo(v(p)),
        PathSegment::LineTo(p) => Command::LineTo(v(p)),
        PathSegment::QuadTo(c, p) => Command::QuadTo(v(c), v(p)),
        PathSegment::CubicTo(c1, c2, p) => Command::CurveTo(v(c1), v(c2), v(p)),
        PathSegment::Close => Command::Close,
    }
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
    fn coverage_is_the_exact_area_and_the_mask_is_left_clear() {
        let mut p = Pixmap::new(64, 64).unwrap_or_else(|| panic!("pixmap"));
        let mut f = MaskFiller::new();
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
            f.mask.iter().all(|&m| m == 0),
            "mask cleared for the next fill"
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
        let mut f = MaskFiller::new();
        f.fill(&mut p, &path, Ink::Solid(colour(200, 0, 0, 255)));
        assert_eq!(at(&p, 0, 0), [200, 0, 0, 255]);
        assert_eq!(at(&p, 31, 31), [200, 0, 0, 255]);
        assert_eq!(at(&p, 12, 12), [0, 0, 0, 0]);
        assert!(f.mask.iter().all(|&m| m == 0));
    }

    #[test]
    fn translucent_ink_blends_source_over_and_patterns_repeat_from_the_corner() {
        let mut p = Pixmap::new(16, 16).unwrap_or_else(|| panic!("pixmap"));
        p.fill(tiny_skia::Color::from_rgba8(0, 0, 255, 255));
        let mut f = MaskFiller::new();
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
        assert!(f.mask.iter().all(|&m| m == 0));
    }
}
