//! `placemap publish`: a map as a folder of static files for any static host or CDN (see
//! `maps::publish`): the page, the vector tiles in one PMTiles archive, the style, legend,
//! figure, data and metadata.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use maps::StyleOptions;
use maps::publish::{PublishOptions, publish_with};

use super::{Context_, hinted};

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// Layer (e.g. lad23, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// Indicator (e.g. imd25_score; `id@N` for version N of an uploaded dataset).
    #[arg(long)]
    pub indicator: String,
    /// The page's title (default: the indicator's title).
    #[arg(long)]
    pub title: Option<String>,
    /// Lowest zoom of the tiles.
    #[arg(long, default_value_t = 0)]
    pub min_zoom: u8,
    /// Highest zoom of the tiles (at most 16).
    #[arg(long, default_value_t = 10)]
    pub max_zoom: u8,
    /// Replace the folder if it exists and is not empty.
    #[arg(long)]
    pub force: bool,
    /// Keep every district in every tile, however large (by default a tile over 500 KB leaves
    /// out its smallest districts, as tippecanoe does).
    #[arg(long)]
    pub no_tile_size_limit: bool,
    /// The folder to write (created; written beside and renamed into place when complete).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub style: StyleOptions,
}

pub fn run(ctx: &Context_, a: PublishArgs) -> Result<ExitCode> {
    let wanted = vec![a.indicator.clone()];
    let maps = ctx.maps(&a.layer, Some(&wanted))?;
    let opts = PublishOptions {
        layer: a.layer.clone(),
        indicator: a.indicator.clone(),
        style: a.style.clone(),
        title: a.title.clone(),
        min_zoom: a.min_zoom,
        max_zoom: a.max_zoom,
        force: a.force,
        no_tile_size_limit: a.no_tile_size_limit,
        // Nothing else reads the per-zoom geometry: one band at a time (issue 11).
        bands: maps::archive::ArchiveBands::OneAtATime,
    };
    let pb = ctx.progress_bar(
        format!(
            "publishing {}/{} z{}..z{}",
            a.layer, a.indicator, a.min_zoom, a.max_zoom
        ),
        "tiles",
    );
    let progress = super::progress_of(&pb);
    let done = publish_with(&maps, &opts, &a.out, &progress).map_err(hinted);
    pb.finish_and_clear();
    let done = done?;
    if !ctx.quiet {
        let bytes: u64 = done.files.iter().map(|(_, n)| n).sum();
        eprintln!(
            "placemap: wrote {} ({} files, {:.1} MB); serve it from any static host, e.g. `npx http-server {}`",
            done.out.display(),
            done.files.len(),
            bytes as f64 / 1e6,
            done.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
