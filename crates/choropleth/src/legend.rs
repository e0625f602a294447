//! The legend of a choropleth map: a model built from a [`Classification`](crate::classify::Classification) and a [`Palette`](crate::palette::Palette)
//! plus titles, written out as JSON, standalone SVG or PNG.
//!
//! The PNG is drawn by resvg with the DejaVu Sans font shipped in `assets/fonts` (Bitstream Vera
//! licence, see `assets/fonts/LICENSE-DejaVu.txt`), loaded from bytes, so the output is the same
//! on every machine and never depends on system fonts.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use resvg::tiny_skia;
use resvg::usvg;
use serde::Serialize;

use crate::classify::Classification;
use crate::palette::{NO_DATA_STYLE, NoDataStyle, Palette, Rgb};

/// DejaVu Sans, embedded so legend PNGs never depend on system fonts.
pub(crate) const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
/// Family name of [`FONT`], used in the SVG.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans";
/// Largest PNG scale factor accepted (a legend at 8x is already ~2,500 px wide).
pub const MAX_PNG_SCALE: f32 = 8.0;

/// Why a legend could not be built or drawn.
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum LegendError {
    /// The palette has a different number of colours than the classification has classes.
    #[error("palette {palette} has {colors} colours but the classification has {classes} classes")]
    PaletteSize {
        palette: String,
        colors: usize,
        classes: usize,
    },
    /// PNG scale not a finite number in (0, 8].
    #[error("legend scale {0} is out of range; it must be above 0 and at most 8")]
    Scale(f32),
    /// Our own SVG did not parse (a bug, reported rather than panicking).
    #[error("legend SVG could not be parsed: {0}")]
    Svg(#[from] usvg::Error),
    /// The pixmap could not be allocated.
    #[error("cannot allocate a {width}x{height} legend image")]
    Pixmap { width: u32, height: u32 },
    /// PNG encoding failed.
    #[error("legend PNG encoding failed: {0}")]
    Png(String),
    /// JSON serialisation failed.
    #[error("legend JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// How numbers are written in legend labels, from the indicator's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberStyle {
    /// Pounds: `£512`, `£1,234.50`.
    Pounds,
    /// Percentages: `12.5%`.
    Percent,
    /// Ranks and counts: whole numbers with thousands separators, `12,345`.
    Rank,
    /// Plain numbers (the unit is shown under the title): `12.3`.
    Plain,
}

impl NumberStyle {
    /// The style for a catalogue unit: a unit containing `£` gives pounds, `%` or `percent`
    /// percentages, `rank` ranks, anything else plain numbers.
    ///
    /// ```
    /// use choropleth::legend::NumberStyle;
    /// assert_eq!(NumberStyle::for_unit("£ per week"), NumberStyle::Pounds);
    /// assert_eq!(NumberStyle::for_unit("%"), NumberStyle::Percent);
    /// assert_eq!(NumberStyle::for_unit("rank"), NumberStyle::Rank);
    /// assert_eq!(NumberStyle::for_unit("score"), NumberStyle::Plain);
    /// ```
    pub fn for_unit(unit: &str) -> NumberStyle {
        let u = unit.to_ascii_lowercase();
        if unit.contains('£') || u.contains("gbp") {
            NumberStyle::Pounds
        } else if unit.contains('%') || u.contains("percent") {
            NumberStyle::Percent
        } else if u.contains("rank") {
            NumberStyle::Rank
        } else {
            NumberStyle::Plain
        }
    }

    /// Writes `v` with `decimals` decimals (ranks always 0), thousands separators, and the
    /// unit's sign.
    ///
    /// ```
    /// use choropleth::legend::NumberStyle;
    /// assert_eq!(NumberStyle::Pounds.format(512.04, 0), "£512");
    /// assert_eq!(NumberStyle::Percent.format(12.46, 1), "12.5%");
    /// assert_eq!(NumberStyle::Rank.format(12345.0, 2), "12,345");
    /// assert_eq!(NumberStyle::Plain.format(-1234.5, 1), "-1,234.5");
    /// ```
    pub fn format(&self, v: f64, decimals: usize) -> String {
        let decimals = if *self == NumberStyle::Rank {
            0
        } else {
            decimals
        };
        let number = group_thousands(&format!("{v:.decimals$}"));
        match self {
            NumberStyle::Pounds => match number.strip_prefix('-') {
                Some(abs) => format!("-£{abs}"),
                None => format!("£{number}"),
            },
            NumberStyle::Percent => format!("{number}%"),
            NumberStyle::Rank | NumberStyle::Plain => number,
        }
    }
}

/// Puts commas between thousands in a formatted number (`-1234567.25` -> `-1,234,567.25`).
fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // "-0" after rounding a tiny negative number reads oddly; drop the sign.
    let sign = if int.bytes().all(|b| b == b'0') && frac.bytes().all(|b| b == b'0' || b == b'.') {
        ""
    } else {
        sign
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

/// Decimals (0..=4) for labels, chosen from the spread of the bounds: the fewest that keep
/// every pair of different adjacent bounds apart once rounded *and* move no bound by more than
/// 1% of the spread (largest minus smallest bound). So pay in pounds over a range of hundreds is
/// written whole, an employment rate spread over 34 points gets one decimal.
///
/// ```
/// use choropleth::legend::decimals_for;
/// assert_eq!(decimals_for(&[400.0, 512.3, 640.0]), 0);
/// assert_eq!(decimals_for(&[55.8, 70.9, 76.0, 80.5, 89.7]), 1);
/// assert_eq!(decimals_for(&[0.12, 0.125, 0.2]), 3);
/// ```
pub fn decimals_for(bounds: &[f64]) -> usize {
    let lo = bounds.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = bounds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tolerance = (hi - lo) / 100.0;
    let rounded = |v: f64, d: usize| format!("{v:.d$}");
    (0..=4)
        .find(|&d| {
            let distinct = bounds
                .windows(2)
                .filter(|w| w[0] != w[1])
                .all(|w| rounded(w[0], d) != rounded(w[1], d));
            let close = bounds.iter().all(|&b| {
                rounded(b, d)
                    .parse::<f64>()
                    .is_ok_and(|r| (r - b).abs() <= tolerance)
            });
            distinct && close
        })
        .unwrap_or(4)
}

/// Titles and credits shown with the legend.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LegendMeta {
    /// Indicator title, e.g. `Index of Multiple Deprivation: average score`.
    pub title: String,
    /// Period or subtitle, e.g. `2019`; empty for none.
    pub subtitle: String,
    /// Unit from the catalogue (`score`, `£ per week`, `%`, `rank`); decides number style.
    pub unit: String,
    /// Credit line the licence requires, e.g. `Source: MHCLG ... Contains OS data ...`.
    pub source: String,
}

/// One class in the legend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LegendEntry {
    /// Formatted range, `12.3 – 18.7` (upper bound inclusive).
    pub label: String,
    /// Lower end of the class (the previous bound, or the data minimum for the first class).
    pub lower: f64,
    /// Upper bound (inclusive).
    pub upper: f64,
    /// Class colour, serialised as `#rrggbb`.
    pub color: Rgb,
    /// Number of districts in the class.
    pub count: usize,
}

/// The "no data" entry, always present so readers know what the hatch means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoDataEntry {
    /// `No data`.
    pub label: String,
    /// Fill grey, serialised as `#rrggbb`.
    pub color: Rgb,
    /// Hatch style drawn over the grey.
    pub style: NoDataStyle,
    /// Number of districts without a value.
    pub count: usize,
    /// Why, where known (a boundary change the source does not follow), largest group first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub reasons: Vec<NoDataGroup>,
}

/// Districts without a value for one reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoDataGroup {
    /// How many.
    pub count: usize,
    /// Why, to follow the count: "merged in 2023; the source publishes the former districts
    /// only".
    pub reason: String,
    /// The sentence shown: "No data: 4 districts merged in 2023; the source publishes the
    /// former districts only".
    pub text: String,
}

impl NoDataGroup {
    /// A group with its sentence.
    ///
    /// ```
    /// let g = choropleth::legend::NoDataGroup::new(1, "merged in 2023; the source publishes the former districts only");
    /// assert_eq!(g.text, "No data: 1 district merged in 2023; the source publishes the former districts only");
    /// ```
    pub fn new(count: usize, reason: &str) -> Self {
        NoDataGroup {
            count,
            reason: reason.to_string(),
            text: format!(
                "No data: {count} {} {reason}",
                if count == 1 { "district" } else { "districts" }
            ),
        }
    }
}

/// A legend: what each colour means, how many districts it covers, and the credit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Legend {
    /// Indicator title.
    pub title: String,
    /// Period or subtitle (may be empty).
    pub subtitle: String,
    /// Unit from the catalogue.
    pub unit: String,
    /// Classification scheme name (`quantile`, `jenks`, ...).
    pub scheme: String,
    /// Palette name, with `reversed` when flipped.
    pub palette: String,
    /// How numbers are written.
    pub number_style: NumberStyle,
    /// Decimals used in labels.
    pub decimals: usize,
    /// Classes, lowest first.
    pub entries: Vec<LegendEntry>,
    /// The no-data entry.
    pub no_data: NoDataEntry,
    /// Credit line.
    pub source: String,
}

impl Legend {
    /// Builds the legend of `classification` drawn with `palette`.
    ///
    /// ```
    /// use choropleth::classify::{classify, Scheme};
    /// use choropleth::legend::{Legend, LegendMeta};
    /// use choropleth::palette::Palette;
    /// let pay = [Some(480.0), Some(512.4), Some(598.0), Some(700.0), None];
    /// let c = classify(&pay, &Scheme::EqualInterval, 2).unwrap();
    /// let p = Palette::for_indicator(None, 2, false).unwrap();
    /// let meta = LegendMeta { title: "Median weekly pay".into(), subtitle: "2021".into(),
    ///     unit: "£ per week".into(), source: "Source: ONS ASHE".into() };
    /// let legend = Legend::new(&c, &p, meta).unwrap();
    /// assert_eq!(legend.entries[0].label, "£480 – £590");
    /// assert_eq!(legend.entries[1].label, "£590 – £700");
    /// assert_eq!(legend.no_data.count, 1);
    /// ```
    pub fn new(
        classification: &Classification,
        palette: &Palette,
        meta: LegendMeta,
    ) -> Result<Legend, LegendError> {
        let classes = classification.classes();
        if palette.len() != classes {
            return Err(LegendError::PaletteSize {
                palette: palette.name.clone(),
                colors: palette.len(),
                classes,
            });
        }
        let number_style = NumberStyle::for_unit(&meta.unit);
        let ranges: Vec<(f64, f64)> = (0..classes)
            .filter_map(|i| classification.class_range(i))
            .collect();
        let mut bounds = Vec::with_capacity(classes + 1);
        if let Some(&(lower, _)) = ranges.first() {
            bounds.push(lower);
        }
        bounds.extend(ranges.iter().map(|&(_, upper)| upper));
        let decimals = if number_style == NumberStyle::Rank {
            0
        } else {
            decimals_for(&bounds)
        };
        let entries = ranges
            .iter()
            .zip(palette.colors())
            .zip(&classification.counts)
            .map(|((&(lower, upper), color), &count)| {
                let (lo, hi) = (
                    number_style.format(lower, decimals),
                    number_style.format(upper, decimals),
                );
                let label = if lo == hi {
                    hi
                } else {
                    format!("{lo} – {hi}")
                };
                LegendEntry {
                    label,
                    lower,
                    upper,
                    color,
                    count,
                }
            })
            .collect();
        Ok(Legend {
            title: meta.title,
            subtitle: meta.subtitle,
            unit: meta.unit,
            scheme: classification.scheme.name().to_string(),
            palette: if palette.reversed {
                format!("{} (reversed)", palette.name)
            } else {
                palette.name.clone()
            },
            number_style,
            decimals,
            entries,
            no_data: NoDataEntry {
                label: "No data".to_string(),
                color: NO_DATA_STYLE.fill,
                style: NO_DATA_STYLE,
                count: classification.no_data,
                reasons: Vec::new(),
            },
            source: meta.source,
        })
    }

    /// The legend as pretty-printed JSON (colours as `#rrggbb`).
    ///
    /// ```
    /// # use choropleth::classify::{classify, Scheme};
    /// # use choropleth::legend::{Legend, LegendMeta};
    /// # use choropleth::palette::Palette;
    /// # let c = classify(&[Some(1.0), Some(2.0), None], &Scheme::EqualInterval, 2).unwrap();
    /// # let p = Palette::from_name("Blues", 2).unwrap();
    /// let legend = Legend::new(&c, &p, LegendMeta::default()).unwrap();
    /// let json: serde_json::Value = serde_json::from_str(&legend.to_json().unwrap()).unwrap();
    /// assert_eq!(json["no_data"]["label"], "No data");
    /// assert_eq!(json["entries"][0]["color"], "#9ecae1");
    /// ```
    pub fn to_json(&self) -> Result<String, LegendError> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// The legend as a standalone SVG document: title, subtitle and unit, one swatch per class
    /// (lowest first) with its range and count, the hatched no-data swatch, and the credit line
    /// at the bottom. All text is `<text>` in DejaVu Sans, XML-escaped.
    ///
    /// ```
    /// # use choropleth::classify::{classify, Scheme};
    /// # use choropleth::legend::{Legend, LegendMeta};
    /// # use choropleth::palette::Palette;
    /// # let c = classify(&[Some(1.0), Some(2.0), None], &Scheme::EqualInterval, 2).unwrap();
    /// # let p = Palette::from_name("Blues", 2).unwrap();
    /// let meta = LegendMeta { title: "Pay <&> hours".into(), ..Default::default() };
    /// let svg = Legend::new(&c, &p, meta).unwrap().to_svg();
    /// assert!(svg.starts_with("<svg") && svg.contains("Pay &lt;&amp;&gt; hours"));
    /// ```
    pub fn to_svg(&self) -> String {
        let layout = Layout::of(self);
        let mut s = String::new();
        let (w, h) = (layout.width, layout.height);
        // Writing to a String cannot fail; `let _` keeps clippy quiet without unwrap.
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}">"#
        );
        let st = &self.no_data.style;
        let _ = write!(
            s,
            r#"<defs><pattern id="no-data-hatch" patternUnits="userSpaceOnUse" width="{p}" height="{p}" patternTransform="rotate({a})"><rect width="{p}" height="{p}" fill="{bg}"/><line x1="0" y1="0" x2="0" y2="{p}" stroke="{fg}" stroke-width="{lw}"/></pattern></defs>"#,
            p = st.hatch_period_px,
            a = 90.0 - st.hatch_angle_deg,
            bg = st.fill,
            fg = st.hatch,
            lw = st.hatch_width_px * 2.0,
        );
        let _ = write!(s, r##"<rect width="{w}" height="{h}" fill="#ffffff"/>"##);
        let mut y = PAD;
        for line in &layout.title_lines {
            y += TITLE_SIZE;
            text(&mut s, PAD, y, TITLE_SIZE, "#1a1a1a", "start", line);
            y += 3.0;
        }
        if !layout.title_lines.is_empty() {
            y += 3.0;
        }
        for line in &layout.subtitle_lines {
            y += SUB_SIZE;
            text(&mut s, PAD, y, SUB_SIZE, "#4d4d4d", "start", line);
            y += 3.0;
        }
        if !layout.subtitle_lines.is_empty() {
            y += 3.0;
        }
        debug_assert_eq!(
            y,
            heading_height(layout.title_lines.len(), layout.subtitle_lines.len())
        );
        y += 4.0;
        for e in &self.entries {
            swatch(&mut s, y, &e.color.to_hex());
            text(
                &mut s,
                LABEL_X,
                y + SWATCH_H - 3.0,
                LABEL_SIZE,
                "#1a1a1a",
                "start",
                &e.label,
            );
            text(
                &mut s,
                w - PAD,
                y + SWATCH_H - 3.0,
                LABEL_SIZE,
                "#666666",
                "end",
                &e.count.to_string(),
            );
            y += ROW;
        }
        swatch(&mut s, y, "url(#no-data-hatch)");
        text(
            &mut s,
            LABEL_X,
            y + SWATCH_H - 3.0,
            LABEL_SIZE,
            "#1a1a1a",
            "start",
            &self.no_data.label,
        );
        text(
            &mut s,
            w - PAD,
            y + SWATCH_H - 3.0,
            LABEL_SIZE,
            "#666666",
            "end",
            &self.no_data.count.to_string(),
        );
        y += ROW;
        for line in &layout.reason_lines {
            text(
                &mut s,
                LABEL_X,
                y + REASON_SIZE,
                REASON_SIZE,
                "#4d4d4d",
                "start",
                line,
            );
            y += REASON_SIZE + 3.0;
        }
        y += 4.0;
        for line in &layout.credit_lines {
            y += CREDIT_SIZE + 2.0;
            text(&mut s, PAD, y, CREDIT_SIZE, "#666666", "start", line);
        }
        s.push_str("</svg>\n");
        s
    }

    /// The legend as a PNG, `scale` times the SVG size (e.g. 2.0 for high-DPI screens), drawn
    /// with the embedded DejaVu Sans.
    ///
    /// ```
    /// # use choropleth::classify::{classify, Scheme};
    /// # use choropleth::legend::{Legend, LegendMeta};
    /// # use choropleth::palette::Palette;
    /// # let c = classify(&[Some(1.0), Some(2.0), None], &Scheme::EqualInterval, 2).unwrap();
    /// # let p = Palette::from_name("Blues", 2).unwrap();
    /// let png = Legend::new(&c, &p, LegendMeta::default()).unwrap().to_png(2.0).unwrap();
    /// assert_eq!(&png[1..4], b"PNG");
    /// ```
    pub fn to_png(&self, scale: f32) -> Result<Vec<u8>, LegendError> {
        if !(scale.is_finite() && scale > 0.0 && scale <= MAX_PNG_SCALE) {
            return Err(LegendError::Scale(scale));
        }
        let options = usvg::Options {
            font_family: FONT_FAMILY.to_string(),
            fontdb: font_database(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(&self.to_svg(), &options)?;
        let size = tree.size();
        let width = (size.width() * scale).ceil() as u32;
        let height = (size.height() * scale).ceil() as u32;
        let mut pixmap =
            tiny_skia::Pixmap::new(width, height).ok_or(LegendError::Pixmap { width, height })?;
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| LegendError::Png(e.to_string()))
    }

    /// `subtitle · unit`, skipping empty parts.
    fn subtitle_line(&self) -> String {
        [self.subtitle.as_str(), self.unit.as_str()]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// The font database with only the embedded DejaVu Sans, built once.
pub(crate) fn font_database() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        Arc::new(db)
    })
    .clone()
}

// Layout, in SVG user units (px at scale 1).
const PAD: f32 = 12.0;
const TITLE_SIZE: f32 = 15.0;
const SUB_SIZE: f32 = 12.0;
const LABEL_SIZE: f32 = 12.0;
const CREDIT_SIZE: f32 = 9.0;
const REASON_SIZE: f32 = 10.0;
const SWATCH_W: f32 = 28.0;
const SWATCH_H: f32 = 16.0;
const ROW: f32 = 22.0;
const LABEL_X: f32 = PAD + SWATCH_W + 10.0;
const MIN_WIDTH: f32 = 220.0;
const MAX_WIDTH: f32 = 420.0;
/// DejaVu Sans advances average about 0.6 em for digits and lower case; used to size the box.
const EM_PER_CHAR: f32 = 0.62;

/// Left edge of every swatch in SVG units (see [`swatch_top`] for the vertical position).
pub const SWATCH_X: f32 = PAD;

/// Size of the SVG and the wrapped credit lines.
struct Layout {
    width: f32,
    height: f32,
    /// The title and the subtitle line, wrapped to the legend's width (never clipped).
    title_lines: Vec<String>,
    subtitle_lines: Vec<String>,
    credit_lines: Vec<String>,
    /// Why districts have no data, wrapped, under the no-data row.
    reason_lines: Vec<String>,
}

impl Layout {
    fn of(legend: &Legend) -> Layout {
        let text_w = |s: &str, size: f32| s.chars().count() as f32 * size * EM_PER_CHAR;
        let row_w = legend
            .entries
            .iter()
            .map(|e| (e.label.as_str(), e.count))
            .chain(std::iter::once((
                legend.no_data.label.as_str(),
                legend.no_data.count,
            )))
            .map(|(label, count)| {
                LABEL_X
                    + text_w(label, LABEL_SIZE)
                    + 16.0
                    + text_w(&count.to_string(), LABEL_SIZE)
                    + PAD
            })
            .fold(0.0_f32, f32::max);
        // Headings measured with the font itself; past the widest legend they wrap.
        let measured = |s: &str, size: f32| {
            crate::figure::layout::text_width(s, f64::from(size), false) as f32
        };
        let head_w = (measured(&legend.title, TITLE_SIZE) + 2.0 * PAD)
            .max(measured(&legend.subtitle_line(), SUB_SIZE) + 2.0 * PAD);
        let width = row_w.max(head_w).clamp(MIN_WIDTH, MAX_WIDTH).ceil();
        let head_room = f64::from(width - 2.0 * PAD);
        let title_lines =
            crate::figure::layout::wrap(&legend.title, head_room, f64::from(TITLE_SIZE), false);
        let subtitle_lines = crate::figure::layout::wrap(
            &legend.subtitle_line(),
            head_room,
            f64::from(SUB_SIZE),
            false,
        );
        let max_chars = ((width - 2.0 * PAD) / (CREDIT_SIZE * EM_PER_CHAR)).floor() as usize;
        let credit_lines = wrap(&legend.source, max_chars.max(10));
        let reason_chars = ((width - LABEL_X - PAD) / (REASON_SIZE * EM_PER_CHAR)).floor() as usize;
        let reason_lines: Vec<String> = legend
            .no_data
            .reasons
            .iter()
            .flat_map(|g| wrap(&g.text, reason_chars.max(10)))
            .collect();
        let mut height = heading_height(title_lines.len(), subtitle_lines.len());
        height += 4.0 + ROW * (legend.entries.len() + 1) as f32 + 4.0;
        height += reason_lines.len() as f32 * (REASON_SIZE + 3.0);
        height += credit_lines.len() as f32 * (CREDIT_SIZE + 2.0) + PAD;
        Layout {
            width,
            height: height.ceil(),
            title_lines,
            subtitle_lines,
            credit_lines,
            reason_lines,
        }
    }
}

/// Top-left y of the swatch of row `row` (0 = first class; `entries.len()` = no data), as drawn
/// by [`Legend::to_svg`]. Lets callers (and tests) find swatch pixels in the PNG.
pub fn swatch_top(legend: &Legend, row: usize) -> f32 {
    let l = Layout::of(legend);
    heading_height(l.title_lines.len(), l.subtitle_lines.len()) + 4.0 + ROW * row as f32
}

/// Height from the top to below the headings: padding, then each line of the title and of the
/// subtitle, each block followed by a small gap.
fn heading_height(title_lines: usize, subtitle_lines: usize) -> f32 {
    let mut y = PAD;
    if title_lines > 0 {
        y += title_lines as f32 * (TITLE_SIZE + 3.0) + 3.0;
    }
    if subtitle_lines > 0 {
        y += subtitle_lines as f32 * (SUB_SIZE + 3.0) + 3.0;
    }
    y
}

/// Swatch size (width, height) in SVG units.
pub const SWATCH_SIZE: (f32, f32) = (SWATCH_W, SWATCH_H);

fn swatch(s: &mut String, y: f32, fill: &str) {
    let _ = write!(
        s,
        r##"<rect x="{SWATCH_X}" y="{y}" width="{SWATCH_W}" height="{SWATCH_H}" fill="{fill}" stroke="#999999" stroke-width="0.5"/>"##
    );
}

#[allow(clippy::too_many_arguments)]
fn text(s: &mut String, x: f32, y: f32, size: f32, fill: &str, anchor: &str, content: &str) {
    let _ = write!(
        s,
        r#"<text x="{x}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{}</text>"#,
        escape_xml(content)
    );
}

/// Escapes text for XML content and attribute values (SVG legends and figures); drops control
/// characters other than tab, which XML 1.0 does not allow. The workspace's one XML (and HTML)
/// escaper.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0; drop them.
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Greedy word wrap at `max_chars` characters per line (a word longer than a line stays whole).
fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max_chars {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_grouping() {
        assert_eq!(group_thousands("1234567.25"), "1,234,567.25");
        assert_eq!(group_thousands("-123"), "-123");
        assert_eq!(group_thousands("-0.0"), "0.0");
        assert_eq!(group_thousands("999"), "999");
        assert_eq!(group_thousands("1000"), "1,000");
    }

    /// Issue 15: `/legend/lad19/ks2_rwm_expected.png` cut its title off at the legend's edge.
    #[test]
    fn long_titles_wrap_inside_the_legend() {
        use crate::classify::{Scheme, classify};
        use crate::palette::Palette;
        let c = classify(
            &[Some(1.0), Some(2.0), Some(3.0)],
            &Scheme::EqualInterval,
            3,
        )
        .expect("classifies");
        let p = Palette::from_name("Blues", 3).expect("palette");
        let meta = LegendMeta {
            title: "KS2 pupils meeting the expected standard in reading, writing and maths (combined), state-funded schools".into(),
            subtitle: "2018/19".into(),
            unit: "%".into(),
            source: "Department for Education".into(),
        };
        let legend = Legend::new(&c, &p, meta).expect("legend");
        let layout = Layout::of(&legend);
        assert!(layout.title_lines.len() >= 2, "{:?}", layout.title_lines);
        assert_eq!(layout.title_lines.join(" "), legend.title);
        for line in &layout.title_lines {
            let w = crate::figure::layout::text_width(line, f64::from(TITLE_SIZE), false);
            assert!(
                w <= f64::from(layout.width - 2.0 * PAD),
                "{line:?} is {w} wide"
            );
        }
        let svg = legend.to_svg();
        for line in &layout.title_lines {
            assert!(
                svg.contains(&format!(">{}</text>", escape_xml(line))),
                "{line}"
            );
        }
        // The swatches move down with the extra lines, as drawn.
        let top = swatch_top(&legend, 0);
        assert!(
            svg.contains(&format!(r#"<rect x="{SWATCH_X}" y="{top}""#)),
            "{svg}"
        );
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc dd", 5), vec!["aa bb", "cc dd"]);
        assert_eq!(wrap("", 5), Vec::<String>::new());
        assert_eq!(wrap("abcdefgh ij", 5), vec!["abcdefgh", "ij"]);
    }

    #[test]
    fn xml_escape() {
        assert_eq!(
            escape_xml("a<b & 'c' \"d\">"),
            "a&lt;b &amp; &apos;c&apos; &quot;d&quot;&gt;"
        );
        assert_eq!(escape_xml("x\u{1}y"), "xy");
        assert_eq!(escape_xml("a<b & 'c'\u{1}"), "a&lt;b &amp; &apos;c&apos;");
    }
}
