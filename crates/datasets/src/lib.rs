//! Uploaded tables become datasets: read ([`read`]), detect header, code column, values and
//! geography ([`detect`]), join with reasons for every unmatched code ([`join`]), store
//! immutable versions ([`store`], [`sqlite`]), and add their indicators to the loaded maps
//! ([`apply`](mod@apply)) so every route and command uses them like catalogue indicators.

pub mod aggregate;
pub mod apply;
pub mod codes;
pub mod detect;
pub mod error;
pub mod join;
pub mod read;
pub mod sqlite;
pub mod store;
pub mod stored_join;
pub mod table;

use serde_json::{Value, json};

pub use apply::{
    Applied, ParsedVersion, Rejoined, apply_parsed, known_layers, parse_versions, store_joins,
    with_stored,
};
pub use detect::{Detection, KnownLayer};
pub use error::{DatasetError, ErrorKind, Result};
pub use join::{JoinSummary, Joined};
pub use read::{Format, Limits};
pub use sqlite::SqliteStore;
pub use store::{DatasetMeta, DatasetStore, DatasetSummary, NewVersion, StoredVersion};
pub use table::Table;

/// What the uploader said about the table (all optional).
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// Dataset id (made from the title when absent).
    pub id: Option<String>,
    /// Title shown on legends.
    pub title: Option<String>,
    /// Unit of the values.
    pub unit: Option<String>,
    /// `higher_is_better`, `higher_is_worse` or `neutral`.
    pub direction: Option<String>,
    /// Source line for credits.
    pub source: Option<String>,
    /// Licence text for credits.
    pub licence: Option<String>,
    /// Force this layer instead of detecting one.
    pub layer: Option<String>,
    /// XLSX sheet name (the first sheet otherwise).
    pub sheet: Option<String>,
    /// Period label of a table without period columns (default `latest`).
    pub period: Option<String>,
    /// Aggregate a small-area table to its district column with this rule
    /// (`share:decile=1`, `mean`, `sum`, `weighted-mean`...; see [`aggregate`](mod@aggregate)).
    pub aggregate: Option<String>,
    /// Weights column of `aggregate=weighted-mean`.
    pub weights: Option<String>,
}

/// An upload, read, detected and joined.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Id, title, unit, direction, source and licence.
    pub meta: DatasetMeta,
    /// CSV, TSV or XLSX.
    pub format: Format,
    /// The normalised table.
    pub table: Table,
    /// What detection found (header, columns, layout, layer).
    pub detection: Detection,
    /// How the table met the chosen layer.
    pub join: JoinSummary,
    /// Each indicator aligned with the layer's districts.
    pub joined: Vec<Joined>,
    /// How a small-area table was aggregated to districts (`aggregate=`).
    pub aggregation: Option<aggregate::AggregationReport>,
}

impl Analysis {
    /// The join to store with this version ([`stored_join::StoredJoin::encode`]'s bytes),
    /// keyed for its layer among `layers` (the ones it was analysed against); empty when the
    /// layer has no key (the join is then made again at each start).
    pub fn stored_join(&self, layers: &[KnownLayer]) -> Vec<u8> {
        layers
            .iter()
            .find(|l| l.id == self.detection.layer)
            .and_then(|l| stored_join::StoredJoin::encode_for(l, &self.joined, &self.join))
            .unwrap_or_default()
    }
}

/// Checks a dataset id: lower-case letters, digits and `_`, starting with a letter, at most
/// 40 characters (it becomes part of URLs and indicator ids); `new` is the upload page's
/// address (`/datasets/new`), so no dataset may take it.
pub fn check_id(id: &str) -> Result<()> {
    if id == "new" {
        return Err(DatasetError::bad(
            "the dataset id \"new\" is reserved",
            "/datasets/new is the upload page; choose another id",
        ));
    }
    let ok = id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(DatasetError::bad(
            format!("invalid dataset id {id:?}"),
            "use lower-case letters, digits and _, starting with a letter, at most 40 characters",
        ))
    }
}

/// Normalises a direction given by a user (`higher_is_worse`, `worse`, `higher-is-better`...).
pub fn check_direction(d: &str) -> Result<String> {
    let d = d.trim().to_ascii_lowercase().replace('-', "_");
    match d.as_str() {
        "higher_is_better" | "better" | "higher_better" => Ok("higher_is_better".into()),
        "higher_is_worse" | "worse" | "higher_worse" => Ok("higher_is_worse".into()),
        "" | "neutral" | "none" => Ok("neutral".into()),
        other => Err(DatasetError::bad(
            format!("unknown direction {other:?}"),
            "direction is higher_is_better, higher_is_worse or neutral",
        )),
    }
}

/// Reads, detects and joins an upload against the loaded layers.
pub fn analyse(
    bytes: &[u8],
    file_name: &str,
    content_type: Option<&str>,
    opts: &UploadOptions,
    layers: &[KnownLayer],
    limits: &Limits,
) -> Result<Analysis> {
    let grid = read::read_grid(
        bytes,
        file_name,
        content_type,
        opts.sheet.as_deref(),
        limits,
    )?;
    let period = opts.period.as_deref().unwrap_or("latest");
    let (table, detection, aggregation) = match opts.aggregate.as_deref() {
        Some(rule) => {
            let (t, d, r) = aggregate::to_districts(
                &grid,
                layers,
                opts.layer.as_deref(),
                period,
                rule,
                opts.weights.as_deref(),
            )?;
            (t, d, Some(r))
        }
        None if opts.weights.is_some() => {
            return Err(DatasetError::bad(
                "weights= applies to aggregate=weighted-mean only",
                "add aggregate=weighted-mean, or drop weights=",
            ));
        }
        None => {
            let (t, d) = detect::detect(&grid, layers, opts.layer.as_deref(), period)?;
            (t, d, None)
        }
    };
    let layer = layers
        .iter()
        .find(|l| l.id == detection.layer)
        .ok_or_else(|| DatasetError::bad("no layer chosen", "name one with layer="))?;
    let (joined, join) = join::join(&table, layer);
    let stem = std::path::Path::new(file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("dataset");
    let id = match &opts.id {
        Some(id) => id.clone(),
        None => detect::columns::slug(opts.title.as_deref().unwrap_or(stem)),
    };
    check_id(&id)?;
    let meta = DatasetMeta {
        id,
        title: opts.title.clone().unwrap_or_else(|| stem.to_string()),
        unit: opts.unit.clone().unwrap_or_default(),
        direction: check_direction(opts.direction.as_deref().unwrap_or(""))?,
        source: opts
            .source
            .clone()
            .unwrap_or_else(|| "Uploaded by a placemap user".into()),
        licence: opts.licence.clone().unwrap_or_else(|| "not stated".into()),
    };
    Ok(Analysis {
        meta,
        format: grid.format,
        table,
        detection,
        join,
        joined,
        aggregation,
    })
}

/// The indicator id of one of a dataset's columns: the dataset id alone when it has one.
pub fn indicator_id(dataset: &str, key: &str, count: usize) -> String {
    if count == 1 {
        dataset.to_string()
    } else {
        format!("{dataset}_{key}")
    }
}

/// The JSON answer to an upload (and what the store keeps as the version's report).
pub fn report_json(a: &Analysis, version: Option<u32>, stored: bool) -> Value {
    let n = a.joined.len();
    json!({
        "id": a.meta.id,
        "version": version,
        "stored": stored,
        "title": a.meta.title,
        "unit": a.meta.unit,
        "direction": a.meta.direction,
        "source": a.meta.source,
        "licence": a.meta.licence,
        "format": a.format,
        "layer": a.detection.layer,
        "header_row": a.detection.header_row,
        "code_column": a.detection.code_column,
        "detection": a.detection,
        "rows": a.table.rows.len(),
        "indicators": a.joined.iter().zip(&a.table.indicators).map(|(j, t)| json!({
            "id": indicator_id(&a.meta.id, &j.key, n),
            "title": j.title,
            "column": t.title,
            "periods": j.periods.iter().map(|p| &p.0).collect::<Vec<_>>(),
            "matched": j.matched,
            "suppressed": t.markers,
        })).collect::<Vec<_>>(),
        "join": a.join,
        "aggregated": a.aggregation,
    })
}
