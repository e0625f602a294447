//! The geometry crate: district boundaries and indicator tables in, an indexed and joined
//! [`Layer`] out. Stages, in pipeline order:

/// The catalogue in `boundaries/`: which file is which layer and indicator, with credits.
pub mod catalog;

/// Reading boundary files: GeoJSON, Shapefile (+ `.prj`), TopoJSON.
pub mod load;

/// Recognising a file's CRS (`.prj` WKT, GeoJSON `crs`, coordinate ranges) and reprojecting it.
pub mod crs;

/// Coordinate systems with a type: [`Wgs84`] lon/lat and [`Mercator`] metres.
pub mod geometry;

/// GSS codes as compared everywhere: trimmed, upper case.
pub mod codes;

/// CSV text as published: encodings, header, number cells and missing markers, period labels.
pub mod csv_text;

/// Reading indicator tables (CSV, wide or long) as published, suppression markers and all.
pub mod indicators;

/// The value model: districts, joined indicators and their periods, join reports.
pub mod model;

/// Joining indicator values to districts by GSS code, with an honest join report.
pub mod join;

/// The R-tree of districts with exact point-in-polygon lookups.
pub mod index;

/// Making polygons OGC-valid on the grid they are written on (vector tiles, rounded GeoJSON).
pub mod repair;

/// Gap-free per-zoom simplification of shared borders.
pub mod simplify;

/// Merging districts into a derived layer (LAD 2021 -> 2023): merge lookups and exact dissolve.
pub mod dissolve;

/// Which district an old code became and what a merged district was made of.
pub mod lineage;

/// Values across boundary changes: why a district has no data, and recombining merged districts.
pub mod recombine;

/// Which region and nation each district is in, on every layer (`region=`).
pub mod regions;

/// Assembling everything above into layers, and the set of layers (the atlas).
pub mod layer;

/// Layers kept as loaded in one binary file, read by the next process instead of the source.
pub mod prepared;

pub use geometry::{Mercator, Wgs84};
pub use layer::{Atlas, Layer};
pub use model::{District, Indicator, JoinReport, Period, PeriodValues};
