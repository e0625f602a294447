//! Rasterising one tile: Web Mercator multipolygons to an anti-aliased RGBA pixmap with tiny-skia.
//!
//! One affine transform (mercator metres to tile pixels, computed in f64) is applied while each
//! district's path is built, every district is filled with the even-odd rule over all of its rings
//! (holes, and "nested shell" polygons that stand for holes, come out empty), outlines are stroked on
//! top of every fill, and highlighted districts are outlined again, thicker, on top of that.
//! Before rasterising, [`TileRenderer::render`] checks whether any edge reaches the tile at all: if
//! none does, the tile is either empty (sea) or wholly inside one district, and is answered as
//! [`TileRaster::Empty`] or [`TileRaster::Flat`] without touching a pixel.

use geo_types::{LineString, MultiPolygon};
use thiserror::Error;
use tile_math::Bounds;
use tiny_skia::{
    Color, FillRule, FilterQuality, LineCap, LineJoin, Paint, Path, PathBuilder, Pattern, Pixmap,
    PremultipliedColorU8, Shader, SpreadMode, Stroke, Transform,
};

/// A straight (not premultiplied) sRGB colour with alpha, as written in a style (`#fc8d59`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    /// Fully transparent: what a tile shows outside every district.
    pub const TRANSPARENT: Rgba = Rgba(0, 0, 0, 0);
    /// Opaque white, the usual outline colour.
    pub const WHITE: Rgba = Rgba(255, 255, 255, 255);

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

    fn to_color(self) -> Color {
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

/// Why a tile cannot be rendered.
#[derive(Debug, Error, PartialEq)]
pub enum RenderError {
    /// The tile bounds are not finite or have no area.
    #[error(
        "tile bounds ({min_x}, {min_y}, {max_x}, {max_y}) are not a finite box with positive width and height"
    )]
    InvalidBounds {
        min_x: f64,
        min_y: f64,
        max_x: f64,
        max_y: f64,
    },
}

/// A rendered tile, cheap cases kept cheap: nothing to draw, one colour, or real pixels.
#[derive(Debug, PartialEq)]
pub enum TileRaster<'p> {
    /// No district reaches the tile: fully transparent.
    Empty,
    /// The tile lies wholly inside one district and no boundary reaches it: one colour.
    Flat(Rgba),
    /// Anything else: premultiplied RGBA pixels (tiny-skia's layout).
    Pixels(&'p Pixmap),
}

/// Renders tiles, reusing its pixmap and path buffers between tiles (one per thread).
pub struct TileRenderer {
    size: TileSize,
    pixmap: Pixmap,
    hatch: Pixmap,
    /// Path builders kept from earlier tiles so building paths does not allocate.
    spare_builders: Vec<PathBuilder>,
    /// Paths of the current tile, with their fill.
    paths: Vec<(Fill, Path)>,
    /// Whether districts of the same fill are drawn as one path (see [`TileRenderer::set_merge_fills`]).
    merge_fills: bool,
    ring_px: Vec<(f64, f64)>,
    clipped: Vec<(f64, f64)>,
    /// Sub-pixel districts of the current tile, with the index of their feature.
    specks: Vec<(usize, Speck)>,
    /// Scratch for merging the outlines of a tile into one path.
    merged: PathBuilder,
}

impl std::fmt::Debug for TileRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileRenderer")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Margin of the clip window around the tile, px: wider than any outline, so the edges that
/// clipping adds along the window are never visible.
const CLIP_PAD_PX: f64 = 64.0;

/// Hatch period of the no-data fill, px at 256 px per tile.
const HATCH_PERIOD: u32 = 6;

impl TileRenderer {
    /// A renderer for tiles of the given size.
    ///
    /// ```
    /// use choropleth::render::{TileRenderer, TileSize};
    /// let r = TileRenderer::new(TileSize::Retina);
    /// assert_eq!(r.size().px(), 512);
    /// ```
    pub fn new(size: TileSize) -> TileRenderer {
        // Both sizes are small non-zero constants, for which Pixmap::new cannot fail; fall back to
        // a 1 px pixmap anyway rather than panic.
        let px = size.px();
        let pixmap = Pixmap::new(px, px)
            .or_else(|| Pixmap::new(1, 1))
            .unwrap_or_else(unreachable_pixmap);
        TileRenderer {
            size,
            pixmap,
            hatch: hatch_pixmap(size, TileStyle::for_zoom(0)),
            spare_builders: Vec::new(),
            paths: Vec::new(),
            merge_fills: true,
            ring_px: Vec::new(),
            clipped: Vec::new(),
            specks: Vec::new(),
            merged: PathBuilder::new(),
        }
    }

    /// Whether districts with the same fill are drawn as one even-odd path (the default): one
    /// fill per colour instead of one per district, several times faster on small districts,
    /// and no anti-aliasing seam between neighbours of the same class. It assumes what holds for
    /// a district layer: districts do not overlap (two districts of one fill that did would
    /// cancel where they overlap). Turn it off to draw each district on its own, later ones over
    /// earlier ones.
    ///
    /// ```
    /// use choropleth::render::{TileRenderer, TileSize};
    /// let mut r = TileRenderer::new(TileSize::Standard);
    /// r.set_merge_fills(false);
    /// ```
    pub fn set_merge_fills(&mut self, on: bool) {
        self.merge_fills = on;
    }

    /// Size of the tiles this renderer draws.
    pub fn size(&self) -> TileSize {
        self.size
    }

    /// Renders the features that reach `bounds` (Web Mercator metres). Features outside the
    /// bounds are skipped, so the caller's R-tree query may be loose. Fills are painted in the
    /// order of their first feature (see [`TileRenderer::set_merge_fills`]), then all outlines,
    /// then highlights. Empty and flat tiles are recognised without rasterising.
    ///
    /// ```
    /// use choropleth::render::{Feature, Fill, Rgba, TileRaster, TileRenderer, TileSize, TileStyle};
    /// use geo_types::{polygon, MultiPolygon};
    /// use tile_math::Bounds;
    /// let square = MultiPolygon(vec![polygon![
    ///     (x: 25.0, y: 25.0), (x: 75.0, y: 25.0), (x: 75.0, y: 75.0), (x: 25.0, y: 75.0)]]);
    /// let red = Rgba(255, 0, 0, 255);
    /// let f = Feature { geometry: &square, fill: Fill::Solid(red), highlight: false };
    /// let b = Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 100.0 };
    /// let mut r = TileRenderer::new(TileSize::Standard);
    /// match r.render(b, [f], &TileStyle::for_zoom(8))? {
    ///     TileRaster::Pixels(p) => assert_eq!(p.pixel(128, 128).unwrap().demultiply().red(), 255),
    ///     other => panic!("expected pixels, got {other:?}"),
    /// }
    /// // A tile wholly inside the square is one flat colour.
    /// let inner = Bounds { min_x: 40.0, min_y: 40.0, max_x: 60.0, max_y: 60.0 };
    /// assert_eq!(r.render(inner, [f], &TileStyle::for_zoom(8))?, TileRaster::Flat(red));
    /// # Ok::<(), choropleth::render::RenderError>(())
    /// ```
    pub fn render<'a, I>(
        &mut self,
        bounds: Bounds,
        features: I,
        style: &TileStyle,
    ) -> Result<TileRaster<'_>, RenderError>
    where
        I: IntoIterator<Item = Feature<'a>>,
    {
        let view = View::new(bounds, self.size)?;
        let features: Vec<(Feature<'a>, Bounds)> = features
            .into_iter()
            .filter_map(|f| Some((f, view.reaching_bbox(f.geometry)?)))
            .collect();
        match coverage_without_edges(&view, &features, style) {
            Coverage::Empty => return Ok(TileRaster::Empty),
            Coverage::Flat(c) => return Ok(TileRaster::Flat(c)),
            Coverage::Mixed => {}
        }
        self.rasterise(&view, &features, style);
        Ok(TileRaster::Pixels(&self.pixmap))
    }

    /// Like [`TileRenderer::render`], but always rasterises (no empty or flat shortcut).
    ///
    /// ```
    /// use choropleth::render::{TileRenderer, TileSize, TileStyle};
    /// use tile_math::Bounds;
    /// let b = Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 100.0 };
    /// let mut r = TileRenderer::new(TileSize::Standard);
    /// let p = r.render_pixels(b, [], &TileStyle::for_zoom(3))?;
    /// assert_eq!(p.pixel(0, 0).unwrap().alpha(), 0);
    /// # Ok::<(), choropleth::render::RenderError>(())
    /// ```
    pub fn render_pixels<'a, I>(
        &mut self,
        bounds: Bounds,
        features: I,
        style: &TileStyle,
    ) -> Result<&Pixmap, RenderError>
    where
        I: IntoIterator<Item = Feature<'a>>,
    {
        let view = View::new(bounds, self.size)?;
        let features: Vec<(Feature<'a>, Bounds)> = features
            .into_iter()
            .filter_map(|f| Some((f, view.reaching_bbox(f.geometry)?)))
            .collect();
        self.rasterise(&view, &features, style);
        Ok(&self.pixmap)
    }

    fn rasterise(&mut self, view: &View, features: &[(Feature<'_>, Bounds)], style: &TileStyle) {
        let scale = self.size.scale();
        if self.hatch_style_differs(style) {
            self.hatch = hatch_pixmap(self.size, *style);
        }
        self.pixmap.fill(Color::TRANSPARENT);

        // One path per fill (or per district when merging is off). Districts smaller than a
        // pixel ("specks", thousands of LSOAs on a z5 tile) skip tiny-skia, whose fixed cost per
        // path dominates there, and are blended by area coverage instead.
        self.specks.clear();
        let mut groups: Vec<(Fill, PathBuilder)> = Vec::new();
        let mut highlighted = false;
        for (i, (f, b)) in features.iter().enumerate() {
            highlighted |= f.highlight;
            if !f.highlight
                && let Some(sp) = Speck::of(f.geometry, b, view)
            {
                self.specks.push((i, sp));
                continue;
            }
            let g = match groups
                .iter()
                .position(|(fill, _)| self.merge_fills && *fill == f.fill)
            {
                Some(g) => g,
                None => {
                    groups.push((f.fill, self.spare_builders.pop().unwrap_or_default()));
                    groups.len() - 1
                }
            };
            add_feature(
                &mut groups[g].1,
                f.geometry,
                view,
                &mut self.ring_px,
                &mut self.clipped,
            );
        }
        for (fill, pb) in groups {
            // `finish` gives None for an empty builder (everything culled); its buffers are lost,
            // which is only a small allocation next time.
            if let Some(path) = pb.finish() {
                self.paths.push((fill, path));
            }
        }

        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        for (fill, path) in &self.paths {
            match fill {
                Fill::Solid(c) => {
                    paint.shader = Shader::SolidColor(c.to_color());
                    self.pixmap.fill_path(
                        path,
                        &paint,
                        FillRule::EvenOdd,
                        Transform::identity(),
                        None,
                    );
                }
                Fill::NoData => {
                    let hatch = Paint {
                        anti_alias: true,
                        shader: Pattern::new(
                            self.hatch.as_ref(),
                            SpreadMode::Repeat,
                            FilterQuality::Nearest,
                            1.0,
                            Transform::identity(),
                        ),
                        ..Paint::default()
                    };
                    self.pixmap.fill_path(
                        path,
                        &hatch,
                        FillRule::EvenOdd,
                        Transform::identity(),
                        None,
                    );
                }
            }
        }
        for (j, sp) in &self.specks {
            let c = speck_colour(features[*j].0.fill, style);
            sp.blend(&mut self.pixmap, c, sp.area);
        }
        if let Some(outline) = style.outline {
            let mut pb = std::mem::take(&mut self.merged);
            for (_, path) in &self.paths {
                pb.push_path(path);
            }
            if let Some(all) = pb.finish() {
                stroke(&mut self.pixmap, &all, outline, scale);
                self.merged = all.clear();
            }
            let ink = f64::from(outline.width_px * scale);
            for (_, sp) in &self.specks {
                sp.blend(&mut self.pixmap, outline.colour, sp.perimeter * ink);
            }
        }
        if highlighted {
            let mut pb = std::mem::take(&mut self.merged);
            for (f, _) in features.iter().filter(|(f, _)| f.highlight) {
                add_feature(
                    &mut pb,
                    f.geometry,
                    view,
                    &mut self.ring_px,
                    &mut self.clipped,
                );
            }
            if let Some(all) = pb.finish() {
                stroke(&mut self.pixmap, &all, style.highlight, scale);
                self.merged = all.clear();
            }
        }

        for (_, path) in self.paths.drain(..) {
            self.spare_builders.push(path.clear());
        }
    }

    fn hatch_style_differs(&self, style: &TileStyle) -> bool {
        let bg = self.hatch.pixel(1, 0).map(|p| p.demultiply());
        let line = self.hatch.pixel(0, 0).map(|p| p.demultiply());
        let same = |p: Option<tiny_skia::ColorU8>, c: Rgba| {
            p.is_some_and(|p| (p.red(), p.green(), p.blue(), p.alpha()) == (c.0, c.1, c.2, c.3))
        };
        !(same(bg, style.no_data) && same(line, style.no_data_hatch))
    }
}

/// Renders one tile into a new pixmap (premultiplied RGBA, `size.px()` square). For many tiles,
/// keep a [`TileRenderer`] instead: it reuses its buffers and recognises empty and flat tiles.
///
/// ```
/// use choropleth::render::{render_tile, Feature, Fill, Rgba, TileSize, TileStyle};
/// use geo_types::{polygon, MultiPolygon};
/// use tile_math::Bounds;
/// let square = MultiPolygon(vec![polygon![
///     (x: 25.0, y: 25.0), (x: 75.0, y: 25.0), (x: 75.0, y: 75.0), (x: 25.0, y: 75.0)]]);
/// let f = Feature { geometry: &square, fill: Fill::Solid(Rgba(0, 0, 255, 255)), highlight: false };
/// let b = Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 100.0 };
/// let p = render_tile(b, TileSize::Retina, [f], &TileStyle::for_zoom(8))?;
/// assert_eq!(p.width(), 512);
/// assert_eq!(p.pixel(256, 256).unwrap().blue(), 255);
/// assert_eq!(p.pixel(5, 5).unwrap().alpha(), 0);
/// # Ok::<(), choropleth::render::RenderError>(())
/// ```
pub fn render_tile<'a, I>(
    bounds: Bounds,
    size: TileSize,
    features: I,
    style: &TileStyle,
) -> Result<Pixmap, RenderError>
where
    I: IntoIterator<Item = Feature<'a>>,
{
    let mut r = TileRenderer::new(size);
    r.render_pixels(bounds, features, style)?;
    Ok(r.pixmap)
}

fn unreachable_pixmap() -> Pixmap {
    // Pixmap::new(1, 1) only fails for a zero size; build the smallest pixmap from raw bytes.
    match tiny_skia::IntSize::from_wh(1, 1).and_then(|s| Pixmap::from_vec(vec![0; 4], s)) {
        Some(p) => p,
        None => unreachable!("a 1x1 pixmap always exists"),
    }
}

/// Strokes a path (all the outlines of a tile merged into one: a single tiny-skia call).
fn stroke(pixmap: &mut Pixmap, path: &Path, line: Outline, scale: f32) {
    let width = line.width_px * scale;
    if width <= 0.0 || !width.is_finite() || line.colour.3 == 0 {
        return;
    }
    let paint = Paint {
        shader: Shader::SolidColor(line.colour.to_color()),
        anti_alias: true,
        ..Paint::default()
    };
    let stroke = Stroke {
        width,
        line_join: LineJoin::Round,
        line_cap: LineCap::Round,
        ..Stroke::default()
    };
    pixmap.stroke_path(path, &paint, &stroke, Transform::identity(), None);
}

/// Appends every ring of a district to the path.
fn add_feature(
    pb: &mut PathBuilder,
    g: &MultiPolygon<f64>,
    view: &View,
    px: &mut Vec<(f64, f64)>,
    clipped: &mut Vec<(f64, f64)>,
) {
    for poly in &g.0 {
        add_ring(pb, poly.exterior(), view, px, clipped);
        for hole in poly.interiors() {
            add_ring(pb, hole, view, px, clipped);
        }
    }
}

/// The no-data fill: one period of a diagonal hatch (lines of the hatch colour on the no-data grey).
/// Pixel (0, 0) is always on a line and pixel (1, 0) never is, which `hatch_style_differs` relies on.
fn hatch_pixmap(size: TileSize, style: TileStyle) -> Pixmap {
    let scale = size.px() / 256;
    let n = HATCH_PERIOD * scale;
    let Some(mut p) = Pixmap::new(n, n) else {
        return unreachable_pixmap();
    };
    let bg = premultiply(style.no_data);
    let line = premultiply(style.no_data_hatch);
    let pixels = p.pixels_mut();
    for y in 0..n {
        for x in 0..n {
            // Anti-diagonal lines ("/"), `scale` pixels thick.
            let on_line = (x + y) % n < scale;
            pixels[(y * n + x) as usize] = if on_line { line } else { bg };
        }
    }
    p
}

fn premultiply(c: Rgba) -> PremultipliedColorU8 {
    tiny_skia::ColorU8::from_rgba(c.0, c.1, c.2, c.3).premultiply()
}

/// The tile's bounds and the affine map from mercator metres to tile pixels.
struct View {
    bounds: Bounds,
    size_px: f64,
    sx: f64,
    sy: f64,
    /// Metres per pixel (the larger of x and y).
    metres_per_px: f64,
}

impl View {
    fn new(bounds: Bounds, size: TileSize) -> Result<View, RenderError> {
        let b = bounds;
        let finite = [b.min_x, b.min_y, b.max_x, b.max_y]
            .iter()
            .all(|v| v.is_finite());
        if !finite || b.width() <= 0.0 || b.height() <= 0.0 {
            return Err(RenderError::InvalidBounds {
                min_x: b.min_x,
                min_y: b.min_y,
                max_x: b.max_x,
                max_y: b.max_y,
            });
        }
        let size_px = f64::from(size.px());
        let sx = size_px / b.width();
        let sy = size_px / b.height();
        Ok(View {
            bounds,
            size_px,
            sx,
            sy,
            metres_per_px: (1.0 / sx).max(1.0 / sy),
        })
    }

    fn to_px(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.bounds.min_x) * self.sx,
            (self.bounds.max_y - y) * self.sy,
        )
    }

    /// The feature's bounding box, if it touches the tile (a margin of a few pixels keeps outlines).
    fn reaching_bbox(&self, g: &MultiPolygon<f64>) -> Option<Bounds> {
        let m = CLIP_PAD_PX * self.metres_per_px;
        let b = &self.bounds;
        let grown = Bounds {
            min_x: b.min_x - m,
            min_y: b.min_y - m,
            max_x: b.max_x + m,
            max_y: b.max_y + m,
        };
        bbox(g).filter(|fb| fb.intersects(&grown))
    }
}

/// Bounding box over the finite coordinates of the exteriors, `None` if there are none.
fn bbox(g: &MultiPolygon<f64>) -> Option<Bounds> {
    let mut out: Option<Bounds> = None;
    for c in g.0.iter().flat_map(|p| p.exterior().0.iter()) {
        if !(c.x.is_finite() && c.y.is_finite()) {
            continue;
        }
        out = Some(match out {
            None => Bounds {
                min_x: c.x,
                min_y: c.y,
                max_x: c.x,
                max_y: c.y,
            },
            Some(b) => Bounds {
                min_x: b.min_x.min(c.x),
                min_y: b.min_y.min(c.y),
                max_x: b.max_x.max(c.x),
                max_y: b.max_y.max(c.y),
            },
        });
    }
    out
}

/// Appends one ring, in pixels, to the path. Non-finite coordinates are dropped; a ring wholly
/// outside the clip window is left out; a ring reaching far outside is clipped to the window first.
fn add_ring(
    pb: &mut PathBuilder,
    ring: &LineString<f64>,
    view: &View,
    px: &mut Vec<(f64, f64)>,
    clipped: &mut Vec<(f64, f64)>,
) {
    px.clear();
    let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in &ring.0 {
        let (x, y) = view.to_px(c.x, c.y);
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        lo_x = lo_x.min(x);
        lo_y = lo_y.min(y);
        hi_x = hi_x.max(x);
        hi_y = hi_y.max(y);
        px.push((x, y));
    }
    if px.len() < 3 {
        return;
    }
    let lo = -CLIP_PAD_PX;
    let hi = view.size_px + CLIP_PAD_PX;
    if hi_x < lo || hi_y < lo || lo_x > hi || lo_y > hi {
        // Its bounding box misses the window, so its interior does not reach the tile either.
        return;
    }
    // Rings reaching beyond the window are clipped to it: tiny-skia then walks only the edges
    // that matter (a district seen at z10 may have thousands of vertices outside the tile), and
    // far-away vertices never lose precision as f32.
    if lo_x < lo || lo_y < lo || hi_x > hi || hi_y > hi {
        clip_ring(px, lo, hi, clipped);
        if px.len() < 3 {
            return;
        }
    }
    let mut iter = px.iter();
    let Some(&(x0, y0)) = iter.next() else {
        return;
    };
    pb.move_to(x0 as f32, y0 as f32);
    for &(x, y) in iter {
        pb.line_to(x as f32, y as f32);
    }
    pb.close();
}

/// Sutherland–Hodgman clipping of a closed ring to the square window [lo, hi]².
///
/// Written by hand because the general polygon clippers (geo's boolean ops) are far heavier than
/// this guard needs: the clipped ring only has to fill the same pixels inside the window with the
/// even-odd rule, and the edges it adds along the window border lie outside the visible tile.
/// Clips `ring` in place; `scratch` is working space (no allocation once both have grown).
fn clip_ring(ring: &mut Vec<(f64, f64)>, lo: f64, hi: f64, scratch: &mut Vec<(f64, f64)>) {
    let mut cur = ring;
    let mut next = scratch;
    // Each edge of the window: (axis 0 = x / 1 = y, bound, keep values >= bound?)
    for (axis, bound, keep_ge) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        next.clear();
        let inside = |p: (f64, f64)| {
            let v = if axis == 0 { p.0 } else { p.1 };
            if keep_ge { v >= bound } else { v <= bound }
        };
        let cross = |a: (f64, f64), b: (f64, f64)| {
            let (av, bv) = if axis == 0 { (a.0, b.0) } else { (a.1, b.1) };
            let t = (bound - av) / (bv - av);
            if axis == 0 {
                (bound, a.1 + t * (b.1 - a.1))
            } else {
                (a.0 + t * (b.0 - a.0), bound)
            }
        };
        let Some(&last) = cur.last() else {
            // Nothing left: the ring misses the window. `cur` is empty, so is the result.
            next.clear();
            std::mem::swap(&mut cur, &mut next);
            continue;
        };
        let mut prev = last;
        for &p in cur.iter() {
            match (inside(prev), inside(p)) {
                (true, true) => next.push(p),
                (true, false) => next.push(cross(prev, p)),
                (false, true) => {
                    next.push(cross(prev, p));
                    next.push(p);
                }
                (false, false) => {}
            }
            prev = p;
        }
        std::mem::swap(&mut cur, &mut next);
    }
    // Four passes, four swaps: the result is back in the buffer that came in as `ring`.
}

/// A district no bigger than a pixel: drawn by blending its colour into the (up to 2 × 2) pixels
/// its box overlaps, with coverage = its area (and, for the outline, its perimeter × line width),
/// shared out by how much of the box lies in each pixel. This is what an anti-aliasing rasteriser
/// converges to for such shapes, at a fraction of the cost of a path fill per district.
#[derive(Clone, Copy, Debug)]
struct Speck {
    /// Top-left pixel of the 2 × 2 block.
    x0: i64,
    y0: i64,
    /// Share of the box in each column / row of the block.
    fx: [f64; 2],
    fy: [f64; 2],
    /// Area in px² (even-odd: holes subtracted).
    area: f64,
    /// Perimeter in px.
    perimeter: f64,
}

impl Speck {
    fn of(g: &MultiPolygon<f64>, b: &Bounds, view: &View) -> Option<Speck> {
        let w = b.width() * view.sx;
        let h = b.height() * view.sy;
        if w > 1.0 || h > 1.0 {
            return None;
        }
        let (bx0, by0) = view.to_px(b.min_x, b.max_y);
        let (bx1, by1) = (bx0 + w, by0 + h);
        let share = |lo: f64, hi: f64| -> (i64, [f64; 2]) {
            let first = lo.floor();
            let span = hi - lo;
            if span <= 1e-12 {
                return (first as i64, [1.0, 0.0]);
            }
            let a = ((first + 1.0).min(hi) - lo) / span;
            (first as i64, [a, 1.0 - a])
        };
        let (x0, fx) = share(bx0, bx1);
        let (y0, fy) = share(by0, by1);
        let (mut area, mut perimeter) = (0.0, 0.0);
        for poly in &g.0 {
            let (a, p) = ring_area_perimeter(poly.exterior(), view);
            area += a;
            perimeter += p;
            for hole in poly.interiors() {
                let (a, p) = ring_area_perimeter(hole, view);
                area -= a;
                perimeter += p;
            }
        }
        if !(area.is_finite() && perimeter.is_finite()) {
            return None;
        }
        Some(Speck {
            x0,
            y0,
            fx,
            fy,
            area: area.max(0.0),
            perimeter,
        })
    }

    /// Source-over blend of `c` with total coverage `amount` (px²), shared over the block.
    fn blend(&self, pixmap: &mut Pixmap, c: Rgba, amount: f64) {
        let (w, h) = (i64::from(pixmap.width()), i64::from(pixmap.height()));
        let pixels = pixmap.pixels_mut();
        let alpha = f64::from(c.3) / 255.0;
        for (dy, fy) in self.fy.iter().enumerate() {
            for (dx, fx) in self.fx.iter().enumerate() {
                let (x, y) = (self.x0 + dx as i64, self.y0 + dy as i64);
                let cov = (amount * fx * fy).min(1.0) * alpha;
                if cov <= 0.0 || x < 0 || y < 0 || x >= w || y >= h {
                    continue;
                }
                let i = (y * w + x) as usize;
                let d = pixels[i];
                let mix = |src: u8, dst: u8| -> u8 {
                    (f64::from(src) * cov + f64::from(dst) * (1.0 - cov)).round() as u8
                };
                let r = mix(c.0, d.red());
                let g = mix(c.1, d.green());
                let b = mix(c.2, d.blue());
                let a = mix(255, d.alpha());
                // Premultiplied source-over keeps every channel <= alpha, so this always exists.
                if let Some(p) = PremultipliedColorU8::from_rgba(r.min(a), g.min(a), b.min(a), a) {
                    pixels[i] = p;
                }
            }
        }
    }
}

/// Fill colour of a speck (no-data is its grey: a hatch cannot show in one pixel).
fn speck_colour(fill: Fill, style: &TileStyle) -> Rgba {
    match fill {
        Fill::Solid(c) => c,
        Fill::NoData => style.no_data,
    }
}

/// Absolute area (px²) and perimeter (px) of a ring.
fn ring_area_perimeter(ring: &LineString<f64>, view: &View) -> (f64, f64) {
    let (mut twice_area, mut perimeter) = (0.0, 0.0);
    for w in ring.0.windows(2) {
        let (ax, ay) = (
            (w[0].x - view.bounds.min_x) * view.sx,
            (w[0].y - view.bounds.min_y) * view.sy,
        );
        let (bx, by) = (
            (w[1].x - view.bounds.min_x) * view.sx,
            (w[1].y - view.bounds.min_y) * view.sy,
        );
        twice_area += ax * by - bx * ay;
        perimeter += ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).sqrt();
    }
    (twice_area.abs() / 2.0, perimeter)
}

/// What the tile shows if no edge reaches it.
enum Coverage {
    Empty,
    Flat(Rgba),
    Mixed,
}

/// Decides whether the tile can skip rasterising: when no ring edge comes within reach of the
/// tile (outline and anti-aliasing included), each feature covers either all of the tile or none
/// of it, and the centre point tells which (even-odd over all rings). The topmost covering feature
/// then gives the colour, if it is an opaque solid fill.
fn coverage_without_edges(
    view: &View,
    features: &[(Feature<'_>, Bounds)],
    style: &TileStyle,
) -> Coverage {
    let reach_px = 2.0
        + f64::from(
            style
                .outline
                .map_or(0.0, |o| o.width_px)
                .max(style.highlight.width_px),
        ) * 2.0;
    let m = reach_px * view.metres_per_px;
    let b = &view.bounds;
    let (x0, y0, x1, y1) = (b.min_x - m, b.min_y - m, b.max_x + m, b.max_y + m);
    for (f, _) in features {
        for poly in &f.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                if ring_touches_rect(ring, x0, y0, x1, y1) {
                    return Coverage::Mixed;
                }
            }
        }
    }
    let cx = (b.min_x + b.max_x) / 2.0;
    let cy = (b.min_y + b.max_y) / 2.0;
    match features
        .iter()
        .rev()
        .find(|(f, _)| contains_even_odd(f.geometry, cx, cy))
    {
        None => Coverage::Empty,
        Some((
            Feature {
                fill: Fill::Solid(c),
                ..
            },
            _,
        )) if c.3 == 255 => Coverage::Flat(*c),
        Some(_) => Coverage::Mixed,
    }
}

/// Whether any segment of the ring meets the rectangle (non-finite points count as touching, to
/// stay on the safe side).
fn ring_touches_rect(ring: &LineString<f64>, x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
    ring.0.windows(2).any(|w| {
        let (a, b) = (w[0], w[1]);
        if !(a.x.is_finite() && a.y.is_finite() && b.x.is_finite() && b.y.is_finite()) {
            return true;
        }
        if a.x.max(b.x) < x0 || a.x.min(b.x) > x1 || a.y.max(b.y) < y0 || a.y.min(b.y) > y1 {
            return false;
        }
        // The segment's box overlaps the rectangle: it meets it unless all four corners lie
        // strictly on one side of the segment's line.
        let side = |x: f64, y: f64| (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
        let s = [side(x0, y0), side(x1, y0), side(x1, y1), side(x0, y1)];
        !(s.iter().all(|v| *v > 0.0) || s.iter().all(|v| *v < 0.0))
    })
}

/// Crossing-number test over every ring of the multipolygon (even-odd), so holes and overlapping
/// "nested shells" both count as outside.
fn contains_even_odd(g: &MultiPolygon<f64>, x: f64, y: f64) -> bool {
    let mut inside = false;
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for w in ring.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                if (a.y > y) != (b.y > y) && x < a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x) {
                    inside = !inside;
                }
            }
        }
    }
    inside
}
