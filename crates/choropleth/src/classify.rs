//! Classification of indicator values into k classes: quantile, equal interval, natural breaks
//! (Fisher-Jenks), standard deviation and manual breaks.
//!
//! Definitions follow [mapclassify](https://pysal.org/mapclassify/) 2.10 so that a map drawn here
//! agrees with one drawn in Python:
//!
//! * every class is described by its **upper bound** (`breaks`), and bounds are
//!   **upper-inclusive**: a value `v` belongs to the first class whose upper bound is `>= v`
//!   (mapclassify `bin1d`);
//! * **quantile** bounds are numpy/scipy linearly interpolated percentiles at `100/k, 200/k, …, 100`
//!   (the last bound is the maximum); equal bounds are merged, so heavily tied data can give fewer
//!   than `k` classes (mapclassify `Quantiles`);
//! * **equal interval** bounds are `min + w, min + 2w, …` with `w = (max - min) / k`, the last bound
//!   being exactly the maximum (mapclassify `EqualInterval`);
//! * **natural breaks** are the class maxima of the partition of the sorted values into `k`
//!   contiguous classes with the least total within-class sum of squared deviations
//!   (Fisher 1958, Jenks). See [`Scheme::NaturalBreaks`](crate::classify::Scheme::NaturalBreaks) for how this relates to mapclassify;
//! * **standard deviation** bounds are `mean + m * s` for the multiples `m` of
//!   [`stddev_multiples`](crate::classify::stddev_multiples), with `s` the *sample* standard deviation (`ddof = 1`, as
//!   mapclassify `StdMean` uses), and the maximum appended as a last bound when the last
//!   multiple falls below it;
//! * **manual** breaks are used as given, with the maximum appended when the data go above the
//!   last break (mapclassify `UserDefined`).
//!
//! Missing values (`None` or NaN) take no part in the classification and are counted in
//! [`Classification::no_data`](crate::classify::Classification::no_data); they are never put in the lowest class.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Smallest number of classes a map may have.
pub const MIN_CLASSES: usize = 2;
/// Largest number of classes a map may have (ColorBrewer palettes stop at 9).
pub const MAX_CLASSES: usize = 9;

/// How class bounds are chosen from the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Equal counts per class (linearly interpolated percentiles, max as last bound).
    Quantile,
    /// Equal-width classes from the minimum to the maximum.
    EqualInterval,
    /// Fisher-Jenks optimal classes: least total within-class sum of squares.
    ///
    /// Computed exactly in `f64` with the `ckmeans` crate (Ckmeans.1d.dp, Wang and Song 2011),
    /// which solves the same dynamic programme as Fisher-Jenks in O(k n log n) instead of
    /// O(k n²), so it also runs on all 32,844 LSOAs. mapclassify's `FisherJenks` runs that
    /// programme in **float32**; on some real columns (e.g. employment rate 2022 with k = 4, 6,
    /// 7, 8, 9) its rounding picks a partition whose sum of squares is *larger* than the optimum,
    /// and there our breaks differ from mapclassify's, by being better. Where mapclassify finds
    /// the optimum, the breaks are the same (tested against a mapclassify fixture).
    NaturalBreaks,
    /// Multiples of the sample standard deviation around the mean ([`stddev_multiples`]).
    StdDev,
    /// Upper bounds given by the user, strictly increasing and finite.
    Manual(Vec<f64>),
}

impl Scheme {
    /// The names [`Scheme::from_str`] accepts, as used in the `scheme=` query parameter.
    pub const NAMES: [&'static str; 5] = ["quantile", "equal", "jenks", "stddev", "manual"];

    /// The short name used in URLs (`quantile`, `equal`, `jenks`, `stddev`, `manual`).
    ///
    /// ```
    /// use choropleth::classify::Scheme;
    /// assert_eq!(Scheme::NaturalBreaks.name(), "jenks");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Quantile => "quantile",
            Scheme::EqualInterval => "equal",
            Scheme::NaturalBreaks => "jenks",
            Scheme::StdDev => "stddev",
            Scheme::Manual(_) => "manual",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `quantile|equal|jenks|stddev` (case-insensitive). `manual` parses to
/// `Manual(vec![])`: its breaks come from a separate parameter; give them with
/// [`Scheme::manual_from_str`] or build `Scheme::Manual` directly.
impl FromStr for Scheme {
    type Err = ClassifyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "quantile" => Ok(Scheme::Quantile),
            "equal" => Ok(Scheme::EqualInterval),
            "jenks" => Ok(Scheme::NaturalBreaks),
            "stddev" => Ok(Scheme::StdDev),
            "manual" => Ok(Scheme::Manual(Vec::new())),
            _ => Err(ClassifyError::UnknownScheme {
                name: s.to_string(),
                valid: Scheme::NAMES.join(", "),
            }),
        }
    }
}

impl Scheme {
    /// Parses manual breaks written as comma-separated numbers, e.g. `"10,20,30.5"`, and checks
    /// them (non-empty, finite, strictly increasing).
    ///
    /// ```
    /// use choropleth::classify::Scheme;
    /// let s = Scheme::manual_from_str("10, 20,30.5").unwrap();
    /// assert_eq!(s, Scheme::Manual(vec![10.0, 20.0, 30.5]));
    /// assert!(Scheme::manual_from_str("10,x").is_err());
    /// assert!(Scheme::manual_from_str("20,10").is_err());
    /// ```
    pub fn manual_from_str(s: &str) -> Result<Scheme, ClassifyError> {
        let breaks = s
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .enumerate()
            .map(|(index, part)| {
                part.trim()
                    .parse::<f64>()
                    .map_err(|_| ClassifyError::UnparsableBreak {
                        index,
                        text: part.trim().to_string(),
                    })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        check_manual_breaks(&breaks)?;
        Ok(Scheme::Manual(breaks))
    }
}

/// Why values could not be classified.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum ClassifyError {
    /// The scheme name is not one we know.
    #[error("unknown classification scheme {name:?}; valid schemes: {valid}")]
    UnknownScheme { name: String, valid: String },
    /// `k` is outside 2..=9.
    #[error("{k} classes requested; the number of classes must be from 2 to 9")]
    ClassCountOutOfRange { k: usize },
    /// A diverging map needs values on both sides of its midpoint.
    #[error(
        "a diverging map around {midpoint} needs values on both sides of it ({below} below, {above} above)"
    )]
    OneSided {
        /// The midpoint asked for.
        midpoint: f64,
        /// Values below it.
        below: usize,
        /// Values above it.
        above: usize,
    },
    /// Every value is missing.
    #[error("all {total} values are missing (none or NaN); nothing to classify")]
    AllMissing { total: usize },
    /// Too few distinct values for the scheme and k.
    #[error(
        "{scheme} classification into {needed} classes needs at least {needed} distinct values, the data have {distinct}"
    )]
    TooFewDistinctValues {
        scheme: &'static str,
        needed: usize,
        distinct: usize,
    },
    /// Manual scheme without breaks.
    #[error("manual classification needs at least one break")]
    EmptyManualBreaks,
    /// A manual break is NaN or infinite.
    #[error("manual break {index} is {value}, breaks must be finite numbers")]
    NonFiniteBreak { index: usize, value: f64 },
    /// A manual break could not be read as a number.
    #[error("manual break {index} ({text:?}) is not a number")]
    UnparsableBreak { index: usize, text: String },
    /// Manual breaks are not strictly increasing.
    #[error("manual breaks must be strictly increasing: break {index} ({value}) is not above break {} ({previous})", index - 1)]
    BreaksNotIncreasing {
        index: usize,
        value: f64,
        previous: f64,
    },
    /// Manual breaks (with the data maximum appended when needed) give too many classes.
    #[error(
        "manual breaks give {classes} classes (the data maximum is appended as a last class when it is above the last break); at most 9 are allowed"
    )]
    TooManyManualClasses { classes: usize },
    /// An ordinal scale has too few or too many values for one class (and colour) each.
    #[error(
        "an ordinal scale of {levels} values cannot be mapped one class per value; it needs 2 to {MAX_LEVELS}"
    )]
    LevelCountOutOfRange { levels: usize },
    /// A value of an ordinal indicator is not one of its scale's values.
    #[error("value {value} is not one of the scale's values ({levels})")]
    NotALevel { value: f64, levels: String },
}

/// Most values an ordinal scale mapped one class per value may have: palettes have at most 11
/// colours ([`crate::palette::MAX_PALETTE_CLASSES`]).
pub const MAX_LEVELS: usize = 11;

/// One class per value of an ordinal scale (deciles, quintiles): `levels` are the scale's
/// values, lowest first, and each is a class of its own, empty or not, so a value keeps its
/// colour on every map of the scale. Each class's upper bound is its value
/// ([`Scheme::Manual`] with the levels as breaks), so [`Classification::class_of`] puts a value
/// in its own class. A value that is not one of the levels is an error
/// ([`ClassifyError::NotALevel`]): it would be drawn as a neighbour silently.
///
/// ```
/// use choropleth::classify::classify_levels;
/// let deciles: Vec<f64> = (1..=10).map(f64::from).collect();
/// let values = [Some(1.0), Some(1.0), Some(10.0), None];
/// let c = classify_levels(&values, &deciles).unwrap();
/// assert_eq!(c.classes(), 10);
/// assert_eq!(c.counts, vec![2, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
/// assert_eq!(c.no_data, 1);
/// assert!(classify_levels(&[Some(2.5)], &deciles).is_err());
/// ```
pub fn classify_levels(
    values: &[Option<f64>],
    levels: &[f64],
) -> Result<Classification, ClassifyError> {
    if !(MIN_CLASSES..=MAX_LEVELS).contains(&levels.len()) {
        return Err(ClassifyError::LevelCountOutOfRange {
            levels: levels.len(),
        });
    }
    check_manual_breaks(levels)?;
    let mut counts = vec![0; levels.len()];
    let mut no_data = 0;
    for v in values {
        match v {
            Some(x) if !x.is_nan() => {
                let Some(i) = levels.iter().position(|l| l == x) else {
                    return Err(ClassifyError::NotALevel {
                        value: *x,
                        levels: levels
                            .iter()
                            .map(f64::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                counts[i] += 1;
            }
            _ => no_data += 1,
        }
    }
    Ok(Classification {
        scheme: Scheme::Manual(levels.to_vec()),
        breaks: levels.to_vec(),
        min: levels[0],
        counts,
        no_data,
    })
}

/// The result of classifying: class upper bounds and the count of values in each class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The scheme that produced the breaks.
    pub scheme: Scheme,
    /// Upper bound of each class, increasing; `breaks.len()` is the number of classes.
    pub breaks: Vec<f64>,
    /// Smallest classified value (the lower end of the first class in a legend).
    pub min: f64,
    /// Number of values in each class (same length as `breaks`).
    pub counts: Vec<usize>,
    /// Number of missing values (None or NaN), shown as "no data".
    pub no_data: usize,
}

impl Classification {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.breaks.len()
    }

    /// Class index of a value: the first class whose upper bound is `>= v`.
    ///
    /// Values above the last bound (possible when classifying new data with old breaks) go to
    /// the last class. `v` should not be NaN; NaN lands in the last class, so for possibly
    /// missing values use [`Classification::class_of_opt`], which answers "no data".
    ///
    /// ```
    /// use choropleth::classify::{classify, Scheme};
    /// let values: Vec<Option<f64>> = (1..=10).map(|v| Some(v as f64)).collect();
    /// let c = classify(&values, &Scheme::Manual(vec![3.0, 7.0]), 2).unwrap();
    /// assert_eq!(c.breaks, vec![3.0, 7.0, 10.0]);
    /// assert_eq!(c.class_of(3.0), 0); // upper-inclusive
    /// assert_eq!(c.class_of(3.5), 1);
    /// assert_eq!(c.class_of(99.0), 2);
    /// ```
    pub fn class_of(&self, v: f64) -> usize {
        let i = self.breaks.partition_point(|&b| b < v);
        i.min(self.breaks.len().saturating_sub(1))
    }

    /// Class index of a possibly missing value; `None` (no data) for `None` or NaN.
    ///
    /// ```
    /// use choropleth::classify::{classify, Scheme};
    /// let values = [Some(1.0), None, Some(5.0), Some(f64::NAN), Some(9.0)];
    /// let c = classify(&values, &Scheme::EqualInterval, 2).unwrap();
    /// assert_eq!(c.no_data, 2);
    /// assert_eq!(c.class_of_opt(None), None);
    /// assert_eq!(c.class_of_opt(Some(f64::NAN)), None);
    /// assert_eq!(c.class_of_opt(Some(1.0)), Some(0));
    /// ```
    pub fn class_of_opt(&self, v: Option<f64>) -> Option<usize> {
        match v {
            Some(x) if !x.is_nan() => Some(self.class_of(x)),
            _ => None,
        }
    }

    /// Lower and upper end of class `i` as shown in a legend: the previous bound (or the data
    /// minimum for the first class) and the class's own bound. `None` if `i` is out of range.
    ///
    /// For the first class the lower end is `min(data minimum, first bound)`, so an empty first
    /// class (e.g. a standard-deviation bound below the minimum) never shows an inverted range.
    pub fn class_range(&self, i: usize) -> Option<(f64, f64)> {
        let upper = *self.breaks.get(i)?;
        let lower = if i == 0 {
            self.min.min(upper)
        } else {
            self.breaks[i - 1]
        };
        Some((lower, upper))
    }
}

/// The standard-deviation multiples used for `k` classes: the `k - 1` inner bounds, symmetric
/// around the mean. `k = 5` gives mapclassify's default `[-2, -1, 1, 2]` (a middle class of
/// mean ± 1 s); odd `k` keeps a middle class straddling the mean, even `k` puts a bound on the
/// mean. The maximum is appended as the last bound when it lies above the last multiple.
///
/// ```
/// use choropleth::classify::stddev_multiples;
/// assert_eq!(stddev_multiples(5), vec![-2.0, -1.0, 1.0, 2.0]);
/// assert_eq!(stddev_multiples(4), vec![-1.0, 0.0, 1.0]);
/// assert_eq!(stddev_multiples(2), vec![0.0]);
/// ```
pub fn stddev_multiples(k: usize) -> Vec<f64> {
    let half = (k.saturating_sub(1) / 2) as i64;
    let mut out: Vec<f64> = (-half..=half).map(|m| m as f64).collect();
    if k % 2 == 1 {
        out.retain(|&m| m != 0.0);
    }
    out
}

/// Classifies `values` into `k` classes (2..=9) with `scheme`.
///
/// `None` and NaN are excluded and counted as no data. For [`Scheme::Manual`], `k` is not used
/// to place the bounds (the breaks are), but it must still be in 2..=9.
///
/// ```
/// use choropleth::classify::{classify, Scheme};
/// let values: Vec<Option<f64>> = (0..1000).map(|v| Some(v as f64)).collect();
/// let q = classify(&values, &Scheme::Quantile, 3).unwrap();
/// // mapclassify.Quantiles gives these same doubles: [333.00000000000006, 666.0000000000001, 999.0]
/// assert_eq!(q.breaks, vec![333.00000000000006, 666.0000000000001, 999.0]);
/// assert_eq!(q.counts, vec![334, 333, 333]);
/// assert!(classify(&values, &Scheme::Quantile, 10).is_err());
/// ```
pub fn classify(
    values: &[Option<f64>],
    scheme: &Scheme,
    k: usize,
) -> Result<Classification, ClassifyError> {
    if !(MIN_CLASSES..=MAX_CLASSES).contains(&k) {
        return Err(ClassifyError::ClassCountOutOfRange { k });
    }
    let mut sorted: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| !v.is_nan())
        .collect();
    let no_data = values.len() - sorted.len();
    if sorted.is_empty() {
        return Err(ClassifyError::AllMissing {
            total: values.len(),
        });
    }
    sorted.sort_by(f64::total_cmp);
    let distinct = 1 + sorted.windows(2).filter(|w| w[0] != w[1]).count();
    let too_few = |needed: usize| ClassifyError::TooFewDistinctValues {
        scheme: scheme.name(),
        needed,
        distinct,
    };
    // Every scheme needs two distinct values to make two classes.
    if distinct < MIN_CLASSES && !matches!(scheme, Scheme::Manual(_)) {
        return Err(too_few(MIN_CLASSES));
    }
    let min = sorted[0];
    let max = sorted[sorted.len() - 1];

    let breaks = match scheme {
        Scheme::Quantile => {
            let b = quantile_breaks(&sorted, k);
            if b.len() < MIN_CLASSES {
                return Err(too_few(MIN_CLASSES));
            }
            b
        }
        Scheme::EqualInterval => equal_interval_breaks(min, max, k),
        Scheme::NaturalBreaks => {
            if distinct < k {
                return Err(too_few(k));
            }
            natural_breaks(&sorted, k)
        }
        Scheme::StdDev => stddev_breaks(&sorted, &stddev_multiples(k)),
        Scheme::Manual(given) => {
            check_manual_breaks(given)?;
            let mut b = given.clone();
            if b[b.len() - 1] < max {
                b.push(max);
            }
            if b.len() > MAX_CLASSES {
                return Err(ClassifyError::TooManyManualClasses { classes: b.len() });
            }
            b
        }
    };

    let mut classification = Classification {
        scheme: scheme.clone(),
        counts: vec![0; breaks.len()],
        breaks,
        min,
        no_data,
    };
    for &v in &sorted {
        let c = classification.class_of(v);
        classification.counts[c] += 1;
    }
    Ok(classification)
}

/// Breaks for a diverging map centred on `midpoint`, which is always a class bound (no class
/// mixes values on both sides of it): the `k` classes are shared between the two sides in
/// proportion to the values on each (at least one each), and each side is cut into quantiles,
/// so every class holds districts whatever the skew (equal widths reaching the farthest value
/// left most districts in one or two classes when the changes lean to one side). Classes that
/// would be empty or of zero width are dropped, so there may be fewer than `k`. Values on one
/// side only are an error ([`ClassifyError::OneSided`]): that map is sequential. Use the result
/// with [`Scheme::Manual`]; [`crate::palette::Palette::diverging_split`] colours it.
///
/// ```
/// use choropleth::classify::{classify, diverging_breaks_around, Scheme};
/// let change: Vec<Option<f64>> = [-6.0, -4.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0, 8.0, 9.0]
///     .into_iter().map(Some).collect();
/// let breaks = diverging_breaks_around(&change, 0.0, 4).unwrap();
/// assert_eq!(breaks[1], 0.0); // two classes each side, the midpoint between them
/// let c = classify(&change, &Scheme::Manual(breaks), 4).unwrap();
/// assert_eq!(c.counts, vec![2, 2, 3, 3]);
/// assert!(diverging_breaks_around(&[Some(1.0), Some(2.0)], 0.0, 5).is_err());
/// ```
pub fn diverging_breaks_around(
    values: &[Option<f64>],
    midpoint: f64,
    k: usize,
) -> Result<Vec<f64>, ClassifyError> {
    if !(MIN_CLASSES..=MAX_CLASSES).contains(&k) {
        return Err(ClassifyError::ClassCountOutOfRange { k });
    }
    if !midpoint.is_finite() {
        return Err(ClassifyError::NonFiniteBreak {
            index: 0,
            value: midpoint,
        });
    }
    let mut present: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if present.is_empty() {
        return Err(ClassifyError::AllMissing {
            total: values.len(),
        });
    }
    present.sort_by(f64::total_cmp);
    // Values equal to the midpoint join the class below it (upper bounds are inclusive); the
    // quantiles below it are of the values under it.
    let below: Vec<f64> = present.iter().copied().filter(|v| *v < midpoint).collect();
    let above: Vec<f64> = present.iter().copied().filter(|v| *v > midpoint).collect();
    if below.is_empty() || above.is_empty() {
        return Err(ClassifyError::OneSided {
            midpoint,
            below: below.len(),
            above: above.len(),
        });
    }
    let share =
        (k as f64 * below.len() as f64 / (below.len() + above.len()) as f64).round() as usize;
    let k_below = share.clamp(1, k - 1);
    let k_above = k - k_below;
    // Linear interpolation between order statistics (as the quantile scheme).
    let q = |sorted: &[f64], p: f64| {
        let pos = p * (sorted.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
    };
    let mut breaks = Vec::with_capacity(k);
    breaks.extend((1..k_below).map(|i| q(&below, i as f64 / k_below as f64)));
    breaks.push(midpoint);
    breaks.extend((1..k_above).map(|i| q(&above, i as f64 / k_above as f64)));
    breaks.push(present[present.len() - 1]);
    // Drop zero-width and empty classes (each merges into the class above it); the midpoint
    // and the last bound stay.
    let mut kept: Vec<f64> = Vec::with_capacity(breaks.len());
    let mut from = f64::NEG_INFINITY;
    let last = breaks.len() - 1;
    for (i, b) in breaks.into_iter().enumerate() {
        let holds = present.iter().any(|v| *v > from && *v <= b);
        // The last bound (the maximum) closes the top class, unless the one before is it.
        if b > from && (holds || b == midpoint || i == last) {
            kept.push(b);
            from = b;
        }
    }
    Ok(kept)
}

fn check_manual_breaks(breaks: &[f64]) -> Result<(), ClassifyError> {
    if breaks.is_empty() {
        return Err(ClassifyError::EmptyManualBreaks);
    }
    for (index, &value) in breaks.iter().enumerate() {
        if !value.is_finite() {
            return Err(ClassifyError::NonFiniteBreak { index, value });
        }
        if index > 0 && value <= breaks[index - 1] {
            return Err(ClassifyError::BreaksNotIncreasing {
                index,
                value,
                previous: breaks[index - 1],
            });
        }
    }
    Ok(())
}

/// scipy `scoreatpercentile(sorted, per)` with its default "fraction" (linear) interpolation,
/// evaluated with the same floating-point operations so that tied quantiles merge as in numpy.
fn score_at_percentile(sorted: &[f64], per: f64) -> f64 {
    let idx = per / 100.0 * (sorted.len() - 1) as f64;
    let i = idx as usize;
    if i as f64 == idx || i + 1 >= sorted.len() {
        return sorted[i.min(sorted.len() - 1)];
    }
    let j = (i + 1) as f64;
    let (w0, w1) = (j - idx, idx - i as f64);
    (sorted[i] * w0 + sorted[i + 1] * w1) / (w0 + w1)
}

/// mapclassify `quantile`: percentiles `np.arange(w, 100 + w, w)` with `w = 100 / k` (the last
/// clamped to 100), then `np.unique`. Hand-written because no crate reproduces scipy's
/// interpolation and mapclassify's merging of tied bounds.
fn quantile_breaks(sorted: &[f64], k: usize) -> Vec<f64> {
    let w = 100.0 / k as f64;
    // numpy arange: length ceil((stop - start) / step), element i = start + i * step.
    let len = (((100.0 + w) - w) / w).ceil() as usize;
    let mut q: Vec<f64> = (0..len)
        .map(|i| {
            let p = (w + i as f64 * w).min(100.0);
            score_at_percentile(sorted, p)
        })
        .collect();
    q.sort_by(f64::total_cmp);
    q.dedup();
    q
}

/// mapclassify `EqualInterval`: `np.arange(min + w, max + w, w)` truncated to k, last = max.
fn equal_interval_breaks(min: f64, max: f64, k: usize) -> Vec<f64> {
    let width = (max - min) / k as f64;
    let start = min + width;
    let stop = max + width;
    let len = ((stop - start) / width).ceil() as usize;
    // numpy fills arange as start + i * delta with delta = (start + step) - start.
    let delta = (start + width) - start;
    let mut cuts: Vec<f64> = (0..len.clamp(1, k))
        .map(|i| start + i as f64 * delta)
        .collect();
    if let Some(last) = cuts.last_mut() {
        *last = max;
    }
    cuts
}

/// Fisher-Jenks via `ckmeans` (exact optimum, see [`Scheme::NaturalBreaks`]): class maxima.
fn natural_breaks(sorted: &[f64], k: usize) -> Vec<f64> {
    // `k` is 2..=9 and the input holds at least k distinct finite values (checked by the caller),
    // so ckmeans cannot fail; fall back to the quantile bounds rather than panic if it ever did.
    match ckmeans::ckmeans_indices(sorted, k as u8) {
        Ok((ck_sorted, ranges)) => ranges.iter().map(|&(_, end)| ck_sorted[end]).collect(),
        Err(_) => quantile_breaks(sorted, k),
    }
}

/// mapclassify `StdMean`: `mean + m * std(ddof = 1)` for each multiple, max appended if above.
fn stddev_breaks(sorted: &[f64], multiples: &[f64]) -> Vec<f64> {
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let ss: f64 = sorted.iter().map(|v| (v - mean) * (v - mean)).sum();
    let s = if sorted.len() > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let mut cuts: Vec<f64> = multiples.iter().map(|m| mean + s * m).collect();
    let max = sorted[sorted.len() - 1];
    if cuts.last().is_none_or(|&last| last < max) {
        cuts.push(max);
    }
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().map(|&x| Some(x)).collect()
    }

    #[test]
    fn scheme_names_round_trip_and_errors_list_valid_names() {
        for name in Scheme::NAMES {
            let s: Scheme = name.parse().expect("classifies");
            assert_eq!(s.name(), name);
        }
        assert_eq!(
            "JENKS".parse::<Scheme>().expect("classifies"),
            Scheme::NaturalBreaks
        );
        let err = "natural"
            .parse::<Scheme>()
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("natural") && err.contains("quantile, equal, jenks, stddev, manual"));
    }

    #[test]
    fn k_out_of_range_is_an_error() {
        let v = some(&[1.0, 2.0, 3.0]);
        assert_eq!(
            classify(&v, &Scheme::Quantile, 1),
            Err(ClassifyError::ClassCountOutOfRange { k: 1 })
        );
        assert!(classify(&v, &Scheme::Quantile, 10).is_err());
        assert!(classify(&v, &Scheme::Quantile, 2).is_ok());
    }

    #[test]
    fn missing_values_are_no_data_not_lowest_class() {
        let v = vec![
            None,
            Some(f64::NAN),
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(4.0),
        ];
        let c = classify(&v, &Scheme::EqualInterval, 2).expect("classifies");
        assert_eq!(c.no_data, 2);
        assert_eq!(c.counts.iter().sum::<usize>(), 4);
        assert_eq!(c.min, 1.0);
        assert_eq!(c.class_of_opt(v[0]), None);
        assert_eq!(c.class_of_opt(v[1]), None);
        assert_eq!(
            classify(&[None, Some(f64::NAN)], &Scheme::Quantile, 3),
            Err(ClassifyError::AllMissing { total: 2 })
        );
    }

    #[test]
    fn too_few_distinct_values() {
        let v = some(&[5.0, 5.0, 5.0]);
        for s in [
            Scheme::Quantile,
            Scheme::EqualInterval,
            Scheme::NaturalBreaks,
            Scheme::StdDev,
        ] {
            assert!(matches!(
                classify(&v, &s, 3),
                Err(ClassifyError::TooFewDistinctValues { .. })
            ));
        }
        let v = some(&[1.0, 2.0, 2.0, 3.0]);
        assert!(matches!(
            classify(&v, &Scheme::NaturalBreaks, 4),
            Err(ClassifyError::TooFewDistinctValues {
                needed: 4,
                distinct: 3,
                ..
            })
        ));
    }

    #[test]
    fn quantiles_merge_tied_bounds_like_mapclassify() {
        // mapclassify.Quantiles([1]*6 + [2, 3, 4, 5], k=4): bins [1, 2.75, 5], counts [6, 1, 3]
        // (the first two quartiles are both 1 and merge).
        let v = some(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let c = classify(&v, &Scheme::Quantile, 4).expect("classifies");
        assert_eq!(c.breaks, vec![1.0, 2.75, 5.0]);
        assert_eq!(c.counts, vec![6, 1, 3]);
        // [1]*8 + [2, 3] merges down to two classes, [1, 3].
        let v = some(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0]);
        assert_eq!(
            classify(&v, &Scheme::Quantile, 4)
                .expect("classifies")
                .breaks,
            vec![1.0, 3.0]
        );
    }

    #[test]
    fn manual_breaks_append_max_and_validate() {
        let v = some(&[1.0, 5.0, 10.0, 20.0]);
        let c = classify(&v, &Scheme::Manual(vec![5.0, 10.0]), 2).expect("classifies");
        assert_eq!(c.breaks, vec![5.0, 10.0, 20.0]);
        assert_eq!(c.counts, vec![2, 1, 1]);
        let c = classify(&v, &Scheme::Manual(vec![5.0, 25.0]), 2).expect("classifies");
        assert_eq!(c.breaks, vec![5.0, 25.0]);
        assert_eq!(
            classify(&v, &Scheme::Manual(vec![]), 2),
            Err(ClassifyError::EmptyManualBreaks)
        );
        assert!(matches!(
            classify(&v, &Scheme::Manual(vec![5.0, 5.0]), 2),
            Err(ClassifyError::BreaksNotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            classify(&v, &Scheme::Manual(vec![1.0, f64::INFINITY]), 2),
            Err(ClassifyError::NonFiniteBreak { index: 1, .. })
        ));
        let many: Vec<f64> = (1..=9).map(|b| b as f64).collect();
        assert_eq!(
            classify(&v, &Scheme::Manual(many), 9),
            Err(ClassifyError::TooManyManualClasses { classes: 10 })
        );
    }

    #[test]
    fn stddev_uses_sample_std() {
        // mean 3, sample std sqrt(2.5)
        let v = some(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let c = classify(&v, &Scheme::StdDev, 3).expect("classifies");
        let s = 2.5_f64.sqrt();
        assert_eq!(c.breaks, vec![3.0 - s, 3.0 + s, 5.0]);
        assert_eq!(c.counts, vec![1, 3, 1]);
    }

    #[test]
    fn diverging_breaks_share_classes_by_side() {
        // 3 of 7 values below 0: 2 of 5 classes below, 3 above.
        let v = some(&[-4.0, -3.0, -1.0, 1.0, 2.0, 4.0, 6.0]);
        let b = diverging_breaks_around(&v, 0.0, 5).expect("classifies");
        assert_eq!(b, vec![-3.0, 0.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn diverging_breaks_of_skewed_changes_leave_no_class_empty() {
        // Almost every change positive: equal widths around 0 put nearly all in one class.
        let mut v: Vec<f64> = (1..=200).map(|i| f64::from(i) * 0.25).collect();
        v.extend([-35.0, -2.0, -1.0]);
        let v = some(&v);
        for k in 3..=9 {
            let b = diverging_breaks_around(&v, 0.0, k).expect("classifies");
            let c = classify(&v, &Scheme::Manual(b.clone()), b.len()).expect("classifies");
            assert!(
                c.counts.iter().all(|&n| n > 0),
                "k={k}: {b:?} {:?}",
                c.counts
            );
            assert!(b.contains(&0.0), "k={k}: 0 is a bound: {b:?}");
            assert!(b.windows(2).all(|w| w[0] < w[1]), "k={k}: {b:?}");
            assert!(c.breaks.len() <= k);
        }
    }
}
