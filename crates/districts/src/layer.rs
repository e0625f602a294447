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

/// Whether a layer gets its point-lookup index ([`DistrictIndex`]). A command that never looks
/// a point up (`placemap tiles`) leaves it out: on the LSOA layer it is the largest part of
/// the layer in memory, and read from a prepared file, the largest part read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LookupIndex {
    /// Built, or read from the prepared file: [`Layer::index`] answers lookups.
    #[default]
    Built,
    /// Left out: [`Layer::index`] is empty and finds no district (a prepared file is still
    /// written whole, for the next command that needs the index).
    Skipped,
}

/// A boundary layer with its districts, indicators and spatial index. Geometry and index sit
/// behind `Arc`s so a clone that adds indicators (an uploaded dataset) copies no polygons.
#[derive(Clone, Debug)]
pub struct Layer {
    /// What the catalogue says of it: id, title, vintage, credit.
    pub meta: LayerMeta,
    /// Its districts, in file order (positions are the index's ids).
    pub districts: Arc<Vec<District>>,
    /// Indicators joined to it, in catalogue order (then derived and uploaded ones), each
    /// behind an `Arc` so a copy of the layer that adds uploaded datasets shares the
    /// catalogue's values instead of copying them.
    pub indicators: Vec<Arc<Indicator>>,
    /// The R-tree for point lookups and tile queries.
    pub index: Arc<DistrictIndex>,
    /// What loading noticed and handled (repaired rings, dropped slivers...), for the log and report.
    pub load_notes: Vec<String>,
    /// For a layer made by merging another's districts: which old code became which district.
    pub lineage: Option<Arc<crate::lineage::Lineage>>,
    /// Weighted recombinations waiting for their weights ([`Atlas::recombine_pending`]).
    pub recombine_pending: Vec<crate::recombine::PendingRecombination>,
    /// The CRS the boundary file was in before reprojection to WGS84 (a merged layer's is its
    /// base layer's), so services can name it as the storage CRS; `None` when not read from a file.
    pub source_crs: Option<crate::crs::Crs>,
    /// The region of each district: from its own `region_name` attribute at first, completed
    /// from the lookups and by location when the atlas is loaded ([`crate::regions::assign_atlas`]).
    pub regions: Arc<crate::regions::Regions>,
    by_code: Arc<HashMap<String, usize>>,
}

impl Layer {
    /// Assembles a layer; codes are looked up through a map built here once.
    pub fn new(
        meta: LayerMeta,
        districts: Vec<District>,
        indicators: Vec<Arc<Indicator>>,
        index: DistrictIndex,
        load_notes: Vec<String>,
    ) -> Self {
        let by_code = districts
            .iter()
            .enumerate()
            .map(|(i, d)| (d.code.clone(), i))
            .collect();
        let regions = Arc::new(crate::regions::Regions::from_attribute(&districts));
        Layer {
            meta,
            regions,
            districts: Arc::new(districts),
            indicators,
            index: Arc::new(index),
            load_notes,
            lineage: None,
            recombine_pending: Vec::new(),
            source_crs: None,
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
        self.indicators
            .iter()
            .find(|i| i.meta.id == id)
            .map(|i| &**i)
    }

    /// Adds an indicator computed after loading (e.g. an aggregation), replacing one with the same id.
    pub fn add_indicator(&mut self, indicator: Indicator) {
        self.indicators.retain(|i| i.meta.id != indicator.meta.id);
        self.indicators.push(Arc::new(indicator));
    }
}

/// Every layer in the catalogue, loaded.
#[derive(Debug, Default)]
pub struct Atlas {
    /// Layers in catalogue order.
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
    /// The catalogue is invalid.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// A boundary file could not be read.
    #[error("layer {layer}: {source}")]
    Load {
        /// The layer's id.
        layer: String,
        /// What was wrong with the file.
        #[source]
        source: crate::load::LoadError,
    },
    #[error("layer {layer}: catalogue CRS {crs:?}: {source}")]
    /// The catalogue's CRS for a layer is unknown or unusable.
    Crs {
        /// The layer's id.
        layer: String,
        /// The CRS as written.
        crs: String,
        /// Why it cannot be used.
        #[source]
        source: crate::crs::CrsError,
    },
    /// An indicator table could not be read.
    #[error(transparent)]
    Table(#[from] crate::csv_text::TableError),
    #[error("layer {layer}: {source}")]
    /// A merged layer's lookup is invalid (file, line and code named).
    Merge {
        /// The merged layer's id.
        layer: String,
        /// What is wrong with the lookup.
        #[source]
        source: Box<crate::dissolve::MergeError>,
    },
    /// The catalogue lists an invalid geometry for a code the boundary file does not have.
    #[error(
        "layer {layer}: invalid_geometries lists {code}, which {file} does not have (remove it from boundaries/catalog.toml)"
    )]
    ListedGeometry {
        /// The layer's id.
        layer: String,
        /// The listed code.
        code: String,
        /// The boundary file.
        file: String,
    },
    /// A layer id the catalogue does not have (the id, then the valid ids).
    #[error("unknown layer {0:?}; the catalogue has: {1}")]
    UnknownLayer(String, String),
}

/// Loads one boundary layer: read and reproject the file, project to Web Mercator, build the
/// R-tree. Indicators are joined separately ([`join_tables`]).
pub fn load_districts(meta: &LayerMeta, data_dir: &std::path::Path) -> Result<Layer, AtlasError> {
    load_districts_with(meta, data_dir, LookupIndex::Built)
}

/// [`load_districts`], with or without the lookup index.
pub fn load_districts_with(
    meta: &LayerMeta,
    data_dir: &std::path::Path,
    index: LookupIndex,
) -> Result<Layer, AtlasError> {
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
    let (mut geoms, fields): (Vec<Wgs84>, Vec<Fields>) = loaded
        .features
        .into_iter()
        .map(|f| (f.geometry, (f.code, f.name, f.attributes)))
        .unzip();
    let mut notes = loaded.notes;
    repair_listed(meta, &path, &mut geoms, &fields, &mut notes)?;
    let mut layer = assemble(meta, geoms, fields, notes, index);
    layer.source_crs = Some(loaded.source_crs);
    Ok(layer)
}

/// Loads one boundary layer, from its prepared file where the catalogue names a directory for
/// them ([`crate::prepared`]), else from its source ([`load_districts`]).
pub fn load_layer(
    meta: &LayerMeta,
    catalog: &crate::catalog::Catalog,
    index: LookupIndex,
) -> Result<Layer, AtlasError> {
    match &catalog.prepared_dir {
        Some(dir) => {
            crate::prepared::load_with(meta, &catalog.data_dir, dir, index).map(|(layer, _)| layer)
        }
        None => load_districts_with(meta, &catalog.data_dir, index),
    }
}

/// Repairs the districts the catalogue lists as invalid (`invalid_geometries`) and says so in
/// the load notes. Only listed districts are checked: an OGC repair of every polygon (i_overlay
/// on each) would double start-up; the catalogue test finds any that are missing from the list.
fn repair_listed(
    meta: &LayerMeta,
    path: &std::path::Path,
    geoms: &mut [Wgs84],
    fields: &[Fields],
    notes: &mut Vec<String>,
) -> Result<(), AtlasError> {
    for code in &meta.invalid_geometries {
        let Some(i) = fields.iter().position(|(c, _, _)| c == code) else {
            return Err(AtlasError::ListedGeometry {
                layer: meta.id.clone(),
                code: code.clone(),
                file: path.display().to_string(),
            });
        };
        let name = &fields[i].1;
        match crate::repair::repair(&geoms[i].0) {
            Some(fixed) => {
                notes.push(format!(
                    "{code} {name}: invalid source geometry repaired ({})",
                    fixed.describe()
                ));
                geoms[i] = Wgs84(fixed.geometry);
            }
            None => notes.push(format!(
                "{code} {name}: listed in invalid_geometries but valid as read; nothing repaired"
            )),
        }
    }
    Ok(())
}

/// Code, name and kept attributes of a district.
type Fields = (String, String, Vec<(String, String)>);

/// Builds a layer made by merging the districts of `base` through the lookup of `meta.merge`
/// (exact dissolve of each group, others copied), then indexes and projects it like a file's.
/// Each district carries a `merged_from` attribute: the codes it was made of (empty if copied).
pub fn merge_districts(
    meta: &LayerMeta,
    base: &Layer,
    data_dir: &std::path::Path,
) -> Result<Layer, AtlasError> {
    use crate::dissolve::{AbsentCodes, DissolveOptions, SourceDistrict, derive_districts};
    let merge_error = |source| AtlasError::Merge {
        layer: meta.id.clone(),
        source: Box::new(source),
    };
    let plan = read_merge_plan(meta, data_dir)?;
    let lookup = meta
        .merge
        .as_ref()
        .map(|m| m.lookup.as_str())
        .unwrap_or_default();
    let source: Vec<SourceDistrict<'_>> = base
        .districts
        .iter()
        .map(|d| SourceDistrict {
            code: &d.code,
            name: &d.name,
            geometry: &d.wgs84.0,
        })
        .collect();
    // Rows for districts merged before the base layer's vintage (LAD 2019 codes already merged
    // into a LAD 2021 district) are skipped with a note; any other unknown code is an error.
    let derived = derive_districts(
        &source,
        &plan,
        AbsentCodes::SkipAlreadyMerged,
        &DissolveOptions::default(),
    )
    .map_err(merge_error)?;
    let mut geoms = Vec::with_capacity(derived.districts.len());
    let mut fields = Vec::with_capacity(derived.districts.len());
    for d in derived.districts {
        let members: Vec<&District> = d
            .merged_from
            .iter()
            .filter_map(|c| base.district(c))
            .collect();
        // Copied districts keep their attributes; a merged one keeps those all members share.
        let mut attributes: Vec<(String, String)> = match (members.first(), base.district(&d.code))
        {
            (Some(first), _) => first
                .attributes
                .iter()
                .filter(|(k, v)| {
                    members
                        .iter()
                        .all(|o| o.attributes.iter().any(|(k2, v2)| k2 == k && v2 == v))
                })
                .cloned()
                .collect(),
            (None, Some(same)) => same.attributes.clone(),
            (None, None) => Vec::new(),
        };
        attributes.retain(|(k, _)| k != "merged_from");
        attributes.push(("merged_from".into(), d.merged_from.join(",")));
        geoms.push(Wgs84(d.geometry));
        fields.push((d.code, d.name, attributes));
    }
    let mut notes = derived.notes;
    notes.insert(0, format!("merged from layer {} by {lookup}", base.meta.id));
    let mut layer = assemble(meta, geoms, fields, notes, LookupIndex::Built);
    layer.lineage = Some(Arc::new(crate::lineage::Lineage::from_plan(&plan)));
    layer.source_crs = base.source_crs;
    Ok(layer)
}

/// The lineage of a merged layer (which old code became which district), from its lookup.
pub fn merge_lineage(
    meta: &LayerMeta,
    data_dir: &std::path::Path,
) -> Result<Arc<crate::lineage::Lineage>, AtlasError> {
    let plan = read_merge_plan(meta, data_dir)?;
    Ok(Arc::new(crate::lineage::Lineage::from_plan(&plan)))
}

/// The merge lookup of a merged layer, read and checked (file, line and code named).
fn read_merge_plan(
    meta: &LayerMeta,
    data_dir: &std::path::Path,
) -> Result<crate::dissolve::MergePlan, AtlasError> {
    let Some(m) = &meta.merge else {
        return Err(AtlasError::UnknownLayer(
            meta.id.clone(),
            "(not a merged layer)".into(),
        ));
    };
    let columns = crate::dissolve::MergeColumns {
        old_code: m.old_code.clone(),
        new_code: m.new_code.clone(),
        new_name: m.new_name.clone(),
    };
    crate::dissolve::MergePlan::read(&data_dir.join(&m.lookup), &columns).map_err(|source| {
        AtlasError::Merge {
            layer: meta.id.clone(),
            source: Box::new(source),
        }
    })
}

/// The index (if wanted), Web Mercator geometry and districts of a layer from its WGS84
/// boundaries.
fn assemble(
    meta: &LayerMeta,
    geoms: Vec<Wgs84>,
    fields: Vec<Fields>,
    notes: Vec<String>,
    wanted: LookupIndex,
) -> Layer {
    // Only the districts the catalogue lists are repaired at load ([`repair_listed`]); vector
    // tiles and GeoJSON are made valid on the grid they are written on. The index reads the WGS84 geometries in place (no copy of the polygons) while the other
    // core projects them to Web Mercator.
    let (index, mercator) = rayon::join(
        || match wanted {
            LookupIndex::Built => DistrictIndex::build(&geoms),
            LookupIndex::Skipped => DistrictIndex::empty(),
        },
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
    Layer::new(meta.clone(), districts, Vec::new(), index, notes)
}

/// Joins every indicator of the given tables that applies to `layer`, in catalogue order,
/// explaining codes of other vintages by the layer's own lineage (if merged).
pub fn join_tables(
    layer: &mut Layer,
    catalog: &crate::catalog::Catalog,
    tables: &[crate::indicators::IndicatorTable],
) {
    let own: Vec<Arc<crate::lineage::Lineage>> = layer.lineage.iter().cloned().collect();
    join_tables_across(layer, catalog, tables, &own);
}

/// The code histories of every merged layer of the catalogue, read from their lookups (whether
/// or not those layers are loaded), so any layer's joins can explain codes of other vintages.
pub fn catalog_lineages(
    catalog: &crate::catalog::Catalog,
) -> Result<Vec<Arc<crate::lineage::Lineage>>, AtlasError> {
    use crate::dissolve::{MergeColumns, MergePlan};
    catalog
        .layers
        .iter()
        .filter_map(|l| l.merge.as_ref().map(|m| (l, m)))
        .map(|(l, m)| {
            let columns = MergeColumns {
                old_code: m.old_code.clone(),
                new_code: m.new_code.clone(),
                new_name: m.new_name.clone(),
            };
            MergePlan::read(&catalog.data_dir.join(&m.lookup), &columns)
                .map(|plan| Arc::new(crate::lineage::Lineage::from_plan(&plan)))
                .map_err(|source| AtlasError::Merge {
                    layer: l.id.clone(),
                    source: Box::new(source),
                })
        })
        .collect()
}

/// Mergers read from the catalogue's lookups that key small areas to districts of two vintages
/// ([`crate::lineage::bridged_by_small_areas`]), for carrying classifications; empty when the
/// catalogue has no such pair (a lookup that cannot be read is left out: it is reported when
/// the lookups are loaded for analyses).
pub fn bridged_lineages(catalog: &crate::catalog::Catalog) -> Vec<Arc<crate::lineage::Lineage>> {
    use rayon::prelude::*;
    let tables: Vec<crate::indicators::LookupTable> = catalog
        .lookups
        .par_iter()
        .filter(|l| {
            l.columns
                .iter()
                .any(|c| c.starts_with("LAD") || c.starts_with("Local Authority District code"))
        })
        .filter_map(|l| crate::indicators::read_lookup(l).ok())
        .collect();
    crate::lineage::bridged_by_small_areas(&tables)
        .map(Arc::new)
        .into_iter()
        .collect()
}

/// Joins every indicator of the given tables that applies to `layer`, in catalogue order; a
/// district the table does not name is explained by `lineages` and recombined from its former
/// districts where the indicator's `combine` allows ([`crate::recombine`]). Weighted means wait
/// in [`Layer::recombine_pending`] for their weights.
pub fn join_tables_across(
    layer: &mut Layer,
    catalog: &crate::catalog::Catalog,
    tables: &[crate::indicators::IndicatorTable],
    lineages: &[Arc<crate::lineage::Lineage>],
) {
    join_tables_carrying(layer, catalog, tables, lineages, &[]);
}

/// [`join_tables_across`], with `bridged` lineages (mergers read from small-area lookups,
/// [`crate::lineage::bridged_by_small_areas`]) used only to carry categorical indicators (a
/// classification) to a merged district whose former districts all share the class; numbers
/// are recombined through the catalogue's declared merge lookups alone.
pub fn join_tables_carrying(
    layer: &mut Layer,
    catalog: &crate::catalog::Catalog,
    tables: &[crate::indicators::IndicatorTable],
    lineages: &[Arc<crate::lineage::Lineage>],
    bridged: &[Arc<crate::lineage::Lineage>],
) {
    let with_bridged: Vec<Arc<crate::lineage::Lineage>> =
        lineages.iter().chain(bridged).cloned().collect();
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
        .with_duplicates(&duplicates)
        .with_lineages(lineages);
    let prepared = crate::join::PreparedCodes::new(&base);
    let layer_codes = base.with_prepared(&prepared);
    // Each indicator joins on its own (one pass over its table), so they run in parallel;
    // `collect` keeps catalogue order.
    use rayon::prelude::*;
    let wanted: Vec<_> = catalog
        .indicators_for_layer(&layer.meta.id)
        .into_iter()
        .collect();
    let joined: Vec<(Indicator, Option<crate::recombine::PendingRecombination>)> = wanted
        .par_iter()
        .filter_map(|(source, spec)| {
            let table = tables.iter().find(|t| t.source_id == source.id)?;
            let ti = table.indicator(&spec.id)?;
            let mut ind = crate::join::join_indicator(spec.to_meta(source), &layer_codes, ti);
            // Before empty periods are dropped: the indicator's periods are still the table's.
            let histories = if ind.meta.categorical {
                &with_bridged[..]
            } else {
                lineages
            };
            let pending = crate::recombine::explain_and_recombine(
                &mut ind,
                ti,
                spec.combine.as_ref(),
                histories,
                &codes,
            );
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
            Some((ind, pending))
        })
        .collect();
    for (ind, pending) in joined {
        layer
            .recombine_pending
            .retain(|p| p.indicator != ind.meta.id);
        layer.recombine_pending.extend(pending);
        layer.add_indicator(ind);
    }
}

impl Atlas {
    /// Loads the layers of a catalogue (all, or those named in `only`), in parallel, then reads
    /// every indicator table once and joins it to each layer it applies to.
    pub fn load(catalog: &crate::catalog::Catalog, only: &[String]) -> Result<Atlas, AtlasError> {
        Atlas::load_tables_of(catalog, only, None, LookupIndex::Built)
    }

    /// [`Atlas::load`], reading only the tables that hold one of `indicators` (every table
    /// of the layers when `None`): a command that draws one indicator skips the others' files.
    /// `index` says whether the layers get their lookup index.
    pub fn load_tables_of(
        catalog: &crate::catalog::Catalog,
        only: &[String],
        indicators: Option<&[String]>,
        index: LookupIndex,
    ) -> Result<Atlas, AtlasError> {
        use rayon::prelude::*;
        for id in only {
            if catalog.layer(id).is_none() {
                let ids: Vec<&str> = catalog.layers.iter().map(|l| l.id.as_str()).collect();
                return Err(AtlasError::UnknownLayer(id.clone(), ids.join(", ")));
            }
        }
        // A merged layer needs the layer it is made from (and that one its own, if merged).
        let mut wanted: Vec<String> = only.to_vec();
        let mut i = 0;
        while i < wanted.len() {
            if let Some(from) = catalog
                .layer(&wanted[i])
                .and_then(|m| m.merge.as_ref())
                .map(|m| m.from.clone())
                && !wanted.contains(&from)
            {
                wanted.push(from);
            }
            i += 1;
        }
        let metas: Vec<&LayerMeta> = catalog
            .layers
            .iter()
            .filter(|l| wanted.is_empty() || wanted.contains(&l.id))
            .collect();
        let (merged, from_files): (Vec<&LayerMeta>, Vec<&LayerMeta>) =
            metas.iter().partition(|m| m.merge.is_some());
        let wanted_sources: Vec<&crate::catalog::SourceSpec> = catalog
            .sources
            .iter()
            .filter(|s| s.layers.iter().any(|l| metas.iter().any(|m| &m.id == l)))
            .filter(|s| {
                indicators.is_none_or(|ids| s.indicators.iter().any(|i| ids.contains(&i.id)))
            })
            .collect();
        // Classifications carried to merged districts need the small-area lookups: read
        // alongside the tables, and only when a wanted table has a categorical indicator.
        let categorical = wanted_sources.iter().any(|s| {
            s.indicators
                .iter()
                .any(crate::catalog::IndicatorSpec::categorical)
        });
        let (layers, (tables, bridged)) = rayon::join(
            || {
                from_files
                    .par_iter()
                    .map(|m| load_layer(m, catalog, index))
                    .collect::<Result<Vec<_>, _>>()
            },
            || {
                rayon::join(
                    || {
                        wanted_sources
                            .par_iter()
                            .map(|s| crate::indicators::read_table(catalog, s))
                            .collect::<Result<Vec<_>, _>>()
                    },
                    || {
                        if categorical {
                            bridged_lineages(catalog)
                        } else {
                            Vec::new()
                        }
                    },
                )
            },
        );
        let mut layers = layers?;
        let tables = tables?;
        let lineages = catalog_lineages(catalog)?;
        // Catalogue order: a merged layer's base is declared (and so built) before it.
        for meta in merged {
            let base_id = meta
                .merge
                .as_ref()
                .map(|m| m.from.as_str())
                .unwrap_or_default();
            let base = layers
                .iter()
                .find(|l| l.meta.id == base_id)
                .ok_or_else(|| AtlasError::UnknownLayer(base_id.to_string(), meta.id.clone()))?;
            let mut layer = match (&catalog.prepared_dir, catalog.layer(base_id)) {
                (Some(dir), Some(base_meta)) => {
                    crate::prepared::load_merged_with(
                        meta,
                        base_meta,
                        base,
                        &catalog.data_dir,
                        dir,
                        index,
                    )?
                    .0
                }
                _ => merge_districts(meta, base, &catalog.data_dir)?,
            };
            if index == LookupIndex::Skipped {
                layer.index = Arc::new(DistrictIndex::empty());
            }
            layers.push(layer);
        }
        // Keep the catalogue's order of layers.
        layers.sort_by_key(|l| catalog.layers.iter().position(|m| m.id == l.meta.id));
        layers
            .par_iter_mut()
            .for_each(|l| join_tables_carrying(l, catalog, &tables, &lineages, &bridged));
        Ok(Atlas { layers })
    }
}
