//! The normalised table that detection produces and the store keeps: rows (line, code,
//! name) and indicators with periods of values by row. Joining it to a layer is separate
//! ([`crate::join`]), so a stored table can be re-joined when layers change.

use serde::{Deserialize, Serialize};

/// One data row of the upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// 1-based line (CSV) or row (XLSX) number in the upload.
    pub line: u64,
    /// The GSS code, normalised.
    pub code: String,
    /// The name cell, if the table has a name column.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// Values of one period: `(row index, value)`; `None` is a suppressed or missing cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TablePeriod {
    /// Period label (`2021`, `2020/21`, `latest`).
    pub label: String,
    /// `(row index, value)` pairs.
    pub values: Vec<(u32, Option<f64>)>,
}

/// One indicator of the upload (a value column, or a group of period columns).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableIndicator {
    /// Short key from the column header (`rate`), unique in the table.
    pub key: String,
    /// Header text of the column(s).
    pub title: String,
    /// Periods in chronological order.
    pub periods: Vec<TablePeriod>,
    /// Cells read as suppression markers, by marker.
    pub markers: std::collections::BTreeMap<String, usize>,
}

/// A detected, normalised table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Rows with their codes, names and lines.
    pub rows: Vec<TableRow>,
    /// One per value column (or group of period columns).
    pub indicators: Vec<TableIndicator>,
}
