//! Analysis on districts: aggregation, group comparison, neighbours and spatial statistics.
//!
//! Every function works on plain inputs (slices of values aligned with a list of codes,
//! geometries, lookup maps), so it can be fed from a `districts::Layer` (module `layer`) or
//! from anything else. Every result is `serde`-serialisable and has a table form
//! ([`Table`]) for CSV output. Stages, in pipeline order:

/// Thin adapters from a `districts::Layer` to the plain inputs below (feature `layer`).
#[cfg(feature = "layer")]
pub mod layer;

/// Small areas to districts: assignment by lookup or by point-in-polygon, then statistics.
pub mod aggregate;

/// Groups of districts (region, area classification, country, user list) compared.
pub mod compare;

/// Pearson and Spearman correlation of two indicators.
pub mod correlation;

/// Queen contiguity neighbours from geometry, islands, k-nearest fallback, row-standardised weights.
pub mod contiguity;

/// Global Moran's I and local Moran (LISA) with seeded permutation inference.
pub mod moran;

/// Analyses of loaded layers named by id: the one implementation behind the CLI and HTTP.
#[cfg(feature = "layer")]
pub mod query;

/// Results as indicators of their layer (aggregates, LISA classes); the start-up set.
#[cfg(feature = "layer")]
pub mod derived;

/// The table form every result offers (columns + rows; JSON and CSV).
pub mod table;

/// Errors of this crate, with the code or group that caused them.
pub mod error;

pub use aggregate::{
    AggregateResult, Aggregation, Assignment, ClassRule, aggregate, assign_by_lookup,
    assign_by_point, interior_points,
};
pub use compare::{
    Comparison, DistrictRank, GroupSummary, Grouping, RankOrder, compare_groups, rank_districts,
    summarise_group,
};
pub use contiguity::{SpatialWeights, queen_contiguity};
pub use correlation::{Correlation, CorrelationMethod, correlate};
pub use error::AnalysisError;
pub use moran::{LisaClass, LocalMoran, MoranGlobal, local_moran, moran_global};
pub use table::{Cell, Table};
