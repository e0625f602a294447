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

/// The rule of key-based aggregation onto a merged layer (e.g. `lad23`): a key that is not a
/// district of the target but an old code its lineage knows (E07000028 Carlisle, merged into
/// E06000063 Cumberland in 2023; E07000004 Aylesbury Vale, into E06000060 Buckinghamshire in
/// 2020) is replaced by the district it became, so small areas keyed by the old districts count
/// for the new one. Every change in the lineage is a whole-district merger, so this assigns
/// exactly the areas that lie in the merged district. Returns how many keys were carried.
pub fn carry_to_successors(target: &Layer, keys: &mut [Option<String>]) -> usize {
    let Some(lineage) = target.lineage.as_deref() else {
        return 0;
    };
    let mut carried = 0;
    for key in keys.iter_mut().flatten() {
        if target.district(key).is_some() {
            continue;
        }
        if let Some(row) = lineage.successor(key) {
            *key = row.new_code.clone();
            carried += 1;
        }
    }
    carried
}

/// `, old codes of N areas carried to the districts they became (lineage of lad23: FILE)`.
fn carried_words(target: &Layer, carried: usize) -> String {
    match (carried, target.lineage.as_deref()) {
        (0, _) | (_, None) => String::new(),
        (n, Some(l)) => format!(
            "; the old district codes of {n} areas carried to the districts they became ({} lineage, {})",
            target.meta.id,
            l.source()
        ),
    }
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
            let mut best: Option<(usize, Assignment, &KeySource, usize)> = None;
            for k in &chosen {
                let mut keys = match keys_from(source, k, lookups) {
                    Ok(keys) => keys,
                    Err(e) if key.is_some() => return Err(e),
                    Err(_) => continue,
                };
                let carried = carry_to_successors(target, &mut keys);
                let map: HashMap<String, String> = small
                    .iter()
                    .zip(keys)
                    .filter_map(|(c, k)| k.map(|k| (c.clone(), k)))
                    .collect();
                let a = crate::aggregate::assign_by_lookup(&small, &map, &targets);
                let n = a.assigned_count();
                if best.as_ref().is_none_or(|(m, _, _, _)| n > *m) {
                    best = Some((n, a, k, carried));
                }
            }
            match best {
                Some((n, a, k, carried)) if n > 0 => {
                    Ok((a, format!("lookup: {k}{}", carried_words(target, carried))))
                }
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

/// The target's name of each row of an aggregation (empty for a code it does not have).
fn district_names(target: &Layer, result: &crate::aggregate::AggregateResult) -> Vec<String> {
    result
        .rows
        .iter()
        .map(|r| {
            target
                .district(&r.code)
                .map(|d| d.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// Assignments of small areas to districts already made, by (source layer, target layer, how):
/// derived indicators that aggregate the same areas by the same key share one (seven of the
/// catalogue's aggregate LSOAs to districts by `lad19cd`). Valid for one set of loaded layers.
#[derive(Debug, Default)]
pub struct AssignmentCache(HashMap<(String, String, String), (Assignment, String)>);

/// Aggregates an indicator of `source` (small areas) to the districts of `target`.
pub fn aggregate_layers(
    source: &Layer,
    target: &Layer,
    req: &AggregateRequest,
    lookups: &[LookupTable],
) -> Result<AggregateOutput, QueryError> {
    aggregate_layers_cached(
        source,
        target,
        req,
        lookups,
        &mut AssignmentCache::default(),
    )
}

/// [`aggregate_layers`], reusing (and filling) `cache`'s assignments.
pub fn aggregate_layers_cached(
    source: &Layer,
    target: &Layer,
    req: &AggregateRequest,
    lookups: &[LookupTable],
    cache: &mut AssignmentCache,
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
    let key = (
        source.meta.id.clone(),
        target.meta.id.clone(),
        format!("{:?}", req.via),
    );
    let (assignment, via) = match cache.0.get(&key) {
        Some(hit) => hit.clone(),
        None => {
            let made = assignment(source, target, &req.via, lookups)?;
            cache.0.insert(key, made.clone());
            made
        }
    };
    let small = crate::layer::codes(source);
    let result = crate::aggregate::aggregate(
        &small,
        &values,
        weights.as_ref().map(|(_, w)| w.as_slice()),
        &assignment,
        req.how,
    )?;
    let names = district_names(target, &result);
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

/// Numeric values of one indicator of a table, by row code, for a period (the indicator's
/// default, else its last, when `None`), with the period label.
fn table_values(
    table: &districts::indicators::IndicatorTable,
    spec: &districts::catalog::IndicatorSpec,
    period: Option<&str>,
    codes: &[String],
) -> Result<(String, Vec<Option<f64>>), QueryError> {
    let ind = table.indicator(&spec.id).ok_or_else(|| {
        QueryError::invalid(
            "indicator",
            format!("table {} has no indicator {:?}", table.source_id, spec.id),
            format!(
                "indicators of {}: {}",
                table.source_id,
                table
                    .indicators
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let label = period
        .map(str::to_string)
        .or_else(|| spec.default_period.clone())
        .or_else(|| ind.periods.last().map(|p| p.label.clone()))
        .unwrap_or_default();
    let p = ind.period(&label).ok_or_else(|| {
        QueryError::invalid(
            "period",
            format!("{} has no period {label:?}", spec.id),
            format!(
                "periods: {}",
                ind.periods
                    .iter()
                    .map(|p| p.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if ind.categorical {
        return Err(QueryError::invalid(
            "indicator",
            format!("{} is categorical; only numbers aggregate", spec.id),
            "pick a numeric indicator of the table",
        ));
    }
    let values = codes.iter().map(|c| p.values.number(c).flatten()).collect();
    Ok((label, values))
}

/// A catalogued table read as small areas: each row's code and the value of its `group_by`
/// column (its district), with the table's indicators. Read once, aggregated as often as needed.
#[derive(Clone, Debug)]
pub struct TableAreas {
    /// The table as catalogued.
    pub source: districts::catalog::SourceSpec,
    /// The column naming each row's district.
    pub group_by: String,
    /// Row codes (normalised), in file order; a repeated code keeps its first row.
    pub codes: Vec<String>,
    /// Each row's district code, `None` where the cell is empty.
    pub groups: Vec<Option<String>>,
    /// The table's indicators.
    pub table: districts::indicators::IndicatorTable,
}

impl TableAreas {
    /// Reads table `table` of the catalogue with its `group_by` column.
    pub fn read(
        catalog: &districts::catalog::Catalog,
        table: &str,
        group_by: &str,
    ) -> Result<TableAreas, QueryError> {
        let source = catalog.source(table).ok_or_else(|| {
            QueryError::invalid(
                "from_table",
                format!("no table {table:?} in the catalogue"),
                format!(
                    "tables: {}",
                    catalog
                        .sources
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let read_error = |e: districts::indicators::TableError| {
            QueryError::invalid(
                "from_table",
                e.to_string(),
                format!("check {} (table {table})", source.path.display()),
            )
        };
        // The group column is read as a lookup keyed by the table's code column (one CSV
        // reader for both; a repeated code keeps its first row, as in the indicators).
        let spec = districts::catalog::LookupSpec {
            id: table.to_string(),
            title: source.title.clone(),
            file: source.file.clone(),
            path: source.path.clone(),
            provenance: source.provenance.clone(),
            encoding: source.encoding,
            key_column: source.code_column.clone(),
            columns: vec![group_by.to_string()],
        };
        let (groups, rows) = rayon::join(
            || districts::indicators::read_lookup(&spec),
            || districts::indicators::read_table(catalog, source),
        );
        let groups = groups.map_err(read_error)?;
        let rows = rows.map_err(read_error)?;
        Ok(TableAreas {
            source: source.clone(),
            group_by: group_by.to_string(),
            groups: groups
                .keys
                .iter()
                .map(|c| {
                    groups
                        .get(c, group_by)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                })
                .collect(),
            codes: groups.keys,
            table: rows,
        })
    }
}

/// Aggregates an indicator of a catalogued table to the districts of `target`, each row of
/// the table being one small area and its `group_by` column naming its district: for small
/// areas that have no boundary loaded (e.g. the 33,755 LSOA 2021 rows of IMD 2025 File 1,
/// with their LAD 2024 code). The same statistic and exclusions as [`aggregate_layers`], and
/// the same rule for old codes on a merged target ([`carry_to_successors`]). Returns the
/// output and the catalogue metadata of the inputs (value, then weights).
pub fn aggregate_table(
    areas: &TableAreas,
    target: &Layer,
    req: &AggregateRequest,
) -> Result<(AggregateOutput, Vec<districts::catalog::IndicatorMeta>), QueryError> {
    let source = &areas.source;
    let table = source.id.as_str();
    let group_by = areas.group_by.as_str();
    let spec_of = |id: &str| {
        source
            .indicators
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| {
                QueryError::invalid(
                    "indicator",
                    format!("table {table} has no indicator {id:?}"),
                    format!(
                        "indicators of {table}: {}",
                        source
                            .indicators
                            .iter()
                            .map(|i| i.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    };
    let value_spec = spec_of(&req.indicator)?;
    let weight_spec = match (&req.weights, req.how) {
        (Some(w), Aggregation::WeightedMean) => Some(spec_of(w)?),
        (None, Aggregation::WeightedMean) => {
            return Err(QueryError::invalid(
                "weights",
                "how=weighted-mean needs weights",
                format!("weights=<numeric indicator of {table}>"),
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
    let small = &areas.codes;
    let (period, values) = table_values(&areas.table, value_spec, req.period.as_deref(), small)?;
    let weights = weight_spec
        .map(|w| table_values(&areas.table, w, None, small))
        .transpose()?;
    let mut keys = areas.groups.clone();
    let carried = carry_to_successors(target, &mut keys);
    let map: HashMap<String, String> = small
        .iter()
        .zip(keys)
        .filter_map(|(c, k)| k.map(|k| (c.clone(), k)))
        .collect();
    let targets = crate::layer::codes(target);
    let assignment = crate::aggregate::assign_by_lookup(small, &map, &targets);
    let result = crate::aggregate::aggregate(
        small,
        &values,
        weights.as_ref().map(|(_, w)| w.as_slice()),
        &assignment,
        req.how,
    )?;
    let names = district_names(target, &result);
    let inputs = std::iter::once(value_spec)
        .chain(weight_spec)
        .map(|s| s.to_meta(source))
        .collect();
    Ok((
        AggregateOutput {
            from: table.to_string(),
            to: target.meta.id.clone(),
            indicator: req.indicator.clone(),
            period,
            weights: weights
                .as_ref()
                .zip(req.weights.as_ref())
                .map(|((p, _), w)| format!("{w} ({p})")),
            via: format!(
                "the column {group_by:?} of table {table}{}",
                carried_words(target, carried)
            ),
            areas: small.len(),
            assigned: assignment.assigned_count(),
            names,
            result,
        },
        inputs,
    ))
}
