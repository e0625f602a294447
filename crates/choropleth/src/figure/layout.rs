//! Page layout of a figure: where the title, subtitle, map, legend, London inset and credit go,
//! with text measured from the shipped DejaVu Sans metrics (so wrapping matches what resvg draws),
//! and the north-up map projection into the map box.

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use tile_math::Bounds;

use super::{FigureError, FigureOptions, InsetCorner, Rect};
use crate::legend::{FONT, Legend};

/// DejaVu Sans Bold, for the title and headings (same release and licence as the regular face).
pub(super) const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Width of `text` set in DejaVu Sans (bold or regular) at `size` px: the sum of the glyph
/// advances. Kerning is ignored; DejaVu's is slight, and every wrap keeps a little slack.
pub(crate) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let data = if bold { FONT_BOLD } else { FONT };
    let Ok(font) = FontRef::new(data) else {
        // The fonts are compiled in and known good; estimate rather than fail.
        return text.chars().count() as f64 * size * 0.62;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size as f32), LocationRef::default());
    text.chars()
        .map(|c| {
            charmap
                .map(c)
                .and_then(|g| metrics.advance_width(g))
                .map_or(size * 0.62, f64::from)
        })
        .sum()
}

/// Greedy word wrap to lines at most `max_width` px wide (a longer single word stays whole).
pub(crate) fn wrap(text: &str, max_width: f64, size: f64, bold: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() {
            let candidate = format!("{line} {word}");
            if text_width(&candidate, size, bold) > max_width {
                lines.push(std::mem::take(&mut line));
            } else {
                line = candidate;
                continue;
            }
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line of text placed on the page: baseline-left (or right/middle per `anchor`) position.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TextLine {
    pub x: f64,
    pub y: f64,
    pub size: f64,
    pub text: String,
}

/// One legend row: swatch box, label and count positions.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct LegendRow {
    /// Swatch rectangle.
    pub swatch: Rect,
    /// Label, left aligned after the swatch.
    pub label: TextLine,
    /// Count, right aligned at the legend's right edge.
    pub count: TextLine,
}

/// Everything's place on the page, in SVG px.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// Typographic unit: 1 at 800 px, growing with the figure so text keeps its proportion.
    pub unit: f64,
    pub width: f64,
    pub height: f64,
    pub title: Vec<TextLine>,
    pub subtitle: Vec<TextLine>,
    pub credit: Vec<TextLine>,
    /// Thin rule above the credit: y position.
    pub credit_rule_y: Option<f64>,
    /// The map box (frame, clip).
    pub map: Rect,
    /// The box the extent is fitted into (the map box less a small margin).
    pub map_inner: Rect,
    /// The legend's box.
    pub legend_box: Rect,
    pub legend_heading: TextLine,
    pub legend_scheme: TextLine,
    pub legend_count_heading: TextLine,
    pub legend_rows: Vec<LegendRow>,
    /// The London inset's box, once decided.
    pub inset: Option<Rect>,
}

// Sizes in units (1 unit = 1 px on an 800 px figure).
const PAD: f64 = 18.0;
const TITLE: f64 = 21.0;
const SUBTITLE: f64 = 13.5;
const CREDIT: f64 = 9.5;
const LEGEND_HEADING: f64 = 12.5;
const LEGEND_SMALL: f64 = 10.0;
const LEGEND_LABEL: f64 = 11.5;
const SWATCH_W: f64 = 24.0;
const SWATCH_H: f64 = 15.0;
const ROW: f64 = 21.0;
/// Gap between the map and the legend.
const GAP: f64 = 16.0;
/// Smallest map box, px, below which the layout is refused.
const MIN_MAP_PX: f64 = 60.0;
/// Smallest text on a figure of any size, px: credits and the legend's small print stay
/// readable on small figures (they were 7 px high at 800 x 600).
pub const MIN_TEXT_PX: f64 = 10.0;
/// Label and count font sizes are shared with the SVG writer.
pub(super) const LABEL_SIZE: f64 = 11.0;
pub(super) const INSET_LABEL: f64 = 11.0;

impl Layout {
    pub(super) fn new(options: &FigureOptions, legend: &Legend) -> Result<Layout, FigureError> {
        let (w, h) = (f64::from(options.width), f64::from(options.height));
        let u = (w.min(h) / 800.0).clamp(0.6, 2.5);
        let pad = PAD * u;
        let text_box = w - 2.0 * pad;

        let mut y = pad;
        let mut place = |text: &str, size: f64, bold: bool, gap_after: f64| {
            let lines: Vec<TextLine> = wrap(text, text_box, size, bold)
                .into_iter()
                .map(|line| {
                    y += size;
                    let l = TextLine {
                        x: pad,
                        y,
                        size,
                        text: line,
                    };
                    y += size * 0.3;
                    l
                })
                .collect();
            if !lines.is_empty() {
                y += gap_after;
            }
            lines
        };
        // Text scales with the figure but never below a readable size.
        let sized = |base: f64, min: f64| (base * u).max(min);
        let title = place(&options.title, sized(TITLE, 16.0), true, 4.0 * u);
        let subtitle = place(&options.subtitle, sized(SUBTITLE, 12.0), false, 0.0);
        let header_bottom = y + 12.0 * u;

        let credit_size = sized(CREDIT, MIN_TEXT_PX);
        let credit_lines = wrap(&options.credit, text_box, credit_size, false);
        let line_h = credit_size * 1.35;
        let credit_top = h - pad - credit_lines.len() as f64 * line_h;
        let credit: Vec<TextLine> = credit_lines
            .into_iter()
            .enumerate()
            .map(|(i, text)| TextLine {
                x: pad,
                y: credit_top + (i as f64 + 1.0) * line_h - credit_size * 0.3,
                size: credit_size,
                text,
            })
            .collect();
        let credit_rule_y = (!credit.is_empty()).then_some(credit_top - 6.0 * u);
        let map_bottom = credit_rule_y.unwrap_or(h - pad) - 10.0 * u;

        // Legend texts and widths.
        let heading_text = legend_heading(options, legend);
        let scheme_text = scheme_description(&legend.scheme);
        let rows: Vec<(&str, String)> = legend
            .entries
            .iter()
            .map(|e| (e.label.as_str(), group(e.count)))
            .chain(std::iter::once((
                legend.no_data.label.as_str(),
                group(legend.no_data.count),
            )))
            .collect();
        let label_size = sized(LEGEND_LABEL, 11.0);
        let small = sized(LEGEND_SMALL, MIN_TEXT_PX);
        let heading_size = sized(LEGEND_HEADING, 12.0);
        // Rows and swatches grow with their text when the text is held at its minimum.
        let row_h = (ROW * u).max(label_size * 1.7);
        let swatch_h = (SWATCH_H * u).max(label_size * 1.25);
        let label_w = rows
            .iter()
            .map(|(l, _)| text_width(l, label_size, false))
            .fold(0.0, f64::max);
        let count_w = rows
            .iter()
            .map(|(_, c)| text_width(c, label_size, false))
            .chain(std::iter::once(text_width("Areas", small, false)))
            .fold(0.0, f64::max);
        let rows_w = SWATCH_W * u + 8.0 * u + label_w + 14.0 * u + count_w;
        let heading_w = text_width(&heading_text, heading_size, true)
            .max(text_width(&scheme_text, small, false) + 10.0 * u + count_w);
        let legend_w = rows_w.max(heading_w).min(0.4 * w).ceil();

        let map = Rect {
            x: pad,
            y: header_bottom,
            width: w - 2.0 * pad - legend_w - GAP * u,
            height: map_bottom - header_bottom,
        };
        if map.width < MIN_MAP_PX || map.height < MIN_MAP_PX {
            return Err(FigureError::NoRoomForMap {
                width: map.width,
                height: map.height,
            });
        }
        let margin = 8.0 * u;
        let map_inner = Rect {
            x: map.x + margin,
            y: map.y + margin,
            width: map.width - 2.0 * margin,
            height: map.height - 2.0 * margin,
        };

        let lx = w - pad - legend_w;
        let right = w - pad;
        let mut ly = header_bottom + heading_size;
        let legend_heading = TextLine {
            x: lx,
            y: ly,
            size: heading_size,
            text: heading_text,
        };
        ly += 6.0 * u + small;
        let legend_scheme = TextLine {
            x: lx,
            y: ly,
            size: small,
            text: scheme_text,
        };
        let legend_count_heading = TextLine {
            x: right,
            y: ly,
            size: small,
            text: "Areas".to_string(),
        };
        ly += 8.0 * u;
        let legend_rows: Vec<LegendRow> = rows
            .into_iter()
            .map(|(label, count)| {
                let top = ly;
                ly += row_h;
                let baseline = top + swatch_h - 3.0 * u;
                LegendRow {
                    swatch: Rect {
                        x: lx,
                        y: top,
                        width: SWATCH_W * u,
                        height: swatch_h,
                    },
                    label: TextLine {
                        x: lx + SWATCH_W * u + 8.0 * u,
                        y: baseline,
                        size: label_size,
                        text: label.to_string(),
                    },
                    count: TextLine {
                        x: right,
                        y: baseline,
                        size: label_size,
                        text: count,
                    },
                }
            })
            .collect();
        let legend_box = Rect {
            x: lx,
            y: header_bottom,
            width: legend_w,
            height: ly - header_bottom,
        };

        Ok(Layout {
            unit: u,
            width: w,
            height: h,
            title,
            subtitle,
            credit,
            credit_rule_y,
            map,
            map_inner,
            legend_box,
            legend_heading,
            legend_scheme,
            legend_count_heading,
            legend_rows,
            inset: None,
        })
    }

    /// The inset box in `corner` of the map for content of aspect ratio `aspect` (width/height):
    /// at most 36% of the map's width and 42% of its height, with a strip on top for its label.
    pub(super) fn inset_rect(&self, corner: InsetCorner, aspect: f64) -> Rect {
        let u = self.unit;
        let m = 8.0 * u;
        let content_w = (0.36 * self.map.width).min(0.42 * self.map.height * aspect);
        let content_h = content_w / aspect;
        let (width, height) = (
            content_w + 2.0 * INSET_PAD * u,
            content_h + INSET_STRIP * u + INSET_PAD * u,
        );
        let left = self.map.x + m;
        let right = self.map.x + self.map.width - m - width;
        let top = self.map.y + m;
        let bottom = self.map.y + self.map.height - m - height;
        let (x, y) = match corner {
            InsetCorner::TopRight => (right, top),
            InsetCorner::TopLeft => (left, top),
            InsetCorner::BottomLeft => (left, bottom),
            InsetCorner::BottomRight => (right, bottom),
        };
        Rect {
            x,
            y,
            width,
            height,
        }
    }
}

/// Padding inside the inset box, units.
const INSET_PAD: f64 = 5.0;
/// Height of the inset's label strip, units.
const INSET_STRIP: f64 = 18.0;

/// The part of an inset box the map is drawn into (below the label strip).
pub(super) fn inset_content(rect: Rect, u: f64) -> Rect {
    Rect {
        x: rect.x + INSET_PAD * u,
        y: rect.y + INSET_STRIP * u,
        width: rect.width - 2.0 * INSET_PAD * u,
        height: rect.height - INSET_STRIP * u - INSET_PAD * u,
    }
}

/// Baseline of the inset's label.
pub(super) fn inset_label_baseline(rect: Rect, u: f64) -> (f64, f64) {
    (rect.x + INSET_PAD * u, rect.y + 13.0 * u)
}

fn legend_heading(options: &FigureOptions, legend: &Legend) -> String {
    if let Some(t) = options
        .legend_title
        .as_ref()
        .filter(|t| !t.trim().is_empty())
    {
        return t.clone();
    }
    let unit = legend.unit.trim();
    let mut chars = unit.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Classes".to_string(),
    }
}

/// How the classes were made, in words for readers of a report.
fn scheme_description(scheme: &str) -> String {
    match scheme {
        "quantile" => "Quantiles".to_string(),
        "equal" => "Equal intervals".to_string(),
        "jenks" => "Natural breaks (Jenks)".to_string(),
        "stddev" => "Standard deviations".to_string(),
        "manual" => "Manual breaks".to_string(),
        other => other.to_string(),
    }
}

/// A count with thousands separators (`32,844`).
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// North-up Web Mercator to page px: a uniform scale and a centre, drawing into `clip`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct MapView {
    /// Page px per metre.
    pub scale: f64,
    centre_x: f64,
    centre_y: f64,
    page_x: f64,
    page_y: f64,
    /// What the view may paint (the map box, or the inset's content box).
    pub clip: Rect,
}

impl MapView {
    /// Fits `extent` into `rect` (whole extent visible, centred), painting within `rect`.
    pub(super) fn fit(extent: Bounds, rect: Rect) -> MapView {
        let scale = (rect.width / extent.width()).min(rect.height / extent.height());
        MapView {
            scale,
            centre_x: (extent.min_x + extent.max_x) / 2.0,
            centre_y: (extent.min_y + extent.max_y) / 2.0,
            page_x: rect.x + rect.width / 2.0,
            page_y: rect.y + rect.height / 2.0,
            clip: rect,
        }
    }

    /// Same projection, painting within `clip` instead (e.g. the whole map box around the
    /// fitted extent).
    pub(super) fn with_clip(mut self, clip: Rect) -> MapView {
        self.clip = clip;
        self
    }

    pub(super) fn project(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.page_x + (x - self.centre_x) * self.scale,
            self.page_y - (y - self.centre_y) * self.scale,
        )
    }

    /// The Mercator box seen through `clip`.
    pub(super) fn visible(&self) -> Bounds {
        let to_x = |px: f64| self.centre_x + (px - self.page_x) / self.scale;
        let to_y = |py: f64| self.centre_y - (py - self.page_y) / self.scale;
        Bounds {
            min_x: to_x(self.clip.x),
            max_x: to_x(self.clip.x + self.clip.width),
            min_y: to_y(self.clip.y + self.clip.height),
            max_y: to_y(self.clip.y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_text_grows_with_length_and_weight() {
        let a = text_width("Hartlepool", 12.0, false);
        assert!(a > 50.0 && a < 80.0, "{a}");
        assert!(text_width("Hartlepool", 12.0, true) > a);
        assert_eq!(text_width("", 12.0, false), 0.0);
    }

    #[test]
    fn wrapping_respects_width() {
        let text = "Source: MHCLG, English indices of deprivation 2019. Contains OS data";
        let lines = wrap(text, 150.0, 10.0, false);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= 150.0));
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn view_is_north_up_and_round_trips() {
        let r = Rect {
            x: 10.0,
            y: 20.0,
            width: 200.0,
            height: 100.0,
        };
        let v = MapView::fit(
            Bounds {
                min_x: 0.0,
                min_y: 0.0,
                max_x: 100.0,
                max_y: 100.0,
            },
            r,
        );
        assert_eq!(v.scale, 1.0);
        assert_eq!(v.project(50.0, 50.0), (110.0, 70.0));
        assert!(v.project(50.0, 100.0).1 < v.project(50.0, 0.0).1);
        let vis = v.visible();
        assert_eq!(
            (vis.min_x, vis.max_x, vis.min_y, vis.max_y),
            (-50.0, 150.0, 0.0, 100.0)
        );
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(group(32844), "32,844");
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
    }
}
