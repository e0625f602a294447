//! `placemap layers`: what the catalogue offers.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Context_;

#[derive(Args, Debug)]
pub struct LayersArgs {
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context_, a: LayersArgs) -> Result<ExitCode> {
    let catalog = ctx.catalog()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&catalog)?);
        return Ok(ExitCode::SUCCESS);
    }
    for layer in &catalog.layers {
        println!(
            "{:<10} {} ({}), {}",
            layer.id, layer.title, layer.vintage, layer.file
        );
        for (source, spec) in catalog.indicators_for_layer(&layer.id) {
            println!(
                "    {:<36} {} [{}] from {}",
                spec.id, spec.title, spec.unit, source.file
            );
        }
        for d in catalog.derived.iter().filter(|d| d.layer == layer.id) {
            let how = match (&d.from, &d.how) {
                (Some(from), Some(how)) => format!("{how} of {from}.{}", d.indicator),
                _ => format!("LISA clusters of {}", d.indicator),
            };
            println!("    {:<36} {} [{}] derived: {how}", d.id, d.title, d.unit);
        }
    }
    Ok(ExitCode::SUCCESS)
}
