//! Choropleth maps: classification, palettes, legends and rendering. Knows nothing of files:
//! geometry arrives as an iterator of Web Mercator polygons.
