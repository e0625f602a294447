//! CSV text as published, below the catalogue and the table readers: the encoding (UTF-8 with
//! or without a BOM, or Windows-1252), the header (names trimmed), number cells (thousands
//! separators, `£`, `%`) with the suppression markers of ONS and DfE read as missing, and
//! period labels (`2020/21`, ISO intervals). The catalogue reads headers with it to validate
//! itself; [`crate::indicators`] reads whole tables.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Text encoding of a CSV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8, with or without a BOM (the default): `encoding = "utf-8"`.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// Windows-1252 (older ONS downloads with a `£`): `encoding = "windows-1252"`.
    #[serde(rename = "windows-1252")]
    Windows1252,
}

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
    /// A number too large for a 64-bit float (`1e400`): it would be read as infinity.
    #[error(
        "{path}, line {line}, column `{column}`: `{value}` is too large to be a number (beyond ±1.8e308), so it would be read as infinity"
    )]
    NotFinite {
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

/// Parses a cell as a number, reading suppression markers as `None`. `Err(())` for anything
/// else. Accepts `29,199`, `12.5%`, `£1,234.50`, `-3`, `1e3`.
///
/// ```
/// use districts::csv_text::parse_number;
/// assert_eq!(parse_number("29,199"), Ok(Some(29199.0)));
/// assert_eq!(parse_number(" 12.5% "), Ok(Some(12.5)));
/// assert_eq!(parse_number("£498.3"), Ok(Some(498.3)));
/// assert_eq!(parse_number("c"), Ok(None));
/// assert_eq!(parse_number(""), Ok(None));
/// assert!(parse_number("12a").is_err());
/// assert!(parse_number("1,23").is_err());
/// assert!(parse_number("inf").is_err());
/// assert!(parse_number("1e400").is_err(), "overflows to infinity");
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
    // `1e400` parses as infinity: refused like `inf`, never read as a value.
    let finite = |v: f64| if v.is_finite() { Ok(Some(v)) } else { Err(()) };
    if !s.contains(',') {
        return s.parse::<f64>().map_err(|_| ()).and_then(finite);
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
    plain.parse::<f64>().map_err(|_| ()).and_then(finite)
}

/// Whether a cell is written as a number too large for a 64-bit float (`1e400`, `-2e308`): it
/// would parse as infinity, so [`parse_number`] refuses it and errors say why.
///
/// ```
/// use districts::csv_text::overflows;
/// assert!(overflows("1e400") && overflows(" -1.8e308 "));
/// assert!(!overflows("1e300") && !overflows("inf") && !overflows("x"));
/// ```
pub fn overflows(cell: &str) -> bool {
    let s = cell.trim().replace(',', "");
    let s = s.strip_prefix('£').unwrap_or(&s);
    let s = s.strip_suffix('%').unwrap_or(s).trim();
    s.trim_start_matches(['-', '+', '.'])
        .starts_with(|c: char| c.is_ascii_digit())
        && s.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// Turns a published period string into the label shown to users, or `None` if the form is
/// unknown. Forms: `2021`; `2020/21`; `2020_21` and `2020-21` (consecutive years) -> `2020/21`;
/// `202021` -> `2020/21` and `201820` -> `2018-20` (a span); ISO intervals
/// `2018-09-01/P1Y` -> `2018/19` (a year not starting in January is an academic or financial
/// year), `2004-01-01T00:00:00/P1Y` -> `2004`, `2016-01-01/P3Y` -> `2016-18`.
///
/// ```
/// use districts::csv_text::period_label;
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
    // `split_at_checked`: a 7-byte cell need not be ASCII (`\u{feff}\u{feff}0` panicked).
    if s.len() == 7
        && let Some((a, rest)) = s.split_at_checked(4)
        && let Some(b) = rest.strip_prefix(['/', '_', '-'])
    {
        let (start, end2) = (year(a)?, two(b)?);
        return ((start + 1) % 100 == end2).then(|| format!("{start}/{end2:02}"));
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
/// let m = districts::csv_text::match_pattern("pay_{period}", &header);
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
pub(crate) fn read_text(path: &Path, encoding: TextEncoding) -> Result<String, TableError> {
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

pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

/// Line numbers of CSV records as a text editor shows them, from the csv crate's byte
/// positions: its own line count lags by one after a CRLF (a record then starts at the `\n` of
/// the previous line's `\r\n`) and a record is numbered by where it starts, whatever newlines
/// its quoted fields hold. Counts forward incrementally, so a whole file costs one pass.
///
/// ```
/// use districts::csv_text::LineCounter;
/// let text = "code,value\r\nE1,\"two\nlines\"\r\n\r\nE2,3\r\n";
/// let mut lines = LineCounter::new(text.as_bytes());
/// let mut reader = csv::Reader::from_reader(text.as_bytes());
/// let found: Vec<u64> = reader
///     .records()
///     .map(|r| lines.line_of(r.unwrap().position()))
///     .collect();
/// assert_eq!(found, [2, 5]);
/// ```
#[derive(Clone, Debug)]
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    /// A counter over the bytes the csv reader reads.
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record (or error) at `pos`; 0 when the position is unknown.
    pub fn line_of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let mut start = usize::try_from(pos.byte())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // Blank lines and the `\n` of a CRLF before the record are not part of it.
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.at {
            // Positions only move forward while reading; start over if asked about an earlier one.
            self.at = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.at..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.at = start;
        self.line
    }
}

/// A csv error of `path` at the line `lines` counts for it.
pub(crate) fn csv_error_at(path: &Path, e: csv::Error, lines: &mut LineCounter<'_>) -> TableError {
    let line = lines.line_of(e.position());
    TableError::Csv {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

pub(crate) fn csv_error(path: &Path, e: csv::Error) -> TableError {
    let line = e.position().map(csv::Position::line).unwrap_or(0);
    TableError::Csv {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

pub(crate) fn trimmed_header(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
) -> Result<Vec<String>, TableError> {
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
/// # let path = test_support::fixtures_dir().join("toy_indicators.csv");
/// use districts::catalog::TextEncoding;
/// let header = districts::csv_text::read_header(&path, TextEncoding::Utf8).unwrap();
/// assert_eq!(header, ["code", "name", "score", "households"]);
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
