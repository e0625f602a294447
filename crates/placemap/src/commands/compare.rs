//! `placemap compare`: a group of districts against another (or the rest) on one indicator:
//! summaries, gaps, the top/bottom quintile gap, ranks, and correlation with a second
//! indicator. The same computation as `GET /stats/{layer}/{indicator}/compare|correlate`.

use std::fmt::Write as _;
use std::process::ExitCode;

use analysis::query::{self, CompareRequest};
use analysis::{Cell, Table};
use anyhow::{Result, anyhow};
use clap::Args;

use super::Context_;
use super::aggregate::{OutputFormat, emit, lookups};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Layer of districts (e.g. lad19).
    #[arg(long, default_value = "lad19")]
    pub layer: String,
    /// Numeric indicator compared (e.g. employment_rate).
    #[arg(long)]
    pub indicator: String,
    /// Period (default: the indicator's default period).
    #[arg(long)]
    pub period: Option<String>,
    /// How districts are grouped: area_class_subgroup, area_class_group,
    /// area_class_supergroup, region, country, codes, or any categorical indicator or attribute.
    #[arg(long)]
    pub group_by: Option<String>,
    /// The group of interest, by name or key (e.g. "Mining Legacy"); with --group-by codes,
    /// the name of the listed districts.
    #[arg(long)]
    pub group: Option<String>,
    /// The group compared against (default: the rest, every other district with a group).
    #[arg(long)]
    pub vs: Option<String>,
    /// District codes for --group-by codes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub codes: Vec<String>,
    /// Numeric indicator used as weights for weighted means.
    #[arg(long)]
    pub weights: Option<String>,
    /// Only English districts count (codes E...).
    #[arg(long)]
    pub england_only: bool,
    /// Print every district's rank nationally and within its group.
    #[arg(long)]
    pub ranks: bool,
    /// Print every group of the grouping, not just the two compared.
    #[arg(long)]
    pub all_groups: bool,
    /// With --csv: one row per district left out (no value, no group) or whose group was
    /// carried from its former districts, with the reason, instead of the group rows.
    #[arg(long)]
    pub left_out: bool,
    /// Also correlate with this indicator (Pearson and Spearman, with n).
    #[arg(long)]
    pub correlate: Option<String>,
    #[command(flatten)]
    pub format: OutputFormat,
}

fn err(e: analysis::query::QueryError) -> anyhow::Error {
    anyhow!("{e} ({})", e.hint())
}

/// Group rows for people: the columns that matter, min/max with names.
fn summary_table(groups: &[&analysis::GroupSummary]) -> Table {
    let mut t = Table::new(&[
        "group",
        "count",
        "missing",
        "mean",
        "wmean",
        "median",
        "q1",
        "q3",
        "min",
        "min_district",
        "max",
        "max_district",
    ]);
    for g in groups {
        t.push(vec![
            Cell::from(g.name.clone().unwrap_or_else(|| g.group.clone())),
            Cell::from(g.count),
            Cell::from(g.missing),
            Cell::from(g.mean),
            Cell::from(g.weighted_mean),
            Cell::from(g.median),
            Cell::from(g.q1),
            Cell::from(g.q3),
            Cell::from(g.min.value),
            Cell::from(g.min.name.as_str()),
            Cell::from(g.max.value),
            Cell::from(g.max.name.as_str()),
        ]);
    }
    t
}

pub fn run(ctx: &Context_, a: CompareArgs) -> Result<ExitCode> {
    let mut o = String::new();
    if a.group_by.is_none() && a.correlate.is_none() {
        return Err(anyhow!(
            "give --group-by (and --group) to compare groups, or --correlate OTHER; {}",
            query::GROUP_BY_HELP
        ));
    }
    let catalog = ctx.catalog()?;
    let tables = lookups(&catalog)?;
    let mut atlas = ctx.atlas(&catalog, std::slice::from_ref(&a.layer))?;
    // The regions `group_by=region` uses, as the server has them.
    maps::loaded::assign_regions(&catalog, &mut atlas, &tables);
    let layer = atlas
        .layer(&a.layer)
        .ok_or_else(|| anyhow!("layer {} did not load", a.layer))?;
    let cmp = match &a.group_by {
        Some(g) => Some(
            query::compare_on_layer(
                layer,
                &CompareRequest {
                    indicator: a.indicator.clone(),
                    period: a.period.clone(),
                    group_by: g.clone(),
                    group: a.group.clone(),
                    vs: a.vs.clone(),
                    codes: a.codes.clone(),
                    weights: a.weights.clone(),
                    england_only: a.england_only,
                },
                &tables,
            )
            .map_err(err)?,
        ),
        None => None,
    };
    let cor = match &a.correlate {
        Some(y) => Some(
            query::correlate_on_layer(
                layer,
                (&a.indicator, a.period.as_deref()),
                (y, None),
                a.england_only,
            )
            .map_err(err)?,
        ),
        None => None,
    };
    if a.format.csv {
        // One table per CSV: ranks, else the groups, else the correlation.
        let t = match (&cmp, &cor) {
            (Some(c), _) if a.ranks => c.comparison.ranks_table(),
            (Some(c), _) if a.left_out => c.comparison.exclusions_table(),
            (Some(c), None) => c.comparison.to_table(),
            (_, Some(r)) => r.to_table(),
            (None, None) => {
                return Err(anyhow!("nothing to print: give --group-by or --correlate"));
            }
        };
        write!(o, "{}", t.to_csv())?;
        return emit(&o);
    }
    if a.format.json {
        let mut j = serde_json::json!({});
        if let Some(c) = &cmp {
            let mut v = serde_json::to_value(c)?;
            if !a.ranks
                && let Some(o) = v.get_mut("comparison").and_then(|c| c.as_object_mut())
            {
                o.remove("ranks");
            }
            j["compare"] = v;
        }
        if let Some(r) = &cor {
            j["correlate"] = serde_json::to_value(r)?;
        }
        writeln!(o, "{}", serde_json::to_string_pretty(&j)?)?;
        return emit(&o);
    }
    if let Some(res) = &cmp {
        let c = &res.comparison;
        writeln!(
            o,
            "{} ({}), {}, layer {}{}",
            res.title,
            res.unit,
            res.period,
            res.layer,
            if res.england_only {
                ", England only"
            } else {
                ""
            }
        )?;
        let name = |g: &analysis::GroupSummary| g.name.clone().unwrap_or_else(|| g.group.clone());
        writeln!(
            o,
            "{} against {} (grouped by {})",
            name(&c.a),
            name(&c.b),
            c.kind
        )?;
        writeln!(o)?;
        let mut groups = vec![&c.a, &c.b];
        if a.all_groups {
            groups.extend(c.groups.iter());
        }
        write!(o, "{}", summary_table(&groups).to_text())?;
        writeln!(o)?;
        writeln!(
            o,
            "gap ({} minus {}): mean {}, median {}{}",
            name(&c.a),
            name(&c.b),
            fmt(c.gap_mean),
            fmt(c.gap_median),
            c.gap_weighted_mean
                .map(|g| format!(", weighted mean {}", fmt(g)))
                .unwrap_or_default()
        )?;
        let q = &c.quintiles;
        writeln!(
            o,
            "top vs bottom quintile of all {} districts with a value ({} each): {} vs {}, gap {}{}",
            c.ranks.len(),
            q.per_quintile,
            fmt(q.top_mean),
            fmt(q.bottom_mean),
            fmt(q.gap),
            q.ratio
                .map(|r| format!(", ratio {}", fmt(r)))
                .unwrap_or_default()
        )?;
        write_left_out(&mut o, res, &groups)?;
        if a.ranks {
            writeln!(o)?;
            let order = match res.rank_order {
                analysis::RankOrder::HighestFirst => "highest value",
                analysis::RankOrder::LowestFirst => "lowest value",
            };
            writeln!(o, "ranks (1 = {order}):")?;
            write!(o, "{}", c.ranks_table().to_text())?;
        }
    }
    if let Some(r) = &cor {
        if cmp.is_some() {
            writeln!(o)?;
        }
        writeln!(
            o,
            "correlation of {} ({}) with {} ({}) on {}{}:",
            r.x,
            r.x_period,
            r.y,
            r.y_period,
            r.layer,
            if r.england_only { ", England only" } else { "" }
        )?;
        writeln!(
            o,
            "  Pearson r = {}, Spearman rho = {}, n = {} districts ({} left out for a missing value)",
            fmt(r.pearson.r),
            fmt(r.spearman.r),
            r.pearson.n,
            r.pearson.excluded
        )?;
    }
    emit(&o)
}

/// Who the comparison counts and who it leaves out, by code and name, with why: every district
/// in scope is in a printed group (with or without a value), in another group, or without a
/// group.
fn write_left_out(
    o: &mut String,
    res: &query::CompareOutput,
    groups: &[&analysis::GroupSummary],
) -> Result<()> {
    let c = &res.comparison;
    let name = |g: &analysis::GroupSummary| g.name.clone().unwrap_or_else(|| g.group.clone());
    let parts: Vec<String> = [&c.a, &c.b]
        .iter()
        .map(|g| format!("{} in {}", g.count + g.missing, name(g)))
        .collect();
    writeln!(
        o,
        "districts in scope ({}): {} = {}, {} in other groups, {} without a group",
        res.scope,
        res.in_scope,
        parts.join(", "),
        res.in_other_groups,
        c.without_group.len()
    )?;
    let mut seen = std::collections::HashSet::new();
    for g in groups {
        if g.without_value.is_empty() || !seen.insert(g.group.clone()) {
            continue;
        }
        writeln!(
            o,
            "{} without a value for {} ({}):",
            name(g),
            res.period,
            g.without_value.len()
        )?;
        for d in &g.without_value {
            writeln!(o, "  {} {}: {}", d.code, d.name, d.reason)?;
        }
    }
    if !c.without_group.is_empty() {
        writeln!(
            o,
            "without a group ({}, {}), left out of every group:",
            c.kind,
            c.without_group.len()
        )?;
        for d in &c.without_group {
            writeln!(o, "  {} {}: {}", d.code, d.name, d.reason)?;
        }
    }
    if !c.carried.is_empty() {
        writeln!(
            o,
            "groups carried to newer districts ({}), counted in their group:",
            c.carried.len()
        )?;
        for d in &c.carried {
            writeln!(o, "  {} {}: {}", d.code, d.name, d.reason)?;
        }
    }
    Ok(())
}

/// A number for people: at most 4 decimals.
fn fmt(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
