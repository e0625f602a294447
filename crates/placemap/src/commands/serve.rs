//! `placemap serve`: the long-running tile server.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use clap::Args;
use placemap::data_dir::{resolve_catalog, resolve_data_dir};
use tile_server::config::RawConfig;

use super::Context_;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Tile cache bound, megabytes.
    #[arg(long, default_value_t = 256)]
    pub cache_mb: u64,
    /// Allowed CORS origins (comma-separated; `*` for any).
    #[arg(long, default_value = "*", value_delimiter = ',')]
    pub cors: Vec<String>,
    /// Only load these layers (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Most points accepted by POST /lookup.
    #[arg(long, default_value_t = 100_000)]
    pub max_lookup_points: usize,
    /// Request timeout, seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Deepest zoom served.
    #[arg(long, default_value_t = 18)]
    pub max_zoom: u8,
}

pub fn run(ctx: &Context_, a: ServeArgs) -> Result<ExitCode> {
    let data = resolve_data_dir(ctx.data.clone(), std::env::var("PLACEMAP_DATA").ok())
        .map_err(|e| anyhow!(e))?;
    let catalog = resolve_catalog(ctx.catalog.clone()).map_err(|e| anyhow!(e))?;
    eprintln!("placemap: data directory {data}");
    eprintln!("placemap: catalogue {}", catalog.display());
    let raw = RawConfig {
        addr: a.addr,
        data_dir: data.path,
        catalog,
        cache_mb: a.cache_mb,
        cors_origins: a.cors,
        request_timeout_secs: a.timeout,
        max_lookup_points: a.max_lookup_points,
        max_zoom: a.max_zoom,
        layers: a.layers,
        ..RawConfig::default()
    };
    let config = raw.resolve()?;
    let pb = ctx.spinner("loading layers, joining indicators, building indexes".into());
    let started = std::time::Instant::now();
    let state = tile_server::serve::load_state(config);
    pb.finish_and_clear();
    let state = Arc::new(state?);
    eprintln!(
        "placemap: loaded {} layers in {:.2} s",
        state.maps.atlas.layers.len(),
        started.elapsed().as_secs_f64()
    );
    // Rendering runs on blocking threads, each with its own reusable renderer and encoder: keep
    // that pool to a few threads per core so memory stays flat under load.
    let cores = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores * 4)
        .build()?;
    rt.block_on(tile_server::serve::run(state, |addr| {
        println!("listening on http://{addr}");
        println!("interactive map: http://{addr}/map/lad23/imd25_score");
    }))?;
    Ok(ExitCode::SUCCESS)
}
