//! `region=` resolved the same way wherever a map operation takes it (static figures, and any
//! legend, tile or export that restricts itself to a region): an English region or a nation,
//! by name or slug in any case, through the layer's [`districts::regions::Regions`].

use districts::Layer;

use crate::error::MapError;

/// Which districts of `layer` are in `region` (e.g. `North East`, `north-east`, `scotland`);
/// an unknown or absent region is a not-found error listing the valid names with their slugs.
pub fn select(layer: &Layer, region: &str) -> Result<Vec<bool>, MapError> {
    layer
        .regions
        .select(&layer.districts, region, &layer.meta.id)
        .map_err(|e| MapError::not_found(e.to_string(), e.hint()))
}

/// The names `region=` takes on `layer`, each with its slug (`North East (north-east)`).
pub fn choices(layer: &Layer) -> Vec<String> {
    layer.regions.choices(&layer.districts)
}

/// How a figure names `region`: the region's or nation's own name (`north-east` is written
/// `North East`), else the text as given.
pub fn display_name(layer: &Layer, region: &str) -> String {
    layer
        .regions
        .name_of(region)
        .unwrap_or_else(|| region.trim().to_string())
}
