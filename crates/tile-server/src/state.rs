//! Everything a request reads, built once at start-up and shared behind an `Arc`: the loaded
//! maps (layers, per-zoom geometry, styles), the tile cache and metrics.

use std::sync::Arc;

use bytes::Bytes;
use districts::{Indicator, Layer};
use maps::Loaded;

use crate::admission::{Admission, Class, Refused};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Key of a cached tile: style key (or vector-tile key), z, x, y and scale (0 for vector tiles).
pub type TileKey = (Arc<str>, u8, u32, u32, u8);

/// Memory a cached tile costs besides its bytes and key (see the weigher in [`AppState::new`]).
pub const ENTRY_OVERHEAD_BYTES: usize = 1024;

/// Shared state of the server.
pub struct AppState {
    /// The resolved configuration.
    pub config: ServerConfig,
    /// Layers, derived indicators, uploaded datasets, per-zoom geometry and styles (an `Arc`
    /// so a new dataset version makes a new state sharing everything else).
    pub maps: Arc<Loaded>,
    /// Request, cache and render metrics (shared by every snapshot).
    pub metrics: Arc<Metrics>,
    /// Encoded tiles (PNG and MVT), bounded in bytes.
    pub tiles: moka::sync::Cache<TileKey, Bytes>,
    /// Bounds on heavy work (shared by every snapshot, like the metrics).
    pub admission: Arc<Admission>,
}

/// The state as handlers see it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// The state over loaded maps, with a tile cache bounded by the configuration.
    pub fn new(config: ServerConfig, maps: Loaded) -> Self {
        let tiles = moka::sync::Cache::builder()
            .max_capacity(config.cache_bytes)
            // Tile bytes, the key, and what each entry costs besides (moka's bookkeeping, the
            // allocations around it: about 1 KB measured with bench/memory.sh on 200k small
            // tiles), so the byte bound is a bound on resident memory.
            .weigher(|k: &TileKey, v: &Bytes| -> u32 {
                (v.len() + k.0.len() + ENTRY_OVERHEAD_BYTES)
                    .try_into()
                    .unwrap_or(u32::MAX)
            })
            .build();
        let metrics = Arc::new(Metrics::new());
        let admission = Arc::new(Admission::new(
            config.admission.clone(),
            Arc::clone(&metrics),
        ));
        AppState {
            config,
            maps: Arc::new(maps),
            metrics,
            tiles,
            admission,
        }
    }

    /// The same server over other maps (a new dataset version): metrics and the tile cache
    /// are shared (tile keys include the data version, so no stale tile is served).
    pub fn with_maps(&self, maps: Arc<Loaded>) -> AppState {
        AppState {
            config: self.config.clone(),
            maps,
            metrics: Arc::clone(&self.metrics),
            tiles: self.tiles.clone(),
            admission: Arc::clone(&self.admission),
        }
    }

    /// Runs `job` as heavy work of `class` expecting `bytes` of memory (see
    /// [`Admission::run`]), with the request timeout as its deadline: 503 with `Retry-After`
    /// when its class or the memory budget is full.
    pub async fn heavy<T, E>(
        &self,
        class: Class,
        bytes: u64,
        job: impl FnOnce(&crate::admission::Cancel) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Refused> + Send + 'static,
    {
        let deadline = std::time::Instant::now() + self.config.request_timeout;
        self.admission.run(class, bytes, deadline, job).await
    }

    /// [`AppState::heavy`] for a job known to take about a millisecond at most, run on this async
    /// worker ([`Admission::run_here`]): same admission and deadline, no blocking-thread hand-off.
    pub async fn heavy_here<T, E>(
        &self,
        class: Class,
        bytes: u64,
        job: impl FnOnce(&crate::admission::Cancel) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Refused>,
    {
        let deadline = std::time::Instant::now() + self.config.request_timeout;
        self.admission.run_here(class, bytes, deadline, job).await
    }

    /// The layer with this id, or a 404 listing the valid ids.
    pub fn layer(&self, id: &str) -> Result<&Layer, ApiError> {
        Ok(self.maps.layer(id)?)
    }

    /// The indicator of a layer (`id@N` pins version N of an uploaded dataset), or a 404
    /// listing the valid ids (410 for a deleted dataset).
    pub fn indicator<'a>(&self, layer: &'a Layer, id: &str) -> Result<&'a Indicator, ApiError> {
        self.indicator_at(layer, id, None)
    }

    /// [`AppState::indicator`] at the version of a `version=N` option.
    pub fn indicator_at<'a>(
        &self,
        layer: &'a Layer,
        id: &str,
        version: Option<u32>,
    ) -> Result<&'a Indicator, ApiError> {
        Ok(self.maps.indicator_at(layer, id, version)?)
    }
}
