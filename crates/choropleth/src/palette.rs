//! Colour palettes for classes: ColorBrewer sequential and diverging schemes (the exact
//! ColorBrewer k-class colours, from the `colorous` crate), the matplotlib perceptual gradients
//! (viridis, cividis, magma, inferno, plasma; sampled evenly), the no-data style and a 3x3
//! bivariate palette.
//!
//! Direction: on our maps *worse is darker / redder*. [`Palette::for_indicator`](crate::palette::Palette::for_indicator) reverses a
//! palette when needed so that this holds whichever way an indicator runs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An opaque sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Rgb {
    /// A colour from its components.
    pub const fn new(r: u8, g: u8, b: u8) -> Rgb {
        Rgb { r, g, b }
    }

    /// CIE 1976 colour difference (ΔE*ab, Euclidean distance in CIELAB under D65) to `other`:
    /// about 2.3 is just noticeable, above 10 clearly distinct. Written here because it is ten
    /// lines of standard formulas (sRGB to XYZ to Lab), not worth a colour-science crate.
    ///
    /// ```
    /// use choropleth::palette::Rgb;
    /// let white = Rgb::new(255, 255, 255);
    /// assert!(white.delta_e76(white) < 1e-9);
    /// assert!((white.delta_e76(Rgb::new(0, 0, 0)) - 100.0).abs() < 0.01);
    /// ```
    pub fn delta_e76(self, other: Rgb) -> f64 {
        let (a, b) = (self.lab(), other.lab());
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    /// CIELAB (D65) of the colour.
    fn lab(self) -> [f64; 3] {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = (lin(self.r), lin(self.g), lin(self.b));
        let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
        let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
        let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
        let f = |t: f64| {
            if t > 216.0 / 24_389.0 {
                t.cbrt()
            } else {
                (24_389.0 / 27.0 * t + 16.0) / 116.0
            }
        };
        let (fx, fy, fz) = (f(x), f(y), f(z));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    /// A colour from `0xrrggbb`.
    pub const fn from_u32(hex: u32) -> Rgb {
        Rgb::new((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
    }

    /// Parses `#rrggbb` or `rrggbb` (case-insensitive); `None` if malformed.
    ///
    /// ```
    /// use choropleth::palette::Rgb;
    /// assert_eq!(Rgb::from_hex("#FC8D59"), Some(Rgb::new(0xfc, 0x8d, 0x59)));
    /// assert_eq!(Rgb::from_hex("fc8d5"), None);
    /// ```
    pub fn from_hex(s: &str) -> Option<Rgb> {
        let s = s.strip_prefix('#').unwrap_or(s);
        if s.len() != 6 || !s.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).ok();
        Some(Rgb::new(byte(0)?, byte(2)?, byte(4)?))
    }

    /// `#rrggbb`, lower case, as used in SVG, CSS and JSON.
    ///
    /// ```
    /// use choropleth::palette::Rgb;
    /// assert_eq!(Rgb::new(255, 0, 16).to_hex(), "#ff0010");
    /// ```
    pub fn to_hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<colorous::Color> for Rgb {
    fn from(c: colorous::Color) -> Rgb {
        Rgb::new(c.r, c.g, c.b)
    }
}

/// Serialised as `"#rrggbb"`.
impl Serialize for Rgb {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Rgb {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rgb, D::Error> {
        let s = String::deserialize(d)?;
        Rgb::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a #rrggbb colour")))
    }
}

/// What a palette is for, which decides how it is flipped for an indicator's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaletteKind {
    /// Light (low) to dark (high): ColorBrewer sequential and the matplotlib gradients.
    Sequential,
    /// Two hues meeting at a light neutral middle: for values on either side of a midpoint.
    Diverging,
}

/// Why a palette could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum PaletteError {
    /// Unknown palette name.
    #[error("unknown palette {name:?}; valid palettes: {valid}")]
    UnknownPalette { name: String, valid: String },
    /// Palettes have 2 to [`MAX_PALETTE_CLASSES`] classes.
    #[error(
        "palette {name} cannot have {k} classes; the number of classes must be from 2 to {MAX_PALETTE_CLASSES}"
    )]
    ClassCountOutOfRange { name: String, k: usize },
}

/// How a palette's colours are produced from `colorous`.
#[derive(Clone, Copy)]
enum Source {
    /// ColorBrewer: `eval_rational(i, k)` returns the published k-class colour for k in 3..=9
    /// (and the outer two of the 3-class scheme for k = 2).
    Brewer(colorous::Gradient),
    /// A continuous gradient sampled at i / (k - 1).
    Gradient(colorous::Gradient),
}

/// Every palette we offer: name as written in URLs, kind and source.
const PALETTES: &[(&str, PaletteKind, Source)] = {
    use PaletteKind::{Diverging as D, Sequential as S};
    use Source::{Brewer as B, Gradient as G};
    &[
        ("Blues", S, B(colorous::BLUES)),
        ("Greens", S, B(colorous::GREENS)),
        ("Greys", S, B(colorous::GREYS)),
        ("Oranges", S, B(colorous::ORANGES)),
        ("Purples", S, B(colorous::PURPLES)),
        ("Reds", S, B(colorous::REDS)),
        ("BuGn", S, B(colorous::BLUE_GREEN)),
        ("BuPu", S, B(colorous::BLUE_PURPLE)),
        ("GnBu", S, B(colorous::GREEN_BLUE)),
        ("OrRd", S, B(colorous::ORANGE_RED)),
        ("PuBu", S, B(colorous::PURPLE_BLUE)),
        ("PuBuGn", S, B(colorous::PURPLE_BLUE_GREEN)),
        ("PuRd", S, B(colorous::PURPLE_RED)),
        ("RdPu", S, B(colorous::RED_PURPLE)),
        ("YlGn", S, B(colorous::YELLOW_GREEN)),
        ("YlGnBu", S, B(colorous::YELLOW_GREEN_BLUE)),
        ("YlOrBr", S, B(colorous::YELLOW_ORANGE_BROWN)),
        ("YlOrRd", S, B(colorous::YELLOW_ORANGE_RED)),
        ("BrBG", D, B(colorous::BROWN_GREEN)),
        ("PiYG", D, B(colorous::PINK_GREEN)),
        ("PRGn", D, B(colorous::PURPLE_GREEN)),
        ("PuOr", D, B(colorous::PURPLE_ORANGE)),
        ("RdBu", D, B(colorous::RED_BLUE)),
        ("RdGy", D, B(colorous::RED_GREY)),
        ("RdYlBu", D, B(colorous::RED_YELLOW_BLUE)),
        ("RdYlGn", D, B(colorous::RED_YELLOW_GREEN)),
        ("Spectral", D, B(colorous::SPECTRAL)),
        ("viridis", S, G(colorous::VIRIDIS)),
        ("cividis", S, G(colorous::CIVIDIS)),
        ("magma", S, G(colorous::MAGMA)),
        ("inferno", S, G(colorous::INFERNO)),
        ("plasma", S, G(colorous::PLASMA)),
    ]
};

/// Most colours a palette has. Classified maps stop at 9 classes (ColorBrewer's sequential
/// schemes do); an ordinal indicator's map has one class per value, 10 for deciles. Past 9, a
/// ColorBrewer sequential scheme is sampled from its continuous ramp (`colorous`, the
/// d3-scale-chromatic interpolation through the 9-class colours) and a diverging one gives its
/// published 10- or 11-class colours.
pub const MAX_PALETTE_CLASSES: usize = 11;

/// Smallest colour difference (CIE76 ΔE) between a class colour and the white page and sea.
pub const MIN_DELTA_E_BACKGROUND: f64 = 12.0;

/// Smallest colour difference (CIE76 ΔE) between a class colour and the no-data grey (which is
/// hatched as well, so a little closer than to the page is still told apart).
pub const MIN_DELTA_E_NO_DATA: f64 = 8.0;

/// Default sequential palette: ColorBrewer YlOrRd. ColorBrewer rates it colour-blind safe for
/// every class count 3-9, it runs light to dark for a one-directional indicator, and its dark
/// end is red, so "worse = darker and redder" reads at a glance.
pub const DEFAULT_SEQUENTIAL: &str = "YlOrRd";
/// Default diverging palette: ColorBrewer RdBu, colour-blind safe for every class count 3-9
/// (unlike RdYlGn and Spectral); red marks the worse side after [`Palette::for_indicator`].
pub const DEFAULT_DIVERGING: &str = "RdBu";

/// Look of districts with no value: a grey fill with a diagonal hatch, so that no data can
/// never be read as a (pale) class colour. Shared by the tile renderer and the legend swatch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NoDataStyle {
    /// Background grey.
    pub fill: Rgb,
    /// Colour of the hatch lines.
    pub hatch: Rgb,
    /// Distance between hatch lines, px at 256 px per tile (and in legend SVG user units).
    pub hatch_period_px: f32,
    /// Width of the hatch lines in px.
    pub hatch_width_px: f32,
    /// Hatch direction: lines rise at 45 degrees, lower left to upper right.
    pub hatch_angle_deg: f32,
}

/// The no-data grey (`#bdbdbd`), as in the renderer's `TileStyle`.
pub const NO_DATA: Rgb = Rgb::from_u32(0xbdbdbd);

/// The no-data style used on tiles and in legends.
pub const NO_DATA_STYLE: NoDataStyle = NoDataStyle {
    fill: NO_DATA,
    hatch: Rgb::from_u32(0x6e6e6e),
    hatch_period_px: 6.0,
    hatch_width_px: 1.0,
    hatch_angle_deg: 45.0,
};

/// k colours for k classes, lowest class first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Palette {
    /// Canonical name, e.g. `YlOrRd`, `viridis`.
    pub name: String,
    /// Sequential or diverging.
    pub kind: PaletteKind,
    /// Whether the colours run in the opposite order to the published scheme.
    pub reversed: bool,
    colors: Vec<Rgb>,
}

impl Palette {
    /// Every valid palette name, in the order they are listed in errors.
    pub fn names() -> Vec<&'static str> {
        PALETTES.iter().map(|(n, _, _)| *n).collect()
    }

    /// The palette `name` (case-insensitive) with `k` colours (2..=[`MAX_PALETTE_CLASSES`]).
    ///
    /// ColorBrewer schemes give the published k-class colours; the matplotlib gradients are
    /// sampled evenly from end to end.
    ///
    /// ```
    /// use choropleth::palette::{Palette, Rgb};
    /// let p = Palette::from_name("ylgnbu", 5).unwrap();
    /// assert_eq!(p.name, "YlGnBu");
    /// assert_eq!(p.colors()[0], Rgb::from_u32(0xffffcc)); // ColorBrewer YlGnBu 5
    /// assert_eq!(p.colors()[4], Rgb::from_u32(0x253494));
    /// let err = Palette::from_name("jet", 5).unwrap_err().to_string();
    /// assert!(err.contains("viridis"));
    /// ```
    pub fn from_name(name: &str, k: usize) -> Result<Palette, PaletteError> {
        let wanted = name.trim();
        let Some(&(canonical, kind, source)) = PALETTES
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(wanted))
        else {
            return Err(PaletteError::UnknownPalette {
                name: name.to_string(),
                valid: Palette::names().join(", "),
            });
        };
        if !(2..=MAX_PALETTE_CLASSES).contains(&k) {
            return Err(PaletteError::ClassCountOutOfRange {
                name: canonical.to_string(),
                k,
            });
        }
        let mut colors: Vec<Rgb> = match source {
            Source::Brewer(g) => (0..k).map(|i| g.eval_rational(i, k).into()).collect(),
            Source::Gradient(g) => (0..k)
                .map(|i| g.eval_continuous(i as f64 / (k - 1) as f64).into())
                .collect(),
        };
        // A sequential scheme's lightest class can be all but white (PuBuGn, Blues): districts
        // in it vanish into the page and the sea. Then take the k darkest of the k + 1 class
        // scheme instead.
        // Then take the k darkest classes of a larger published scheme (up to 9 classes), or
        // past that, k colours sampled from the first clearly visible point of the ramp.
        let white = Rgb::new(255, 255, 255);
        let visible = |c: &Rgb| c.delta_e76(white) >= MIN_DELTA_E_BACKGROUND;
        if let (PaletteKind::Sequential, Source::Brewer(g)) = (kind, source)
            && !visible(&colors[0])
        {
            let larger = (k + 1..=9)
                .map(|n| {
                    (n - k..n)
                        .map(|i| Rgb::from(g.eval_rational(i, n)))
                        .collect::<Vec<_>>()
                })
                .find(|c: &Vec<Rgb>| visible(&c[0]));
            colors = larger.unwrap_or_else(|| {
                let start = (0..50)
                    .map(|i| f64::from(i) / 50.0)
                    .find(|&t| visible(&g.eval_continuous(t).into()))
                    .unwrap_or(0.3);
                (0..k)
                    .map(|i| {
                        let t = start + (1.0 - start) * i as f64 / (k - 1) as f64;
                        g.eval_continuous(t).into()
                    })
                    .collect()
            });
        }
        Ok(Palette {
            name: canonical.to_string(),
            kind,
            reversed: false,
            colors,
        })
    }

    /// A diverging palette for `below` classes under the midpoint and `above` over it, when the
    /// two sides have different numbers of classes: both sides are cut from the same
    /// `2 * max(below, above)` class scheme around its neutral middle, so a class as far from
    /// the midpoint gets as strong a colour on either side (the short side simply stops
    /// earlier). `reversed` swaps the hues of the two sides. `None` when `name` is not a
    /// diverging palette.
    ///
    /// ```
    /// use choropleth::palette::Palette;
    /// let p = Palette::diverging_split("RdBu", 1, 4, false).unwrap().unwrap();
    /// let eight = Palette::from_name("RdBu", 8).unwrap().colors();
    /// assert_eq!(p.colors(), eight[3..8].to_vec());
    /// assert!(Palette::diverging_split("YlOrRd", 1, 4, false).unwrap().is_none());
    /// ```
    pub fn diverging_split(
        name: &str,
        below: usize,
        above: usize,
        reversed: bool,
    ) -> Result<Option<Palette>, PaletteError> {
        let wanted = name.trim();
        let Some(&(canonical, kind, source)) = PALETTES
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(wanted))
        else {
            return Err(PaletteError::UnknownPalette {
                name: name.to_string(),
                valid: Palette::names().join(", "),
            });
        };
        if kind != PaletteKind::Diverging {
            return Ok(None);
        }
        if below == 0 || above == 0 || below + above > MAX_PALETTE_CLASSES {
            return Err(PaletteError::ClassCountOutOfRange {
                name: canonical.to_string(),
                k: below + above,
            });
        }
        let half = below.max(above);
        let sample = |n: usize| -> Vec<Rgb> {
            match source {
                // ColorBrewer publishes diverging schemes up to 11 classes.
                Source::Brewer(g) if n <= 11 => {
                    (0..n).map(|i| g.eval_rational(i, n).into()).collect()
                }
                Source::Brewer(g) | Source::Gradient(g) => (0..n)
                    .map(|i| g.eval_continuous(i as f64 / (n - 1) as f64).into())
                    .collect(),
            }
        };
        // The classes next to the midpoint are the palette's lightest; when they are all but
        // white, skip the innermost colours of a larger scheme on each side.
        let white = Rgb::new(255, 255, 255);
        let cut = |skip: usize| {
            let n = 2 * (half + skip);
            let mut all = sample(n);
            if reversed {
                all.reverse();
            }
            let mid = n / 2;
            let mut c: Vec<Rgb> = all[mid - skip - below..mid - skip].to_vec();
            c.extend_from_slice(&all[mid + skip..mid + skip + above]);
            c
        };
        let colors = (0..=4)
            .map(cut)
            .find(|c| {
                c.iter()
                    .all(|x| x.delta_e76(white) >= MIN_DELTA_E_BACKGROUND)
            })
            .unwrap_or_else(|| cut(4));
        Ok(Some(Palette {
            name: canonical.to_string(),
            kind,
            reversed,
            colors,
        }))
    }

    /// The palette for an indicator, oriented so that **worse is darker / redder**.
    ///
    /// `name` `None` picks [`DEFAULT_SEQUENTIAL`]. A sequential palette runs light to dark, so it
    /// is reversed when higher is *better* (low values, the worse ones, become dark). A diverging
    /// palette is reversed when higher is *worse*, so that the hue the published scheme starts
    /// with (red for the Rd… schemes and Spectral, brown for BrBG, pink for PiYG, purple for
    /// PRGn, orange for PuOr) marks the worse side. Apply a user's `reverse=` with
    /// [`Palette::reverse`] afterwards.
    ///
    /// ```
    /// use choropleth::palette::{Palette, Rgb};
    /// // IMD score: higher is worse, so the highest class gets the darkest red.
    /// let imd = Palette::for_indicator(None, 5, true).unwrap();
    /// assert_eq!(imd.colors()[4], Rgb::from_u32(0xbd0026));
    /// // Median pay: higher is better, so the lowest class is the darkest.
    /// let pay = Palette::for_indicator(None, 5, false).unwrap();
    /// assert_eq!(pay.colors()[0], Rgb::from_u32(0xbd0026));
    /// ```
    pub fn for_indicator(
        name: Option<&str>,
        k: usize,
        higher_is_worse: bool,
    ) -> Result<Palette, PaletteError> {
        let p = Palette::from_name(name.unwrap_or(DEFAULT_SEQUENTIAL), k)?;
        let flip = match p.kind {
            PaletteKind::Sequential => !higher_is_worse,
            PaletteKind::Diverging => higher_is_worse,
        };
        Ok(if flip { p.reverse() } else { p })
    }

    /// The same colours in the opposite order.
    ///
    /// ```
    /// use choropleth::palette::Palette;
    /// let p = Palette::from_name("Blues", 3).unwrap();
    /// let r = p.clone().reverse();
    /// assert!(r.reversed);
    /// assert_eq!(r.colors()[0], p.colors()[2]);
    /// ```
    pub fn reverse(mut self) -> Palette {
        self.colors.reverse();
        self.reversed = !self.reversed;
        self
    }

    /// The colours, lowest class first (one per class).
    pub fn colors(&self) -> Vec<Rgb> {
        self.colors.clone()
    }

    /// Colour of class `i`, `None` if out of range.
    pub fn color(&self, i: usize) -> Option<Rgb> {
        self.colors.get(i).copied()
    }

    /// Number of colours.
    pub fn len(&self) -> usize {
        self.colors.len()
    }

    /// Never true for a palette made by [`Palette::from_name`] (k >= 2); here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.colors.is_empty()
    }
}

/// A 3x3 bivariate palette for mapping two indicators at once (terciles of each):
/// `bivariate_3x3()[a][b]`, with `a` the class of the first indicator (0 low .. 2 high, towards
/// blue) and `b` that of the second (towards pink / red); `[2][2]`, both high, is the darkest.
///
/// Source: Joshua Stevens, "Bivariate Choropleth Maps: A How-to Guide" (2015),
/// <https://www.joshuastevens.net/cartography/make-a-bivariate-choropleth-map/>, the blue-pink
/// scheme as listed (as "RdBu", indexed `colors[a * 3 + b]`) in D3's bivariate choropleth
/// example, <https://observablehq.com/@d3/bivariate-choropleth>.
///
/// ```
/// use choropleth::palette::{bivariate_3x3, Rgb};
/// let p = bivariate_3x3();
/// assert_eq!(p[0][0], Rgb::from_u32(0xe8e8e8)); // both low
/// assert_eq!(p[2][2], Rgb::from_u32(0x574249)); // both high
/// ```
pub fn bivariate_3x3() -> [[Rgb; 3]; 3] {
    let c = Rgb::from_u32;
    [
        [c(0xe8e8e8), c(0xe4acac), c(0xc85a5a)],
        [c(0xb0d5df), c(0xad9ea5), c(0x985356)],
        [c(0x64acbe), c(0x627f8c), c(0x574249)],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_palette_gives_k_distinct_colours_for_every_k() {
        for name in Palette::names() {
            for k in 2..=MAX_PALETTE_CLASSES {
                let p = Palette::from_name(name, k).expect("valid palette");
                assert_eq!(p.len(), k, "{name} {k}");
                let mut c = p.colors();
                c.dedup();
                assert_eq!(c.len(), k, "{name} {k}: repeated colours");
            }
        }
    }

    #[test]
    fn class_count_and_name_errors() {
        assert!(matches!(
            Palette::from_name("Blues", 12),
            Err(PaletteError::ClassCountOutOfRange { k: 12, .. })
        ));
        assert!(Palette::from_name("Blues", 1).is_err());
        let e = Palette::from_name("rainbow", 5)
            .expect_err("must fail")
            .to_string();
        for name in Palette::names() {
            assert!(e.contains(name), "{e} lacks {name}");
        }
    }

    #[test]
    fn diverging_for_indicator_puts_red_on_the_worse_side() {
        // RdBu starts red. Higher is worse: the highest class must be red.
        let p = Palette::for_indicator(Some("RdBu"), 5, true).expect("valid palette");
        assert_eq!(p.colors()[4], Rgb::from_u32(0xca0020));
        let p = Palette::for_indicator(Some("RdBu"), 5, false).expect("valid palette");
        assert_eq!(p.colors()[0], Rgb::from_u32(0xca0020));
        // Odd k keeps the neutral ColorBrewer middle in the middle class.
        assert_eq!(p.colors()[2], Rgb::from_u32(0xf7f7f7));
    }

    #[test]
    fn gradients_sample_both_ends() {
        let p = Palette::from_name("viridis", 3).expect("valid palette");
        assert_eq!(p.colors()[0], Rgb::from_u32(0x440154));
        assert_eq!(p.colors()[2], Rgb::from_u32(0xfde725));
    }

    #[test]
    fn rgb_serialises_as_hex() {
        let json = serde_json::to_string(&Rgb::from_u32(0x0a0b0c)).expect("valid palette");
        assert_eq!(json, "\"#0a0b0c\"");
        let back: Rgb = serde_json::from_str(&json).expect("valid palette");
        assert_eq!(back, Rgb::from_u32(0x0a0b0c));
        assert!(serde_json::from_str::<Rgb>("\"red\"").is_err());
    }
}
