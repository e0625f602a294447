//! Route handlers. Every module has the same shape: handlers taking `State<SharedState>`,
//! returning `Result<_, ApiError>`.

/// `/layers...`: catalogue, GeoJSON, districts.
pub mod data;
/// Uploaded datasets: upload, list, show, new version, delete.
pub mod datasets;
/// `/health`, `/metrics`.
pub mod health;
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
/// `/tiles...`: raster tiles and TileJSON.
pub mod tiles;
/// `/datasets/new`: the upload page for people who do not use curl.
pub mod upload_page;
/// `/tiles/{layer}/{z}/{x}/{y}.mvt`: vector tiles and their TileJSON.
pub mod vector;
