//! Publication-ready static maps ("figures") for reports: a choropleth of Web Mercator districts
//! with title, subtitle, legend, wrapped credit line, labels of highlighted districts and an
//! optional London inset, written as a standalone SVG or a PNG. Knows nothing of files or HTTP:
//! the caller hands over districts (geometry, fill, label, flags), the extent and a [`Legend`](crate::legend::Legend).
//!
//! Pipeline: [`Figure::new`](crate::figure::Figure::new) validates the size, lays the page out (`layout`: text is measured
//! with the shipped DejaVu Sans metrics, the map is fitted north-up into its box, outline width is
//! chosen from the size of the districts in view) and culls districts outside the frame; then
//! [`Figure::to_svg`](crate::figure::Figure::to_svg) writes everything as SVG (`svg`), and [`Figure::to_png`](crate::figure::Figure::to_png) draws the polygons
//! directly with tiny-skia and only the text, legend and frames through resvg (`raster`), which
//! keeps a 32,844-LSOA map fast.
//!
//! ```
//! use choropleth::classify::{classify, Scheme};
//! use choropleth::figure::{Figure, FigureOptions, MapDistrict};
//! use choropleth::legend::{Legend, LegendMeta};
//! use choropleth::palette::Palette;
//! use choropleth::render::{Fill, Rgba};
//! use geo_types::{polygon, MultiPolygon};
//!
//! let west = MultiPolygon(vec![polygon![
//!     (x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)]]);
//! let east = MultiPolygon(vec![polygon![
//!     (x: 1000.0, y: 0.0), (x: 2000.0, y: 0.0), (x: 2000.0, y: 1000.0), (x: 1000.0, y: 1000.0)]]);
//! let c = classify(&[Some(1.0), Some(2.0)], &Scheme::EqualInterval, 2)?;
//! let p = Palette::from_name("Blues", 2)?;
//! let legend = Legend::new(&c, &p, LegendMeta::default())?;
//! let colour = |i: usize| {
//!     let c = p.colors()[i];
//!     Fill::Solid(Rgba(c.r, c.g, c.b, 255))
//! };
//! let districts = [
//!     MapDistrict { geometry: &west, fill: colour(0), label: None, highlight: false, in_london: false },
//!     MapDistrict { geometry: &east, fill: colour(1), label: Some("East"), highlight: true, in_london: false },
//! ];
//! let extent = tile_math::Bounds { min_x: 0.0, min_y: 0.0, max_x: 2000.0, max_y: 1000.0 };
//! let options = FigureOptions { title: "Two squares".into(), ..FigureOptions::default() };
//! let figure = Figure::new(districts, extent, &legend, options)?;
//! let svg = figure.to_svg();
//! assert!(svg.contains(">Two squares</text>") && svg.contains(">East</text>"));
//! let png = figure.to_png()?;
//! assert_eq!(&png[1..4], b"PNG");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod layout;
mod raster;
mod svg;

use geo::{BoundingRect, InteriorPoint};
use geo_types::MultiPolygon;
use thiserror::Error;
use tile_math::Bounds;

use crate::legend::Legend;
pub use crate::render::{Fill, Rgba};
pub use layout::MIN_TEXT_PX;
pub use raster::STRIP_PIXELS;

use layout::{Layout, MapView};

/// Largest width or height of a figure in output pixels (after `scale`): beyond this a PNG would
/// take hundreds of megabytes, which no report needs.
pub const MAX_FIGURE_PX: u32 = 10_000;
/// Smallest width or height of a figure in SVG units: below this title, legend and credit leave
/// no room for the map.
pub const MIN_FIGURE_PX: u32 = 200;
/// Largest print scale factor accepted (3 already gives 300 dpi from a 100 dpi layout).
pub const MAX_SCALE: f32 = 8.0;

/// Why a figure cannot be made.
#[derive(Debug, Error)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum FigureError {
    /// Width, height or scale out of range.
    #[error(
        "figure size {width}x{height} px at scale {scale} is out of range: width and height must be \
         {MIN_FIGURE_PX}..={MAX_FIGURE_PX}, scale above 0 and at most {MAX_SCALE}, and the PNG \
         (size times scale) at most {MAX_FIGURE_PX} px on each side"
    )]
    Size { width: u32, height: u32, scale: f32 },
    /// The extent is not a finite box with positive width and height.
    #[error(
        "map extent ({min_x}, {min_y}, {max_x}, {max_y}) is not a finite Web Mercator box with positive width and height"
    )]
    Extent {
        min_x: f64,
        min_y: f64,
        max_x: f64,
        max_y: f64,
    },
    /// `fit_extent` was asked for a margin that leaves no room.
    #[error("a margin of {margin} px leaves no room in a {width}x{height} px box")]
    Margin {
        width: f64,
        height: f64,
        margin: f64,
    },
    /// Title, legend and credit leave too little room for the map.
    #[error(
        "title, legend and credit leave only {width:.0}x{height:.0} px for the map; make the figure larger or the texts shorter"
    )]
    NoRoomForMap { width: f64, height: f64 },
    /// Our own SVG overlay did not parse (a bug, reported rather than panicking).
    #[error("figure SVG could not be parsed: {0}")]
    Svg(#[from] resvg::usvg::Error),
    /// The pixmap could not be allocated.
    #[error("cannot allocate a {width}x{height} figure image")]
    Pixmap { width: u32, height: u32 },
    /// PNG encoding failed.
    #[error("figure PNG encoding failed: {0}")]
    Png(#[from] crate::render::EncodeError),
    /// The caller asked the drawing to stop (its client went away or its deadline passed).
    #[error("drawing the figure was stopped before it finished")]
    Cancelled,
}

/// One district to draw: Web Mercator geometry, fill, and how it stands out.
#[derive(Clone, Copy, Debug)]
pub struct MapDistrict<'a> {
    /// Geometry in Web Mercator (EPSG:3857) metres; rings filled with the even-odd rule.
    pub geometry: &'a MultiPolygon<f64>,
    /// Class colour, or no data (grey with a hatch).
    pub fill: Fill,
    /// Name drawn on the map (with a white halo, at an interior point); usually only given for
    /// highlighted districts, to keep the map readable.
    pub label: Option<&'a str>,
    /// Drawn with a thick dark outline on top of everything else.
    pub highlight: bool,
    /// Part of London: drawn again, larger, in the London inset.
    pub in_london: bool,
}

/// Corner of the map box that holds the London inset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InsetCorner {
    /// Top right: the North Sea on a map of England.
    #[default]
    TopRight,
    /// Top left.
    TopLeft,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

/// District boundary lines.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum OutlineStyle {
    /// Thin white lines as wide as suits the size of the districts in view: none when the
    /// typical district is only a few pixels across (England's LSOAs), a hairline for small
    /// districts, up to 1 px for large ones.
    #[default]
    Auto,
    /// No boundary lines.
    None,
    /// This colour and width (SVG px).
    Fixed {
        /// Line colour.
        colour: Rgba,
        /// Line width in SVG px (times `scale` in the PNG).
        width_px: f32,
    },
}

/// Size, texts and look of a figure.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureOptions {
    /// Width in SVG px (the PNG is `width * scale` pixels wide).
    pub width: u32,
    /// Height in SVG px.
    pub height: u32,
    /// Print scale factor of the PNG: 2 or 3 for 200 or 300 dpi prints of a 100 dpi layout.
    pub scale: f32,
    /// Title, top left, bold.
    pub title: String,
    /// Subtitle under the title (period, scope); empty for none.
    pub subtitle: String,
    /// Source and licence text, at the bottom, wrapped over as many lines as it needs.
    pub credit: String,
    /// What the map shows in words, for readers who cannot see it (the SVG's `<desc>`);
    /// empty for none.
    pub description: String,
    /// Heading of the legend; `None` uses the legend's unit (or "Classes" without one).
    pub legend_title: Option<String>,
    /// Draw London again, larger, in this corner of the map, when London districts are in view
    /// and the inset shows them at least 1.5 times larger than the main map does.
    pub london_inset: Option<InsetCorner>,
    /// District boundary lines.
    pub outline: OutlineStyle,
    /// A thin grey frame around the map.
    pub frame: bool,
}

impl Default for FigureOptions {
    /// 800 x 900 px, scale 1, no texts, no inset, automatic outlines, framed.
    fn default() -> FigureOptions {
        FigureOptions {
            width: 800,
            height: 900,
            scale: 1.0,
            title: String::new(),
            subtitle: String::new(),
            credit: String::new(),
            description: String::new(),
            legend_title: None,
            london_inset: None,
            outline: OutlineStyle::Auto,
            frame: true,
        }
    }
}

/// A rectangle in SVG px (multiply by `scale` for PNG pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Rect {
    /// Whether the point lies inside (edges included).
    ///
    /// ```
    /// use choropleth::figure::Rect;
    /// let r = Rect { x: 10.0, y: 10.0, width: 5.0, height: 5.0 };
    /// assert!(r.contains(12.0, 15.0) && !r.contains(9.0, 12.0));
    /// ```
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.x + self.width && y >= self.y && y <= self.y + self.height
    }
}

/// A district kept for drawing: in view, with its label position.
#[derive(Clone, Debug)]
struct Prepared<'a> {
    district: MapDistrict<'a>,
    /// Index of the district in the caller's order.
    index: usize,
    /// Interior point (Mercator) for the label.
    label_at: Option<(f64, f64)>,
}

/// A laid-out static map, ready to be written as SVG or PNG.
#[derive(Debug)]
pub struct Figure<'a> {
    districts: Vec<Prepared<'a>>,
    legend: &'a Legend,
    options: FigureOptions,
    layout: Layout,
    main: MapView,
    /// The London inset's view and the London box on the main map, when drawn.
    inset: Option<(MapView, Bounds)>,
    /// Outline colour and width in SVG px, `None` for none.
    outline: Option<(Rgba, f32)>,
}

impl<'a> Figure<'a> {
    /// Lays out a figure of `districts` showing `extent` (Web Mercator metres; fitted north-up
    /// and centred into the map box, so the whole extent is always visible). Districts wholly
    /// outside the visible map are dropped; the rest are drawn in the given order.
    ///
    /// Fails on a size out of range (see [`FigureError::Size`]), an empty or non-finite extent,
    /// or texts that leave no room for the map.
    ///
    /// ```
    /// use choropleth::figure::{Figure, FigureError, FigureOptions};
    /// # use choropleth::classify::{classify, Scheme};
    /// # use choropleth::legend::{Legend, LegendMeta};
    /// # use choropleth::palette::Palette;
    /// # let c = classify(&[Some(1.0), Some(2.0)], &Scheme::EqualInterval, 2).unwrap();
    /// # let legend = Legend::new(&c, &Palette::from_name("Blues", 2).unwrap(), LegendMeta::default()).unwrap();
    /// let extent = tile_math::Bounds { min_x: 0.0, min_y: 0.0, max_x: 10.0, max_y: 10.0 };
    /// let too_wide = FigureOptions { width: 20_000, ..FigureOptions::default() };
    /// assert!(matches!(Figure::new([], extent, &legend, too_wide), Err(FigureError::Size { .. })));
    /// let zero = FigureOptions { width: 0, ..FigureOptions::default() };
    /// assert!(Figure::new([], extent, &legend, zero).is_err());
    /// ```
    pub fn new<I>(
        districts: I,
        extent: Bounds,
        legend: &'a Legend,
        options: FigureOptions,
    ) -> Result<Figure<'a>, FigureError>
    where
        I: IntoIterator<Item = MapDistrict<'a>>,
    {
        validate_size(&options)?;
        validate_extent(&extent)?;
        let layout = Layout::new(&options, legend)?;
        let main = MapView::fit(extent, layout.map_inner).with_clip(layout.map);
        let visible = main.visible();

        let mut kept = Vec::new();
        let mut london: Option<Bounds> = None;
        let mut sizes_px = Vec::new();
        for (index, district) in districts.into_iter().enumerate() {
            let Some(r) = district.geometry.bounding_rect() else {
                continue;
            };
            let b = Bounds {
                min_x: r.min().x,
                min_y: r.min().y,
                max_x: r.max().x,
                max_y: r.max().y,
            };
            if !b.intersects(&visible) {
                continue;
            }
            if district.in_london {
                london = Some(match london {
                    Some(l) => union(l, b),
                    None => b,
                });
            }
            sizes_px.push((b.width() * b.height()).sqrt() * main.scale);
            let label_at = district
                .label
                .filter(|l| !l.trim().is_empty())
                .and_then(|_| district.geometry.interior_point())
                .map(|p| (p.x(), p.y()));
            kept.push(Prepared {
                district,
                index,
                label_at,
            });
        }

        let outline = match options.outline {
            OutlineStyle::None => None,
            OutlineStyle::Fixed { colour, width_px } => {
                (width_px.is_finite() && width_px > 0.0).then_some((colour, width_px))
            }
            OutlineStyle::Auto => auto_outline_width(&mut sizes_px).map(|w| (Rgba::WHITE, w)),
        };

        let inset = match (options.london_inset, london) {
            (Some(corner), Some(l)) if l.width() > 0.0 && l.height() > 0.0 => {
                let rect = layout.inset_rect(corner, l.width() / l.height());
                let view = MapView::fit(l, layout::inset_content(rect, layout.unit));
                // Only worth a box if it shows London clearly larger than the main map does.
                (view.scale >= 1.5 * main.scale).then_some((view, l, rect))
            }
            _ => None,
        };
        let mut layout = layout;
        layout.inset = inset.map(|(_, _, r)| r);
        Ok(Figure {
            districts: kept,
            legend,
            options,
            layout,
            main,
            inset: inset.map(|(v, l, _)| (v, l)),
            outline,
        })
    }

    /// Number of districts drawn on the main map (those reaching the visible extent).
    pub fn districts_in_view(&self) -> usize {
        self.districts.len()
    }

    /// Indices (in the caller's order) of the districts drawn on the main map.
    pub fn district_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.districts.iter().map(|d| d.index)
    }

    /// Where a Web Mercator point lands on the figure, in SVG px (times `scale` for PNG pixels).
    ///
    /// ```
    /// # use choropleth::classify::{classify, Scheme};
    /// # use choropleth::legend::{Legend, LegendMeta};
    /// # use choropleth::palette::Palette;
    /// use choropleth::figure::{Figure, FigureOptions};
    /// # let c = classify(&[Some(1.0), Some(2.0)], &Scheme::EqualInterval, 2).unwrap();
    /// # let legend = Legend::new(&c, &Palette::from_name("Blues", 2).unwrap(), LegendMeta::default()).unwrap();
    /// let extent = tile_math::Bounds { min_x: 0.0, min_y: 0.0, max_x: 10.0, max_y: 10.0 };
    /// let f = Figure::new([], extent, &legend, FigureOptions::default())?;
    /// let (x, y) = f.to_figure_px(5.0, 5.0);
    /// assert!(f.map_rect().contains(x, y));
    /// let (_, top) = f.to_figure_px(5.0, 10.0);
    /// assert!(top < y); // north is up
    /// # Ok::<(), choropleth::figure::FigureError>(())
    /// ```
    pub fn to_figure_px(&self, x: f64, y: f64) -> (f64, f64) {
        self.main.project(x, y)
    }

    /// The map box (inside the frame), in SVG px.
    pub fn map_rect(&self) -> Rect {
        self.layout.map
    }

    /// The London inset box, in SVG px, when the inset is drawn.
    pub fn inset_rect(&self) -> Option<Rect> {
        self.layout.inset
    }

    /// The legend box, in SVG px.
    pub fn legend_rect(&self) -> Rect {
        self.layout.legend_box
    }

    /// Boundary line colour and width (SVG px) chosen for this figure; `None` for no lines.
    pub fn outline(&self) -> Option<(Rgba, f32)> {
        self.outline
    }

    /// Size of the PNG in pixels: the SVG size times `scale`, rounded.
    pub fn png_size(&self) -> (u32, u32) {
        png_size(&self.options)
    }

    /// The figure as a standalone SVG document: polygons as `<path fill-rule="evenodd">` (one per
    /// district in view, plus one per London district in the inset), no data hatched with a
    /// `<pattern>`, all text as `<text>` in DejaVu Sans, coordinates rounded to 0.1 px.
    pub fn to_svg(&self) -> String {
        // A flag that never trips: `write` always finishes, so `None` cannot come.
        svg::write(self, svg::Part::Everything, &|| false).unwrap_or_default()
    }

    /// [`Figure::to_svg`] that stops with [`FigureError::Cancelled`] soon after `cancelled()`
    /// turns true (looked at every 256 district paths): the SVG of the 32,844 LSOAs is tens of
    /// megabytes, and a server must not finish one for a client that has gone.
    pub fn to_svg_cancellable(&self, cancelled: &dyn Fn() -> bool) -> Result<String, FigureError> {
        svg::write(self, svg::Part::Everything, cancelled).ok_or(FigureError::Cancelled)
    }

    /// The figure as a PNG of [`Figure::png_size`]: polygons drawn with tiny-skia, text, legend
    /// and frames through resvg with the shipped DejaVu fonts (never system fonts).
    pub fn to_png(&self) -> Result<Vec<u8>, FigureError> {
        self.to_png_cancellable(&|| false)
    }

    /// [`Figure::to_png`] that stops with [`FigureError::Cancelled`] soon after `cancelled()`
    /// turns true (checked before each district is traced, filled or stroked, and before the
    /// overlay and the encoding): a 10,000 px square map takes seconds, and a server must not
    /// finish one for a client that has gone.
    pub fn to_png_cancellable(&self, cancelled: &dyn Fn() -> bool) -> Result<Vec<u8>, FigureError> {
        let (w, h) = self.png_size();
        raster::render_png(self, raster::strip_rows(w, h), cancelled)
    }

    /// [`Figure::to_png_cancellable`] drawing at most `rows` rows of the PNG at a time (at least
    /// one), each strip streamed into the encoder: the PNG methods above pick strips of
    /// [`STRIP_PIXELS`] pixels, drawing figures up to that size whole. The pixels are those of
    /// the whole figure up to anti-aliasing rounding (strips are drawn shifted by whole pixels,
    /// as tiny-skia itself tiles images over 8,191 px, with a margin of rows past each end: a
    /// few edge pixels in a thousand move by a few levels); a figure drawn in more than one
    /// strip is always written as RGBA (never indexed).
    pub fn to_png_in_strips(
        &self,
        rows: u32,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<Vec<u8>, FigureError> {
        raster::render_png(self, rows, cancelled)
    }
}

/// The extent that shows `bounds` in a `width` x `height` px box with at least `margin` px of
/// room on every side, widened on the short side to the box's aspect ratio (north up, centred).
///
/// ```
/// use choropleth::figure::fit_extent;
/// use tile_math::Bounds;
/// let b = Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 50.0 };
/// let e = fit_extent(b, 220.0, 220.0, 10.0)?;
/// // 200 px for 100 m: 0.5 m per px, so 110 m either way around the centre.
/// assert_eq!((e.min_x, e.max_x, e.min_y, e.max_y), (-5.0, 105.0, -30.0, 80.0));
/// assert!(fit_extent(b, 20.0, 20.0, 10.0).is_err());
/// # Ok::<(), choropleth::figure::FigureError>(())
/// ```
pub fn fit_extent(
    bounds: Bounds,
    width: f64,
    height: f64,
    margin: f64,
) -> Result<Bounds, FigureError> {
    let finite = [bounds.min_x, bounds.min_y, bounds.max_x, bounds.max_y]
        .iter()
        .all(|v| v.is_finite());
    if !finite || bounds.max_x < bounds.min_x || bounds.max_y < bounds.min_y {
        return Err(extent_error(&bounds));
    }
    let (inner_w, inner_h) = (width - 2.0 * margin, height - 2.0 * margin);
    if !(inner_w > 0.0 && inner_h > 0.0 && margin >= 0.0 && width.is_finite() && height.is_finite())
    {
        return Err(FigureError::Margin {
            width,
            height,
            margin,
        });
    }
    // A point or a line: give it one metre so there is a scale at all.
    let (bw, bh) = (bounds.width().max(1.0), bounds.height().max(1.0));
    let metres_per_px = (bw / inner_w).max(bh / inner_h);
    let (cx, cy) = (
        (bounds.min_x + bounds.max_x) / 2.0,
        (bounds.min_y + bounds.max_y) / 2.0,
    );
    let (hw, hh) = (width * metres_per_px / 2.0, height * metres_per_px / 2.0);
    Ok(Bounds {
        min_x: cx - hw,
        min_y: cy - hh,
        max_x: cx + hw,
        max_y: cy + hh,
    })
}

fn union(a: Bounds, b: Bounds) -> Bounds {
    Bounds {
        min_x: a.min_x.min(b.min_x),
        min_y: a.min_y.min(b.min_y),
        max_x: a.max_x.max(b.max_x),
        max_y: a.max_y.max(b.max_y),
    }
}

fn png_size(o: &FigureOptions) -> (u32, u32) {
    (
        (o.width as f32 * o.scale).round() as u32,
        (o.height as f32 * o.scale).round() as u32,
    )
}

fn validate_size(o: &FigureOptions) -> Result<(), FigureError> {
    let in_range = |v: u32| (MIN_FIGURE_PX..=MAX_FIGURE_PX).contains(&v);
    let scale_ok = o.scale.is_finite() && o.scale > 0.0 && o.scale <= MAX_SCALE;
    let ok = in_range(o.width) && in_range(o.height) && scale_ok && {
        let (w, h) = png_size(o);
        (1..=MAX_FIGURE_PX).contains(&w) && (1..=MAX_FIGURE_PX).contains(&h)
    };
    if ok {
        Ok(())
    } else {
        Err(FigureError::Size {
            width: o.width,
            height: o.height,
            scale: o.scale,
        })
    }
}

fn extent_error(b: &Bounds) -> FigureError {
    FigureError::Extent {
        min_x: b.min_x,
        min_y: b.min_y,
        max_x: b.max_x,
        max_y: b.max_y,
    }
}

fn validate_extent(b: &Bounds) -> Result<(), FigureError> {
    let finite = [b.min_x, b.min_y, b.max_x, b.max_y]
        .iter()
        .all(|v| v.is_finite());
    if finite && b.width() > 0.0 && b.height() > 0.0 {
        Ok(())
    } else {
        Err(extent_error(b))
    }
}

/// Outline width (SVG px) for districts whose typical size (median of the square root of their
/// bounding-box area, in px) is in `sizes_px`: none under 4 px (lines would bury the colours),
/// then 1/40 of the size, from a 0.15 px hairline up to 1 px.
fn auto_outline_width(sizes_px: &mut [f64]) -> Option<f32> {
    if sizes_px.is_empty() {
        return None;
    }
    let mid = sizes_px.len() / 2;
    let (_, median, _) = sizes_px.select_nth_unstable_by(mid, f64::total_cmp);
    let median = *median;
    if median < 4.0 {
        None
    } else {
        Some((median / 40.0).clamp(0.15, 1.0) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_width_follows_district_size() {
        assert_eq!(auto_outline_width(&mut []), None);
        assert_eq!(auto_outline_width(&mut [1.0, 2.0, 3.0]), None);
        assert_eq!(auto_outline_width(&mut [5.0, 6.0, 7.0]), Some(0.15));
        assert_eq!(auto_outline_width(&mut [20.0, 20.0, 20.0]), Some(0.5));
        assert_eq!(auto_outline_width(&mut [200.0, 300.0, 100.0]), Some(1.0));
    }

    #[test]
    fn size_validation() {
        let ok = FigureOptions::default();
        assert!(validate_size(&ok).is_ok());
        for bad in [
            FigureOptions {
                width: 0,
                ..ok.clone()
            },
            FigureOptions {
                height: 10_001,
                ..ok.clone()
            },
            FigureOptions {
                scale: 0.0,
                ..ok.clone()
            },
            FigureOptions {
                scale: f32::NAN,
                ..ok.clone()
            },
            FigureOptions {
                width: 4000,
                scale: 3.0,
                ..ok.clone()
            },
        ] {
            assert!(
                matches!(validate_size(&bad), Err(FigureError::Size { .. })),
                "{bad:?}"
            );
        }
    }
}
