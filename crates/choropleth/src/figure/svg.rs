//! Writing a figure as SVG: the whole document, or only its "overlay" (text, legend, frames and
//! labels) which the PNG renderer draws through resvg on top of the polygons it fills itself.
//!
//! Paths are written by hand rather than through an SVG crate: coordinates are rounded to 0.1 px
//! and written relative ("l") in tenths, repeated points after rounding dropped, which keeps a
//! 32,844-district SVG a few megabytes; districts sharing a fill are grouped under one `<g fill>`.

use std::fmt::Write as _;

use geo_types::LineString;

use super::layout::{INSET_LABEL, LABEL_SIZE, MapView, TextLine, inset_label_baseline};
use super::{Figure, Fill, Prepared, Rect, Rgba};
use crate::legend::{FONT_FAMILY, escape_xml as escape};
use crate::palette::NO_DATA_STYLE;

/// Which part of the figure to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    /// The complete standalone document.
    Everything,
    /// Everything but the page background, the inset background and the district polygons and
    /// their highlight outlines (the PNG renderer draws those directly).
    Overlay,
}

/// Colour of highlight outlines and labels.
pub(super) const HIGHLIGHT: Rgba = Rgba(0x1a, 0x1a, 0x1a, 255);
/// Highlight outline width, units.
pub(super) const HIGHLIGHT_WIDTH: f64 = 2.0;
/// Width (px) of the stroke in each district's own colour that closes anti-aliasing seams
/// between neighbours when there are no boundary lines.
pub(super) const SEAL_WIDTH: f64 = 0.5;
/// Frame colour around the map and the inset.
const FRAME: &str = "#a6a6a6";

/// How many district paths are written between two looks at the cancel flag.
const CHECK_EVERY: usize = 256;

/// The SVG of `part` of `fig`; `None` once `cancelled()` turned true (looked at every
/// [`CHECK_EVERY`] district paths: a map of 32,844 LSOAs is tens of megabytes of path data).
pub(super) fn write(fig: &Figure<'_>, part: Part, cancelled: &dyn Fn() -> bool) -> Option<String> {
    let l = &fig.layout;
    let u = l.unit;
    let everything = part == Part::Everything;
    let mut s = String::with_capacity(if everything {
        4096 + fig.districts.len() * 160
    } else {
        4096
    });
    // A figure is an image to assistive technology, named by its title and described by its
    // description.
    let has_title = everything && !fig.options.title.is_empty();
    let has_desc = everything && !fig.options.description.is_empty();
    let labelled = match (has_title, has_desc) {
        (true, true) => r#" role="img" aria-labelledby="pm-title pm-desc""#,
        (true, false) => r#" role="img" aria-labelledby="pm-title""#,
        (false, true) => r#" role="img" aria-labelledby="pm-desc""#,
        (false, false) => "",
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}"{labelled}>"#,
        w = l.width,
        h = l.height,
    );
    if has_title {
        let _ = write!(
            s,
            r#"<title id="pm-title">{}</title>"#,
            escape(&fig.options.title)
        );
    }
    if has_desc {
        let _ = write!(
            s,
            r#"<desc id="pm-desc">{}</desc>"#,
            escape(&fig.options.description)
        );
    }
    // Defs: the no-data hatch (as the legend's, scaled with the page) and the clips.
    let period = f64::from(NO_DATA_STYLE.hatch_period_px) * u;
    let _ = write!(
        s,
        r#"<defs><pattern id="pm-hatch" patternUnits="userSpaceOnUse" width="{p:.2}" height="{p:.2}" patternTransform="rotate({a})"><rect width="{p:.2}" height="{p:.2}" fill="{bg}"/><line x1="0" y1="0" x2="0" y2="{p:.2}" stroke="{fg}" stroke-width="{lw:.2}"/></pattern>"#,
        p = period,
        a = 90.0 - NO_DATA_STYLE.hatch_angle_deg,
        bg = NO_DATA_STYLE.fill.to_hex(),
        fg = NO_DATA_STYLE.hatch.to_hex(),
        lw = f64::from(NO_DATA_STYLE.hatch_width_px) * 2.0 * u,
    );
    if everything {
        clip_path(&mut s, "pm-map-clip", fig.main.clip);
        if let Some((view, _)) = &fig.inset {
            clip_path(&mut s, "pm-inset-clip", view.clip);
        }
    }
    s.push_str("</defs>");

    if everything {
        let _ = write!(
            s,
            r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
            l.width, l.height
        );
        if !map_group(
            &mut s,
            fig,
            &fig.main,
            ("pm-map-clip", "d"),
            |_| true,
            cancelled,
        ) {
            return None;
        }
    }

    // The London inset: background, districts, frame and label; and where it is on the map.
    if let (Some((view, london)), Some(rect)) = (&fig.inset, l.inset) {
        let (x0, y0) = fig.main.project(london.min_x, london.max_y);
        let (x1, y1) = fig.main.project(london.max_x, london.min_y);
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{FRAME}" stroke-width="{:.2}"/>"#,
            x0,
            y0,
            x1 - x0,
            y1 - y0,
            0.8 * u
        );
        if everything {
            let _ = write!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#ffffff"/>"##,
                rect.x, rect.y, rect.width, rect.height
            );
            let inset = |d: &Prepared<'_>| d.district.in_london;
            if !map_group(&mut s, fig, view, ("pm-inset-clip", "i"), inset, cancelled) {
                return None;
            }
        }
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{FRAME}" stroke-width="{:.2}"/>"#,
            rect.x,
            rect.y,
            rect.width,
            rect.height,
            0.8 * u
        );
        let (lx, ly) = inset_label_baseline(rect, u);
        text(
            &mut s,
            &TextLine {
                x: lx,
                y: ly,
                size: (INSET_LABEL * u).max(super::layout::MIN_TEXT_PX),
                text: "London".to_string(),
            },
            "#1a1a1a",
            "start",
            true,
        );
    }

    labels(&mut s, fig);

    if fig.options.frame {
        let m = l.map;
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{FRAME}" stroke-width="{:.2}"/>"#,
            m.x,
            m.y,
            m.width,
            m.height,
            0.8 * u
        );
    }

    legend(&mut s, fig);

    for line in &l.title {
        text(&mut s, line, "#1a1a1a", "start", true);
    }
    for line in &l.subtitle {
        text(&mut s, line, "#4d4d4d", "start", false);
    }
    if let Some(y) = l.credit_rule_y {
        let pad = l.credit.first().map_or(0.0, |c| c.x);
        let _ = write!(
            s,
            r##"<line x1="{pad:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#d9d9d9" stroke-width="{:.2}"/>"##,
            l.width - pad,
            0.8 * u
        );
    }
    for line in &l.credit {
        text(&mut s, line, "#666666", "start", false);
    }
    s.push_str("</svg>\n");
    Some(s)
}

fn clip_path(s: &mut String, id: &str, r: Rect) {
    let _ = write!(
        s,
        r#"<clipPath id="{id}"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/></clipPath>"#,
        r.x, r.y, r.width, r.height
    );
}

/// The districts `wanted` through `view`: grouped by fill, outlined, highlighted ones
/// outlined again on top through `<use>` (so each district stays one `<path>`); `false` when
/// `cancelled()` stopped it.
fn map_group(
    s: &mut String,
    fig: &Figure<'_>,
    view: &MapView,
    (clip, id_prefix): (&str, &str),
    wanted: impl Fn(&Prepared<'_>) -> bool,
    cancelled: &dyn Fn() -> bool,
) -> bool {
    let u = fig.layout.unit;
    let _ = write!(s, r#"<g clip-path="url(#{clip})" fill-rule="evenodd""#);
    if let Some((colour, width)) = fig.outline {
        let _ = write!(
            s,
            r#" stroke="{}" stroke-width="{:.2}" stroke-linejoin="round""#,
            hex(colour),
            width
        );
        if colour.3 < 255 {
            let _ = write!(s, r#" stroke-opacity="{:.3}""#, f64::from(colour.3) / 255.0);
        }
    }
    s.push('>');

    // Fills in order of first appearance, each with its districts in the caller's order.
    let mut fills: Vec<Fill> = Vec::new();
    for d in fig.districts.iter().filter(|d| wanted(d)) {
        if !fills.contains(&d.district.fill) {
            fills.push(d.district.fill);
        }
    }
    let mut highlighted = Vec::new();
    let mut written = 0usize;
    for fill in fills {
        match fill {
            Fill::Solid(c) => {
                let _ = write!(s, r#"<g fill="{}""#, hex(c));
                if fig.outline.is_none() {
                    let _ = write!(s, r#" stroke="{}" stroke-width="{SEAL_WIDTH}""#, hex(c));
                }
                if c.3 < 255 {
                    let _ = write!(s, r#" fill-opacity="{:.3}""#, f64::from(c.3) / 255.0);
                }
                s.push('>');
            }
            Fill::NoData => s.push_str(r#"<g fill="url(#pm-hatch)">"#),
        }
        for d in fig
            .districts
            .iter()
            .filter(|d| d.district.fill == fill && wanted(d))
        {
            written += 1;
            if written.is_multiple_of(CHECK_EVERY) && cancelled() {
                return false;
            }
            s.push_str("<path");
            if d.district.highlight {
                let _ = write!(s, r#" id="pm-{id_prefix}{}""#, d.index);
                highlighted.push(d.index);
            }
            s.push_str(r#" d=""#);
            for poly in &d.district.geometry.0 {
                ring(s, poly.exterior(), view);
                for hole in poly.interiors() {
                    ring(s, hole, view);
                }
            }
            s.push_str(r#""/>"#);
        }
        s.push_str("</g>");
    }
    if !highlighted.is_empty() {
        let _ = write!(
            s,
            r#"<g fill="none" stroke="{}" stroke-width="{:.2}" stroke-linejoin="round">"#,
            hex(HIGHLIGHT),
            HIGHLIGHT_WIDTH * u
        );
        for i in highlighted {
            let _ = write!(s, r##"<use xlink:href="#pm-{id_prefix}{i}"/>"##);
        }
        s.push_str("</g>");
    }
    s.push_str("</g>");
    true
}

/// One ring as path data: absolute move, then relative lines in tenths of a pixel; rings that
/// collapse to fewer than 3 distinct points at this resolution are left out.
fn ring(s: &mut String, ring: &LineString<f64>, view: &MapView) {
    let mut pts: Vec<(i64, i64)> = Vec::with_capacity(ring.0.len());
    for c in &ring.0 {
        let (x, y) = view.project(c.x, c.y);
        let p = ((x * 10.0).round() as i64, (y * 10.0).round() as i64);
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return;
    }
    s.push('M');
    tenths(s, pts[0].0);
    s.push(' ');
    tenths(s, pts[0].1);
    s.push('l');
    let mut first = true;
    for w in pts.windows(2) {
        let (dx, dy) = (w[1].0 - w[0].0, w[1].1 - w[0].1);
        if !first && dx >= 0 {
            s.push(' ');
        }
        tenths(s, dx);
        if dy >= 0 {
            s.push(' ');
        }
        tenths(s, dy);
        first = false;
    }
    s.push('z');
}

/// Writes `v / 10` with at most one decimal: `-12` -> `-1.2`, `30` -> `3`, `5` -> `.5`.
fn tenths(s: &mut String, v: i64) {
    if v < 0 {
        s.push('-');
    }
    let a = v.unsigned_abs();
    let (int, frac) = (a / 10, a % 10);
    if int > 0 || frac == 0 {
        let _ = write!(s, "{int}");
    }
    if frac > 0 {
        s.push('.');
        s.push(char::from(b'0' + frac as u8));
    }
}

/// Names of labelled districts at an interior point, dark bold with a white halo, kept inside
/// the map box.
fn labels(s: &mut String, fig: &Figure<'_>) {
    let u = fig.layout.unit;
    let size = (LABEL_SIZE * u).max(super::layout::MIN_TEXT_PX);
    let map = fig.layout.map;
    let mut any = false;
    for d in &fig.districts {
        let (Some(label), Some((mx, my))) = (d.district.label, d.label_at) else {
            continue;
        };
        let label = label.trim();
        let (x, y) = fig.main.project(mx, my);
        if label.is_empty() || !map.contains(x, y) {
            continue;
        }
        if !any {
            let _ = write!(
                s,
                r##"<g font-size="{size:.1}" font-weight="bold" fill="{}" stroke="#ffffff" stroke-width="{:.2}" stroke-linejoin="round" paint-order="stroke" text-anchor="middle">"##,
                hex(HIGHLIGHT),
                3.0 * u
            );
            any = true;
        }
        let half = super::layout::text_width(label, size, true) / 2.0 + 3.0 * u;
        let x = if map.width > 2.0 * half {
            x.clamp(map.x + half, map.x + map.width - half)
        } else {
            x
        };
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}">{}</text>"#,
            y + size * 0.35,
            escape(label)
        );
    }
    if any {
        s.push_str("</g>");
    }
}

fn legend(s: &mut String, fig: &Figure<'_>) {
    let l = &fig.layout;
    let u = l.unit;
    text(s, &l.legend_heading, "#1a1a1a", "start", true);
    text(s, &l.legend_scheme, "#666666", "start", false);
    text(s, &l.legend_count_heading, "#666666", "end", false);
    let colours = fig
        .legend
        .entries
        .iter()
        .map(|e| e.color.to_hex())
        .chain(std::iter::once("url(#pm-hatch)".to_string()));
    for (row, fill) in l.legend_rows.iter().zip(colours) {
        let r = row.swatch;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="#8c8c8c" stroke-width="{:.2}"/>"##,
            r.x,
            r.y,
            r.width,
            r.height,
            0.5 * u
        );
        text(s, &row.label, "#1a1a1a", "start", false);
        text(s, &row.count, "#666666", "end", false);
    }
}

fn text(s: &mut String, t: &TextLine, fill: &str, anchor: &str, bold: bool) {
    if t.text.is_empty() {
        return;
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="{fill}""#,
        t.x, t.y, t.size
    );
    if anchor != "start" {
        let _ = write!(s, r#" text-anchor="{anchor}""#);
    }
    if bold {
        s.push_str(r#" font-weight="bold""#);
    }
    let _ = write!(s, ">{}</text>", escape(&t.text));
}

fn hex(c: Rgba) -> String {
    c.to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_are_short() {
        let mut s = String::new();
        for v in [0, 5, -5, 30, -12, 1234] {
            tenths(&mut s, v);
            s.push(',');
        }
        assert_eq!(s, "0,.5,-.5,3,-1.2,123.4,");
    }
}
