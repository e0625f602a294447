//! The normalised table that detection produces and the store keeps: rows (line, code,
//! name) and indicators with periods of values by row. Joining it to a layer is separate
//! ([`crate::join`]), so a stored table can be re-joined when layers change.
//!
//! Stored tables are encoded with postcard (compact binary, behind a magic prefix) rather than
//! JSON: every stored version is decoded at each start-up, and for long tables the JSON was
//! twice the bytes to read and check and most of the time to decode. Versions stored as JSON by
//! earlier releases still decode.

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

/// Prefix of a postcard-encoded stored table (JSON text never starts with it).
const MAGIC: &[u8] = b"PMT1";

/// A table row as encoded: every field written (postcard cannot skip fields).
#[derive(Serialize)]
struct EncodedRow<'a> {
    line: u64,
    code: &'a str,
    name: &'a str,
}

/// A table as encoded.
#[derive(Serialize)]
struct EncodedTable<'a> {
    rows: Vec<EncodedRow<'a>>,
    indicators: &'a [TableIndicator],
}

/// A row as decoded for joining: the name is borrowed, not copied (the join does not read it).
#[derive(Deserialize)]
struct DecodedRow<'a> {
    line: u64,
    code: String,
    #[serde(borrow)]
    _name: &'a str,
}

/// A table as decoded for joining.
#[derive(Deserialize)]
struct DecodedTable<'a> {
    #[serde(borrow)]
    rows: Vec<DecodedRow<'a>>,
    indicators: Vec<TableIndicator>,
}

/// A JSON-stored row (earlier releases), its name skipped.
#[derive(Deserialize)]
struct JsonRow {
    line: u64,
    code: String,
}

/// A JSON-stored table (earlier releases).
#[derive(Deserialize)]
struct JsonTable {
    rows: Vec<JsonRow>,
    indicators: Vec<TableIndicator>,
}

/// The stored form of a table.
///
/// ```
/// use datasets::table::{decode_for_join, encode, Table, TableIndicator, TablePeriod, TableRow};
/// let t = Table {
///     rows: vec![TableRow { line: 2, code: "E06000001".into(), name: "Hartlepool".into() }],
///     indicators: vec![TableIndicator {
///         key: "rate".into(),
///         title: "Rate".into(),
///         periods: vec![TablePeriod { label: "2021".into(), values: vec![(0, Some(1.5))] }],
///         markers: Default::default(),
///     }],
/// };
/// let back = decode_for_join(&encode(&t)).unwrap();
/// assert_eq!(back.rows[0].code, "E06000001");
/// assert_eq!(back.indicators, t.indicators);
/// ```
pub fn encode(table: &Table) -> Vec<u8> {
    let encoded = EncodedTable {
        rows: table
            .rows
            .iter()
            .map(|r| EncodedRow {
                line: r.line,
                code: &r.code,
                name: &r.name,
            })
            .collect(),
        indicators: &table.indicators,
    };
    let mut out = MAGIC.to_vec();
    // Serialising owned strings, numbers and maps into a Vec cannot fail.
    out.extend(postcard::to_stdvec(&encoded).unwrap_or_default());
    out
}

/// A stored table as the join reads it (row names left empty), from [`encode`]'s bytes or the
/// JSON text earlier releases stored; the error says what is wrong.
pub fn decode_for_join(bytes: &[u8]) -> Result<Table, String> {
    let (rows, indicators): (Vec<(u64, String)>, _) = if let Some(body) = bytes.strip_prefix(MAGIC)
    {
        let t: DecodedTable<'_> = postcard::from_bytes(body).map_err(|e| e.to_string())?;
        (
            t.rows.into_iter().map(|r| (r.line, r.code)).collect(),
            t.indicators,
        )
    } else {
        let t: JsonTable = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        (
            t.rows.into_iter().map(|r| (r.line, r.code)).collect(),
            t.indicators,
        )
    };
    Ok(Table {
        rows: rows
            .into_iter()
            .map(|(line, code)| TableRow {
                line,
                code,
                name: String::new(),
            })
            .collect(),
        indicators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions stored as JSON by earlier releases decode to the same table as the binary form.
    #[test]
    fn json_stored_tables_still_decode() {
        let t = Table {
            rows: vec![
                TableRow {
                    line: 2,
                    code: "E06000001".into(),
                    name: "Hartlepool".into(),
                },
                TableRow {
                    line: 3,
                    code: "E06000002".into(),
                    name: String::new(),
                },
            ],
            indicators: vec![TableIndicator {
                key: "rate".into(),
                title: "Rate".into(),
                periods: vec![TablePeriod {
                    label: "2021".into(),
                    values: vec![(0, Some(1.5)), (1, None)],
                }],
                markers: [("x".to_string(), 1)].into_iter().collect(),
            }],
        };
        let json = serde_json::to_vec(&t).unwrap();
        let from_json = decode_for_join(&json).unwrap();
        let from_binary = decode_for_join(&encode(&t)).unwrap();
        assert_eq!(from_json, from_binary);
        assert_eq!(from_binary.indicators, t.indicators);
        assert!(encode(&t).len() < json.len());
        let err = decode_for_join(b"PMT1\xff").unwrap_err();
        assert!(!err.is_empty());
        assert!(decode_for_join(b"not json").is_err());
    }
}
