//! A layer's vector tiles written once into a PMTiles archive (`placemap tiles`), so a
//! newsroom can host an interactive map as one static file (MapLibre reads it with the pmtiles
//! protocol, no tile server). The tiles are the server's own ([`crate::vector_tiles::encode`]),
//! gzip-compressed by the `pmtiles` crate's writer; empty tiles are left out.
//! The same tiles can go into an MBTiles 1.3 file instead ([`crate::archive::write_mbtiles`], through SQLite),
//! for tools that read MBTiles (tippecanoe-era servers, QGIS, GDAL).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use pmtiles::{Compression, PmTilesWriter, TileCoord, TileType};
use rayon::prelude::*;
use serde_json::json;

use districts::simplify::{Band, BandBuilder};

use crate::error::MapError;
use crate::loaded::Loaded;
use crate::vector_tiles::encode_in_band;

/// A tile ready for the archive: its PMTiles id (for ordering), coordinate and gzipped MVT
/// bytes. Tiles are compressed as they are encoded, on every core (the archive writer would do
/// it on one), and kept compressed (a third of the size of the raw tiles) until written.
type Encoded = (u64, TileCoord, Vec<u8>);

/// Told as tiles are encoded: tiles done, tiles in all (for a progress bar).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// What went into an archive.
#[derive(Clone, Debug, Default)]
pub struct ArchiveStats {
    /// Tiles covering the extent at the zooms asked for.
    pub tiles_considered: usize,
    /// Tiles written (the others had no district).
    pub tiles_written: usize,
    /// Their total size before compression.
    pub bytes_uncompressed: usize,
    /// Their total size compressed (gzip), as stored.
    pub bytes_compressed: usize,
    /// Districts left out of tiles to keep them within the size limit, over all tiles.
    pub features_dropped: usize,
    /// The lowest zoom from which every tile holds every district it touches (`None`: some
    /// tile of the highest zoom written still left districts out).
    pub complete_from_zoom: Option<u8>,
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
    /// Largest tile in bytes; a tile that would be larger leaves out its smallest districts
    /// (`None`: every feature kept, tippecanoe's `--no-tile-size-limit`).
    pub tile_size_limit: Option<usize>,
    /// Where the simplified geometry of the tiles comes from.
    pub bands: ArchiveBands,
    /// Where the encoded tiles wait until the archive is written.
    pub spool: TileSpool,
}

/// Where an archive's encoded tiles wait until the archive is written: its header and
/// metadata come first, and the metadata (from which zoom tiles hold every district) is only
/// known once every tile is encoded. Either way the archive is the same, byte for byte.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TileSpool {
    /// In memory (17.7 MB for the LSOAs at zooms 0-12).
    #[default]
    Memory,
    /// In a temporary file in this directory (the archive's own, so the same disk), written
    /// 1,024 tiles at a time as they are encoded and read back tile by tile: memory then holds
    /// about 1,024 encoded tiles at most (`placemap tiles`). The file has no name (or loses it at once, where the system
    /// cannot make a nameless file): it is gone when closed, whatever stopped the writing.
    TempFileIn(PathBuf),
}

/// The encoded tiles of an archive as they are spooled, then read back in PMTiles id order.
struct Spooled {
    /// Per tile: PMTiles id, coordinate, and where its bytes are (offset and length in the
    /// file, or position in `memory` and 0).
    index: Vec<(u64, TileCoord, u64, usize)>,
    memory: Vec<Vec<u8>>,
    file: Option<std::fs::File>,
    /// Bytes written to the file so far.
    end: u64,
}

impl Spooled {
    fn new(spool: &TileSpool) -> Result<Spooled, MapError> {
        let file = match spool {
            TileSpool::Memory => None,
            TileSpool::TempFileIn(dir) => Some(tempfile::tempfile_in(dir).map_err(|e| {
                MapError::internal(
                    format!(
                        "creating a temporary file in {} for the tiles",
                        dir.display()
                    ),
                    e,
                )
            })?),
        };
        Ok(Spooled {
            index: Vec::new(),
            memory: Vec::new(),
            file,
            end: 0,
        })
    }

    /// Keeps one tile (in memory, or appended to the file).
    fn push(&mut self, (id, coord, gz): Encoded) -> Result<(), MapError> {
        match &mut self.file {
            Some(file) => {
                file.write_all(&gz).map_err(spool_error)?;
                self.index.push((id, coord, self.end, gz.len()));
                self.end += gz.len() as u64;
            }
            None => {
                self.index.push((id, coord, self.memory.len() as u64, 0));
                let mut gz = gz;
                // The encoder's buffer was sized for half the raw tile; most hold a third.
                gz.shrink_to_fit();
                self.memory.push(gz);
            }
        }
        Ok(())
    }

    /// Calls `f` with each tile's coordinate and bytes in increasing tile id, the order the
    /// archive writers want (a compact, quickly read directory).
    fn each(
        mut self,
        mut f: impl FnMut(TileCoord, &[u8]) -> Result<(), MapError>,
    ) -> Result<(), MapError> {
        self.index.sort_unstable_by_key(|(id, ..)| *id);
        let mut buf = Vec::new();
        for &(_, coord, at, len) in &self.index {
            match &mut self.file {
                Some(file) => {
                    buf.resize(len, 0);
                    file.seek(SeekFrom::Start(at)).map_err(spool_error)?;
                    file.read_exact(&mut buf).map_err(spool_error)?;
                    f(coord, &buf)?;
                }
                None => f(coord, &self.memory[at as usize])?,
            }
        }
        Ok(())
    }
}

fn spool_error(e: std::io::Error) -> MapError {
    MapError::internal("keeping the encoded tiles in a temporary file", e)
}

/// Where an archive's per-zoom simplified geometry comes from. Either way the tiles are the
/// same, byte for byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArchiveBands {
    /// The loaded state's per-zoom geometry, built if it is not yet and kept (all six bands):
    /// for a process that also serves tiles.
    #[default]
    Shared,
    /// Built for the archive alone, each band when its first zoom comes and freed after its
    /// last, none kept: a command that writes one archive holds one band at a time, not six
    /// (`placemap tiles`, `placemap publish`).
    OneAtATime,
}

/// The tiles of an archive, encoded, with what describes them.
struct Prepared {
    tiles: Spooled,
    stats: ArchiveStats,
    /// `[w, s, e, n]`, clamped to Web Mercator's range.
    bounds: [f64; 4],
    /// `name`, `attribution` and `vector_layers` (TileJSON).
    metadata: serde_json::Value,
}

/// Encodes and compresses every tile of `layer_id` over the extent and zooms, in parallel.
fn prepare(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    progress: Progress,
) -> Result<Prepared, MapError> {
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
    let io = |e: std::io::Error| MapError::internal("compressing a tile", e);

    let zooms: Vec<(u8, Vec<tile_math::TileId>)> = (opts.min_zoom..=opts.max_zoom)
        .map(|z| (z, tile_math::tiles_covering(w, s, e, n, z)))
        .collect();
    let total: usize = zooms.iter().map(|(_, ids)| ids.len()).sum();
    // For `OneAtATime`: the layer's geometry in place, the topology made from it once, and the
    // band being written.
    let mercator: Vec<&districts::Mercator> = match opts.bands {
        ArchiveBands::Shared => Vec::new(),
        ArchiveBands::OneAtATime => layer.districts.iter().map(|d| &d.mercator).collect(),
    };
    let mut builder: Option<BandBuilder<&districts::Mercator>> = None;
    let mut own: Option<Band> = None;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut tiles = Spooled::new(&opts.spool)?;
    let mut stats = ArchiveStats {
        tiles_considered: total,
        ..ArchiveStats::default()
    };
    let mut last_cut_zoom: Option<u8> = None;
    for (z, ids) in zooms {
        if opts.bands == ArchiveBands::OneAtATime && !own.as_ref().is_some_and(|b| b.covers(z)) {
            // The previous band is freed before the next is built.
            drop(own.take());
            let band = builder
                .get_or_insert_with(|| BandBuilder::new(&mercator))
                .band(z);
            if band.covers(opts.max_zoom) {
                // The last band this archive needs: the topology goes too.
                builder = None;
            }
            own = Some(band);
        }
        let band: &Band = match &own {
            Some(band) => band,
            None => state.bands(layer_id)?.band(z),
        };
        // (tile, raw size, districts dropped) per tile with districts.
        type Done = Option<(Encoded, usize, usize)>;
        // A thousand tiles at a time, spooled before the next are encoded.
        for ids in ids.chunks(1024) {
            let encoded: Vec<Result<Done, MapError>> = ids
                .par_iter()
                .map(|t| {
                    let tile =
                        encode_in_band(layer, band, &opts.indicators, *t, opts.tile_size_limit)?;
                    progress(
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                        total,
                    );
                    if tile.bytes.is_empty() {
                        return Ok(None);
                    }
                    let coord = TileCoord::new(t.z, t.x, t.y).map_err(archive_error)?;
                    let id = u64::from(pmtiles::TileId::from(coord));
                    let mut gz = flate2::write::GzEncoder::new(
                        Vec::with_capacity(tile.bytes.len() / 2),
                        flate2::Compression::default(),
                    );
                    gz.write_all(&tile.bytes).map_err(io)?;
                    let gz = gz.finish().map_err(io)?;
                    Ok(Some(((id, coord, gz), tile.bytes.len(), tile.dropped)))
                })
                .collect();
            for r in encoded {
                if let Some((t, raw, dropped)) = r? {
                    if dropped > 0 {
                        last_cut_zoom = Some(z);
                    }
                    stats.features_dropped += dropped;
                    stats.tiles_written += 1;
                    stats.bytes_uncompressed += raw;
                    stats.bytes_compressed += t.2.len();
                    tiles.push(t)?;
                }
            }
        }
    }
    stats.complete_from_zoom = match last_cut_zoom {
        None => Some(opts.min_zoom),
        Some(z) if z < opts.max_zoom => Some(z + 1),
        Some(_) => None,
    };

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
        // Which zooms may leave small districts out, so a client knows where the map is whole.
        "placemap:tile_size_limit": opts.tile_size_limit,
        "placemap:features_dropped": stats.features_dropped,
        "placemap:complete_from_zoom": stats.complete_from_zoom,
    });
    Ok(Prepared {
        tiles,
        stats,
        bounds: [w, s, e, n],
        metadata,
    })
}

/// Encodes every tile of `layer_id` over the extent and zooms, in parallel, and writes the
/// archive to `out`.
pub fn write_pmtiles<W: Write + Seek>(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    out: W,
) -> Result<ArchiveStats, MapError> {
    write_pmtiles_with(state, layer_id, opts, out, &|_, _| {})
}

/// [`write_pmtiles`], telling `progress` as tiles are encoded.
pub fn write_pmtiles_with<W: Write + Seek>(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    out: W,
    progress: Progress,
) -> Result<ArchiveStats, MapError> {
    let Prepared {
        tiles,
        stats,
        bounds: [w, s, e, n],
        metadata,
    } = prepare(state, layer_id, opts, progress)?;
    let archive_error = |e: pmtiles::PmtError| MapError::internal("writing PMTiles", e);
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
    // Compressed while encoded (gzip, as the header says).
    tiles.each(|coord, gz| writer.add_raw_tile(coord, gz).map_err(archive_error))?;
    writer.finalize().map_err(archive_error)?;
    Ok(stats)
}

/// `application_id` of an MBTiles file ("MPBX").
const MBTILES_APPLICATION_ID: i32 = 0x4d50_4258;

/// Encodes every tile of `layer_id` over the extent and zooms, in parallel, and writes them as
/// an MBTiles 1.3 file to `out`: the `metadata` table (name, format `pbf`, bounds, center,
/// zooms, attribution, and `json` with the `vector_layers`) and the `tiles` table (gzipped
/// MVT, rows in the TMS scheme, counted from the south). SQLite needs a file: the archive is
/// built in a temporary directory and copied to `out`.
pub fn write_mbtiles<W: Write>(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    out: W,
) -> Result<ArchiveStats, MapError> {
    write_mbtiles_with(state, layer_id, opts, out, &|_, _| {})
}

/// [`write_mbtiles`], telling `progress` as tiles are encoded.
pub fn write_mbtiles_with<W: Write>(
    state: &Loaded,
    layer_id: &str,
    opts: &ArchiveOptions,
    mut out: W,
    progress: Progress,
) -> Result<ArchiveStats, MapError> {
    let Prepared {
        tiles,
        stats,
        bounds: [w, s, e, n],
        metadata,
    } = prepare(state, layer_id, opts, progress)?;
    let sql = |e: rusqlite::Error| MapError::internal("writing MBTiles", e);
    let io = |e: std::io::Error| MapError::internal("writing MBTiles", e);
    let dir = tempfile::tempdir().map_err(io)?;
    let path = dir.path().join(format!("{layer_id}.mbtiles"));
    let mut conn = rusqlite::Connection::open(&path).map_err(sql)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         PRAGMA application_id = {MBTILES_APPLICATION_ID};
         CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                             tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
    ))
    .map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)")
            .map_err(sql)?;
        tiles.each(|coord, gz| {
            let z = coord.z();
            let tms_row = (1u64 << z) - 1 - u64::from(coord.y());
            insert
                .execute(rusqlite::params![z, coord.x(), tms_row, gz])
                .map(drop)
                .map_err(sql)
        })?;
        let center_zoom = opts.min_zoom.max(opts.max_zoom.min(6));
        let json = serde_json::json!({ "vector_layers": metadata["vector_layers"] });
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let rows: [(&str, String); 11] = [
            ("name", text(&metadata["name"])),
            ("format", "pbf".into()),
            ("bounds", format!("{w},{s},{e},{n}")),
            (
                "center",
                format!("{},{},{center_zoom}", (w + e) / 2.0, (s + n) / 2.0),
            ),
            ("minzoom", opts.min_zoom.to_string()),
            ("maxzoom", opts.max_zoom.to_string()),
            ("attribution", text(&metadata["attribution"])),
            ("description", text(&metadata["name"])),
            ("type", "overlay".into()),
            ("version", "1".into()),
            ("json", json.to_string()),
        ];
        let mut meta = tx
            .prepare("INSERT INTO metadata VALUES (?1, ?2)")
            .map_err(sql)?;
        for (k, v) in rows {
            meta.execute(rusqlite::params![k, v]).map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))?;
    let mut file = std::fs::File::open(&path).map_err(io)?;
    std::io::copy(&mut file, &mut out).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(stats)
}
