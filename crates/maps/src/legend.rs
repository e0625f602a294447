//! Legends of resolved styles (class ranges, units, counts per class, the no-data entry) and
//! the credit line every map must carry: what tiles, figures and bundles show beside the map.

use choropleth::legend::{Legend, LegendEntry, LegendMeta, NoDataEntry, NumberStyle};
use choropleth::palette::{NO_DATA_STYLE, Rgb};
use districts::{Indicator, Layer};

use crate::error::MapError;
use crate::style::ResolvedStyle;

/// The credit a map of this indicator on this layer must carry: data source and boundaries.
pub fn credit(layer: &Layer, ind: &Indicator) -> String {
    if ind.meta.provenance.attribution == layer.meta.provenance.attribution {
        ind.meta.provenance.attribution.clone()
    } else {
        format!(
            "{} {}",
            ind.meta.provenance.attribution.trim_end(),
            layer.meta.provenance.attribution.trim()
        )
    }
}

/// Builds the legend of a resolved style.
pub fn legend_for(
    layer: &Layer,
    ind: &Indicator,
    style: &ResolvedStyle,
) -> Result<Legend, MapError> {
    let meta = LegendMeta {
        title: ind.meta.title.clone(),
        subtitle: style.showing.label(),
        unit: style.unit.clone(),
        source: credit(layer, ind),
    };
    match (&style.classification, &style.palette_used) {
        (Some(c), Some(p)) => {
            Legend::new(c, p, meta).map_err(|e| MapError::internal("building a legend", e))
        }
        _ => {
            // Categories: one entry per category, no ranges.
            let no_data = style
                .fills
                .iter()
                .filter(|f| matches!(f, choropleth::render::Fill::NoData))
                .count();
            Ok(Legend {
                title: meta.title,
                subtitle: meta.subtitle,
                unit: meta.unit,
                scheme: "categories".into(),
                palette: style.palette.clone(),
                number_style: NumberStyle::for_unit(""),
                decimals: 0,
                entries: style
                    .categories
                    .iter()
                    .map(|c| LegendEntry {
                        label: c.label.clone(),
                        lower: f64::NAN,
                        upper: f64::NAN,
                        color: Rgb::new(c.color.0, c.color.1, c.color.2),
                        count: c.count,
                    })
                    .collect(),
                no_data: NoDataEntry {
                    label: "No data".into(),
                    color: NO_DATA_STYLE.fill,
                    style: NO_DATA_STYLE,
                    count: no_data,
                },
                source: meta.source,
            })
        }
    }
}
