//! `placemap datasets`: add a table to the state directory (detecting its geography), list,
//! show and delete, sharing the database with a running server (which picks changes up).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use datasets::{DatasetStore, SqliteStore, UploadOptions};
use maps::{LoadOptions, Loaded};

use super::Context_;

#[derive(Subcommand, Debug)]
pub enum DatasetsCommand {
    /// Add a table (CSV, TSV or XLSX) as a dataset, or a new version of one (`--id`).
    Add(Box<AddArgs>),
    /// List the datasets.
    List,
    /// A dataset's metadata, versions and latest join report (JSON).
    Show { id: String },
    /// Delete a dataset (its maps stop being served).
    Delete { id: String },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The table.
    pub file: PathBuf,
    /// Dataset id (default from the title or file name); an existing id gets a new version.
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub unit: Option<String>,
    /// higher_is_better, higher_is_worse or neutral.
    #[arg(long)]
    pub direction: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub licence: Option<String>,
    /// Join to this layer instead of detecting one.
    #[arg(long)]
    pub layer: Option<String>,
    /// Load only these layers to recognise the codes (comma-separated; all by default). Faster
    /// when the geography is known.
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// XLSX sheet (default the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Aggregate a small-area table (LSOAs...) to its district code column first:
    /// `share:decile=1`, `mean`, `sum`, `median`, `min`, `max` or `weighted-mean` (with
    /// `--weights`); `mean:COLUMN` aggregates only the columns whose header contains COLUMN.
    #[arg(long)]
    pub aggregate: Option<String>,
    /// Weights column of `--aggregate weighted-mean` (e.g. a population column).
    #[arg(long)]
    pub weights: Option<String>,
    /// Only detect and report; store nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn open(state: &Path) -> Result<SqliteStore> {
    SqliteStore::open(state).map_err(|e| anyhow!("{e} ({})", e.hint))
}

pub fn run(ctx: &Context_, cmd: DatasetsCommand) -> Result<ExitCode> {
    match cmd {
        DatasetsCommand::Add(a) => add(ctx, *a),
        DatasetsCommand::List => {
            let store = open(&ctx.state)?;
            for d in store.list().map_err(|e| anyhow!(e))? {
                if d.deleted {
                    continue;
                }
                let last = d.versions.last();
                println!(
                    "{}\tversion {}\t{}\t{}",
                    d.meta.id,
                    last.map_or(0, |v| v.version),
                    last.map_or("", |v| v.layer.as_str()),
                    d.meta.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetsCommand::Show { id } => {
            let store = open(&ctx.state)?;
            let d = store
                .get(&id)
                .map_err(|e| anyhow!(e))?
                .ok_or_else(|| anyhow!("no dataset {id:?} in {}", ctx.state.display()))?;
            let v = store.version(&id, None).map_err(|e| anyhow!(e))?;
            let report: serde_json::Value = v
                .as_ref()
                .and_then(|v| serde_json::from_str(&v.report).ok())
                .unwrap_or_default();
            let out = serde_json::json!({ "dataset": d, "report": report });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        DatasetsCommand::Delete { id } => {
            let store = open(&ctx.state)?;
            if store.delete(&id).map_err(|e| anyhow!(e))? {
                eprintln!("placemap: deleted dataset {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(anyhow!("no dataset {id:?} (or already deleted)"))
            }
        }
    }
}

fn add(ctx: &Context_, a: AddArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let catalog = ctx.catalog()?;
    let pb = ctx.spinner("loading layers to recognise the codes".into());
    let load = LoadOptions {
        layers: a.layers.clone(),
        ..LoadOptions::default()
    };
    let loaded = Loaded::load(&catalog, &load);
    pb.finish_and_clear();
    let loaded = loaded?;
    let layers = datasets::known_layers(&loaded);
    let opts = UploadOptions {
        id: a.id.clone(),
        title: a.title,
        unit: a.unit,
        direction: a.direction,
        source: a.source,
        licence: a.licence,
        layer: a.layer,
        sheet: a.sheet,
        period: None,
        aggregate: a.aggregate,
        weights: a.weights,
    };
    let name = a.file.to_string_lossy().to_string();
    let limits = datasets::Limits::default();
    let analysis = datasets::analyse(&bytes, &name, None, &opts, &layers, &limits)
        .map_err(|e| anyhow!("{e} ({})", e.hint))?;
    if a.dry_run {
        let report = datasets::report_json(&analysis, None, false);
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let store = open(&ctx.state)?;
    let report = datasets::report_json(&analysis, None, true);
    let table = datasets::table::encode(&analysis.table);
    let version = store
        .put_version(
            &datasets::NewVersion {
                meta: &analysis.meta,
                layer: &analysis.detection.layer,
                report: &report.to_string(),
                table: &table,
                join: &analysis.stored_join(&layers),
            },
            a.id.is_none(),
            limits.max_datasets,
        )
        .map_err(|e| anyhow!("{e} ({})", e.hint))?;
    let report = datasets::report_json(&analysis, Some(version), true);
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "placemap: stored {} version {version} on layer {} in {}",
        analysis.meta.id,
        analysis.detection.layer,
        ctx.state.display()
    );
    Ok(ExitCode::SUCCESS)
}
