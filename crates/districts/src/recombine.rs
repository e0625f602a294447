//! Values across boundary changes. When a table's codes belong to another vintage than the
//! layer's, the districts of the layer that the table does not name are explained, and
//! recombined where the catalogue says how:
//!
//! - a merged district (E06000063 Cumberland) whose former districts the table publishes gets
//!   the sum of their values (`combine = "sum"`, counts) or their mean weighted by a
//!   denominator (`combine = { how = "weighted_mean", weights = "..." }`, averages and rates),
//!   only when every part has a value (and a weight) for the period; otherwise, or without
//!   `combine`, it has no data with the reason ("merged in 2023 from ...; the source publishes
//!   the former districts only");
//! - a former district (E07000026 Allerdale) whose merged district the table publishes has no
//!   data with the reason ("merged into E06000063 Cumberland in 2023; the source publishes the
//!   merged district only").
//!
//! Sums are made while joining; weighted means wait until their weights are loaded (they may be
//! a `[[derived]]` indicator such as a population summed from LSOAs): a
//! [`PendingRecombination`](crate::recombine::PendingRecombination) on the layer, completed by
//! [`Atlas::recombine_pending`](crate::Atlas::recombine_pending). An
//! average or rate is never averaged without weights.

use std::sync::Arc;

use serde::Serialize;

use crate::catalog::Combine;
use crate::dissolve::MergeRow;
use crate::indicators::TableIndicator;
use crate::layer::{Atlas, Layer};
use crate::lineage::Lineage;
use crate::model::{Indicator, NoDataReason, PeriodValues, RecombinedCode, ReportedCode};

/// The former districts a merged district was made of, from the first lineage that knows it.
pub fn parts_of<'l>(lineages: &'l [Arc<Lineage>], code: &str) -> Vec<&'l MergeRow> {
    lineages
        .iter()
        .map(|l| l.parts(code))
        .find(|p| !p.is_empty())
        .unwrap_or_default()
}

/// The district an old code became, from the first lineage that knows it.
pub fn successor_of<'l>(lineages: &'l [Arc<Lineage>], code: &str) -> Option<&'l MergeRow> {
    lineages.iter().find_map(|l| l.successor(code))
}

/// The year of a lookup row's effective date (`2023-04-01` -> `2023`), or the date as given.
fn year(row: &MergeRow) -> String {
    row.effective
        .get(..4)
        .map_or_else(|| row.effective.clone(), std::string::ToString::to_string)
}

/// "E07000026 Allerdale, E07000028 Carlisle" (codes alone where the lookup has no name).
fn list(rows: &[&MergeRow]) -> String {
    rows.iter()
        .map(|r| {
            if r.old_name.is_empty() {
                r.old_code.clone()
            } else {
                format!("{} {}", r.old_code, r.old_name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "merged in 2023 from A, B; ", the start of every reason of a merged district.
fn merged_from(rows: &[&MergeRow]) -> String {
    match rows.first() {
        Some(first) if !first.effective.is_empty() => {
            format!("merged in {} from {}", year(first), list(rows))
        }
        _ => format!("merged from {}", list(rows)),
    }
}

/// The short reason of a merged district, for legends.
fn merged_summary(rows: &[&MergeRow], tail: &str) -> String {
    match rows.first() {
        Some(first) if !first.effective.is_empty() => format!("merged in {}; {tail}", year(first)),
        _ => format!("merged; {tail}"),
    }
}

const FORMER_ONLY: &str = "the source publishes the former districts only";
const MERGED_ONLY: &str = "the source publishes the merged district only";

/// A merged district waiting for its weights: its former districts' values per period.
#[derive(Clone, Debug)]
pub struct PendingDistrict {
    /// Position in the layer.
    pub position: usize,
    /// District code.
    pub code: String,
    /// Name of the district.
    pub name: String,
    /// The former districts (lookup rows).
    pub parts: Vec<MergeRow>,
    /// `(period label, value of each part in `parts` order)`.
    pub values: Vec<(String, Vec<Option<f64>>)>,
}

/// Weighted means of one indicator of a layer waiting for their weights to be loaded.
#[derive(Clone, Debug)]
pub struct PendingRecombination {
    /// Indicator id (on the layer holding this).
    pub indicator: String,
    /// Indicator id of the weights.
    pub weights: String,
    /// The merged districts to recombine.
    pub districts: Vec<PendingDistrict>,
}

/// Explains and, where `combine` allows, recombines the districts of `ind` that `table` has no
/// row for (see the module docs). `codes` and `names` are the layer's, in district order; the
/// indicator's periods must still be the table's, in order. Sums are written into `ind` now; a
/// weighted mean is returned to be completed once its weights are loaded.
pub fn explain_and_recombine(
    ind: &mut Indicator,
    table: &TableIndicator,
    combine: Option<&Combine>,
    lineages: &[Arc<Lineage>],
    codes: &[String],
) -> Option<PendingRecombination> {
    if lineages.is_empty() || ind.report.boundaries_without_data.is_empty() {
        return None;
    }
    let in_table = |code: &str| table.periods.iter().any(|p| p.values.contains(code));
    let combine = if ind.meta.categorical { None } else { combine };
    let mut pending = Vec::new();
    let mut recombined = Vec::new();
    let mut notes = Vec::new();
    for missing in ind.report.boundaries_without_data.clone() {
        let parts = parts_of(lineages, &missing.code);
        // Looked up only for a merged district (few), not for every district without data
        // (a thousand LSOAs on lsoa11).
        let position = || codes.iter().position(|c| *c == missing.code);
        if !parts.is_empty()
            && parts.iter().any(|p| in_table(&p.old_code))
            && let Some(position) = position()
        {
            // The layer's name, else the lookup's.
            let missing = ReportedCode {
                name: missing
                    .name
                    .clone()
                    .or_else(|| parts.first().map(|p| p.new_name.clone())),
                ..missing
            };
            let note = |period: Option<String>, reason: String, summary: String| NoDataReason {
                code: missing.code.clone(),
                name: missing.name.clone(),
                period,
                reason,
                summary,
            };
            if ind.meta.categorical {
                let (carried, why_not) = carry_class(ind, table, &parts, position);
                if !carried.is_empty() {
                    recombined.push(RecombinedCode {
                        code: missing.code.clone(),
                        name: missing.name.clone(),
                        how: carried_how(table, &parts, &carried),
                        periods: carried,
                    });
                }
                for (period, reason) in why_not {
                    notes.push(note(
                        Some(period),
                        format!("{}; not carried: {reason}", merged_from(&parts)),
                        merged_summary(&parts, "its former districts' classes differ"),
                    ));
                }
                continue;
            }
            match combine {
                None | Some(Combine::Never { .. }) => {
                    let why = match combine {
                        Some(Combine::Never { reason }) => format!("; {reason}"),
                        _ => String::new(),
                    };
                    notes.push(note(
                        None,
                        format!("{}; {FORMER_ONLY}{why}", merged_from(&parts)),
                        merged_summary(&parts, FORMER_ONLY),
                    ));
                }
                Some(Combine::Sum) => {
                    let mut periods = Vec::new();
                    for (k, tp) in table.periods.iter().enumerate() {
                        let vals: Vec<Option<f64>> = parts
                            .iter()
                            .map(|p| tp.values.number(&p.old_code).flatten())
                            .collect();
                        if vals.iter().all(Option::is_none) {
                            continue;
                        }
                        if vals.iter().all(Option::is_some) {
                            let sum = vals.iter().flatten().sum::<f64>();
                            if let Some(PeriodValues::Numeric(v)) =
                                ind.periods.get_mut(k).map(|p| &mut p.values)
                            {
                                v[position] = Some(sum);
                                periods.push(tp.label.clone());
                            }
                        } else {
                            let absent: Vec<&MergeRow> = parts
                                .iter()
                                .zip(&vals)
                                .filter(|(_, v)| v.is_none())
                                .map(|(p, _)| *p)
                                .collect();
                            notes.push(note(
                                Some(tp.label.clone()),
                                format!(
                                    "{}; not recombined for {}: no value for {}",
                                    merged_from(&parts),
                                    tp.label,
                                    list(&absent)
                                ),
                                merged_summary(&parts, "a former district has no value"),
                            ));
                        }
                    }
                    if !periods.is_empty() {
                        recombined.push(RecombinedCode {
                            code: missing.code.clone(),
                            name: missing.name.clone(),
                            how: format!("sum of {}", list(&parts)),
                            periods,
                        });
                    }
                }
                Some(Combine::WeightedMean { .. }) => {
                    pending.push(PendingDistrict {
                        position,
                        code: missing.code.clone(),
                        name: missing.name.clone().unwrap_or_default(),
                        parts: parts.iter().map(|r| (*r).clone()).collect(),
                        values: table
                            .periods
                            .iter()
                            .map(|tp| {
                                (
                                    tp.label.clone(),
                                    parts
                                        .iter()
                                        .map(|p| tp.values.number(&p.old_code).flatten())
                                        .collect(),
                                )
                            })
                            .collect(),
                    });
                }
            }
        } else if let Some(row) = successor_of(lineages, &missing.code)
            && in_table(&row.new_code)
        {
            let when = if row.effective.is_empty() {
                String::new()
            } else {
                format!(" in {}", year(row))
            };
            notes.push(NoDataReason {
                code: missing.code.clone(),
                name: missing.name.clone(),
                period: None,
                reason: format!(
                    "merged into {} {}{when}; {MERGED_ONLY}",
                    row.new_code, row.new_name
                ),
                summary: format!("merged{when}; {MERGED_ONLY}"),
            });
        }
    }
    record_recombined(ind, recombined);
    ind.report.no_data_reasons.extend(notes);
    let weights = match combine {
        Some(Combine::WeightedMean { weights }) if !pending.is_empty() => weights.clone(),
        _ => return None,
    };
    Some(PendingRecombination {
        indicator: ind.meta.id.clone(),
        weights,
        districts: pending,
    })
}

/// Carries a class to a merged district for every period where all its former districts have
/// the same class in the table; returns the periods carried and, for the others, why not.
fn carry_class(
    ind: &mut Indicator,
    table: &TableIndicator,
    parts: &[&MergeRow],
    position: usize,
) -> (Vec<String>, Vec<(String, String)>) {
    let mut carried = Vec::new();
    let mut why_not = Vec::new();
    for (k, tp) in table.periods.iter().enumerate() {
        let crate::indicators::TableValues::Categorical(m) = &tp.values else {
            continue;
        };
        let classes: Vec<Option<&String>> = parts
            .iter()
            .map(|p| m.get(&p.old_code).and_then(Option::as_ref))
            .collect();
        if classes.iter().all(Option::is_none) {
            continue;
        }
        match classes.first().copied().flatten() {
            Some(first) if classes.iter().all(|c| *c == Some(first)) => {
                if let Some(PeriodValues::Categorical(v)) =
                    ind.periods.get_mut(k).map(|p| &mut p.values)
                    && let Some(slot) = v.get_mut(position)
                {
                    *slot = Some(first.clone());
                    carried.push(tp.label.clone());
                }
            }
            _ => {
                let each: Vec<String> = parts
                    .iter()
                    .zip(&classes)
                    .map(|(p, c)| {
                        let who = list(&[*p]);
                        match c {
                            Some(c) => format!("{who} '{c}'"),
                            None => format!("{who} no class"),
                        }
                    })
                    .collect();
                why_not.push((
                    tp.label.clone(),
                    format!("its former districts' classes differ ({})", each.join(", ")),
                ));
            }
        }
    }
    (carried, why_not)
}

/// "carried from its 5 former districts, all 'Countryside Living': E07000049 East Dorset, ...".
fn carried_how(table: &TableIndicator, parts: &[&MergeRow], periods: &[String]) -> String {
    let class = periods
        .first()
        .and_then(|p| table.period(p))
        .and_then(|tp| match &tp.values {
            crate::indicators::TableValues::Categorical(m) => parts
                .iter()
                .find_map(|p| m.get(&p.old_code).and_then(Option::clone)),
            crate::indicators::TableValues::Numeric(_) => None,
        })
        .unwrap_or_default();
    format!(
        "carried from its {} former districts, all '{class}': {}",
        parts.len(),
        list(parts)
    )
}

/// Adds recombined districts to the report (out of the districts without data, into the
/// matched count and coverage) and to the description.
fn record_recombined(ind: &mut Indicator, recombined: Vec<RecombinedCode>) {
    if recombined.is_empty() {
        return;
    }
    let report = &mut ind.report;
    report
        .boundaries_without_data
        .retain(|b| !recombined.iter().any(|r| r.code == b.code));
    report.matched += recombined.len();
    for r in &recombined {
        for label in &r.periods {
            if let Some(c) = report.coverage.iter_mut().find(|c| &c.label == label) {
                c.with_row += 1;
                c.with_value += 1;
            }
        }
    }
    let said: Vec<String> = recombined
        .iter()
        .map(|r| {
            format!(
                "{}{} = {}",
                r.code,
                r.name
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default(),
                r.how
            )
        })
        .collect();
    let line = format!(
        "Recombined by placemap from the former districts the source publishes: {}.",
        said.join("; ")
    );
    ind.meta.description = Some(match ind.meta.description.take() {
        Some(d) if !d.trim().is_empty() => format!("{} {line}", d.trim_end()),
        _ => line,
    });
    report.recombined.extend(recombined);
}

/// What [`Atlas::recombine_pending`] did with one pending recombination.
#[derive(Clone, Debug, Serialize)]
pub struct RecombineOutcome {
    /// Layer id.
    pub layer: String,
    /// Indicator id.
    pub indicator: String,
    /// Districts given a value in at least one period.
    pub recombined: usize,
    /// Why nothing was recombined (weights not loaded), if so.
    pub skipped: Option<String>,
}

/// The weights of one indicator: a layer holding it, the indicator and how its period is chosen.
struct Weights<'a> {
    layer: &'a Layer,
    ind: &'a Indicator,
}

impl Weights<'_> {
    /// The weight of a former district for a period: the weights' own period when they have
    /// one (a population of one year for every period), else the same period label.
    fn of(&self, code: &str, period: &str) -> (Option<f64>, String) {
        let p = if self.ind.periods.len() == 1 {
            self.ind.periods.first()
        } else {
            self.ind.period(period)
        };
        let Some(p) = p else {
            return (None, period.to_string());
        };
        let v = match (&p.values, self.layer.position(code)) {
            (PeriodValues::Numeric(v), Some(i)) => v[i].filter(|w| w.is_finite() && *w > 0.0),
            _ => None,
        };
        (v, p.label.clone())
    }

    /// "mean weighted by Population (mid-2015) on lad19".
    fn describe(&self, label: &str) -> String {
        format!("{} ({label}; {})", self.ind.meta.title, self.layer.meta.id)
    }
}

/// One computed weighted mean, or why not, ready to be written into its layer.
enum Step {
    Value { position: usize, period: String },
    Note(NoDataReason),
}

impl Atlas {
    /// Completes the weighted recombinations whose weights are now loaded (found as an
    /// indicator of any layer, looked up by the former districts' codes). Those whose weights
    /// are still missing wait, unless `last`: then their districts get no data with the reason.
    pub fn recombine_pending(&mut self, last: bool) -> Vec<RecombineOutcome> {
        let mut outcomes = Vec::new();
        for li in 0..self.layers.len() {
            if self.layers[li].recombine_pending.is_empty() {
                continue;
            }
            let pending = std::mem::take(&mut self.layers[li].recombine_pending);
            let mut keep = Vec::new();
            for job in pending {
                let weights = self.layers.iter().find_map(|l| {
                    l.indicator(&job.weights)
                        .filter(|w| !w.meta.categorical)
                        .map(|ind| Weights { layer: l, ind })
                });
                let layer_id = self.layers[li].meta.id.clone();
                let Some(weights) = weights else {
                    if last {
                        let why = format!("its weights `{}` are not loaded", job.weights);
                        let notes = job
                            .districts
                            .iter()
                            .map(|d| {
                                let parts: Vec<&MergeRow> = d.parts.iter().collect();
                                NoDataReason {
                                    code: d.code.clone(),
                                    name: Some(d.name.clone()),
                                    period: None,
                                    reason: format!(
                                        "{}; {FORMER_ONLY}; not recombined: {why}",
                                        merged_from(&parts)
                                    ),
                                    summary: merged_summary(&parts, FORMER_ONLY),
                                }
                            })
                            .collect::<Vec<_>>();
                        if let Some(ind) = self.layers[li]
                            .indicators
                            .iter_mut()
                            .find(|i| i.meta.id == job.indicator)
                        {
                            // Unshared while the atlas loads: no copy is made.
                            std::sync::Arc::make_mut(ind)
                                .report
                                .no_data_reasons
                                .extend(notes);
                        }
                        outcomes.push(RecombineOutcome {
                            layer: layer_id,
                            indicator: job.indicator.clone(),
                            recombined: 0,
                            skipped: Some(why),
                        });
                    } else {
                        keep.push(job);
                    }
                    continue;
                };
                let (steps, values, recombined) = weighted_means(&job, &weights);
                let layer = &mut self.layers[li];
                let Some(ind) = layer
                    .indicators
                    .iter_mut()
                    .find(|i| i.meta.id == job.indicator)
                else {
                    continue;
                };
                // Unshared while the atlas loads: no copy is made.
                let ind = std::sync::Arc::make_mut(ind);
                for (step, value) in steps.into_iter().zip(values) {
                    match step {
                        Step::Value { position, period } => {
                            if let Some(PeriodValues::Numeric(v)) = ind
                                .periods
                                .iter_mut()
                                .find(|p| p.label == period)
                                .map(|p| &mut p.values)
                            {
                                v[position] = value;
                            }
                        }
                        Step::Note(n) => ind.report.no_data_reasons.push(n),
                    }
                }
                outcomes.push(RecombineOutcome {
                    layer: layer_id,
                    indicator: job.indicator.clone(),
                    recombined: recombined.len(),
                    skipped: None,
                });
                record_recombined(ind, recombined);
            }
            self.layers[li].recombine_pending = keep;
        }
        outcomes
    }
}

/// The weighted means of a pending job: steps (a value to write or a note), the value of each
/// step, and the districts recombined.
fn weighted_means(
    job: &PendingRecombination,
    weights: &Weights<'_>,
) -> (Vec<Step>, Vec<Option<f64>>, Vec<RecombinedCode>) {
    let mut steps = Vec::new();
    let mut values = Vec::new();
    let mut recombined = Vec::new();
    for d in &job.districts {
        let parts: Vec<&MergeRow> = d.parts.iter().collect();
        let mut periods = Vec::new();
        let mut weight_label = String::new();
        for (label, vals) in &d.values {
            if vals.iter().all(Option::is_none) {
                continue;
            }
            let ws: Vec<(Option<f64>, String)> = parts
                .iter()
                .map(|p| weights.of(&p.old_code, label))
                .collect();
            let missing_value: Vec<&MergeRow> = parts
                .iter()
                .zip(vals)
                .filter(|(_, v)| v.is_none())
                .map(|(p, _)| *p)
                .collect();
            let missing_weight: Vec<&MergeRow> = parts
                .iter()
                .zip(&ws)
                .filter(|(_, (w, _))| w.is_none())
                .map(|(p, _)| *p)
                .collect();
            if missing_value.is_empty() && missing_weight.is_empty() {
                let (mut num, mut den) = (0.0, 0.0);
                for (v, (w, _)) in vals.iter().zip(&ws) {
                    if let (Some(v), Some(w)) = (v, w) {
                        num += v * w;
                        den += w;
                    }
                }
                weight_label = ws.first().map(|(_, l)| l.clone()).unwrap_or_default();
                steps.push(Step::Value {
                    position: d.position,
                    period: label.clone(),
                });
                values.push(Some(num / den));
                periods.push(label.clone());
            } else {
                let mut why = Vec::new();
                if !missing_value.is_empty() {
                    why.push(format!("no value for {}", list(&missing_value)));
                }
                if !missing_weight.is_empty() {
                    why.push(format!(
                        "no weight ({}) for {}",
                        job.weights,
                        list(&missing_weight)
                    ));
                }
                steps.push(Step::Note(NoDataReason {
                    code: d.code.clone(),
                    name: Some(d.name.clone()),
                    period: Some(label.clone()),
                    reason: format!(
                        "{}; not recombined for {label}: {}",
                        merged_from(&parts),
                        why.join("; ")
                    ),
                    summary: merged_summary(&parts, "a former district has no value or weight"),
                }));
                values.push(None);
            }
        }
        if !periods.is_empty() {
            recombined.push(RecombinedCode {
                code: d.code.clone(),
                name: Some(d.name.clone()),
                how: format!(
                    "mean of {} weighted by {}",
                    list(&parts),
                    weights.describe(&weight_label)
                ),
                periods,
            });
        }
    }
    (steps, values, recombined)
}

/// The hint of a code the join could not place, from the lineages where they know it: which
/// district an old code became, or what a new district was made of (else `None`).
pub fn lineage_hint(lineages: &[Arc<Lineage>], code: &str) -> Option<String> {
    lineages
        .iter()
        .find_map(|l| l.made_from(code).or_else(|| l.became(code)))
}

/// A reported code with its hint from the lineages, falling back to `fallback`.
pub fn with_lineage_hint(
    lineages: &[Arc<Lineage>],
    mut reported: ReportedCode,
    fallback: impl FnOnce(&str) -> Option<String>,
) -> ReportedCode {
    reported.hint = lineage_hint(lineages, &reported.code).or_else(|| fallback(&reported.code));
    reported
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::catalog::{Direction, IndicatorMeta, Provenance};
    use crate::dissolve::{MergeColumns, MergePlan};
    use crate::indicators::{TablePeriod, TableValues};
    use crate::join::{LayerCodes, join_indicator};

    /// A (Ay) and B (Bee) merged into C in 2023; D kept its code.
    fn lineages() -> Vec<Arc<Lineage>> {
        let csv = "old_code,old_name,new_code,new_name,effective\n\
                   A,Ay,C,Sea,2023-04-01\nB,Bee,C,Sea,2023-04-01\n";
        let plan = MergePlan::from_reader(csv.as_bytes(), "inline", &MergeColumns::default())
            .expect("plan");
        vec![Arc::new(Lineage::from_plan(&plan))]
    }

    /// A rate published for the former districts A and B (and D), two periods; B has none in
    /// the second.
    fn table() -> TableIndicator {
        let period = |label: &str, b: Option<f64>| TablePeriod {
            label: label.into(),
            values: TableValues::Numeric(
                HashMap::from([
                    ("A".to_string(), Some(10.0)),
                    ("B".to_string(), b),
                    ("D".to_string(), Some(5.0)),
                ])
                .into(),
            ),
        };
        TableIndicator {
            id: "rate".into(),
            categorical: false,
            periods: vec![period("2021", Some(20.0)), period("2022", None)],
            duplicates: vec![],
            categories: vec![],
            names: Arc::default(),
            path: "rate.csv".into(),
        }
    }

    fn joined(
        codes: &[String],
        combine: Option<&Combine>,
    ) -> (Indicator, Option<PendingRecombination>) {
        let meta = IndicatorMeta {
            id: "rate".into(),
            title: "Rate".into(),
            unit: "%".into(),
            direction: Direction::Neutral,
            source: "s".into(),
            provenance: Provenance {
                licence: "OGL-3.0".into(),
                attribution: "a".into(),
                ..Provenance::default()
            },
            file: "rate.csv".into(),
            categorical: false,
            source_id: "s".into(),
            default_period: None,
            periods_note: None,
            description: None,
            style: None,
            ordinal: None,
        };
        let lineages = lineages();
        let layer = LayerCodes::new("new", codes).with_lineages(&lineages);
        let table = table();
        let mut ind = join_indicator(meta, &layer, &table);
        let pending = explain_and_recombine(&mut ind, &table, combine, &lineages, codes);
        (ind, pending)
    }

    fn values(ind: &Indicator, k: usize) -> Vec<Option<f64>> {
        match &ind.periods[k].values {
            PeriodValues::Numeric(v) => v.clone(),
            PeriodValues::Categorical(_) => unreachable!(),
        }
    }

    #[test]
    fn a_rate_without_weights_is_never_averaged() {
        let codes = vec!["C".to_string(), "D".to_string()];
        for combine in [
            None,
            Some(Combine::Never {
                reason: "a rate needs its denominator".into(),
            }),
        ] {
            let (ind, pending) = joined(&codes, combine.as_ref());
            assert!(pending.is_none());
            assert_eq!(values(&ind, 0), vec![None, Some(5.0)]);
            assert_eq!(values(&ind, 1), vec![None, Some(5.0)]);
            let note = ind.no_data_reason("C", "2021").expect("reason");
            assert!(
                note.reason
                    .starts_with("merged in 2023 from A Ay, B Bee; the source publishes the former districts only"),
                "{}",
                note.reason
            );
            assert_eq!(
                note.summary,
                "merged in 2023; the source publishes the former districts only"
            );
            assert!(ind.report.recombined.is_empty());
        }
        // With weights, nothing is averaged until the weights are there.
        let (ind, pending) = joined(
            &codes,
            Some(&Combine::WeightedMean {
                weights: "population".into(),
            }),
        );
        assert_eq!(values(&ind, 0)[0], None);
        let pending = pending.expect("waits for weights");
        assert_eq!(pending.weights, "population");
        assert_eq!(
            pending.districts[0].values[0].1,
            vec![Some(10.0), Some(20.0)]
        );
    }

    #[test]
    fn counts_are_summed_only_when_every_part_has_a_value() {
        let codes = vec!["C".to_string(), "D".to_string()];
        let (ind, _) = joined(&codes, Some(&Combine::Sum));
        assert_eq!(values(&ind, 0), vec![Some(30.0), Some(5.0)]);
        assert_eq!(values(&ind, 1), vec![None, Some(5.0)]);
        assert!(ind.no_data_reason("C", "2021").is_none());
        let note = ind.no_data_reason("C", "2022").expect("2022 explained");
        assert_eq!(
            note.reason,
            "merged in 2023 from A Ay, B Bee; not recombined for 2022: no value for B Bee"
        );
        assert_eq!(ind.report.recombined[0].how, "sum of A Ay, B Bee");
        assert_eq!(ind.report.recombined[0].periods, vec!["2021".to_string()]);
        assert!(ind.report.boundaries_without_data.is_empty());
        assert!(
            ind.meta
                .description
                .as_deref()
                .is_some_and(|d| d.contains("C Sea = sum of A Ay, B Bee"))
        );
    }

    #[test]
    fn former_districts_of_a_table_on_new_codes_say_what_they_became() {
        // A table on the new code C, on a layer of the old codes A and B.
        let t = TableIndicator {
            periods: vec![TablePeriod {
                label: "2023".into(),
                values: TableValues::Numeric(HashMap::from([("C".to_string(), Some(1.0))]).into()),
            }],
            ..table()
        };
        let codes = vec!["A".to_string(), "B".to_string()];
        let lineages = lineages();
        let layer = LayerCodes::new("old", &codes).with_lineages(&lineages);
        let meta = joined(&codes, None).0.meta;
        let mut ind = join_indicator(meta, &layer, &t);
        assert!(
            explain_and_recombine(&mut ind, &t, Some(&Combine::Sum), &lineages, &codes).is_none()
        );
        let note = ind.no_data_reason("A", "2023").expect("A explained");
        assert_eq!(
            note.reason,
            "merged into C Sea in 2023; the source publishes the merged district only"
        );
        assert_eq!(
            lineage_hint(&lineages, "C").as_deref(),
            Some("made on 2023-04-01 from A Ay, B Bee")
        );
        assert_eq!(
            lineage_hint(&lineages, "b").as_deref(),
            Some("became part of C Sea on 2023-04-01")
        );
    }
}
