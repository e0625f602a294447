//! Fuzz target: the indicator-table CSV reader (`districts::indicators::read_table`) and the
//! lookup reader, on samples of every real table the catalogue names, mutated (numbers out of
//! range, markers, lines deleted and repeated, delimiters swapped, CRLF, bit flips, truncation)
//! and as arbitrary bytes; and the cell parsers of `csv_text` on arbitrary text.

use std::sync::OnceLock;

use districts::catalog::Catalog;
use districts::csv_text::{match_pattern, parse_number, period_label};
use districts::indicators::{read_lookup, read_table};
use fuzz_targets::mutate::{self, Mutation};
use fuzz_targets::{Outcome, clear_error, nasty_text, run, within_bound};
use proptest::prelude::*;

/// The real catalogue, resolved against the real data directory.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::load(&test_support::catalog_path(), &test_support::data_dir())
            .unwrap_or_else(|e| panic!("the real catalogue: {e}"))
    })
}

/// The header and `n` lines spread evenly over a real file: a seed small enough to read in a
/// millisecond that still holds rows every filter of the source keeps.
pub fn sample_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let Some((header, rest)) = lines.split_first() else {
        return Vec::new();
    };
    let step = (rest.len() / n.max(1)).max(1);
    let mut out = header.to_vec();
    for line in rest.iter().step_by(step).take(n) {
        out.extend_from_slice(line);
    }
    out
}

/// One seed per table source and per lookup: (index into sources then lookups, sample).
fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let cat = catalog();
        cat.sources
            .iter()
            .map(|s| &s.path)
            .chain(cat.lookups.iter().map(|l| &l.path))
            .map(|p| {
                let bytes =
                    std::fs::read(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                sample_lines(&bytes, 40)
            })
            .collect()
    })
}

/// Reads `bytes` as the table (or lookup) number `which`, written under its real file name in a
/// temporary directory; the error, if any, must name the file.
fn read_as(which: usize, bytes: &[u8]) -> Result<Outcome, TestCaseError> {
    let cat = catalog();
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let which = which % (cat.sources.len() + cat.lookups.len());
    let result = if let Some(source) = cat.sources.get(which) {
        let mut spec = source.clone();
        spec.path = dir.path().join(&source.file);
        std::fs::write(&spec.path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let file = source.file.clone();
        within_bound(
            || format!("{file} ({} bytes)", bytes.len()),
            || read_table(cat, &spec).map(|_| ()),
        )?
        .map_err(|e| (e.to_string(), file))
    } else {
        let lookup = &cat.lookups[which - cat.sources.len()];
        let mut spec = lookup.clone();
        spec.path = dir.path().join(&lookup.file);
        std::fs::write(&spec.path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let file = lookup.file.clone();
        within_bound(
            || format!("{file} ({} bytes)", bytes.len()),
            || read_lookup(&spec).map(|_| ()),
        )?
        .map_err(|e| (e.to_string(), file))
    };
    match result {
        Ok(()) => Ok(Outcome::Read),
        Err((message, file)) => {
            clear_error(&message, Some(&file))?;
            Ok(Outcome::Refused(message))
        }
    }
}

fn which_and_edits() -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (any::<usize>(), mutate::mutations(6))
}

/// Mutated samples of every real table and lookup: `Ok`, or an error naming the file.
#[test]
fn real_tables_mutated() {
    run(
        "real_tables_mutated",
        400,
        true,
        which_and_edits(),
        |(which, edits)| {
            let seeds = seeds();
            read_as(which, &mutate::apply(&seeds[which % seeds.len()], &edits))
        },
    );
}

/// Arbitrary bytes, after a real header line or alone.
#[test]
fn arbitrary_bytes_as_tables() {
    let inputs = (
        any::<usize>(),
        any::<bool>(),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2_000),
            // Text, so the CSV reader (not only the UTF-8 check) sees it.
            proptest::collection::vec(nasty_text(), 0..60).prop_map(|t| t.concat().into_bytes()),
        ],
    );
    run(
        "arbitrary_bytes_as_tables",
        150,
        false,
        inputs,
        |(which, keep_header, body)| {
            let seeds = seeds();
            let mut bytes = if keep_header {
                mutate::head_lines(&seeds[which % seeds.len()], 1)
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(&body);
            read_as(which, &bytes)
        },
    );
}

/// The cell parsers: a number is finite or refused (`1e400` is never infinity), a period
/// label is made of the cell's own characters, a column pattern matches header names only.
#[test]
fn cell_parsers() {
    let inputs = (nasty_text(), proptest::collection::vec(nasty_text(), 0..6));
    run("cell_parsers", 2_000, true, inputs, |(cell, header)| {
        let _ = period_label(&cell);
        for (name, _) in match_pattern(&format!("{cell}{{period}}"), &header) {
            prop_assert!(header.contains(&name));
        }
        match parse_number(&cell) {
            Ok(x) => {
                prop_assert!(x.is_none_or(f64::is_finite), "{:?} read as {:?}", cell, x);
                Ok(Outcome::Read)
            }
            Err(()) => Ok(Outcome::Refused("not a number".into())),
        }
    });
}
