//! Groups of districts compared (country, region, area classification, a list of codes), and
//! two indicators correlated.

use districts::Layer;
use districts::indicators::LookupTable;
use serde::Serialize;

use super::{QueryError, england_only, numeric};
use crate::compare::{Comparison, Grouping, RankOrder};
use crate::correlation::{Correlation, CorrelationMethod};
use crate::table::{Cell, Table};

/// The ways of grouping districts, for hints.
pub const GROUP_BY_HELP: &str = "group_by=country | region | codes | area_class_subgroup | area_class_group | area_class_supergroup | <any categorical indicator or attribute of the layer>";

/// Groups the districts of `layer` by `group_by`: `country` (from the code), `codes` (the
/// listed `codes` as group `name`, the rest as `rest`), `region` (the layer's regions, see
/// [`districts::regions`], and the nation outside England and Wales), a categorical indicator
/// (e.g. `area_class_subgroup`: its default period) or a kept attribute.
pub fn grouping(
    layer: &Layer,
    group_by: &str,
    codes: &[String],
    name: Option<&str>,
    lookups: &[LookupTable],
) -> Result<Grouping, QueryError> {
    let layer_codes = crate::layer::codes(layer);
    match group_by {
        "country" => return Ok(Grouping::by_country(&layer_codes)),
        "codes" => {
            if codes.is_empty() {
                return Err(QueryError::invalid(
                    "codes",
                    "group_by=codes needs a list of district codes",
                    "codes=E06000001,E06000002",
                ));
            }
            return Ok(Grouping::from_code_list(
                &layer_codes,
                name.unwrap_or("listed"),
                codes,
            )?);
        }
        _ => {}
    }
    if let Some(ind) = layer.indicator(group_by) {
        let p = ind.period(&ind.default_period);
        if let Some(districts::model::PeriodValues::Categorical(v)) = p.map(|p| &p.values) {
            return Ok(Grouping::from_labels(group_by, v.clone()));
        }
        return Err(QueryError::invalid(
            "group_by",
            format!("indicator {group_by} is numeric, not a grouping"),
            GROUP_BY_HELP,
        ));
    }
    if group_by == "region" {
        // The layer's regions (own attribute, lookups, or by location: the same as `region=`),
        // the nation outside England and Wales; through the lookups here if the layer was
        // loaded without them.
        let own;
        let regions = if layer.regions.is_complete(&layer.districts) {
            &*layer.regions
        } else {
            let lookup = districts::regions::RegionLookup::from_lookups(lookups);
            own = districts::regions::assign(&layer.districts, &lookup, None).0;
            &own
        };
        let labels = layer
            .districts
            .iter()
            .enumerate()
            .map(|(i, d)| regions.region_or_nation(i, &d.code).map(str::to_string))
            .collect();
        return Ok(Grouping::from_labels("region", labels));
    }
    if layer.meta.attributes.iter().any(|a| a == group_by) {
        return Ok(Grouping::from_labels(
            group_by,
            crate::layer::attribute(layer, group_by),
        ));
    }
    Err(QueryError::invalid(
        "group_by",
        format!("layer {} cannot be grouped by {group_by:?}", layer.meta.id),
        GROUP_BY_HELP,
    ))
}

/// A comparison of groups asked of one layer.
#[derive(Clone, Debug, Default)]
pub struct CompareRequest {
    /// Numeric indicator compared.
    pub indicator: String,
    /// Its period (default when `None`).
    pub period: Option<String>,
    /// How districts are grouped (see [`grouping`]).
    pub group_by: String,
    /// The group of interest (key or name, e.g. `Mining Legacy`); for `codes`, its name.
    pub group: Option<String>,
    /// The other group; `None` or `rest` for every other district with a group.
    pub vs: Option<String>,
    /// District codes for `group_by = codes`.
    pub codes: Vec<String>,
    /// Numeric indicator used as weights for weighted means (e.g. a population).
    pub weights: Option<String>,
    /// Only English districts (codes `E...`) count.
    pub england_only: bool,
}

/// A comparison's result, with what was compared.
#[derive(Clone, Debug, Serialize)]
pub struct CompareOutput {
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// Indicator title.
    pub title: String,
    /// Unit.
    pub unit: String,
    /// Period compared.
    pub period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Rank 1 is the worst district (highest value when higher is worse).
    pub rank_order: RankOrder,
    /// Which districts count: "England" with `england_only`, else "all districts".
    pub scope: String,
    /// Districts of the layer in scope: every one is in group `a`, in group `b`, in another
    /// group, or in `comparison.without_group`.
    pub in_scope: usize,
    /// Districts in scope in neither compared group but in another (when `vs` names a group).
    pub in_other_groups: usize,
    /// Summaries, gaps, quintiles and ranks.
    pub comparison: Comparison,
}

/// Compares two groups of districts of `layer`.
pub fn compare_on_layer(
    layer: &Layer,
    req: &CompareRequest,
    lookups: &[LookupTable],
) -> Result<CompareOutput, QueryError> {
    let (period, mut values) = numeric(layer, &req.indicator, req.period.as_deref())?;
    let mut weights = match &req.weights {
        Some(w) => Some(numeric(layer, w, None)?.1),
        None => None,
    };
    let mut g = grouping(
        layer,
        &req.group_by,
        &req.codes,
        req.group.as_deref(),
        lookups,
    )?;
    if req.england_only {
        values = england_only(layer, values);
        weights = weights.map(|w| england_only(layer, w));
        for (l, d) in g.labels.iter_mut().zip(layer.districts.iter()) {
            if !d.code.starts_with('E') {
                *l = None;
            }
        }
    }
    let a = match (&req.group, req.group_by.as_str()) {
        (_, "codes") => req.group.clone().unwrap_or_else(|| "listed".into()),
        (Some(a), _) => a.clone(),
        (None, _) => {
            return Err(QueryError::invalid(
                "group",
                format!("name the group to compare (group_by={})", req.group_by),
                format!("valid groups: {}", g.groups().join(", ")),
            ));
        }
    };
    let b = req
        .vs
        .as_deref()
        .filter(|v| !v.eq_ignore_ascii_case("rest"));
    let ind = layer.indicator(&req.indicator);
    let direction = ind.map(|i| i.meta.direction);
    let order = match direction {
        Some(districts::catalog::Direction::HigherIsBetter) => RankOrder::LowestFirst,
        _ => RankOrder::HighestFirst,
    };
    let codes = crate::layer::codes(layer);
    let names = crate::layer::names(layer);
    let mut comparison = crate::compare::compare_groups(
        &codes,
        &names,
        &values,
        weights.as_deref(),
        &g,
        &a,
        b,
        order,
    )?;
    explain_left_out(layer, req, &period, &mut comparison);
    let in_scope = layer
        .districts
        .iter()
        .filter(|d| !req.england_only || d.code.starts_with('E'))
        .count();
    let in_groups = |s: &crate::compare::GroupSummary| s.count + s.missing;
    let in_other_groups = in_scope
        - (in_groups(&comparison.a) + in_groups(&comparison.b) + comparison.without_group.len())
            .min(in_scope);
    if b.is_none() && comparison.b.name.is_none() {
        comparison.b.name = Some(
            if req.england_only {
                "rest of England"
            } else {
                "rest"
            }
            .to_string(),
        );
    }
    Ok(CompareOutput {
        layer: layer.meta.id.clone(),
        indicator: req.indicator.clone(),
        title: ind.map(|i| i.meta.title.clone()).unwrap_or_default(),
        unit: ind.map(|i| i.meta.unit.clone()).unwrap_or_default(),
        period,
        england_only: req.england_only,
        rank_order: order,
        scope: if req.england_only {
            "England"
        } else {
            "all districts"
        }
        .to_string(),
        in_scope,
        in_other_groups,
        comparison,
    })
}

/// Says who the comparison leaves out and why: districts out of scope are dropped from
/// `without_group`; a district without a value gets the indicator's reason (a boundary
/// change) or "no value for {period} in {file}"; one without a group gets the grouping
/// indicator's reason; districts whose group was carried from their former districts are
/// listed with how.
fn explain_left_out(
    layer: &Layer,
    req: &CompareRequest,
    period: &str,
    comparison: &mut crate::compare::Comparison,
) {
    let in_scope = |code: &str| !req.england_only || code.starts_with('E');
    let ind = layer.indicator(&req.indicator);
    let value_reason = |code: &str| -> String {
        match ind {
            Some(i) => i.no_data_reason(code, period).map_or_else(
                || format!("no value for {period} in {}", i.meta.file),
                |r| r.reason.clone(),
            ),
            None => "no value".to_string(),
        }
    };
    for g in [&mut comparison.a, &mut comparison.b]
        .into_iter()
        .chain(comparison.groups.iter_mut())
    {
        for d in &mut g.without_value {
            d.reason = value_reason(&d.code);
        }
    }
    let grouping_ind = layer.indicator(&req.group_by);
    comparison.without_group.retain(|d| in_scope(&d.code));
    for d in &mut comparison.without_group {
        if let Some(gi) = grouping_ind {
            let gp = &gi.default_period;
            d.reason = gi.no_data_reason(&d.code, gp).map_or_else(
                || {
                    format!(
                        "no {} value for {gp} in {} (no row for this code)",
                        req.group_by, gi.meta.file
                    )
                },
                |r| r.reason.clone(),
            );
        }
    }
    if let Some(gi) = grouping_ind {
        comparison.carried = gi
            .report
            .recombined
            .iter()
            .filter(|r| in_scope(&r.code) && r.periods.contains(&gi.default_period))
            .map(|r| crate::compare::DistrictNote {
                code: r.code.clone(),
                name: r.name.clone().unwrap_or_default(),
                reason: format!("{}: {}", req.group_by, r.how),
            })
            .collect();
    }
}

/// Pearson and Spearman correlation of two indicators of one layer.
#[derive(Clone, Debug, Serialize)]
pub struct CorrelateOutput {
    /// Layer id.
    pub layer: String,
    /// First indicator and its period.
    pub x: String,
    /// Period of `x`.
    pub x_period: String,
    /// Second indicator.
    pub y: String,
    /// Period of `y`.
    pub y_period: String,
    /// Whether only English districts counted.
    pub england_only: bool,
    /// Pearson's r with n.
    pub pearson: Correlation,
    /// Spearman's rho with n.
    pub spearman: Correlation,
}

impl CorrelateOutput {
    /// Table: `x, y, method, r, n, excluded`.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&["x", "y", "method", "r", "n", "excluded"]);
        for c in [&self.pearson, &self.spearman] {
            let m = match c.method {
                CorrelationMethod::Pearson => "pearson",
                CorrelationMethod::Spearman => "spearman",
            };
            t.push(vec![
                Cell::from(self.x.as_str()),
                Cell::from(self.y.as_str()),
                Cell::from(m),
                Cell::from(c.r),
                Cell::from(c.n),
                Cell::from(c.excluded),
            ]);
        }
        t
    }
}

/// Correlates indicator `x` with `y` on `layer` over the districts with both values.
pub fn correlate_on_layer(
    layer: &Layer,
    x: (&str, Option<&str>),
    y: (&str, Option<&str>),
    only_england: bool,
) -> Result<CorrelateOutput, QueryError> {
    let (xp, mut xv) = numeric(layer, x.0, x.1)?;
    let (yp, mut yv) = numeric(layer, y.0, y.1)?;
    if only_england {
        xv = england_only(layer, xv);
        yv = england_only(layer, yv);
    }
    Ok(CorrelateOutput {
        layer: layer.meta.id.clone(),
        x: x.0.to_string(),
        x_period: xp,
        y: y.0.to_string(),
        y_period: yp,
        england_only: only_england,
        pearson: crate::correlation::correlate(&xv, &yv, CorrelationMethod::Pearson)?,
        spearman: crate::correlation::correlate(&xv, &yv, CorrelationMethod::Spearman)?,
    })
}
