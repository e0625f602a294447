//! `GET /static/{layer}/{indicator}.{png,svg}`: a finished figure for reports.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use choropleth::figure::STRIP_PIXELS;
use maps::figure::{self, Format};
use maps::{FigureOptions, StyleOptions, VersionOptions};

use crate::admission::Class;
use crate::error::ApiError;
use crate::extract::Options;
use crate::state::SharedState;

/// Bytes drawing a PNG holds per pixel drawn at once: the pixmap (4) and the clip mask (1)
/// while drawing, then the pixmap and the encoder's palette scan. Figures of more than
/// [`STRIP_PIXELS`] pixels are drawn in strips of about that many (BENCHMARKS.md section 13).
const PNG_BYTES_PER_PIXEL: f64 = 5.0;

/// Bytes of the finished PNG per output pixel: RGBA rows through fast deflate, measured at
/// 0.19 on a 10,000 px square LSOA map (19 MB; many edges, the worst case), doubled for the
/// growth of the output buffer and rounded up (BENCHMARKS.md section 13).
const PNG_OUT_BYTES_PER_PIXEL: f64 = 0.5;

/// Bytes a static map holds besides its pixels: the traced paths of every district drawn and
/// the overlay (an SVG map is written as text, about this much for all LSOAs).
const FIGURE_BASE_BYTES: u64 = 48 * 1024 * 1024;

/// What a static map of this frame is expected to hold while drawn, for admission control.
fn expected_bytes(frame: &FigureOptions, format: Format) -> u64 {
    match format {
        Format::Svg => FIGURE_BASE_BYTES,
        Format::Png => {
            let scale = f64::from(frame.scale.unwrap_or(1.0)).max(0.0);
            let w = f64::from(frame.width.unwrap_or(1000)) * scale;
            let h = f64::from(frame.height.unwrap_or(1100)) * scale;
            // Sizes are checked when drawing (at most 10,000 px a side); the estimate of an
            // out-of-range size only needs to be finite.
            let pixels = (w * h).clamp(0.0, 1e10);
            // One strip's rows plus the margins drawn around it (see `Figure::to_png`).
            let held = pixels.min(STRIP_PIXELS as f64 + 32.0 * w);
            FIGURE_BASE_BYTES
                + (held * PNG_BYTES_PER_PIXEL + pixels * PNG_OUT_BYTES_PER_PIXEL) as u64
        }
    }
}

/// Renders on a blocking thread (a national LSOA map takes a few hundred milliseconds), as a
/// static-map job of admission control, stopping if the request is dropped.
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
    let bytes = expected_bytes(&frame, format);
    let body = state
        .heavy(
            Class::Static,
            bytes,
            move |cancel| -> Result<Vec<u8>, ApiError> {
                let layer = st.layer(&layer_id)?;
                let ind = st.indicator(layer, &indicator_id)?;
                Ok(figure::render_cancellable(
                    &st.maps.styles,
                    layer,
                    ind,
                    (&style, &frame),
                    format,
                    &|| cancel.is_cancelled(),
                )?)
            },
        )
        .await?;
    let res = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    Ok(crate::byte_ranges::file_like(
        res,
        (&state.maps.data_version, uri.to_string()),
    ))
}
