//! Turning [`StyleOptions`] (`scheme`, `k`, `breaks`, `palette`, `reverse`, `highlight`,
//! `year`, `change`, `change_kind`, `midpoint`, `bivariate`) into a [`ResolvedStyle`](crate::style::ResolvedStyle): the
//! classification and one fill per district. Resolved once per distinct style and cached
//! ([`StyleCache`](crate::style::StyleCache)), so a tile request only looks fills up.

use std::sync::Arc;

use choropleth::classify::{
    Classification, Scheme, classify, classify_levels, diverging_breaks_around,
};
use choropleth::palette::PaletteKind;
use choropleth::render::{Fill, Rgba};
use districts::catalog::Direction;
use districts::layer::PeriodValues;
use districts::{Indicator, Layer};

use crate::error::{MapError, valid_ids};
use crate::options::{StyleOptions, parse_list};

/// How a change between two periods is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// `to - from`, in the indicator's unit.
    Difference,
    /// `(to - from) / from * 100`.
    Percent,
}

/// What a map shows: one period, or the change between two.
#[derive(Clone, Debug, PartialEq)]
pub enum Showing {
    /// The values of one period (its label).
    Period(String),
    /// The change from one period to another.
    Change {
        /// Label of the earlier period.
        from: String,
        /// Label of the later period.
        to: String,
        /// Difference or percentage change.
        kind: ChangeKind,
    },
}

impl Showing {
    /// Human label: `2021`, `change 2010 to 2020`, `% change 2010 to 2020`.
    pub fn label(&self) -> String {
        match self {
            Showing::Period(p) => p.clone(),
            Showing::Change {
                from,
                to,
                kind: ChangeKind::Difference,
            } => format!("change {from} to {to}"),
            Showing::Change {
                from,
                to,
                kind: ChangeKind::Percent,
            } => format!("% change {from} to {to}"),
        }
    }
}

/// A colour class of a categorical map.
#[derive(Clone, Debug)]
pub struct Category {
    /// The category's label as shown in the legend.
    pub label: String,
    /// Its fill colour.
    pub color: Rgba,
    /// How many districts fall in it.
    pub count: usize,
}

/// How districts without a value are drawn (the `nodata=` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoDataFill {
    /// The house grey with its diagonal hatch (never mistaken for a class colour).
    Hatch,
    /// Not drawn at all (transparent), for overlays.
    Transparent,
    /// One flat colour.
    Colour(Rgba),
}

impl NoDataFill {
    /// Reads `hatch`, `none` or `#rrggbb`.
    ///
    /// ```
    /// use maps::style::NoDataFill;
    /// use choropleth::render::Rgba;
    /// assert_eq!(NoDataFill::parse(None).unwrap(), NoDataFill::Hatch);
    /// assert_eq!(NoDataFill::parse(Some("none")).unwrap(), NoDataFill::Transparent);
    /// assert_eq!(NoDataFill::parse(Some("#FF00aa")).unwrap(), NoDataFill::Colour(Rgba(255, 0, 170, 255)));
    /// assert!(NoDataFill::parse(Some("pink")).is_err());
    /// ```
    pub fn parse(raw: Option<&str>) -> Result<NoDataFill, MapError> {
        let Some(raw) = raw.map(str::trim) else {
            return Ok(NoDataFill::Hatch);
        };
        match raw.to_ascii_lowercase().as_str() {
            "hatch" => Ok(NoDataFill::Hatch),
            "none" | "transparent" => Ok(NoDataFill::Transparent),
            _ if raw.len() == 7 && raw.starts_with('#') => Rgba::from_hex(raw)
                .map(NoDataFill::Colour)
                .ok_or_else(|| bad_nodata(raw)),
            _ => Err(bad_nodata(raw)),
        }
    }

    /// The tile style with no data drawn this way.
    pub fn apply(self, mut style: choropleth::render::TileStyle) -> choropleth::render::TileStyle {
        match self {
            NoDataFill::Hatch => {}
            NoDataFill::Transparent => {
                style.no_data = Rgba::TRANSPARENT;
                style.no_data_hatch = Rgba::TRANSPARENT;
            }
            NoDataFill::Colour(c) => {
                style.no_data = c;
                style.no_data_hatch = c;
            }
        }
        style
    }
}

fn bad_nodata(raw: &str) -> MapError {
    MapError::bad_request(
        format!("nodata={raw:?} is not a way to draw districts without a value"),
        "nodata=hatch (default), nodata=none (transparent) or nodata=%23rrggbb (a colour)",
    )
}

/// A style resolved against an indicator's data.
#[derive(Clone, Debug)]
pub struct ResolvedStyle {
    /// Canonical text of the style (part of tile cache keys and ETags).
    pub key: String,
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// The period or change drawn.
    pub showing: Showing,
    /// Numeric classification (None for categorical indicators).
    pub classification: Option<Classification>,
    /// Class colours, low class first.
    pub colors: Vec<Rgba>,
    /// Categories of a categorical indicator.
    pub categories: Vec<Category>,
    /// Palette name used.
    pub palette: String,
    /// The palette of a numeric map (for its legend).
    pub palette_used: Option<choropleth::palette::Palette>,
    /// Values mapped (per district), after `change` arithmetic.
    pub values: Vec<Option<f64>>,
    /// Fill of every district, in layer order.
    pub fills: Vec<Fill>,
    /// Districts to outline (positions in the layer).
    pub highlight: Vec<usize>,
    /// Unit of the mapped values (`%` for percentage change).
    pub unit: String,
    /// How the classes were made, in words, when the classification's scheme does not say it
    /// (breaks computed here and passed on as manual ones, e.g. quantiles either side of 0).
    pub scheme_label: Option<String>,
    /// Labels of the classes, lowest first, when the classes have names of their own (an
    /// ordinal scale's `1 (most deprived 10%)`, `2`, ...); empty when the legend writes ranges.
    pub class_labels: Vec<String>,
    /// How districts without a value are drawn.
    pub no_data: NoDataFill,
}

/// Parses a `#rrggbb` colour from the palette module into the renderer's colour.
pub fn rgba(c: choropleth::palette::Rgb) -> Rgba {
    Rgba(c.r, c.g, c.b, 255)
}

fn numeric(ind: &Indicator, period: &str) -> Result<Vec<Option<f64>>, MapError> {
    let p = ind.period(period).ok_or_else(|| {
        MapError::not_found(
            format!("indicator {} has no period {period:?}", ind.meta.id),
            valid_ids("periods", ind.periods.iter().map(|p| p.label.as_str())),
        )
    })?;
    match &p.values {
        PeriodValues::Numeric(v) => Ok(v.clone()),
        PeriodValues::Categorical(_) => Err(MapError::bad_request(
            format!("indicator {} is categorical", ind.meta.id),
            "change= and numeric schemes apply to numeric indicators only",
        )),
    }
}

/// Resolves a period name given by the user: exact label, or a year that starts one label
/// (`year=2020` picks `2020/21` when that is the only match).
fn resolve_period(ind: &Indicator, raw: &str) -> Result<String, MapError> {
    let raw = raw.trim();
    if ind.period(raw).is_some() {
        return Ok(raw.to_string());
    }
    let matches: Vec<&str> = ind
        .periods
        .iter()
        .map(|p| p.label.as_str())
        .filter(|l| l.starts_with(raw))
        .collect();
    if matches.len() == 1 {
        return Ok(matches[0].to_string());
    }
    Err(MapError::not_found(
        format!("indicator {} has no period {raw:?}", ind.meta.id),
        valid_ids("periods", ind.periods.iter().map(|p| p.label.as_str())),
    ))
}

/// Key of a resolved style: layer, indicator and the options (equal options, one entry).
pub type StyleKey = (String, String, StyleOptions);

/// Resolved styles, bounded in entries; two concurrent misses of one style build it once.
/// Styles restricted to a region ([`StyleCache::resolve_in_region`]) are kept apart.
pub struct StyleCache {
    all: moka::sync::Cache<StyleKey, Arc<ResolvedStyle>>,
    regional: moka::sync::Cache<(StyleKey, String), Arc<ResolvedStyle>>,
}

impl StyleCache {
    /// A cache of at most `entries` styles (and as many regional ones).
    pub fn new(entries: u64) -> Self {
        StyleCache {
            all: moka::sync::Cache::new(entries),
            regional: moka::sync::Cache::new(entries),
        }
    }

    /// The style of `ind` on `layer` with `opts`, resolved once and then shared.
    pub fn resolve(
        &self,
        layer: &Layer,
        ind: &Indicator,
        opts: &StyleOptions,
    ) -> Result<Arc<ResolvedStyle>, MapError> {
        let key: StyleKey = (layer.meta.id.clone(), ind.meta.id.clone(), opts.clone());
        self.all
            .try_get_with(key, || resolve(layer, ind, opts).map(Arc::new))
            .map_err(MapError::from_shared)
    }

    /// The style of a map of one region (`region=` on tiles, lists and the interactive map):
    /// classes computed over the region's districts, as a figure of the region has them, and
    /// every district outside it left undrawn (transparent, neither a class nor no data). When
    /// the region's values cannot make the classes (all alike), the layer's classes. `None`
    /// is [`StyleCache::resolve`].
    pub fn resolve_in_region(
        &self,
        layer: &Layer,
        ind: &Indicator,
        opts: &StyleOptions,
        region: Option<&str>,
    ) -> Result<Arc<ResolvedStyle>, MapError> {
        let Some(region) = region else {
            return self.resolve(layer, ind, opts);
        };
        let chosen = crate::region::select(layer, region)?;
        let name = crate::region::display_name(layer, region);
        let key: StyleKey = (layer.meta.id.clone(), ind.meta.id.clone(), opts.clone());
        self.regional
            .try_get_with((key, name.clone()), || {
                let mut style = match resolve_within(layer, ind, opts, &chosen) {
                    Ok(s) => s,
                    Err(e) if e.kind() == crate::ErrorKind::Unprocessable => {
                        (*self.resolve(layer, ind, opts)?).clone()
                    }
                    Err(e) => return Err(e),
                };
                style.key = format!("{} in {name}", style.key);
                for (fill, inside) in style.fills.iter_mut().zip(&chosen) {
                    if !inside {
                        *fill = Fill::Solid(Rgba::TRANSPARENT);
                    }
                }
                Ok(Arc::new(style))
            })
            .map_err(MapError::from_shared)
    }
}

/// Resolves the style options for one layer/indicator (uncached; see [`StyleCache`]).
pub fn resolve(
    layer: &Layer,
    ind: &Indicator,
    opts: &StyleOptions,
) -> Result<ResolvedStyle, MapError> {
    let no_data = NoDataFill::parse(opts.nodata.as_deref())?;
    let mut style = build(layer, ind, opts, canonical_key(layer, ind, opts), None)?;
    style.no_data = no_data;
    Ok(style)
}

/// [`resolve`] with the classes computed over the districts `domain` marks (the ones a figure
/// shows: its region, box or list), so a regional map's classes divide that region, not the
/// whole layer, and its legend has no empty class. Every district still gets a fill.
pub fn resolve_within(
    layer: &Layer,
    ind: &Indicator,
    opts: &StyleOptions,
    domain: &[bool],
) -> Result<ResolvedStyle, MapError> {
    let no_data = NoDataFill::parse(opts.nodata.as_deref())?;
    let key = format!(
        "{} within {} districts",
        canonical_key(layer, ind, opts),
        domain.iter().filter(|d| **d).count()
    );
    let mut style = build(layer, ind, opts, key, Some(domain))?;
    style.no_data = no_data;
    Ok(style)
}

/// Checks a catalogue style (`style = { scheme, k, palette, breaks }`) the way [`resolve`]
/// would use it, so a bad one is refused when the catalogue loads, naming the key, rather than
/// failing every default tile of the indicator later. The message names the key and value.
///
/// ```
/// use districts::catalog::StyleHint;
/// let hint = |k, palette: &str| StyleHint {
///     scheme: Some("quantile".into()),
///     k: Some(k),
///     palette: Some(palette.into()),
///     breaks: None,
/// };
/// assert!(maps::style::check_hint(&hint(5, "YlOrRd")).is_ok());
/// assert!(maps::style::check_hint(&hint(500, "YlOrRd")).unwrap_err().contains("k = 500"));
/// assert!(maps::style::check_hint(&hint(5, "Jet")).unwrap_err().contains("\"Jet\""));
/// ```
pub fn check_hint(hint: &districts::catalog::StyleHint) -> Result<(), String> {
    use choropleth::palette::Palette;
    if let Some(k) = hint.k
        && !(2..=9).contains(&k)
    {
        return Err(format!(
            "style k = {k} is out of range: a map has 2 to 9 classes"
        ));
    }
    match hint.scheme.as_deref() {
        Some(name) if name.trim().eq_ignore_ascii_case("manual") => {
            let breaks = hint.breaks.as_deref().unwrap_or_default();
            let text: Vec<String> = breaks.iter().map(f64::to_string).collect();
            Scheme::manual_from_str(&text.join(","))
                .map_err(|e| format!("style breaks = {breaks:?}: {e}"))?;
            if !(2..=9).contains(&breaks.len()) {
                return Err(format!(
                    "style breaks = {breaks:?} make {} classes: a map has 2 to 9",
                    breaks.len()
                ));
            }
        }
        Some(name) => {
            name.parse::<Scheme>().map_err(|_| {
                format!(
                    "style scheme = {name:?} is not known ({})",
                    valid_ids("schemes", Scheme::NAMES)
                )
            })?;
            if hint.breaks.is_some() {
                return Err(format!(
                    "style breaks apply to scheme = \"manual\", not scheme = {name:?}"
                ));
            }
        }
        None => {}
    }
    if let Some(name) = &hint.palette {
        Palette::from_name(name, hint.k.unwrap_or(5)).map_err(|_| {
            format!(
                "style palette = {name:?} is not known ({})",
                valid_ids("palettes", Palette::names())
            )
        })?;
    }
    Ok(())
}

/// The text of a style: its layer, indicator and options in a fixed order (tile cache keys and
/// ETags).
fn canonical_key(layer: &Layer, ind: &Indicator, opts: &StyleOptions) -> String {
    let options = serde_json::to_string(opts).unwrap_or_default();
    format!("{}/{}{options}", layer.meta.id, ind.meta.id)
}

fn build(
    layer: &Layer,
    ind: &Indicator,
    q: &StyleOptions,
    key: String,
    domain: Option<&[bool]>,
) -> Result<ResolvedStyle, MapError> {
    let hint_style = ind
        .meta
        .style
        .clone()
        .unwrap_or(districts::catalog::StyleHint {
            scheme: None,
            k: None,
            palette: None,
            breaks: None,
        });
    // What is shown: one period or a change.
    let showing = match (&q.change, &q.year) {
        (Some(_), Some(_)) => {
            return Err(MapError::bad_request(
                "give year= or change=, not both",
                "change=2010..2020 maps the change between two periods",
            ));
        }
        (Some(c), None) => {
            let hint = format!(
                "change=FROM..TO with two periods of {}: {}",
                ind.meta.id,
                ind.periods
                    .iter()
                    .map(|p| p.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let Some((from, to)) = c.split_once("..") else {
                return Err(MapError::bad_request(
                    format!("change={c:?} is not FROM..TO"),
                    hint,
                ));
            };
            let kind = match q.change_kind.as_deref() {
                None | Some("diff" | "difference") => ChangeKind::Difference,
                Some("pct" | "percent") => ChangeKind::Percent,
                Some(other) => {
                    return Err(MapError::bad_request(
                        format!("change_kind={other:?} is not known"),
                        "change_kind=diff (default) or change_kind=pct",
                    ));
                }
            };
            let from = resolve_period(ind, from)?;
            let to = resolve_period(ind, to)?;
            if from == to {
                return Err(MapError::bad_request(
                    format!("change={c:?} compares a period with itself"),
                    hint,
                ));
            }
            Showing::Change { from, to, kind }
        }
        (None, Some(y)) => Showing::Period(resolve_period(ind, y)?),
        (None, None) => {
            if q.change_kind.is_some() {
                return Err(MapError::bad_request(
                    "change_kind= needs change=FROM..TO",
                    "e.g. change=2010..2020&change_kind=pct",
                ));
            }
            Showing::Period(ind.default_period.clone())
        }
    };
    let highlight = match &q.highlight {
        None => Vec::new(),
        Some(list) => {
            let codes = parse_list(list);
            let mut out = Vec::new();
            for c in codes {
                out.push(layer.position(&c).ok_or_else(|| {
                    MapError::not_found(
                        format!("highlight: no district {c:?} in layer {}", layer.meta.id),
                        format!(
                            "give GSS codes of {} districts, e.g. {}",
                            layer.meta.id,
                            layer
                                .districts
                                .first()
                                .map(|d| d.code.as_str())
                                .unwrap_or("E06000001")
                        ),
                    )
                })?);
            }
            out
        }
    };
    let reverse = q.reverse;

    if let Some(other) = &q.bivariate {
        return build_bivariate(layer, ind, other, q, key, showing, highlight);
    }
    if ind.meta.categorical {
        return build_categorical(layer, ind, q, key, showing, highlight, reverse);
    }

    let (values, unit, is_change) = match &showing {
        Showing::Period(p) => (numeric(ind, p)?, ind.meta.unit.clone(), false),
        Showing::Change { from, to, kind } => {
            let a = numeric(ind, from)?;
            let b = numeric(ind, to)?;
            let v: Vec<Option<f64>> = a
                .iter()
                .zip(&b)
                .map(|(a, b)| match (a, b, kind) {
                    (Some(a), Some(b), ChangeKind::Difference) => Some(b - a),
                    (Some(a), Some(b), ChangeKind::Percent) if *a != 0.0 => {
                        Some((b - a) / a * 100.0)
                    }
                    _ => None,
                })
                .collect();
            let unit = match kind {
                ChangeKind::Difference => ind.meta.unit.clone(),
                ChangeKind::Percent => "%".to_string(),
            };
            (v, unit, true)
        }
    };
    // The values the classes are computed over: those of the domain's districts.
    let class_values: Vec<Option<f64>> = match domain {
        Some(d) => values
            .iter()
            .zip(d)
            .map(|(v, keep)| if *keep { *v } else { None })
            .collect(),
        None => values.clone(),
    };
    // An ordinal indicator (deciles) gets one class per value of its scale, labelled, unless
    // the user asks for classes (scheme=, k=, breaks=, midpoint=) or maps a change.
    let ordinal = ind.meta.ordinal.as_ref().filter(|_| {
        !is_change
            && q.scheme.is_none()
            && q.k.is_none()
            && q.breaks.is_none()
            && q.midpoint.is_none()
    });
    let k: usize = match q.k {
        Some(k) => k,
        None => hint_style
            .k
            .or(hint_style.breaks.as_ref().map(std::vec::Vec::len))
            .unwrap_or(5),
    };
    let midpoint = match q.midpoint.as_deref() {
        Some(m) if m.trim().eq_ignore_ascii_case("median") => {
            Some(median(&class_values).ok_or_else(|| {
                MapError::unprocessable("no values to take a median of", "pick another period")
            })?)
        }
        Some(m) => Some(
            m.trim()
                .parse::<f64>()
                .ok()
                .filter(|m| m.is_finite())
                .ok_or_else(|| {
                    MapError::bad_request(
                        format!("midpoint={m:?} is not a valid number"),
                        "midpoint=0 (a number in the indicator's unit) or midpoint=median",
                    )
                })?,
        ),
        // A change map diverges around 0 only when the changes go both ways and no scheme was
        // asked for; changes of one sign get sequential classes like any other values.
        None if is_change && q.scheme.is_none() && q.breaks.is_none() => {
            let present = || class_values.iter().flatten();
            let both = present().any(|v| *v < 0.0) && present().any(|v| *v > 0.0);
            both.then_some(0.0)
        }
        None => None,
    };
    // A change is classified afresh: the catalogue's style is for the values themselves.
    let scheme_name = q
        .scheme
        .clone()
        .or(if is_change {
            None
        } else {
            hint_style.scheme.clone()
        })
        .unwrap_or_else(|| "quantile".into());
    let mut scheme_label = None;
    let mut class_labels = Vec::new();
    let scheme: Scheme = if let Some(scale) = ordinal {
        let levels: Vec<f64> = scale.values().into_iter().map(|v| v as f64).collect();
        scheme_label = Some(format!("One class per {}", scale.each));
        class_labels = scale.values().into_iter().map(|v| scale.label(v)).collect();
        Scheme::Manual(levels)
    } else if scheme_name == "manual" || q.breaks.is_some() {
        if scheme_name != "manual" {
            return Err(MapError::bad_request(
                "breaks= needs scheme=manual",
                "scheme=manual&breaks=10,20,30",
            ));
        }
        match (&q.breaks, &hint_style.breaks) {
            (Some(b), _) => Scheme::manual_from_str(b).map_err(|e| {
                MapError::bad_request(
                    format!("breaks={b:?}: {e}"),
                    "breaks=10,20,30 (class upper bounds, strictly increasing numbers)",
                )
            })?,
            (None, Some(b)) if q.scheme.is_none() && !is_change => Scheme::Manual(b.clone()),
            (None, _) => {
                return Err(MapError::bad_request(
                    "scheme=manual needs breaks=",
                    "breaks=10,20,30 (class upper bounds, increasing)",
                ));
            }
        }
    } else if let Some(m) = midpoint {
        let breaks = diverging_breaks_around(&class_values, m, k).map_err(classify_error)?;
        scheme_label = Some(format!(
            "Quantiles below and above {}",
            choropleth::legend::NumberStyle::for_unit(&unit)
                .format(m, usize::from(m.fract() != 0.0))
        ));
        Scheme::Manual(breaks)
    } else {
        scheme_name.parse::<Scheme>().map_err(|e| {
            MapError::bad_request(
                format!("scheme={scheme_name:?}: {e}"),
                valid_ids("schemes", Scheme::NAMES),
            )
        })?
    };
    let classification = match (&scheme, ordinal) {
        (Scheme::Manual(levels), Some(_)) => classify_levels(&class_values, levels),
        _ => classify(&class_values, &scheme, k),
    }
    .map_err(classify_error)?;
    let n = classification.classes();
    let diverging = midpoint.is_some();
    let default_palette = if diverging {
        "RdBu".to_string()
    } else {
        hint_style
            .palette
            .clone()
            .unwrap_or_else(|| choropleth::palette::DEFAULT_SEQUENTIAL.to_string())
    };
    let palette_name = q.palette.clone().unwrap_or(default_palette);
    let mut palette = choropleth::palette::Palette::from_name(&palette_name, n).map_err(|e| {
        MapError::bad_request(
            format!("palette={palette_name:?}: {e}"),
            valid_ids("palettes", choropleth::palette::Palette::names()),
        )
    })?;
    // Worse is darker/redder by default: sequential palettes run light -> dark, so flip them when
    // higher is better; diverging palettes (RdBu: red low) flip when higher is worse.
    let flip = matches!(
        (palette.kind, ind.meta.direction),
        (PaletteKind::Sequential, Direction::HigherIsBetter)
            | (PaletteKind::Diverging, Direction::HigherIsWorse)
    );
    if flip != reverse {
        palette = palette.reverse();
    }
    // A diverging map's sides may have different numbers of classes: cut both from one scheme
    // around its neutral middle, so equal distances from the midpoint get equal strength. An
    // even ordinal scale is cut in half the same way, which keeps its middle classes (a
    // published scheme's palest) visible against the page.
    let split_below = match (midpoint, ordinal) {
        (Some(m), _) => Some(classification.breaks.iter().filter(|b| **b <= m).count()),
        (None, Some(_)) if n % 2 == 0 => Some(n / 2),
        _ => None,
    };
    if let (Some(below), PaletteKind::Diverging) = (split_below, palette.kind)
        && below > 0
        && below < n
        && let Some(split) = choropleth::palette::Palette::diverging_split(
            &palette_name,
            below,
            n - below,
            flip != reverse,
        )
        .map_err(|e| {
            MapError::bad_request(
                format!("palette={palette_name:?}: {e}"),
                valid_ids("palettes", choropleth::palette::Palette::names()),
            )
        })?
    {
        palette = split;
    }
    let colors: Vec<Rgba> = palette.colors().into_iter().map(rgba).collect();
    let palette_used = Some(palette.clone());
    let fills = values
        .iter()
        .map(|v| match classification.class_of_opt(*v) {
            Some(c) => Fill::Solid(colors[c.min(colors.len() - 1)]),
            None => Fill::NoData,
        })
        .collect();
    Ok(ResolvedStyle {
        key,
        layer: layer.meta.id.clone(),
        indicator: ind.meta.id.clone(),
        showing,
        classification: Some(classification),
        colors,
        categories: Vec::new(),
        palette: palette_name,
        palette_used,
        values,
        fills,
        highlight,
        unit,
        scheme_label,
        class_labels,
        no_data: NoDataFill::Hatch,
    })
}

fn build_categorical(
    layer: &Layer,
    ind: &Indicator,
    q: &StyleOptions,
    key: String,
    showing: Showing,
    highlight: Vec<usize>,
    reverse: bool,
) -> Result<ResolvedStyle, MapError> {
    let given = [
        ("scheme", q.scheme.is_some()),
        ("k", q.k.is_some()),
        ("breaks", q.breaks.is_some()),
        ("change", q.change.is_some()),
        ("midpoint", q.midpoint.is_some()),
    ];
    if let Some((opt, _)) = given.iter().find(|(_, g)| *g) {
        {
            return Err(MapError::bad_request(
                format!(
                    "{opt}= does not apply to categorical indicator {}",
                    ind.meta.id
                ),
                "categorical maps take palette=, year= and highlight= only",
            ));
        }
    }
    let Showing::Period(period) = &showing else {
        return Err(MapError::bad_request(
            "change= does not apply to categories",
            "pick one period with year=",
        ));
    };
    let p = ind.period(period).ok_or_else(|| {
        MapError::not_found(
            format!("no period {period}"),
            valid_ids("periods", ind.periods.iter().map(|p| p.label.as_str())),
        )
    })?;
    let PeriodValues::Categorical(labels) = &p.values else {
        return Err(MapError::internal(
            "resolving a style",
            format!(
                "indicator {} is flagged categorical but holds numbers",
                ind.meta.id
            ),
        ));
    };
    let mut names: Vec<&str> = labels
        .iter()
        .flatten()
        .map(std::string::String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    let palette_name = q.palette.clone().unwrap_or_else(|| "categorical".into());
    let mut colors: Vec<Rgba> = colors_for_categories(&names);
    if reverse {
        colors.reverse();
    }
    let mut categories: Vec<Category> = names
        .iter()
        .zip(&colors)
        .map(|(n, c)| Category {
            label: n.to_string(),
            color: *c,
            count: 0,
        })
        .collect();
    let fills = labels
        .iter()
        .map(
            |l| match l.as_deref().and_then(|l| names.binary_search(&l).ok()) {
                Some(i) => {
                    categories[i].count += 1;
                    Fill::Solid(colors[i])
                }
                None => Fill::NoData,
            },
        )
        .collect();
    Ok(ResolvedStyle {
        key,
        layer: layer.meta.id.clone(),
        indicator: ind.meta.id.clone(),
        showing,
        classification: None,
        colors,
        categories,
        palette: palette_name,
        palette_used: None,
        values: vec![None; labels.len()],
        fills,
        highlight,
        unit: ind.meta.unit.clone(),
        scheme_label: None,
        class_labels: Vec::new(),
        no_data: NoDataFill::Hatch,
    })
}

fn median(values: &[Option<f64>]) -> Option<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn classify_error(e: choropleth::classify::ClassifyError) -> MapError {
    use choropleth::classify::ClassifyError as E;
    match e {
        E::ClassCountOutOfRange { .. } => {
            MapError::bad_request(e.to_string(), "k must be from 2 to 9")
        }
        E::OneSided { .. } => MapError::unprocessable(
            e.to_string(),
            "leave midpoint= out for sequential classes, or give a midpoint between the lowest and highest value",
        ),
        E::NotALevel { .. } => MapError::unprocessable(
            e.to_string(),
            "the catalogue declares this indicator ordinal; map it with scheme=quantile (or another scheme) instead",
        ),
        E::AllMissing { .. } | E::TooFewDistinctValues { .. } => MapError::unprocessable(
            e.to_string(),
            "pick another period, indicator or fewer classes",
        ),
        other => MapError::bad_request(
            other.to_string(),
            "breaks=10,20,30 (class upper bounds, strictly increasing numbers)",
        ),
    }
}

/// Conventional LISA cluster colours (GeoDa): hot spots red, cold spots blue, outliers pale.
const LISA_COLOURS: [(&str, Rgba); 6] = [
    ("high-high", Rgba(0xd7, 0x19, 0x1c, 255)),
    ("high-low", Rgba(0xfd, 0xae, 0x61, 255)),
    ("low-high", Rgba(0xab, 0xd9, 0xe9, 255)),
    ("low-low", Rgba(0x2c, 0x7b, 0xb6, 255)),
    // GeoDa's #eeeeee vanished into the page: a grey as far from white as from the hatched
    // no-data grey.
    ("not significant", Rgba(0xd9, 0xd9, 0xd9, 255)),
    ("no neighbours", Rgba(0x99, 0x99, 0x99, 255)),
];

/// Colours for the given category names: LISA colours when the names are LISA classes,
/// otherwise [`categorical_colors`].
fn colors_for_categories(names: &[&str]) -> Vec<Rgba> {
    let lisa: Option<Vec<Rgba>> = names
        .iter()
        .map(|n| {
            LISA_COLOURS
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(n))
                .map(|(_, c)| *c)
        })
        .collect();
    lisa.unwrap_or_else(|| categorical_colors(names.len()))
}

/// Distinct colours for `n` categories: Tableau 10 then Set3 (22 in all), then evenly spaced
/// hues of the sinebow for more.
fn categorical_colors(n: usize) -> Vec<Rgba> {
    let fixed: Vec<colorous::Color> = colorous::TABLEAU10
        .iter()
        .chain(colorous::SET3.iter())
        .copied()
        .collect();
    (0..n)
        .map(|i| {
            let c = if n <= fixed.len() {
                fixed[i]
            } else {
                colorous::SINEBOW.eval_rational(i, n)
            };
            Rgba(c.r, c.g, c.b, 255)
        })
        .collect()
}

/// Class names of terciles, low to high.
const TERCILES: [&str; 3] = ["low", "mid", "high"];

/// A bivariate choropleth (3 x 3 classes): terciles of this indicator against terciles of
/// `other`, coloured with Joshua Stevens' blue-pink scheme. Each of the nine combinations is a
/// category, so legends, static maps and tiles need nothing special.
fn build_bivariate(
    layer: &Layer,
    ind: &Indicator,
    other_id: &str,
    q: &StyleOptions,
    key: String,
    showing: Showing,
    highlight: Vec<usize>,
) -> Result<ResolvedStyle, MapError> {
    let given = [
        ("scheme", q.scheme.is_some()),
        ("k", q.k.is_some()),
        ("breaks", q.breaks.is_some()),
        ("palette", q.palette.is_some()),
        ("reverse", q.reverse),
        ("change", q.change.is_some()),
        ("midpoint", q.midpoint.is_some()),
    ];
    if let Some((opt, _)) = given.iter().find(|(_, g)| *g) {
        {
            return Err(MapError::bad_request(
                format!("{opt}= does not apply to a bivariate map"),
                "bivariate maps take year=, bivariate_year= and highlight=; both indicators are cut into terciles",
            ));
        }
    }
    let other = layer.indicator(other_id).ok_or_else(|| {
        MapError::not_found(
            format!(
                "bivariate: unknown indicator {other_id:?} on layer {}",
                layer.meta.id
            ),
            valid_ids(
                "indicators",
                layer
                    .indicators
                    .iter()
                    .filter(|i| !i.meta.categorical)
                    .map(|i| i.meta.id.as_str()),
            ),
        )
    })?;
    if other.meta.id == ind.meta.id || ind.meta.categorical || other.meta.categorical {
        return Err(MapError::bad_request(
            "a bivariate map needs two different numeric indicators",
            "e.g. /tiles/lad19/imd_score/{z}/{x}/{y}.png?bivariate=median_weekly_pay",
        ));
    }
    let Showing::Period(period) = &showing else {
        return Err(MapError::bad_request(
            "change= does not apply to a bivariate map",
            "pick periods with year= and bivariate_year=",
        ));
    };
    let other_period = match &q.bivariate_year {
        Some(y) => resolve_period(other, y)?,
        None => other.default_period.clone(),
    };
    let a = numeric(ind, period)?;
    let b = numeric(other, &other_period)?;
    // Only districts with both values are classified, so the terciles describe the pairs mapped.
    let both: Vec<bool> = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.is_some() && y.is_some())
        .collect();
    let only = |v: &[Option<f64>]| -> Vec<Option<f64>> {
        v.iter()
            .zip(&both)
            .map(|(x, k)| if *k { *x } else { None })
            .collect()
    };
    let ca = classify(&only(&a), &Scheme::Quantile, 3).map_err(classify_error)?;
    let cb = classify(&only(&b), &Scheme::Quantile, 3).map_err(classify_error)?;
    if ca.classes() != 3 || cb.classes() != 3 {
        return Err(MapError::unprocessable(
            "too few distinct values for terciles",
            "pick indicators with at least three distinct values on this layer",
        ));
    }
    let grid = choropleth::palette::bivariate_3x3();
    let mut categories = Vec::with_capacity(9);
    for (i, ta) in TERCILES.iter().enumerate() {
        for (j, tb) in TERCILES.iter().enumerate() {
            categories.push(Category {
                label: format!("{ta} / {tb}"),
                color: rgba(grid[i][j]),
                count: 0,
            });
        }
    }
    let fills = a
        .iter()
        .zip(&b)
        .map(|(x, y)| match (ca.class_of_opt(*x), cb.class_of_opt(*y)) {
            (Some(i), Some(j)) => {
                categories[i * 3 + j].count += 1;
                Fill::Solid(categories[i * 3 + j].color)
            }
            _ => Fill::NoData,
        })
        .collect();
    let colors = categories.iter().map(|c| c.color).collect();
    Ok(ResolvedStyle {
        key,
        layer: layer.meta.id.clone(),
        indicator: ind.meta.id.clone(),
        showing: Showing::Period(format!("{period} / {other_period}")),
        classification: None,
        colors,
        categories,
        palette: "bivariate 3x3 (Stevens)".into(),
        palette_used: None,
        values: a,
        fills,
        highlight,
        unit: format!("terciles: {} / {}", short_title(ind), short_title(other)),
        scheme_label: None,
        class_labels: Vec::new(),
        no_data: NoDataFill::Hatch,
    })
}

/// A short name for legend labels: the title up to its first colon or parenthesis.
fn short_title(ind: &Indicator) -> String {
    let t = ind
        .meta
        .title
        .split([':', '('])
        .next()
        .unwrap_or(&ind.meta.title)
        .trim();
    if t.len() > 24 {
        ind.meta.id.replace('_', " ")
    } else {
        t.to_string()
    }
}
