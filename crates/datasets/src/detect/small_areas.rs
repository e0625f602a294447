//! Small-area tables (LSOAs, MSOAs, output areas): a column of small-area codes, often with a
//! column of the district each area lies in. Without boundaries for the small areas, such a
//! table is mapped by aggregating it to that district column (`aggregate=`, see
//! [`crate::aggregate`]); without `aggregate=` the answer says what the codes are and that
//! option.

use std::collections::{BTreeMap, HashSet};

use crate::codes::{gss, is_district_kind, is_lsoa_2021_only, is_small_area_kind, kind, kind_name};
use crate::detect::geography::{self, KnownLayer, LayerScore};
use crate::detect::header;
use crate::error::DatasetError;
use crate::read::Grid;

/// A column of small-area codes and, when the table has one, a column of district codes.
#[derive(Clone, Debug)]
pub struct SmallAreas {
    /// Column of the small-area codes.
    pub small_col: usize,
    /// Column of district codes (repeated: several small areas per district), if any.
    pub district_col: Option<usize>,
    /// Distinct small-area codes by kind (`E01` -> 33,755).
    pub kinds: BTreeMap<String, usize>,
    /// Distinct small-area codes.
    pub distinct: usize,
    /// Distinct codes that exist only from 2021 (English LSOA 2021), and the first of them.
    pub new_2021: usize,
    /// The first such code, for messages.
    pub example_2021: Option<String>,
}

impl SmallAreas {
    /// What the codes are, in words: `33,755 lower layer super output area (LSOA) codes (1,945
    /// of them, e.g. E01033769, created in 2021: LSOA 2021 codes)`.
    pub fn describe(&self) -> String {
        let kinds = self
            .kinds
            .iter()
            .map(|(k, n)| format!("{} {} ({k})", thousands(*n), kind_name(k)))
            .collect::<Vec<_>>()
            .join(" and ");
        match &self.example_2021 {
            Some(e) => format!(
                "{kinds} codes; {} of them (e.g. {e}) were created in 2021, so these are LSOA 2021 codes",
                thousands(self.new_2021)
            ),
            None => format!("{kinds} codes"),
        }
    }
}

/// `33755` -> `33,755`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn distinct_codes(grid: &Grid, col: usize) -> HashSet<String> {
    grid.rows
        .iter()
        .filter_map(|r| r.cells.get(col).and_then(|c| gss(c)))
        .collect()
}

/// Finds the small-area column among the code columns (most of its distinct codes of a small-area
/// kind; the one with most codes) and a district column beside it (mostly district codes, fewer
/// distinct codes than the small areas).
pub fn find(grid: &Grid, candidates: &[(usize, usize)]) -> Option<SmallAreas> {
    let sets: Vec<(usize, HashSet<String>)> = candidates
        .iter()
        .map(|&(c, _)| (c, distinct_codes(grid, c)))
        .collect();
    let mostly = |codes: &HashSet<String>, f: fn(&str) -> bool| {
        !codes.is_empty() && codes.iter().filter(|c| f(kind(c))).count() * 2 > codes.len()
    };
    let (small_col, small) = sets
        .iter()
        .filter(|(_, s)| mostly(s, is_small_area_kind))
        .max_by_key(|(c, s)| (s.len(), std::cmp::Reverse(*c)))?;
    let district_col = sets
        .iter()
        .filter(|(c, s)| c != small_col && s.len() < small.len() && mostly(s, is_district_kind))
        .max_by_key(|(c, s)| (s.len(), std::cmp::Reverse(*c)))
        .map(|(c, _)| *c);
    let mut kinds = BTreeMap::new();
    for c in small {
        *kinds.entry(kind(c).to_string()).or_default() += 1;
    }
    let mut new: Vec<&String> = small.iter().filter(|c| is_lsoa_2021_only(c)).collect();
    new.sort();
    Some(SmallAreas {
        small_col: *small_col,
        district_col,
        kinds,
        distinct: small.len(),
        new_2021: new.len(),
        example_2021: new.first().map(|c| (*c).clone()),
    })
}

/// The answer to a small-area table that no loaded layer fully knows, uploaded without
/// `aggregate=`: what the codes are, which layer knows how many, and the way to map them.
pub fn needs_aggregate(
    grid: &Grid,
    sa: &SmallAreas,
    small_scores: Option<&[LayerScore]>,
    layers: &[KnownLayer],
) -> DatasetError {
    let head = header::frame(grid, sa.small_col).header;
    let col = |c: usize| header::column_name(grid, head, c);
    let best = small_scores.and_then(|s| s.first()).filter(|s| s.known > 0);
    let known = match best {
        Some(s) => format!(
            "the best loaded layer, {}, has boundaries for only {} of them ({:.0}%)",
            s.layer,
            thousands(s.known),
            s.share * 100.0
        ),
        None => "no loaded layer has boundaries for them".to_string(),
    };
    let message = format!(
        "column {:?} holds {}; {known}",
        col(sa.small_col),
        sa.describe()
    );
    let force = best.map_or(String::new(), |s| {
        format!(
            "; or add layer={} to join the {} codes it has",
            s.layer,
            thousands(s.known)
        )
    });
    let hint = match sa.district_col {
        Some(d) => {
            let districts = distinct_codes(grid, d).len();
            let layer = geography::choose(grid, &[(d, 0)], layers, None)
                .ok()
                .and_then(|(_, s)| s.first().map(|s| format!(", layer {}", s.layer)))
                .unwrap_or_default();
            format!(
                "the table also has district codes in column {:?} ({} districts{layer}): add aggregate=share:COLUMN=VALUE (e.g. aggregate=share:decile=1), aggregate=mean, aggregate=sum or aggregate=weighted-mean with weights=COLUMN to map it by district{force}",
                col(d),
                thousands(districts)
            )
        }
        None => format!(
            "add a column with each area's district code (E06, E07, E08, E09, W06...) and upload with aggregate=share:COLUMN=VALUE, mean, sum or weighted-mean to map it by district{force}"
        ),
    };
    DatasetError::bad(message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_lsoa_and_district_columns() {
        let rows = [
            ["LSOA", "LAD", "v"],
            ["E01000001", "E09000001", "1"],
            ["E01033769", "E09000001", "2"],
            ["E01000003", "E06000001", "3"],
        ];
        let g = Grid::of_rows(&rows);
        let sa = find(&g, &[(0, 3), (1, 3)]).expect("small areas");
        assert_eq!((sa.small_col, sa.district_col), (0, Some(1)));
        assert_eq!((sa.distinct, sa.new_2021), (3, 1));
        assert!(sa.describe().contains("LSOA 2021"), "{}", sa.describe());
        assert_eq!(thousands(33_755), "33,755");
        assert_eq!(thousands(296), "296");
    }
}
