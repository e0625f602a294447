//! `GET /static/{layer}/{indicator}.{png,svg}`: a finished figure for reports.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maps::figure::{self, Format};
use maps::{FigureOptions, StyleOptions, VersionOptions};

use crate::error::ApiError;
use crate::extract::Options;
use crate::state::SharedState;

/// Renders on a blocking thread (a national LSOA map takes a few hundred milliseconds).
pub async fn static_map(
    State(state): State<SharedState>,
    Path((layer_id, file)): Path<(String, String)>,
    uri: axum::http::Uri,
    Options(((style, frame), pin)): Options<((StyleOptions, FigureOptions), VersionOptions)>,
) -> Result<Response, ApiError> {
    let (indicator_id, ext) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::not_found(
            format!("{file:?} has no format extension"),
            "use /static/{layer}/{indicator}.png or .svg",
        )
    })?;
    let format = Format::from_extension(ext).ok_or_else(|| {
        ApiError::not_found(
            format!("static map format {ext:?} is not served"),
            "formats: png, svg",
        )
    })?;
    // Check ids before doing any work.
    let layer = state.layer(&layer_id)?;
    let indicator_id = state
        .indicator_at(layer, indicator_id, pin.version)?
        .meta
        .id
        .clone();
    let st = state.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let layer = st.layer(&layer_id)?;
        let ind = st.indicator(layer, &indicator_id)?;
        Ok(figure::render(
            &st.maps.styles,
            layer,
            ind,
            &style,
            &frame,
            format,
        )?)
    })
    .await
    .map_err(ApiError::internal)??;
    let res = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    Ok(crate::byte_ranges::file_like(
        res,
        (&state.maps.data_version, uri.to_string()),
    ))
}
