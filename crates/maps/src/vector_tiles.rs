//! Mapbox Vector Tiles of a layer: one MVT layer named after the boundary layer, each district a
//! feature with `code`, `name` and the chosen indicators (default period). The geometry is the
//! same gap-free per-zoom simplification the PNG tiles draw, clipped to the tile plus a buffer.

use bytes::Bytes;
use districts::layer::PeriodValues;
use districts::simplify::Band;
use districts::{Indicator, Layer};
use tile_math::TileId;

use crate::error::{MapError, valid_ids};
use crate::loaded::Loaded;
use crate::mvt_writer::{LayerWriter, Value};
use crate::options::parse_list;
pub use crate::tile_geometry::{BUFFER, EXTENT};
use crate::tile_geometry::{
    Clipped, TileFrame, clip_and_repair, encode_rings_packed, tile_overlay, unit_square,
};

/// The indicators a vector tile carries: `indicators=a,b`, `indicators=all`, `indicators=`
/// (none), or by default the layer's default indicator.
pub fn tile_indicators<'a>(
    layer: &'a Layer,
    indicators: Option<&str>,
) -> Result<Vec<&'a Indicator>, MapError> {
    let ids: Vec<String> = match indicators {
        Some("all") => return Ok(layer.indicators.iter().map(|i| &**i).collect()),
        Some(list) => parse_list(list),
        None => layer.meta.default_indicator.iter().cloned().collect(),
    };
    ids.iter()
        .map(|id| {
            layer.indicator(id).ok_or_else(|| {
                MapError::not_found(
                    format!("unknown indicator {id:?} on layer {}", layer.meta.id),
                    valid_ids(
                        "indicators (or all)",
                        layer.indicators.iter().map(|i| i.meta.id.as_str()),
                    ),
                )
            })
        })
        .collect()
}

/// Largest vector tile, bytes, by default (tippecanoe's default): a tile that would be larger
/// leaves out its smallest districts (by area at that zoom) until it fits, as tippecanoe's
/// `--drop-smallest-as-needed` does. They are sub-pixel at the zooms where this happens (LSOAs
/// at zoom 5-7) and present from the zoom where their tiles fit.
pub const TILE_SIZE_LIMIT: usize = 500_000;

/// One encoded vector tile and what it holds.
#[derive(Clone, Debug)]
pub struct EncodedTile {
    /// The MVT bytes (uncompressed).
    pub bytes: Bytes,
    /// The districts (positions in the layer) it holds, in feature order.
    pub listed: Vec<usize>,
    /// Districts left out to keep the tile within the size limit.
    pub dropped: usize,
}

/// Encodes one vector tile within [`TILE_SIZE_LIMIT`] (call it on a blocking thread).
pub fn encode(
    loaded: &Loaded,
    layer_id: &str,
    indicator_ids: &[String],
    tile: TileId,
) -> Result<Bytes, MapError> {
    encode_within(loaded, layer_id, indicator_ids, tile, Some(TILE_SIZE_LIMIT)).map(|t| t.bytes)
}

/// Encodes one vector tile with every district, whatever its size, and says which districts
/// it holds, in feature order.
///
/// Every polygon is valid by construction (clipped, quantised and repaired on the tile grid,
/// in the private `tile_geometry` module). A district smaller than one tile unit (1/4096 of
/// the tile's side, finer than any pixel it is drawn at) at this zoom is left out of every
/// tile of the zoom; any other district is in every tile where something of it survives the
/// grid, and always in the tile holding its first vertex (as a one-unit square if it
/// collapses there), so no district of a pixel or more disappears from a zoom.
pub fn encode_listed(
    loaded: &Loaded,
    layer_id: &str,
    indicator_ids: &[String],
    tile: TileId,
) -> Result<(Bytes, Vec<usize>), MapError> {
    encode_within(loaded, layer_id, indicator_ids, tile, None).map(|t| (t.bytes, t.listed))
}

/// A district's shapes on the tile grid, encoded (MVT geometry as packed varints: a few bytes
/// a vertex, and encoded once however often the tile is written).
struct Candidate {
    district: usize,
    area: f64,
    geometry: Vec<u8>,
}

/// Encodes one vector tile, leaving out the smallest districts when it would be larger than
/// `limit` bytes (`None`: no limit). See [`encode_listed`] for what is in a tile.
pub fn encode_within(
    loaded: &Loaded,
    layer_id: &str,
    indicator_ids: &[String],
    tile: TileId,
    limit: Option<usize>,
) -> Result<EncodedTile, MapError> {
    let layer = loaded.layer(layer_id)?;
    let band = loaded.bands(layer_id)?.band(tile.z);
    encode_in_band(layer, band, indicator_ids, tile, limit)
}

/// [`encode_within`] from a zoom band the caller holds (one built for an archive alone,
/// [`districts::simplify::BandBuilder`]), which must be the band serving the tile's zoom.
pub fn encode_in_band(
    layer: &Layer,
    band: &Band,
    indicator_ids: &[String],
    tile: TileId,
    limit: Option<usize>,
) -> Result<EncodedTile, MapError> {
    if !band.covers(tile.z) {
        let (lo, hi) = band.zooms();
        return Err(MapError::internal(
            "vector tile encoding",
            format!(
                "a zoom {} tile asked of the band of zooms {lo}-{hi}",
                tile.z
            ),
        ));
    }
    let layer_id = layer.meta.id.as_str();
    let inds: Vec<&Indicator> = indicator_ids
        .iter()
        .filter_map(|id| layer.indicator(id))
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    clipped(band, tile, |district, area, shapes| {
        candidates.push(Candidate {
            district,
            area,
            geometry: encode_rings_packed(&shapes),
        });
    });
    let all = write_tile(layer, layer_id, &inds, &candidates, None)?;
    let Some(limit) = limit.filter(|l| all.len() > *l) else {
        return Ok(EncodedTile {
            bytes: all,
            listed: candidates.iter().map(|c| c.district).collect(),
            dropped: 0,
        });
    };
    // Too big: keep the largest districts. The most that fit is found by bisection over the
    // number kept (the size grows with it), a dozen encodes on the few tiles that need it.
    let mut by_area: Vec<usize> = (0..candidates.len()).collect();
    by_area.sort_by(|&a, &b| {
        candidates[b]
            .area
            .total_cmp(&candidates[a].area)
            .then(candidates[a].district.cmp(&candidates[b].district))
    });
    let (mut fits, mut too_many) = (0usize, candidates.len());
    let mut best = write_tile(layer, layer_id, &inds, &candidates, Some(&[]))?;
    while too_many - fits > 1 {
        let mid = fits + (too_many - fits) / 2;
        let bytes = write_tile(layer, layer_id, &inds, &candidates, Some(&by_area[..mid]))?;
        if bytes.len() <= limit {
            fits = mid;
            best = bytes;
        } else {
            too_many = mid;
        }
    }
    let mut kept: Vec<usize> = by_area[..fits].to_vec();
    kept.sort_unstable();
    Ok(EncodedTile {
        bytes: best,
        listed: kept.iter().map(|&k| candidates[k].district).collect(),
        dropped: candidates.len() - fits,
    })
}

/// Each district of `band` with something in `tile` (its buffer included), in layer order:
/// its position, area at the band and shapes on the tile grid. Districts smaller than a tile
/// unit are left out; one that collapses on the grid becomes a one-unit square where it is
/// at least a unit, or in the tile holding its first vertex.
fn clipped(
    band: &Band,
    tile: TileId,
    mut keep: impl FnMut(usize, f64, i_overlay::i_shape::int::shape::IntShapes),
) {
    let b = tile.mercator_bounds();
    let pad = BUFFER * b.width() / f64::from(EXTENT);
    let hits = band.query(b.min_x - pad, b.min_y - pad, b.max_x + pad, b.max_y + pad);
    let geoms = band.geometry();
    let areas = band.areas();
    let frame = TileFrame::new(&b);
    let unit_area = frame.unit_area();
    let mut overlay = tile_overlay();
    for &i in &hits {
        if areas[i] < unit_area {
            continue;
        }
        let geometry = &geoms[i].0;
        let shapes = match clip_and_repair(geometry, frame, &mut overlay) {
            Clipped::Rings(shapes) => shapes,
            Clipped::Collapsed { area, at } => {
                if area >= 1.0 {
                    unit_square(at)
                } else if anchored_in(geometry, tile) {
                    let anchor = geometry.0[0].exterior().0[0];
                    unit_square([
                        (anchor.x - b.min_x) * f64::from(EXTENT) / b.width(),
                        (b.max_y - anchor.y) * f64::from(EXTENT) / b.width(),
                    ])
                } else {
                    continue;
                }
            }
            Clipped::Outside => continue,
        };
        keep(i, areas[i], shapes);
    }
}

/// The lowest zoom from which every tile of `layer_id` (over the layer's extent, with these
/// indicators) holds every district it touches under the size limit `limit`: the zoom the
/// TileJSON announces, so a client knows where the map is whole. Zooms are encoded from 0
/// up, both cores at once, until two zooms in a row drop nothing while every district is at
/// least a tile unit (below that a district is left out of its zoom whatever the limit, so a
/// shallow zoom of sub-unit small areas says nothing about the zooms where they appear); from
/// there tiles only get smaller, each covering a quarter of its parent (four whole zooms in a
/// row also settle it, should a sliver stay under a unit). `None` when tiles still drop
/// districts at `loaded.max_zoom`. Stops with a "cancelled" error once `cancelled()` says so
/// (a request that timed out). Costly on small-area layers (about a second for LSOAs): the
/// server keeps it per layer and indicators ([`Loaded::complete_from_zoom`]).
pub fn complete_from_zoom(
    loaded: &Loaded,
    layer_id: &str,
    indicator_ids: &[String],
    limit: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Option<u8>, MapError> {
    use rayon::prelude::*;
    let layer = loaded.layer(layer_id)?;
    let Some([w, s, e, n]) = crate::export::layer_bounds(layer) else {
        return Ok(Some(0));
    };
    let (w, e, s, n) = (w.max(-180.0), e.min(180.0), s.max(-85.05), n.min(85.05));
    let bands = loaded.bands(layer_id)?;
    let mut first_whole: Option<u8> = None;
    for z in 0..=loaded.max_zoom {
        let drops = tile_math::tiles_covering(w, s, e, n, z)
            .par_iter()
            .map(|t| {
                if cancelled() {
                    return Err(MapError::cancelled(
                        "finding the zoom from which vector tiles hold every district",
                    ));
                }
                encode_within(loaded, layer_id, indicator_ids, *t, Some(limit))
                    .map(|tile| tile.dropped > 0)
            })
            .try_reduce(|| false, |a, b| Ok(a || b))?;
        let unit_area = TileFrame::new(
            &TileId::new(z, 0, 0, z)
                .map_err(|e| MapError::internal("the complete-from zoom", e.to_string()))?
                .mercator_bounds(),
        )
        .unit_area();
        let all_shown = bands.areas(z).iter().all(|a| *a >= unit_area);
        match (drops, first_whole) {
            (true, _) => first_whole = None,
            (false, None) => first_whole = Some(z),
            // Four whole zooms in a row settle it even if a sliver stays under a unit.
            (false, Some(first)) if all_shown || z >= first + 3 => return Ok(Some(first)),
            (false, Some(_)) => {}
        }
    }
    Ok(first_whole)
}

/// Writes the MVT of `candidates` (only those at the positions `keep` lists, in candidate
/// order, when given).
fn write_tile(
    layer: &Layer,
    layer_id: &str,
    inds: &[&Indicator],
    candidates: &[Candidate],
    keep: Option<&[usize]>,
) -> Result<Bytes, MapError> {
    let mut chosen: Vec<usize> = match keep {
        Some(k) => k.to_vec(),
        None => (0..candidates.len()).collect(),
    };
    chosen.sort_unstable();
    let mut out = LayerWriter::new(layer_id, EXTENT);
    for &k in &chosen {
        let c = &candidates[k];
        let i = c.district;
        let d = &layer.districts[i];
        let values = inds.iter().filter_map(|ind| {
            let value = match ind.period(&ind.default_period).map(|p| &p.values) {
                Some(PeriodValues::Numeric(v)) => v[i].map(Value::Double),
                Some(PeriodValues::Categorical(v)) => v[i].as_deref().map(Value::Str),
                None => None,
            };
            value.map(|v| (ind.meta.id.as_str(), v))
        });
        let attributes = [("code", Value::Str(&d.code)), ("name", Value::Str(&d.name))]
            .into_iter()
            .chain(values);
        out.polygon(i as u64, attributes, &c.geometry);
    }
    Ok(Bytes::from(out.finish()))
}

/// Whether the district's first vertex lies in the tile (half-open: each point is in exactly
/// one tile of a zoom), the tile where a collapsing district is still drawn.
fn anchored_in(geometry: &geo_types::MultiPolygon<f64>, tile: TileId) -> bool {
    let Some(anchor) = geometry.0.first().and_then(|p| p.exterior().0.first()) else {
        return false;
    };
    let size = tile_math::tile_size_metres(tile.z);
    let tx = ((anchor.x + tile_math::HALF_WORLD) / size).floor();
    let ty = ((tile_math::HALF_WORLD - anchor.y) / size).floor();
    tx == f64::from(tile.x) && ty == f64::from(tile.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    /// The tile the `mvt` crate makes of the same districts: how tiles were written before
    /// the streaming writer (`mvt_writer`), whose bytes must be the same.
    fn with_mvt_crate(layer: &Layer, band: &Band, inds: &[&Indicator], tile: TileId) -> Vec<u8> {
        let out = mvt::Tile::new(EXTENT);
        let mut mvt_layer = Some(out.create_layer(&layer.meta.id));
        clipped(band, tile, |i, _, shapes| {
            let geom = crate::tile_geometry::encode_rings(&shapes).expect("encodes");
            let d = &layer.districts[i];
            let mut f = mvt_layer.take().expect("layer").into_feature(geom);
            f.set_id(i as u64);
            f.add_tag_string("code", &d.code);
            f.add_tag_string("name", &d.name);
            for ind in inds {
                match ind.period(&ind.default_period).map(|p| &p.values) {
                    Some(PeriodValues::Numeric(v)) => {
                        if let Some(x) = v[i] {
                            f.add_tag_double(&ind.meta.id, x);
                        }
                    }
                    Some(PeriodValues::Categorical(v)) => {
                        if let Some(s) = &v[i] {
                            f.add_tag_string(&ind.meta.id, s);
                        }
                    }
                    None => {}
                }
            }
            mvt_layer = Some(f.into_layer());
        });
        let mvt_layer = mvt_layer.expect("layer");
        let mut out = out;
        if mvt_layer.num_features() > 0 {
            out.add_layer(mvt_layer).expect("added");
        }
        out.to_bytes().expect("bytes")
    }

    /// Issue 11: tiles written feature by feature are the `mvt` crate's, byte for byte: every
    /// lad19 tile to zoom 8 with all its indicators (numbers, categories, values missing, and
    /// names equal to other strings), and LSOA tiles from the densest (zoom 5, some 20,000
    /// districts) to full detail.
    #[test]
    fn tiles_are_the_mvt_crates_byte_for_byte() {
        let catalog = districts::catalog::Catalog::load(
            &test_support::catalog_path(),
            &test_support::data_dir(),
        )
        .expect("catalogue");
        let load = |layer: &str, only: Option<Vec<String>>| {
            let opts = crate::loaded::LoadOptions {
                layers: vec![layer.into()],
                only_indicators: only,
                ..Default::default()
            };
            Loaded::load(&catalog, &opts).expect("loads")
        };
        let lad = load("lad19", None);
        let lsoa = load("lsoa11", Some(vec!["imd_rank".into(), "imd_decile".into()]));
        let mut compared = 0;
        let mut check = |loaded: &Loaded, id: &str, tiles: Vec<TileId>| {
            let layer = loaded.layer(id).expect("layer");
            let inds = tile_indicators(layer, Some("all")).expect("indicators");
            let ids: Vec<String> = inds.iter().map(|i| i.meta.id.clone()).collect();
            let bands = loaded.bands(id).expect("bands");
            for t in tiles {
                let band = bands.band(t.z);
                let ours = encode_in_band(layer, band, &ids, t, None).expect("encodes");
                let theirs = with_mvt_crate(layer, band, &inds, t);
                let at = ours
                    .bytes
                    .iter()
                    .zip(theirs.iter())
                    .position(|(a, b)| a != b);
                assert!(
                    ours.bytes[..] == theirs[..],
                    "{id} {t:?}: {} vs {} bytes, first difference at {at:?}: {:?} vs {:?}",
                    ours.bytes.len(),
                    theirs.len(),
                    at.map(|a| &ours.bytes[a.saturating_sub(8)..(a + 16).min(ours.bytes.len())]),
                    at.map(|a| &theirs[a.saturating_sub(8)..(a + 16).min(theirs.len())]),
                );
                compared += usize::from(!ours.bytes.is_empty());
            }
        };
        let [w, s, e, n] =
            crate::export::layer_bounds(lad.layer("lad19").expect("lad19")).expect("an extent");
        let lad_tiles: Vec<TileId> = (0..=8)
            .flat_map(|z| tile_math::tiles_covering(w, s, e, n.min(85.0), z))
            .collect();
        check(&lad, "lad19", lad_tiles);
        let mut lsoa_tiles = tile_math::tiles_covering(-3.0, 51.0, 0.0, 54.0, 5);
        for (z, lon, lat) in [(8, -1.6, 54.97), (12, -0.12, 51.5), (14, -2.24, 53.48)] {
            lsoa_tiles.extend(tile_math::tiles_covering(lon, lat, lon, lat, z));
        }
        check(&lsoa, "lsoa11", lsoa_tiles);
        assert!(compared > 100, "{compared} tiles with districts");
    }

    #[test]
    fn a_world_sized_polygon_is_clipped_into_a_deep_tile() {
        // Most of the Web Mercator square: billions of tile units away at zoom 22.
        let r = 2.0e7;
        let world = geo_types::MultiPolygon(vec![polygon![
            (x: -r, y: -r), (x: r, y: -r), (x: r, y: r), (x: -r, y: r), (x: -r, y: -r)
        ]]);
        let tile = TileId::new(22, 2_097_152, 2_097_151, 22).expect("tile");
        let frame = TileFrame::new(&tile.mercator_bounds());
        let mut ov = tile_overlay();
        let Clipped::Rings(shapes) = clip_and_repair(&world, frame, &mut ov) else {
            panic!("covers the tile");
        };
        // The buffered tile itself, a clockwise square on screen.
        let lo = -(BUFFER as i32);
        let hi = EXTENT as i32 + BUFFER as i32;
        let mut ring = shapes[0][0].clone();
        ring.sort_unstable_by_key(|p| (p.x, p.y));
        assert_eq!(
            ring.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>(),
            vec![(lo, lo), (lo, hi), (hi, lo), (hi, hi)]
        );
        // A polygon far outside the tile leaves nothing.
        let away = geo_types::MultiPolygon(vec![polygon![
            (x: r - 10.0, y: r - 10.0), (x: r, y: r - 10.0), (x: r, y: r), (x: r - 10.0, y: r)
        ]]);
        assert!(matches!(
            clip_and_repair(&away, frame, &mut ov),
            Clipped::Outside
        ));
    }
}
