//! A layer's vector tiles written once into a PMTiles archive (`placemap tiles`), so a
//! newsroom can host an interactive map as one static file (MapLibre reads it with the pmtiles
//! protocol, no tile server). The tiles are the server's own ([`crate::vector_tiles::encode`]),
//! gzip-compressed by the `pmtiles` crate's writer; empty tiles are left out.

use std::io::{Seek, Write};

use pmtiles::{Compression, PmTilesWriter, TileCoord, TileType};
use rayon::prelude::*;
use serde_json::json;

use crate::error::MapError;
use crate::loaded::Loaded;
use crate::vector_tiles::encode;

/// A tile ready for the archive: its PMTiles id (for ordering), coordinate and MVT bytes.
type Encoded = (u64, TileCoord, bytes::Bytes);

/// What went into an archive.
#[derive(Clone, Debug, Default)]
pub struct ArchiveStats {
    /// Tiles covering the extent at the zooms asked for.
    pub tiles_considered: usize,
    /// Tiles written (the others had no district).
    pub tiles_written: usize,
    /// Their total size before compression.
    pub bytes_uncompressed: usize,
}

/// Options of an archive.
#[derive(Clone, Debug)]
pub struct ArchiveOptions {
    /// Indicators carried by each feature (besides code and name).
    pub indicators: Vec<String>,
    /// Lowest zoom written.
    pub min_zoom: u8,
    /// Highest zoom written (inclusive).
    pub max_zoom: u8,
    /// `[minLon, minLat, maxLon, maxLat]`; the layer's extent when `None`.
    pub bbox: Option<[f64; 4]>,
}

/// Encodes every tile of `layer_id` over the extent and zooms, in parallel, and writes the
/// archive to `out`.
pub fn write_pmtiles<W: Write + Seek>(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    out: W,
) -> Result<ArchiveStats, MapError> {
    let layer = state.layer(layer_id)?;
    if opts.min_zoom > opts.max_zoom || opts.max_zoom > state.max_zoom {
        return Err(MapError::bad_request(
            format!("zooms {}..{} are not a range", opts.min_zoom, opts.max_zoom),
            format!(
                "min zoom <= max zoom <= {} (the server's maximum)",
                state.max_zoom
            ),
        ));
    }
    for id in &opts.indicators {
        state.indicator(layer, id)?;
    }
    let Some([w, s, e, n]) = opts.bbox.or_else(|| crate::export::layer_bounds(layer)) else {
        return Err(MapError::bad_request(
            "the layer has no extent",
            "give a bbox",
        ));
    };
    let (w, e) = (w.max(-180.0), e.min(180.0));
    let (s, n) = (s.max(-85.05), n.min(85.05));
    let archive_error = |e: pmtiles::PmtError| MapError::internal("writing PMTiles", e);

    let mut tiles: Vec<Encoded> = Vec::new();
    let mut stats = ArchiveStats::default();
    for z in opts.min_zoom..=opts.max_zoom {
        let ids = tile_math::tiles_covering(w, s, e, n, z);
        stats.tiles_considered += ids.len();
        let encoded: Vec<Result<Option<Encoded>, MapError>> = ids
            .par_iter()
            .map(|t| {
                let body = encode(state, layer_id, &opts.indicators, *t)?;
                if body.is_empty() {
                    return Ok(None);
                }
                let coord = TileCoord::new(t.z, t.x, t.y).map_err(archive_error)?;
                Ok(Some((u64::from(pmtiles::TileId::from(coord)), coord, body)))
            })
            .collect();
        for r in encoded {
            if let Some(t) = r? {
                tiles.push(t);
            }
        }
    }
    // The writer wants increasing tile ids for a compact, quickly read directory.
    tiles.sort_unstable_by_key(|(id, _, _)| *id);

    let vector_layer = json!({
        "id": layer_id,
        "description": layer.meta.title,
        "minzoom": opts.min_zoom,
        "maxzoom": opts.max_zoom,
        "fields": std::iter::once(("code".to_string(), json!("String")))
            .chain(std::iter::once(("name".to_string(), json!("String"))))
            .chain(opts.indicators.iter().map(|id| (id.clone(), json!("Number or String"))))
            .collect::<serde_json::Map<_, _>>(),
    });
    let mut attribution: Vec<&str> = vec![layer.meta.provenance.attribution.as_str()];
    for id in &opts.indicators {
        if let Some(ind) = layer.indicator(id)
            && !attribution.contains(&ind.meta.provenance.attribution.as_str())
        {
            attribution.push(&ind.meta.provenance.attribution);
        }
    }
    let metadata = json!({
        "name": layer.meta.title,
        "attribution": attribution.join(" "),
        "vector_layers": [vector_layer],
    });
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(Compression::Gzip)
        .min_zoom(opts.min_zoom)
        .max_zoom(opts.max_zoom)
        .bounds(w, s, e, n)
        .center((w + e) / 2.0, (s + n) / 2.0)
        .center_zoom(opts.min_zoom.max(opts.max_zoom.min(6)))
        .metadata(&metadata.to_string())
        .create(out)
        .map_err(archive_error)?;
    for (_, coord, body) in &tiles {
        writer.add_tile(*coord, body).map_err(archive_error)?;
        stats.tiles_written += 1;
        stats.bytes_uncompressed += body.len();
    }
    writer.finalize().map_err(archive_error)?;
    Ok(stats)
}
