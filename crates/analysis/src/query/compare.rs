//! Groups of districts compared (country, region, area classification, a list of codes), and
//! two indicators correlated.

use std::collections::HashMap;

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
/// listed `codes` as group `name`, the rest as `rest`), `region` (the layer's `region_name`
/// attribute, else a lookup table's `RGN11NM` by district code), a categorical indicator
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
    if group_by == "region" && !layer.meta.attributes.iter().any(|a| a == "region_name") {
        // Through a lookup: district code -> region name (e.g. LAD17CD -> RGN11NM).
        for t in lookups {
            let (Some(rgn), Some(code_col)) = (
                t.columns.iter().position(|c| c == "RGN11NM"),
                t.columns
                    .iter()
                    .position(|c| c.starts_with("LAD") && c.ends_with("CD")),
            ) else {
                continue;
            };
            let map: HashMap<String, String> = t
                .rows
                .values()
                .filter_map(|r| Some((r.get(code_col)?.clone(), r.get(rgn)?.clone())))
                .collect();
            let g = Grouping::from_lookup("region", &layer_codes, &map);
            if g.labels.iter().any(Option::is_some) {
                return Ok(g);
            }
        }
    }
    let attr = if group_by == "region" {
        "region_name"
    } else {
        group_by
    };
    if layer.meta.attributes.iter().any(|a| a == attr) {
        return Ok(Grouping::from_labels(
            group_by,
            crate::layer::attribute(layer, attr),
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
        comparison,
    })
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
