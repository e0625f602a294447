//! One module per command, each with its clap arguments and a `run`.

pub mod aggregate;
pub mod clusters;
pub mod compare;
pub mod datasets;
pub mod export;
pub mod join;
pub mod layers;
pub mod lookup;
pub mod publish;
pub mod render;
pub mod serve;
pub mod tiles;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
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
        cache: prepared_dir(cli.cache.clone()),
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
        Command::Publish(a) => publish::run(&ctx, a),
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
    /// Directory of prepared layers (`None`: read every layer from its source).
    pub cache: Option<std::path::PathBuf>,
}

/// The prepared-layer directory: `--cache`/`PLACEMAP_CACHE` (`none` turns it off), else the
/// user's cache directory as the XDG base directory specification places it.
fn prepared_dir(given: Option<std::path::PathBuf>) -> Option<std::path::PathBuf> {
    let root = match given {
        Some(dir) if dir.as_os_str() == "none" || dir.as_os_str().is_empty() => return None,
        Some(dir) => dir,
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(xdg) => std::path::PathBuf::from(xdg).join("placemap"),
            None => std::path::PathBuf::from(std::env::var_os("HOME")?)
                .join(".cache")
                .join("placemap"),
        },
    };
    Some(root.join("layers"))
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
        let mut catalog = Catalog::load(&cat_path, &data.path)
            .with_context(|| format!("loading catalogue {}", cat_path.display()))?;
        catalog.prepared_dir.clone_from(&self.cache);
        Ok(catalog)
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

    /// A progress bar on stderr (hidden with --quiet), its length given by the work as it
    /// learns it (`set_length`).
    pub fn progress_bar(&self, msg: String, unit: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new(0);
        let template = format!(
            "{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} [{{elapsed}}, {{eta}} left]"
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(msg);
        pb
    }

    /// `layer` with only what drawing or writing `indicators` needs
    /// ([`maps::LoadOptions::only_indicators`]), with or without its lookup index, and the
    /// uploaded datasets.
    pub fn maps_of(
        &self,
        catalog: &districts::catalog::Catalog,
        layer: &str,
        indicators: &[String],
        lookup_index: maps::loaded::LookupIndex,
    ) -> Result<Loaded> {
        let opts = LoadOptions {
            layers: vec![layer.to_string()],
            only_indicators: Some(indicators.to_vec()),
            lookup_index,
            ..LoadOptions::default()
        };
        let pb = self.spinner(format!("loading {layer}"));
        let loaded = Loaded::load(catalog, &opts);
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

/// What moves a progress bar made by [`Context_::progress_bar`]: told (done, in all) as work
/// goes, from any thread.
pub fn progress_of(pb: &ProgressBar) -> impl Fn(usize, usize) + Sync + '_ {
    move |done, total| {
        if pb.length() != Some(total as u64) {
            pb.set_length(total as u64);
        }
        pb.set_position(done as u64);
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
///
/// The one writer of every `--out`: `path` naming a directory is refused (no name is made up
/// inside it); the temporary file is `.NAME.PID.RANDOM.partial` in the same directory
/// (`tempfile`, removed if `fill` fails), synced and renamed over `path`. A run that is killed
/// cannot remove its own; the next run writing the same file removes those whose process is
/// gone.
pub fn write_whole_with<T>(
    path: &std::path::Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<T>,
) -> Result<T> {
    let shown = path.display();
    let name = check_out(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    remove_stale_partials(&dir, &name);
    let prefix = format!(".{name}.{}.", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    // tempfile creates 0600 files; the finished file gets the mode any new file gets (0666 less
    // the umask), so an exported map can be served or shared like one written directly.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(&dir)
        .with_context(|| format!("creating a temporary file in {} for {shown}", dir.display()))?;
    let out = fill(tmp.as_file_mut())?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow!("moving {} to {shown}: {}", e.file.path().display(), e.error))?;
    Ok(out)
}

/// The file name of an `--out` path; a directory (or a path ending in `/`) is refused, before
/// any work is done.
pub fn check_out(path: &std::path::Path) -> Result<String> {
    let shown = path.display();
    if path.is_dir() {
        bail!(
            "--out {shown} is a directory: give a file name, e.g. {}",
            path.join("map.png").display()
        );
    }
    let names_dir = path
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR);
    match path.file_name() {
        Some(n) if !names_dir => Ok(n.to_string_lossy().into_owned()),
        _ => bail!("--out {shown} names a directory, not a file: give a file name"),
    }
}

/// Removes `.NAME.PID.*.partial` files in `dir` left by writers of `name` that were killed
/// (their process is gone). Best effort: a file that cannot be removed is left.
fn remove_stale_partials(dir: &std::path::Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".partial"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && !process_alive(pid, &entry))
            && std::fs::remove_file(entry.path()).is_ok()
        {
            tracing::info!(file = %entry.path().display(), "removed the partial file of a run that was killed");
        }
    }
}

/// Whether process `pid` still runs: `/proc/PID` on Linux. Hand-written because no small,
/// well-kept crate answers just this without `unsafe`; elsewhere a partial file is taken for
/// abandoned once it is a day old.
fn process_alive(pid: u32, partial: &std::fs::DirEntry) -> bool {
    let proc = std::path::Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    partial
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age < Duration::from_secs(24 * 3600))
}
