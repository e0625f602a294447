//! Reading indicator tables (CSV, wide or long) as published: UTF-8 BOMs, padded headers,
//! thousands separators, `£` and `%`, and the suppression markers of ONS and DfE, which are read
//! as missing (`None`), never as zero. A cell that is neither a number nor a known marker is an
//! error naming the file, line and column.
//!
//! Values are keyed by normalised GSS code; aligning them with a layer's districts is
//! [`crate::join`]'s job.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::{
    Catalog, Filter, IndicatorSpec, Layout, LookupSpec, SourceSpec, TextEncoding, ValueSpec,
};
use crate::codes::{normalise_code, normalise_code_into};

/// Cells read as "no value" (trimmed, compared case-sensitively except `NA`/`N/A`).
///
/// ONS: `..` not available, `:` not applicable/suppressed, `x` suppressed, `-` nil or
/// negligible in older tables, `[x]`/`[c]`/`[z]`/`[u]`/`[low]` in newer ones. DfE: `c`
/// confidential, `z` not applicable, `x` not available, `u` low reliability, `low` rounds to
/// zero but is not zero, `:` not available. Spreadsheet exports: `NA`, `N/A`, `#N/A`.
pub const MISSING_MARKERS: &[&str] = &[
    "", "..", ".", ":", "x", "X", "c", "z", "u", "-", "–", "—", "*", "~", "NA", "N/A", "n/a", "na",
    "#N/A", "low", "[x]", "[c]", "[z]", "[u]", "[low]", "[w]", "SUPP", "DNA", "NaN",
];

/// What went wrong reading a table. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Bytes that are not UTF-8.
    #[error(
        "{path}, line {line}: bytes that are not UTF-8 (if the file is Windows-1252, say `encoding = \"windows-1252\"` in the catalogue)"
    )]
    NotUtf8 {
        /// File.
        path: PathBuf,
        /// 1-based line of the first bad byte.
        line: u64,
    },
    /// The CSV structure is broken (e.g. a row with the wrong number of fields).
    #[error("{path}, line {line}: {message}")]
    Csv {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The csv crate's message.
        message: String,
    },
    /// A column the catalogue names is not in the header.
    #[error("{path}: no {role} column `{column}` (header: {header})")]
    MissingColumn {
        /// File.
        path: PathBuf,
        /// What the column was for: `code`, `period`, `value`, `filter`, `key`.
        role: &'static str,
        /// Column named.
        column: String,
        /// The header as read, comma-separated.
        header: String,
    },
    /// A cell that should be a number is neither a number nor a known marker.
    #[error(
        "{path}, line {line}, column `{column}`: `{value}` is not a number or a known missing-value marker"
    )]
    BadNumber {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Column name.
        column: String,
        /// The cell.
        value: String,
    },
    /// A period string that the period rule does not understand.
    #[error(
        "{path}, line {line}, column `{column}`: period `{value}` is not a known form (2021, 2020/21, 202021, 2018-09-01/P1Y)"
    )]
    BadPeriod {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Column name.
        column: String,
        /// The cell.
        value: String,
    },
    /// A category code with no name in the names lookup.
    #[error("{path}, line {line}: category code `{code}` has no name in lookup `{lookup}`")]
    UnknownCategory {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The (derived) category code.
        code: String,
        /// Lookup id.
        lookup: String,
    },
    /// A row without a code.
    #[error("{path}, line {line}: empty code in column `{column}`")]
    EmptyCode {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// Code column.
        column: String,
    },
    /// A lookup that the catalogue names is missing (should have been caught by validation).
    #[error("lookup `{0}` is not in the catalogue")]
    UnknownLookup(String),
}

/// The distinct codes of one table (normalised), in file order of first occurrence, shared by
/// every period of every indicator read from it.
#[derive(Clone, Debug, Default)]
pub struct TableCodes {
    /// foldhash: one lookup per row of every table; the keys are codes from our data files.
    ids: HashMap<String, u32, foldhash::fast::RandomState>,
    list: Vec<String>,
}

impl TableCodes {
    /// The id of `code` (already normalised), adding it on first sight.
    fn intern(&mut self, code: &str) -> (u32, bool) {
        if let Some(&id) = self.ids.get(code) {
            return (id, false);
        }
        let id = u32::try_from(self.list.len()).expect("fewer than 2^32 codes in a table");
        self.ids.insert(code.to_string(), id);
        self.list.push(code.to_string());
        (id, true)
    }

    /// The id of a code, if the table has it.
    pub fn id(&self, code: &str) -> Option<u32> {
        self.ids.get(code).copied()
    }

    /// The code with this id.
    pub fn code(&self, id: u32) -> &String {
        &self.list[id as usize]
    }

    /// Every code, by id.
    pub fn list(&self) -> &[String] {
        &self.list
    }

    /// Number of distinct codes.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the table has no code.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Values of one period by code: (code id, value) entries over the table's shared
/// [`TableCodes`], each code at most once, in code id order. Behaves like a read-only map.
///
/// ```
/// use std::collections::HashMap;
/// use districts::indicators::CodeValues;
/// let m: CodeValues<Option<f64>> = HashMap::from([("E06000001".to_string(), Some(1.0))]).into();
/// assert_eq!(m.get("E06000001"), Some(&Some(1.0)));
/// assert_eq!(m["E06000001"], Some(1.0));
/// assert_eq!(m.len(), 1);
/// assert!(m.get("E06000002").is_none());
/// ```
#[derive(Clone)]
pub struct CodeValues<V> {
    codes: Arc<TableCodes>,
    /// (code id, value), ids strictly increasing.
    entries: Vec<(u32, V)>,
}

impl<V> CodeValues<V> {
    /// Values over `codes`; `entries` must have strictly increasing code ids.
    fn from_entries(codes: Arc<TableCodes>, entries: Vec<(u32, V)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        CodeValues { codes, entries }
    }

    /// The table's codes these values are keyed over (shared by the table's indicators).
    pub fn table_codes(&self) -> &Arc<TableCodes> {
        &self.codes
    }

    /// (code id, value) entries, in code id order.
    pub fn entries(&self) -> &[(u32, V)] {
        &self.entries
    }

    /// Number of codes with a row.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no code has a row.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of a code, if it has a row.
    pub fn get(&self, code: &str) -> Option<&V> {
        let id = self.codes.id(code)?;
        self.entries
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|k| &self.entries[k].1)
    }

    /// Whether a code has a row.
    pub fn contains_key(&self, code: &str) -> bool {
        self.get(code).is_some()
    }

    /// (code, value) pairs, in code id order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> + '_ {
        self.entries.iter().map(|(i, v)| (self.codes.code(*i), v))
    }

    /// The codes with a row.
    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.entries.iter().map(|(i, _)| self.codes.code(*i))
    }

    /// The values.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V> FromIterator<(String, V)> for CodeValues<V> {
    /// Like collecting into a map: a repeated code keeps the last value.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut codes = TableCodes::default();
        let mut entries: Vec<(u32, V)> = Vec::new();
        for (code, v) in iter {
            let (id, new) = codes.intern(&code);
            if new {
                entries.push((id, v));
            } else {
                entries[id as usize].1 = v;
            }
        }
        CodeValues::from_entries(Arc::new(codes), entries)
    }
}

impl<V> From<HashMap<String, V>> for CodeValues<V> {
    fn from(map: HashMap<String, V>) -> Self {
        map.into_iter().collect()
    }
}

impl<'a, V> IntoIterator for &'a CodeValues<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = Box<dyn Iterator<Item = (&'a String, &'a V)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<V> std::ops::Index<&str> for CodeValues<V> {
    type Output = V;
    fn index(&self, code: &str) -> &V {
        self.get(code)
            .unwrap_or_else(|| panic!("no value for code `{code}`"))
    }
}

impl<V: PartialEq> PartialEq for CodeValues<V> {
    /// Equal as maps: the same codes with the same values, whatever the code ids.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(c, v)| other.get(c) == Some(v))
    }
}

impl<V: fmt::Debug> fmt::Debug for CodeValues<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Values of one period, keyed by normalised GSS code.
#[derive(Clone, Debug, PartialEq)]
pub enum TableValues {
    /// Numbers; `None` is a suppression marker or an empty cell.
    Numeric(CodeValues<Option<f64>>),
    /// Category labels; `None` is an empty cell.
    Categorical(CodeValues<Option<String>>),
}

impl TableValues {
    /// Number of codes in this period (with or without a value).
    pub fn len(&self) -> usize {
        match self {
            TableValues::Numeric(m) => m.len(),
            TableValues::Categorical(m) => m.len(),
        }
    }

    /// Whether no code has a row in this period.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this code has a row in this period (even a suppressed one).
    pub fn contains(&self, code: &str) -> bool {
        match self {
            TableValues::Numeric(m) => m.contains_key(code),
            TableValues::Categorical(m) => m.contains_key(code),
        }
    }

    /// The codes with a row in this period.
    pub fn codes(&self) -> Box<dyn Iterator<Item = &String> + '_> {
        match self {
            TableValues::Numeric(m) => Box::new(m.keys()),
            TableValues::Categorical(m) => Box::new(m.keys()),
        }
    }

    /// The numeric value of a code: `None` if absent, `Some(None)` if suppressed.
    pub fn number(&self, code: &str) -> Option<Option<f64>> {
        match self {
            TableValues::Numeric(m) => m.get(code).copied(),
            TableValues::Categorical(_) => None,
        }
    }

    /// The table codes the values are keyed over.
    pub fn table_codes(&self) -> &Arc<TableCodes> {
        match self {
            TableValues::Numeric(m) => m.table_codes(),
            TableValues::Categorical(m) => m.table_codes(),
        }
    }
}

/// One period of an indicator as read from the table.
#[derive(Clone, Debug, PartialEq)]
pub struct TablePeriod {
    /// Label shown to users (`2021`, `2020/21`).
    pub label: String,
    /// Values by code.
    pub values: TableValues,
}

/// A (code, period) key that occurs more than once for one indicator. The first row is kept.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DuplicateKey {
    /// Normalised code.
    pub code: String,
    /// Period label.
    pub period: String,
    /// Line of the row that was kept.
    pub first_line: u64,
    /// Line of the repeated row, which was ignored.
    pub line: u64,
    /// Whether the repeated row carried the same value.
    pub same_value: bool,
}

/// One indicator read from a table.
#[derive(Clone, Debug)]
pub struct TableIndicator {
    /// Indicator id (from the catalogue).
    pub id: String,
    /// Whether values are category labels.
    pub categorical: bool,
    /// Periods, in chronological order of their labels.
    pub periods: Vec<TablePeriod>,
    /// Repeated (code, period) keys; the first row of each was kept.
    pub duplicates: Vec<DuplicateKey>,
    /// Category labels in code order (categorical indicators only), for legends.
    pub categories: Vec<String>,
    /// Names of codes as given in the table (if it has a name column), shared by the
    /// indicators of one table.
    pub names: Arc<HashMap<String, String>>,
    /// Data file, for reports.
    pub path: PathBuf,
}

impl TableIndicator {
    /// The period with this label.
    pub fn period(&self, label: &str) -> Option<&TablePeriod> {
        self.periods.iter().find(|p| p.label == label)
    }
}

/// Every indicator of one source, read.
#[derive(Clone, Debug)]
pub struct IndicatorTable {
    /// Source id (from the catalogue).
    pub source_id: String,
    /// Data file.
    pub path: PathBuf,
    /// Data rows read (excluding the header).
    pub rows: usize,
    /// The indicators, in catalogue order.
    pub indicators: Vec<TableIndicator>,
}

impl IndicatorTable {
    /// The indicator with this id.
    pub fn indicator(&self, id: &str) -> Option<&TableIndicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// A lookup table: key -> the catalogued columns, in catalogue order.
#[derive(Clone, Debug)]
pub struct LookupTable {
    /// Lookup id.
    pub id: String,
    /// Columns carried, in order.
    pub columns: Vec<String>,
    /// Rows by normalised key, in file order of first occurrence.
    pub rows: HashMap<String, Vec<String>>,
    /// Keys in file order.
    pub keys: Vec<String>,
}

impl LookupTable {
    /// The value of `column` for `key`.
    pub fn get(&self, key: &str, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.rows
            .get(&normalise_code(key))
            .and_then(|r| r.get(i))
            .map(String::as_str)
    }
}

/// Parses a cell as a number, reading suppression markers as `None`. `Err(())` for anything
/// else. Accepts `29,199`, `12.5%`, `£1,234.50`, `-3`, `1e3`.
///
/// ```
/// use districts::indicators::parse_number;
/// assert_eq!(parse_number("29,199"), Ok(Some(29199.0)));
/// assert_eq!(parse_number(" 12.5% "), Ok(Some(12.5)));
/// assert_eq!(parse_number("£498.3"), Ok(Some(498.3)));
/// assert_eq!(parse_number("c"), Ok(None));
/// assert_eq!(parse_number(""), Ok(None));
/// assert!(parse_number("12a").is_err());
/// assert!(parse_number("1,23").is_err());
/// assert!(parse_number("inf").is_err());
/// ```
#[allow(clippy::result_unit_err)]
pub fn parse_number(cell: &str) -> Result<Option<f64>, ()> {
    let s = cell.trim();
    // No marker starts with a digit (checked by a test), so most cells skip the scan.
    if !s.starts_with(|c: char| c.is_ascii_digit()) && MISSING_MARKERS.contains(&s) {
        return Ok(None);
    }
    let s = s.strip_prefix('£').unwrap_or(s);
    let s = s.strip_suffix('%').unwrap_or(s).trim();
    // Fast path: a plain number. `f64::from_str` also takes `inf`/`NaN`, so require a digit
    // first (after a sign or point).
    let starts_numeric = |t: &str| {
        t.trim_start_matches(['-', '+', '.'])
            .starts_with(|c: char| c.is_ascii_digit())
    };
    if !starts_numeric(s) {
        return Err(());
    }
    if !s.contains(',') {
        return s.parse::<f64>().map(Some).map_err(|_| ());
    }
    // Thousands separators: groups of three digits after the first group of one to three.
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let unsigned = int.trim_start_matches(['-', '+']);
    let mut groups = unsigned.split(',');
    let first_ok = groups
        .next()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if !(first_ok && rest_ok) {
        return Err(());
    }
    let mut plain = int.replace(',', "");
    if let Some(f) = frac {
        plain.push('.');
        plain.push_str(f);
    }
    plain.parse::<f64>().map(Some).map_err(|_| ())
}

/// Turns a published period string into the label shown to users, or `None` if the form is
/// unknown. Forms: `2021`; `2020/21`; `2020_21` and `2020-21` (consecutive years) -> `2020/21`;
/// `202021` -> `2020/21` and `201820` -> `2018-20` (a span); ISO intervals
/// `2018-09-01/P1Y` -> `2018/19` (a year not starting in January is an academic or financial
/// year), `2004-01-01T00:00:00/P1Y` -> `2004`, `2016-01-01/P3Y` -> `2016-18`.
///
/// ```
/// use districts::indicators::period_label;
/// assert_eq!(period_label("2018-09-01/P1Y").as_deref(), Some("2018/19"));
/// assert_eq!(period_label("2004-01-01T00:00:00/P1Y").as_deref(), Some("2004"));
/// assert_eq!(period_label("202223").as_deref(), Some("2022/23"));
/// assert_eq!(period_label("201820").as_deref(), Some("2018-20"));
/// assert_eq!(period_label("2021").as_deref(), Some("2021"));
/// assert_eq!(period_label("2020_21").as_deref(), Some("2020/21"));
/// assert_eq!(period_label("1999-12-31/P1Y").as_deref(), Some("1999/00"));
/// assert_eq!(period_label("soon"), None);
/// ```
pub fn period_label(raw: &str) -> Option<String> {
    let s = raw.trim();
    let year = |t: &str| -> Option<u32> {
        (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let two = |t: &str| -> Option<u32> {
        (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let span = |start: u32, end2: u32| -> String {
        if (start + 1) % 100 == end2 {
            format!("{start}/{end2:02}")
        } else {
            format!("{start}-{end2:02}")
        }
    };
    if let Some(y) = year(s) {
        return Some(y.to_string());
    }
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        let (a, b) = s.split_at(4);
        return Some(span(year(a)?, two(b)?));
    }
    if s.len() == 7 {
        let (a, rest) = s.split_at(4);
        if let Some(b) = rest.strip_prefix(['/', '_', '-']) {
            let (start, end2) = (year(a)?, two(b)?);
            return ((start + 1) % 100 == end2).then(|| format!("{start}/{end2:02}"));
        }
    }
    // ISO 8601 interval: start date (optionally with a time) / duration in whole years.
    let (start, duration) = s.split_once('/')?;
    let date = start.split('T').next()?;
    let mut parts = date.split('-');
    let (y, m) = (year(parts.next()?)?, two(parts.next()?)?);
    let years: u32 = duration
        .strip_prefix('P')?
        .strip_suffix('Y')?
        .parse()
        .ok()?;
    if years == 0 || !(1..=12).contains(&m) {
        return None;
    }
    match (m, years) {
        (1, 1) => Some(y.to_string()),
        (1, n) => Some(format!("{y}-{:02}", (y + n - 1) % 100)),
        (_, n) => Some(span(y, (y + n) % 100)),
    }
}

/// The columns of `header` that match a `prefix{period}suffix` pattern, with the raw period.
///
/// ```
/// let header = vec!["areacd".to_string(), "pay_2008".to_string(), "pay_2009".to_string()];
/// let m = districts::indicators::match_pattern("pay_{period}", &header);
/// assert_eq!(m, vec![("pay_2008".to_string(), "2008".to_string()), ("pay_2009".to_string(), "2009".to_string())]);
/// ```
pub fn match_pattern(pattern: &str, header: &[String]) -> Vec<(String, String)> {
    let Some((prefix, suffix)) = pattern.split_once("{period}") else {
        return Vec::new();
    };
    header
        .iter()
        .filter_map(|h| {
            let mid = h.strip_prefix(prefix)?.strip_suffix(suffix)?;
            (!mid.is_empty()).then(|| (h.clone(), mid.to_string()))
        })
        .collect()
}

/// Reads a whole file as text: BOM stripped, UTF-8 checked (error with the line of the first
/// bad byte) or decoded from Windows-1252.
fn read_text(path: &Path, encoding: TextEncoding) -> Result<String, TableError> {
    let bytes = std::fs::read(path).map_err(|source| TableError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode(path, bytes, encoding)
}

fn decode(path: &Path, bytes: Vec<u8>, encoding: TextEncoding) -> Result<String, TableError> {
    match encoding {
        TextEncoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
            Ok(text.trim_start_matches('\u{feff}').to_string())
        }
        TextEncoding::Utf8 => {
            let mut text = String::from_utf8(bytes).map_err(|e| {
                let valid = e.utf8_error().valid_up_to();
                let line = 1 + e.as_bytes()[..valid]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                TableError::NotUtf8 {
                    path: path.to_path_buf(),
                    line: line as u64,
                }
            })?;
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
    }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

fn csv_error(path: &Path, e: csv::Error) -> TableError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    TableError::Csv {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

fn trimmed_header(path: &Path, reader: &mut csv::Reader<&[u8]>) -> Result<Vec<String>, TableError> {
    Ok(reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect())
}

/// Reads only the header line of a CSV file (trimmed names), e.g. to validate a catalogue.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
/// # let path = std::path::Path::new(dir).join("imd2019_lsoa_file1_imd.csv");
/// # if !path.exists() { return; }
/// use districts::catalog::TextEncoding;
/// let header = districts::indicators::read_header(&path, TextEncoding::Utf8).unwrap();
/// assert_eq!(header[0], "LSOA code (2011)"); // BOM stripped
/// ```
pub fn read_header(path: &Path, encoding: TextEncoding) -> Result<Vec<String>, TableError> {
    let file = std::fs::File::open(path).map_err(|source| TableError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut line = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut line)
        .map_err(|source| TableError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let text = decode(path, line, encoding)?;
    let mut reader = csv_reader(&text);
    trimmed_header(path, &mut reader)
}

fn column(
    path: &Path,
    header: &[String],
    name: &str,
    role: &'static str,
) -> Result<usize, TableError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| TableError::MissingColumn {
            path: path.to_path_buf(),
            role,
            column: name.to_string(),
            header: header.join(", "),
        })
}

/// Filters resolved to column positions.
fn filter_positions(
    path: &Path,
    header: &[String],
    filters: &[Filter],
) -> Result<Vec<(usize, String)>, TableError> {
    filters
        .iter()
        .map(|f| Ok((column(path, header, &f.column, "filter")?, f.value.clone())))
        .collect()
}

fn passes(record: &csv::StringRecord, filters: &[(usize, String)]) -> bool {
    filters
        .iter()
        .all(|(i, v)| record.get(*i).map(str::trim) == Some(v.as_str()))
}

/// A names lookup: its id and category code (normalised) -> name.
type CategoryNames = (String, HashMap<String, String>);

/// How a categorical indicator labels a cell.
struct CategoryLabeller<'a> {
    prefix: Option<usize>,
    suffix: &'a str,
    names: Option<CategoryNames>,
}

impl CategoryLabeller<'_> {
    fn label(
        &self,
        path: &Path,
        line: u64,
        cell: &str,
    ) -> Result<Option<(String, String)>, TableError> {
        let cell = cell.trim();
        if MISSING_MARKERS.contains(&cell) {
            return Ok(None);
        }
        let code = match self.prefix {
            Some(n) => format!(
                "{}{}",
                cell.chars().take(n).collect::<String>(),
                self.suffix
            ),
            None => format!("{cell}{}", self.suffix),
        };
        match &self.names {
            None => Ok(Some((code.clone(), code))),
            Some((lookup, names)) => match names.get(&normalise_code(&code)) {
                Some(name) => Ok(Some((code, name.clone()))),
                None => Err(TableError::UnknownCategory {
                    path: path.to_path_buf(),
                    line,
                    code,
                    lookup: lookup.clone(),
                }),
            },
        }
    }
}

/// Where one indicator takes its values from, resolved to column positions.
enum Plan {
    /// Wide: (column position, column name, period label).
    Wide(Vec<(usize, String, String)>),
    /// Wide, with the period's position in the accumulator: (column, name, period position).
    WideAt(Vec<(usize, String, usize)>),
    /// Long: value column position and name, plus row filters.
    Long {
        value: usize,
        value_name: String,
        filters: Vec<(usize, String)>,
    },
}

/// The codes of a table, interned: each distinct code is hashed once per row, and every
/// indicator of the table stores its values in vectors indexed by code id.
#[derive(Default)]
struct Codes {
    table: TableCodes,
    /// Name of each code from the first row that had it (if the table has a name column).
    names: Vec<Option<String>>,
}

impl Codes {
    /// The id of `code` (already normalised), adding it on first sight.
    fn id(&mut self, code: &str, name: Option<&str>) -> usize {
        let (id, new) = self.table.intern(code);
        if new {
            self.names.push(name.map(|n| n.trim().to_string()));
        }
        id as usize
    }
}

/// One value slot: the cell and the line it came from; `None` when the code has no row.
type Slot = Option<(Cell, u64)>;

/// Accumulates one indicator's periods while rows stream by.
struct Accumulator {
    categorical: bool,
    /// Period label -> position in `periods`.
    label_index: HashMap<String, usize>,
    /// (label, slots by code id).
    periods: Vec<(String, Vec<Slot>)>,
    /// (code id, period position, first line, line, same value).
    duplicates: Vec<(usize, usize, u64, u64, bool)>,
    categories: Vec<(String, String)>,
}

#[derive(Clone, PartialEq)]
enum Cell {
    Number(Option<f64>),
    Category(Option<String>),
}

impl Accumulator {
    fn new(categorical: bool) -> Self {
        Accumulator {
            categorical,
            label_index: HashMap::new(),
            periods: Vec::new(),
            duplicates: Vec::new(),
            categories: Vec::new(),
        }
    }

    /// Position of the period with this label, adding it on first sight.
    fn period(&mut self, label: &str) -> usize {
        if let Some(&i) = self.label_index.get(label) {
            return i;
        }
        let i = self.periods.len();
        self.label_index.insert(label.to_string(), i);
        self.periods.push((label.to_string(), Vec::new()));
        i
    }

    fn insert(&mut self, code: usize, period: usize, cell: Cell, line: u64) {
        let slots = &mut self.periods[period].1;
        if slots.len() <= code {
            slots.resize_with(code + 1, || None);
        }
        match &slots[code] {
            Some((first, first_line)) => {
                self.duplicates
                    .push((code, period, *first_line, line, *first == cell));
            }
            None => slots[code] = Some((cell, line)),
        }
    }

    fn finish(
        self,
        id: &str,
        path: &Path,
        codes: &Arc<TableCodes>,
        names: &Arc<HashMap<String, String>>,
    ) -> TableIndicator {
        let duplicates = self
            .duplicates
            .iter()
            .map(
                |&(code, period, first_line, line, same_value)| DuplicateKey {
                    code: codes.list[code].clone(),
                    period: self.periods[period].0.clone(),
                    first_line,
                    line,
                    same_value,
                },
            )
            .collect();
        let categorical = self.categorical;
        let mut periods: Vec<TablePeriod> = self
            .periods
            .into_iter()
            .map(|(label, slots)| {
                // Code ids are positions in `slots`, so entries come out in id order.
                let count = slots.iter().filter(|s| s.is_some()).count();
                let present = slots
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.map(|(cell, _)| (i as u32, cell)));
                let values = if categorical {
                    let mut v = Vec::with_capacity(count);
                    v.extend(present.map(|(i, cell)| match cell {
                        Cell::Category(c) => (i, c),
                        Cell::Number(_) => (i, None),
                    }));
                    TableValues::Categorical(CodeValues::from_entries(Arc::clone(codes), v))
                } else {
                    let mut v = Vec::with_capacity(count);
                    v.extend(present.map(|(i, cell)| match cell {
                        Cell::Number(n) => (i, n),
                        Cell::Category(_) => (i, None),
                    }));
                    TableValues::Numeric(CodeValues::from_entries(Arc::clone(codes), v))
                };
                TablePeriod { label, values }
            })
            .collect();
        periods.sort_by(|a, b| a.label.cmp(&b.label));
        let mut categories = self.categories;
        categories.sort();
        categories.dedup();
        TableIndicator {
            id: id.to_string(),
            categorical: self.categorical,
            periods,
            duplicates,
            categories: categories.into_iter().map(|(_, name)| name).collect(),
            names: Arc::clone(names),
            path: path.to_path_buf(),
        }
    }
}

/// Reads every indicator of one source.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
/// # let cat = concat!(env!("CARGO_MANIFEST_DIR"), "/../../boundaries/catalog.toml");
/// # if !std::path::Path::new(dir).exists() { return; }
/// use districts::{catalog::Catalog, indicators::read_table};
/// let catalog = Catalog::load(cat.as_ref(), dir.as_ref()).unwrap();
/// let table = read_table(&catalog, catalog.source("imd2019_file10").unwrap()).unwrap();
/// let score = table.indicator("imd_score").unwrap();
/// assert_eq!(score.periods[0].label, "2019");
/// assert_eq!(score.periods[0].values.len(), 317);
/// ```
pub fn read_table(catalog: &Catalog, source: &SourceSpec) -> Result<IndicatorTable, TableError> {
    let text = read_text(&source.path, source.encoding)?;
    read_table_text(catalog, source, &text)
}

/// Reads every source of the catalogue, in parallel, in catalogue order.
pub fn read_all(catalog: &Catalog) -> Result<Vec<IndicatorTable>, TableError> {
    catalog
        .sources
        .par_iter()
        .map(|s| read_table(catalog, s))
        .collect()
}

fn category_names(
    catalog: &Catalog,
    spec: &IndicatorSpec,
) -> Result<Option<CategoryNames>, TableError> {
    let Some(cat) = &spec.categories else {
        return Ok(None);
    };
    let (Some(lookup_id), Some(column)) = (&cat.names_lookup, &cat.names_column) else {
        return Ok(None);
    };
    let lookup_spec = catalog
        .lookup(lookup_id)
        .ok_or_else(|| TableError::UnknownLookup(lookup_id.clone()))?;
    let lookup = read_lookup(lookup_spec)?;
    let names = lookup
        .keys
        .iter()
        .filter_map(|k| lookup.get(k, column).map(|n| (k.clone(), n.to_string())))
        .collect();
    Ok(Some((lookup_id.clone(), names)))
}

fn read_table_text(
    catalog: &Catalog,
    source: &SourceSpec,
    text: &str,
) -> Result<IndicatorTable, TableError> {
    let path = source.path.as_path();
    let mut reader = csv_reader(text);
    let header = trimmed_header(path, &mut reader)?;
    let code_i = column(path, &header, &source.code_column, "code")?;
    let name_i = match &source.name_column {
        Some(n) => Some(column(path, &header, n, "name")?),
        None => None,
    };
    let source_filters = filter_positions(path, &header, &source.filters)?;
    let period_i = match &source.layout {
        Layout::Long { period_column, .. } => Some((
            column(path, &header, period_column, "period")?,
            period_column.clone(),
        )),
        Layout::Wide => None,
    };

    let mut plans = Vec::with_capacity(source.indicators.len());
    let mut labellers = Vec::with_capacity(source.indicators.len());
    let mut accs = Vec::with_capacity(source.indicators.len());
    for spec in &source.indicators {
        let plan = match &spec.values {
            ValueSpec::Columns(cols) => Plan::Wide(
                cols.iter()
                    .map(|(c, label)| {
                        Ok((column(path, &header, c, "value")?, c.clone(), label.clone()))
                    })
                    .collect::<Result<_, TableError>>()?,
            ),
            ValueSpec::ColumnPattern(p) => {
                let matched = match_pattern(p, &header);
                if matched.is_empty() {
                    return Err(TableError::MissingColumn {
                        path: path.to_path_buf(),
                        role: "value",
                        column: p.clone(),
                        header: header.join(", "),
                    });
                }
                let mut cols = Vec::with_capacity(matched.len());
                for (c, raw) in matched {
                    let label = period_label(&raw).ok_or_else(|| TableError::BadPeriod {
                        path: path.to_path_buf(),
                        line: 1,
                        column: c.clone(),
                        value: raw.clone(),
                    })?;
                    cols.push((column(path, &header, &c, "value")?, c, label));
                }
                Plan::Wide(cols)
            }
            ValueSpec::Long { value_column } => Plan::Long {
                value: column(path, &header, value_column, "value")?,
                value_name: value_column.clone(),
                filters: filter_positions(path, &header, &spec.filters)?,
            },
        };
        // Filters on a wide indicator select rows too.
        let wide_filters = match plan {
            Plan::Wide(_) | Plan::WideAt(_) => filter_positions(path, &header, &spec.filters)?,
            Plan::Long { .. } => Vec::new(),
        };
        let mut acc = Accumulator::new(spec.categorical());
        let plan = match plan {
            Plan::Wide(cols) => Plan::WideAt(
                cols.into_iter()
                    .map(|(i, name, label)| (i, name, acc.period(&label)))
                    .collect(),
            ),
            other => other,
        };
        plans.push((plan, wide_filters));
        labellers.push(spec.categories.as_ref().map(|c| -> Result<_, TableError> {
            Ok(CategoryLabeller {
                prefix: c.code_prefix,
                suffix: c.code_suffix.as_str(),
                names: category_names(catalog, spec)?,
            })
        }));
        accs.push(acc);
    }
    let labellers = labellers
        .into_iter()
        .map(|l| l.transpose())
        .collect::<Result<Vec<_>, _>>()?;

    let mut codes = Codes::default();
    let mut code_buf = String::new();
    let mut period_cache: HashMap<String, String> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        rows += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if !passes(&record, &source_filters) {
            continue;
        }
        let raw_code = record.get(code_i).unwrap_or("").trim();
        if raw_code.is_empty() {
            return Err(TableError::EmptyCode {
                path: path.to_path_buf(),
                line,
                column: source.code_column.clone(),
            });
        }
        // `normalise_code` into one buffer reused for every row.
        normalise_code_into(raw_code, &mut code_buf);
        let code = codes.id(&code_buf, name_i.and_then(|ni| record.get(ni)));
        let period_label_of_row = match &period_i {
            Some((pi, pname)) => {
                let raw = record.get(*pi).unwrap_or("").trim();
                let label = match period_cache.get(raw) {
                    Some(l) => l.clone(),
                    None => {
                        let l = period_label(raw).ok_or_else(|| TableError::BadPeriod {
                            path: path.to_path_buf(),
                            line,
                            column: pname.clone(),
                            value: raw.to_string(),
                        })?;
                        period_cache.insert(raw.to_string(), l.clone());
                        l
                    }
                };
                Some(label)
            }
            None => None,
        };
        for (((plan, wide_filters), labeller), acc) in
            plans.iter().zip(&labellers).zip(accs.iter_mut())
        {
            match plan {
                Plan::Wide(_) => {}
                Plan::WideAt(cols) => {
                    if !passes(&record, wide_filters) {
                        continue;
                    }
                    for (i, name, period) in cols {
                        let cell = read_cell(
                            path,
                            line,
                            name,
                            record.get(*i).unwrap_or(""),
                            labeller.as_ref(),
                            acc,
                        )?;
                        acc.insert(code, *period, cell, line);
                    }
                }
                Plan::Long {
                    value,
                    value_name,
                    filters,
                } => {
                    if !passes(&record, filters) {
                        continue;
                    }
                    let period = acc.period(period_label_of_row.as_deref().unwrap_or(""));
                    let cell = read_cell(
                        path,
                        line,
                        value_name,
                        record.get(*value).unwrap_or(""),
                        labeller.as_ref(),
                        acc,
                    )?;
                    acc.insert(code, period, cell, line);
                }
            }
        }
    }
    let names: HashMap<String, String> = codes
        .table
        .list
        .iter()
        .zip(&codes.names)
        .filter_map(|(c, n)| n.as_ref().map(|n| (c.clone(), n.clone())))
        .collect();
    let names = Arc::new(names);
    let codes = Arc::new(codes.table);
    let indicators = accs
        .into_iter()
        .zip(&source.indicators)
        .map(|(acc, spec)| acc.finish(&spec.id, path, &codes, &names))
        .collect();
    Ok(IndicatorTable {
        source_id: source.id.clone(),
        path: path.to_path_buf(),
        rows,
        indicators,
    })
}

fn read_cell(
    path: &Path,
    line: u64,
    column: &str,
    raw: &str,
    labeller: Option<&CategoryLabeller<'_>>,
    acc: &mut Accumulator,
) -> Result<Cell, TableError> {
    match labeller {
        Some(l) => {
            let labelled = l.label(path, line, raw)?;
            Ok(Cell::Category(labelled.map(|(code, name)| {
                acc.categories.push((code, name.clone()));
                name
            })))
        }
        None => parse_number(raw)
            .map(Cell::Number)
            .map_err(|()| TableError::BadNumber {
                path: path.to_path_buf(),
                line,
                column: column.to_string(),
                value: raw.to_string(),
            }),
    }
}

/// Reads a lookup table. A repeated key keeps its first row.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
/// # let cat = concat!(env!("CARGO_MANIFEST_DIR"), "/../../boundaries/catalog.toml");
/// # if !std::path::Path::new(dir).exists() { return; }
/// use districts::{catalog::Catalog, indicators::read_lookup};
/// let catalog = Catalog::load(cat.as_ref(), dir.as_ref()).unwrap();
/// let lookup = read_lookup(catalog.lookup("lsoa11_msoa11_lad17").unwrap()).unwrap();
/// assert_eq!(lookup.get("E01000001", "MSOA11CD"), Some("E02000001"));
/// ```
pub fn read_lookup(spec: &LookupSpec) -> Result<LookupTable, TableError> {
    let path = spec.path.as_path();
    let text = read_text(path, spec.encoding)?;
    let mut reader = csv_reader(&text);
    let header = trimmed_header(path, &mut reader)?;
    let key_i = column(path, &header, &spec.key_column, "key")?;
    let cols = spec
        .columns
        .iter()
        .map(|c| column(path, &header, c, "lookup"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = HashMap::new();
    let mut keys = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let key = normalise_code(record.get(key_i).unwrap_or(""));
        if key.is_empty() || rows.contains_key(&key) {
            continue;
        }
        let values = cols
            .iter()
            .map(|&i| record.get(i).unwrap_or("").trim().to_string())
            .collect();
        keys.push(key.clone());
        rows.insert(key, values);
    }
    Ok(LookupTable {
        id: spec.id.clone(),
        columns: spec.columns.clone(),
        rows,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse_number` skips the marker scan for cells that start with a digit.
    #[test]
    fn no_missing_marker_starts_with_a_digit() {
        for m in MISSING_MARKERS {
            assert!(!m.starts_with(|c: char| c.is_ascii_digit()), "{m:?}");
        }
        assert_eq!(parse_number("12.5"), Ok(Some(12.5)));
        assert_eq!(parse_number(" .. "), Ok(None));
    }
}
