//! The R-tree of districts (rstar `bulk_load`) with exact point-in-polygon after the envelope hit.

/// Spatial index over a layer's districts.
#[derive(Debug, Default)]
pub struct DistrictIndex {}
