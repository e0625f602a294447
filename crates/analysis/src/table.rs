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
            columns: columns.iter().map(|c| c.to_string()).collect(),
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
}
