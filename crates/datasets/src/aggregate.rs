//! `aggregate=`: a small-area table (LSOAs...) with a district code column becomes a district
//! table, each value column aggregated per district through the analysis crate's aggregation
//! (`analysis::assign_by_lookup` + `analysis::aggregate`, the code behind `placemap aggregate`
//! and catalogue `[[derived]]` entries), then joined like any upload.
//!
//! The rule is `HOW[:COLUMN][CLASS]`: `share:decile=1` (share of rows whose column matching
//! `decile` is 1), `share:<=3284`, `mean`, `mean:rank`, `sum`, `weighted-mean` with
//! `weights=COLUMN`, `median`, `min`, `max`. COLUMN picks the value columns whose header contains
//! it; without one every value column is aggregated.

use std::collections::{BTreeMap, HashMap};

use analysis::Aggregation;
use serde::Serialize;

use crate::codes::gss;
use crate::detect::columns::{self, slug};
use crate::detect::small_areas::{self, SmallAreas, thousands};
use crate::detect::{Detection, KnownLayer, geography, header};
use crate::error::{DatasetError, Result};
use crate::read::Grid;
use crate::table::{Table, TableIndicator, TablePeriod, TableRow};

/// What aggregation did, reported with the upload.
#[derive(Clone, Debug, Serialize)]
pub struct AggregationReport {
    /// The rule as given (`share:decile=1`).
    pub rule: String,
    /// The statistic, in words (`share of rows with value = 1`).
    pub how: String,
    /// Weights column of a weighted mean.
    pub weights: Option<String>,
    /// The small-area code column and what its codes are.
    pub small_area_column: String,
    /// What the small-area codes are (e.g. LSOA 2021).
    pub small_areas: String,
    /// The district code column the rows were grouped by.
    pub district_column: String,
    /// Value columns aggregated (headers).
    pub columns: Vec<String>,
    /// Small-area rows read, districts made.
    pub rows: usize,
    /// Districts the rows were grouped into.
    pub districts: usize,
    /// Rows per district: fewest, median, most, and each district's count.
    pub rows_per_district_min: usize,
    /// Median rows per district.
    pub rows_per_district_median: usize,
    /// Most rows of one district.
    pub rows_per_district_max: usize,
    /// Rows of each district, by code.
    pub rows_per_district: BTreeMap<String, usize>,
    /// Rows left out of a statistic, by column and reason (`missing value`: 3).
    pub excluded: BTreeMap<String, BTreeMap<String, usize>>,
}

/// A parsed rule: the statistic, and the column name it applies to (if given).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The statistic.
    pub how: Aggregation,
    /// Only value columns whose header contains this (all when `None`).
    pub column: Option<String>,
}

fn hint() -> &'static str {
    "aggregate=share:COLUMN=VALUE (e.g. share:decile=1, share:rank<=3284), mean, sum, median, min, max, or weighted-mean with weights=COLUMN; mean:COLUMN limits it to one column"
}

/// Parses `HOW[:COLUMN][CLASS]` with the analysis crate's own parsers of `how` and `class`.
///
/// ```
/// use analysis::{Aggregation, ClassRule};
/// let r = datasets::aggregate::parse_rule("share:decile=1").unwrap();
/// assert_eq!(r.how, Aggregation::Share(ClassRule::Equal(1.0)));
/// assert_eq!(r.column.as_deref(), Some("decile"));
/// assert_eq!(datasets::aggregate::parse_rule("weighted_mean").unwrap().how, Aggregation::WeightedMean);
/// assert!(datasets::aggregate::parse_rule("share").is_err());
/// ```
pub fn parse_rule(raw: &str) -> Result<Rule> {
    let (how, rest) = match raw.split_once(':') {
        Some((h, r)) => (h.trim(), Some(r.trim()).filter(|r| !r.is_empty())),
        None => (raw.trim(), None),
    };
    let is_share = how.eq_ignore_ascii_case("share");
    // The column name is what comes before a class operator or number.
    let (column, class) = match rest {
        Some(r) if is_share => {
            let at = r
                .find(|c: char| c == '<' || c == '>' || c == '=' || c.is_ascii_digit())
                .unwrap_or(r.len());
            (Some(r[..at].trim()), Some(&r[at..]))
        }
        Some(r) => (Some(r), None),
        None => (None, None),
    };
    let bad = |e: analysis::query::QueryError| {
        DatasetError::bad(format!("aggregate={raw:?}: {e}"), hint())
    };
    let class = class.filter(|c| !c.is_empty());
    if is_share && class.is_none() {
        return Err(DatasetError::bad(
            format!("aggregate={raw:?}: a share needs a class of values to count"),
            hint(),
        ));
    }
    let how = analysis::query::parse_how(how, class).map_err(bad)?;
    Ok(Rule {
        how,
        column: column.filter(|c| !c.is_empty()).map(str::to_string),
    })
}

fn describe(how: &Aggregation) -> String {
    use analysis::ClassRule;
    match how {
        Aggregation::Mean => "mean".into(),
        Aggregation::WeightedMean => "weighted mean".into(),
        Aggregation::Sum => "sum".into(),
        Aggregation::Median => "median".into(),
        Aggregation::Min => "minimum".into(),
        Aggregation::Max => "maximum".into(),
        Aggregation::Share(c) => match c {
            ClassRule::Equal(v) => format!("share of rows with value = {v}"),
            ClassRule::AtMost(v) => format!("share of rows with value <= {v}"),
            ClassRule::AtLeast(v) => format!("share of rows with value >= {v}"),
            ClassRule::Between(a, b) => format!("share of rows with value from {a} to {b}"),
        },
    }
}

/// Whether a column header matches a name given in the rule or `weights=`.
fn matches(title: &str, name: &str) -> bool {
    let (t, n) = (slug(title), slug(name));
    title.eq_ignore_ascii_case(name) || (!n.is_empty() && t.contains(&n))
}

/// Aggregates the small-area table in `grid` to its district column with `rule` and returns
/// the district table, its detection (layer chosen from the district codes) and the report.
pub fn to_districts(
    grid: &Grid,
    layers: &[KnownLayer],
    force_layer: Option<&str>,
    period_default: &str,
    rule_text: &str,
    weights: Option<&str>,
) -> Result<(Table, Detection, AggregationReport)> {
    let rule = parse_rule(rule_text)?;
    let candidates = header::code_columns(grid);
    if candidates.is_empty() {
        return Err(crate::detect::no_code_column());
    }
    let sa: SmallAreas = small_areas::find(grid, &candidates).ok_or_else(|| {
        DatasetError::bad(
            format!("aggregate={rule_text:?}: the table has no column of small-area codes (LSOA, MSOA, output area, data zone)"),
            "aggregate= maps small areas by their district; a table of district codes is mapped as it is (drop aggregate=)",
        )
    })?;
    let frame = header::frame(grid, sa.small_col);
    let name = |c: usize| header::column_name(grid, frame.header, c);
    let district_col = sa.district_col.ok_or_else(|| {
        DatasetError::bad(
            format!(
                "aggregate={rule_text:?}: column {:?} holds {}, but no column gives each area's district",
                name(sa.small_col),
                sa.describe()
            ),
            "add a column of district codes (E06, E07, E08, E09, W06...) beside the area codes",
        )
    })?;
    let (_, scores) = geography::choose(grid, &[(district_col, 0)], layers, force_layer)?;
    let layer = scores.first().map(|s| s.layer.clone()).unwrap_or_default();
    let cols = columns::classify(grid, &frame, sa.small_col, period_default)?;
    let small = &cols.table;

    // Each row's district (the rows of the table are the frame's rows with a small-area code).
    let cell = |i: usize, c: usize| grid.rows[i].cells.get(c).map_or("", String::as_str);
    let row_cells: Vec<usize> = frame
        .data
        .iter()
        .copied()
        .filter(|&i| gss(cell(i, sa.small_col)).is_some())
        .collect();
    let district_name_col = Some(district_col + 1)
        .filter(|&c| name(c).to_ascii_lowercase().contains("name") && Some(c) != cols.name_column);
    let mut targets: Vec<String> = Vec::new();
    let mut target_rows: Vec<TableRow> = Vec::new();
    let mut lookup: HashMap<String, String> = HashMap::new();
    let mut per_district: BTreeMap<String, usize> = BTreeMap::new();
    for (row, &i) in small.rows.iter().zip(&row_cells) {
        let Some(d) = gss(cell(i, district_col)) else {
            continue;
        };
        lookup.entry(row.code.clone()).or_insert_with(|| d.clone());
        let n = per_district.entry(d.clone()).or_default();
        if *n == 0 {
            targets.push(d.clone());
            target_rows.push(TableRow {
                line: row.line,
                code: d.clone(),
                name: district_name_col
                    .map(|c| cell(i, c).to_string())
                    .unwrap_or_default(),
            });
        }
        *n += 1;
    }

    // The value columns to aggregate, and the weights.
    let weights_ind = match (weights, rule.how) {
        (Some(w), Aggregation::WeightedMean) => {
            let found: Vec<&TableIndicator> = small
                .indicators
                .iter()
                .filter(|i| matches(&i.title, w))
                .collect();
            match found.as_slice() {
                [one] => Some(*one),
                [] => {
                    return Err(DatasetError::bad(
                        format!("weights={w:?}: no value column matches"),
                        format!("value columns: {}", titles(&small.indicators)),
                    ));
                }
                many => {
                    return Err(DatasetError::bad(
                        format!("weights={w:?} matches {} columns", many.len()),
                        format!("name one of: {}", titles(&small.indicators)),
                    ));
                }
            }
        }
        (None, Aggregation::WeightedMean) => {
            return Err(DatasetError::bad(
                "aggregate=weighted-mean needs weights=COLUMN",
                format!(
                    "weights= names a value column, e.g. a population; value columns: {}",
                    titles(&small.indicators)
                ),
            ));
        }
        (Some(_), _) => {
            return Err(DatasetError::bad(
                "weights= applies to aggregate=weighted-mean only",
                "drop weights= or use aggregate=weighted-mean",
            ));
        }
        (None, _) => None,
    };
    let chosen: Vec<&TableIndicator> = small
        .indicators
        .iter()
        .filter(|i| weights_ind.is_none_or(|w| w.key != i.key))
        .filter(|i| rule.column.as_deref().is_none_or(|c| matches(&i.title, c)))
        .collect();
    if chosen.is_empty() {
        return Err(DatasetError::bad(
            format!(
                "aggregate={rule_text:?}: no value column matches {:?}",
                rule.column.as_deref().unwrap_or("")
            ),
            format!(
                "value columns: {}; name one after the colon (share:decile=1, mean:rank)",
                titles(&small.indicators)
            ),
        ));
    }

    let mut excluded: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut indicators = Vec::with_capacity(chosen.len());
    let how_text = describe(&rule.how);
    for ind in &chosen {
        let mut periods = Vec::with_capacity(ind.periods.len());
        for p in &ind.periods {
            let codes: Vec<&str> = p
                .values
                .iter()
                .map(|&(r, _)| small.rows[r as usize].code.as_str())
                .collect();
            let values: Vec<Option<f64>> = p.values.iter().map(|&(_, v)| v).collect();
            let weights: Option<Vec<Option<f64>>> = weights_ind.map(|w| {
                let wp = w
                    .periods
                    .iter()
                    .find(|wp| wp.label == p.label)
                    .or_else(|| (w.periods.len() == 1).then(|| &w.periods[0]));
                let by_row: HashMap<u32, Option<f64>> = wp
                    .map(|wp| wp.values.iter().copied().collect())
                    .unwrap_or_default();
                p.values
                    .iter()
                    .map(|(r, _)| by_row.get(r).copied().flatten())
                    .collect()
            });
            let assignment = analysis::assign_by_lookup(&codes, &lookup, &targets);
            let result =
                analysis::aggregate(&codes, &values, weights.as_deref(), &assignment, rule.how)
                    .map_err(|e| {
                        DatasetError::bad(format!("aggregate={rule_text:?}: {e}"), hint())
                    })?;
            let e = &result.exclusions;
            let counts = excluded.entry(ind.title.clone()).or_default();
            for (what, n) in [
                ("no district code", e.unassigned.len()),
                ("missing value", e.missing_value.len()),
                ("missing weight", e.missing_weight.len()),
                ("zero weight", e.zero_weight.len()),
                ("negative or non-finite weight", e.invalid_weight.len()),
            ] {
                if n > 0 {
                    *counts.entry(what.to_string()).or_default() += n;
                }
            }
            periods.push(TablePeriod {
                label: p.label.clone(),
                values: result
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(t, r)| (t as u32, r.value))
                    .collect(),
            });
        }
        indicators.push(TableIndicator {
            key: ind.key.clone(),
            title: format!("{} ({how_text}, by district)", ind.title),
            periods,
            markers: ind.markers.clone(),
        });
    }
    excluded.retain(|_, v| !v.is_empty());

    let mut counts: Vec<usize> = per_district.values().copied().collect();
    counts.sort_unstable();
    let report = AggregationReport {
        rule: rule_text.to_string(),
        how: how_text.clone(),
        weights: weights_ind.map(|w| w.title.clone()),
        small_area_column: name(sa.small_col),
        small_areas: sa.describe(),
        district_column: name(district_col),
        columns: chosen.iter().map(|i| i.title.clone()).collect(),
        rows: small.rows.len(),
        districts: targets.len(),
        rows_per_district_min: counts.first().copied().unwrap_or(0),
        rows_per_district_median: counts.get(counts.len() / 2).copied().unwrap_or(0),
        rows_per_district_max: counts.last().copied().unwrap_or(0),
        rows_per_district: per_district,
        excluded,
    };
    let mut ignored = cols.ignored.clone();
    for i in &small.indicators {
        if !chosen.iter().any(|c| c.key == i.key) {
            ignored.push(format!("{}: not aggregated", i.title));
        }
    }
    let mut notes = grid.notes.clone();
    notes.push(format!(
        "aggregated {} rows of {} to {} districts of column {:?} ({how_text}; {} to {} rows per district)",
        thousands(report.rows),
        name(sa.small_col),
        thousands(report.districts),
        report.district_column,
        report.rows_per_district_min,
        report.rows_per_district_max
    ));
    let detection = Detection {
        header_row: frame.header.map(|h| grid.rows[h].line),
        code_column: name(district_col),
        name_column: district_name_col.map(name),
        layout: if cols.period_column.is_some() {
            "long".into()
        } else {
            "wide".into()
        },
        period_column: cols.period_column.map(name),
        value_columns: report.columns.clone(),
        ignored_columns: ignored,
        lines_above: frame.lines_above,
        notes_below: frame.notes_below,
        rows_without_code: frame.rows_without_code.clone(),
        layer,
        layer_scores: scores,
        notes,
    };
    let table = Table {
        rows: target_rows,
        indicators,
    };
    Ok((table, detection, report))
}

fn titles(inds: &[TableIndicator]) -> String {
    inds.iter()
        .map(|i| format!("{:?}", i.title))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::ClassRule;

    fn grid(rows: &[&[&'static str]]) -> Grid {
        Grid::of_rows(rows)
    }

    #[test]
    fn rules() {
        let r = parse_rule("share:rank<=3284").expect("rule");
        assert_eq!(r.how, Aggregation::Share(ClassRule::AtMost(3284.0)));
        assert_eq!(r.column.as_deref(), Some("rank"));
        assert_eq!(parse_rule("share:=1").expect("rule").column, None);
        assert_eq!(
            parse_rule("mean:rank").expect("rule").column.as_deref(),
            Some("rank")
        );
        assert!(parse_rule("average").is_err());
        assert!(parse_rule("share:decile").is_err());
    }

    #[test]
    fn shares_means_and_weighted_means_by_district() -> Result<()> {
        let g = grid(&[
            &["LSOA", "LAD", "Decile", "Pop"],
            &["E01000001", "E09000001", "1", "10"],
            &["E01000002", "E09000001", "3", "30"],
            &["E01000003", "E06000001", "1", "5"],
            &["E01000004", "", "1", "5"],
        ]);
        let layers = [KnownLayer::new(
            "lad",
            "",
            vec!["E09000001".into(), "E06000001".into()],
            vec![],
        )];
        let (t, d, r) = to_districts(&g, &layers, None, "latest", "share:decile=1", None)?;
        assert_eq!(d.layer, "lad");
        assert_eq!(d.code_column, "LAD");
        assert_eq!(r.rows_per_district["E09000001"], 2);
        assert_eq!(t.indicators.len(), 1);
        assert_eq!(
            t.indicators[0].periods[0].values,
            vec![(0, Some(0.5)), (1, Some(1.0))]
        );
        assert_eq!(r.excluded["Decile"]["no district code"], 1);
        let (t, _, _) = to_districts(&g, &layers, None, "latest", "weighted-mean", Some("pop"))?;
        assert_eq!(t.indicators[0].periods[0].values[0], (0, Some(2.5)));
        assert!(to_districts(&g, &layers, None, "latest", "weighted-mean", None).is_err());
        assert!(to_districts(&g, &layers, None, "latest", "share:score=1", None).is_err());
        Ok(())
    }
}
