//! Choropleth raster tiles: an R-tree query of the zoom band's simplified geometry, one affine
//! transform, fill, outline, PNG encode (renderer and encoder reused per thread).

use std::cell::RefCell;

use bytes::Bytes;
use choropleth::render::{
    Feature, Fill, PngEncoder, RenderError, TileRenderer, TileSize, TileStyle,
};
use tile_math::TileId;

use crate::error::MapError;
use crate::loaded::Loaded;
use crate::style::{NoDataFill, ResolvedStyle};

thread_local! {
    /// One renderer and encoder per thread, reused between tiles (no per-tile allocation).
    static RENDERERS: RefCell<(TileRenderer, TileRenderer, PngEncoder)> =
        RefCell::new((TileRenderer::new(TileSize::Standard), TileRenderer::new(TileSize::Retina), PngEncoder::new()));
}

/// A default bound for [`is_quick`]: every tile of the England z5-z10 benchmark list, district
/// or small-area, holds at most this many vertices (the densest, an LSOA tile at z5, 219,397;
/// milliseconds to draw), and a `@2x` tile gets a quarter. Handing a tile to a blocking thread
/// costs two thread wake-ups; with two connections on two cores those hops, not the drawing,
/// held the second connection to 1.4-1.5x the first (BENCHMARKS.md section 19). Only bigger
/// tiles go to a blocking thread, where they can be cancelled.
pub const QUICK_TILE_VERTICES: usize = 250_000;

/// Whether drawing this tile is short enough to run on an async worker: the districts it meets
/// at its zoom hold at most `max_vertices` vertices (a `@2x` tile, four times the pixels, a
/// quarter of that). Counting stops at the bound, so asking costs little even for a
/// z5 tile of 30,000 small areas. Never waits: a layer whose per-zoom geometry is still being
/// built is not quick.
pub fn is_quick(
    loaded: &Loaded,
    style: &ResolvedStyle,
    tile: TileId,
    size: TileSize,
    max_vertices: usize,
) -> bool {
    tile_districts(loaded, style, tile, size, max_vertices).is_some_and(|d| d.quick)
}

/// The districts a tile meets, queried once for [`render_tile_districts`], and whether drawing
/// them is quick ([`is_quick`]).
#[derive(Clone, Debug)]
pub struct TileDistricts {
    /// Indices of the districts the tile meets, for [`render_tile_districts`].
    pub hits: Vec<usize>,
    /// Whether they hold at most the bound's vertices.
    pub quick: bool,
}

/// The districts a tile meets and whether it is quick ([`is_quick`]), so the tile's R-tree
/// query runs once whichever thread draws it; `None` while the layer's per-zoom geometry is
/// still being built (never waits for it).
pub fn tile_districts(
    loaded: &Loaded,
    style: &ResolvedStyle,
    tile: TileId,
    size: TileSize,
    max_vertices: usize,
) -> Option<TileDistricts> {
    let bands = loaded.bands_if_ready(&style.layer)?;
    let limit = match size {
        TileSize::Standard => max_vertices,
        TileSize::Retina => max_vertices / 4,
    };
    let hits = query(bands, style, tile);
    let quick = limit > 0 && vertices_within(bands.geometry(tile.z), &hits, limit);
    Some(TileDistricts { hits, quick })
}

/// Whether the districts `hits` hold at most `limit` vertices (counting stops past it).
fn vertices_within(geoms: &[districts::Mercator], hits: &[usize], limit: usize) -> bool {
    let mut vertices = 0usize;
    for g in hits.iter().filter_map(|&i| geoms.get(i)) {
        for p in &g.0.0 {
            vertices += p.exterior().0.len();
            vertices += p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
        }
        if vertices > limit {
            return false;
        }
    }
    true
}

/// The districts whose envelope at the tile's zoom meets the tile, with a margin of a few
/// pixels so outlines of districts just outside it still show. Districts without a value are
/// left out when the style does not draw them (`nodata=none`: no fill and no outline, as Mapnik
/// draws a feature no rule matches), unless highlighted.
fn query(
    bands: &districts::simplify::ZoomBands,
    style: &ResolvedStyle,
    tile: TileId,
) -> Vec<usize> {
    let b = tile.mercator_bounds();
    let pad = tile_math::metres_per_pixel(tile.z) * 4.0;
    let mut hits = bands.query(
        tile.z,
        b.min_x - pad,
        b.min_y - pad,
        b.max_x + pad,
        b.max_y + pad,
    );
    if style.no_data == NoDataFill::Transparent {
        hits.retain(|i| style.fills.get(*i) != Some(&Fill::NoData) || style.highlight.contains(i));
    }
    hits
}

/// Renders and encodes one tile of a resolved style (call it on a blocking thread unless
/// [`is_quick`] says it is quick: a dense LSOA tile takes milliseconds).
pub fn render_tile(
    loaded: &Loaded,
    style: &ResolvedStyle,
    tile: TileId,
    size: TileSize,
) -> Result<Bytes, MapError> {
    render_tile_cancellable(loaded, style, tile, size, &|| false)
}

/// [`render_tile`] that stops with a [`crate::ErrorKind::Cancelled`] error soon after
/// `cancelled()` turns true (looked at every few hundred districts while drawing): a server
/// passes the state of the request, so a tile for a client that has gone is not finished.
pub fn render_tile_cancellable(
    loaded: &Loaded,
    style: &ResolvedStyle,
    tile: TileId,
    size: TileSize,
    cancelled: &dyn Fn() -> bool,
) -> Result<Bytes, MapError> {
    let hits = query(loaded.bands(&style.layer)?, style, tile);
    render_tile_districts(loaded, style, tile, size, &hits, cancelled)
}

/// [`render_tile_cancellable`] of the districts `hits` (from [`tile_districts`]: the
/// tile's query is not run again).
pub fn render_tile_districts(
    loaded: &Loaded,
    style: &ResolvedStyle,
    tile: TileId,
    size: TileSize,
    hits: &[usize],
    cancelled: &dyn Fn() -> bool,
) -> Result<Bytes, MapError> {
    let bands = loaded.bands(&style.layer)?;
    let b = tile.mercator_bounds();
    let geoms = bands.geometry(tile.z);
    // Each district once; the renderer strokes highlighted ones on top of everything. (`hits`
    // come from this layer's query; an index past its districts is skipped, never a panic.)
    let features = hits.iter().filter_map(|&i| {
        Some(Feature {
            geometry: &geoms.get(i)?.0,
            fill: *style.fills.get(i)?,
            highlight: style.highlight.contains(&i),
        })
    });
    let tile_style = style.no_data.apply(TileStyle::for_zoom(tile.z));
    let png = RENDERERS.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (std_r, retina_r, enc) = &mut *guard;
        let r = match size {
            TileSize::Standard => std_r,
            TileSize::Retina => retina_r,
        };
        let raster = r
            .render_cancellable(b, features, &tile_style, cancelled)
            .map_err(|e| match e {
                RenderError::Cancelled => MapError::cancelled("rendering the tile"),
                e @ RenderError::InvalidBounds { .. } => MapError::internal("rendering a tile", e),
            })?;
        enc.encode_raster(&raster, size)
            .map_err(|e| MapError::internal("encoding a tile", e))
    })?;
    // The encoder's buffer is larger than the PNG; the cache must hold only the PNG, or its
    // byte bound would not bound memory.
    let mut png = png;
    png.shrink_to_fit();
    Ok(Bytes::from(png))
}
