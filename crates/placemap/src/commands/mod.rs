//! One module per command, each with its clap arguments and a `run`.

pub mod aggregate;
pub mod clusters;
pub mod compare;
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
use districts::data_dir::{resolve_catalog, resolve_data_dir};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{Cli, Command};

/// Runs the chosen command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context_ {
        data: cli.data.clone(),
        catalog: cli.catalog.clone(),
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Serve(a) => serve::run(&ctx, a),
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

    /// The server's state (catalogue, layers, derived indicators) for one layer, with the layers
    /// its derived indicators among `indicators` (all with `None`) aggregate from.
    pub fn server_state(
        &self,
        layer: &str,
        indicators: Option<&[String]>,
    ) -> Result<tile_server::state::AppState> {
        let data = resolve_data_dir(self.data.clone(), std::env::var("PLACEMAP_DATA").ok())
            .map_err(|e| anyhow!(e))?;
        let catalog = resolve_catalog(self.catalog.clone()).map_err(|e| anyhow!(e))?;
        if !self.quiet {
            eprintln!("placemap: data directory {data}");
        }
        let loaded = Catalog::load(&catalog, &data.path)
            .with_context(|| format!("loading catalogue {}", catalog.display()))?;
        let config = tile_server::config::RawConfig {
            data_dir: data.path,
            catalog,
            layers: loaded.layers_for(layer, indicators),
            ..tile_server::config::RawConfig::default()
        }
        .resolve()?;
        let pb = self.spinner(format!("loading {layer}"));
        let state = tile_server::serve::load_state_from(&loaded, config);
        pb.finish_and_clear();
        Ok(state?)
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
