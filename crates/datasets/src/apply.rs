//! Stored versions become indicators of the loaded maps: `{dataset}` or
//! `{dataset}_{column}` for the latest version and the same with `@N` for each version, so a
//! published map can pin the version it shows.

use std::collections::BTreeMap;

use districts::catalog::{Direction, IndicatorMeta, Provenance};
use districts::model::{Indicator, JoinReport, Period, PeriodValues, ReportedCode};
use maps::Loaded;

use crate::detect::KnownLayer;
use crate::join::{JoinSummary, Joined};
use crate::store::{DatasetStore, StoredVersion};
use crate::stored_join::StoredJoin;
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
    indicators_from_join(v, joined, &summary, layer, suffix)
}

/// The indicators of one version from its join with `layer` (made now or stored with it).
fn indicators_from_join(
    v: &StoredVersion,
    joined: Vec<Joined>,
    summary: &JoinSummary,
    layer: &KnownLayer,
    suffix: &str,
) -> Vec<Indicator> {
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

/// A stored version decoded: its stored join when it has one (then the table stays
/// undecoded, needed only if the join does not fit the layer as loaded), else its table
/// parsed. What start-up reads and decodes while the layers load ([`parse_versions`]).
pub struct ParsedVersion {
    /// The version; its table bytes are dropped once the table is parsed.
    pub version: StoredVersion,
    /// The join stored with it, if it decoded.
    join: Option<StoredJoin>,
    /// The parsed table, or `None` when it was not needed yet or could not be read.
    table: Option<Table>,
}

/// Decodes `versions` (in parallel): each stored join, else each table. A version that
/// cannot be read is logged and skipped later, never fatal at start-up.
pub fn parse_versions(versions: Vec<StoredVersion>) -> Vec<ParsedVersion> {
    use rayon::prelude::*;
    versions
        .into_par_iter()
        .map(|mut v| {
            let join = if v.join.is_empty() {
                None
            } else {
                match StoredJoin::decode(&v.join) {
                    Ok(j) => Some(j),
                    Err(e) => {
                        tracing::warn!(dataset = %v.dataset, version = v.version, error = %e, "stored join unreadable: the table is joined again");
                        None
                    }
                }
            };
            v.join = Vec::new();
            let table = if join.is_some() {
                None
            } else {
                let t = parse_table(&v);
                v.table = Vec::new();
                t
            };
            ParsedVersion {
                version: v,
                join,
                table,
            }
        })
        .collect()
}

fn parse_table(v: &StoredVersion) -> Option<Table> {
    match crate::table::decode_for_join(&v.table) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(dataset = %v.dataset, version = v.version, error = %e, "stored table unreadable: skipped");
            None
        }
    }
}

/// The table of a version whose stored join did not fit: from the bytes read with it, else
/// read from `store` (versions with a join are read without their table).
fn table_of(v: &StoredVersion, store: Option<&dyn DatasetStore>) -> Option<Table> {
    if !v.table.is_empty() {
        return parse_table(v);
    }
    let stored = store.map(|s| s.version(&v.dataset, Some(v.version)));
    match stored {
        Some(Ok(Some(full))) => parse_table(&full),
        Some(Err(e)) => {
            tracing::warn!(dataset = %v.dataset, version = v.version, error = %e, "stored table not readable: skipped");
            None
        }
        Some(Ok(None)) | None => {
            tracing::warn!(dataset = %v.dataset, version = v.version, "stored table not found: skipped");
            None
        }
    }
}

/// A join made again at start-up (the layer or the program changed since the version was
/// stored), to store in place of the old one ([`store_joins`]).
pub struct Rejoined {
    /// Dataset id.
    pub dataset: String,
    /// Version number.
    pub version: u32,
    /// [`StoredJoin::encode`]'s bytes.
    pub join: Vec<u8>,
}

/// A version's indicators (with the layer id of each) and its join if made again.
type VersionIndicators = (Vec<(String, Indicator)>, Option<Rejoined>);

/// The indicators of one version (the latest version's twice: without and with `@N`),
/// from its stored join when it fits `layers`, else from joining its table again (returned
/// for storing).
fn version_indicators(
    p: &ParsedVersion,
    layers: &[KnownLayer],
    latest: bool,
    store: Option<&dyn DatasetStore>,
) -> VersionIndicators {
    let v = &p.version;
    let Some(layer) = layers.iter().find(|l| l.id == v.layer) else {
        tracing::warn!(dataset = %v.dataset, version = v.version, layer = %v.layer, "dataset layer not loaded: skipped");
        return (Vec::new(), None);
    };
    let suffix = format!("@{}", v.version);
    let (pinned, rejoined) = match &p.join {
        Some(j) if j.fits(layer) => (
            indicators_from_join(v, j.joined.clone(), &j.summary, layer, &suffix),
            None,
        ),
        _ => {
            let parsed;
            let table = match &p.table {
                Some(t) => t,
                None => match table_of(v, store) {
                    Some(t) => {
                        parsed = t;
                        &parsed
                    }
                    None => return (Vec::new(), None),
                },
            };
            let (joined, summary) = crate::join::join(table, layer);
            let rejoined = StoredJoin::encode_for(layer, &joined, &summary).map(|join| Rejoined {
                dataset: v.dataset.clone(),
                version: v.version,
                join,
            });
            (
                indicators_from_join(v, joined, &summary, layer, &suffix),
                rejoined,
            )
        }
    };
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
    (out, rejoined)
}

/// Stores the joins made again at start-up so the next start decodes them; a failure is
/// logged (the next start joins again), never fatal.
pub fn store_joins(store: &dyn DatasetStore, rejoined: &[Rejoined]) {
    for r in rejoined {
        if let Err(e) = store.put_join(&r.dataset, r.version, &r.join) {
            tracing::warn!(dataset = %r.dataset, version = r.version, error = %e, "join not stored: joined again at the next start");
            return;
        }
    }
    if !rejoined.is_empty() {
        tracing::info!(
            versions = rejoined.len(),
            "joins of stored versions made again and stored"
        );
    }
}

/// Stored versions applied to the maps.
pub struct Applied {
    /// A copy of the base maps with every usable version's indicators added.
    pub maps: Loaded,
    /// Joins made again because the stored ones no longer fit (to store: [`store_joins`]).
    pub rejoined: Vec<Rejoined>,
}

/// A copy of `base` with the indicators of every version in `versions` (from
/// [`parse_versions`]) added to its layer; `layers` are the codes of `base`'s layers (from
/// [`known_layers`], which the server builds once). Stored joins are used where they fit,
/// tables joined again where not (read from `store` when they were read without); versions whose table or layer cannot be used are skipped
/// with a warning (never fatal at start-up). All indicators are added in one step (one copy
/// of the layers, not one per dataset).
pub fn apply_parsed(
    base: &Loaded,
    layers: &[KnownLayer],
    versions: &[ParsedVersion],
    generation: u64,
    store: Option<&dyn DatasetStore>,
) -> Applied {
    let started = std::time::Instant::now();
    // Latest version of each dataset (versions come sorted by dataset, version).
    let mut latest: BTreeMap<&str, u32> = BTreeMap::new();
    for p in versions {
        latest.insert(&p.version.dataset, p.version.version);
    }
    // One thread: from stored joins this is light work (about 0.3 ms a version), and at
    // start-up rayon's pool is still busy with the per-zoom geometry, so parallel tasks would
    // wait for it.
    let per_version: Vec<VersionIndicators> = versions
        .iter()
        .map(|p| {
            let is_latest = latest.get(p.version.dataset.as_str()) == Some(&p.version.version);
            version_indicators(p, layers, is_latest, store)
        })
        .collect();
    let mut extra: Vec<(String, Indicator)> = Vec::new();
    let mut rejoined = Vec::new();
    for (indicators, again) in per_version {
        extra.extend(indicators);
        rejoined.extend(again);
    }
    let joined_ms = started.elapsed().as_secs_f64() * 1000.0;
    let maps = base.with_indicators(extra, &format!("d{generation}"));
    tracing::debug!(
        joined_ms,
        joined_again = rejoined.len(),
        total_ms = started.elapsed().as_secs_f64() * 1000.0,
        "datasets joined and added"
    );
    Applied { maps, rejoined }
}

/// `loaded` plus the datasets stored in `state_dir` for its layers (unchanged when there is
/// no database there yet): how the CLI's `render` and `export` see uploaded datasets.
pub fn with_stored(loaded: Loaded, state_dir: &std::path::Path) -> crate::Result<Loaded> {
    if !state_dir.join(crate::sqlite::DB_FILE).exists() {
        return Ok(loaded);
    }
    let store = crate::sqlite::SqliteStore::open(state_dir)?;
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
        let generation = store.generation()?;
        let applied = apply_parsed(
            &loaded,
            &known_layers(&loaded),
            &parse_versions(versions),
            generation,
            Some(&store),
        );
        store_joins(&store, &applied.rejoined);
        applied.maps
    };
    out.deleted_datasets = std::sync::Arc::new(deleted);
    Ok(out)
}
