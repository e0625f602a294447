//! Detection: from a grid of cells to a [`Table`] and a report of what was found. One module
//! per stage: the code column and header row ([`header`]), the other columns ([`columns`]),
//! the geography ([`geography`]).

pub mod columns;
pub mod geography;
pub mod header;
pub mod small_areas;

use serde::Serialize;

use crate::error::{DatasetError, Result};
use crate::read::Grid;
use crate::table::Table;

pub use geography::KnownLayer;

/// What detection found, reported to the user.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// 1-based line of the header row, if there is one.
    pub header_row: Option<u64>,
    /// Header (or `column N`) of the code column.
    pub code_column: String,
    /// Header of the name column.
    pub name_column: Option<String>,
    /// `wide` (one column per period or a single period) or `long` (a period column).
    pub layout: String,
    /// The period column of a long table.
    pub period_column: Option<String>,
    /// Value columns found, by header.
    pub value_columns: Vec<String>,
    /// Columns left out, with why.
    pub ignored_columns: Vec<String>,
    /// Lines above the header (titles, sources).
    pub lines_above: usize,
    /// Lines after the last data row (notes).
    pub notes_below: usize,
    /// Rows between the header and the notes without a code in the code column.
    pub rows_without_code: Vec<u64>,
    /// The layer chosen and how every layer scored.
    pub layer: String,
    /// How well every loaded layer knows the codes.
    pub layer_scores: Vec<geography::LayerScore>,
    /// Reading notes (encoding, sheet, formulas).
    pub notes: Vec<String>,
}

/// The answer to a table without any GSS code column.
pub fn no_code_column() -> DatasetError {
    DatasetError::bad(
        "no column of GSS codes found",
        "the table needs a column of area codes such as E06000001 (names alone are not matched)",
    )
}

/// Detects the table in `grid` and the layer it belongs to. `force_layer` skips the scoring.
pub fn detect(
    grid: &Grid,
    layers: &[KnownLayer],
    force_layer: Option<&str>,
    period_default: &str,
) -> Result<(Table, Detection)> {
    let mut candidates = header::code_columns(grid);
    if candidates.is_empty() {
        return Err(no_code_column());
    }
    // Small areas (LSOAs...) beside their districts: mapped only when a loaded layer has
    // (nearly) all of them; otherwise the district column would be picked and every district
    // reported as a duplicate, so say what the codes are and how to aggregate them instead.
    if force_layer.is_none()
        && let Some(sa) = small_areas::find(grid, &candidates)
    {
        let scored = geography::choose(grid, &[(sa.small_col, 0)], layers, None);
        let complete = matches!(&scored, Ok((_, s)) if s.first().is_some_and(|s| s.share >= 0.99));
        if !complete && (sa.district_col.is_some() || scored.is_err()) {
            let scores = scored.as_ref().ok().map(|(_, s)| s.as_slice());
            return Err(small_areas::needs_aggregate(grid, &sa, scores, layers));
        }
        candidates.retain(|&(c, _)| c == sa.small_col);
    }
    let (code_col, scores) = geography::choose(grid, &candidates, layers, force_layer)?;
    let layer = scores.first().map(|s| s.layer.clone()).unwrap_or_default();
    let frame = header::frame(grid, code_col);
    let cols = columns::classify(grid, &frame, code_col, period_default)?;
    let header_name = |c: usize| header::column_name(grid, frame.header, c);
    let detection = Detection {
        header_row: frame.header.map(|h| grid.rows[h].line),
        code_column: header_name(code_col),
        name_column: cols.name_column.map(header_name),
        layout: if cols.period_column.is_some() {
            "long".into()
        } else {
            "wide".into()
        },
        period_column: cols.period_column.map(header_name),
        value_columns: cols.value_columns.iter().map(|&c| header_name(c)).collect(),
        ignored_columns: cols.ignored.clone(),
        lines_above: frame.lines_above,
        notes_below: frame.notes_below,
        rows_without_code: frame.rows_without_code.clone(),
        layer,
        layer_scores: scores,
        notes: grid.notes.clone(),
    };
    Ok((cols.table, detection))
}
