//! Layers: districts of one boundary file with their joined indicators and their index, built
//! once at start-up and read-only afterwards (shared behind an `Arc` by the server).

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::LayerMeta;
use crate::geometry::{Mercator, Wgs84};
use crate::index::DistrictIndex;
use crate::model::{District, Indicator};
// At its old path: the server, the CLI and the end-to-end tests name it `districts::layer::PeriodValues`.
pub use crate::model::PeriodValues;

/// A boundary layer with its districts, indicators and spatial index. Geometry and index sit
/// behind `Arc`s so a clone that adds indicators (an uploaded dataset) copies no polygons.
#[derive(Clone, Debug)]
pub struct Layer {
    pub meta: LayerMeta,
    pub districts: Arc<Vec<District>>,
    pub indicators: Vec<Indicator>,
    pub index: Arc<DistrictIndex>,
    /// What loading noticed and handled (repaired rings, dropped slivers...), for the log and report.
    pub load_notes: Vec<String>,
    by_code: Arc<HashMap<String, usize>>,
}

impl Layer {
    /// Assembles a layer; codes are looked up through a map built here once.
    pub fn new(
        meta: LayerMeta,
        districts: Vec<District>,
        indicators: Vec<Indicator>,
        index: DistrictIndex,
        load_notes: Vec<String>,
    ) -> Self {
        let by_code = districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.clone(), i))
            .collect();
        Layer {
            meta,
            districts: Arc::new(districts),
            indicators,
            index: Arc::new(index),
            load_notes,
            by_code: Arc::new(by_code),
        }
    }

    /// Position of the district with this code (trimmed, case-insensitive).
    pub fn position(&self, code: &str) -> Option<usize> {
        self.by_code
            .get(&crate::codes::normalise_code(code))
            .copied()
    }

    /// The district with this code.
    pub fn district(&self, code: &str) -> Option<&District> {
        self.position(code).map(|i| &self.districts[i])
    }

    /// The indicator with this id.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.meta.id == id)
    }

    /// Adds an indicator computed after loading (e.g. an aggregation), replacing one with the same id.
    pub fn add_indicator(&mut self, indicator: Indicator) {
        self.indicators.retain(|i| i.meta.id != indicator.meta.id);
        self.indicators.push(indicator);
    }
}

/// Every layer in the catalogue, loaded.
#[derive(Debug, Default)]
pub struct Atlas {
    pub layers: Vec<Layer>,
}

impl Atlas {
    /// The layer with this id.
    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.meta.id == id)
    }
    /// Ids of all layers, for hints in errors.
    pub fn layer_ids(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.meta.id.as_str()).collect()
    }
}

/// Why the atlas could not be loaded. Each variant names the file or entry at fault.
#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error("layer {layer}: {source}")]
    Load {
        layer: String,
        #[source]
        source: crate::load::LoadError,
    },
    #[error("layer {layer}: catalogue CRS {crs:?}: {source}")]
    Crs {
        layer: String,
        crs: String,
        #[source]
        source: crate::crs::CrsError,
    },
    #[error(transparent)]
    Table(#[from] crate::csv_text::TableError),
    #[error("unknown layer {0:?}; the catalogue has: {1}")]
    UnknownLayer(String, String),
}

/// Loads one boundary layer: read and reproject the file, project to Web Mercator, build the
/// R-tree. Indicators are joined separately ([`join_tables`]).
pub fn load_districts(meta: &LayerMeta, data_dir: &std::path::Path) -> Result<Layer, AtlasError> {
    let crs = match &meta.crs {
        Some(name) => Some(
            crate::crs::Crs::from_name(name).map_err(|source| AtlasError::Crs {
                layer: meta.id.clone(),
                crs: name.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let spec = crate::load::BoundarySpec {
        code_field: &meta.code_field,
        name_field: &meta.name_field,
        crs,
        attributes: &meta.attributes,
        object: None,
    };
    let path = data_dir.join(&meta.file);
    let loaded = crate::load::load_boundaries(&path, &spec).map_err(|source| AtlasError::Load {
        layer: meta.id.clone(),
        source,
    })?;
    // The index reads the WGS84 geometries in place (no copy of the polygons) while the other
    // core projects them to Web Mercator.
    type Fields = (String, String, Vec<(String, String)>);
    let (geoms, fields): (Vec<Wgs84>, Vec<Fields>) = loaded
        .features
        .into_iter()
        .map(|f| (f.geometry, (f.code, f.name, f.attributes)))
        .unzip();
    let (index, mercator) = rayon::join(
        || DistrictIndex::build(&geoms),
        || {
            use rayon::prelude::*;
            geoms
                .par_iter()
                .map(Wgs84::to_mercator)
                .collect::<Vec<Mercator>>()
        },
    );
    let districts: Vec<District> = fields
        .into_iter()
        .zip(geoms)
        .zip(mercator)
        .map(|(((code, name, attributes), wgs84), mercator)| District {
            mercator,
            code,
            name,
            wgs84,
            attributes,
        })
        .collect();
    Ok(Layer::new(
        meta.clone(),
        districts,
        Vec::new(),
        index,
        loaded.notes,
    ))
}

/// Joins every indicator of the given tables that applies to `layer`, in catalogue order.
pub fn join_tables(
    layer: &mut Layer,
    catalog: &crate::catalog::Catalog,
    tables: &[crate::indicators::IndicatorTable],
) {
    let codes: Vec<String> = layer.districts.iter().map(|d| d.code.clone()).collect();
    let names: Vec<String> = layer.districts.iter().map(|d| d.name.clone()).collect();
    let mut seen = std::collections::HashSet::new();
    let duplicates: Vec<String> = codes
        .iter()
        .filter(|c| !seen.insert(c.as_str()))
        .cloned()
        .collect();
    let base = crate::join::LayerCodes::new(&layer.meta.id, &codes)
        .with_names(&names)
        .with_duplicates(&duplicates);
    let prepared = crate::join::PreparedCodes::new(&base);
    let layer_codes = base.with_prepared(&prepared);
    // Each indicator joins on its own (one pass over its table), so they run in parallel;
    // `collect` keeps catalogue order.
    use rayon::prelude::*;
    let wanted: Vec<_> = catalog
        .indicators_for_layer(&layer.meta.id)
        .into_iter()
        .collect();
    let joined: Vec<Indicator> = wanted
        .par_iter()
        .filter_map(|(source, spec)| {
            let table = tables.iter().find(|t| t.source_id == source.id)?;
            let ti = table.indicator(&spec.id)?;
            let mut ind = crate::join::join_indicator(spec.to_meta(source), &layer_codes, ti);
            // Periods with no value on this layer (e.g. pay 2002-2007, published for the UK and
            // countries only) cannot be mapped; the join report's coverage still lists them.
            ind.periods.retain(|p| match &p.values {
                PeriodValues::Numeric(v) => v.iter().any(Option::is_some),
                PeriodValues::Categorical(v) => v.iter().any(Option::is_some),
            });
            if ind.periods.is_empty() {
                return None;
            }
            if ind.period(&ind.default_period).is_none() {
                ind.default_period = ind
                    .periods
                    .last()
                    .map(|p| p.label.clone())
                    .unwrap_or_default();
            }
            Some(ind)
        })
        .collect();
    for ind in joined {
        layer.add_indicator(ind);
    }
}

impl Atlas {
    /// Loads the layers of a catalogue (all, or those named in `only`), in parallel, then reads
    /// every indicator table once and joins it to each layer it applies to.
    pub fn load(catalog: &crate::catalog::Catalog, only: &[String]) -> Result<Atlas, AtlasError> {
        use rayon::prelude::*;
        for id in only {
            if catalog.layer(id).is_none() {
                let ids: Vec<&str> = catalog.layers.iter().map(|l| l.id.as_str()).collect();
                return Err(AtlasError::UnknownLayer(id.clone(), ids.join(", ")));
            }
        }
        let metas: Vec<&LayerMeta> = catalog
            .layers
            .iter()
            .filter(|l| only.is_empty() || only.contains(&l.id))
            .collect();
        let wanted_sources: Vec<&crate::catalog::SourceSpec> = catalog
            .sources
            .iter()
            .filter(|s| s.layers.iter().any(|l| metas.iter().any(|m| &m.id == l)))
            .collect();
        let (layers, tables) = rayon::join(
            || {
                metas
                    .par_iter()
                    .map(|m| load_districts(m, &catalog.data_dir))
                    .collect::<Result<Vec<_>, _>>()
            },
            || {
                wanted_sources
                    .par_iter()
                    .map(|s| crate::indicators::read_table(catalog, s))
                    .collect::<Result<Vec<_>, _>>()
            },
        );
        let mut layers = layers?;
        let tables = tables?;
        layers
            .par_iter_mut()
            .for_each(|l| join_tables(l, catalog, &tables));
        Ok(Atlas { layers })
    }
}
