//! Results as indicators: an aggregation becomes a numeric indicator of the target layer, LISA
//! clusters a categorical one, each with metadata (title, unit, direction, method, the credits
//! of its inputs) and a join report of its coverage, so tiles, legends, GeoJSON and lookups
//! serve them like any catalogued indicator. [`specs_from_catalog`](crate::derived::specs_from_catalog) reads the catalogue's
//! `[[derived]]` entries; [`add_derived`](crate::derived::add_derived) computes and adds them to an atlas.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use districts::catalog::{
    Catalog, DerivedEntry, DerivedMethod, Direction, IndicatorMeta, Provenance, SeriesPart,
};
use districts::indicators::LookupTable;
use districts::model::{JoinReport, Period, PeriodCoverage, PeriodValues, ReportedCode};
use districts::{Atlas, Indicator, Layer};
use serde::Serialize;

use crate::aggregate::{Aggregation, ClassRule, UnassignedReason};
use crate::query::{
    AggregateOutput, AggregateRequest, ClusterOutput, ClusterRequest, QueryError, TableAreas,
};

/// `source_id` of every derived indicator (no catalogue table behind it).
pub const DERIVED_SOURCE_ID: &str = "placemap_derived";

/// What a derived indicator is called and how it reads.
#[derive(Clone, Debug)]
pub struct DerivedMeta {
    /// Indicator id on the target layer.
    pub id: String,
    /// Title for legends.
    pub title: String,
    /// Unit for legends.
    pub unit: String,
    /// Whether higher is better or worse.
    pub direction: Direction,
    /// The method in words (exclusion counts are appended).
    pub description: String,
}

/// Joins distinct, non-empty credit lines.
fn credits<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for l in lines {
        let l = l.trim();
        if !l.is_empty() && !out.contains(&l) {
            out.push(l);
        }
    }
    out.join(" ")
}

/// The numeric indicator of `target` made from an aggregation of `source` (the layers the
/// output came from).
pub fn aggregate_indicator(
    out: &AggregateOutput,
    source: &Layer,
    target: &Layer,
    meta: DerivedMeta,
) -> Indicator {
    let value_ind = source.indicator(&out.indicator).map(|i| &i.meta);
    let weight_id = out
        .weights
        .as_deref()
        .and_then(|w| w.split_whitespace().next());
    let weight_ind = weight_id.and_then(|w| source.indicator(w)).map(|i| &i.meta);
    // With via=spatial the small areas' boundaries decided the assignment: credit them too.
    let boundaries = out
        .via
        .starts_with("spatial")
        .then_some(source.meta.provenance.attribution.as_str());
    aggregate_indicator_from(out, value_ind, weight_ind, boundaries, target, meta)
}

/// [`aggregate_indicator`] given the metadata of the inputs themselves (value, weights, and
/// the credit of boundaries that decided the assignment, if any): for aggregates of a table's
/// rows, which are no layer's indicators.
pub fn aggregate_indicator_from(
    out: &AggregateOutput,
    value_ind: Option<&IndicatorMeta>,
    weight_ind: Option<&IndicatorMeta>,
    boundary_attribution: Option<&str>,
    target: &Layer,
    meta: DerivedMeta,
) -> Indicator {
    let inputs: Vec<&IndicatorMeta> = value_ind.into_iter().chain(weight_ind).collect();
    let attribution = credits(
        inputs
            .iter()
            .map(|i| i.provenance.attribution.as_str())
            .chain(boundary_attribution),
    );
    let files: Vec<&str> = inputs.iter().map(|i| i.file.as_str()).collect();
    let r = &out.result;
    let excl: Vec<String> = out
        .exclusion_summary()
        .into_iter()
        .map(|(what, n)| format!("{what}: {n}"))
        .collect();
    let description = format!(
        "{} Computed by placemap: {} of {} ({}) over the {} areas of {} assigned to each district of {} by {}{}. {} of {} areas assigned.{}",
        meta.description.trim_end(),
        statistic_words(r.aggregation),
        out.indicator,
        out.period,
        out.areas,
        out.from,
        out.to,
        out.via,
        out.weights
            .as_ref()
            .map(|w| format!(", weighted by {w}"))
            .unwrap_or_default(),
        out.assigned,
        out.areas,
        if excl.is_empty() {
            " Nothing excluded.".to_string()
        } else {
            format!(" Excluded: {}.", excl.join("; "))
        },
    );
    let values: Vec<Option<f64>> = target
        .districts
        .iter()
        .map(|d| out.result.row(&d.code).and_then(|row| row.value))
        .collect();
    let mut unknown_targets: BTreeMap<String, usize> = BTreeMap::new();
    for u in &r.exclusions.unassigned {
        if let UnassignedReason::UnknownTarget { target } = &u.reason {
            *unknown_targets.entry(target.clone()).or_default() += 1;
        }
    }
    let report = JoinReport {
        indicator: meta.id.clone(),
        file: files.join(", "),
        layer: target.meta.id.clone(),
        boundary_count: target.districts.len(),
        matched: values.iter().filter(|v| v.is_some()).count(),
        boundaries_without_data: target
            .districts
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(d, _)| {
                let assigned = out.result.row(&d.code).map_or(0, |r| r.areas_assigned);
                ReportedCode {
                    code: d.code.clone(),
                    name: Some(d.name.clone()),
                    hint: Some(if assigned == 0 {
                        format!("no {} area assigned to it", out.from)
                    } else {
                        format!("{assigned} {} areas assigned, none usable", out.from)
                    }),
                }
            })
            .collect(),
        data_without_boundary: unknown_targets
            .into_iter()
            .map(|(code, n)| ReportedCode {
                hint: Some(match districts::join::reorganisation_hint(&code) {
                    Some(h) => format!("{n} {} areas name it; {h}", out.from),
                    None => format!("{n} {} areas name it", out.from),
                }),
                code,
                name: None,
            })
            .collect(),
        coverage: vec![PeriodCoverage {
            label: out.period.clone(),
            with_row: r.rows.iter().filter(|r| r.areas_assigned > 0).count(),
            with_value: values.iter().filter(|v| v.is_some()).count(),
        }],
        ..JoinReport::default()
    };
    let source_text = format!(
        "placemap aggregation of {} ({})",
        value_ind.map_or(out.indicator.as_str(), |i| i.title.as_str()),
        value_ind.map_or("", |i| i.source.as_str()),
    );
    Indicator {
        meta: IndicatorMeta {
            id: meta.id,
            title: meta.title,
            unit: meta.unit,
            direction: meta.direction,
            source: source_text,
            provenance: Provenance {
                licence: value_ind
                    .map_or_else(|| "OGL-3.0".into(), |i| i.provenance.licence.clone()),
                attribution,
                ..Provenance::default()
            },
            file: files.join(", "),
            categorical: false,
            source_id: DERIVED_SOURCE_ID.into(),
            default_period: Some(out.period.clone()),
            periods_note: None,
            description: Some(description),
            style: None,
            ordinal: None,
        },
        periods: vec![Period {
            label: out.period.clone(),
            values: PeriodValues::Numeric(values),
        }],
        default_period: out.period.clone(),
        report,
    }
}

fn statistic_words(a: Aggregation) -> String {
    match a {
        Aggregation::Mean => "mean".into(),
        Aggregation::WeightedMean => "weighted mean".into(),
        Aggregation::Sum => "sum".into(),
        Aggregation::Median => "median".into(),
        Aggregation::Min => "minimum".into(),
        Aggregation::Max => "maximum".into(),
        Aggregation::Share(rule) => format!(
            "share of areas with a value {}",
            match rule {
                ClassRule::Equal(v) => format!("equal to {v}"),
                ClassRule::AtMost(v) => format!("at most {v}"),
                ClassRule::AtLeast(v) => format!("at least {v}"),
                ClassRule::Between(a, b) => format!("from {a} to {b}"),
            }
        ),
    }
}

/// The categorical indicator of `layer` holding each district's LISA class (`high-high`,
/// `low-low`, `high-low`, `low-high`, `not significant`, `no neighbours`); districts left out
/// of the analysis have no data.
pub fn lisa_indicator(out: &ClusterOutput, layer: &Layer, meta: DerivedMeta) -> Indicator {
    let mut values: Vec<Option<String>> = vec![None; layer.districts.len()];
    if let Some(local) = &out.local {
        for (&pos, a) in out.positions.iter().zip(&local.areas) {
            if let Some(slot) = values.get_mut(pos) {
                *slot = Some(a.class.label().to_string());
            }
        }
    }
    let input = layer.indicator(&out.indicator);
    let counts: Vec<String> = out
        .class_counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{} {n}", c.label()))
        .collect();
    let g = &out.global;
    let (perms, seed, alpha) = out
        .local
        .as_ref()
        .map_or((0, 0, 0.0), |l| (l.permutations, l.seed, l.alpha));
    let description = format!(
        "{} Computed by placemap: local Moran (LISA) of {} ({}) on {}{} with queen contiguity, row-standardised weights, {perms} conditional permutations (seed {seed}), significance {alpha}. Global Moran's I = {:.4} (pseudo p = {}). Districts: {}. {} districts without a value left out; islands: {}.",
        meta.description.trim_end(),
        out.indicator,
        out.period,
        out.layer,
        if out.england_only {
            " (England only)"
        } else {
            ""
        },
        g.i,
        g.p_sim.map_or("n/a".to_string(), |p| format!("{p:.3}")),
        counts.join(", "),
        out.excluded,
        if out.islands.is_empty() {
            "none".to_string()
        } else {
            out.islands.join(", ")
        },
    );
    let report = JoinReport {
        indicator: meta.id.clone(),
        file: input.map_or_else(String::new, |i| i.meta.file.clone()),
        layer: layer.meta.id.clone(),
        boundary_count: layer.districts.len(),
        matched: values.iter().filter(|v| v.is_some()).count(),
        boundaries_without_data: layer
            .districts
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(d, _)| ReportedCode {
                code: d.code.clone(),
                name: Some(d.name.clone()),
                hint: Some(if out.england_only && !d.code.starts_with('E') {
                    "outside England".to_string()
                } else {
                    format!("no {} value", out.indicator)
                }),
            })
            .collect(),
        coverage: vec![PeriodCoverage {
            label: out.period.clone(),
            with_row: values.iter().filter(|v| v.is_some()).count(),
            with_value: values.iter().filter(|v| v.is_some()).count(),
        }],
        ..JoinReport::default()
    };
    Indicator {
        meta: IndicatorMeta {
            id: meta.id,
            title: meta.title,
            unit: meta.unit,
            direction: meta.direction,
            source: format!(
                "placemap LISA clusters of {} ({})",
                input.map_or(out.indicator.as_str(), |i| i.meta.title.as_str()),
                input.map_or("", |i| i.meta.source.as_str())
            ),
            provenance: Provenance {
                licence: input
                    .map_or_else(|| "OGL-3.0".into(), |i| i.meta.provenance.licence.clone()),
                attribution: input
                    .map_or_else(String::new, |i| i.meta.provenance.attribution.clone()),
                ..Provenance::default()
            },
            file: input.map_or_else(String::new, |i| i.meta.file.clone()),
            categorical: true,
            source_id: DERIVED_SOURCE_ID.into(),
            default_period: Some(out.period.clone()),
            periods_note: None,
            description: Some(description),
            style: None,
            ordinal: None,
        },
        periods: vec![Period {
            label: out.period.clone(),
            values: PeriodValues::Categorical(values),
        }],
        default_period: out.period.clone(),
        report,
    }
}

/// One indicator of `layer` whose periods are the given periods of other indicators of the
/// layer, relabelled (e.g. the 2019 and 2025 shares of LSOAs in the most deprived decile as
/// periods `2019` and `2025`), so that `change=2019..2025` maps their difference. The parts
/// must be numeric; what makes them comparable is the catalogue's business, and the
/// description names each period's source indicator.
pub fn series_indicator(
    layer: &Layer,
    parts: &[SeriesPart],
    meta: DerivedMeta,
) -> Result<Indicator, String> {
    let mut periods = Vec::with_capacity(parts.len());
    let mut inputs: Vec<&Indicator> = Vec::with_capacity(parts.len());
    let mut sources: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        let ind = layer.indicator(&part.indicator).ok_or_else(|| {
            format!(
                "period {}: indicator {} is not on layer {} (not loaded, or computed later)",
                part.label, part.indicator, layer.meta.id
            )
        })?;
        let label = part.period.as_deref().unwrap_or(&ind.default_period);
        let p = ind.period(label).ok_or_else(|| {
            format!(
                "period {}: {} has no period {label:?} (periods: {})",
                part.label,
                part.indicator,
                ind.periods
                    .iter()
                    .map(|p| p.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let PeriodValues::Numeric(values) = &p.values else {
            return Err(format!(
                "period {}: {} is categorical; a series compares numbers",
                part.label, part.indicator
            ));
        };
        periods.push(Period {
            label: part.label.clone(),
            values: PeriodValues::Numeric(values.clone()),
        });
        inputs.push(ind);
        sources.push(format!(
            "{} = {} ({}, {label})",
            part.label, part.indicator, ind.meta.title
        ));
    }
    let has_value = |i: usize| {
        periods
            .iter()
            .any(|p| matches!(&p.values, PeriodValues::Numeric(v) if v.get(i).copied().flatten().is_some()))
    };
    let distinct = |items: Vec<&str>| -> String {
        let mut out: Vec<&str> = Vec::new();
        for i in items {
            if !i.is_empty() && !out.contains(&i) {
                out.push(i);
            }
        }
        out.join(", ")
    };
    let file = distinct(inputs.iter().map(|i| i.meta.file.as_str()).collect());
    let default_period = periods.last().map(|p| p.label.clone()).unwrap_or_default();
    let report = JoinReport {
        indicator: meta.id.clone(),
        file: file.clone(),
        layer: layer.meta.id.clone(),
        boundary_count: layer.districts.len(),
        matched: (0..layer.districts.len()).filter(|&i| has_value(i)).count(),
        boundaries_without_data: layer
            .districts
            .iter()
            .enumerate()
            .filter(|&(i, _)| !has_value(i))
            .map(|(_, d)| ReportedCode {
                code: d.code.clone(),
                name: Some(d.name.clone()),
                hint: Some("no value in any period of the series".into()),
            })
            .collect(),
        coverage: periods
            .iter()
            .map(|p| {
                let n = match &p.values {
                    PeriodValues::Numeric(v) => v.iter().filter(|v| v.is_some()).count(),
                    PeriodValues::Categorical(v) => v.iter().filter(|v| v.is_some()).count(),
                };
                PeriodCoverage {
                    label: p.label.clone(),
                    with_row: n,
                    with_value: n,
                }
            })
            .collect(),
        ..JoinReport::default()
    };
    Ok(Indicator {
        meta: IndicatorMeta {
            id: meta.id,
            title: meta.title,
            unit: meta.unit,
            direction: meta.direction,
            source: format!(
                "placemap series of {}",
                distinct(inputs.iter().map(|i| i.meta.source.as_str()).collect())
            ),
            provenance: Provenance {
                licence: distinct(
                    inputs
                        .iter()
                        .map(|i| i.meta.provenance.licence.as_str())
                        .collect(),
                ),
                attribution: credits(
                    inputs
                        .iter()
                        .map(|i| i.meta.provenance.attribution.as_str()),
                ),
                ..Provenance::default()
            },
            file,
            categorical: false,
            source_id: DERIVED_SOURCE_ID.into(),
            default_period: Some(default_period.clone()),
            periods_note: None,
            description: Some(format!(
                "{} Periods: {}.",
                meta.description.trim_end(),
                sources.join("; ")
            )),
            style: None,
            ordinal: None,
        },
        periods,
        default_period,
        report,
    })
}

/// How a derived indicator is computed.
#[derive(Clone, Debug)]
pub enum DerivedKind {
    /// An aggregation of `from`'s areas to the target layer.
    Aggregate {
        /// The layer of small areas aggregated.
        from: String,
        /// What is aggregated and how.
        request: AggregateRequest,
    },
    /// An aggregation of the rows of a catalogued table (small areas with or without a
    /// boundary), each row's district named by its `group_by` column.
    AggregateTable {
        /// The catalogue the table is read through (shared by the specs).
        catalog: Arc<Catalog>,
        /// Source (table) id.
        table: String,
        /// Column holding each row's district code.
        group_by: String,
        /// What is aggregated and how (`via` does not apply).
        request: AggregateRequest,
    },
    /// LISA clusters of an indicator of the target layer itself.
    Lisa {
        /// The indicator, period and test options.
        request: ClusterRequest,
    },
    /// One indicator whose periods come from several indicators of the target layer.
    Series {
        /// Each period's label and source indicator, in order.
        parts: Vec<SeriesPart>,
    },
}

/// One derived indicator: where it goes, what it is called, how it is computed.
#[derive(Clone, Debug)]
pub struct DerivedSpec {
    /// Target layer id.
    pub layer: String,
    /// Name, title, unit, direction, method.
    pub meta: DerivedMeta,
    /// The computation.
    pub kind: DerivedKind,
}

/// The catalogue's `[[derived]]` entries as specs, in order. The catalogue has checked ids,
/// layers and indicator references; this parses the options whose grammar the analysis owns
/// (`how`, `class`, `via`, `key`), and names the catalogue and the entry when one is
/// wrong.
///
/// ```
/// # let dir = test_support::fixtures_dir();
/// # let cat = dir.join("toy_catalog.toml");
/// let catalog = districts::catalog::Catalog::load(&cat, &dir).unwrap();
/// let specs = analysis::derived::specs_from_catalog(&catalog).unwrap();
/// assert!(specs.iter().any(|s| s.meta.id == "toy_score_mean"));
/// ```
pub fn specs_from_catalog(catalog: &Catalog) -> Result<Vec<DerivedSpec>, DerivedConfigError> {
    let shared = Arc::new(catalog.clone());
    catalog
        .derived
        .iter()
        .map(|d| {
            spec_from_entry(d, &shared).map_err(|e| DerivedConfigError {
                catalog: catalog.path.display().to_string(),
                entry: d.id.clone(),
                message: format!("{e} ({})", e.hint()),
            })
        })
        .collect()
}

/// A `[[derived]]` entry whose options do not parse.
#[derive(Debug, thiserror::Error)]
#[error("catalogue {catalog}: derived `{entry}`: {message}")]
pub struct DerivedConfigError {
    /// Catalogue path.
    pub catalog: String,
    /// Entry id.
    pub entry: String,
    /// What is wrong, with the accepted forms.
    pub message: String,
}

fn spec_from_entry(d: &DerivedEntry, catalog: &Arc<Catalog>) -> Result<DerivedSpec, QueryError> {
    let meta = DerivedMeta {
        id: d.id.clone(),
        title: d.title.clone(),
        unit: d.unit.clone(),
        direction: d.direction,
        description: d.description.clone(),
    };
    let kind = match d.method {
        DerivedMethod::Aggregate => {
            // The catalogue guarantees `how`, and `from` or `from_table` with `group_by`.
            let request = AggregateRequest {
                indicator: d.indicator.clone(),
                period: d.period.clone(),
                how: crate::query::parse_how(d.how.as_deref().unwrap_or(""), d.class.as_deref())?,
                weights: d.weights.clone(),
                via: crate::query::parse_via(d.via.as_deref(), d.key.as_deref())?,
            };
            match &d.from_table {
                Some(table) => DerivedKind::AggregateTable {
                    catalog: Arc::clone(catalog),
                    table: table.clone(),
                    group_by: d.group_by.clone().unwrap_or_default(),
                    request,
                },
                None => DerivedKind::Aggregate {
                    from: d.from.clone().unwrap_or_default(),
                    request,
                },
            }
        }
        DerivedMethod::Series => DerivedKind::Series {
            parts: d.periods.clone(),
        },
        DerivedMethod::Lisa => {
            // alpha and the rest are checked where the clusters are computed.
            let defaults = ClusterRequest::default();
            DerivedKind::Lisa {
                request: ClusterRequest {
                    indicator: d.indicator.clone(),
                    period: d.period.clone(),
                    permutations: d.permutations.unwrap_or(defaults.permutations),
                    seed: d.seed.unwrap_or(defaults.seed),
                    alpha: d.alpha.unwrap_or(defaults.alpha),
                    england_only: d.england_only.unwrap_or(false),
                    knn_islands: d.knn,
                },
            }
        }
    };
    Ok(DerivedSpec {
        layer: d.layer.clone(),
        meta,
        kind,
    })
}

/// What happened to one derived indicator.
#[derive(Clone, Debug, Serialize)]
pub struct DerivedOutcome {
    /// Target layer.
    pub layer: String,
    /// Indicator id.
    pub id: String,
    /// Districts with a value, when added.
    pub matched: Option<usize>,
    /// Districts in the layer.
    pub districts: usize,
    /// Why it was not added (a layer not loaded, or the computation failed).
    pub skipped: Option<String>,
    /// Skipped only because a layer it needs is not loaded (e.g. a command loading one layer).
    pub layer_not_loaded: bool,
    /// Time to compute, milliseconds.
    pub millis: f64,
}

/// Tables read for `from_table` entries, by (table, group column): each is read once per
/// [`DerivedCache`], however many entries aggregate it.
type TableCache = std::collections::HashMap<(String, String), Result<Arc<TableAreas>, String>>;

/// What derived indicators computed one after another share: tables read for `from_table`
/// entries and assignments of small areas to districts. Valid for one set of loaded layers.
#[derive(Debug, Default)]
pub struct DerivedCache {
    tables: TableCache,
    assignments: crate::query::AssignmentCache,
}

impl DerivedCache {
    /// A cache holding the tables of the `from_table` entries among `specs` whose target
    /// layer `wanted` accepts: they need no layer, so start-up reads them while the layers
    /// load instead of after.
    pub fn with_tables(specs: &[DerivedSpec], wanted: impl Fn(&str) -> bool) -> DerivedCache {
        let mut keys: Vec<(&Arc<Catalog>, &String, &String)> = Vec::new();
        for spec in specs.iter().filter(|s| wanted(&s.layer)) {
            if let DerivedKind::AggregateTable {
                catalog,
                table,
                group_by,
                ..
            } = &spec.kind
                && !keys.iter().any(|(_, t, g)| *t == table && *g == group_by)
            {
                keys.push((catalog, table, group_by));
            }
        }
        let tables = keys
            .iter()
            .map(|(catalog, table, group_by)| {
                let read = TableAreas::read(catalog, table, group_by)
                    .map(Arc::new)
                    .map_err(|e| format!("{e} ({})", e.hint()));
                (((*table).clone(), (*group_by).clone()), read)
            })
            .collect();
        DerivedCache {
            tables,
            assignments: crate::query::AssignmentCache::default(),
        }
    }
}

fn compute(
    atlas: &Atlas,
    spec: &DerivedSpec,
    lookups: &[LookupTable],
    cache: &mut DerivedCache,
) -> Result<Indicator, String> {
    let target = atlas
        .layer(&spec.layer)
        .ok_or_else(|| format!("layer {} is not loaded", spec.layer))?;
    let err = |e: QueryError| e.to_string();
    match &spec.kind {
        DerivedKind::Aggregate { from, request } => {
            let source = atlas
                .layer(from)
                .ok_or_else(|| format!("layer {from} is not loaded"))?;
            let out = crate::query::aggregate_layers_cached(
                source,
                target,
                request,
                lookups,
                &mut cache.assignments,
            )
            .map_err(err)?;
            Ok(aggregate_indicator(&out, source, target, spec.meta.clone()))
        }
        DerivedKind::AggregateTable {
            catalog,
            table,
            group_by,
            request,
        } => {
            let areas = cache
                .tables
                .entry((table.clone(), group_by.clone()))
                .or_insert_with(|| {
                    TableAreas::read(catalog, table, group_by)
                        .map(Arc::new)
                        .map_err(|e| format!("{e} ({})", e.hint()))
                })
                .clone()?;
            let (out, inputs) = crate::query::aggregate_table(&areas, target, request)
                .map_err(|e| format!("{e} ({})", e.hint()))?;
            Ok(aggregate_indicator_from(
                &out,
                inputs.first(),
                inputs.get(1),
                None,
                target,
                spec.meta.clone(),
            ))
        }
        DerivedKind::Series { parts } => series_indicator(target, parts, spec.meta.clone()),
        DerivedKind::Lisa { request } => {
            let out = crate::query::clusters_on_layer(target, request, true).map_err(err)?;
            Ok(lisa_indicator(&out, target, spec.meta.clone()))
        }
    }
}

/// Computes each derived indicator and adds it to its layer (replacing one with the same id).
/// A spec whose layers are not loaded, or whose computation fails, is skipped and says why.
pub fn add_derived(
    atlas: &mut Atlas,
    specs: &[DerivedSpec],
    lookups: &[LookupTable],
) -> Vec<DerivedOutcome> {
    add_derived_with(atlas, specs, lookups, &mut DerivedCache::default())
}

/// [`add_derived`] sharing `cache` with earlier calls on the same layers (a caller that
/// interleaves other work between entries keeps one cache for all of them).
pub fn add_derived_with(
    atlas: &mut Atlas,
    specs: &[DerivedSpec],
    lookups: &[LookupTable],
    cache: &mut DerivedCache,
) -> Vec<DerivedOutcome> {
    let mut outcomes = Vec::with_capacity(specs.len());
    for spec in specs {
        let started = Instant::now();
        let result = compute(atlas, spec, lookups, cache);
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let districts = atlas.layer(&spec.layer).map_or(0, |l| l.districts.len());
        let layer_not_loaded = atlas.layer(&spec.layer).is_none()
            || matches!(&spec.kind, DerivedKind::Aggregate { from, .. } if atlas.layer(from).is_none());
        let (matched, skipped) = match result {
            Ok(ind) => {
                let matched = ind.report.matched;
                if let Some(l) = atlas.layers.iter_mut().find(|l| l.meta.id == spec.layer) {
                    l.add_indicator(ind);
                }
                (Some(matched), None)
            }
            Err(why) => (None, Some(why)),
        };
        outcomes.push(DerivedOutcome {
            layer: spec.layer.clone(),
            id: spec.meta.id.clone(),
            matched,
            districts,
            skipped,
            layer_not_loaded,
            millis,
        });
    }
    outcomes
}
