//! `placemap render`: a static, publication-ready map to a PNG or SVG file (the same figure as
//! `GET /static/{layer}/{indicator}.{png,svg}`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use maps::figure::{self, Format};
use maps::{FigureOptions, StyleOptions};

use super::{Context_, check_out, hinted, write_whole};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Layer (e.g. lad19, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// Indicator (e.g. imd_score).
    #[arg(long)]
    pub indicator: String,
    /// Output file; the extension (.png or .svg) picks the format.
    #[arg(long)]
    pub out: PathBuf,
    /// No London inset.
    #[arg(long)]
    pub no_inset: bool,
    #[command(flatten)]
    pub frame: FigureOptions,
    #[command(flatten)]
    pub style: StyleOptions,
}

pub fn run(ctx: &Context_, mut a: RenderArgs) -> Result<ExitCode> {
    check_out(&a.out)?;
    let ext = a.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = Format::from_extension(ext) else {
        bail!(
            "--out {}: the file must end in .png or .svg",
            a.out.display()
        );
    };
    if a.no_inset {
        a.frame.inset = Some(false);
    }
    let wanted: Vec<String> = std::iter::once(a.indicator.clone())
        .chain(a.style.bivariate.clone())
        .collect();
    let maps = ctx.maps(&a.layer, Some(&wanted))?;
    let layer = maps.layer(&a.layer).map_err(hinted)?;
    let ind = maps.indicator(layer, &a.indicator).map_err(hinted)?;
    let bytes =
        figure::render(&maps.styles, layer, ind, &a.style, &a.frame, format).map_err(hinted)?;
    write_whole(&a.out, &bytes)?;
    if !ctx.quiet {
        eprintln!(
            "placemap: wrote {} ({} bytes)",
            a.out.display(),
            bytes.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
