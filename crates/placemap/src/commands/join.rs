//! `placemap join`: the join report of every indicator table on a layer.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::Args;

use super::Context_;

#[derive(Args, Debug)]
pub struct JoinArgs {
    /// Layer whose joins to report (e.g. lad19).
    #[arg(long)]
    pub layer: String,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when any code is unmatched either way.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(ctx: &Context_, a: JoinArgs) -> Result<ExitCode> {
    let catalog = ctx.catalog()?;
    // With the layers its derived indicators and recombination weights need, so the reports
    // say what start-up makes of every district (recombined or why not).
    let opts = maps::LoadOptions {
        layers: catalog.layers_for(&a.layer, None),
        ..maps::LoadOptions::default()
    };
    let pb = ctx.spinner(format!("loading {}", a.layer));
    let loaded = maps::Loaded::load(&catalog, &opts);
    pb.finish_and_clear();
    let loaded = loaded?;
    let layer = loaded
        .atlas
        .layer(&a.layer)
        .ok_or_else(|| anyhow!("layer {} did not load", a.layer))?;
    let reports: Vec<&districts::join::JoinReport> =
        layer.indicators.iter().map(|i| &i.report).collect();
    if a.json {
        let out = serde_json::json!({
            "layer": layer.meta.id,
            "districts": layer.districts.len(),
            "load_notes": layer.load_notes,
            "reports": reports,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "layer {} ({}): {} districts",
            layer.meta.id,
            layer.meta.title,
            layer.districts.len()
        );
        if !layer.load_notes.is_empty() {
            println!("load notes ({}):", layer.load_notes.len());
            for n in &layer.load_notes {
                println!("  {n}");
            }
        }
        for r in &reports {
            println!("{r}");
        }
    }
    let incomplete: Vec<&str> = layer
        .indicators
        .iter()
        .filter(|i| !i.report.is_complete())
        .map(|i| i.meta.id.as_str())
        .collect();
    if a.strict && !incomplete.is_empty() {
        eprintln!(
            "placemap: --strict: unmatched codes in {} of {} joins: {}",
            incomplete.len(),
            reports.len(),
            incomplete.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
