//! The style vocabulary of a tile: colours, fills, features, outlines, the tile style and size.

use geo_types::MultiPolygon;
use tiny_skia::Color;

/// A straight (not premultiplied) sRGB colour with alpha, as written in a style (`#fc8d59`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    /// Fully transparent: what a tile shows outside every district.
    pub const TRANSPARENT: Rgba = Rgba(0, 0, 0, 0);
    /// Opaque white, the usual outline colour.
    pub const WHITE: Rgba = Rgba(255, 255, 255, 255);

    /// `#rrggbb` (alpha left out), as CSS, SVG and MapLibre styles write colours.
    ///
    /// ```
    /// use choropleth::render::Rgba;
    /// assert_eq!(Rgba(0xfc, 0x8d, 0x59, 0x80).to_hex(), "#fc8d59");
    /// ```
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Parses `#rrggbb` or `#rrggbbaa` (the `#` is optional); `None` if it is not that.
    ///
    /// ```
    /// use choropleth::render::Rgba;
    /// assert_eq!(Rgba::from_hex("#fc8d59"), Some(Rgba(0xfc, 0x8d, 0x59, 255)));
    /// assert_eq!(Rgba::from_hex("fc8d5980"), Some(Rgba(0xfc, 0x8d, 0x59, 0x80)));
    /// assert_eq!(Rgba::from_hex("#fc8d5"), None);
    /// ```
    pub fn from_hex(hex: &str) -> Option<Rgba> {
        let h = hex.strip_prefix('#').unwrap_or(hex);
        if !(h.len() == 6 || h.len() == 8) || !h.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        let a = if h.len() == 8 { byte(6)? } else { 255 };
        Some(Rgba(byte(0)?, byte(2)?, byte(4)?, a))
    }

    pub(super) fn to_color(self) -> Color {
        Color::from_rgba8(self.0, self.1, self.2, self.3)
    }
}

/// How a district is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The colour of the district's class.
    Solid(Rgba),
    /// No value for this district: the style's no-data grey with a diagonal hatch, so it can never
    /// be mistaken for a class colour (nor for a pale class colour such as OrRd's first).
    NoData,
}

/// One district to draw: its Web Mercator (EPSG:3857, metres) geometry and how to paint it.
#[derive(Clone, Copy, Debug)]
pub struct Feature<'a> {
    /// Geometry in Web Mercator metres (the districts crate's `Mercator` wraps exactly this).
    pub geometry: &'a MultiPolygon<f64>,
    /// Fill of the district.
    pub fill: Fill,
    /// Whether the district is outlined with the style's highlight (e.g. the selected district).
    pub highlight: bool,
}

/// A line colour and width, in pixels of a 256 px tile (doubled on a 512 px tile).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outline {
    /// Line colour.
    pub colour: Rgba,
    /// Line width in pixels at 256 px per tile.
    pub width_px: f32,
}

/// Everything about a tile's look that is not per district.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TileStyle {
    /// Boundary line drawn around every district, `None` for none.
    pub outline: Option<Outline>,
    /// Line drawn around highlighted districts, on top of everything else.
    pub highlight: Outline,
    /// Background of the no-data fill.
    pub no_data: Rgba,
    /// Hatch lines of the no-data fill.
    pub no_data_hatch: Rgba,
}

impl TileStyle {
    /// The house style at zoom `z`: thin white outlines as wide as [`outline_width_for_zoom`], a
    /// dark 2.5 px highlight (never thinner than twice the outline), mid grey no-data with darker hatch.
    ///
    /// ```
    /// use choropleth::render::TileStyle;
    /// let s = TileStyle::for_zoom(10);
    /// assert!(s.highlight.width_px > s.outline.unwrap().width_px);
    /// ```
    pub fn for_zoom(z: u8) -> TileStyle {
        let w = outline_width_for_zoom(z);
        TileStyle {
            outline: Some(Outline {
                colour: Rgba::WHITE,
                width_px: w,
            }),
            highlight: Outline {
                colour: Rgba(0x1a, 0x1a, 0x1a, 255),
                width_px: (2.0 * w).max(2.5),
            },
            no_data: Rgba(0xbd, 0xbd, 0xbd, 255),
            no_data_hatch: Rgba(0x6e, 0x6e, 0x6e, 255),
        }
    }
}

/// Outline width (px at 256 px per tile) that suits zoom `z`: hairlines when a tile holds many
/// districts, up to 1 px when a district spans several tiles.
///
/// ```
/// use choropleth::render::outline_width_for_zoom;
/// assert_eq!(outline_width_for_zoom(0), 0.3);
/// assert_eq!(outline_width_for_zoom(12), 1.0);
/// assert!(outline_width_for_zoom(7) > outline_width_for_zoom(4));
/// ```
pub fn outline_width_for_zoom(z: u8) -> f32 {
    match z {
        0..=4 => 0.3,
        // A straight ramp from 0.3 px at z4 to 1 px at z12.
        5..=11 => 0.3 + 0.7 * f32::from(z - 4) / 8.0,
        _ => 1.0,
    }
}

/// Pixel size of a tile: 256 px, or 512 px for high-density (@2x) screens showing the same bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileSize {
    /// 256 × 256 px.
    Standard,
    /// 512 × 512 px, the same bounds at scale 2 (line widths double too).
    Retina,
}

impl TileSize {
    /// Width (= height) in pixels.
    pub fn px(self) -> u32 {
        match self {
            TileSize::Standard => 256,
            TileSize::Retina => 512,
        }
    }

    /// Scale relative to a 256 px tile.
    pub fn scale(self) -> f32 {
        match self {
            TileSize::Standard => 1.0,
            TileSize::Retina => 2.0,
        }
    }
}
