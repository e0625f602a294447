//! Thin adapters from a loaded [`districts::Layer`] to the plain inputs of this crate:
//! codes, names, geometries, attributes and one indicator period's values, all aligned with
//! `layer.districts`.

use districts::Layer;
use districts::model::PeriodValues;
use geo_types::MultiPolygon;

use crate::error::AnalysisError;

/// District codes, in layer order.
pub fn codes(layer: &Layer) -> Vec<String> {
    layer.districts.iter().map(|d| d.code.clone()).collect()
}

/// District names, in layer order.
pub fn names(layer: &Layer) -> Vec<String> {
    layer.districts.iter().map(|d| d.name.clone()).collect()
}

/// WGS84 boundaries, in layer order (for contiguity and interior points).
pub fn geometries(layer: &Layer) -> Vec<MultiPolygon<f64>> {
    layer.districts.iter().map(|d| d.wgs84.0.clone()).collect()
}

/// One kept attribute (e.g. `region_name`) per district, for [`crate::Grouping::from_labels`].
pub fn attribute(layer: &Layer, key: &str) -> Vec<Option<String>> {
    layer
        .districts
        .iter()
        .map(|d| {
            d.attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
        .collect()
}

/// Numeric values of `indicator` for `period` (its default period when `None`), in layer
/// order; unknown ids and categorical indicators are errors listing what exists.
pub fn numeric_values(
    layer: &Layer,
    indicator: &str,
    period: Option<&str>,
) -> Result<Vec<Option<f64>>, AnalysisError> {
    let not_in = |what: &'static str, id: &str, available: Vec<String>| AnalysisError::NotInLayer {
        layer: layer.meta.id.clone(),
        what,
        id: id.to_string(),
        available: available.join(", "),
    };
    let ind = layer.indicator(indicator).ok_or_else(|| {
        not_in(
            "indicator",
            indicator,
            layer.indicators.iter().map(|i| i.meta.id.clone()).collect(),
        )
    })?;
    let label = period.unwrap_or(&ind.default_period);
    let p = ind.period(label).ok_or_else(|| {
        not_in(
            "period",
            label,
            ind.periods.iter().map(|p| p.label.clone()).collect(),
        )
    })?;
    match &p.values {
        PeriodValues::Numeric(v) => Ok(v.clone()),
        PeriodValues::Categorical(_) => Err(not_in(
            "numeric indicator",
            indicator,
            layer
                .indicators
                .iter()
                .filter(|i| {
                    i.periods
                        .iter()
                        .any(|p| matches!(p.values, PeriodValues::Numeric(_)))
                })
                .map(|i| i.meta.id.clone())
                .collect(),
        )),
    }
}
