//! One module per command, each with its clap arguments and a `run`.

pub mod aggregate;
pub mod clusters;
pub mod compare;
pub mod datasets;
pub mod export;
pub mod join;
pub mod layers;
pub mod lookup;
pub mod render;
pub mod serve;
pub mod tiles;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use districts::Atlas;
use districts::catalog::Catalog;
use indicatif::{ProgressBar, ProgressStyle};
use maps::{LoadOptions, Loaded};
use placemap::data_dir::{resolve_catalog, resolve_data_dir};

use crate::{Cli, Command};

/// Runs the chosen command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context_ {
        data: cli.data.clone(),
        catalog: cli.catalog.clone(),
        quiet: cli.quiet,
        state: cli.state.clone(),
    };
    match cli.command {
        Command::Serve(a) => serve::run(&ctx, a),
        Command::Datasets(a) => datasets::run(&ctx, a),
        Command::Lookup(a) => lookup::run(&ctx, a),
        Command::Join(a) => join::run(&ctx, a),
        Command::Layers(a) => layers::run(&ctx, a),
        Command::Render(a) => render::run(&ctx, *a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Tiles(a) => tiles::run(&ctx, a),
        Command::Aggregate(a) => aggregate::run(&ctx, a),
        Command::Compare(a) => compare::run(&ctx, a),
        Command::Clusters(a) => clusters::run(&ctx, a),
    }
}

/// Global options every command shares.
pub struct Context_ {
    pub data: Option<std::path::PathBuf>,
    pub catalog: Option<std::path::PathBuf>,
    pub quiet: bool,
    /// State directory of uploaded datasets.
    pub state: std::path::PathBuf,
}

impl Context_ {
    /// Resolves the data directory and catalogue, saying which were used (on stderr).
    pub fn catalog(&self) -> Result<Catalog> {
        let data = resolve_data_dir(self.data.clone(), std::env::var("PLACEMAP_DATA").ok())
            .map_err(|e| anyhow!(e))?;
        let cat_path = resolve_catalog(self.catalog.clone()).map_err(|e| anyhow!(e))?;
        if !self.quiet {
            eprintln!("placemap: data directory {data}");
            eprintln!("placemap: catalogue {}", cat_path.display());
        }
        Catalog::load(&cat_path, &data.path)
            .with_context(|| format!("loading catalogue {}", cat_path.display()))
    }

    /// Loads the named layers (all when empty) with a spinner.
    pub fn atlas(&self, catalog: &Catalog, only: &[String]) -> Result<Atlas> {
        let pb = self.spinner(format!(
            "loading {}",
            if only.is_empty() {
                "all layers".to_string()
            } else {
                only.join(", ")
            }
        ));
        let started = std::time::Instant::now();
        let atlas = Atlas::load(catalog, only);
        pb.finish_and_clear();
        let atlas = atlas?;
        if !self.quiet {
            eprintln!(
                "placemap: loaded {} layer(s) in {:.2} s",
                atlas.layers.len(),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(atlas)
    }

    /// The maps of one layer (layers, derived indicators, lookups), with the layers its derived
    /// indicators among `indicators` (all with `None`) aggregate from. Per-zoom geometry is
    /// built only if an operation asks for it.
    pub fn maps(&self, layer: &str, indicators: Option<&[String]>) -> Result<Loaded> {
        let catalog = self.catalog()?;
        let opts = LoadOptions {
            layers: catalog.layers_for(layer, indicators),
            ..LoadOptions::default()
        };
        let pb = self.spinner(format!("loading {layer}"));
        let loaded = Loaded::load(&catalog, &opts);
        pb.finish_and_clear();
        Ok(::datasets::with_stored(loaded?, &self.state)?)
    }

    /// A spinner on stderr (hidden with --quiet).
    pub fn spinner(&self, msg: String) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
            pb.set_style(style);
        }
        pb.set_message(msg);
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }
}

/// A map error as the command line prints it: the message, then what would work.
pub fn hinted(e: maps::MapError) -> anyhow::Error {
    match e.hint() {
        Some(h) => anyhow!("{e} ({h})"),
        None => anyhow!(e),
    }
}

/// Writes `path` whole or not at all: into a temporary file beside it, flushed to disk, then
/// renamed over it, so a command killed midway leaves the previous file (or none), never half.
pub fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    write_whole_with(path, |f| {
        std::io::Write::write_all(f, bytes)?;
        Ok(())
    })
}

/// Like [`write_whole`], with the content written by `fill` into the temporary file.
pub fn write_whole_with<T>(
    path: &std::path::Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<T>,
) -> Result<T> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.partial", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> Result<T> {
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let out = fill(&mut f)?;
        f.sync_all()
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("moving {} to {}", tmp.display(), path.display()))?;
        Ok(out)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
