//! `placemap export`: a layer's districts with their indicator values as GeoJSON, GeoPackage,
//! FlatGeobuf or a zipped Shapefile (for GIS) or CSV (for spreadsheets), the same output as
//! `GET /layers/{layer}.geojson`, `.gpkg`, `.fgb`, `.shp.zip` and `.csv`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use maps::ExportOptions;
use maps::export::{layer_csv, layer_geojson};
use maps::formats::{GisFormat, layer_file};
use maps::options::parse_list;

use super::{Context_, check_out, hinted, write_whole};

/// Output format of `placemap export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    /// RFC 7946 FeatureCollection, WGS84 (or the CRS of --crs).
    Geojson,
    /// One row per district, no geometry.
    Csv,
    /// OGC GeoPackage with an R-tree index.
    Gpkg,
    /// FlatGeobuf with its spatial index.
    Fgb,
    /// Zipped ESRI Shapefile (.shp, .shx, .dbf, .prj, .cpg; write it as NAME.shp.zip).
    Shp,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Layer (e.g. lad19, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// geojson, csv, gpkg, fgb or shp.
    #[arg(long, value_enum, default_value = "geojson")]
    pub format: ExportFormat,
    #[command(flatten)]
    pub options: ExportOptions,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(ctx: &Context_, a: ExportArgs) -> Result<ExitCode> {
    if let Some(out) = &a.out {
        check_out(out)?;
        let zip = out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if matches!(a.format, ExportFormat::Shp) && !zip {
            bail!(
                "--format shp writes a zip archive of the shapefile's parts: name it {}.shp.zip",
                out.file_stem()
                    .map_or("NAME".into(), |s| s.to_string_lossy())
            );
        }
    }
    let wanted: Option<Vec<String>> = a.options.indicators.as_deref().map(parse_list);
    let maps = ctx.maps(&a.layer, wanted.as_deref())?;
    let layer = maps.layer(&a.layer).map_err(hinted)?;
    let gis = |f: GisFormat| layer_file(layer, &a.options, f).map_err(hinted);
    let body: Vec<u8> = match a.format {
        ExportFormat::Geojson => layer_geojson(&maps, layer, &a.options)
            .map_err(hinted)?
            .into_bytes(),
        ExportFormat::Gpkg => gis(GisFormat::Gpkg)?,
        ExportFormat::Fgb => gis(GisFormat::Fgb)?,
        ExportFormat::Shp => gis(GisFormat::Shp)?,
        ExportFormat::Csv => {
            let o = &a.options;
            if o.zoom.is_some() || o.simplify.is_some() || o.precision.is_some() || o.crs.is_some()
            {
                bail!("--zoom, --simplify, --precision and --crs apply to --format geojson only");
            }
            layer_csv(layer, o).map_err(hinted)?.into_bytes()
        }
    };
    match &a.out {
        Some(path) => write_whole(path, &body)?,
        None => std::io::stdout()
            .write_all(&body)
            .context("writing to standard output")?,
    }
    if !ctx.quiet
        && let Some(path) = &a.out
    {
        eprintln!("placemap: wrote {} ({} bytes)", path.display(), body.len());
    }
    Ok(ExitCode::SUCCESS)
}
