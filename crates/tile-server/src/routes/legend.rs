//! Legends: `GET /legend/{layer}/{indicator}.{svg,png,json}` with class ranges, units, counts per
//! class, the no-data entry and the source credit, for the same style options as the tiles.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use choropleth::legend::{Legend, LegendEntry, LegendMeta, NoDataEntry, NumberStyle};
use choropleth::palette::{NO_DATA_STYLE, Rgb};
use districts::{Indicator, Layer};

use crate::error::ApiError;
use crate::params::{parse_num, reject_unknown};
use crate::state::SharedState;
use crate::style::{self, ResolvedStyle, STYLE_OPTIONS};

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
) -> Result<Legend, ApiError> {
    let meta = LegendMeta {
        title: ind.meta.title.clone(),
        subtitle: style.showing.label(),
        unit: style.unit.clone(),
        source: credit(layer, ind),
    };
    match (&style.classification, &style.palette_used) {
        (Some(c), Some(p)) => {
            Legend::new(c, p, meta).map_err(|e| ApiError::Internal(e.to_string()))
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

/// `GET /legend/{layer}/{indicator}.{svg,png,json}`.
pub async fn legend(
    State(state): State<SharedState>,
    Path((layer_id, file)): Path<(String, String)>,
    Query(mut q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (indicator_id, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::not_found(
            format!("{file:?} has no format extension"),
            "use /legend/{layer}/{indicator}.svg, .png or .json",
        )
    })?;
    let scale: f32 = match q.remove("scale") {
        Some(s) => parse_num("scale", &s)?,
        None => 2.0,
    };
    if !(0.5..=8.0).contains(&scale) {
        return Err(ApiError::bad_request(
            format!("scale {scale} is out of range"),
            "scale from 0.5 to 8",
        ));
    }
    reject_unknown(&q, &STYLE_OPTIONS)?;
    let layer = state.layer(&layer_id)?;
    let ind = state.indicator(layer, indicator_id)?;
    let style = style::resolve(&state, layer, ind, &q)?;
    let legend = legend_for(layer, ind, &style)?;
    match ext {
        "json" => {
            let mut v =
                serde_json::to_value(&legend).map_err(|e| ApiError::Internal(e.to_string()))?;
            v["credit"] = serde_json::Value::from(legend.source.clone());
            v["period"] = serde_json::Value::from(style.showing.label());
            v["layer"] = serde_json::Value::from(layer.meta.id.clone());
            v["indicator"] = serde_json::Value::from(ind.meta.id.clone());
            Ok(axum::Json(v).into_response())
        }
        "svg" => Ok(([(header::CONTENT_TYPE, "image/svg+xml")], legend.to_svg()).into_response()),
        "png" => {
            let png = legend
                .to_png(scale)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
        }
        other => Err(ApiError::not_found(
            format!("legend format {other:?} is not served"),
            "formats: svg, png, json",
        )),
    }
}
