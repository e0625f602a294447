//! Rasterising one tile: Web Mercator multipolygons to an anti-aliased RGBA pixmap (fills by
//! exact-area coverage masks, `render::fill`; outlines up to a pixel wide as Wu hairlines,
//! `render::hairline`, wider ones stroked with tiny-skia).
//!
//! One affine transform (mercator metres to tile pixels, computed in f64) is applied while each
//! district's path is built, every district is filled with the even-odd rule over all of its rings
//! (holes, and "nested shell" polygons that stand for holes, come out empty), outlines are stroked on
//! top of every fill, and highlighted districts are outlined again, thicker, on top of that.
//! Before rasterising, [`TileRenderer::render`] checks whether any edge reaches the tile at all: if
//! none does, the tile is either empty (sea) or wholly inside one district, and is answered as
//! [`TileRaster::Empty`] or [`TileRaster::Flat`] without touching a pixel.

use tile_math::Bounds;
use tiny_skia::{
    Color, LineCap, LineJoin, Paint, Path, PathBuilder, Pixmap, PremultipliedColorU8, Shader,
    Stroke, Transform,
};

use super::clip::{RenderError, View, add_feature};

/// How many districts are traced between two looks at the cancel flag (a look is an atomic
/// load and a clock read; tracing 256 LSOAs takes tens of microseconds).
const CHECK_EVERY: usize = 256;
use super::coverage::{Coverage, Speck, coverage_without_edges, speck_colour};
use super::fill::{AreaFiller, Ink};
use super::hairline::Hairlines;
use super::style::{Feature, Fill, Outline, Rgba, TileSize, TileStyle};

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
    /// Fills the paths (exact-area accumulation; tiny-skia only strokes wide lines).
    filler: AreaFiller,
    /// Coverage buffer of the hairline outlines.
    hairlines: Hairlines,
}

impl std::fmt::Debug for TileRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileRenderer")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

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
            filler: AreaFiller::new(),
            hairlines: Hairlines::new(),
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
        self.render_cancellable(bounds, features, style, &|| false)
    }

    /// [`TileRenderer::render`] that stops with [`RenderError::Cancelled`] soon after
    /// `cancelled()` turns true: checked every 256 districts traced and before each
    /// fill is painted, so a z5 tile of 32,844 LSOAs for a client that has gone is not finished.
    /// The renderer stays usable for the next tile.
    ///
    /// ```
    /// use choropleth::render::{Feature, Fill, RenderError, Rgba, TileRenderer, TileSize, TileStyle};
    /// use geo_types::{polygon, MultiPolygon};
    /// use tile_math::Bounds;
    /// let square = MultiPolygon(vec![polygon![
    ///     (x: 10.0, y: 10.0), (x: 90.0, y: 10.0), (x: 90.0, y: 60.0), (x: 10.0, y: 10.0)]]);
    /// let f = Feature { geometry: &square, fill: Fill::Solid(Rgba(200, 0, 0, 255)), highlight: false };
    /// let b = Bounds { min_x: 0.0, min_y: 0.0, max_x: 100.0, max_y: 100.0 };
    /// let mut r = TileRenderer::new(TileSize::Standard);
    /// let style = TileStyle::for_zoom(8);
    /// assert_eq!(r.render_cancellable(b, [f], &style, &|| true).err(), Some(RenderError::Cancelled));
    /// assert!(r.render_cancellable(b, [f], &style, &|| false).is_ok());
    /// ```
    pub fn render_cancellable<'a, I>(
        &mut self,
        bounds: Bounds,
        features: I,
        style: &TileStyle,
        cancelled: &dyn Fn() -> bool,
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
        if !self.rasterise(&view, &features, style, cancelled) {
            return Err(RenderError::Cancelled);
        }
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
        self.rasterise(&view, &features, style, &|| false);
        Ok(&self.pixmap)
    }

    /// Draws `features` into the pixmap; `false` when `cancelled()` stopped it (the pixmap is
    /// then incomplete, and the buffers are ready for the next tile).
    fn rasterise(
        &mut self,
        view: &View,
        features: &[(Feature<'_>, Bounds)],
        style: &TileStyle,
        cancelled: &dyn Fn() -> bool,
    ) -> bool {
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
            if i % CHECK_EVERY == CHECK_EVERY - 1 && cancelled() {
                // The builders in `groups` are dropped: only small allocations next time.
                return false;
            }
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

        let mut stopped = false;
        for (fill, path) in &self.paths {
            if cancelled() {
                stopped = true;
                break;
            }
            let ink = match fill {
                Fill::Solid(c) => Ink::Solid(premultiply(*c)),
                // Transparent no-data (`nodata=none`) draws nothing, and a flat colour is a
                // solid fill: no pattern look-up per pixel.
                Fill::NoData if style.no_data.3 == 0 && style.no_data_hatch.3 == 0 => continue,
                Fill::NoData if style.no_data == style.no_data_hatch => {
                    Ink::Solid(premultiply(style.no_data))
                }
                Fill::NoData => Ink::Pattern(&self.hatch),
            };
            self.filler.fill(&mut self.pixmap, path, ink);
        }
        if stopped {
            for (_, path) in self.paths.drain(..) {
                self.spare_builders.push(path.clear());
            }
            return false;
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
                stroke(&mut self.pixmap, &mut self.hairlines, &all, outline, scale);
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
                stroke(
                    &mut self.pixmap,
                    &mut self.hairlines,
                    &all,
                    style.highlight,
                    scale,
                );
                self.merged = all.clear();
            }
        }

        for (_, path) in self.paths.drain(..) {
            self.spare_builders.push(path.clear());
        }
        true
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

/// Strokes a path (all the outlines of a tile merged into one): lines at most a pixel wide as
/// hairlines ([`super::hairline`]), wider ones with tiny-skia (one call).
fn stroke(pixmap: &mut Pixmap, hairlines: &mut Hairlines, path: &Path, line: Outline, scale: f32) {
    let width = line.width_px * scale;
    if width <= 0.0 || !width.is_finite() || line.colour.3 == 0 {
        return;
    }
    if width <= 1.0 {
        hairlines.stroke(pixmap, path, width, premultiply(line.colour));
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

/// The no-data fill: one period of a diagonal hatch (lines of the hatch colour on the no-data grey).
/// Pixel (0, 0) is always on a line and pixel (1, 0) never is, which `hatch_style_differs` relies on.
/// The no-data hatch the tiles draw, as one seamless PNG pattern (`HATCH_PERIOD` px square,
/// twice that for [`TileSize::Retina`]): what a vector-tile style (MapLibre's `fill-pattern`)
/// needs to draw no data exactly as the raster tiles do.
///
/// ```
/// use choropleth::render::{no_data_pattern_png, TileSize};
/// let (side, png) = no_data_pattern_png(TileSize::Retina)?;
/// assert_eq!(side, 2 * no_data_pattern_png(TileSize::Standard)?.0);
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), choropleth::render::EncodeError>(())
/// ```
pub fn no_data_pattern_png(size: TileSize) -> Result<(u32, Vec<u8>), super::EncodeError> {
    let p = hatch_pixmap(size, TileStyle::for_zoom(0));
    Ok((p.width(), super::encode_png(&p)?))
}

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
