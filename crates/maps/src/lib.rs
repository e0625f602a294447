//! Map operations, free of HTTP and of the command line: each a plain function over typed
//! options returning `Result<_, MapError>`, so the server and the CLI are thin edges over the
//! same code. Stages, in pipeline order:

/// The one error of map operations: kind, message, hint, cause.
pub mod error;

/// Typed options (style, figure, export), read from query strings or CLI flags.
pub mod options;

/// Start-up: layers, derived indicators, lookups, data version, per-zoom geometry.
pub mod loaded;

/// `region=`: one resolution of a region or nation name for every map operation.
pub mod region;

/// Style options resolved into a classification and one fill per district, cached.
pub mod style;

/// Legends of resolved styles and the credit line each map must carry.
pub mod legend;

/// Choropleth PNG tiles.
pub mod raster;

/// One district's geometry in a vector tile: clip, quantise, repair, encode.
mod tile_geometry;

/// MVT layers written feature by feature, without the `mvt` crate's protobuf structs.
mod mvt_writer;

/// Mapbox Vector Tiles.
pub mod vector_tiles;

/// MapLibre styles of resolved choropleths over the vector tiles.
pub mod maplibre_style;

/// PMTiles archives of a layer's vector tiles.
pub mod archive;

/// A map described in words from its data (for screen readers, alt text, captions).
pub mod describe;

/// Static figures for reports (PNG, SVG).
pub mod figure;

/// RFC 7946 GeoJSON text with coordinate precision.
pub mod geojson_text;

/// The CRSs geometry is written in (CRS84, EPSG:4326, EPSG:27700, EPSG:3857) and projection into them.
pub mod output_crs;

/// OGC CQL2 text filters, property equality, `properties=` and `sortby=` over a layer's districts.
pub mod filter;

/// GeoJSON and CSV exports, layer and indicator descriptions, one district's values.
pub mod export;

/// GeoPackage, FlatGeobuf and zipped Shapefile downloads for desktop GIS.
pub mod formats;

/// Static bundles of a map (page, tiles, style, legend, figure, data) for any static host.
pub mod publish;

pub use error::{ErrorKind, MapError};
pub use loaded::{LoadError, LoadOptions, Loaded};
pub use options::{ExportOptions, FigureOptions, StyleOptions, VersionOptions};
