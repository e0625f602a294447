//! Legends of resolved styles (class ranges, units, counts per class, the no-data entry) and
//! the credit line every map must carry: what tiles, figures and bundles show beside the map.

use choropleth::legend::{Legend, LegendEntry, LegendMeta, NoDataEntry, NoDataGroup, NumberStyle};
use choropleth::palette::{NO_DATA_STYLE, Rgb};
use districts::{Indicator, Layer};

use crate::error::MapError;
use crate::style::{ResolvedStyle, Showing};

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

/// Why the district at `position` has no value in what the style shows, where a boundary
/// change explains it (for a change, the later period's reason, else the earlier's).
pub fn no_data_reason<'a>(
    layer: &Layer,
    ind: &'a Indicator,
    showing: &Showing,
    position: usize,
) -> Option<&'a districts::model::NoDataReason> {
    let code = &layer.districts.get(position)?.code;
    match showing {
        Showing::Period(p) => ind.no_data_reason(code, p),
        Showing::Change { from, to, .. } => ind
            .no_data_reason(code, to)
            .or_else(|| ind.no_data_reason(code, from)),
    }
}

/// The no-data districts of a style grouped by reason, for the legend.
fn no_data_groups(layer: &Layer, ind: &Indicator, style: &ResolvedStyle) -> Vec<NoDataGroup> {
    let mut groups: Vec<(String, usize)> = Vec::new();
    for (i, f) in style.fills.iter().enumerate() {
        if !matches!(f, choropleth::render::Fill::NoData) {
            continue;
        }
        if let Some(r) = no_data_reason(layer, ind, &style.showing, i) {
            match groups.iter_mut().find(|(s, _)| *s == r.summary) {
                Some(g) => g.1 += 1,
                None => groups.push((r.summary.clone(), 1)),
            }
        }
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    groups
        .into_iter()
        .map(|(s, n)| NoDataGroup::new(n, &s))
        .collect()
}

/// Builds the legend of a resolved style; the no-data entry says why districts have no value
/// where a boundary change explains it.
pub fn legend_for(
    layer: &Layer,
    ind: &Indicator,
    style: &ResolvedStyle,
) -> Result<Legend, MapError> {
    let mut legend = legend_of(layer, ind, style)?;
    legend.no_data.reasons = no_data_groups(layer, ind, style);
    Ok(legend)
}

fn legend_of(layer: &Layer, ind: &Indicator, style: &ResolvedStyle) -> Result<Legend, MapError> {
    let meta = LegendMeta {
        title: ind.meta.title.clone(),
        subtitle: style.showing.label(),
        unit: style.unit.clone(),
        source: credit(layer, ind),
    };
    match (&style.classification, &style.palette_used) {
        (Some(c), Some(p)) => {
            let mut legend =
                Legend::new(c, p, meta).map_err(|e| MapError::internal("building a legend", e))?;
            if let Some(label) = &style.scheme_label {
                legend.scheme.clone_from(label);
            }
            // Classes with names of their own (an ordinal scale's values): each entry is one
            // value, labelled with it, not a range.
            if style.class_labels.len() == legend.entries.len() {
                for (entry, label) in legend.entries.iter_mut().zip(&style.class_labels) {
                    entry.label.clone_from(label);
                    entry.lower = entry.upper;
                }
            }
            Ok(legend)
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
                    reasons: Vec::new(),
                },
                source: meta.source,
            })
        }
    }
}
