//! `placemap tiles`: a layer's vector tiles in one PMTiles archive, for maps hosted as static
//! files (see `tile_server::archive`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use tile_server::archive::{ArchiveOptions, write_pmtiles};

use super::Context_;

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
    pub bbox: Option<String>,
    /// The archive to write (.pmtiles).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(ctx: &Context_, a: TilesArgs) -> Result<ExitCode> {
    let state = std::sync::Arc::new(ctx.server_state(&a.layer, Some(&a.indicators))?);
    let layer = state.layer(&a.layer).map_err(|e| anyhow!("{e}"))?;
    let indicators = if a.indicators.is_empty() {
        layer.meta.default_indicator.iter().cloned().collect()
    } else {
        a.indicators.clone()
    };
    let bbox = match &a.bbox {
        Some(b) => Some(
            tile_server::params::parse_bbox(b)
                .map_err(|e| anyhow!("--bbox: {e} ({})", e.hint().unwrap_or_default()))?,
        ),
        None => None,
    };
    let opts = ArchiveOptions {
        indicators,
        min_zoom: a.min_zoom,
        max_zoom: a.max_zoom,
        bbox,
    };
    // Written beside the target and renamed when complete, so a failure leaves no half archive.
    let partial = a.out.with_extension("pmtiles.partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let pb = ctx.spinner(format!(
        "encoding {} z{}..z{}",
        a.layer, a.min_zoom, a.max_zoom
    ));
    let stats = write_pmtiles(&state, &a.layer, &opts, std::io::BufWriter::new(file));
    pb.finish_and_clear();
    let stats = match stats {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow!("{e} ({})", e.hint().unwrap_or_default()));
        }
    };
    std::fs::rename(&partial, &a.out)
        .with_context(|| format!("moving {} to {}", partial.display(), a.out.display()))?;
    if !ctx.quiet {
        eprintln!(
            "placemap: wrote {} ({} tiles of {} with districts, {:.1} MB before compression)",
            a.out.display(),
            stats.tiles_written,
            stats.tiles_considered,
            stats.bytes_uncompressed as f64 / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}
