//! MapLibre styles of the choropleths: `GET /styles/{layer}/{indicator}.json` with the same
//! style options as the PNG tiles (`scheme`, `k`, `breaks`, `palette`, `reverse`, `highlight`,
//! `year`, `change`, ...), over placemap's vector tiles, and the sprite with the no-data hatch
//! (`GET /styles/sprite.json`, `sprite.png`, `sprite@2x.json`, `sprite@2x.png`). Built by
//! [`maps::maplibre_style`]; MapLibre GL JS and QGIS load them as they are.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maps::legend::{credit, legend_for};
use maps::maplibre_style::{StyleUrls, maplibre_style, sprite_index, sprite_png};
use maps::{StyleOptions, VersionOptions};

use crate::base_url::BaseUrl;
use crate::error::ApiError;
use crate::extract::Options;
use crate::params::urlencode;
use crate::state::SharedState;

/// `GET /styles/{layer}/{indicator}.json`.
pub async fn style(
    State(state): State<SharedState>,
    base: BaseUrl,
    Path((layer_id, file)): Path<(String, String)>,
    Options((opts, pin)): Options<(StyleOptions, VersionOptions)>,
) -> Result<Response, ApiError> {
    let indicator_id = file.strip_suffix(".json").ok_or_else(|| {
        ApiError::not_found(
            format!("{file:?} is not a style name"),
            "styles are /styles/{layer}/{indicator}.json, e.g. /styles/lad19/imd_score.json",
        )
    })?;
    let layer = state.layer(&layer_id)?;
    let ind = state.indicator_at(layer, indicator_id, pin.version)?;
    let resolved = state.maps.styles.resolve(layer, ind, &opts)?;
    let legend = legend_for(layer, ind, &resolved)?;
    let mut legend_json = serde_json::to_value(&legend).map_err(ApiError::internal)?;
    legend_json["period"] = serde_json::Value::from(resolved.showing.label());
    let origin = base.as_str();
    let urls = StyleUrls {
        tilejson: format!(
            "{origin}/tiles/{}.json?indicators={}",
            urlencode(&layer.meta.id),
            urlencode(&maps::loaded::pinned_id(ind))
        ),
        sprite: format!("{origin}/styles/sprite"),
    };
    let body = maplibre_style(
        layer,
        ind,
        &resolved,
        legend_json,
        &credit(layer, ind),
        &urls,
    );
    let mut r = Json(body).into_response();
    // Styles follow uploaded datasets' new versions: revalidate.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// `GET /styles/sprite.json`, `/styles/sprite.png` and their `@2x` versions.
pub async fn sprite(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    let ratio = match stem {
        "sprite" => 1,
        "sprite@2x" => 2,
        _ => {
            return Err(ApiError::not_found(
                format!("no style resource /styles/{file}"),
                "styles are /styles/{layer}/{indicator}.json; the sprite is /styles/sprite.json, .png, @2x.json, @2x.png",
            ));
        }
    };
    let (side, png) = sprite_png(ratio)?;
    let mut r = match ext {
        "json" => Json(sprite_index(side, ratio)).into_response(),
        "png" => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        _ => {
            return Err(ApiError::not_found(
                format!("no style resource /styles/{file}"),
                "the sprite is /styles/sprite.json, .png, @2x.json, @2x.png",
            ));
        }
    };
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(r)
}
