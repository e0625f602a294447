//! Route handlers. Every module has the same shape: handlers taking `State<SharedState>`,
//! returning `Result<_, ApiError>`.

/// `/layers...`: catalogue, GeoJSON, districts.
pub mod data;
/// Uploaded datasets: upload, list, show, new version, delete.
pub mod datasets;
/// `/health`, `/metrics`.
pub mod health;
/// `/`: the index of layers and maps, for people and programs.
pub mod home;
/// `/legend...`: legends as SVG, PNG, JSON.
pub mod legend;
/// `/lookup`: points to districts.
pub mod lookup;
/// `/map...`: the embeddable interactive map.
pub mod map;
/// `/ogc...`: OGC API - Features (Core, GeoJSON) for GIS clients.
pub mod ogc;
/// `/static...`: figures for reports.
pub mod staticmap;
/// `/stats...`: aggregation, group comparison, correlation, Moran's I and LISA clusters.
pub mod stats;
/// `/styles...`: MapLibre styles of the choropleths over the vector tiles.
pub mod styles;
/// `/tiles...`: raster tiles and TileJSON.
pub mod tiles;
/// `/datasets/new`: the upload page for people who do not use curl.
pub mod upload_page;
/// `/tiles/{layer}/{z}/{x}/{y}.mvt`: vector tiles and their TileJSON.
pub mod vector;

/// A page's static file from `assets` (path, content type, body), cached for an hour; a 404
/// listing the files when `path` is not one of them. Shared by the map and upload pages.
pub(crate) fn static_asset(
    assets: &[(&str, &str, &'static [u8])],
    path: &str,
    what: &str,
) -> Result<axum::response::Response, crate::error::ApiError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let (_, ctype, body) = assets.iter().find(|(p, _, _)| *p == path).ok_or_else(|| {
        crate::error::ApiError::not_found(
            format!("no {what} asset {path:?}"),
            format!(
                "assets: {}",
                assets.iter().map(|a| a.0).collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let mut r = ([(header::CONTENT_TYPE, *ctype)], *body).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(r)
}
