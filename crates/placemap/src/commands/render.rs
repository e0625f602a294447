//! `placemap render`: a static, publication-ready map to a PNG or SVG file (the same figure as
//! `GET /static/{layer}/{indicator}.{png,svg}`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use tile_server::staticmap::{self, Format};

use super::Context_;

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
    /// Title (default: the indicator's title).
    #[arg(long)]
    pub title: Option<String>,
    /// Subtitle (default: extent, layer and period).
    #[arg(long)]
    pub subtitle: Option<String>,
    /// Width in px.
    #[arg(long)]
    pub width: Option<u32>,
    /// Height in px.
    #[arg(long)]
    pub height: Option<u32>,
    /// Scale for print (2 or 3 for 300 dpi figures).
    #[arg(long)]
    pub scale: Option<f32>,
    /// A region (e.g. "North East"); default all of England.
    #[arg(long)]
    pub region: Option<String>,
    /// A bounding box minLon,minLat,maxLon,maxLat.
    #[arg(long, allow_hyphen_values = true)]
    pub bbox: Option<String>,
    /// A list of district codes to map.
    #[arg(long)]
    pub districts: Option<String>,
    /// No London inset.
    #[arg(long)]
    pub no_inset: bool,
    /// Districts to outline and label (codes, comma-separated).
    #[arg(long)]
    pub highlight: Option<String>,
    /// Classification: quantile, equal, jenks, stddev, manual.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Number of classes (2..9).
    #[arg(long)]
    pub k: Option<u32>,
    /// Manual class upper bounds, comma-separated.
    #[arg(long)]
    pub breaks: Option<String>,
    /// Palette (ColorBrewer name, viridis, cividis...).
    #[arg(long)]
    pub palette: Option<String>,
    /// Reverse the palette.
    #[arg(long)]
    pub reverse: bool,
    /// Period (year) to map.
    #[arg(long)]
    pub year: Option<String>,
    /// Change between two periods, FROM..TO.
    #[arg(long)]
    pub change: Option<String>,
    /// diff (default) or pct.
    #[arg(long)]
    pub change_kind: Option<String>,
    /// A second indicator for a bivariate (3 x 3) map against this one.
    #[arg(long)]
    pub bivariate: Option<String>,
    /// Period of the second indicator of a bivariate map.
    #[arg(long)]
    pub bivariate_year: Option<String>,
    /// Midpoint of a diverging palette (a number or `median`).
    #[arg(long, allow_hyphen_values = true)]
    pub midpoint: Option<String>,
}

impl RenderArgs {
    /// The options as the HTTP route takes them.
    fn query(&self) -> HashMap<String, String> {
        let mut q = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                q.insert(k.to_string(), v);
            }
        };
        put("title", self.title.clone());
        put("subtitle", self.subtitle.clone());
        put("width", self.width.map(|v| v.to_string()));
        put("height", self.height.map(|v| v.to_string()));
        put("scale", self.scale.map(|v| v.to_string()));
        put("region", self.region.clone());
        put("bbox", self.bbox.clone());
        put("districts", self.districts.clone());
        put("inset", self.no_inset.then(|| "false".to_string()));
        put("highlight", self.highlight.clone());
        put("scheme", self.scheme.clone());
        put("k", self.k.map(|v| v.to_string()));
        put("breaks", self.breaks.clone());
        put("palette", self.palette.clone());
        put("reverse", self.reverse.then(|| "true".to_string()));
        put("year", self.year.clone());
        put("change", self.change.clone());
        put("change_kind", self.change_kind.clone());
        put("midpoint", self.midpoint.clone());
        put("bivariate", self.bivariate.clone());
        put("bivariate_year", self.bivariate_year.clone());
        q
    }
}

pub fn run(ctx: &Context_, a: RenderArgs) -> Result<ExitCode> {
    let ext = a.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = Format::from_extension(ext) else {
        bail!(
            "--out {}: the file must end in .png or .svg",
            a.out.display()
        );
    };
    let wanted: Vec<String> = std::iter::once(a.indicator.clone())
        .chain(a.bivariate.clone())
        .collect();
    let state = ctx.server_state(&a.layer, Some(&wanted))?;
    let layer = state.layer(&a.layer).map_err(|e| anyhow!("{e}"))?;
    let ind = state
        .indicator(layer, &a.indicator)
        .map_err(|e| anyhow!("{e}: {}", e.hint().unwrap_or_default()))?;
    let bytes = staticmap::render(&state, layer, ind, &a.query(), format)
        .map_err(|e| anyhow!("{e} ({})", e.hint().unwrap_or_default()))?;
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    if !ctx.quiet {
        eprintln!(
            "placemap: wrote {} ({} bytes)",
            a.out.display(),
            bytes.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
