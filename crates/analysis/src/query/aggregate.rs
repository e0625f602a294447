//! Small areas aggregated to a layer's districts, through a lookup or by location.

use std::collections::HashMap;

use districts::Layer;
use districts::indicators::LookupTable;
use serde::Serialize;

use super::{QueryError, numeric};
use crate::aggregate::{AggregateResult, Aggregation, Assignment, ClassRule};
use crate::table::{Cell, Table};

/// Where a small area's target code comes from when aggregating through a lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A kept attribute of the source layer, e.g. `lad19cd` on `lsoa11`.
    Attribute(String),
    /// A column of a catalogued lookup table keyed by the source codes, e.g. `MSOA11CD` of
    /// `lsoa11_msoa11_lad17`.
    Lookup {
        /// The lookup table's catalogue id.
        table: String,
        /// Its column holding the target code.
        column: String,
    },
}

impl KeySource {
    /// `lad19cd` (an attribute of the source layer) or `TABLE.COLUMN` (a lookup column).
    ///
    /// ```
    /// use analysis::query::KeySource;
    /// assert_eq!(KeySource::parse("lad19cd"), KeySource::Attribute("lad19cd".into()));
    /// assert_eq!(
    ///     KeySource::parse("lsoa11_msoa11_lad17.MSOA11CD"),
    ///     KeySource::Lookup { table: "lsoa11_msoa11_lad17".into(), column: "MSOA11CD".into() }
    /// );
    /// ```
    pub fn parse(raw: &str) -> KeySource {
        match raw.split_once('.') {
            Some((table, column)) => KeySource::Lookup {
                table: table.trim().to_string(),
                column: column.trim().to_string(),
            },
            None => KeySource::Attribute(raw.trim().to_string()),
        }
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Attribute(a) => write!(f, "attribute {a} of the source layer"),
            KeySource::Lookup { table, column } => write!(f, "lookup {table}, column {column}"),
        }
    }
}

/// How small areas find their target district.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// Through a code: the given source, or (`None`) the attribute or lookup column that
    /// assigns the most areas to the target's districts.
    Lookup(Option<KeySource>),
    /// The target district containing each area's interior point.
    Spatial,
}

impl Via {
    /// `lookup` or `spatial`.
    ///
    /// ```
    /// use analysis::query::Via;
    /// assert_eq!(Via::parse("spatial").unwrap(), Via::Spatial);
    /// assert!(Via::parse("teleport").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<Via, QueryError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "lookup" => Ok(Via::Lookup(None)),
            "spatial" => Ok(Via::Spatial),
            other => Err(QueryError::invalid(
                "via",
                format!("{other:?} is not a way to assign areas"),
                "via=lookup (codes from an attribute or catalogued lookup) or via=spatial",
            )),
        }
    }
}

/// Parses how areas find their district: `via` (`lookup`, the default, or `spatial`) and, for
/// a lookup, an optional `key` ([`KeySource::parse`]).
///
/// ```
/// use analysis::query::{parse_via, KeySource, Via};
/// assert_eq!(parse_via(None, None).unwrap(), Via::Lookup(None));
/// assert_eq!(
///     parse_via(Some("lookup"), Some("lad19cd")).unwrap(),
///     Via::Lookup(Some(KeySource::Attribute("lad19cd".into())))
/// );
/// assert!(parse_via(Some("spatial"), Some("lad19cd")).is_err());
/// ```
pub fn parse_via(via: Option<&str>, key: Option<&str>) -> Result<Via, QueryError> {
    let via = via.map_or(Ok(Via::Lookup(None)), Via::parse)?;
    match (key, via) {
        (None, via) => Ok(via),
        (Some(_), Via::Spatial) => Err(QueryError::invalid(
            "key",
            "a key applies to via=lookup only",
            "drop the key or use via=lookup",
        )),
        (Some(k), Via::Lookup(_)) => Ok(Via::Lookup(Some(KeySource::parse(k)))),
    }
}

/// Parses the statistic: `mean | weighted-mean | sum | median | min | max | share`; `share`
/// needs a class ([`parse_class`]).
///
/// ```
/// use analysis::{Aggregation, ClassRule};
/// use analysis::query::parse_how;
/// assert_eq!(parse_how("weighted-mean", None).unwrap(), Aggregation::WeightedMean);
/// assert_eq!(parse_how("share", Some("<=3284")).unwrap(), Aggregation::Share(ClassRule::AtMost(3284.0)));
/// assert!(parse_how("share", None).is_err());
/// assert!(parse_how("mean", Some("=1")).is_err());
/// ```
pub fn parse_how(how: &str, class: Option<&str>) -> Result<Aggregation, QueryError> {
    let hint = "how=mean|weighted-mean|sum|median|min|max|share (share with class=, e.g. class==1 or class=<=3284)";
    let agg = match how.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "mean" => Aggregation::Mean,
        "weighted-mean" => Aggregation::WeightedMean,
        "sum" => Aggregation::Sum,
        "median" => Aggregation::Median,
        "min" => Aggregation::Min,
        "max" => Aggregation::Max,
        "share" => {
            let class = class.ok_or_else(|| {
                QueryError::invalid("class", "how=share needs a class of values to count", hint)
            })?;
            return Ok(Aggregation::Share(parse_class(class)?));
        }
        other => {
            return Err(QueryError::invalid(
                "how",
                format!("{other:?} is not a statistic"),
                hint,
            ));
        }
    };
    if class.is_some() {
        return Err(QueryError::invalid(
            "class",
            "a class applies to how=share only",
            hint,
        ));
    }
    Ok(agg)
}

/// Parses a class of values: `=1` or `1`, `<=3284`, `>=10`, `1..3` (bounds included). A
/// leading `name` before the operator (`decile=1`) is allowed and ignored: the class applies
/// to the aggregated indicator.
///
/// ```
/// use analysis::ClassRule;
/// use analysis::query::parse_class;
/// assert_eq!(parse_class("decile=1").unwrap(), ClassRule::Equal(1.0));
/// assert_eq!(parse_class(">=9").unwrap(), ClassRule::AtLeast(9.0));
/// assert_eq!(parse_class("1..3").unwrap(), ClassRule::Between(1.0, 3.0));
/// assert!(parse_class("<=x").is_err());
/// ```
pub fn parse_class(raw: &str) -> Result<ClassRule, QueryError> {
    let bad = |why: String| {
        QueryError::invalid(
            "class",
            why,
            "class as =1, <=3284, >=9 or 1..3 (bounds included)",
        )
    };
    let num = |s: &str| -> Result<f64, QueryError> {
        s.trim()
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("{s:?} is not a number")))
    };
    let s = raw.trim();
    // Drop a leading name such as `decile` in `decile=1`.
    let start = s
        .find(|c: char| c == '<' || c == '>' || c == '=' || c == '-' || c.is_ascii_digit())
        .unwrap_or(s.len());
    let s = &s[start..];
    if let Some(rest) = s.strip_prefix("<=") {
        return Ok(ClassRule::AtMost(num(rest)?));
    }
    if let Some(rest) = s.strip_prefix(">=") {
        return Ok(ClassRule::AtLeast(num(rest)?));
    }
    if let Some((lo, hi)) = s.split_once("..") {
        let (lo, hi) = (num(lo)?, num(hi)?);
        if lo > hi {
            return Err(bad(format!("{raw:?}: the lower bound is above the upper")));
        }
        return Ok(ClassRule::Between(lo, hi));
    }
    let s = s
        .strip_prefix("==")
        .or_else(|| s.strip_prefix('='))
        .unwrap_or(s);
    if s.is_empty() {
        return Err(bad(format!("{raw:?} names no value")));
    }
    Ok(ClassRule::Equal(num(s)?))
}

/// An aggregation asked of two layers.
#[derive(Clone, Debug)]
pub struct AggregateRequest {
    /// Indicator of the source layer to aggregate, e.g. `imd_rank`.
    pub indicator: String,
    /// Its period (default period when `None`).
    pub period: Option<String>,
    /// The statistic.
    pub how: Aggregation,
    /// Indicator of the source layer used as weights (weighted mean), e.g. `population_total`.
    pub weights: Option<String>,
    /// How areas find their target.
    pub via: Via,
}

/// An aggregation's result with the names of the targets and how areas were assigned.
#[derive(Clone, Debug, Serialize)]
pub struct AggregateOutput {
    /// Source layer id.
    pub from: String,
    /// Target layer id.
    pub to: String,
    /// Aggregated indicator.
    pub indicator: String,
    /// Its period.
    pub period: String,
    /// Weights indicator and its period, if any.
    pub weights: Option<String>,
    /// How areas were assigned, in words (`attribute lad19cd of the source layer`, `spatial`).
    pub via: String,
    /// Small areas in the source layer.
    pub areas: usize,
    /// Small areas assigned to a target.
    pub assigned: usize,
    /// Target names, aligned with `result.rows`.
    pub names: Vec<String>,
    /// Per-target values and the exclusions.
    pub result: AggregateResult,
}

impl AggregateOutput {
    /// Table: `code, name, value, areas_assigned, areas_used, weight_total`.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&[
            "code",
            "name",
            "value",
            "areas_assigned",
            "areas_used",
            "weight_total",
        ]);
        for (r, name) in self.result.rows.iter().zip(&self.names) {
            t.push(vec![
                Cell::from(r.code.as_str()),
                Cell::from(name.as_str()),
                Cell::from(r.value),
                Cell::from(r.areas_assigned),
                Cell::from(r.areas_used),
                Cell::from(r.weight_total),
            ]);
        }
        t
    }

    /// One line per kind of exclusion, e.g. `unassigned (outside every target): 3`.
    pub fn exclusion_summary(&self) -> Vec<(String, usize)> {
        let e = &self.result.exclusions;
        let mut by_reason: std::collections::BTreeMap<String, usize> = Default::default();
        for u in &e.unassigned {
            let reason = match &u.reason {
                crate::aggregate::UnassignedReason::NotInLookup => "unassigned: not in lookup",
                crate::aggregate::UnassignedReason::UnknownTarget { .. } => {
                    "unassigned: lookup names a code with no district"
                }
                crate::aggregate::UnassignedReason::NoInteriorPoint => "unassigned: empty geometry",
                crate::aggregate::UnassignedReason::OutsideTargets => {
                    "unassigned: outside every district"
                }
                crate::aggregate::UnassignedReason::BadTargetIndex { .. } => {
                    "unassigned: bad target"
                }
            };
            *by_reason.entry(reason.to_string()).or_default() += 1;
        }
        let mut out: Vec<(String, usize)> = by_reason.into_iter().collect();
        for (codes, what) in [
            (&e.missing_value, "missing value"),
            (&e.missing_weight, "missing weight"),
            (&e.zero_weight, "zero weight"),
            (&e.invalid_weight, "negative or non-finite weight"),
        ] {
            if !codes.is_empty() {
                out.push((what.to_string(), codes.len()));
            }
        }
        out
    }
}

/// Target codes of each source area through one key source (`None` where it has none).
fn keys_from(
    source: &Layer,
    key: &KeySource,
    lookups: &[LookupTable],
) -> Result<Vec<Option<String>>, QueryError> {
    match key {
        KeySource::Attribute(a) => {
            let v = crate::layer::attribute(source, a);
            if v.iter().all(Option::is_none) {
                return Err(QueryError::invalid(
                    "lookup",
                    format!("layer {} has no attribute {a:?}", source.meta.id),
                    format!(
                        "attributes of {}: {}",
                        source.meta.id,
                        source.meta.attributes.join(", ")
                    ),
                ));
            }
            Ok(v)
        }
        KeySource::Lookup { table, column } => {
            let t = lookups.iter().find(|t| &t.id == table).ok_or_else(|| {
                QueryError::invalid(
                    "lookup",
                    format!("no lookup table {table:?} loaded"),
                    format!(
                        "lookups: {}",
                        lookups
                            .iter()
                            .map(|t| t.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            if !t.columns.contains(column) {
                return Err(QueryError::invalid(
                    "lookup",
                    format!("lookup {table} has no column {column:?}"),
                    format!("columns of {table}: {}", t.columns.join(", ")),
                ));
            }
            Ok(source
                .districts
                .iter()
                .map(|d| t.get(&d.code, column).map(str::to_string))
                .collect())
        }
    }
}

/// Every attribute of the source layer and every column of the lookups, as key sources.
fn key_candidates(source: &Layer, lookups: &[LookupTable]) -> Vec<KeySource> {
    let mut c: Vec<KeySource> = source
        .meta
        .attributes
        .iter()
        .map(|a| KeySource::Attribute(a.clone()))
        .collect();
    for t in lookups {
        for col in &t.columns {
            c.push(KeySource::Lookup {
                table: t.id.clone(),
                column: col.clone(),
            });
        }
    }
    c
}

/// Assigns the source layer's areas to the target's districts.
fn assignment(
    source: &Layer,
    target: &Layer,
    via: &Via,
    lookups: &[LookupTable],
) -> Result<(Assignment, String), QueryError> {
    let small = crate::layer::codes(source);
    let targets = crate::layer::codes(target);
    match via {
        Via::Spatial => {
            let pts = crate::aggregate::interior_points(&crate::layer::geometries(source));
            let a = crate::aggregate::assign_by_point(&small, &pts, &targets, |x, y| {
                target.index.lookup(x, y)
            });
            Ok((
                a,
                "spatial: interior point of each area in the target districts".into(),
            ))
        }
        Via::Lookup(key) => {
            let chosen: Vec<KeySource> = match key {
                Some(k) => vec![k.clone()],
                None => key_candidates(source, lookups),
            };
            let mut best: Option<(usize, Assignment, &KeySource)> = None;
            for k in &chosen {
                let keys = match keys_from(source, k, lookups) {
                    Ok(keys) => keys,
                    Err(e) if key.is_some() => return Err(e),
                    Err(_) => continue,
                };
                let map: HashMap<String, String> = small
                    .iter()
                    .zip(keys)
                    .filter_map(|(c, k)| k.map(|k| (c.clone(), k)))
                    .collect();
                let a = crate::aggregate::assign_by_lookup(&small, &map, &targets);
                let n = a.assigned_count();
                if best.as_ref().is_none_or(|(m, _, _)| n > *m) {
                    best = Some((n, a, k));
                }
            }
            match best {
                Some((n, a, k)) if n > 0 => Ok((a, format!("lookup: {k}"))),
                _ => Err(QueryError::NoLookup {
                    from: source.meta.id.clone(),
                    to: target.meta.id.clone(),
                    reason: format!(
                        "no attribute of {} nor catalogued lookup column holds {} codes",
                        source.meta.id, target.meta.id
                    ),
                }),
            }
        }
    }
}

/// Aggregates an indicator of `source` (small areas) to the districts of `target`.
pub fn aggregate_layers(
    source: &Layer,
    target: &Layer,
    req: &AggregateRequest,
    lookups: &[LookupTable],
) -> Result<AggregateOutput, QueryError> {
    let (period, values) = numeric(source, &req.indicator, req.period.as_deref())?;
    let weights = match (&req.weights, req.how) {
        (Some(w), Aggregation::WeightedMean) => Some(numeric(source, w, None)?),
        (None, Aggregation::WeightedMean) => {
            return Err(QueryError::invalid(
                "weights",
                "how=weighted-mean needs weights",
                format!(
                    "weights=<numeric indicator of {}>, e.g. population_total",
                    source.meta.id
                ),
            ));
        }
        (Some(_), _) => {
            return Err(QueryError::invalid(
                "weights",
                "weights apply to how=weighted-mean only",
                "drop weights= or use how=weighted-mean",
            ));
        }
        (None, _) => None,
    };
    let (assignment, via) = assignment(source, target, &req.via, lookups)?;
    let small = crate::layer::codes(source);
    let result = crate::aggregate::aggregate(
        &small,
        &values,
        weights.as_ref().map(|(_, w)| w.as_slice()),
        &assignment,
        req.how,
    )?;
    let names = result
        .rows
        .iter()
        .map(|r| {
            target
                .district(&r.code)
                .map(|d| d.name.clone())
                .unwrap_or_default()
        })
        .collect();
    Ok(AggregateOutput {
        from: source.meta.id.clone(),
        to: target.meta.id.clone(),
        indicator: req.indicator.clone(),
        period,
        weights: weights
            .as_ref()
            .zip(req.weights.as_ref())
            .map(|((p, _), w)| format!("{w} ({p})")),
        via,
        areas: small.len(),
        assigned: assignment.assigned_count(),
        names,
        result,
    })
}
