//! Fuzz target: the catalogue reader (`RawCatalog::parse` then `Catalog::resolve` against the
//! real data directory), on the real `boundaries/catalog.toml` with values replaced (numbers out
//! of range, unknown palettes and schemes, wrong types, paths outside the data directory), lines
//! deleted, repeated and swapped, and bytes edited; and on arbitrary text.

use std::sync::OnceLock;

use districts::catalog::{Catalog, RawCatalog};
use fuzz_targets::mutate::{self, Mutation};
use fuzz_targets::{Outcome, clear_error, nasty_text, run, within_bound};
use proptest::prelude::*;

fn real_catalog() -> &'static Vec<u8> {
    static TEXT: OnceLock<Vec<u8>> = OnceLock::new();
    TEXT.get_or_init(|| {
        let p = test_support::catalog_path();
        std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    })
}

/// TOML values a careless edit could leave on the right of `=`.
const VALUES: &[&str] = &[
    "500",
    "0",
    "-1",
    "1",
    "2",
    "10",
    "99999999999999999999",
    "1e400",
    "nan",
    "inf",
    "true",
    "\"\"",
    "\"unknown\"",
    "\"YlOrRd\"",
    "\"NotAPalette\"",
    "\"quantile\"",
    "\"manual\"",
    "\"jenks\"",
    "\"wide\"",
    "\"long\"",
    "\"higher_is_better\"",
    "\"sideways\"",
    "\"../Cargo.toml\"",
    "\"/etc/hostname\"",
    "\"imd2019_lad_summaries_file10.csv\"",
    "\"lad_apr2019_uk_buc.topojson\"",
    "\"england_msoa_2011_sgen_clipped.dbf\"",
    "\"EPSG:27700\"",
    "\"EPSG:99999\"",
    "[]",
    "[\"lad19\", \"lad19\"]",
    "[\"nowhere\"]",
    "{}",
    "{ scheme = \"manual\", breaks = [3, 1, 2] }",
    "{ scheme = \"quantile\", k = 500, palette = \"YlOrRd\" }",
    "{ scheme = \"quantile\", k = 5, palette = \"Nope\" }",
    "{ how = \"weighted_mean\", weights = \"nothing\" }",
    "\"lad19\"",
    "\"imd_score\"",
];

/// One catalogue edit: the value of the nth `key = value` line replaced.
#[derive(Clone, Debug)]
enum Edit {
    Value(u32, usize),
    Typed(u32, usize),
    Text(u32, String),
    Bytes(Mutation),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        // Mostly values: a byte edit usually stops at the TOML parser, a value reaches the
        // checks of every entry.
        6 => (any::<u32>(), 0..VALUES.len()).prop_map(|(n, v)| Edit::Typed(n, v)),
        2 => (any::<u32>(), 0..VALUES.len()).prop_map(|(n, v)| Edit::Value(n, v)),
        2 => (any::<u32>(), nasty_text()).prop_map(|(n, t)| Edit::Text(n, t)),
        1 => mutate::mutation().prop_map(Edit::Bytes),
    ]
}

fn apply(text: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for e in edits {
        bytes = match e {
            Edit::Bytes(m) => mutate::apply(&bytes, std::slice::from_ref(m)),
            Edit::Value(n, v) => set_value(&bytes, *n, VALUES[*v]),
            Edit::Typed(n, v) => set_typed_value(&bytes, *n, *v),
            // JSON string escapes are TOML basic-string escapes: the text arrives as a string.
            Edit::Text(n, t) => {
                set_value(&bytes, *n, &serde_json::Value::from(t.as_str()).to_string())
            }
        };
    }
    bytes
}

/// The lines of `key = value` assignments (comments aside).
fn assignments(lines: &[String]) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(" = "))
        .map(|(i, _)| i)
        .collect()
}

/// The nth `key = value` line with its value replaced.
fn set_value(bytes: &[u8], n: u32, value: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let assigned = assignments(&lines);
    if assigned.is_empty() {
        return bytes.to_vec();
    }
    let i = assigned[n as usize % assigned.len()];
    if let Some((key, _)) = lines[i].split_once(" = ") {
        lines[i] = format!("{key} = {value}");
    }
    (lines.join("\n") + "\n").into_bytes()
}

/// The first character of a TOML value: its kind (string, array, table, number or boolean).
fn kind(value: &str) -> char {
    match value.trim_start().chars().next() {
        Some(c @ ('"' | '[' | '{')) => c,
        Some('t' | 'f') => 'b',
        _ => '0',
    }
}

/// The nth `key = value` line with its value replaced by one of [`VALUES`] of the same kind: the
/// edit passes the typed parse and reaches the checks of `Catalog::resolve`.
fn set_typed_value(bytes: &[u8], n: u32, v: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let assigned = assignments(&lines);
    if assigned.is_empty() {
        return bytes.to_vec();
    }
    let old = lines[assigned[n as usize % assigned.len()]]
        .split_once(" = ")
        .map_or('0', |(_, v)| kind(v));
    let same: Vec<&str> = VALUES.iter().copied().filter(|x| kind(x) == old).collect();
    match same.get(v % same.len().max(1)) {
        Some(value) => set_value(bytes, n, value),
        None => bytes.to_vec(),
    }
}

/// Parses and resolves `bytes` as the catalogue: `Ok`, or an error naming the catalogue.
fn resolve(bytes: &[u8]) -> Result<Outcome, TestCaseError> {
    let path = test_support::catalog_path();
    let data = test_support::data_dir();
    let result = within_bound(
        || format!("catalogue of {} bytes", bytes.len()),
        || -> Result<Catalog, String> {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("catalog.toml: {e}"))?;
            let raw = RawCatalog::parse(text).map_err(|e| format!("catalog.toml: {e}"))?;
            Catalog::resolve(raw, &path, &data).map_err(|e| e.to_string())
        },
    )?;
    match result {
        Ok(cat) => {
            prop_assert!(
                !cat.layers.is_empty(),
                "a catalogue with no layers resolved"
            );
            Ok(Outcome::Read)
        }
        Err(e) => {
            clear_error(&e, Some("catalog"))?;
            Ok(Outcome::Refused(e))
        }
    }
}

/// The real catalogue with values replaced, lines moved and bytes edited.
#[test]
fn real_catalog_mutated() {
    let inputs = proptest::collection::vec(edit(), 1..4);
    run("real_catalog_mutated", 250, true, inputs, |edits| {
        resolve(&apply(real_catalog(), &edits))
    });
}

/// Arbitrary text as a catalogue.
#[test]
fn arbitrary_text_as_catalog() {
    let inputs = (nasty_text(), proptest::collection::vec(any::<u8>(), 0..300));
    run(
        "arbitrary_text_as_catalog",
        250,
        false,
        inputs,
        |(text, bytes)| {
            resolve(&bytes)?;
            resolve(text.as_bytes())
        },
    );
}

#[test]
fn the_real_catalogue_resolves() {
    let r = resolve(real_catalog());
    assert!(
        matches!(r, Ok(Outcome::Read)),
        "the real catalogue does not resolve"
    );
}
