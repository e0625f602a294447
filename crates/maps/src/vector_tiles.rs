//! Mapbox Vector Tiles of a layer: one MVT layer named after the boundary layer, each district a
//! feature with `code`, `name` and the chosen indicators (default period). The geometry is the
//! same gap-free per-zoom simplification the PNG tiles draw, clipped to the tile plus a buffer.

use bytes::Bytes;
use districts::layer::PeriodValues;
use districts::{Indicator, Layer};
use geo::BooleanOps;
use geo::orient::{Direction, Orient};
use mvt::{GeomEncoder, GeomType, Tile};
use pointy::BBox;
use tile_math::TileId;

use crate::error::{MapError, valid_ids};
use crate::loaded::Loaded;
use crate::options::parse_list;

/// Tile coordinate extent (the MVT default).
pub const EXTENT: u32 = 4096;
/// Geometry kept outside the tile, in tile units, so that strokes join across tile edges.
const BUFFER: f64 = 64.0;
/// Beyond this many tile units from the tile a district is clipped before encoding: the
/// encoder works in i32 tile units (about 2 mm each at zoom 22).
const FAR: f64 = 1.0e8;

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

/// Encodes one vector tile (call it on a blocking thread).
pub fn encode(
    loaded: &Loaded,
    layer_id: &str,
    indicator_ids: &[String],
    tile: TileId,
) -> Result<Bytes, MapError> {
    let layer = loaded.layer(layer_id)?;
    let inds: Vec<&Indicator> = indicator_ids
        .iter()
        .filter_map(|id| layer.indicator(id))
        .collect();
    let bands = loaded.bands(layer_id)?;
    let b = tile.mercator_bounds();
    let pad = BUFFER * b.width() / f64::from(EXTENT);
    let hits = bands.query(
        tile.z,
        b.min_x - pad,
        b.min_y - pad,
        b.max_x + pad,
        b.max_y + pad,
    );
    let geoms = bands.geometry(tile.z);
    let err = |e: mvt::Error| MapError::internal("vector tile encoding", e);

    let mut out = Tile::new(EXTENT);
    let mut mvt_layer = out.create_layer(layer_id);
    for &i in &hits {
        let Some(geom) = encode_geometry(&geoms[i].0, &b).map_err(err)? else {
            continue;
        };
        let d = &layer.districts[i];
        let mut f = mvt_layer.into_feature(geom);
        f.set_id(i as u64);
        f.add_tag_string("code", &d.code);
        f.add_tag_string("name", &d.name);
        for ind in &inds {
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
        mvt_layer = f.into_layer();
    }
    if mvt_layer.num_features() > 0 {
        out.add_layer(mvt_layer).map_err(err)?;
    }
    let bytes = out.to_bytes().map_err(err)?;
    Ok(Bytes::from(bytes))
}

/// One district's geometry in the tile `b` (Mercator bounds), clipped to the tile and its
/// buffer; `None` when nothing of it is left there.
fn encode_geometry(
    geometry: &geo_types::MultiPolygon<f64>,
    b: &tile_math::Bounds,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let extent = f64::from(EXTENT);
    let scale = extent / b.width();
    let pad = BUFFER / scale;
    let to_tile = |c: &geo_types::Coord<f64>| ((c.x - b.min_x) * scale, (b.max_y - c.y) * scale);
    // The encoder clamps points to the buffered tile, but its tile units are i32: a district
    // reaching further than FAR units from the tile is clipped exactly first.
    let far = geometry.0.iter().any(|p| {
        p.exterior().0.iter().any(|c| {
            let (x, y) = to_tile(c);
            x.abs() > FAR || y.abs() > FAR
        })
    });
    // MVT wants exteriors with positive area in tile coordinates (y down), i.e. clockwise in
    // Mercator's y-up coordinates.
    let mp = if far {
        let buffered = geo::Rect::new(
            geo::coord! { x: b.min_x - pad, y: b.min_y - pad },
            geo::coord! { x: b.max_x + pad, y: b.max_y + pad },
        )
        .to_polygon();
        geometry.intersection(&buffered).orient(Direction::Reversed)
    } else {
        geometry.orient(Direction::Reversed)
    };
    let clip = BBox::new([(-BUFFER, -BUFFER), (extent + BUFFER, extent + BUFFER)]);
    let mut enc = GeomEncoder::new(GeomType::Polygon).bbox(clip);
    for poly in &mp.0 {
        // A polygon whose exterior would collapse in this tile is left out with its holes.
        if !ring_survives(poly.exterior(), &to_tile, extent) {
            continue;
        }
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            if !ring_survives(ring, &to_tile, extent) {
                continue;
            }
            // The closing vertex repeats the first; the encoder closes rings itself.
            for c in &ring.0[..ring.0.len() - 1] {
                let (x, y) = to_tile(c);
                enc.add_point(x, y)?;
            }
            enc.complete_geom()?;
        }
    }
    let geom = enc.encode()?;
    Ok((!geom.is_empty()).then_some(geom))
}

/// Whether a ring keeps an area once the encoder has clamped it to the buffered tile and
/// rounded it to tile units: rings wholly outside the tile (they clamp onto its edge), or
/// smaller than a tile unit, would become invalid zero-area geometry.
fn ring_survives(
    ring: &geo_types::LineString<f64>,
    to_tile: &dyn Fn(&geo_types::Coord<f64>) -> (f64, f64),
    extent: f64,
) -> bool {
    let n = ring.0.len().saturating_sub(1);
    if n < 3 {
        return false;
    }
    let snap = |c: &geo_types::Coord<f64>| {
        let (x, y) = to_tile(c);
        (
            x.clamp(-BUFFER, extent + BUFFER).round(),
            y.clamp(-BUFFER, extent + BUFFER).round(),
        )
    };
    // Twice the signed area (shoelace) of the snapped ring.
    let mut twice_area = 0.0;
    let mut prev = snap(&ring.0[n - 1]);
    for c in &ring.0[..n] {
        let p = snap(c);
        twice_area += prev.0 * p.1 - p.0 * prev.1;
        prev = p;
    }
    twice_area.abs() >= 1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn a_world_sized_polygon_is_clipped_into_a_deep_tile() {
        // Most of the Web Mercator square: billions of tile units away at zoom 22.
        let r = 2.0e7;
        let world = geo_types::MultiPolygon(vec![polygon![
            (x: -r, y: -r), (x: r, y: -r), (x: r, y: r), (x: -r, y: r), (x: -r, y: -r)
        ]]);
        let tile = TileId::new(22, 2_097_152, 2_097_151, 22).expect("tile");
        let geom = encode_geometry(&world, &tile.mercator_bounds())
            .expect("encodes")
            .expect("covers the tile");
        assert!(!geom.is_empty());
        // A polygon far outside the tile leaves nothing.
        let away = geo_types::MultiPolygon(vec![polygon![
            (x: r - 10.0, y: r - 10.0), (x: r, y: r - 10.0), (x: r, y: r), (x: r - 10.0, y: r)
        ]]);
        assert!(
            encode_geometry(&away, &tile.mercator_bounds())
                .expect("encodes")
                .is_none()
        );
    }
}
