//! Drawing a figure as PNG: the district polygons straight onto a tiny-skia pixmap (fast even for
//! 32,844 LSOAs: no SVG text to write and parse), then the overlay SVG (title, legend, labels,
//! frames, credit) through resvg on top, with the shipped DejaVu Sans regular and bold. Paths
//! are traced once; a PNG over [`STRIP_PIXELS`] is then drawn a horizontal strip at a time,
//! each strip encoded before the next is drawn.

use std::sync::{Arc, OnceLock};

use resvg::usvg;
use tiny_skia::{
    Color, FillRule, FilterQuality, LineCap, LineJoin, Mask, Paint, Path, PathBuilder, Pattern,
    Pixmap, PremultipliedColorU8, Shader, SpreadMode, Stroke, Transform,
};

use super::layout::{FONT_BOLD, MapView};
use super::svg::{self, HIGHLIGHT, HIGHLIGHT_WIDTH, Part, SEAL_WIDTH};
use super::{Figure, FigureError, Fill, Prepared, Rect, Rgba};
use crate::legend::{FONT_FAMILY, font_database};
use crate::palette::NO_DATA_STYLE;

/// Output pixels drawn at once: a larger PNG is drawn in horizontal strips of about this many
/// pixels (32 MiB of pixmap and 8 MiB of clip mask), each streamed into the PNG encoder as it
/// is finished, so a 10,000 px square map holds about 40 MB of pixels instead of 500 MB
/// (BENCHMARKS.md section 13). Figures up to this size are drawn whole, as before.
pub const STRIP_PIXELS: u64 = 8 * 1024 * 1024;

/// Rows drawn above and below each strip and dropped: tiny-skia cuts a path's edges at the
/// pixmap's edge and steps them on from the cut, which moves anti-aliased pixels near a strip's
/// edge by a level or more; with this margin the cuts fall outside the rows kept.
const STRIP_MARGIN: u32 = 16;

/// Rows of a strip for a `width` x `height` PNG: all of them when the image has at most
/// [`STRIP_PIXELS`] pixels.
pub(super) fn strip_rows(width: u32, height: u32) -> u32 {
    let rows = STRIP_PIXELS / u64::from(width.max(1));
    u32::try_from(rows)
        .unwrap_or(u32::MAX)
        .clamp(1, height.max(1))
}

/// The paths of one map (the main map or the London inset), traced once and drawn into every
/// strip.
struct Traced<'f, 'a> {
    view: &'f MapView,
    paths: Vec<(&'f Prepared<'a>, Path)>,
}

pub(super) fn render_png(
    fig: &Figure<'_>,
    strip: u32,
    cancelled: &dyn Fn() -> bool,
) -> Result<Vec<u8>, FigureError> {
    let (width, height) = fig.png_size();
    let scale = f64::from(fig.options.scale);
    let u = fig.layout.unit;
    let hatch = hatch_pixmap(u * scale);

    let main = trace(fig, &fig.main, scale, |_| true, cancelled)?;
    let inset = match (&fig.inset, fig.layout.inset) {
        (Some((view, _)), Some(rect)) => Some((
            rect,
            trace(fig, view, scale, |d| d.district.in_london, cancelled)?,
        )),
        _ => None,
    };
    if cancelled() {
        return Err(FigureError::Cancelled);
    }

    let overlay = svg::write(fig, Part::Overlay, cancelled).ok_or(FigureError::Cancelled)?;
    let options = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(&overlay, &options)?;
    let s = fig.options.scale;

    // Everything drawn into rows `y0..` of the image: the maps, then the overlay on top.
    let draw = |pixmap: &mut Pixmap, top: i64| -> Result<(), FigureError> {
        pixmap.fill(Color::WHITE);
        // Image rows are below 2^24 (at most 10,000 px plus a margin): exact as f32.
        let shift = Transform::from_translate(0.0, -(top as f32));
        let rows = (top as f64, (top + i64::from(pixmap.height())) as f64);
        draw_map(
            pixmap,
            fig,
            &main,
            (hatch.as_ref(), scale),
            (shift, rows),
            cancelled,
        )?;
        if let Some((rect, traced)) = &inset {
            let paint = solid(Rgba::WHITE);
            if let Some(r) = to_skia_rect(*rect, scale) {
                pixmap.fill_rect(r, &paint, shift, None);
            }
            draw_map(
                pixmap,
                fig,
                traced,
                (hatch.as_ref(), scale),
                (shift, rows),
                cancelled,
            )?;
        }
        if cancelled() {
            return Err(FigureError::Cancelled);
        }
        resvg::render(
            &tree,
            Transform::from_scale(s, s).post_concat(shift),
            &mut pixmap.as_mut(),
        );
        Ok(())
    };

    let strip = strip.clamp(1, height.max(1));
    if strip >= height {
        let mut pixmap = Pixmap::new(width, height).ok_or(FigureError::Pixmap { width, height })?;
        draw(&mut pixmap, 0)?;
        crate::render::encode::encode_png_lean(&pixmap, cancelled)?.ok_or(FigureError::Cancelled)
    } else {
        crate::render::encode::encode_png_strips(
            (width, height),
            (strip, STRIP_MARGIN),
            cancelled,
            draw,
        )?
        .ok_or(FigureError::Cancelled)
    }
}

/// The legend's font database (DejaVu Sans) plus DejaVu Sans Bold, built once.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = (*font_database()).clone();
        db.load_font_data(FONT_BOLD.to_vec());
        Arc::new(db)
    })
    .clone()
}

/// The paths of the `wanted` districts through `view` in PNG pixels (at the pixel `scale`),
/// cut to a box around its clip (see [`keep_box`]); stops once `cancelled()` is true.
fn trace<'f, 'a>(
    fig: &'f Figure<'a>,
    view: &'f MapView,
    scale: f64,
    wanted: impl Fn(&Prepared<'_>) -> bool,
    cancelled: &dyn Fn() -> bool,
) -> Result<Traced<'f, 'a>, FigureError> {
    let visible = view.visible();
    let keep = keep_box(view.clip, scale);
    let mut paths: Vec<(&Prepared<'_>, Path)> = Vec::new();
    let mut ring_px = RingBuffers::default();
    for d in fig.districts.iter().filter(|d| wanted(d)) {
        if cancelled() {
            return Err(FigureError::Cancelled);
        }
        let mut pb = PathBuilder::new();
        for poly in &d.district.geometry.0 {
            // Skip polygons of a multipolygon wholly outside the view (islands off the inset).
            if let Some(r) = geo::BoundingRect::bounding_rect(poly.exterior()) {
                let b = tile_math::Bounds {
                    min_x: r.min().x,
                    min_y: r.min().y,
                    max_x: r.max().x,
                    max_y: r.max().y,
                };
                if !b.intersects(&visible) {
                    continue;
                }
            }
            add_ring(&mut pb, poly.exterior(), view, scale, keep, &mut ring_px);
            for hole in poly.interiors() {
                add_ring(&mut pb, hole, view, scale, keep, &mut ring_px);
            }
        }
        if let Some(path) = pb.finish() {
            paths.push((d, path));
        }
    }
    Ok(Traced { view, paths })
}

/// Fills, outlines and highlights of a traced map (with the no-data hatch and the pixel
/// scale), clipped to its box, into a pixmap holding image rows `rows.0..rows.1` (`shift`
/// moves image pixels to the pixmap's); paths wholly outside those rows are skipped. Stops
/// once `cancelled()` is true.
fn draw_map(
    pixmap: &mut Pixmap,
    fig: &Figure<'_>,
    traced: &Traced<'_, '_>,
    (hatch, scale): (Option<&Pixmap>, f64),
    (shift, rows): (Transform, (f64, f64)),
    cancelled: &dyn Fn() -> bool,
) -> Result<(), FigureError> {
    let Some(mask) = clip_mask(pixmap, traced.view.clip, scale, shift) else {
        return Ok(());
    };
    let u = fig.layout.unit;
    // How far beyond its path a district's drawing reaches: half the widest stroke, plus the
    // anti-aliasing.
    let reach = [
        SEAL_WIDTH * scale,
        fig.outline.map_or(0.0, |(_, w)| f64::from(w) * scale),
        HIGHLIGHT_WIDTH * u * scale,
    ]
    .into_iter()
    .fold(0.0, f64::max)
        / 2.0
        + 2.0;
    let in_rows = |p: &Path| {
        let b = p.bounds();
        f64::from(b.bottom()) + reach >= rows.0 && f64::from(b.top()) - reach <= rows.1
    };
    let paths: Vec<&(&Prepared<'_>, Path)> =
        traced.paths.iter().filter(|(_, p)| in_rows(p)).collect();

    // The hatch pixmap is at least 3 px square and always exists; plain grey if it did not.
    let hatch_paint = match hatch {
        Some(h) => Paint {
            anti_alias: true,
            shader: Pattern::new(
                h.as_ref(),
                SpreadMode::Repeat,
                FilterQuality::Nearest,
                1.0,
                Transform::identity(),
            ),
            ..Paint::default()
        },
        None => {
            let g = NO_DATA_STYLE.fill;
            solid(Rgba(g.r, g.g, g.b, 255))
        }
    };
    // Without boundary lines, neighbours anti-aliased one by one leave faint light seams along
    // shared edges; a hairline of each district's own colour closes them.
    let seal = Stroke {
        width: (SEAL_WIDTH * scale) as f32,
        line_join: LineJoin::Round,
        ..Stroke::default()
    };
    let mut paint = solid(Rgba::WHITE);
    for (d, path) in &paths {
        if cancelled() {
            return Err(FigureError::Cancelled);
        }
        let p = match d.district.fill {
            Fill::Solid(c) => {
                paint.shader = Shader::SolidColor(to_color(c));
                &paint
            }
            Fill::NoData => &hatch_paint,
        };
        pixmap.fill_path(path, p, FillRule::EvenOdd, shift, Some(&mask));
        if fig.outline.is_none() && matches!(d.district.fill, Fill::Solid(_)) {
            pixmap.stroke_path(path, p, &seal, shift, Some(&mask));
        }
    }
    if let Some((colour, width)) = fig.outline {
        stroke(
            pixmap,
            &paths,
            (colour, f64::from(width) * scale),
            (shift, &mask),
            |_| true,
            cancelled,
        )?;
    }
    stroke(
        pixmap,
        &paths,
        (HIGHLIGHT, HIGHLIGHT_WIDTH * u * scale),
        (shift, &mask),
        |d| d.district.highlight,
        cancelled,
    )
}

fn stroke(
    pixmap: &mut Pixmap,
    paths: &[&(&Prepared<'_>, Path)],
    (colour, width): (Rgba, f64),
    (shift, mask): (Transform, &Mask),
    wanted: impl Fn(&Prepared<'_>) -> bool,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), FigureError> {
    if !(width > 0.0 && width.is_finite()) || colour.3 == 0 {
        return Ok(());
    }
    let paint = solid(colour);
    let stroke = Stroke {
        width: width as f32,
        line_join: LineJoin::Round,
        line_cap: LineCap::Round,
        ..Stroke::default()
    };
    for (d, path) in paths {
        if cancelled() {
            return Err(FigureError::Cancelled);
        }
        if wanted(d) {
            pixmap.stroke_path(path, &paint, &stroke, shift, Some(mask));
        }
    }
    Ok(())
}

/// The pixel box rings are cut to: the map's clip box widened by its own size on every side.
/// Rings are drawn clipped to the map box anyway; cutting them to this wider box first keeps
/// every coordinate within a few canvas sizes, however far the view is zoomed in (a bbox of
/// 1e-8 degrees put districts a billion pixels away, and tiny-skia panicked on such paths),
/// while cut edges stay far outside the map, beyond the widest stroke.
fn keep_box(clip: Rect, scale: f64) -> [f64; 4] {
    let (x, y, w, h) = (
        clip.x * scale,
        clip.y * scale,
        clip.width * scale,
        clip.height * scale,
    );
    let m = w.max(h).max(64.0);
    [x - m, y - m, x + w + m, y + h + m]
}

/// Reused buffers of [`add_ring`].
#[derive(Default)]
struct RingBuffers {
    projected: Vec<(f64, f64)>,
    clipped: Vec<(f64, f64)>,
    pts: Vec<(f32, f32)>,
}

/// Adds one ring in PNG pixels, cut to `keep` (see [`keep_box`]), dropping points that repeat
/// at 1/16 px; rings of fewer than 3 distinct points are left out.
fn add_ring(
    pb: &mut PathBuilder,
    ring: &geo_types::LineString<f64>,
    view: &MapView,
    scale: f64,
    keep: [f64; 4],
    buf: &mut RingBuffers,
) {
    buf.projected.clear();
    buf.projected.extend(ring.0.iter().map(|c| {
        let (x, y) = view.project(c.x, c.y);
        (x * scale, y * scale)
    }));
    let [x0, y0, x1, y1] = keep;
    let inside = |&(x, y): &(f64, f64)| x >= x0 && x <= x1 && y >= y0 && y <= y1;
    if !buf.projected.iter().all(inside) {
        clip_ring(&mut buf.projected, &mut buf.clipped, keep);
    }
    let pts = &mut buf.pts;
    pts.clear();
    for &(x, y) in &buf.projected {
        let p = (x as f32, y as f32);
        if !(p.0.is_finite() && p.1.is_finite()) {
            continue;
        }
        if pts
            .last()
            .is_none_or(|q| (q.0 - p.0).abs() > 0.0625 || (q.1 - p.1).abs() > 0.0625)
        {
            pts.push(p);
        }
    }
    if pts.len() < 3 {
        return;
    }
    pb.move_to(pts[0].0, pts[0].1);
    for p in &pts[1..] {
        pb.line_to(p.0, p.1);
    }
    pb.close();
}

/// Cuts a closed ring to an axis-aligned box, in place (Sutherland-Hodgman, one box side at a
/// time). Inside the box the filled area is the ring's own, for holes and concave rings too;
/// the edges it adds run along the box sides. Hand-written: the boolean operations of `geo`
/// would do it at many times the cost, for every ring of every frame.
fn clip_ring(
    ring: &mut Vec<(f64, f64)>,
    scratch: &mut Vec<(f64, f64)>,
    [x0, y0, x1, y1]: [f64; 4],
) {
    // (inside test, intersection with the side) for the four sides.
    let cut_x =
        |a: (f64, f64), b: (f64, f64), x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
    let cut_y =
        |a: (f64, f64), b: (f64, f64), y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
    type Side<'a> = (
        &'a dyn Fn((f64, f64)) -> bool,
        &'a dyn Fn((f64, f64), (f64, f64)) -> (f64, f64),
    );
    let sides: [Side<'_>; 4] = [
        (&|p| p.0 >= x0, &|a, b| cut_x(a, b, x0)),
        (&|p| p.0 <= x1, &|a, b| cut_x(a, b, x1)),
        (&|p| p.1 >= y0, &|a, b| cut_y(a, b, y0)),
        (&|p| p.1 <= y1, &|a, b| cut_y(a, b, y1)),
    ];
    for (inside, cut) in sides {
        scratch.clear();
        let Some(&last) = ring.last() else { return };
        let mut prev = last;
        for &cur in ring.iter() {
            match (inside(prev), inside(cur)) {
                (true, true) => scratch.push(cur),
                (true, false) => scratch.push(cut(prev, cur)),
                (false, true) => {
                    scratch.push(cut(prev, cur));
                    scratch.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
        std::mem::swap(ring, scratch);
    }
}

fn clip_mask(pixmap: &Pixmap, clip: Rect, scale: f64, shift: Transform) -> Option<Mask> {
    let mut mask = Mask::new(pixmap.width(), pixmap.height())?;
    let rect = to_skia_rect(clip, scale)?;
    let path = PathBuilder::from_rect(rect);
    mask.fill_path(&path, FillRule::Winding, true, shift);
    Some(mask)
}

fn to_skia_rect(r: Rect, scale: f64) -> Option<tiny_skia::Rect> {
    tiny_skia::Rect::from_xywh(
        (r.x * scale) as f32,
        (r.y * scale) as f32,
        (r.width * scale) as f32,
        (r.height * scale) as f32,
    )
}

fn solid(c: Rgba) -> Paint<'static> {
    Paint {
        shader: Shader::SolidColor(to_color(c)),
        anti_alias: true,
        ..Paint::default()
    }
}

fn to_color(c: Rgba) -> Color {
    Color::from_rgba8(c.0, c.1, c.2, c.3)
}

/// One period of the no-data hatch at `px_per_unit` PNG pixels per layout unit: "/" lines of
/// the hatch grey on the no-data grey, as the SVG pattern draws them.
fn hatch_pixmap(px_per_unit: f64) -> Option<Pixmap> {
    let n = (f64::from(NO_DATA_STYLE.hatch_period_px) * px_per_unit)
        .round()
        .max(3.0) as u32;
    let thick = (f64::from(NO_DATA_STYLE.hatch_width_px) * px_per_unit)
        .round()
        .clamp(1.0, f64::from(n - 1)) as u32;
    let premultiplied = |c: crate::palette::Rgb| {
        PremultipliedColorU8::from_rgba(c.r, c.g, c.b, 255)
            .unwrap_or(PremultipliedColorU8::TRANSPARENT)
    };
    let (bg, line) = (
        premultiplied(NO_DATA_STYLE.fill),
        premultiplied(NO_DATA_STYLE.hatch),
    );
    let mut p = Pixmap::new(n, n)?;
    for (i, px) in p.pixels_mut().iter_mut().enumerate() {
        let (x, y) = (i as u32 % n, i as u32 / n);
        *px = if (x + y) % n < thick { line } else { bg };
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hatch_has_both_greys() {
        let p = hatch_pixmap(1.0).expect("hatch");
        assert_eq!(p.width(), 6);
        let line = p.pixel(0, 0).map(tiny_skia::PremultipliedColorU8::red);
        let bg = p.pixel(2, 0).map(tiny_skia::PremultipliedColorU8::red);
        assert_eq!(line, Some(NO_DATA_STYLE.hatch.r));
        assert_eq!(bg, Some(NO_DATA_STYLE.fill.r));
        assert_eq!(hatch_pixmap(3.0).map(|p| p.width()), Some(18));
    }

    fn area(ring: &[(f64, f64)]) -> f64 {
        let n = ring.len();
        (0..n)
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            .abs()
            / 2.0
    }

    #[test]
    fn rings_are_cut_to_the_box_keeping_the_area_inside_it() {
        let mut scratch = Vec::new();
        // A square a billion pixels across around the box becomes the box.
        let mut ring = vec![
            (-1e9, -1e9),
            (1e9, -1e9),
            (1e9, 1e9),
            (-1e9, 1e9),
            (-1e9, -1e9),
        ];
        clip_ring(&mut ring, &mut scratch, [0.0, 0.0, 10.0, 20.0]);
        assert!(
            ring.iter()
                .all(|p| (0.0..=10.0).contains(&p.0) && (0.0..=20.0).contains(&p.1))
        );
        assert!((area(&ring) - 200.0).abs() < 1e-6, "{ring:?}");
        // A triangle half inside keeps its inside half.
        let mut ring = vec![(-10.0, 0.0), (10.0, 0.0), (10.0, 20.0), (-10.0, 0.0)];
        clip_ring(&mut ring, &mut scratch, [0.0, 0.0, 100.0, 100.0]);
        assert!((area(&ring) - 150.0).abs() < 1e-9, "{ring:?}");
        // A ring wholly outside vanishes.
        let mut ring = vec![(200.0, 0.0), (300.0, 0.0), (300.0, 50.0), (200.0, 0.0)];
        clip_ring(&mut ring, &mut scratch, [0.0, 0.0, 100.0, 100.0]);
        assert!(ring.is_empty());
    }
}
