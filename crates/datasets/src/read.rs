//! Reading an upload into a grid of text cells with their line (row) numbers: CSV and TSV
//! (UTF-8 with or without a BOM, else Windows-1252) and XLSX (calamine, cached values of
//! formula cells). Limits are checked while reading, so a huge file fails early.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::error::{DatasetError, Result};

/// Upper bounds on an upload.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest upload, bytes.
    pub max_bytes: usize,
    /// Most rows of a table.
    pub max_rows: usize,
    /// Most columns of a table.
    pub max_columns: usize,
    /// Most datasets stored.
    pub max_datasets: usize,
}

impl Default for Limits {
    /// Fits the 32,844-row LSOA deprivation table (about 3.5 MB) with room to spare.
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_rows: 100_000,
            max_columns: 200,
            max_datasets: 500,
        }
    }
}

/// What kind of file the upload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated text.
    Csv,
    /// Tab-separated text.
    Tsv,
    /// An Excel workbook.
    Xlsx,
}

/// One row of cells and its 1-based line (CSV) or row (XLSX) number.
#[derive(Clone, Debug)]
pub struct Row {
    /// 1-based line (CSV) or row (XLSX).
    pub line: u64,
    /// Cell texts as read.
    pub cells: Vec<String>,
}

/// The upload as text cells.
#[derive(Clone, Debug)]
pub struct Grid {
    /// The file name the upload came with, for errors.
    pub name: String,
    /// Which reader read it.
    pub format: Format,
    /// Every row, blank ones included.
    pub rows: Vec<Row>,
    /// What reading noticed (encoding, formulas), for the report.
    pub notes: Vec<String>,
}

impl Grid {
    /// A CSV grid of these rows, numbered from line 1 (for unit tests).
    #[cfg(test)]
    pub(crate) fn of_rows<R: AsRef<[&'static str]>>(rows: &[R]) -> Grid {
        Grid {
            name: "t.csv".to_string(),
            format: Format::Csv,
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| Row {
                    line: i as u64 + 1,
                    cells: r.as_ref().iter().map(|c| (*c).to_string()).collect(),
                })
                .collect(),
            notes: vec![],
        }
    }
}

/// Reads an upload. `name` (a file name) and `content_type` help choose the format; the bytes
/// decide where they are clear (an XLSX is a zip).
pub fn read_grid(
    bytes: &[u8],
    name: &str,
    content_type: Option<&str>,
    sheet: Option<&str>,
    limits: &Limits,
) -> Result<Grid> {
    if bytes.len() > limits.max_bytes {
        return Err(DatasetError::too_large(
            format!(
                "{name}: {} bytes is over the limit of {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
            "upload a smaller table, or raise the limit (--max-upload-bytes)",
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DatasetError::bad(
            format!("{name}: the file is empty"),
            "upload a CSV, TSV or XLSX table with a column of GSS codes (e.g. E06000001)",
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes, name, sheet, limits);
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("spreadsheetml") || name.to_ascii_lowercase().ends_with(".xlsx") {
        return Err(DatasetError::bad(
            format!("{name}: not an XLSX workbook (no zip signature)"),
            "save the workbook again as .xlsx, or upload it as CSV",
        ));
    }
    if bytes.contains(&0) {
        return Err(DatasetError::bad(
            format!("{name}: a binary file, not a table (it contains NUL bytes)"),
            "upload CSV, TSV or XLSX; old .xls workbooks must be saved as .xlsx or CSV",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut notes = Vec::new();
    let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(bytes) {
        Ok(t) => t.into(),
        Err(_) => {
            notes.push("not UTF-8: read as Windows-1252".to_string());
            encoding_rs::WINDOWS_1252.decode(bytes).0
        }
    };
    let lower = name.to_ascii_lowercase();
    let tsv =
        ct.contains("tab-separated") || lower.ends_with(".tsv") || lower.ends_with(".tab") || {
            let head: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
            head.matches('\t').count() > head.matches(',').count()
        };
    let (format, delimiter) = if tsv {
        (Format::Tsv, b'\t')
    } else {
        (Format::Csv, b',')
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = districts::csv_text::LineCounter::new(text.as_bytes());
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = lines.line_of(e.position());
            DatasetError::bad(
                format!("{name}, line {line}: {e}"),
                "check the quoting on that line",
            )
        })?;
        // Lines as an editor counts them (after CRLFs, blank lines and quoted newlines).
        let line = lines.line_of(rec.position());
        check_shape(name, rows.len() + 1, rec.len(), limits)?;
        rows.push(Row {
            line,
            cells: rec.iter().map(|c| c.trim().to_string()).collect(),
        });
    }
    Ok(Grid {
        name: name.to_string(),
        format,
        rows,
        notes,
    })
}

fn check_shape(name: &str, rows: usize, columns: usize, limits: &Limits) -> Result<()> {
    if rows > limits.max_rows {
        return Err(DatasetError::too_large(
            format!("{name}: more than {} rows", limits.max_rows),
            "split the table, or raise the limit (--max-rows)",
        ));
    }
    if columns > limits.max_columns {
        return Err(DatasetError::too_large(
            format!(
                "{name}, row {rows}: {columns} columns is over the limit of {}",
                limits.max_columns
            ),
            "drop columns you do not need, or raise the limit (--max-columns)",
        ));
    }
    Ok(())
}

/// Reads a workbook, turning a panic inside calamine into a clear error: calamine 0.30 computes
/// cell positions from their references with unchecked arithmetic, so a reference such as
/// `A4294967296` overflows (a panic in builds with overflow checks, a wrong position without).
/// Found by fuzzing (FUZZING.md); a malformed upload must be a 400, never a crashed request.
fn read_xlsx(bytes: &[u8], name: &str, sheet: Option<&str>, limits: &Limits) -> Result<Grid> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_xlsx_cells(bytes, name, sheet, limits)
    }))
    .unwrap_or_else(|_| {
        Err(DatasetError::bad(
            format!(
                "{name}: cannot read the workbook: a cell reference or size in it is out of range"
            ),
            "save it again as .xlsx from a spreadsheet program, or upload it as CSV",
        ))
    })
}

fn read_xlsx_cells(bytes: &[u8], name: &str, sheet: Option<&str>, limits: &Limits) -> Result<Grid> {
    let bad = |e: &dyn std::fmt::Display| {
        DatasetError::bad(
            format!("{name}: cannot read the workbook: {e}"),
            "save it again as .xlsx from a spreadsheet program, or upload it as CSV",
        )
    };
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let names = wb.sheet_names();
    let sheet_name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| {
                DatasetError::bad(
                    format!("{name}: no sheet named {s:?}"),
                    format!("sheets: {}", names.join(", ")),
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad(&"the workbook has no sheets"))?,
    };
    let mut notes = vec![format!("sheet {sheet_name:?} of {}", names.len())];
    // Count formula cells first: their cached values are what we read, and users should know.
    let mut formulas = std::collections::HashSet::new();
    {
        let mut cells = wb
            .worksheet_cells_reader(&sheet_name)
            .map_err(|e| bad(&e))?;
        while let Some(c) = cells.next_formula().map_err(|e| bad(&e))? {
            if !c.get_value().is_empty() {
                let (r, col) = c.get_position();
                check_shape(name, r as usize + 1, col as usize + 1, limits)?;
                formulas.insert((r as usize, col as usize));
            }
        }
    }
    // Read cell by cell rather than as a dense range: a declared or stray far-away cell cannot
    // make us allocate rows x columns.
    let mut rows: Vec<Row> = Vec::new();
    {
        let mut cells = wb
            .worksheet_cells_reader(&sheet_name)
            .map_err(|e| bad(&e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| bad(&e))? {
            let (r, c) = cell.get_position();
            let (r, c) = (r as usize, c as usize);
            check_shape(name, r + 1, c + 1, limits)?;
            let text = match cell.get_value() {
                calamine::DataRef::Empty => String::new(),
                other => cell_text(&Data::from(other.clone())),
            };
            while rows.len() <= r {
                rows.push(Row {
                    line: rows.len() as u64 + 1,
                    cells: Vec::new(),
                });
            }
            let row = &mut rows[r].cells;
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            row[c] = text;
        }
    }
    if !formulas.is_empty() {
        notes.push(format!(
            "{} formula cells: their values as last calculated and saved were read",
            formulas.len()
        ));
    }
    let mut uncached: Vec<&(usize, usize)> = formulas
        .iter()
        .filter(|(r, c)| {
            rows.get(*r)
                .and_then(|row| row.cells.get(*c))
                .is_none_or(String::is_empty)
        })
        .collect();
    uncached.sort();
    if let Some((r, c)) = uncached.first() {
        return Err(DatasetError::bad(
            format!(
                "{name}: {} formula cells have no calculated value (first at row {}, column {})",
                uncached.len(),
                r + 1,
                c + 1
            ),
            "open the workbook in a spreadsheet program and save it (so values are stored), or upload CSV",
        ));
    }
    Ok(Grid {
        name: name.to_string(),
        format: Format::Xlsx,
        rows,
        notes,
    })
}

/// A cell as text: numbers without a spurious `.0`, errors as empty.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_count_blank_lines_and_crlf() -> Result<()> {
        let text = "\u{feff}Title\r\nSource\r\n\r\nCode,V\r\nE06000001,1\r\n";
        let g = read_grid(text.as_bytes(), "t.csv", None, None, &Limits::default())?;
        let lines: Vec<u64> = g.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 4, 5]);
        Ok(())
    }
}
