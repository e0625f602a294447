//! `placemap clusters`: global Moran's I and local Moran (LISA) clusters of one indicator on
//! queen contiguity. The same computation as `GET /stats/{layer}/{indicator}/moran|clusters`
//! and as the server's `imd_score_lisa` layer.

use std::fmt::Write as _;
use std::process::ExitCode;

use analysis::query::{self, ClusterRequest};
use analysis::{Cell, Table};
use anyhow::{Result, anyhow};
use clap::Args;

use super::Context_;
use super::aggregate::{OutputFormat, emit};

#[derive(Args, Debug)]
pub struct ClustersArgs {
    /// Layer of districts (e.g. lad19).
    #[arg(long, default_value = "lad19")]
    pub layer: String,
    /// Numeric indicator (e.g. imd_score).
    #[arg(long)]
    pub indicator: String,
    /// Period (default: the indicator's default period).
    #[arg(long)]
    pub period: Option<String>,
    /// Random permutations for the pseudo p-values.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed of the permutations (results are reproducible for a seed).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Significance level of the LISA classes.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Only English districts (codes E...).
    #[arg(long)]
    pub england_only: bool,
    /// Link islands (no queen neighbour) to their k nearest districts.
    #[arg(long)]
    pub knn: Option<usize>,
    /// Only print significant districts in the table.
    #[arg(long)]
    pub significant: bool,
    #[command(flatten)]
    pub format: OutputFormat,
}

pub fn run(ctx: &Context_, a: ClustersArgs) -> Result<ExitCode> {
    let mut o = String::new();
    if a.knn == Some(0) {
        return Err(anyhow!("--knn 0 links nothing; give 1 or more"));
    }
    let catalog = ctx.catalog()?;
    let atlas = ctx.atlas(&catalog, std::slice::from_ref(&a.layer))?;
    let layer = atlas
        .layer(&a.layer)
        .ok_or_else(|| anyhow!("layer {} did not load", a.layer))?;
    let req = ClusterRequest {
        indicator: a.indicator.clone(),
        period: a.period.clone(),
        permutations: a.permutations,
        seed: a.seed,
        alpha: a.alpha,
        england_only: a.england_only,
        knn_islands: a.knn,
    };
    let pb = ctx.spinner(format!("{} permutations", a.permutations));
    let out = query::clusters_on_layer(layer, &req, true);
    pb.finish_and_clear();
    let out = out.map_err(|e| anyhow!("{e} ({})", e.hint()))?;
    if a.format.csv {
        write!(o, "{}", out.lisa_table().to_csv())?;
        return emit(&o);
    }
    let counts = out.class_counts();
    if a.format.json {
        let local = out.local.as_ref();
        let j = serde_json::json!({
            "layer": out.layer, "indicator": out.indicator, "period": out.period,
            "england_only": out.england_only, "excluded": out.excluded, "islands": out.islands,
            "permutations": local.map(|l| l.permutations), "seed": local.map(|l| l.seed),
            "alpha": local.map(|l| l.alpha),
            "moran": out.global,
            "counts": counts.iter().map(|(c, n)| (c.label().to_string(), serde_json::Value::from(*n))).collect::<serde_json::Map<_, _>>(),
            "districts": local.map(|l| l.areas.iter().zip(&out.names).map(|(x, name)| serde_json::json!({
                "code": x.code, "name": name, "value": x.value, "z": x.z, "lag": x.lag,
                "local_i": x.local_i, "quadrant": x.quadrant, "p_sim": x.p_sim, "class": x.class.label(),
            })).collect::<Vec<_>>()),
        });
        writeln!(o, "{}", serde_json::to_string_pretty(&j)?)?;
        return emit(&o);
    }
    let g = &out.global;
    writeln!(
        o,
        "{} ({}) on {}{}: {} districts, {} left out, islands: {}",
        out.indicator,
        out.period,
        out.layer,
        if out.england_only {
            ", England only"
        } else {
            ""
        },
        g.n,
        out.excluded,
        if out.islands.is_empty() {
            "none".to_string()
        } else {
            out.islands.join(", ")
        }
    )?;
    writeln!(
        o,
        "global Moran's I = {:.4}, E[I] = {:.4}, z = {:.2} (normality), p_sim = {} ({} permutations, seed {})",
        g.i,
        g.expected,
        g.z_normal,
        g.p_sim.map_or("n/a".into(), |p| format!("{p:.4}")),
        g.permutations,
        g.seed
    )?;
    writeln!(
        o,
        "LISA classes at alpha {}: {}",
        a.alpha,
        counts
            .iter()
            .map(|(c, n)| format!("{} {n}", c.label()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(o)?;
    let mut t = Table::new(&["code", "name", "value", "p_sim", "class"]);
    if let Some(l) = &out.local {
        for (x, name) in l.areas.iter().zip(&out.names) {
            let significant = !matches!(
                x.class,
                analysis::LisaClass::NotSignificant | analysis::LisaClass::NoNeighbours
            );
            if a.significant && !significant {
                continue;
            }
            t.push(vec![
                Cell::from(x.code.as_str()),
                Cell::from(name.as_str()),
                Cell::from(x.value),
                Cell::from(x.p_sim),
                Cell::from(x.class.label()),
            ]);
        }
    }
    write!(o, "{}", t.to_text())?;
    emit(&o)
}
