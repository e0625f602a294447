//! `placemap export`: a layer's districts with their indicator values as GeoJSON (for GIS) or
//! CSV (for spreadsheets), the same output as `GET /layers/{layer}.geojson` and `.csv`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, ValueEnum};
use tile_server::routes::data::{layer_csv, layer_geojson};

use super::Context_;

/// Output format of `placemap export`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    /// RFC 7946 FeatureCollection, WGS84.
    Geojson,
    /// One row per district, no geometry.
    Csv,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Layer (e.g. lad19, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// geojson or csv.
    #[arg(long, value_enum, default_value = "geojson")]
    pub format: ExportFormat,
    /// Indicators to include (comma-separated; default all; empty for none).
    #[arg(long)]
    pub indicators: Option<String>,
    /// default (each indicator's default period) or all (every period, as id_period).
    #[arg(long)]
    pub periods: Option<String>,
    /// Only districts whose bounding box meets minLon,minLat,maxLon,maxLat.
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<String>,
    /// GeoJSON: the map's simplification for this zoom (smaller files).
    #[arg(long)]
    pub zoom: Option<u8>,
    /// GeoJSON: decimals of coordinates (default 6).
    #[arg(long)]
    pub precision: Option<usize>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl ExportArgs {
    /// The options as the HTTP route's query parameters.
    fn query(&self) -> HashMap<String, String> {
        let mut q = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                q.insert(k.to_string(), v);
            }
        };
        put("indicators", self.indicators.clone());
        put("periods", self.periods.clone());
        put("bbox", self.bbox.clone());
        put("zoom", self.zoom.map(|z| z.to_string()));
        put("precision", self.precision.map(|p| p.to_string()));
        q
    }
}

pub fn run(ctx: &Context_, a: ExportArgs) -> Result<ExitCode> {
    let wanted: Option<Vec<String>> = a.indicators.as_deref().map(|l| {
        l.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let state = std::sync::Arc::new(ctx.server_state(&a.layer, wanted.as_deref())?);
    let layer = state.layer(&a.layer).map_err(|e| anyhow!("{e}"))?;
    let q = a.query();
    let hint = |e: tile_server::error::ApiError| anyhow!("{e} ({})", e.hint().unwrap_or_default());
    let body = match a.format {
        ExportFormat::Geojson => layer_geojson(&state, layer, &q).map_err(hint)?,
        ExportFormat::Csv => {
            if a.zoom.is_some() || a.precision.is_some() {
                return Err(anyhow!(
                    "--zoom and --precision apply to --format geojson only"
                ));
            }
            layer_csv(layer, &q).map_err(hint)?
        }
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, &body).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .write_all(body.as_bytes())
            .context("writing to standard output")?,
    }
    if !ctx.quiet
        && let Some(path) = &a.out
    {
        eprintln!("placemap: wrote {} ({} bytes)", path.display(), body.len());
    }
    Ok(ExitCode::SUCCESS)
}
