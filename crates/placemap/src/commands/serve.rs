//! `placemap serve`: the long-running tile server.

use std::process::ExitCode;

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
    /// Tile cache bound, megabytes (tiles in use now; a CDN in front holds the rest).
    #[arg(long, default_value_t = tile_server::config::DEFAULT_CACHE_MB)]
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
    /// Request timeout, seconds (a request still running, or a body still arriving, is then
    /// answered 503).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Longest a client may take to send a request header, seconds; the connection is then
    /// closed (slow-header clients cannot hold connections).
    #[arg(long, default_value_t = RawConfig::default().header_timeout_secs)]
    pub header_timeout: u64,
    /// Most connections open at once; further clients wait until one closes.
    #[arg(long, default_value_t = RawConfig::default().max_connections)]
    pub max_connections: usize,
    /// Largest request body of POST /lookup, bytes (uploads have --max-upload-bytes).
    #[arg(long, default_value_t = RawConfig::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Deepest zoom served.
    #[arg(long, default_value_t = 18)]
    pub max_zoom: u8,
    /// File with upload tokens, one a line (else PLACEMAP_TOKEN; else one is made and printed).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Largest dataset upload, bytes.
    #[arg(long, default_value_t = datasets::Limits::default().max_bytes)]
    pub max_upload_bytes: usize,
    /// Most rows in an uploaded table.
    #[arg(long, default_value_t = datasets::Limits::default().max_rows)]
    pub max_rows: usize,
    /// Most columns in an uploaded table.
    #[arg(long, default_value_t = datasets::Limits::default().max_columns)]
    pub max_columns: usize,
    /// Most datasets stored.
    #[arg(long, default_value_t = datasets::Limits::default().max_datasets)]
    pub max_datasets: usize,
    /// The address clients reach the server by (e.g. https://maps.example.org), the base of
    /// every absolute link (TileJSON, OGC API); default: worked out per request.
    #[arg(long, env = "PLACEMAP_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Proxies (IP addresses or CIDR blocks, comma-separated) whose Forwarded /
    /// X-Forwarded-Proto / X-Forwarded-Host headers are believed; default none.
    #[arg(
        long,
        env = "PLACEMAP_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IPS"
    )]
    pub trusted_proxies: Vec<String>,
    /// Uncached tiles rendered at once (default: two per core); a tile waits up to
    /// --tile-wait-ms for a slot, then gets 503 with Retry-After.
    #[arg(long, value_name = "N")]
    pub max_tile_jobs: Option<usize>,
    /// Static maps drawn at once (default: half the cores, at least 1); more get 503 at once.
    #[arg(long, value_name = "N")]
    pub max_static_jobs: Option<usize>,
    /// Analyses (/stats) run at once (default: half the cores, at least 1).
    #[arg(long, value_name = "N")]
    pub max_analysis_jobs: Option<usize>,
    /// GeoJSON/CSV exports and OGC item pages built at once (default: half the cores).
    #[arg(long, value_name = "N")]
    pub max_export_jobs: Option<usize>,
    /// Dataset uploads processed at once (default 1).
    #[arg(long, value_name = "N")]
    pub max_upload_jobs: Option<usize>,
    /// Batch lookups (POST /lookup) run at once (default: half the cores, at least 1); more
    /// get 503 at once.
    #[arg(long, value_name = "N")]
    pub max_lookup_jobs: Option<usize>,
    /// Memory all heavy jobs except tiles together may expect to hold, MiB (default 512; a
    /// 10,000 px square PNG expects about 140, an analysis 160); beyond it requests get 503
    /// with Retry-After, and the refused job's share is held back for its retry.
    #[arg(long, value_name = "MIB")]
    pub heavy_memory_mb: Option<u64>,
    /// Longest an uncached tile waits for a render slot before its 503, milliseconds.
    #[arg(long, value_name = "MS")]
    pub tile_wait_ms: Option<u64>,
    /// Uncached tiles of at most this many vertices are drawn on the thread that took the
    /// request, without a hand-off to a blocking thread (faster; 0 hands every tile off).
    #[arg(long, value_name = "N", default_value_t = maps::raster::QUICK_TILE_VERTICES)]
    pub inline_tile_vertices: usize,
}

/// The admission limits: the machine's defaults with the flags given on top.
fn admission(a: &ServeArgs) -> tile_server::admission::Limits {
    let mut l = tile_server::admission::Limits::for_this_machine();
    let set = |v: &mut usize, flag: Option<usize>| {
        if let Some(f) = flag {
            *v = f;
        }
    };
    set(&mut l.tile_jobs, a.max_tile_jobs);
    set(&mut l.static_jobs, a.max_static_jobs);
    set(&mut l.analysis_jobs, a.max_analysis_jobs);
    set(&mut l.export_jobs, a.max_export_jobs);
    set(&mut l.upload_jobs, a.max_upload_jobs);
    set(&mut l.lookup_jobs, a.max_lookup_jobs);
    if let Some(mb) = a.heavy_memory_mb {
        l.memory_bytes = mb.saturating_mul(1024 * 1024);
    }
    if let Some(ms) = a.tile_wait_ms {
        l.tile_wait = std::time::Duration::from_millis(ms);
    }
    l.inline_tile_vertices = a.inline_tile_vertices;
    l
}

/// Upload tokens: `--token-file`, else `PLACEMAP_TOKEN`, else a new random one (printed once,
/// as Jupyter does, so `make run` works out of the box).
fn tokens(a: &ServeArgs) -> Result<(Vec<String>, bool)> {
    if let Some(f) = &a.token_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow!("cannot read --token-file {}: {e}", f.display()))?;
        let t: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        if t.is_empty() {
            return Err(anyhow!("--token-file {} has no token", f.display()));
        }
        return Ok((t, false));
    }
    if let Ok(t) = std::env::var("PLACEMAP_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok((vec![t.trim().to_string()], false));
    }
    let mut bytes = [0u8; 24];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| anyhow!("cannot make an upload token: {e}; set PLACEMAP_TOKEN"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok((vec![token], true))
}

pub fn run(ctx: &Context_, a: ServeArgs) -> Result<ExitCode> {
    let data = resolve_data_dir(ctx.data.clone(), std::env::var("PLACEMAP_DATA").ok())
        .map_err(|e| anyhow!(e))?;
    let catalog = resolve_catalog(ctx.catalog.clone()).map_err(|e| anyhow!(e))?;
    eprintln!("placemap: data directory {data}");
    eprintln!("placemap: catalogue {}", catalog.display());
    let (tokens, generated) = tokens(&a)?;
    let limits = admission(&a);
    let heavy_jobs = limits.total_jobs();
    let raw = RawConfig {
        addr: a.addr,
        data_dir: data.path,
        catalog,
        cache_mb: a.cache_mb,
        cors_origins: a.cors,
        request_timeout_secs: a.timeout,
        header_timeout_secs: a.header_timeout,
        max_connections: a.max_connections,
        max_body_bytes: a.max_body_bytes,
        max_lookup_points: a.max_lookup_points,
        max_zoom: a.max_zoom,
        layers: a.layers,
        public_url: a.public_url,
        trusted_proxies: a.trusted_proxies,
        admission: limits,
    };
    let config = raw.resolve()?;
    let config_public = config.public_url.as_ref().map(|u| u.as_str().to_string());
    // The dataset store is opened, checked and read on its own thread while the layers load:
    // neither needs the other, and stored datasets then add only their join to start-up.
    let state_dir = ctx.state.clone();
    let preload = std::thread::Builder::new()
        .name("datasets-preload".into())
        .spawn(move || tile_server::serve::preload(&state_dir))?;
    let pb = ctx.spinner("loading layers, joining indicators, building indexes".into());
    let started = std::time::Instant::now();
    // Boundary layers come from the prepared-layer cache when it holds them (`--cache`).
    let state = districts::catalog::Catalog::load(&config.catalog, &config.data_dir)
        .map_err(|e| anyhow!(e))
        .and_then(|mut catalog| {
            catalog.prepared_dir.clone_from(&ctx.cache);
            tile_server::serve::load_state_from(&catalog, config).map_err(|e| anyhow!(e))
        });
    pb.finish_and_clear();
    let pre = preload
        .join()
        .map_err(|_| anyhow!("reading the dataset store failed unexpectedly"))?;
    let state = state?;
    let pre = pre?;
    eprintln!(
        "placemap: loaded {} layers in {:.2} s",
        state.maps.atlas.layers.len(),
        started.elapsed().as_secs_f64()
    );
    let limits = datasets::Limits {
        max_bytes: a.max_upload_bytes,
        max_rows: a.max_rows,
        max_columns: a.max_columns,
        max_datasets: a.max_datasets,
    };
    let live = tile_server::serve::live_state_preloaded(
        state,
        pre,
        tile_server::serve::DatasetsConfig {
            state_dir: ctx.state.clone(),
            tokens: tokens.clone(),
            limits,
            poll: std::time::Duration::from_secs(2),
        },
    );
    eprintln!("placemap: datasets in {}", ctx.state.display());
    if generated {
        // Printed once, never logged.
        println!("upload token (Authorization: Bearer ...): {}", tokens[0]);
    }
    // Rendering runs on blocking threads, each with its own reusable renderer and encoder:
    // admission control bounds the heavy jobs, and a few more threads per core serve the light
    // blocking work (single lookups, dataset listings), so memory stays flat under load.
    let cores = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(heavy_jobs + cores * 2)
        .build()?;
    let public = config_public.clone();
    rt.block_on(tile_server::serve::run_live(live, |addr| {
        println!("listening on http://{addr}");
        if let Some(url) = public {
            println!("links name {url}");
        }
        println!("interactive map: http://{addr}/map/lad23/imd25_score");
        println!("add your own data: http://{addr}/datasets/new");
    }))?;
    Ok(ExitCode::SUCCESS)
}
