//! Everything a request reads, built once at start-up and shared behind an `Arc`: the atlas of
//! layers, their per-zoom simplified geometry, caches and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use districts::layer::PeriodValues;
use districts::simplify::ZoomBands;
use districts::{Atlas, Indicator, Layer};

use crate::config::ServerConfig;
use crate::error::{ApiError, valid_ids};
use crate::metrics::Metrics;

/// Key of a cached tile: layer, indicator, style key, tile and scale.
pub type TileKey = (Arc<str>, u8, u32, u32, u8);

/// Memory a cached tile costs besides its PNG bytes and key (see the weigher in [`AppState::new`]).
pub const ENTRY_OVERHEAD_BYTES: usize = 1024;

/// Shared state of the server.
pub struct AppState {
    pub config: ServerConfig,
    pub atlas: Atlas,
    /// Per-layer simplified geometry with per-band R-trees, by layer id.
    pub bands: HashMap<String, ZoomBands>,
    pub metrics: Metrics,
    /// Rendered tiles, bounded in bytes.
    pub tiles: moka::sync::Cache<TileKey, Bytes>,
    /// Ranks of one indicator period (1 = highest value), by "layer/indicator/period".
    pub ranks: moka::sync::Cache<String, Arc<Vec<Option<u32>>>>,
    /// Resolved styles (classification + colours per district), by style key.
    pub styles: moka::sync::Cache<String, Arc<crate::style::ResolvedStyle>>,
    /// Changes whenever the loaded data changes; part of every ETag.
    pub data_version: String,
    /// The catalogue's lookup tables (LSOA -> MSOA -> LAD -> region...), for `/stats/...`.
    pub lookups: Vec<districts::indicators::LookupTable>,
}

/// The state as handlers see it.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Builds the derived structures (simplified geometry per zoom band) and the caches.
    /// `lookups` are the catalogue's lookup tables, for `/stats/...`.
    pub fn new(
        config: ServerConfig,
        atlas: Atlas,
        data_version: String,
        lookups: Vec<districts::indicators::LookupTable>,
    ) -> Self {
        use rayon::prelude::*;
        let bands: HashMap<String, ZoomBands> = atlas
            .layers
            .par_iter()
            .map(|l| {
                let geoms: Vec<districts::Mercator> =
                    l.districts.iter().map(|d| d.mercator.clone()).collect();
                (l.meta.id.clone(), ZoomBands::build(&geoms))
            })
            .collect();
        let cache_bytes = config.cache_bytes;
        let tiles = moka::sync::Cache::builder()
            .max_capacity(cache_bytes)
            // PNG bytes, the key, and what each entry costs besides (moka's bookkeeping, the
            // allocations around it: about 1 KB measured with bench/memory.sh on 200k small
            // tiles), so the byte bound is a bound on resident memory.
            .weigher(|k: &TileKey, v: &Bytes| -> u32 {
                (v.len() + k.0.len() + ENTRY_OVERHEAD_BYTES)
                    .try_into()
                    .unwrap_or(u32::MAX)
            })
            .build();
        AppState {
            config,
            atlas,
            bands,
            metrics: Metrics::new(),
            tiles,
            ranks: moka::sync::Cache::new(512),
            styles: moka::sync::Cache::new(256),
            data_version,
            lookups,
        }
    }

    /// The layer with this id, or a 404 listing the valid ids.
    pub fn layer(&self, id: &str) -> Result<&Layer, ApiError> {
        self.atlas.layer(id).ok_or_else(|| {
            ApiError::not_found(
                format!("unknown layer {id:?}"),
                valid_ids("layers", self.atlas.layer_ids()),
            )
        })
    }

    /// The layer and indicator, or a 404 listing the valid ids.
    pub fn indicator<'a>(&'a self, layer: &'a Layer, id: &str) -> Result<&'a Indicator, ApiError> {
        layer.indicator(id).ok_or_else(|| {
            ApiError::not_found(
                format!("unknown indicator {id:?} on layer {}", layer.meta.id),
                valid_ids(
                    "indicators",
                    layer.indicators.iter().map(|i| i.meta.id.as_str()),
                ),
            )
        })
    }

    /// The simplified geometry of a layer.
    pub fn bands(&self, layer: &str) -> Result<&ZoomBands, ApiError> {
        self.bands
            .get(layer)
            .ok_or_else(|| ApiError::Internal(format!("no zoom bands for layer {layer}")))
    }

    /// Ranks (1 = highest value) of every district for one period; `None` without a value.
    pub fn ranks(
        &self,
        layer: &Layer,
        indicator: &Indicator,
        period: &str,
    ) -> Arc<Vec<Option<u32>>> {
        let key = format!("{}/{}/{}", layer.meta.id, indicator.meta.id, period);
        self.ranks.get_with(key, || {
            let mut ranks = vec![None; layer.districts.len()];
            if let Some(PeriodValues::Numeric(values)) = indicator.period(period).map(|p| &p.values)
            {
                let mut order: Vec<(usize, f64)> = values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (i, v)))
                    .collect();
                order.sort_by(|a, b| b.1.total_cmp(&a.1));
                // Competition ranking: ties share the best rank.
                let mut prev: Option<(f64, u32)> = None;
                for (pos, (i, v)) in order.iter().enumerate() {
                    let r = match prev {
                        Some((pv, pr)) if pv == *v => pr,
                        _ => pos as u32 + 1,
                    };
                    ranks[*i] = Some(r);
                    prev = Some((*v, r));
                }
            }
            Arc::new(ranks)
        })
    }
}
