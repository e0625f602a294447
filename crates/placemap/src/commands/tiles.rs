//! `placemap tiles`: a layer's vector tiles in one PMTiles archive, for maps hosted as static
//! files, or in an MBTiles file (see `maps::archive`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use maps::archive::{
    ArchiveBands, ArchiveOptions, TileSpool, write_mbtiles_with, write_pmtiles_with,
};
use maps::loaded::LookupIndex;
use maps::options::Bbox;

use super::{Context_, check_out, hinted, write_whole_with};

/// Archive format of `placemap tiles`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArchiveFormat {
    /// PMTiles v3 (one static file, read with the pmtiles protocol).
    Pmtiles,
    /// MBTiles 1.3 (SQLite).
    Mbtiles,
}

#[derive(Args, Debug)]
pub struct TilesArgs {
    /// Layer (e.g. lad19, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// Indicators carried by each district (comma-separated; default: the layer's default).
    #[arg(long, value_delimiter = ',')]
    pub indicators: Vec<String>,
    /// Lowest zoom.
    #[arg(long, default_value_t = 0)]
    pub min_zoom: u8,
    /// Highest zoom.
    #[arg(long, default_value_t = 10)]
    pub max_zoom: u8,
    /// Only tiles over minLon,minLat,maxLon,maxLat (default: the layer's extent).
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<Bbox>,
    /// The archive to write (.pmtiles or .mbtiles).
    #[arg(long)]
    pub out: PathBuf,
    /// pmtiles or mbtiles (default: from the extension of --out, else pmtiles).
    #[arg(long, value_enum)]
    pub format: Option<ArchiveFormat>,
    /// Keep every district in every tile, however large (by default a tile over 500 KB leaves
    /// out its smallest districts, as tippecanoe does).
    #[arg(long)]
    pub no_tile_size_limit: bool,
}

pub fn run(ctx: &Context_, a: TilesArgs) -> Result<ExitCode> {
    check_out(&a.out)?;
    let format = a.format.unwrap_or_else(|| {
        let mbtiles = a
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mbtiles"));
        if mbtiles {
            ArchiveFormat::Mbtiles
        } else {
            ArchiveFormat::Pmtiles
        }
    });
    let catalog = ctx.catalog()?;
    let indicators: Vec<String> = if a.indicators.is_empty() {
        catalog
            .layer(&a.layer)
            .and_then(|l| l.default_indicator.clone())
            .into_iter()
            .collect()
    } else {
        a.indicators.clone()
    };
    // Only the tables of the indicators written are read (see `LoadOptions::only_indicators`),
    // without the lookup index, and the bands are built one at a time: the archive's peak
    // memory (issue 11).
    let maps = ctx.maps_of(&catalog, &a.layer, &indicators, LookupIndex::Skipped)?;
    let opts = ArchiveOptions {
        indicators,
        min_zoom: a.min_zoom,
        max_zoom: a.max_zoom,
        bbox: a.bbox.map(|b| b.0),
        tile_size_limit: (!a.no_tile_size_limit).then_some(maps::vector_tiles::TILE_SIZE_LIMIT),
        bands: ArchiveBands::OneAtATime,
        // The encoded tiles wait on the archive's disk, not in memory (issue 11).
        spool: TileSpool::TempFileIn(match a.out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }),
    };
    let pb = ctx.progress_bar(
        format!("encoding {} z{}..z{}", a.layer, a.min_zoom, a.max_zoom),
        "tiles",
    );
    let progress = super::progress_of(&pb);
    // Written beside the target and renamed when complete, so a failure leaves no half archive.
    let stats = write_whole_with(&a.out, |file| {
        let out = std::io::BufWriter::new(file);
        match format {
            ArchiveFormat::Pmtiles => write_pmtiles_with(&maps, &a.layer, &opts, out, &progress),
            ArchiveFormat::Mbtiles => write_mbtiles_with(&maps, &a.layer, &opts, out, &progress),
        }
        .map_err(hinted)
    });
    pb.finish_and_clear();
    let stats = stats?;
    if !ctx.quiet {
        eprintln!(
            "placemap: wrote {} ({} tiles of {} with districts, {:.1} MB, {:.1} MB before compression)",
            a.out.display(),
            stats.tiles_written,
            stats.tiles_considered,
            stats.bytes_compressed as f64 / 1e6,
            stats.bytes_uncompressed as f64 / 1e6
        );
        match stats.complete_from_zoom {
            Some(z) if stats.features_dropped > 0 => eprintln!(
                "placemap: tiles over 500 KB left out {} small districts in all; every district is in every tile from zoom {z} (--no-tile-size-limit keeps them all)",
                stats.features_dropped
            ),
            None => eprintln!(
                "placemap: tiles over 500 KB left out {} small districts in all, down to the highest zoom written (--no-tile-size-limit keeps them all)",
                stats.features_dropped
            ),
            Some(_) => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}
