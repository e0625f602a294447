//! Tables as read: the distinct codes of a table interned once, values of each period keyed by
//! code, indicators with their periods and duplicate keys, lookup tables.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::codes::normalise_code;

/// The distinct codes of one table (normalised), in file order of first occurrence, shared by
/// every period of every indicator read from it.
#[derive(Clone, Debug, Default)]
pub struct TableCodes {
    /// foldhash: one lookup per row of every table; the keys are codes from our data files.
    ids: HashMap<String, u32, foldhash::fast::RandomState>,
    pub(super) list: Vec<String>,
}

impl TableCodes {
    /// The id of `code` (already normalised), adding it on first sight.
    pub(super) fn intern(&mut self, code: &str) -> (u32, bool) {
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
    pub(super) fn from_entries(codes: Arc<TableCodes>, entries: Vec<(u32, V)>) -> Self {
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
