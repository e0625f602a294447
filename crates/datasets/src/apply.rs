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
                },
                periods,
                default_period,
                report,
            }
        })
        .collect()
}

/// A copy of `base` with every stored version's indicators added to its layer. Versions
/// whose table or layer cannot be used are skipped with a warning (never fatal at start-up).
pub fn apply(base: &Loaded, versions: &[StoredVersion], generation: u64) -> Loaded {
    let layers = known_layers(base);
    let mut extra = Vec::new();
    // Latest version of each dataset (versions come sorted by dataset, version).
    let mut latest: BTreeMap<&str, u32> = BTreeMap::new();
    for v in versions {
        latest.insert(&v.dataset, v.version);
    }
    for v in versions {
        let Some(layer) = layers.iter().find(|l| l.id == v.layer) else {
            tracing::warn!(dataset = %v.dataset, version = v.version, layer = %v.layer, "dataset layer not loaded: skipped");
            continue;
        };
        let table: Table = match serde_json::from_str(&v.table) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(dataset = %v.dataset, version = v.version, error = %e, "stored table unreadable: skipped");
                continue;
            }
        };
        let pinned = indicators_of(v, &table, layer, &format!("@{}", v.version));
        if latest.get(v.dataset.as_str()) == Some(&v.version) {
            for ind in indicators_of(v, &table, layer, "") {
                extra.push((layer.id.clone(), ind));
            }
        }
        for ind in pinned {
            extra.push((layer.id.clone(), ind));
        }
    }
    base.with_indicators(extra, &format!("d{generation}"))
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
