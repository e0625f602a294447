//! Choropleth map tiles: Web Mercator multipolygons in, PNG bytes out. Knows nothing of files,
//! layers or tile addresses beyond their Web Mercator bounds.
//!
//! [`TileRenderer`](crate::render::TileRenderer) draws a tile (anti-aliased even-odd fills, outlines, highlights, hatched
//! no-data) and recognises empty and one-colour tiles without drawing; [`encode`](crate::render::encode)
//! turns the result into a PNG as fast as it can (fdeflate, indexed when the colours fit).
//!
//! ```
//! use choropleth::render::{Feature, Fill, PngEncoder, Rgba, TileRenderer, TileSize, TileStyle};
//! use geo_types::{polygon, MultiPolygon};
//! let square = MultiPolygon(vec![polygon![
//!     (x: 0.0, y: 0.0), (x: 50.0, y: 0.0), (x: 50.0, y: 50.0), (x: 0.0, y: 50.0)]]);
//! let f = Feature { geometry: &square, fill: Fill::Solid(Rgba(0xb3, 0, 0, 255)), highlight: true };
//! let bounds = tile_math::Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 100.0 };
//! let mut renderer = TileRenderer::new(TileSize::Standard);
//! let mut encoder = PngEncoder::new();
//! let raster = renderer.render(bounds, [f], &TileStyle::for_zoom(9))?;
//! let png = encoder.encode_raster(&raster, TileSize::Standard)?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The style vocabulary: colours, fills, features, outlines, tile style and size.
mod style;

/// The tile window: bounds checked, metres to pixels, rings clipped into pixel paths.
mod clip;

/// Coverage from geometry instead of pixels: empty and flat tiles, sub-pixel districts.
mod coverage;

/// Filling paths: exact-area coverage, accumulated and blended into the pixmap in one pass.
mod fill;

/// Outlines at most a pixel wide: Wu lines united in a coverage mask, blended once.
mod hairline;

/// The renderer: fills, no-data hatch, outlines and highlights into a reused pixmap.
mod raster;

/// PNG encoding of a rendered tile (fdeflate, indexed when the colours fit).
pub mod encode;

pub use clip::RenderError;
pub use encode::{EncodeError, PngEncoder, empty_tile_png, encode_png, flat_tile_png};
pub use raster::{TileRaster, TileRenderer, no_data_pattern_png, render_tile};
pub use style::{Feature, Fill, Outline, Rgba, TileSize, TileStyle, outline_width_for_zoom};
