//! `placemap aggregate`: small areas (e.g. LSOAs) to districts, by lookup or spatially, with
//! every exclusion reported. The same computation as `GET /stats/aggregate`.

use std::fmt::Write as _;
use std::process::ExitCode;

use analysis::query::{self, AggregateRequest, Via};
use anyhow::{Context, Result, anyhow};
use clap::Args;
use districts::catalog::Catalog;
use districts::indicators::LookupTable;

use super::Context_;

/// Output format shared by the analysis commands.
#[derive(Args, Debug, Clone, Copy)]
#[group(multiple = false)]
pub struct OutputFormat {
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// CSV instead of a table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Args, Debug)]
pub struct AggregateArgs {
    /// Layer of the small areas (e.g. lsoa11).
    #[arg(long)]
    pub from: String,
    /// Layer of the districts to aggregate to (e.g. lad19, lad21, msoa11).
    #[arg(long)]
    pub to: String,
    /// Numeric indicator of the small areas (e.g. imd_rank).
    #[arg(long)]
    pub indicator: String,
    /// Period of the indicator (default: its default period).
    #[arg(long)]
    pub period: Option<String>,
    /// Statistic: mean, weighted-mean, sum, median, min, max or share.
    #[arg(long, default_value = "mean")]
    pub how: String,
    /// Indicator of the small areas used as weights for weighted-mean (e.g. population_total).
    #[arg(long)]
    pub weights: Option<String>,
    /// Class counted by --how share: =1, <=3284, >=9 or 1..3 (bounds included).
    #[arg(long)]
    pub class: Option<String>,
    /// How areas find their district: lookup (an attribute or catalogued lookup column holding
    /// the district code) or spatial (the district containing each area's interior point).
    #[arg(long, default_value = "lookup")]
    pub via: String,
    /// With --via lookup: the attribute (e.g. lad19cd) or TABLE.COLUMN of a catalogued lookup
    /// (e.g. lsoa11_msoa11_lad17.MSOA11CD); default: the one that assigns the most areas.
    #[arg(long)]
    pub key: Option<String>,
    /// List every excluded area with its reason (default: counts by reason).
    #[arg(long)]
    pub list_exclusions: bool,
    #[command(flatten)]
    pub format: OutputFormat,
}

/// Writes a command's whole output to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) -> Result<ExitCode> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Every lookup table of the catalogue.
pub fn lookups(catalog: &Catalog) -> Result<Vec<LookupTable>> {
    catalog
        .lookups
        .iter()
        .map(|spec| {
            districts::indicators::read_lookup(spec)
                .with_context(|| format!("reading lookup table {}", spec.id))
        })
        .collect()
}

pub fn run(ctx: &Context_, a: AggregateArgs) -> Result<ExitCode> {
    let mut o = String::new();
    let how =
        query::parse_how(&a.how, a.class.as_deref()).map_err(|e| anyhow!("{e} ({})", e.hint()))?;
    let via = query::parse_via(Some(&a.via), a.key.as_deref())
        .map_err(|e| anyhow!("{e} ({})", e.hint()))?;
    let catalog = ctx.catalog()?;
    let tables = if matches!(via, Via::Lookup(_)) {
        lookups(&catalog)?
    } else {
        Vec::new()
    };
    let atlas = ctx.atlas(&catalog, &[a.from.clone(), a.to.clone()])?;
    let source = atlas
        .layer(&a.from)
        .ok_or_else(|| anyhow!("layer {} did not load", a.from))?;
    let target = atlas
        .layer(&a.to)
        .ok_or_else(|| anyhow!("layer {} did not load", a.to))?;
    let req = AggregateRequest {
        indicator: a.indicator.clone(),
        period: a.period.clone(),
        how,
        weights: a.weights.clone(),
        via,
    };
    let pb = ctx.spinner(format!("aggregating {} to {}", a.from, a.to));
    let out = query::aggregate_layers(source, target, &req, &tables);
    pb.finish_and_clear();
    let out = out.map_err(|e| anyhow!("{e} ({})", e.hint()))?;
    let table = out.to_table();
    if a.format.csv {
        write!(o, "{}", table.to_csv())?;
        return emit(&o);
    }
    let summary = out.exclusion_summary();
    if a.format.json {
        let j = serde_json::json!({
            "from": out.from, "to": out.to, "indicator": out.indicator, "period": out.period,
            "statistic": out.result.aggregation, "weights": out.weights, "via": out.via,
            "areas": out.areas, "assigned": out.assigned,
            "exclusions": {
                "summary": summary.iter().map(|(r, n)| serde_json::json!({"reason": r, "count": n})).collect::<Vec<_>>(),
                "areas": out.result.exclusions,
            },
            "rows": out.result.rows.iter().zip(&out.names).map(|(r, name)| serde_json::json!({
                "code": r.code, "name": name, "value": r.value, "areas_assigned": r.areas_assigned,
                "areas_used": r.areas_used, "weight_total": r.weight_total,
            })).collect::<Vec<_>>(),
        });
        writeln!(o, "{}", serde_json::to_string_pretty(&j)?)?;
        return emit(&o);
    }
    let with_value = out.result.rows.iter().filter(|r| r.value.is_some()).count();
    writeln!(
        o,
        "{} {} ({}) of {} aggregated to {}{}",
        a.how,
        out.indicator,
        out.period,
        out.from,
        out.to,
        out.weights
            .as_ref()
            .map(|w| format!(", weighted by {w}"))
            .unwrap_or_default()
    )?;
    writeln!(o, "assigned by {}", out.via)?;
    writeln!(
        o,
        "{} of {} areas assigned; {} of {} districts have a value",
        out.assigned,
        out.areas,
        with_value,
        out.result.rows.len()
    )?;
    writeln!(o)?;
    // People see the districts that received areas; CSV and JSON list every district.
    let mut shown =
        analysis::Table::new(&table.columns.iter().map(String::as_str).collect::<Vec<_>>());
    for (row, r) in table.rows.iter().zip(&out.result.rows) {
        if r.areas_assigned > 0 || r.value.is_some() {
            shown.push(row.clone());
        }
    }
    write!(o, "{}", shown.to_text())?;
    if shown.rows.len() < table.rows.len() {
        writeln!(
            o,
            "({} districts of {} received no area and are not shown; --csv or --json lists them)",
            table.rows.len() - shown.rows.len(),
            out.to
        )?;
    }
    writeln!(o)?;
    if summary.is_empty() {
        writeln!(o, "exclusions: none")?;
    } else {
        writeln!(o, "exclusions:")?;
        for (reason, n) in &summary {
            writeln!(o, "  {reason}: {n}")?;
        }
        if a.list_exclusions {
            write!(o, "{}", out.result.exclusions_table().to_text())?;
        }
    }
    emit(&o)
}
