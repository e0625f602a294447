//! Small areas (e.g. LSOAs) to districts or regions.
//!
//! Two steps: first an [`Assignment`] says which target each small area belongs to, either
//! through a lookup table ([`assign_by_lookup`]) or spatially, by the target polygon containing
//! the small area's interior point ([`interior_points`] + [`assign_by_point`]). Then
//! [`aggregate`](fn@crate::aggregate::aggregate) computes one [`Aggregation`](crate::aggregate::Aggregation) per target. Nothing is dropped silently: small
//! areas that could not be assigned, have no value, or have a missing, zero or invalid weight
//! are listed in [`Exclusions`](crate::aggregate::Exclusions).

use std::borrow::Cow;
use std::collections::HashMap;

use geo::{Centroid, Contains, InteriorPoint};
use geo_types::MultiPolygon;
use rayon::prelude::*;
use serde::Serialize;

use districts::codes::normalise_code;

use crate::error::AnalysisError;
use crate::table::{Cell, Table};

/// Why a small area has no target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedReason {
    /// The lookup table has no row for this code.
    NotInLookup,
    /// The lookup names a target code that is not among the targets.
    UnknownTarget {
        /// The code the lookup gave.
        target: String,
    },
    /// The geometry is empty, so it has no interior point.
    NoInteriorPoint,
    /// No target polygon contains the interior point.
    OutsideTargets,
    /// The point lookup returned a position past the end of the targets.
    BadTargetIndex {
        /// The position returned.
        index: usize,
    },
}

/// A small area that could not be assigned to a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unassigned {
    /// The small area's code.
    pub code: String,
    /// Why it has no target.
    pub reason: UnassignedReason,
}

/// Which target (by position in `target_codes`) each small area belongs to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assignment {
    /// Codes of the targets (e.g. LAD codes), in the order results are reported.
    pub target_codes: Vec<String>,
    /// For each small area, in input order, the position of its target.
    pub target: Vec<Option<usize>>,
    /// The small areas with no target, and why.
    pub unassigned: Vec<Unassigned>,
}

impl Assignment {
    /// Number of small areas assigned to a target.
    pub fn assigned_count(&self) -> usize {
        self.target.iter().filter(|t| t.is_some()).count()
    }
}

/// Assigns small areas to targets through a lookup table (small-area code -> target code),
/// e.g. the `Local Authority District code (2019)` column of IMD File 1.
///
/// Codes are compared trimmed and upper-cased on both sides.
///
/// ```
/// use std::collections::HashMap;
/// let lookup = HashMap::from([
///     ("E01000001".to_string(), "E09000001".to_string()),
///     ("E01000005".to_string(), "E09000099".to_string()),
/// ]);
/// let a = analysis::assign_by_lookup(&["E01000001", "E01000005", "E01999999"], &lookup, &["E09000001"]);
/// assert_eq!(a.target, vec![Some(0), None, None]);
/// assert_eq!(a.unassigned.len(), 2);
/// ```
pub fn assign_by_lookup<S: AsRef<str>, T: AsRef<str>>(
    small_codes: &[S],
    lookup: &HashMap<String, String>,
    target_codes: &[T],
) -> Assignment {
    let target_codes: Vec<String> = target_codes
        .iter()
        .map(|c| normalise_code(c.as_ref()))
        .collect();
    let position: HashMap<&str, usize> = target_codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    // Codes from layers and lookups are nearly always stored normalised already: borrow them
    // then, rather than allocating a copy of every key, value and small-area code (this
    // function runs once per derived indicator at start-up, over 32,844 LSOAs each time).
    let lookup: HashMap<Cow<'_, str>, Cow<'_, str>> = lookup
        .iter()
        .map(|(k, v)| (normalised(k), normalised(v)))
        .collect();
    let mut target = Vec::with_capacity(small_codes.len());
    let mut unassigned = Vec::new();
    for code in small_codes {
        let code = normalised(code.as_ref());
        match lookup.get(code.as_ref()) {
            None => {
                target.push(None);
                unassigned.push(Unassigned {
                    code: code.into_owned(),
                    reason: UnassignedReason::NotInLookup,
                });
            }
            Some(t) => match position.get(t.as_ref()) {
                Some(&i) => target.push(Some(i)),
                None => {
                    target.push(None);
                    unassigned.push(Unassigned {
                        code: code.into_owned(),
                        reason: UnassignedReason::UnknownTarget {
                            target: t.to_string(),
                        },
                    });
                }
            },
        }
    }
    Assignment {
        target_codes,
        target,
        unassigned,
    }
}

/// [`normalise_code`] without a copy when the code is already trimmed and upper case.
fn normalised(code: &str) -> Cow<'_, str> {
    if code.trim().len() == code.len() && !code.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Borrowed(code)
    } else {
        Cow::Owned(normalise_code(code))
    }
}

/// A point inside each geometry, as `(x, y)`; `None` for an empty geometry.
///
/// The area-weighted centroid when it lies strictly inside (it does for most small areas, and
/// it sits well away from the edges, so a neighbouring boundary generalised differently is less
/// likely to claim it); otherwise geo's `InteriorPoint`, which is inside even for concave or
/// holed shapes. Trying the centroid first is what makes this faster than GeoPandas'
/// `representative_point`: geo's interior point clips a scan line against the polygon with
/// boolean operations, about 4x the cost of a centroid plus a containment test.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// let sq = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 2.0), (x: 0.0, y: 2.0)];
/// // A U shape whose centroid (2, 1.25) falls in the notch.
/// let u = polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 3.0), (x: 3.0, y: 3.0),
///     (x: 3.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0)];
/// let pts = analysis::interior_points(&[
///     MultiPolygon(vec![sq]), MultiPolygon(vec![u.clone()]), MultiPolygon(vec![])]);
/// assert_eq!(pts[0], Some((1.0, 1.0)));
/// use geo::Contains;
/// let (x, y) = pts[1].unwrap();
/// assert!(u.contains(&geo_types::Point::new(x, y)), "({x}, {y}) is outside the U");
/// assert_eq!(pts[2], None);
/// ```
pub fn interior_points(geometries: &[MultiPolygon<f64>]) -> Vec<Option<(f64, f64)>> {
    geometries
        .par_iter()
        .map(|g| {
            g.centroid()
                .filter(|c| g.contains(c))
                .or_else(|| g.interior_point())
                .map(|p| (p.x(), p.y()))
        })
        .collect()
}

/// Assigns small areas to targets spatially: each point (normally the small area's interior
/// point) goes to the target that `locate` returns. `locate(x, y)` is any point lookup,
/// e.g. the districts R-tree; it must return a position in `target_codes`.
///
/// Lookups run in parallel; the output keeps the input order.
///
/// ```
/// let targets = ["WEST", "EAST"];
/// let locate = |x: f64, _y: f64| if x < 0.0 { Some(0) } else if x < 10.0 { Some(1) } else { None };
/// let a = analysis::assign_by_point(&["a", "b", "c", "d"],
///     &[Some((-1.0, 0.0)), Some((1.0, 0.0)), Some((50.0, 0.0)), None], &targets, locate);
/// assert_eq!(a.target, vec![Some(0), Some(1), None, None]);
/// assert_eq!(a.unassigned.len(), 2);
/// ```
pub fn assign_by_point<S, T, F>(
    small_codes: &[S],
    points: &[Option<(f64, f64)>],
    target_codes: &[T],
    locate: F,
) -> Assignment
where
    S: AsRef<str> + Sync,
    T: AsRef<str>,
    F: Fn(f64, f64) -> Option<usize> + Sync,
{
    let n_targets = target_codes.len();
    let found: Vec<Result<usize, UnassignedReason>> = points
        .par_iter()
        .map(|p| match p {
            None => Err(UnassignedReason::NoInteriorPoint),
            Some((x, y)) => match locate(*x, *y) {
                None => Err(UnassignedReason::OutsideTargets),
                Some(i) if i >= n_targets => Err(UnassignedReason::BadTargetIndex { index: i }),
                Some(i) => Ok(i),
            },
        })
        .collect();
    let mut target = Vec::with_capacity(found.len());
    let mut unassigned = Vec::new();
    for (i, f) in found.into_iter().enumerate() {
        match f {
            Ok(t) => target.push(Some(t)),
            Err(reason) => {
                target.push(None);
                let code = small_codes
                    .get(i)
                    .map_or_else(|| format!("#{i}"), |c| normalise_code(c.as_ref()));
                unassigned.push(Unassigned { code, reason });
            }
        }
    }
    // Codes beyond the points given are areas with no point at all.
    for c in small_codes.iter().skip(points.len()) {
        target.push(None);
        unassigned.push(Unassigned {
            code: normalise_code(c.as_ref()),
            reason: UnassignedReason::NoInteriorPoint,
        });
    }
    Assignment {
        target_codes: target_codes
            .iter()
            .map(|c| normalise_code(c.as_ref()))
            .collect(),
        target,
        unassigned,
    }
}

/// Which values count as "in the class" for [`Aggregation::Share`] (bounds inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassRule {
    /// Exactly this value, e.g. decile 1.
    Equal(f64),
    /// This value or below, e.g. rank <= 3,284.
    AtMost(f64),
    /// This value or above.
    AtLeast(f64),
    /// Between the two values, both included.
    Between(f64, f64),
}

impl ClassRule {
    /// Whether `v` is in the class.
    pub fn contains(&self, v: f64) -> bool {
        match *self {
            ClassRule::Equal(c) => v == c,
            ClassRule::AtMost(c) => v <= c,
            ClassRule::AtLeast(c) => v >= c,
            ClassRule::Between(lo, hi) => v >= lo && v <= hi,
        }
    }
}

/// The statistic computed per target from its small areas' values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Plain mean of the values.
    Mean,
    /// Mean weighted by the weights (e.g. population); areas with missing, zero, negative or
    /// non-finite weights are excluded and reported.
    WeightedMean,
    /// Sum of the values (e.g. counts of people).
    Sum,
    /// Median (mean of the two middle values for an even count, as numpy).
    Median,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Share (0..1) of the small areas with a value whose value is in the class.
    Share(ClassRule),
}

impl Aggregation {
    fn label(&self) -> String {
        match self {
            Aggregation::Mean => "mean".into(),
            Aggregation::WeightedMean => "weighted_mean".into(),
            Aggregation::Sum => "sum".into(),
            Aggregation::Median => "median".into(),
            Aggregation::Min => "min".into(),
            Aggregation::Max => "max".into(),
            Aggregation::Share(_) => "share".into(),
        }
    }
}

/// The aggregate for one target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregateRow {
    /// Target code.
    pub code: String,
    /// The statistic; `None` when no small area of this target was usable.
    pub value: Option<f64>,
    /// Small areas assigned to this target.
    pub areas_assigned: usize,
    /// Small areas that entered the statistic.
    pub areas_used: usize,
    /// Sum of the weights used (weighted statistics only).
    pub weight_total: Option<f64>,
}

/// Small areas left out of the statistic, by reason (codes).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Exclusions {
    /// Not assigned to any target.
    pub unassigned: Vec<Unassigned>,
    /// Assigned, but no (finite) value.
    pub missing_value: Vec<String>,
    /// Weighted statistic: no weight.
    pub missing_weight: Vec<String>,
    /// Weighted statistic: weight exactly zero.
    pub zero_weight: Vec<String>,
    /// Weighted statistic: negative or non-finite weight.
    pub invalid_weight: Vec<String>,
}

impl Exclusions {
    /// Total number of small areas excluded.
    pub fn count(&self) -> usize {
        self.unassigned.len()
            + self.missing_value.len()
            + self.missing_weight.len()
            + self.zero_weight.len()
            + self.invalid_weight.len()
    }
}

/// The result of [`aggregate`](fn@aggregate): one row per target plus what was left out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregateResult {
    /// The statistic computed.
    pub aggregation: Aggregation,
    /// One row per target, in `target_codes` order.
    pub rows: Vec<AggregateRow>,
    /// Small areas not used, with reasons.
    pub exclusions: Exclusions,
}

impl AggregateResult {
    /// The row for a target code.
    pub fn row(&self, code: &str) -> Option<&AggregateRow> {
        let code = normalise_code(code);
        self.rows.iter().find(|r| r.code == code)
    }

    /// Table form: `code, <statistic>, areas_assigned, areas_used, weight_total`.
    pub fn to_table(&self) -> Table {
        let label = self.aggregation.label();
        let mut t = Table::new(&[
            "code",
            label.as_str(),
            "areas_assigned",
            "areas_used",
            "weight_total",
        ]);
        for r in &self.rows {
            t.push(vec![
                Cell::from(r.code.as_str()),
                Cell::from(r.value),
                Cell::from(r.areas_assigned),
                Cell::from(r.areas_used),
                Cell::from(r.weight_total),
            ]);
        }
        t
    }

    /// Table form of the exclusions: `code, reason`.
    pub fn exclusions_table(&self) -> Table {
        let mut t = Table::new(&["code", "reason"]);
        for u in &self.exclusions.unassigned {
            let reason = match &u.reason {
                UnassignedReason::NotInLookup => "not in lookup".to_string(),
                UnassignedReason::UnknownTarget { target } => format!("unknown target {target}"),
                UnassignedReason::NoInteriorPoint => "no interior point".to_string(),
                UnassignedReason::OutsideTargets => "outside every target".to_string(),
                UnassignedReason::BadTargetIndex { index } => format!("bad target index {index}"),
            };
            t.push(vec![Cell::from(u.code.as_str()), Cell::from(reason)]);
        }
        let e = &self.exclusions;
        for (codes, reason) in [
            (&e.missing_value, "missing value"),
            (&e.missing_weight, "missing weight"),
            (&e.zero_weight, "zero weight"),
            (&e.invalid_weight, "negative or non-finite weight"),
        ] {
            for c in codes {
                t.push(vec![Cell::from(c.as_str()), Cell::from(reason)]);
            }
        }
        t
    }
}

/// Aggregates small-area `values` (aligned with `small_codes` and with `assignment.target`)
/// to the assignment's targets. `weights` (aligned likewise) are needed for
/// [`Aggregation::WeightedMean`] and ignored otherwise.
///
/// ```
/// use std::collections::HashMap;
/// use analysis::{aggregate, assign_by_lookup, Aggregation};
/// let lookup = HashMap::from([
///     ("a".to_string(), "X".to_string()), ("b".to_string(), "X".to_string()),
///     ("c".to_string(), "Y".to_string()),
/// ]);
/// let a = assign_by_lookup(&["a", "b", "c"], &lookup, &["X", "Y"]);
/// let values = [Some(10.0), Some(20.0), Some(5.0)];
/// let pop = [Some(1.0), Some(3.0), Some(0.0)];
/// let r = aggregate(&["a", "b", "c"], &values, Some(&pop), &a, Aggregation::WeightedMean).unwrap();
/// assert_eq!(r.rows[0].value, Some(17.5));
/// assert_eq!(r.rows[1].value, None); // its only area has weight 0 ...
/// assert_eq!(r.exclusions.zero_weight, vec!["C"]); // ... which is reported
/// ```
pub fn aggregate<S: AsRef<str>>(
    small_codes: &[S],
    values: &[Option<f64>],
    weights: Option<&[Option<f64>]>,
    assignment: &Assignment,
    how: Aggregation,
) -> Result<AggregateResult, AnalysisError> {
    let n = small_codes.len();
    check_len("values", n, values.len())?;
    check_len("assignment", n, assignment.target.len())?;
    let weighted = matches!(how, Aggregation::WeightedMean);
    let weights = match (weighted, weights) {
        (true, None) => {
            return Err(AnalysisError::InvalidParameter {
                name: "weights",
                reason: "a weighted mean needs weights".into(),
            });
        }
        (true, Some(w)) => {
            check_len("weights", n, w.len())?;
            Some(w)
        }
        (false, _) => None,
    };

    let n_targets = assignment.target_codes.len();
    let mut per_target: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n_targets];
    let mut assigned = vec![0usize; n_targets];
    let mut exclusions = Exclusions {
        unassigned: assignment.unassigned.clone(),
        ..Default::default()
    };
    for i in 0..n {
        let Some(t) = assignment.target[i].filter(|&t| t < n_targets) else {
            continue;
        };
        assigned[t] += 1;
        let code = || normalise_code(small_codes[i].as_ref());
        let Some(v) = values[i].filter(|v| v.is_finite()) else {
            exclusions.missing_value.push(code());
            continue;
        };
        let w = match weights {
            None => 1.0,
            Some(ws) => match ws[i] {
                None => {
                    exclusions.missing_weight.push(code());
                    continue;
                }
                Some(0.0) => {
                    exclusions.zero_weight.push(code());
                    continue;
                }
                Some(w) if !w.is_finite() || w < 0.0 => {
                    exclusions.invalid_weight.push(code());
                    continue;
                }
                Some(w) => w,
            },
        };
        per_target[t].push((v, w));
    }

    let rows = per_target
        .into_iter()
        .enumerate()
        .map(|(t, vw)| AggregateRow {
            code: assignment.target_codes[t].clone(),
            value: statistic(&vw, how),
            areas_assigned: assigned[t],
            areas_used: vw.len(),
            weight_total: weighted.then(|| vw.iter().map(|(_, w)| w).sum()),
        })
        .collect();
    Ok(AggregateResult {
        aggregation: how,
        rows,
        exclusions,
    })
}

fn statistic(vw: &[(f64, f64)], how: Aggregation) -> Option<f64> {
    if vw.is_empty() {
        return None;
    }
    let n = vw.len() as f64;
    Some(match how {
        Aggregation::Mean => vw.iter().map(|(v, _)| v).sum::<f64>() / n,
        Aggregation::WeightedMean => {
            let (sw, swv) = vw
                .iter()
                .fold((0.0, 0.0), |(sw, swv), (v, w)| (sw + w, swv + w * v));
            swv / sw
        }
        Aggregation::Sum => vw.iter().map(|(v, _)| v).sum(),
        Aggregation::Median => {
            let mut v: Vec<f64> = vw.iter().map(|(v, _)| *v).collect();
            v.sort_by(f64::total_cmp);
            crate::compare::quantile_sorted(&v, 0.5)?
        }
        Aggregation::Min => vw.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min),
        Aggregation::Max => vw.iter().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max),
        Aggregation::Share(rule) => vw.iter().filter(|(v, _)| rule.contains(*v)).count() as f64 / n,
    })
}

pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), AnalysisError> {
    if expected == got {
        Ok(())
    } else {
        Err(AnalysisError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}
