//! `placemap`: maps of regional divides from district boundaries and indicator tables.
//!
//! Every command finds its data in `--data DIR`, else `PLACEMAP_DATA`, else `../shared/data`
//! seen from the repository root, and says which directory it used.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc rather than glibc's malloc: glibc kept what big jobs (a 10,000 px static map, a
/// Moran run) freed in its per-thread arenas and raised its trim threshold after large frees,
/// so under the abuse mix the server peaked at 1.3 GB and stayed about 240 MB above start-up
/// (tile cache aside); jemalloc's background thread purges freed pages within seconds, even
/// while the server is idle. mimalloc, also tried, peaked higher (1.4 GB). `malloc_trim`
/// would need `unsafe`. Measured in BENCHMARKS.md section 13.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Maps of regional divides: choropleth tiles, lookups, joins and analysis of UK districts.
#[derive(Parser, Debug)]
#[command(name = "placemap", version, about)]
pub struct Cli {
    /// Data directory (default: PLACEMAP_DATA, else ../shared/data beside the repository).
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Catalogue file (default: boundaries/catalog.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// State directory holding uploaded datasets (placemap.sqlite), shared by `serve` and the
    /// other commands.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "PLACEMAP_STATE",
        default_value = "state"
    )]
    pub state: PathBuf,
    /// Cache of prepared layers (boundaries as loaded and indexed, rebuilt when a source file,
    /// the catalogue or placemap changes); `none` reads every layer from its source (default:
    /// $XDG_CACHE_HOME/placemap, else ~/.cache/placemap).
    #[arg(long, global = true, value_name = "DIR", env = "PLACEMAP_CACHE")]
    pub cache: Option<PathBuf>,
    /// Quieter output (no progress bars).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Logs as JSON lines (for log collectors) instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[allow(missing_docs)] // a doc comment here would become clap help text
    #[command(subcommand)]
    pub command: Command,
}

#[allow(missing_docs)] // each variant's doc comment is its help text
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve tiles, legends, GeoJSON, lookups, static and interactive maps over HTTP.
    Serve(commands::serve::ServeArgs),
    /// Uploaded datasets: add a table (its geography is detected), list, show, delete.
    #[command(subcommand)]
    Datasets(commands::datasets::DatasetsCommand),
    /// Which district contains a point, or a spatial join of a CSV of points.
    Lookup(commands::lookup::LookupArgs),
    /// The join report of every indicator table on a layer.
    Join(commands::join::JoinArgs),
    /// List the layers and indicators of the catalogue.
    Layers(commands::layers::LayersArgs),
    /// A static, publication-ready map (PNG or SVG) for reports.
    Render(Box<commands::render::RenderArgs>),
    /// A layer's districts and indicator values as GeoJSON or CSV.
    Export(commands::export::ExportArgs),
    /// A layer's vector tiles in one PMTiles archive, for maps hosted as static files.
    Tiles(commands::tiles::TilesArgs),
    /// A map as a folder of static files (page, PMTiles, style, legend, figure, data) for any
    /// static host or CDN.
    Publish(commands::publish::PublishArgs),
    /// Aggregate small areas to districts (by lookup or spatially), reporting exclusions.
    Aggregate(commands::aggregate::AggregateArgs),
    /// Compare a group of districts with another or the rest; correlate two indicators.
    Compare(commands::compare::CompareArgs),
    /// Global Moran's I and LISA clusters of an indicator.
    Clusters(commands::clusters::ClustersArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if cli.quiet { "warn" } else { "info" })
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        // One JSON object per line (timestamp, level, target, fields), for log collectors.
        logs.json().init();
    } else {
        logs.init();
    }
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", placemap::error_chain(&e));
            ExitCode::from(2)
        }
    }
}
