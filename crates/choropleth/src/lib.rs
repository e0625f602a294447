//! Choropleth maps: classification, palettes, legends and rendering. Knows nothing of files:
//! geometry arrives as an iterator of Web Mercator polygons.
/// Tile rendering: Web Mercator multipolygons to anti-aliased PNG tiles (tiny-skia, fdeflate).
pub mod render;

/// Class breaks from indicator values (quantile, equal interval, Fisher-Jenks, std dev, manual).
pub mod classify;
