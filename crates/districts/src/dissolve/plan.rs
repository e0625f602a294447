//! Merge lookups (`old_code -> new_code, new_name`) read into a validated [`MergePlan`], then
//! resolved against one layer's codes into the groups to dissolve ([`ResolvedPlan`]).
//!
//! Validation happens on the table alone (empty codes, an old code mapped twice, cycles,
//! conflicting names) and then against a layer (codes the layer does not have), so one lookup
//! (e.g. 2019-2023 changes) can be applied to layers of several vintages.

// Codes compared as the boundary loaders store them: trimmed, upper case.
use crate::codes::normalise_code as normalise;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::Path;

use thiserror::Error;

/// Which columns of a lookup hold the old code, the new code and the new name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeColumns {
    /// Column of the abolished (member) district's code. Default `old_code`.
    pub old_code: String,
    /// Column of the district it became part of. Default `new_code`.
    pub new_code: String,
    /// Column of the new district's name. Default `new_name`.
    pub new_name: String,
}

impl Default for MergeColumns {
    fn default() -> Self {
        MergeColumns {
            old_code: "old_code".to_string(),
            new_code: "new_code".to_string(),
            new_name: "new_name".to_string(),
        }
    }
}

/// One row of a lookup, with its chain resolved: `old_code` ends up in `new_code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeRow {
    /// The member's code (trimmed, upper case).
    pub old_code: String,
    /// The final district after following chains (`A -> B`, `B -> C` gives `A -> C`).
    pub new_code: String,
    /// The final district's name (the first non-empty name given for it, else its code).
    pub new_name: String,
    /// 1-based line of the row in the file (the header is line 1).
    pub line: u64,
    /// Codes passed through on the way (`B` for `A -> B -> C`), oldest first.
    pub via: Vec<String>,
    /// The member's name, from an optional `old_name` column (empty without one).
    pub old_name: String,
    /// When the change took effect, from an optional `effective` column (empty without one).
    pub effective: String,
}

/// What to do with an old code that is not a district of the layer being derived.
///
/// A lookup usually spans several vintages: the 2019-2023 changes list the 2020 Buckinghamshire
/// members, which LAD 2021 no longer has (it has their successor E06000060). Skipping such rows
/// is right; skipping a code that nothing in the layer accounts for would hide a typo, so that
/// stays an error unless the caller asks for [`AbsentCodes::Strict`] (every old code must exist).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AbsentCodes {
    /// Every old code must be a district of the layer, else [`MergeError::AbsentCode`].
    Strict,
    /// An old code absent from the layer is skipped when a district it merged into (directly or
    /// along a chain) is in the layer: that merger happened before the layer's vintage.
    /// A code known to neither is [`MergeError::UnknownCode`].
    #[default]
    SkipAlreadyMerged,
}

/// Why a lookup could not be read or applied. Every variant names the file, and where it
/// can, the 1-based line and the code.
#[derive(Debug, Error)]
pub enum MergeError {
    /// The file could not be opened.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The CSV itself is malformed (ragged row, bad UTF-8...).
    #[error("{path}:{line}: malformed CSV: {source}")]
    Csv {
        /// The file.
        path: String,
        /// 1-based line (0 when the reader could not say).
        line: u64,
        /// The csv crate's error.
        source: csv::Error,
    },
    /// A column the caller named is not in the header.
    #[error("{path}:1: no column {column:?} in the header (columns: {available})")]
    MissingColumn {
        /// The file.
        path: String,
        /// The column asked for.
        column: String,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// A code cell is empty.
    #[error("empty {column} at {path}:{line}")]
    EmptyCode {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// The column whose cell is empty.
        column: String,
    },
    /// One old code mapped to two different new codes.
    #[error(
        "old code {code} at {path}:{line} is mapped to {second}, but line {first_line} maps it \
         to {first}"
    )]
    TwoNewCodes {
        /// The file.
        path: String,
        /// 1-based line of the second mapping.
        line: u64,
        /// The old code.
        code: String,
        /// New code of the first mapping.
        first: String,
        /// 1-based line of the first mapping.
        first_line: u64,
        /// New code of the second mapping.
        second: String,
    },
    /// Following old -> new codes comes back to a code already on the way.
    #[error("cycle for code {code} at {path}:{line}: {chain}")]
    Cycle {
        /// The file.
        path: String,
        /// 1-based line of the row whose chain loops.
        line: u64,
        /// The old code of that row.
        code: String,
        /// The chain, e.g. `A -> B -> A`.
        chain: String,
    },
    /// One new code given two different names.
    #[error(
        "new code {code} at {path}:{line} is named {second:?}, but line {first_line} names it \
         {first:?}"
    )]
    TwoNames {
        /// The file.
        path: String,
        /// 1-based line of the second name.
        line: u64,
        /// The new code.
        code: String,
        /// The first name.
        first: String,
        /// 1-based line of the first name.
        first_line: u64,
        /// The second name.
        second: String,
    },
    /// Neither the old code nor any district it merged into is in the layer.
    #[error(
        "unknown code {code} at {path}:{line}: neither it nor {new_code}, which it merged into, \
         is a district of the layer"
    )]
    UnknownCode {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// The old code.
        code: String,
        /// Its final new code.
        new_code: String,
    },
    /// [`AbsentCodes::Strict`]: an old code is not in the layer.
    #[error(
        "old code {code} at {path}:{line} is not a district of the layer (strict: every old \
         code must be)"
    )]
    AbsentCode {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// The old code.
        code: String,
    },
}

/// A validated lookup: every old code maps to exactly one final new code, no cycles.
#[derive(Clone, Debug)]
pub struct MergePlan {
    source: String,
    rows: Vec<MergeRow>,
}

/// One new district of a [`ResolvedPlan`]: its code, name and the layer codes it is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeGroup {
    /// The new code.
    pub code: String,
    /// The new name.
    pub name: String,
    /// Codes of the layer's districts that make it up, in lookup order. When the new code is
    /// itself a district of the layer (a district that keeps its code and absorbs others), it
    /// is a member too.
    pub members: Vec<String>,
}

/// A plan applied to one layer's codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedPlan {
    /// New districts with at least one member in the layer, in lookup order.
    pub groups: Vec<MergeGroup>,
    /// Rows skipped under [`AbsentCodes::SkipAlreadyMerged`] (merged before the layer's vintage).
    pub skipped: Vec<MergeRow>,
}

impl MergePlan {
    /// Reads and validates a lookup CSV.
    ///
    /// ```no_run
    /// use districts::dissolve::{MergeColumns, MergePlan};
    /// let plan = MergePlan::read(
    ///     "../shared/data/lad_changes_2019_2023_england.csv".as_ref(),
    ///     &MergeColumns::default(),
    /// )?;
    /// assert_eq!(plan.rows().len(), 28);
    /// # Ok::<(), districts::dissolve::MergeError>(())
    /// ```
    pub fn read(path: &Path, columns: &MergeColumns) -> Result<MergePlan, MergeError> {
        let file = std::fs::File::open(path).map_err(|source| MergeError::Io {
            path: path.display().to_string(),
            source,
        })?;
        MergePlan::from_reader(
            io::BufReader::new(file),
            &path.display().to_string(),
            columns,
        )
    }

    /// Reads and validates a lookup from any reader; `source` names it in errors.
    ///
    /// ```
    /// use districts::dissolve::{MergeColumns, MergePlan};
    /// let csv = "old_code,new_code,new_name\nA,C,Sea\nB,C,Sea\n";
    /// let plan = MergePlan::from_reader(csv.as_bytes(), "inline", &MergeColumns::default())?;
    /// assert_eq!(plan.rows()[1].line, 3);
    /// # Ok::<(), districts::dissolve::MergeError>(())
    /// ```
    pub fn from_reader<R: io::Read>(
        mut reader: R,
        source: &str,
        columns: &MergeColumns,
    ) -> Result<MergePlan, MergeError> {
        let path = source.to_string();
        // Lookups are small: reading them whole lets lines be counted from the csv crate's byte
        // positions, whose own line count lags by one after a CRLF (the record starts at the
        // `\n` of the previous line's `\r\n`).
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| MergeError::Io {
                path: path.clone(),
                source,
            })?;
        let lines = std::cell::RefCell::new(crate::csv_text::LineCounter::new(&bytes));
        let line_at = |pos: Option<&csv::Position>| lines.borrow_mut().line_of(pos);
        let csv_error = |e: csv::Error| MergeError::Csv {
            path: path.clone(),
            line: line_at(e.position()),
            source: e,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes.as_slice());
        let header = rdr.headers().map_err(csv_error)?.clone();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| MergeError::MissingColumn {
                    path: path.clone(),
                    column: name.to_string(),
                    available: header.iter().collect::<Vec<_>>().join(", "),
                })
        };
        let (old_i, new_i, name_i) = (
            column(&columns.old_code)?,
            column(&columns.new_code)?,
            column(&columns.new_name)?,
        );
        // Optional columns that only enrich reports (which district became which, and when).
        let old_name_i = column("old_name").ok();
        let effective_i = column("effective").ok();
        let mut extra: HashMap<String, (String, String)> = HashMap::new();
        // Direct mappings as written: old -> (new, name, line), first occurrence wins for lines.
        let mut direct: HashMap<String, (String, u64)> = HashMap::new();
        let mut names: HashMap<String, (String, u64)> = HashMap::new();
        let mut order: Vec<(String, u64)> = Vec::new();
        for record in rdr.records() {
            let record = record.map_err(csv_error)?;
            let line = line_at(record.position());
            let cell = |i: usize| record.get(i).unwrap_or("");
            let code = |i: usize, column: &str| {
                let c = normalise(cell(i));
                if c.is_empty() {
                    Err(MergeError::EmptyCode {
                        path: path.clone(),
                        line,
                        column: column.to_string(),
                    })
                } else {
                    Ok(c)
                }
            };
            let old = code(old_i, &columns.old_code)?;
            let new = code(new_i, &columns.new_code)?;
            let name = cell(name_i).trim().to_string();
            extra.entry(old.clone()).or_insert_with(|| {
                let opt =
                    |i: Option<usize>| i.map(|i| cell(i).trim().to_string()).unwrap_or_default();
                (opt(old_name_i), opt(effective_i))
            });
            match direct.get(&old) {
                Some((first, _)) if *first == new => {} // the same row twice is harmless
                Some((first, first_line)) => {
                    return Err(MergeError::TwoNewCodes {
                        path,
                        line,
                        code: old,
                        first: first.clone(),
                        first_line: *first_line,
                        second: new,
                    });
                }
                None => {
                    direct.insert(old.clone(), (new.clone(), line));
                    order.push((old, line));
                }
            }
            if !name.is_empty() {
                match names.get(&new) {
                    Some((first, _)) if *first == name => {}
                    Some((first, first_line)) => {
                        return Err(MergeError::TwoNames {
                            path,
                            line,
                            code: new,
                            first: first.clone(),
                            first_line: *first_line,
                            second: name,
                        });
                    }
                    None => {
                        names.insert(new, (name, line));
                    }
                }
            }
        }
        // Follow chains to the final code; `A -> A` (a code kept, as full lookups list it) ends
        // a chain rather than looping.
        let mut rows = Vec::with_capacity(order.len());
        for (old, line) in order {
            let mut chain = vec![old.clone()];
            let mut seen: HashSet<&str> = HashSet::from([old.as_str()]);
            let mut current = old.as_str();
            while let Some((next, _)) = direct.get(current) {
                if next == current {
                    break;
                }
                chain.push(next.clone());
                if !seen.insert(next.as_str()) {
                    return Err(MergeError::Cycle {
                        path,
                        line,
                        code: old,
                        chain: chain.join(" -> "),
                    });
                }
                current = next.as_str();
            }
            let new_code = current.to_string();
            let via = match chain.as_slice() {
                [_, between @ .., _] => between.to_vec(),
                _ => Vec::new(),
            };
            let new_name = names
                .get(&new_code)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| new_code.clone());
            let (old_name, effective) = extra.remove(&old).unwrap_or_default();
            rows.push(MergeRow {
                old_code: old,
                new_code,
                new_name,
                line,
                via,
                old_name,
                effective,
            });
        }
        Ok(MergePlan { source: path, rows })
    }

    /// Where the plan was read from (a path, or the name given to [`MergePlan::from_reader`]).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The rows in file order, chains resolved (identity rows `A -> A` included).
    pub fn rows(&self) -> &[MergeRow] {
        &self.rows
    }

    /// Applies the plan to a layer's codes: which of its districts make up each new district.
    /// See [`AbsentCodes`] for old codes the layer does not have.
    ///
    /// ```
    /// use districts::dissolve::{AbsentCodes, MergeColumns, MergePlan};
    /// let csv = "old_code,new_code,new_name\nA,C,Sea\nB,C,Sea\nX,Y,Why\n";
    /// let plan = MergePlan::from_reader(csv.as_bytes(), "inline", &MergeColumns::default())?;
    /// // X already became Y before this layer's vintage: skipped.
    /// let resolved = plan.resolve(["A", "B", "Y"], AbsentCodes::SkipAlreadyMerged)?;
    /// assert_eq!(resolved.groups[0].members, ["A", "B"]);
    /// assert_eq!(resolved.skipped[0].old_code, "X");
    /// assert!(plan.resolve(["A", "B", "Y"], AbsentCodes::Strict).is_err());
    /// # Ok::<(), districts::dissolve::MergeError>(())
    /// ```
    pub fn resolve<'a>(
        &self,
        layer_codes: impl IntoIterator<Item = &'a str>,
        absent: AbsentCodes,
    ) -> Result<ResolvedPlan, MergeError> {
        let layer: HashSet<String> = layer_codes.into_iter().map(normalise).collect();
        let mut out = ResolvedPlan::default();
        let mut group_of: HashMap<&str, usize> = HashMap::new();
        for row in &self.rows {
            if !layer.contains(&row.old_code) {
                match absent {
                    AbsentCodes::Strict => {
                        return Err(MergeError::AbsentCode {
                            path: self.source.clone(),
                            line: row.line,
                            code: row.old_code.clone(),
                        });
                    }
                    AbsentCodes::SkipAlreadyMerged => {
                        // Only the row's own successors account for it: a sibling member in the
                        // layer must not hide a mistyped code.
                        let accounted = layer.contains(&row.new_code)
                            || row.via.iter().any(|c| layer.contains(c));
                        if !accounted {
                            return Err(MergeError::UnknownCode {
                                path: self.source.clone(),
                                line: row.line,
                                code: row.old_code.clone(),
                                new_code: row.new_code.clone(),
                            });
                        }
                        out.skipped.push(row.clone());
                        continue;
                    }
                }
            }
            let gi = *group_of.entry(row.new_code.as_str()).or_insert_with(|| {
                out.groups.push(MergeGroup {
                    code: row.new_code.clone(),
                    name: row.new_name.clone(),
                    members: Vec::new(),
                });
                out.groups.len() - 1
            });
            if !out.groups[gi].members.contains(&row.old_code) {
                out.groups[gi].members.push(row.old_code.clone());
            }
        }
        // A new code that is a district of the layer keeps its own area too.
        for g in &mut out.groups {
            if layer.contains(&g.code) && !g.members.contains(&g.code) {
                g.members.push(g.code.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(csv: &str) -> Result<MergePlan, MergeError> {
        MergePlan::from_reader(csv.as_bytes(), "t.csv", &MergeColumns::default())
    }

    #[test]
    fn chains_resolve_to_the_last_code() -> Result<(), MergeError> {
        let p = plan("old_code,new_code,new_name\nA,B,Bee\nB,C,Sea\nC,C,Sea\n")?;
        let finals: Vec<(&str, &str, &str)> = p
            .rows()
            .iter()
            .map(|r| {
                (
                    r.old_code.as_str(),
                    r.new_code.as_str(),
                    r.new_name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            finals,
            [("A", "C", "Sea"), ("B", "C", "Sea"), ("C", "C", "Sea")]
        );
        Ok(())
    }

    #[test]
    fn crlf_and_quoted_newlines_keep_line_numbers() {
        for eol in ["\n", "\r\n"] {
            let csv =
                format!("old_code,new_code,new_name{eol}A,C,\"Sea{eol}side\"{eol},C,Sea{eol}");
            let err = plan(&csv).expect_err("empty code").to_string();
            assert_eq!(err, "empty old_code at t.csv:4", "{eol:?}");
            let ragged = format!("old_code,new_code,new_name{eol}A,C,Sea{eol}{eol}B,C{eol}");
            let err = plan(&ragged).expect_err("ragged").to_string();
            assert!(err.starts_with("t.csv:4: malformed CSV"), "{eol:?}: {err}");
        }
    }

    #[test]
    fn a_missing_column_is_named() {
        let err = plan("old,new_code,new_name\nA,B,C\n")
            .expect_err("missing")
            .to_string();
        assert!(err.contains("no column \"old_code\""), "{err}");
        assert!(err.starts_with("t.csv:1:"), "{err}");
    }

    #[test]
    fn a_name_conflict_is_named() {
        let err = plan("old_code,new_code,new_name\nA,C,Sea\nB,C,See\n")
            .expect_err("two names")
            .to_string();
        assert!(err.contains("t.csv:3") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn a_district_keeping_its_code_absorbs_its_members() -> Result<(), MergeError> {
        let p = plan("old_code,new_code,new_name\nA,B,Bee\n")?;
        let r = p.resolve(["A", "B", "Z"], AbsentCodes::Strict)?;
        assert_eq!(r.groups[0].members, ["A", "B"]);
        Ok(())
    }

    #[test]
    fn an_intermediate_code_in_the_layer_accounts_for_older_codes() -> Result<(), MergeError> {
        // A became B in 2020 and B became C in 2023; a 2021 layer has B only.
        let p = plan("old_code,new_code,new_name\nA,B,Bee\nB,C,Sea\nD,C,Sea\n")?;
        let r = p.resolve(["B", "D"], AbsentCodes::SkipAlreadyMerged)?;
        assert_eq!(r.groups[0].members, ["B", "D"]);
        assert_eq!(r.skipped.len(), 1);
        Ok(())
    }
}
