//! Start-up: the catalogue's layers loaded and joined, derived indicators added, lookups read,
//! a data version for ETags, and per-zoom simplified geometry, gathered in one [`Loaded`] value
//! that every map operation reads and nothing changes afterwards.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use districts::catalog::Catalog;
use districts::indicators::LookupTable;
pub use districts::layer::LookupIndex;
use districts::layer::PeriodValues;
use districts::simplify::ZoomBands;
use districts::{Atlas, Indicator, Layer};

use crate::error::{MapError, valid_ids};
use crate::style::StyleCache;

/// Why loading failed (the edge decides how to report it).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The catalogue is malformed or names missing files.
    #[error(transparent)]
    Catalog(#[from] districts::catalog::CatalogError),
    /// A layer or table could not be read or joined.
    #[error(transparent)]
    Atlas(#[from] districts::layer::AtlasError),
    /// A `[[derived]]` entry cannot be computed.
    #[error(transparent)]
    Derived(#[from] analysis::derived::DerivedConfigError),
}

/// Key of cached ranks: layer, indicator, period.
type RankKey = (String, String, String);

/// Key of cached complete-from zooms: layer, indicators of the tiles, size limit.
type CompleteKey = (String, Vec<String>, usize);

/// What to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Only these layers (all when empty).
    pub layers: Vec<String>,
    /// Deepest zoom served or written.
    pub max_zoom: u8,
    /// When every layer's per-zoom geometry is built.
    pub bands: BandsWhen,
    /// Only these indicators are needed (a command drawing or writing them, such as
    /// `placemap tiles`): when each is read from a table, only their tables are read, and
    /// no derived indicator, lookup table or region is made. A merged district waiting for
    /// the weights of a recombination (or an indicator that is derived) loads everything as
    /// usual, so the values are the same either way. `None`: everything.
    pub only_indicators: Option<Vec<String>>,
    /// Whether the layers get their point-lookup index. [`LookupIndex::Skipped`] (a command
    /// that only writes tiles) applies to the load of `only_indicators` alone: a full load
    /// always builds it, since what it derives may look points up.
    pub lookup_index: LookupIndex,
}

/// When the per-zoom geometry (simplified borders and their R-trees, for tiles and `zoom=`
/// exports) is built. Whenever it is, a request that needs a layer's geometry before it is
/// ready waits for it (a `OnceLock`), never builds it twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BandsWhen {
    /// On first use, layer by layer (a command that may never need it, such as `render`).
    #[default]
    OnFirstUse,
    /// Started during loading and finished on a thread of its own: a server answers
    /// metadata, lookups and analyses while it finishes, and its first tiles wait for it.
    InBackground,
    /// Before loading returns (benchmarks that time tiles alone).
    Now,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            layers: Vec::new(),
            max_zoom: 18,
            bands: BandsWhen::OnFirstUse,
            only_indicators: None,
            lookup_index: LookupIndex::Built,
        }
    }
}

/// Everything loaded at start-up, read-only afterwards, shared behind an `Arc` by the server.
pub struct Loaded {
    /// The layers with their joined indicators (derived ones included).
    pub atlas: Atlas,
    /// The catalogue's lookup tables (LSOA -> MSOA -> LAD -> region...), for analyses
    /// (shared with copies made by [`Loaded::with_indicators`]).
    pub lookups: Arc<Vec<LookupTable>>,
    /// Changes whenever the loaded data changes; part of every ETag.
    pub data_version: String,
    /// Deepest zoom served or written.
    pub max_zoom: u8,
    /// Per-layer simplified geometry with per-band R-trees, built once (eagerly or on first
    /// use) and shared with copies made by [`Loaded::with_indicators`].
    bands: HashMap<String, Arc<OnceLock<ZoomBands>>>,
    /// Whether a background thread is building every layer's `bands` (server start-up).
    bands_in_background: bool,
    /// Resolved styles.
    pub styles: StyleCache,
    /// Ranks of one indicator period (1 = highest value), by layer, indicator and period.
    ranks: moka::sync::Cache<RankKey, Arc<Vec<Option<u32>>>>,
    /// From which zoom vector tiles hold every district ([`Loaded::complete_from_zoom`]).
    complete_zooms: moka::sync::Cache<CompleteKey, Option<u8>>,
    /// Ids of deleted uploaded datasets: their maps answer "gone" rather than "unknown".
    pub deleted_datasets: Arc<Vec<String>>,
}

impl Loaded {
    /// Loads the layers of `catalog` (with the layers their derived indicators need), adds the
    /// derived indicators and reads the lookups.
    pub fn load(catalog: &Catalog, opts: &LoadOptions) -> Result<Loaded, LoadError> {
        if let Some(ids) = &opts.only_indicators
            && let Some(loaded) = Loaded::load_tables_only(catalog, opts, ids)?
        {
            return Ok(loaded);
        }
        let mut opts = opts.clone();
        if let Some(ids) = opts.only_indicators.take() {
            let mut layers: Vec<String> = Vec::new();
            for l in &opts.layers {
                for needed in catalog.layers_for(l, Some(&ids)) {
                    if !layers.contains(&needed) {
                        layers.push(needed);
                    }
                }
            }
            opts.layers = layers;
        }
        let opts = &opts;
        check_styles(catalog)?;
        let specs = analysis::derived::specs_from_catalog(catalog)?;
        let started = std::time::Instant::now();
        // What needs no layer is read while the layers load: the lookups and the tables the
        // derived indicators aggregate.
        let wanted = |layer: &str| opts.layers.is_empty() || opts.layers.iter().any(|l| l == layer);
        let (atlas, (lookups, derived_cache)) = rayon::join(
            || Atlas::load(catalog, &opts.layers),
            || {
                rayon::join(
                    || {
                        let started = std::time::Instant::now();
                        let lookups = load_lookups(catalog);
                        tracing::info!(
                            ms = started.elapsed().as_secs_f64() * 1000.0,
                            "lookup tables read"
                        );
                        lookups
                    },
                    || analysis::derived::DerivedCache::with_tables(&specs, wanted),
                )
            },
        );
        let mut atlas = atlas?;
        tracing::info!(
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "layers and tables loaded"
        );
        for layer in &atlas.layers {
            tracing::info!(layer = %layer.meta.id, districts = layer.districts.len(), indicators = layer.indicators.len(), notes = layer.load_notes.len(), "layer loaded");
        }
        let bands = empty_bands(&atlas);
        // Derived indicators add values, never geometry, and run mostly on one core: the
        // per-zoom geometry (which reads only the districts) is built on the other meanwhile.
        let geometry: Vec<BandsJob> = atlas
            .layers
            .iter()
            .filter_map(|l| Some((bands.get(&l.meta.id)?.clone(), l.districts.clone())))
            .collect();
        let mut in_background = false;
        if opts.bands == BandsWhen::InBackground {
            let jobs = geometry.clone();
            let spawned = std::thread::Builder::new()
                .name("per-zoom geometry".into())
                .spawn(move || build_bands(&jobs));
            match spawned {
                Ok(_) => in_background = true,
                Err(e) => {
                    tracing::warn!(error = %e, "no thread for the per-zoom geometry: built on first use");
                }
            }
        }
        rayon::join(
            || add_derived(&mut atlas, &specs, &lookups, derived_cache),
            || {
                if opts.bands == BandsWhen::Now {
                    build_bands(&geometry);
                }
            },
        );
        let started = std::time::Instant::now();
        assign_regions(catalog, &mut atlas, &lookups);
        tracing::info!(
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "regions assigned"
        );
        let mut loaded = Self::with_bands(atlas, lookups, data_version(catalog), opts, bands);
        loaded.bands_in_background = in_background;
        Ok(loaded)
    }

    /// The layers with only the tables holding `ids` ([`LoadOptions::only_indicators`]), or
    /// `None` when that would not give the values a full load gives: an indicator that is
    /// derived rather than read, or a merged district whose value waits for the weights of a
    /// recombination (another layer's derived indicator). That is only known once the layer is
    /// joined, so then this lean load is dropped and the full one reads the layer again: a
    /// second read of one layer and its tables, against every table and the small-area layer
    /// saved whenever nothing waits.
    fn load_tables_only(
        catalog: &Catalog,
        opts: &LoadOptions,
        ids: &[String],
    ) -> Result<Option<Loaded>, LoadError> {
        let derived = |id: &String| catalog.derived.iter().any(|d| &d.id == id);
        // Each read from a table of every layer asked for (else the full load's errors, with
        // every valid id listed).
        let read = |id: &String| {
            opts.layers.iter().all(|l| {
                catalog
                    .indicators_for_layer(l)
                    .iter()
                    .any(|(_, i)| &i.id == id)
            })
        };
        if opts.layers.is_empty() || ids.iter().any(derived) || !ids.iter().all(read) {
            return Ok(None);
        }
        check_styles(catalog)?;
        let atlas = Atlas::load_tables_of(catalog, &opts.layers, Some(ids), opts.lookup_index)?;
        if atlas.layers.iter().any(|l| !l.recombine_pending.is_empty()) {
            tracing::info!("a recombination waits for weights: loading every table it needs");
            return Ok(None);
        }
        Ok(Some(Self::from_atlas(
            atlas,
            Vec::new(),
            data_version(catalog),
            opts,
        )))
    }

    /// Wraps layers loaded elsewhere (benchmarks, tests of one layer).
    pub fn from_atlas(
        mut atlas: Atlas,
        lookups: Vec<LookupTable>,
        data_version: String,
        opts: &LoadOptions,
    ) -> Loaded {
        districts::regions::assign_atlas(&mut atlas, &lookups, None);
        let bands = empty_bands(&atlas);
        if opts.bands != BandsWhen::OnFirstUse {
            let geometry: Vec<_> = atlas
                .layers
                .iter()
                .filter_map(|l| Some((bands.get(&l.meta.id)?.clone(), l.districts.clone())))
                .collect();
            build_bands(&geometry);
        }
        Self::with_bands(atlas, lookups, data_version, opts, bands)
    }

    /// Assembles a `Loaded` around per-zoom geometry cells (built or still empty).
    fn with_bands(
        atlas: Atlas,
        lookups: Vec<LookupTable>,
        data_version: String,
        opts: &LoadOptions,
        bands: HashMap<String, Arc<OnceLock<ZoomBands>>>,
    ) -> Loaded {
        Loaded {
            atlas,
            lookups: Arc::new(lookups),
            data_version,
            max_zoom: opts.max_zoom,
            bands,
            bands_in_background: false,
            styles: StyleCache::new(256),
            ranks: moka::sync::Cache::new(512),
            complete_zooms: moka::sync::Cache::new(64),
            deleted_datasets: Arc::new(Vec::new()),
        }
    }

    /// A copy with more indicators (uploaded datasets: `(layer id, indicator)`, replacing any
    /// with the same id), sharing geometry, per-zoom bands and lookups with `self`; styles and
    /// ranks start empty since indicator values changed. `version` is appended to the data
    /// version so ETags and cached tiles change.
    pub fn with_indicators(&self, extra: Vec<(String, Indicator)>, version: &str) -> Loaded {
        let mut atlas = Atlas {
            layers: self.atlas.layers.clone(),
        };
        // Replace-or-append by id through a map: `Layer::add_indicator` scans every indicator,
        // which is quadratic with thousands of dataset indicators (100 datasets of 35 columns,
        // pinned and latest, are 7,000).
        let mut index: HashMap<(usize, String), usize> = HashMap::new();
        for (li, l) in atlas.layers.iter().enumerate() {
            for (ii, ind) in l.indicators.iter().enumerate() {
                index.insert((li, ind.meta.id.clone()), ii);
            }
        }
        for (layer, ind) in extra {
            let Some(li) = atlas.layers.iter().position(|l| l.meta.id == layer) else {
                continue;
            };
            let inds = &mut atlas.layers[li].indicators;
            match index.get(&(li, ind.meta.id.clone())) {
                Some(&ii) => inds[ii] = Arc::new(ind),
                None => {
                    index.insert((li, ind.meta.id.clone()), inds.len());
                    inds.push(Arc::new(ind));
                }
            }
        }
        Loaded {
            atlas,
            lookups: Arc::clone(&self.lookups),
            data_version: format!("{}-{version}", self.data_version),
            max_zoom: self.max_zoom,
            bands: self.bands.clone(),
            bands_in_background: self.bands_in_background,
            styles: StyleCache::new(256),
            ranks: moka::sync::Cache::new(512),
            complete_zooms: moka::sync::Cache::new(64),
            deleted_datasets: Arc::clone(&self.deleted_datasets),
        }
    }

    /// The layer with this id, or a not-found error listing the valid ids.
    pub fn layer(&self, id: &str) -> Result<&Layer, MapError> {
        self.atlas.layer(id).ok_or_else(|| {
            MapError::not_found(
                format!("unknown layer {id:?}"),
                valid_ids("layers", self.atlas.layer_ids()),
            )
        })
    }

    /// The indicator of a layer (`id@N` pins version N of an uploaded dataset), or a
    /// not-found error listing the valid ids ("gone" for a deleted dataset).
    pub fn indicator<'a>(&self, layer: &'a Layer, id: &str) -> Result<&'a Indicator, MapError> {
        self.indicator_at(layer, id, None)
    }

    /// The indicator `id` of a layer at a version: `id@N` or `version = Some(N)` pins version N
    /// of an uploaded dataset, neither the latest. Errors say what is wrong: a 404 listing the
    /// versions there are, "gone" for a deleted dataset, a bad request for a version of a
    /// catalogue indicator or two different versions.
    pub fn indicator_at<'a>(
        &self,
        layer: &'a Layer,
        id: &str,
        version: Option<u32>,
    ) -> Result<&'a Indicator, MapError> {
        let (base, at) = split_version(id)?;
        let version = match (at, version) {
            (Some(a), Some(v)) if a != v => {
                return Err(MapError::bad_request(
                    format!("{id:?} names version {a} but version={v}"),
                    "give the version once: @N after the id, or version=N",
                ));
            }
            (a, v) => a.or(v),
        };
        let want = match version {
            Some(v) => format!("{base}@{v}"),
            None => base.to_string(),
        };
        if let Some(ind) = layer.indicator(&want) {
            return Ok(ind);
        }
        let mut versions: Vec<u32> = layer
            .indicators
            .iter()
            .filter_map(|i| {
                i.meta
                    .id
                    .strip_prefix(base)
                    .and_then(|r| r.strip_prefix('@'))
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        versions.sort_unstable();
        if let (Some(v), Some(latest)) = (version, versions.last()) {
            let list: Vec<String> = versions.iter().map(u32::to_string).collect();
            return Err(MapError::not_found(
                format!(
                    "indicator {base} on layer {} has no version {v}",
                    layer.meta.id
                ),
                format!(
                    "versions: {}; without a version the latest ({latest}) is used",
                    list.join(", ")
                ),
            ));
        }
        if let Some(d) = self.deleted_datasets.iter().find(|d| {
            base == d.as_str()
                || base
                    .strip_prefix(d.as_str())
                    .is_some_and(|r| r.starts_with('_'))
        }) {
            return Err(MapError::gone(
                format!("dataset {d:?} was deleted: {id} is no longer served"),
                "GET /datasets (or placemap datasets list) lists the datasets there are",
            ));
        }
        if version.is_some() && layer.indicator(base).is_some() {
            return Err(MapError::bad_request(
                format!("indicator {base} is from the catalogue and has no versions"),
                "version= and @N pin versions of uploaded datasets only",
            ));
        }
        indicator(layer, id)
    }

    /// An `indicators=` list with `version` applied: every id that is not a catalogue
    /// indicator is pinned to it (catalogue ones stay), each checked as by
    /// [`Loaded::indicator_at`]. The list comes back as resolved ids; `all` and no list stay.
    pub fn pin_list(
        &self,
        layer: &Layer,
        list: Option<&str>,
        version: Option<u32>,
    ) -> Result<Option<String>, MapError> {
        let needs_list = || {
            MapError::bad_request(
                "version= needs indicators= naming the uploaded datasets to pin",
                "e.g. indicators=my_data&version=1 (or my_data@1 in the list)",
            )
        };
        let list = match list {
            None | Some("all") if version.is_some() => return Err(needs_list()),
            None => return Ok(None),
            Some("all") => return Ok(Some("all".into())),
            Some(l) => l,
        };
        let mut out = Vec::new();
        let mut pinned = false;
        for id in crate::options::parse_list(list) {
            let (base, _) = split_version(&id)?;
            let catalogue = layer
                .indicator(base)
                .is_some_and(|i| dataset_version(i).is_none());
            let v = if catalogue { None } else { version };
            pinned |= v.is_some();
            out.push(self.indicator_at(layer, &id, v)?.meta.id.clone());
        }
        if version.is_some() && !pinned {
            return Err(needs_list());
        }
        Ok(Some(out.join(",")))
    }

    /// Layers whose per-zoom geometry is built, and all layers (for `/health`).
    pub fn bands_ready(&self) -> (usize, usize) {
        let ready = self.bands.values().filter(|c| c.get().is_some()).count();
        (ready, self.bands.len())
    }

    /// The simplified geometry of a layer, built on first use (or waited for while it is
    /// being built).
    pub fn bands(&self, layer: &str) -> Result<&ZoomBands, MapError> {
        let cell = self.bands.get(layer).ok_or_else(|| {
            MapError::not_found(
                format!("unknown layer {layer:?}"),
                valid_ids("layers", self.atlas.layer_ids()),
            )
        })?;
        Ok(cell.get_or_init(|| {
            self.atlas
                .layer(layer)
                .map(|l| zoom_bands(&l.districts))
                .unwrap_or_else(|| ZoomBands::build::<districts::Mercator>(&[]))
        }))
    }

    /// The simplified geometry of a layer if it is built already (`None` while it is being
    /// built, or for an unknown layer): for callers that must not wait, such as an async worker.
    pub fn bands_if_ready(&self, layer: &str) -> Option<&ZoomBands> {
        self.bands.get(layer)?.get()
    }

    /// Whether a layer's per-zoom geometry is not built yet but a background thread will build
    /// it (a server just started): a caller that must not hold a job slot meanwhile can wait
    /// for [`Loaded::bands_if_ready`] instead of calling [`Loaded::bands`].
    pub fn bands_coming(&self, layer: &str) -> bool {
        self.bands_in_background
            && self
                .bands
                .get(layer)
                .is_some_and(|cell| cell.get().is_none())
    }

    /// From which zoom every vector tile of a layer with these indicators holds every district
    /// under the size `limit` ([`crate::vector_tiles::complete_from_zoom`]), found once per
    /// layer, indicators and limit (two callers asking at once wait for one computation; a
    /// cancelled one is not kept).
    pub fn complete_from_zoom(
        &self,
        layer_id: &str,
        indicator_ids: &[String],
        limit: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<u8>, MapError> {
        let key: CompleteKey = (layer_id.to_string(), indicator_ids.to_vec(), limit);
        self.complete_zooms
            .try_get_with(key, || {
                crate::vector_tiles::complete_from_zoom(
                    self,
                    layer_id,
                    indicator_ids,
                    limit,
                    cancelled,
                )
            })
            .map_err(MapError::from_shared)
    }

    /// [`Loaded::complete_from_zoom`] if already found (`None`: not yet).
    pub fn known_complete_from_zoom(
        &self,
        layer_id: &str,
        indicator_ids: &[String],
        limit: usize,
    ) -> Option<Option<u8>> {
        self.complete_zooms
            .get(&(layer_id.to_string(), indicator_ids.to_vec(), limit))
    }

    /// Ranks (1 = highest value) of every district for one period; `None` without a value.
    pub fn ranks(
        &self,
        layer: &Layer,
        indicator: &Indicator,
        period: &str,
    ) -> Arc<Vec<Option<u32>>> {
        let key: RankKey = (
            layer.meta.id.clone(),
            indicator.meta.id.clone(),
            period.to_string(),
        );
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

/// The indicator of a layer, or a not-found error listing the valid ids.
pub fn indicator<'a>(layer: &'a Layer, id: &str) -> Result<&'a Indicator, MapError> {
    layer.indicator(id).ok_or_else(|| {
        MapError::not_found(
            format!("unknown indicator {id:?} on layer {}", layer.meta.id),
            valid_ids(
                "indicators",
                layer.indicators.iter().map(|i| i.meta.id.as_str()),
            ),
        )
    })
}

/// `id` and the version after its `@`, if any (`my_data@2` -> `my_data`, 2).
fn split_version(id: &str) -> Result<(&str, Option<u32>), MapError> {
    match id.split_once('@') {
        None => Ok((id, None)),
        Some((base, v)) => v.parse().map(|v| (base, Some(v))).map_err(|_| {
            MapError::bad_request(
                format!("{id:?}: after @ comes a version number"),
                "e.g. my_data@2 for version 2 of an uploaded dataset",
            )
        }),
    }
}

/// The `file` of an uploaded dataset's indicators, `dataset:{id}@{version}`: where
/// [`dataset_version`] reads which version an indicator shows.
pub fn dataset_file(dataset: &str, version: u32) -> String {
    format!("dataset:{dataset}@{version}")
}

/// The dataset and version an uploaded dataset's indicator shows (`None` for the catalogue's).
pub fn dataset_version(ind: &Indicator) -> Option<(&str, u32)> {
    let (d, v) = ind.meta.file.strip_prefix("dataset:")?.rsplit_once('@')?;
    Some((d, v.parse().ok()?))
}

/// The id that always shows what `ind` shows now: `{id}@{version}` for the latest version of
/// an uploaded dataset, the id itself otherwise (catalogue indicators, pinned versions). Links
/// meant to last (embed code, downloads) use it.
pub fn pinned_id(ind: &Indicator) -> String {
    match dataset_version(ind) {
        Some((_, v)) if !ind.meta.id.contains('@') => format!("{}@{v}", ind.meta.id),
        _ => ind.meta.id.clone(),
    }
}

/// A version of the loaded data: changes when the catalogue or any file it names changes
/// (size or modification time), so ETags change with the data.
pub fn data_version(catalog: &Catalog) -> String {
    let mut h = std::hash::DefaultHasher::new();
    std::fs::read(&catalog.path)
        .unwrap_or_default()
        .hash(&mut h);
    for f in catalog.referenced_files() {
        let p = catalog.data_dir.join(&f);
        f.hash(&mut h);
        if let Ok(m) = std::fs::metadata(&p) {
            m.len().hash(&mut h);
            if let Ok(t) = m.modified() {
                t.hash(&mut h);
            }
        }
    }
    format!("{:016x}", h.finish())
}

/// Computes the catalogue's `[[derived]]` indicators and adds them to their layers, logging
/// each outcome with its time (one whose layers are not loaded is skipped and says why).
/// `cache` may hold tables read ahead ([`analysis::derived::DerivedCache::with_tables`]).
/// Recombinations of merged districts waiting for weights ([`Atlas::recombine_pending`]) are
/// completed as soon as their weights exist, before each derived indicator (which may use the
/// recombined values) and once more at the end.
pub fn add_derived(
    atlas: &mut Atlas,
    specs: &[analysis::derived::DerivedSpec],
    lookups: &[LookupTable],
    mut cache: analysis::derived::DerivedCache,
) {
    let started = std::time::Instant::now();
    let mut outcomes = Vec::with_capacity(specs.len());
    let mut recombined = Vec::new();
    // Entries run one at a time (recombination may complete between them) but share the
    // tables they read (`cache`, possibly read ahead) and the small-area assignments they
    // make.
    for spec in specs {
        recombined.extend(atlas.recombine_pending(false));
        outcomes.extend(analysis::derived::add_derived_with(
            atlas,
            std::slice::from_ref(spec),
            lookups,
            &mut cache,
        ));
    }
    recombined.extend(atlas.recombine_pending(true));
    for r in &recombined {
        match &r.skipped {
            None => {
                tracing::info!(layer = %r.layer, indicator = %r.indicator, districts = r.recombined, "merged districts recombined");
            }
            Some(why) => {
                tracing::info!(layer = %r.layer, indicator = %r.indicator, %why, "merged districts not recombined");
            }
        }
    }
    for o in &outcomes {
        match &o.skipped {
            None => {
                tracing::info!(layer = %o.layer, indicator = %o.id, matched = o.matched, districts = o.districts, ms = o.millis, "derived indicator added");
            }
            // Expected when a command loads only some layers.
            Some(why) if o.layer_not_loaded => {
                tracing::info!(layer = %o.layer, indicator = %o.id, %why, "derived indicator skipped");
            }
            Some(why) => {
                tracing::warn!(layer = %o.layer, indicator = %o.id, %why, "derived indicator skipped");
            }
        }
    }
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "derived indicators"
    );
}

/// A layer's per-zoom geometry cell and the districts to fill it from.
type BandsJob = (Arc<OnceLock<ZoomBands>>, Arc<Vec<districts::District>>);

/// One empty per-zoom geometry cell per layer.
fn empty_bands(atlas: &Atlas) -> HashMap<String, Arc<OnceLock<ZoomBands>>> {
    atlas
        .layers
        .iter()
        .map(|l| (l.meta.id.clone(), Arc::new(OnceLock::new())))
        .collect()
}

/// Gap-free per-zoom geometry of a layer's districts (read in place, not copied).
fn zoom_bands(districts: &[districts::District]) -> ZoomBands {
    let geoms: Vec<&districts::Mercator> = districts.iter().map(|d| &d.mercator).collect();
    ZoomBands::build(&geoms)
}

/// Fills every cell, layers in parallel, timing the whole.
fn build_bands(cells: &[BandsJob]) {
    use rayon::prelude::*;
    let started = std::time::Instant::now();
    cells.par_iter().for_each(|(cell, districts)| {
        cell.get_or_init(|| zoom_bands(districts));
    });
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "per-zoom geometry built"
    );
}

/// Every catalogue style checked before anything is loaded (see [`crate::style::check_hint`]).
fn check_styles(catalog: &Catalog) -> Result<(), LoadError> {
    for spec in catalog.sources.iter().flat_map(|s| &s.indicators) {
        if let Some(hint) = &spec.style {
            crate::style::check_hint(hint).map_err(|message| {
                districts::catalog::CatalogError::Invalid {
                    catalog: catalog.path.clone(),
                    entry: spec.id.clone(),
                    message,
                }
            })?;
        }
    }
    Ok(())
}

/// The region of every district ([`districts::regions::assign_atlas`]): the districts no region
/// lookup names (the 2019-2021 unitaries on LAD 2021) are placed by location in a layer whose
/// districts carry a `region_name` attribute: a loaded one, else the first such layer of the
/// catalogue, read for this alone and only when needed (a command that loaded `lad21` only).
pub fn assign_regions(catalog: &Catalog, atlas: &mut Atlas, lookups: &[LookupTable]) {
    let has_region = |attrs: &[String]| attrs.iter().any(|a| a == "region_name");
    let reference_loaded = atlas.layers.iter().any(|l| has_region(&l.meta.attributes));
    districts::regions::assign_atlas(atlas, lookups, None);
    if reference_loaded
        || atlas
            .layers
            .iter()
            .all(|l| l.regions.is_complete(&l.districts))
    {
        return;
    }
    let Some(meta) = catalog
        .layers
        .iter()
        .find(|m| has_region(&m.attributes) && m.merge.is_none())
    else {
        return;
    };
    match districts::layer::load_districts(meta, &catalog.data_dir) {
        Ok(l) => districts::regions::assign_atlas(atlas, lookups, Some(l)),
        Err(e) => {
            tracing::warn!(layer = %meta.id, error = %e, "no reference layer for regions by location");
        }
    }
}

/// Reads every lookup table of the catalogue (for `via=lookup` and `group_by=region`); a
/// table that cannot be read is logged and left out, never fatal.
pub fn load_lookups(catalog: &Catalog) -> Vec<LookupTable> {
    catalog
        .lookups
        .iter()
        .filter_map(|spec| match districts::indicators::read_lookup(spec) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(lookup = %spec.id, error = %e, "lookup table not loaded");
                None
            }
        })
        .collect()
}
