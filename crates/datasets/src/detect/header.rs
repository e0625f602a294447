//! The code column (found from its contents, not its header) and the frame around the data:
//! the header row above the first code, title lines above it, notes below the last code.

use crate::codes::gss;
use crate::read::Grid;

/// Columns holding GSS codes, most codes first: `(column, count)`.
pub fn code_columns(grid: &Grid) -> Vec<(usize, usize)> {
    let mut counts: Vec<usize> = Vec::new();
    for row in &grid.rows {
        for (c, cell) in row.cells.iter().enumerate() {
            if gss(cell).is_some() {
                if counts.len() <= c {
                    counts.resize(c + 1, 0);
                }
                counts[c] += 1;
            }
        }
    }
    let best = counts.iter().copied().max().unwrap_or(0);
    let mut cols: Vec<(usize, usize)> = counts
        .into_iter()
        .enumerate()
        .filter(|&(_, n)| n > 0 && n * 2 >= best)
        .collect();
    cols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    cols
}

/// Where the data sit in the grid, by row index.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// Header row index, if any.
    pub header: Option<usize>,
    /// Data rows (with a code in the code column).
    pub data: Vec<usize>,
    /// Lines above the header (titles, sources).
    pub lines_above: usize,
    /// Lines after the last data row (notes).
    pub notes_below: usize,
    /// Lines between the first and last code without one (totals, blank lines).
    pub rows_without_code: Vec<u64>,
}

fn filled(cells: &[String]) -> usize {
    cells.iter().filter(|c| !c.is_empty()).count()
}

/// Finds the header and the data rows around the code column.
pub fn frame(grid: &Grid, code_col: usize) -> Frame {
    let is_code = |i: usize| {
        grid.rows[i]
            .cells
            .get(code_col)
            .is_some_and(|c| gss(c).is_some())
    };
    let Some(first) = (0..grid.rows.len()).find(|&i| is_code(i)) else {
        return Frame::default();
    };
    let last = (0..grid.rows.len())
        .rev()
        .find(|&i| is_code(i))
        .unwrap_or(first);
    // The header is the nearest non-blank row above the first code; a lone cell there is a
    // title, not a header.
    let header = (0..first)
        .rev()
        .find(|&i| filled(&grid.rows[i].cells) > 0)
        .filter(|&i| filled(&grid.rows[i].cells) >= 2);
    let lines_above = (0..header.unwrap_or(first))
        .filter(|&i| filled(&grid.rows[i].cells) > 0)
        .count();
    let notes_below = (last + 1..grid.rows.len())
        .filter(|&i| filled(&grid.rows[i].cells) > 0)
        .count();
    let mut data = Vec::new();
    let mut rows_without_code = Vec::new();
    for i in first..=last {
        if is_code(i) {
            data.push(i);
        } else if filled(&grid.rows[i].cells) > 0 {
            rows_without_code.push(grid.rows[i].line);
        }
    }
    Frame {
        header,
        data,
        lines_above,
        notes_below,
        rows_without_code,
    }
}

/// The header text of a column, or `column N` (1-based) without one.
pub fn column_name(grid: &Grid, header: Option<usize>, c: usize) -> String {
    header
        .and_then(|h| grid.rows[h].cells.get(c))
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("column {}", c + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[&'static str]]) -> Grid {
        Grid::of_rows(rows)
    }

    #[test]
    fn header_below_titles_and_notes_below_data() {
        let g = grid(&[
            &["Table 1: pay"],
            &["Source: ONS"],
            &[],
            &["Name", "Code", "Pay"],
            &["Hartlepool", "e06000001", "500"],
            &["Total", "", "1"],
            &["Middlesbrough", "E06000002 ", "510"],
            &["Notes:"],
            &["1. provisional"],
        ]);
        assert_eq!(code_columns(&g), vec![(1, 2)]);
        let f = frame(&g, 1);
        assert_eq!(f.header, Some(3));
        assert_eq!(f.data, vec![4, 6]);
        assert_eq!(f.lines_above, 2);
        assert_eq!(f.notes_below, 2);
        assert_eq!(f.rows_without_code, vec![6]);
        assert_eq!(column_name(&g, f.header, 2), "Pay");
    }

    #[test]
    fn no_header_when_only_a_title_is_above() {
        let g = grid(&[&["A title"], &["E06000001", "1"]]);
        let f = frame(&g, 0);
        assert_eq!(f.header, None);
        assert_eq!(column_name(&g, f.header, 1), "column 2");
    }
}
