//! A small table type: the one shape every result can be turned into, for CSV on the command
//! line and JSON tables over HTTP.

use serde::Serialize;

/// One cell of a [`Table`]; serialises as a bare JSON value (`null` for [`Cell::Empty`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    /// Text, e.g. a code or a name.
    Text(String),
    /// A count or a rank.
    Int(i64),
    /// A measured or computed number.
    Number(f64),
    /// No value (missing data, or a statistic that is undefined for this row).
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        if v.is_finite() {
            Cell::Number(v)
        } else {
            Cell::Empty
        }
    }
}
impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Text(if v { "true" } else { "false" }.to_string())
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// Named columns and rows of cells (every row has one cell per column).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    /// Column names, snake_case.
    pub columns: Vec<String>,
    /// Rows, in the order of the result they came from.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: &[&str]) -> Self {
        Table {
            columns: columns
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; cells beyond the column count are dropped, missing ones are empty, so a
    /// table is always rectangular.
    pub fn push(&mut self, mut row: Vec<Cell>) {
        row.resize(self.columns.len(), Cell::Empty);
        self.rows.push(row);
    }

    /// Writes the table as CSV (header line first, empty cells as empty fields, numbers in
    /// their shortest round-trip form).
    ///
    /// ```
    /// use analysis::{Cell, Table};
    /// let mut t = Table::new(&["code", "value"]);
    /// t.push(vec![Cell::from("E06000001"), Cell::from(1.5)]);
    /// t.push(vec![Cell::from("E06000002"), Cell::Empty]);
    /// assert_eq!(t.to_csv(), "code,value\nE06000001,1.5\nE06000002,\n");
    /// ```
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail for I/O reasons; a csv error here would be a bug in the
        // csv crate, so fall back to an empty output rather than panicking.
        let mut write = || -> Result<Vec<u8>, csv::Error> {
            w.write_record(&self.columns)?;
            for row in &self.rows {
                w.write_record(row.iter().map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Int(i) => i.to_string(),
                    Cell::Number(v) => v.to_string(),
                    Cell::Empty => String::new(),
                }))?;
            }
            w.flush()?;
            Ok(w.get_ref().clone())
        };
        write()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The table as aligned text for people (numbers right-aligned, at most 4 decimals,
    /// empty cells as `-`), header first.
    ///
    /// ```
    /// use analysis::{Cell, Table};
    /// let mut t = Table::new(&["code", "value"]);
    /// t.push(vec![Cell::from("E06000001"), Cell::from(1.0 / 3.0)]);
    /// t.push(vec![Cell::from("E06000002"), Cell::Empty]);
    /// assert_eq!(t.to_text(), "code       value\nE06000001 0.3333\nE06000002      -\n");
    /// ```
    pub fn to_text(&self) -> String {
        let cells: Vec<Vec<(String, bool)>> = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| match c {
                        Cell::Text(s) => (s.clone(), false),
                        Cell::Int(i) => (i.to_string(), true),
                        Cell::Number(v) => (human_number(*v), true),
                        Cell::Empty => ("-".to_string(), true),
                    })
                    .collect()
            })
            .collect();
        let mut width: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &cells {
            for (w, (s, _)) in width.iter_mut().zip(row) {
                *w = (*w).max(s.chars().count());
            }
        }
        // A column is right-aligned when every non-empty cell in it is a number.
        let right: Vec<bool> = (0..self.columns.len())
            .map(|i| !cells.is_empty() && cells.iter().all(|r| r.get(i).is_none_or(|c| c.1)))
            .collect();
        let line = |items: Vec<&str>| -> String {
            let mut out = String::new();
            for (i, s) in items.iter().enumerate() {
                let pad = width[i].saturating_sub(s.chars().count());
                if i > 0 {
                    out.push(' ');
                }
                if right[i] {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(s);
                } else {
                    out.push_str(s);
                    if i + 1 < items.len() {
                        out.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.push('\n');
            out
        };
        let mut out = line(self.columns.iter().map(String::as_str).collect());
        for row in &cells {
            out.push_str(&line(row.iter().map(|(s, _)| s.as_str()).collect()));
        }
        out
    }
}

/// A number for people: integers as such, others with at most 4 decimals, trailing zeros cut.
fn human_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}
