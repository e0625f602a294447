//! Analyses of loaded layers named by id (layer, indicator, period, grouping): the one
//! implementation behind `placemap aggregate | compare | clusters` and the `/stats/...` routes,
//! so the command line and the server always give the same numbers.
//!
//! Every function takes loaded [`Layer`](districts::Layer)s and plain request structs, checks the request
//! against the layer (unknown indicator, period, group, code: [`QueryError`](crate::query::QueryError) listing what
//! exists) and returns a serialisable output with a table form.

use std::collections::HashMap;

use districts::Layer;
use districts::indicators::LookupTable;
use serde::Serialize;

use crate::aggregate::{AggregateResult, Aggregation, Assignment, ClassRule};
use crate::compare::{Comparison, Grouping, RankOrder};
use crate::correlation::{Correlation, CorrelationMethod};
use crate::error::AnalysisError;
use crate::moran::{LisaClass, LocalMoran, MoranGlobal};
use crate::table::{Cell, Table};

/// What went wrong answering a request, with what the user can do about it ([`QueryError::hint`]).
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A statistic could not be computed, or a group, code or indicator is unknown.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// A request option with a value that cannot be used.
    #[error("invalid {name}: {reason}")]
    Invalid {
        name: &'static str,
        reason: String,
        hint: String,
    },
    /// No lookup relates the source layer's areas to the target layer's districts.
    #[error("no lookup assigns {from} areas to {to} districts: {reason}")]
    NoLookup {
        from: String,
        to: String,
        reason: String,
    },
}

/// How a [`QueryError`] should be answered (HTTP maps it to a status; the CLI to a message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed or contradictory options (400).
    BadRequest,
    /// Unknown layer, indicator, period, group or code (404).
    NotFound,
    /// Well-formed, but the data cannot give the statistic (422).
    Unprocessable,
    /// A bug (500).
    Internal,
}

impl QueryError {
    fn invalid(name: &'static str, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        QueryError::Invalid {
            name,
            reason: reason.into(),
            hint: hint.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueryError::Invalid { .. } => ErrorKind::BadRequest,
            QueryError::NoLookup { .. } => ErrorKind::Unprocessable,
            QueryError::Analysis(e) => match e {
                AnalysisError::UnknownGroup { .. }
                | AnalysisError::UnknownCode { .. }
                | AnalysisError::NotInLayer { .. } => ErrorKind::NotFound,
                AnalysisError::EmptyGroup { .. }
                | AnalysisError::TooFewValues { .. }
                | AnalysisError::Undefined { .. } => ErrorKind::Unprocessable,
                AnalysisError::InvalidParameter { .. } => ErrorKind::BadRequest,
                AnalysisError::LengthMismatch { .. } => ErrorKind::Internal,
            },
        }
    }

    /// What to do about it: the valid ids, groups or values.
    pub fn hint(&self) -> String {
        match self {
            QueryError::Invalid { hint, .. } => hint.clone(),
            QueryError::NoLookup { .. } => {
                "use via=spatial (interior point of each area in the target districts)".into()
            }
            QueryError::Analysis(e) => match e {
                AnalysisError::UnknownGroup { known, .. } => format!("valid groups: {known}"),
                AnalysisError::NotInLayer {
                    what, available, ..
                } => format!("valid {what}s: {available}"),
                AnalysisError::UnknownCode { .. } => {
                    "give district codes of this layer, e.g. E06000001".into()
                }
                AnalysisError::EmptyGroup { .. } => {
                    "pick a group with districts that have a value for this indicator and period"
                        .into()
                }
                AnalysisError::TooFewValues { .. } | AnalysisError::Undefined { .. } => {
                    "pick another indicator, period or a wider set of districts".into()
                }
                AnalysisError::InvalidParameter { name, .. } => {
                    format!("check the value of {name}")
                }
                AnalysisError::LengthMismatch { .. } => "this is a bug in placemap".into(),
            },
        }
    }
}

/// A numeric indicator's values for one period (its default when `None`), with the label used.
pub fn numeric(
    layer: &Layer,
    indicator: &str,
    period: Option<&str>,
) -> Result<(String, Vec<Option<f64>>), QueryError> {
    let values = crate::layer::numeric_values(layer, indicator, period)?;
    let label = match period {
        Some(p) => p.to_string(),
        None => layer
            .indicator(indicator)
            .map(|i| i.default_period.clone())
            .unwrap_or_default(),
    };
    Ok((label, values))
}

/// Values of districts outside England (codes not starting with `E`) set to `None`.
fn england_only(layer: &Layer, mut values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    for (v, d) in values.iter_mut().zip(&layer.districts) {
        if !d.code.starts_with('E') {
            *v = None;
        }
    }
    values
}

// ------------------------------------------------------------------------------------------
// Aggregation

/// Where a small area's target code comes from when aggregating through a lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A kept attribute of the source layer, e.g. `lad19cd` on `lsoa11`.
    Attribute(String),
    /// A column of a catalogued lookup table keyed by the source codes, e.g. `MSOA11CD` of
    /// `lsoa11_msoa11_lad17`.
    Lookup { table: String, column: String },
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

// ------------------------------------------------------------------------------------------
// Groups and correlation

/// The ways of grouping districts, for hints.
pub const GROUP_BY_HELP: &str = "group_by=country | region | codes | area_class_subgroup | area_class_group | area_class_supergroup | <any categorical indicator or attribute of the layer>";

/// Groups the districts of `layer` by `group_by`: `country` (from the code), `codes` (the
/// listed `codes` as group `name`, the rest as `rest`), `region` (the layer's `region_name`
/// attribute, else a lookup table's `RGN11NM` by district code), a categorical indicator
/// (e.g. `area_class_subgroup`: its default period) or a kept attribute.
pub fn grouping(
    layer: &Layer,
    group_by: &str,
    codes: &[String],
    name: Option<&str>,
    lookups: &[LookupTable],
) -> Result<Grouping, QueryError> {
    let layer_codes = crate::layer::codes(layer);
    match group_by {
        "country" => return Ok(Grouping::by_country(&layer_codes)),
        "codes" => {
            if codes.is_empty() {
                return Err(QueryError::invalid(
                    "codes",
                    "group_by=codes needs a list of district codes",
                    "codes=E06000001,E06000002",
                ));
            }
            return Ok(Grouping::from_code_list(
                &layer_codes,
                name.unwrap_or("listed"),
                codes,
            )?);
        }
        _ => {}
    }
    if let Some(ind) = layer.indicator(group_by) {
        let p = ind.period(&ind.default_period);
        if let Some(districts::model::PeriodValues::Categorical(v)) = p.map(|p| &p.values) {
            return Ok(Grouping::from_labels(group_by, v.clone()));
        }
        return Err(QueryError::invalid(
            "group_by",
            format!("indicator {group_by} is numeric, not a grouping"),
            GROUP_BY_HELP,
        ));
    }
    if group_by == "region" && !layer.meta.attributes.iter().any(|a| a == "region_name") {
        // Through a lookup: district code -> region name (e.g. LAD17CD -> RGN11NM).
        for t in lookups {
            let (Some(rgn), Some(code_col)) = (
                t.columns.iter().position(|c| c == "RGN11NM"),
                t.columns
                    .iter()
                    .position(|c| c.starts_with("LAD") && c.ends_with("CD")),
            ) else {
                continue;
            };
            let map: HashMap<String, String> = t
                .rows
                .values()
                .filter_map(|r| Some((r.get(code_col)?.clone(), r.get(rgn)?.clone())))
                .collect();
            let g = Grouping::from_lookup("region", &layer_codes, &map);
            if g.labels.iter().any(Option::is_some) {
                return Ok(g);
            }
        }
    }
    let attr = if group_by == "region" {
        "region_name"
    } else {
        group_by
    };
    if layer.meta.attributes.iter().any(|a| a == attr) {
        return Ok(Grouping::from_labels(
            group_by,
            crate::layer::attribute(layer, attr),
        ));
    }
    Err(QueryError::invalid(
        "group_by",
        format!("layer {} cannot be grouped by {group_by:?}", layer.meta.id),
        GROUP_BY_HELP,
    ))
}

/// A comparison of groups asked of one layer.
#[derive(Clone, Debug, Default)]
pub struct CompareRequest {
    /// Numeric indicator compared.
    pub indicator: String,
    /// Its period (default when `None`).
    pub period: Option<String>,
    /// How districts are grouped (see [`grouping`]).
    pub group_by: String,
    /// The group of interest (key or name, e.g. `Mining Legacy`); for `codes`, its name.
    pub group: Option<String>,
    /// The other group; `None` or `rest` for every other district with a group.
    pub vs: Option<String>,
    /// District codes for `group_by = codes`.
    pub codes: Vec<String>,
    /// Numeric indicator used as weights for weighted means (e.g. a population).
    pub weights: Option<String>,
    /// Only English districts (codes `E...`) count.
    pub england_only: bool,
}

/// A comparison's result, with what was compared.
#[derive(Clone, Debug, Serialize)]
pub struct CompareOutput {
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// Indicator title.
    pub title: String,
    /// Unit.
    pub unit: String,
    /// Period compared.
    pub period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Rank 1 is the worst district (highest value when higher is worse).
    pub rank_order: RankOrder,
    /// Summaries, gaps, quintiles and ranks.
    pub comparison: Comparison,
}

/// Compares two groups of districts of `layer`.
pub fn compare_on_layer(
    layer: &Layer,
    req: &CompareRequest,
    lookups: &[LookupTable],
) -> Result<CompareOutput, QueryError> {
    let (period, mut values) = numeric(layer, &req.indicator, req.period.as_deref())?;
    let mut weights = match &req.weights {
        Some(w) => Some(numeric(layer, w, None)?.1),
        None => None,
    };
    let mut g = grouping(
        layer,
        &req.group_by,
        &req.codes,
        req.group.as_deref(),
        lookups,
    )?;
    if req.england_only {
        values = england_only(layer, values);
        weights = weights.map(|w| england_only(layer, w));
        for (l, d) in g.labels.iter_mut().zip(&layer.districts) {
            if !d.code.starts_with('E') {
                *l = None;
            }
        }
    }
    let a = match (&req.group, req.group_by.as_str()) {
        (_, "codes") => req.group.clone().unwrap_or_else(|| "listed".into()),
        (Some(a), _) => a.clone(),
        (None, _) => {
            return Err(QueryError::invalid(
                "group",
                format!("name the group to compare (group_by={})", req.group_by),
                format!("valid groups: {}", g.groups().join(", ")),
            ));
        }
    };
    let b = req
        .vs
        .as_deref()
        .filter(|v| !v.eq_ignore_ascii_case("rest"));
    let ind = layer.indicator(&req.indicator);
    let direction = ind.map(|i| i.meta.direction);
    let order = match direction {
        Some(districts::catalog::Direction::HigherIsBetter) => RankOrder::LowestFirst,
        _ => RankOrder::HighestFirst,
    };
    let codes = crate::layer::codes(layer);
    let names = crate::layer::names(layer);
    let mut comparison = crate::compare::compare_groups(
        &codes,
        &names,
        &values,
        weights.as_deref(),
        &g,
        &a,
        b,
        order,
    )?;
    if b.is_none() && comparison.b.name.is_none() {
        comparison.b.name = Some(
            if req.england_only {
                "rest of England"
            } else {
                "rest"
            }
            .to_string(),
        );
    }
    Ok(CompareOutput {
        layer: layer.meta.id.clone(),
        indicator: req.indicator.clone(),
        title: ind.map(|i| i.meta.title.clone()).unwrap_or_default(),
        unit: ind.map(|i| i.meta.unit.clone()).unwrap_or_default(),
        period,
        england_only: req.england_only,
        rank_order: order,
        comparison,
    })
}

/// Pearson and Spearman correlation of two indicators of one layer.
#[derive(Clone, Debug, Serialize)]
pub struct CorrelateOutput {
    /// Layer id.
    pub layer: String,
    /// First indicator and its period.
    pub x: String,
    /// Period of `x`.
    pub x_period: String,
    /// Second indicator.
    pub y: String,
    /// Period of `y`.
    pub y_period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Pearson's r with n.
    pub pearson: Correlation,
    /// Spearman's rho with n.
    pub spearman: Correlation,
}

impl CorrelateOutput {
    /// Table: `x, y, method, r, n, excluded`.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&["x", "y", "method", "r", "n", "excluded"]);
        for c in [&self.pearson, &self.spearman] {
            let m = match c.method {
                CorrelationMethod::Pearson => "pearson",
                CorrelationMethod::Spearman => "spearman",
            };
            t.push(vec![
                Cell::from(self.x.as_str()),
                Cell::from(self.y.as_str()),
                Cell::from(m),
                Cell::from(c.r),
                Cell::from(c.n),
                Cell::from(c.excluded),
            ]);
        }
        t
    }
}

/// Correlates indicator `x` with `y` on `layer` over the districts with both values.
pub fn correlate_on_layer(
    layer: &Layer,
    x: (&str, Option<&str>),
    y: (&str, Option<&str>),
    only_england: bool,
) -> Result<CorrelateOutput, QueryError> {
    let (xp, mut xv) = numeric(layer, x.0, x.1)?;
    let (yp, mut yv) = numeric(layer, y.0, y.1)?;
    if only_england {
        xv = england_only(layer, xv);
        yv = england_only(layer, yv);
    }
    Ok(CorrelateOutput {
        layer: layer.meta.id.clone(),
        x: x.0.to_string(),
        x_period: xp,
        y: y.0.to_string(),
        y_period: yp,
        england_only: only_england,
        pearson: crate::correlation::correlate(&xv, &yv, CorrelationMethod::Pearson)?,
        spearman: crate::correlation::correlate(&xv, &yv, CorrelationMethod::Spearman)?,
    })
}

// ------------------------------------------------------------------------------------------
// Spatial structure

/// Moran's I and LISA asked of one layer.
#[derive(Clone, Debug)]
pub struct ClusterRequest {
    /// Numeric indicator.
    pub indicator: String,
    /// Its period (default when `None`).
    pub period: Option<String>,
    /// Permutations for the pseudo p-values (esda's default is 999).
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Significance level of the LISA classes.
    pub alpha: f64,
    /// Only English districts.
    pub england_only: bool,
    /// Link islands (districts without a queen neighbour) to their k nearest districts.
    pub knn_islands: Option<usize>,
}

impl Default for ClusterRequest {
    fn default() -> Self {
        ClusterRequest {
            indicator: String::new(),
            period: None,
            permutations: crate::moran::DEFAULT_PERMUTATIONS,
            seed: 42,
            alpha: 0.05,
            england_only: false,
            knn_islands: None,
        }
    }
}

/// Global Moran's I and (if asked) LISA of one layer's indicator.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterOutput {
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// Period.
    pub period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Districts left out (no value, or outside England with `england_only`).
    pub excluded: usize,
    /// Codes of the districts without a queen neighbour among those used.
    pub islands: Vec<String>,
    /// Global Moran's I with its inference.
    pub global: MoranGlobal,
    /// Local Moran of every district used (when asked for).
    pub local: Option<LocalMoran>,
    /// Names aligned with `local.areas`.
    pub names: Vec<String>,
    /// Positions in the layer of the districts used, aligned with `local.areas`.
    #[serde(skip)]
    pub positions: Vec<usize>,
}

impl ClusterOutput {
    /// Number of districts per LISA class (empty without LISA).
    pub fn class_counts(&self) -> Vec<(LisaClass, usize)> {
        self.local
            .as_ref()
            .map(LocalMoran::class_counts)
            .unwrap_or_default()
    }

    /// LISA table with names: `code, name, value, z, lag, local_i, quadrant, p_sim, class`.
    pub fn lisa_table(&self) -> Table {
        let mut t = Table::new(&[
            "code", "name", "value", "z", "lag", "local_i", "quadrant", "p_sim", "class",
        ]);
        if let Some(l) = &self.local {
            for (a, n) in l.areas.iter().zip(&self.names) {
                t.push(vec![
                    Cell::from(a.code.as_str()),
                    Cell::from(n.as_str()),
                    Cell::from(a.value),
                    Cell::from(a.z),
                    Cell::from(a.lag),
                    Cell::from(a.local_i),
                    Cell::from(a.quadrant as usize),
                    Cell::from(a.p_sim),
                    Cell::from(a.class.label()),
                ]);
            }
        }
        t
    }
}

/// Global Moran's I (and LISA when `with_local`) of an indicator on `layer`, with queen
/// contiguity of the districts that have a value, row-standardised.
pub fn clusters_on_layer(
    layer: &Layer,
    req: &ClusterRequest,
    with_local: bool,
) -> Result<ClusterOutput, QueryError> {
    if !(req.alpha > 0.0 && req.alpha < 1.0) {
        return Err(QueryError::invalid(
            "alpha",
            format!("{} is not between 0 and 1", req.alpha),
            "alpha=0.05",
        ));
    }
    if req.permutations > 99_999 {
        return Err(QueryError::invalid(
            "permutations",
            format!("{} is too many", req.permutations),
            "permutations from 0 to 99999 (999 is usual)",
        ));
    }
    let (period, mut values) = numeric(layer, &req.indicator, req.period.as_deref())?;
    if req.england_only {
        values = england_only(layer, values);
    }
    let keep: Vec<bool> = values
        .iter()
        .map(|v| v.is_some_and(f64::is_finite))
        .collect();
    let positions: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    if positions.len() < 3 {
        return Err(AnalysisError::TooFewValues {
            statistic: "Moran's I",
            needed: 3,
            got: positions.len(),
        }
        .into());
    }
    let codes: Vec<String> = positions
        .iter()
        .map(|&i| layer.districts[i].code.clone())
        .collect();
    let geoms: Vec<_> = positions
        .iter()
        .map(|&i| layer.districts[i].wgs84.0.clone())
        .collect();
    let mut w = crate::contiguity::queen_contiguity(&codes, &geoms)?;
    let islands = w.islands.iter().map(|&i| codes[i].clone()).collect();
    if let Some(k) = req.knn_islands {
        w.link_islands(&geoms, k)?;
    }
    let v: Vec<f64> = positions.iter().filter_map(|&i| values[i]).collect();
    let global = crate::moran::moran_global(&v, &w, req.permutations, req.seed)?;
    let local = if with_local {
        Some(crate::moran::local_moran(
            &v,
            &w,
            req.permutations,
            req.seed,
            req.alpha,
        )?)
    } else {
        None
    };
    Ok(ClusterOutput {
        layer: layer.meta.id.clone(),
        indicator: req.indicator.clone(),
        period,
        england_only: req.england_only,
        excluded: layer.districts.len() - positions.len(),
        islands,
        global,
        local,
        names: positions
            .iter()
            .map(|&i| layer.districts[i].name.clone())
            .collect(),
        positions,
    })
}
