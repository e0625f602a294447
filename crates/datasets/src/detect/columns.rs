//! The columns besides the code column: a name column, a period column (long layout), value
//! columns (numbers with `%`, `£`, thousands separators; suppression markers counted), and
//! period headers (`2019`, `2019/20`, `2019-20`) grouped into one indicator (wide layout).

use std::collections::{BTreeMap, HashSet};

use districts::csv_text::{overflows, parse_number, period_label};

use super::header::{Frame, column_name};
use crate::codes::gss;
use crate::error::{DatasetError, Result};
use crate::read::Grid;
use crate::table::{Table, TableIndicator, TablePeriod, TableRow};

/// The classified columns and the table they make.
#[derive(Clone, Debug)]
pub struct Columns {
    /// Position of the name column, if any.
    pub name_column: Option<usize>,
    /// Position of the period column of a long table.
    pub period_column: Option<usize>,
    /// Positions of the value columns.
    pub value_columns: Vec<usize>,
    /// Columns left out, with why.
    pub ignored: Vec<String>,
    /// The normalised table the columns make.
    pub table: Table,
}

/// A period label from a header: `2019`, `2019/20`, `2019-20`, `2019_20`.
pub fn header_period(h: &str) -> Option<String> {
    let h = h.trim();
    if h.len() == 7 && h.as_bytes()[4] == b'-' {
        // `2019-20`: consecutive years are a financial or academic year.
        let (a, b) = (h.get(..4)?, h.get(5..)?);
        let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
        return ((a + 1) % 100 == b).then(|| format!("{a}/{b:02}"));
    }
    period_label(h).filter(|_| h.len() <= 9)
}

/// Lower-case ASCII key from a header: `Median pay (£)` -> `median_pay`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    let out: String = out.chars().take(40).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v{out}")
    } else {
        out
    }
}

fn is_marker(cell: &str) -> bool {
    !cell.is_empty() && matches!(parse_number(cell), Ok(None))
}

/// Classifies every column of the frame and builds the table.
pub fn classify(
    grid: &Grid,
    frame: &Frame,
    code_col: usize,
    period_default: &str,
) -> Result<Columns> {
    let width = frame
        .data
        .iter()
        .map(|&i| grid.rows[i].cells.len())
        .max()
        .unwrap_or(0);
    let cell = |i: usize, c: usize| grid.rows[i].cells.get(c).map_or("", String::as_str);
    let name = |c: usize| column_name(grid, frame.header, c);
    let codes: Vec<String> = frame
        .data
        .iter()
        .filter_map(|&i| gss(cell(i, code_col)))
        .collect();
    let distinct: HashSet<&String> = codes.iter().collect();
    let codes_repeat = distinct.len() < codes.len();

    let mut name_column = None;
    let mut period_column = None;
    let mut value_columns = Vec::new();
    let mut ignored = Vec::new();
    for c in 0..width {
        if c == code_col {
            continue;
        }
        let cells: Vec<&str> = frame.data.iter().map(|&i| cell(i, c)).collect();
        let filled: Vec<&str> = cells.iter().copied().filter(|s| !s.is_empty()).collect();
        if filled.is_empty() {
            continue;
        }
        let header = name(c);
        let lower = header.to_ascii_lowercase();
        let codes_here = filled.iter().filter(|s| gss(s).is_some()).count();
        if codes_here * 2 > filled.len() {
            ignored.push(format!("{header}: another code column"));
            continue;
        }
        let periods = filled.iter().filter(|s| header_period(s).is_some()).count();
        let period_header = ["year", "period", "date", "time"]
            .iter()
            .any(|w| lower.contains(w));
        if period_column.is_none()
            && codes_repeat
            && periods * 10 >= filled.len() * 9
            && (period_header || filled.iter().any(|s| s.contains('/') || s.contains('-')) || {
                let distinct: HashSet<&&str> = filled.iter().collect();
                distinct.len() * 2 <= filled.len()
            })
        {
            period_column = Some(c);
            continue;
        }
        let numeric = filled
            .iter()
            .filter(|s| matches!(parse_number(s), Ok(Some(_))))
            .count();
        let readable = filled.iter().filter(|s| parse_number(s).is_ok()).count();
        // A period column of markers only (a year not published) is still a period.
        let period_named = frame.header.is_some() && header_period(&header).is_some();
        if (numeric > 0 || period_named) && readable * 10 >= filled.len() * 9 {
            value_columns.push(c);
            continue;
        }
        if name_column.is_none() && numeric == 0 {
            name_column = Some(c);
            continue;
        }
        ignored.push(format!("{header}: text, not numbers"));
    }
    // Prefer a column headed "name" for names.
    if let Some(c) = (0..width).find(|&c| {
        Some(c) != Some(code_col)
            && !value_columns.contains(&c)
            && Some(c) != period_column
            && name(c).to_ascii_lowercase().contains("name")
            && Some(c) != name_column
    }) && name_column.is_some_and(|n| !name(n).to_ascii_lowercase().contains("name"))
    {
        ignored.retain(|s| !s.starts_with(&format!("{}:", name(c))));
        if let Some(old) = name_column {
            ignored.push(format!("{}: text, not numbers", name(old)));
        }
        name_column = Some(c);
    }
    if value_columns.is_empty() {
        return Err(DatasetError::bad(
            format!(
                "no column of numbers found beside the code column {:?}",
                name(code_col)
            ),
            "each value column needs numbers (1,234, 12.5%, £498 and markers such as [c] or .. are read)",
        ));
    }

    let rows: Vec<TableRow> = frame
        .data
        .iter()
        .filter_map(|&i| {
            Some(TableRow {
                line: grid.rows[i].line,
                code: gss(cell(i, code_col))?,
                name: name_column
                    .map(|n| cell(i, n).to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let row_cells: Vec<usize> = frame
        .data
        .iter()
        .copied()
        .filter(|&i| gss(cell(i, code_col)).is_some())
        .collect();

    // A cell that is not a number or a marker is no value (the column was judged numeric on
    // nine in ten cells), but a number too large for a float (`1e400`) is refused: it is
    // surely a mistake, and would otherwise be read as infinity or dropped without a word.
    let read_column = |c: usize,
                       markers: &mut BTreeMap<String, usize>|
     -> Result<Vec<(u32, Option<f64>)>> {
        row_cells
            .iter()
            .enumerate()
            .map(|(r, &i)| {
                let s = cell(i, c);
                if is_marker(s) {
                    *markers.entry(s.to_string()).or_default() += 1;
                }
                if overflows(s) {
                    return Err(DatasetError::bad(
                        format!(
                            "{}, line {}, column `{}`: `{s}` is too large to be a number (beyond ±1.8e308)",
                            grid.name,
                            grid.rows[i].line,
                            name(c)
                        ),
                        "correct the value, or leave the cell empty if it is not known",
                    ));
                }
                Ok((r as u32, parse_number(s).ok().flatten()))
            })
            .collect()
    };

    let mut indicators = Vec::new();
    match period_column {
        Some(pc) => {
            // Long layout: each value column's periods come from the period column.
            let mut labels: Vec<String> = Vec::new();
            let row_label: Vec<Option<String>> = row_cells
                .iter()
                .map(|&i| header_period(cell(i, pc)))
                .collect();
            for l in row_label.iter().flatten() {
                if !labels.contains(l) {
                    labels.push(l.clone());
                }
            }
            labels.sort();
            for &c in &value_columns {
                let mut markers = BTreeMap::new();
                let all = read_column(c, &mut markers)?;
                let periods = labels
                    .iter()
                    .map(|l| TablePeriod {
                        label: l.clone(),
                        values: all
                            .iter()
                            .filter(|(r, _)| row_label[*r as usize].as_deref() == Some(l))
                            .copied()
                            .collect(),
                    })
                    .collect();
                indicators.push(TableIndicator {
                    key: slug(&name(c)),
                    title: name(c),
                    periods,
                    markers,
                });
            }
        }
        None => {
            let (period_cols, single): (Vec<usize>, Vec<usize>) = value_columns
                .iter()
                .partition(|&&c| frame.header.is_some() && header_period(&name(c)).is_some());
            let (period_cols, single) = if period_cols.len() >= 2 {
                (period_cols, single)
            } else {
                (Vec::new(), value_columns.clone())
            };
            if !period_cols.is_empty() {
                let mut markers = BTreeMap::new();
                let mut periods: Vec<TablePeriod> = period_cols
                    .iter()
                    .map(|&c| {
                        Ok(TablePeriod {
                            label: header_period(&name(c)).unwrap_or_else(|| name(c)),
                            values: read_column(c, &mut markers)?,
                        })
                    })
                    .collect::<Result<_>>()?;
                periods.sort_by(|a, b| a.label.cmp(&b.label));
                indicators.push(TableIndicator {
                    key: "value".into(),
                    title: "value".into(),
                    periods,
                    markers,
                });
            }
            for c in single {
                let mut markers = BTreeMap::new();
                let values = read_column(c, &mut markers)?;
                indicators.push(TableIndicator {
                    key: slug(&name(c)),
                    title: name(c),
                    periods: vec![TablePeriod {
                        label: period_default.to_string(),
                        values,
                    }],
                    markers,
                });
            }
        }
    }
    // Keys unique within the table.
    let mut seen = HashSet::new();
    for ind in &mut indicators {
        let base = ind.key.clone();
        let mut n = 2;
        while !seen.insert(ind.key.clone()) {
            ind.key = format!("{base}_{n}");
            n += 1;
        }
    }
    Ok(Columns {
        name_column,
        period_column,
        value_columns,
        ignored,
        table: Table { rows, indicators },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_headers() {
        assert_eq!(header_period("2019").as_deref(), Some("2019"));
        assert_eq!(header_period("2019/20").as_deref(), Some("2019/20"));
        assert_eq!(header_period("2019-20").as_deref(), Some("2019/20"));
        assert_eq!(header_period("Pay"), None);
        assert_eq!(slug("Median pay (£)"), "median_pay");
        assert_eq!(slug("2019"), "v2019");
    }
}
