//! Legends: `GET /legend/{layer}/{indicator}.{svg,png,json}` with class ranges, units, counts per
//! class, the no-data entry and the source credit, for the same style options as the tiles.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maps::legend::legend_for;
use maps::options::read_options;
use maps::{FigureOptions, StyleOptions, VersionOptions};

use crate::error::ApiError;
use crate::params::parse_num;
use crate::state::SharedState;

/// `GET /legend/{layer}/{indicator}.{svg,png,json}`.
pub async fn legend(
    State(state): State<SharedState>,
    Path((layer_id, file)): Path<(String, String)>,
    Query(mut pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (indicator_id, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::not_found(
            format!("{file:?} has no format extension"),
            "use /legend/{layer}/{indicator}.svg, .png or .json",
        )
    })?;
    // `scale` sizes the PNG; every other option styles the map.
    let scale: f32 = match pairs.iter().position(|(k, _)| k == "scale") {
        Some(i) => parse_num("scale", &pairs.remove(i).1)?,
        None => 2.0,
    };
    if !(0.5..=8.0).contains(&scale) {
        return Err(ApiError::bad_request(
            format!("scale {scale} is out of range"),
            "scale from 0.5 to 8",
        ));
    }
    let ((opts, pin), extent): ((StyleOptions, VersionOptions), FigureOptions) =
        read_options(&pairs)?;
    let layer = state.layer(&layer_id)?;
    let ind = state.indicator_at(layer, indicator_id, pin.version)?;
    // With region=, bbox=, districts= or domain=, the legend of the figure that shows them (its
    // classes and counts); otherwise the tiles' legend (every district).
    let framing = FigureOptions {
        region: extent.region.clone(),
        bbox: extent.bbox,
        districts: extent.districts.clone(),
        domain: extent.domain.clone(),
        ..FigureOptions::default()
    };
    if framing != extent {
        return Err(ApiError::bad_request(
            "a legend takes the figure options region=, bbox=, districts= and domain= only",
            "title, subtitle, width, height, scale and inset frame a figure: /static/{layer}/{indicator}.png",
        ));
    }
    let (style, legend) = if framing == FigureOptions::default() {
        let style = state.maps.styles.resolve(layer, ind, &opts)?;
        let legend = legend_for(layer, ind, &style)?;
        (style, legend)
    } else {
        let chosen = maps::figure::shown(layer, &framing)?;
        let style =
            maps::figure::style_shown(&state.maps.styles, layer, ind, &opts, &framing, &chosen)?;
        let legend = maps::figure::legend_shown(layer, ind, &style, &|i| chosen[i])?;
        (style, legend)
    };
    match ext {
        "json" => {
            let mut v = serde_json::to_value(&legend).map_err(ApiError::internal)?;
            v["credit"] = serde_json::Value::from(legend.source.clone());
            v["period"] = serde_json::Value::from(style.showing.label());
            v["layer"] = serde_json::Value::from(layer.meta.id.clone());
            v["indicator"] = serde_json::Value::from(ind.meta.id.clone());
            // What the tiles show (every district), in words: the map page's summary and the
            // alt text of its embed code.
            let scope = maps::describe::nations_scope(layer, &style);
            v["description"] = serde_json::Value::from(
                maps::describe::describe(layer, ind, &style, &|_| true, &scope).text,
            );
            Ok(axum::Json(v).into_response())
        }
        "svg" => Ok(([(header::CONTENT_TYPE, "image/svg+xml")], legend.to_svg()).into_response()),
        "png" => {
            let png = legend.to_png(scale).map_err(ApiError::internal)?;
            Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
        }
        other => Err(ApiError::not_found(
            format!("legend format {other:?} is not served"),
            "formats: svg, png, json",
        )),
    }
}
