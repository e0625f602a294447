//! Choropleth maps: classification, palettes, legends and rendering. Knows nothing of files:
//! geometry arrives as an iterator of Web Mercator polygons.

/// Class breaks from indicator values (quantile, equal interval, Fisher-Jenks, std dev, manual).
pub mod classify;

/// Class colours: ColorBrewer and matplotlib palettes, direction, no-data style, bivariate.
pub mod palette;

/// Legends: class labels, colours, counts and credit as JSON, SVG or PNG (embedded font).
pub mod legend;

/// Tile rendering: Web Mercator multipolygons to anti-aliased PNG tiles (exact-area
/// accumulated fills, Wu hairlines, tiny-skia for wider lines, fdeflate).
pub mod render;

/// Static maps for reports: title, legend, credit, labels and London inset, as SVG or PNG.
pub mod figure;

pub use legend::escape_xml;
