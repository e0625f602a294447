//! Stored versions become indicators of the loaded maps: `{dataset}` or
//! `{dataset}_{column}` for the latest version and the same with `@N` for each version, so a
//! published map can pin the version it shows.

use std::collections::BTreeMap;

use districts::catalog::{Direction, IndicatorMeta, Provenance};
use districts::model::{Indicator, JoinReport, Period, PeriodValues, ReportedCode};
use maps::Loaded;

use crate::detect::KnownLayer;
use crate::store::StoredVersion;
use crate::table::Table;

/// The codes of every loaded layer (derived layers included).
pub fn known_layers(maps: &Loaded) -> Vec<KnownLayer> {
    maps.atlas
        .layers
        .iter()
        .map(|l| {
            KnownLayer::new(
                &l.meta.id,
                &l.meta.title,
                l.districts.iter().map(|d| d.code.clone()).collect(),
                l.districts.iter().map(|d| d.name.clone()).collect(),
            )
        })
        .collect()
}

fn direction(d: &str) -> Direction {
    match d {
        "higher_is_better" => Direction::HigherIsBetter,
        "higher_is_worse" => Direction::HigherIsWorse,
        _ => Direction::Neutral,
    }
}

/// The indicators of one stored version joined to its layer; `suffix` is appended to ids
/// (`@2` for a pinned version, empty for the latest).
pub fn indicators_of(
    v: &StoredVersion,
    table: &Table,
    layer: &KnownLayer,
    suffix: &str,
) -> Vec<Indicator> {
    let (joined, summary) = crate::join::join(table, layer);
    let n = joined.len();
    let mut not_district_codes: BTreeMap<String, usize> = BTreeMap::new();
    for nd in &summary.not_districts {
        *not_district_codes
            .entry(crate::codes::kind(&nd.code).to_string())
            .or_default() += 1;
    }
    joined
        .into_iter()
        .map(|j| {
            let id = format!("{}{suffix}", crate::indicator_id(&v.dataset, &j.key, n));
            let title = if n == 1 {
                v.meta.title.clone()
            } else {
                format!("{}: {}", v.meta.title, j.title)
            };
            let report = JoinReport {
                indicator: id.clone(),
                file: format!("dataset {} version {}", v.dataset, v.version),
                layer: layer.id.clone(),
                boundary_count: summary.districts,
                matched: j.matched,
                boundaries_without_data: summary
                    .districts_without_data
                    .iter()
                    .map(|m| ReportedCode {
                        code: m.code.clone(),
                        name: Some(m.name.clone()),
                        hint: None,
                    })
                    .collect(),
                data_without_boundary: summary
                    .unmatched
                    .iter()
                    .map(|u| ReportedCode {
                        code: u.code.clone(),
                        name: None,
                        hint: Some(u.reason.clone()),
                    })
                    .collect(),
                not_district_codes: not_district_codes.clone(),
                ..Default::default()
            };
            let periods: Vec<Period> = j
                .periods
                .into_iter()
                .map(|(label, values)| Period {
                    label,
                    values: PeriodValues::Numeric(values),
                })
                .collect();
            let default_period = periods.last().map(|p| p.label.clone()).unwrap_or_default();
            Indicator {
                meta: IndicatorMeta {
                    id,
                    title,
                    unit: v.meta.unit.clone(),
                    direction: direction(&v.meta.direction),
                    source: v.meta.source.clone(),
                    provenance: Provenance {
                        publisher: None,
                        licence: v.meta.licence.clone(),
                        attribution: format!("{} ({})", v.meta.source, v.meta.licence),
                        notes: Some(format!(
                            "uploaded dataset {} version {}",
                            v.dataset, v.version
                        )),
                    },
                    file: maps::loaded::dataset_file(&v.dataset, v.version),
                    categorical: false,
                    source_id: v.dataset.clone(),
                    default_period: None,
                    periods_note: None,
                    description: None,
                    style: None,
                    ordinal: None,
                },
                periods,
                default_period,
                report,
            }
        })
        .collect()
}

/// A stored version with its table parsed: what start-up reads and decodes while the layers
/// load ([`parse_versions`]), so only the join is left once they are there.
pub struct ParsedVersion {
    /// The version, its stored table bytes dropped once parsed (`table` is empty).
    pub version: StoredVersion,
    /// The parsed table, or `None` when it could not be read (logged, then skipped).
    table: Option<Table>,
}

/// Parses the stored tables of `versions` (in parallel), freeing their JSON text. A table that
/// cannot be read is logged and its version skipped later, never fatal at start-up.
pub fn parse_versions(versions: Vec<StoredVersion>) -> Vec<ParsedVersion> {
    use rayon::prelude::*;
    versions
        .into_par_iter()
        .map(|mut v| {
            let table = match crate::table::decode_for_join(&v.table) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!(dataset = %v.dataset, version = v.version, error = %e, "stored table unreadable: skipped");
                    None
                }
            };
            v.table = Vec::new();
            ParsedVersion { version: v, table }
        })
        .collect()
}

/// The indicators of one stored version: pinned (`@N`), plus unpinned when it is the latest
/// version. The table is joined once; the unpinned copies differ only in their ids.
fn version_indicators(
    p: &ParsedVersion,
    layers: &[KnownLayer],
    latest: bool,
) -> Vec<(String, Indicator)> {
    let v = &p.version;
    let Some(table) = &p.table else {
        return Vec::new();
    };
    let Some(layer) = layers.iter().find(|l| l.id == v.layer) else {
        tracing::warn!(dataset = %v.dataset, version = v.version, layer = %v.layer, "dataset layer not loaded: skipped");
        return Vec::new();
    };
    let suffix = format!("@{}", v.version);
    let pinned = indicators_of(v, table, layer, &suffix);
    let mut out = Vec::with_capacity(pinned.len() * 2);
    if latest {
        for ind in &pinned {
            let mut ind = ind.clone();
            let id = ind
                .meta
                .id
                .strip_suffix(&suffix)
                .unwrap_or(&ind.meta.id)
                .to_string();
            ind.report.indicator.clone_from(&id);
            ind.meta.id = id;
            out.push((layer.id.clone(), ind));
        }
    }
    out.extend(pinned.into_iter().map(|ind| (layer.id.clone(), ind)));
    out
}

/// A copy of `base` with every stored version's indicators added to its layer. Versions
/// whose table or layer cannot be used are skipped with a warning (never fatal at start-up).
pub fn apply(base: &Loaded, versions: &[StoredVersion], generation: u64) -> Loaded {
    apply_parsed(
        base,
        &known_layers(base),
        &parse_versions(versions.to_vec()),
        generation,
    )
}

/// [`apply`] over versions already parsed and the codes of `base`'s layers already built
/// (`layers`, from [`known_layers`]): the server keeps both, so start-up and each refresh
/// only join. Versions are joined in parallel, then all their indicators are added to the
/// layers in one step (one copy of the layers, not one per dataset).
pub fn apply_parsed(
    base: &Loaded,
    layers: &[KnownLayer],
    versions: &[ParsedVersion],
    generation: u64,
) -> Loaded {
    use rayon::prelude::*;
    let started = std::time::Instant::now();
    // Latest version of each dataset (versions come sorted by dataset, version).
    let mut latest: BTreeMap<&str, u32> = BTreeMap::new();
    for p in versions {
        latest.insert(&p.version.dataset, p.version.version);
    }
    let per_version: Vec<Vec<(String, Indicator)>> = versions
        .par_iter()
        .map(|p| {
            let is_latest = latest.get(p.version.dataset.as_str()) == Some(&p.version.version);
            version_indicators(p, layers, is_latest)
        })
        .collect();
    let extra: Vec<(String, Indicator)> = per_version.into_iter().flatten().collect();
    let joined_ms = started.elapsed().as_secs_f64() * 1000.0;
    let out = base.with_indicators(extra, &format!("d{generation}"));
    tracing::debug!(
        joined_ms,
        total_ms = started.elapsed().as_secs_f64() * 1000.0,
        "datasets joined and added"
    );
    out
}

/// `loaded` plus the datasets stored in `state_dir` for its layers (unchanged when there is
/// no database there yet): how the CLI's `render` and `export` see uploaded datasets.
pub fn with_stored(loaded: Loaded, state_dir: &std::path::Path) -> crate::Result<Loaded> {
    if !state_dir.join(crate::sqlite::DB_FILE).exists() {
        return Ok(loaded);
    }
    let store = crate::sqlite::SqliteStore::open(state_dir)?;
    use crate::store::DatasetStore;
    let versions: Vec<StoredVersion> = store
        .live_versions()?
        .into_iter()
        .filter(|v| loaded.atlas.layer(&v.layer).is_some())
        .collect();
    // Deleted ids, so a command naming one says it was deleted rather than unknown.
    let deleted: Vec<String> = store
        .list()?
        .into_iter()
        .filter(|d| d.deleted)
        .map(|d| d.meta.id)
        .collect();
    let mut out = if versions.is_empty() {
        loaded
    } else {
        apply(&loaded, &versions, store.generation()?)
    };
    out.deleted_datasets = std::sync::Arc::new(deleted);
    Ok(out)
}
