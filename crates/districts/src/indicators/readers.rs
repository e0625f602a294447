//! Reading whole indicator tables and lookup tables as the catalogue describes them: one pass
//! over the rows, every indicator of a source at once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::tables::{
    CodeValues, DuplicateKey, IndicatorTable, LookupTable, TableCodes, TableIndicator, TablePeriod,
    TableValues,
};
use crate::catalog::{Catalog, Filter, IndicatorSpec, Layout, LookupSpec, SourceSpec, ValueSpec};
use crate::codes::{normalise_code, normalise_code_into};
use crate::csv_text::{
    LineCounter, MISSING_MARKERS, TableError, csv_error_at, csv_reader, match_pattern, overflows,
    parse_number, period_label, read_text, trimmed_header,
};

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
/// # let dir = test_support::fixtures_dir();
/// # let cat = dir.join("toy_catalog.toml");
/// use districts::{catalog::Catalog, indicators::read_table};
/// let catalog = Catalog::load(&cat, &dir).unwrap();
/// let table = read_table(&catalog, catalog.source("toy_stats").unwrap()).unwrap();
/// let score = table.indicator("toy_score").unwrap();
/// assert_eq!(score.periods[0].label, "2026");
/// // Every row, the code without a district (E09000999) included; joining reports it.
/// assert_eq!(score.periods[0].values.len(), 4);
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
        .map(std::option::Option::transpose)
        .collect::<Result<Vec<_>, _>>()?;

    let mut codes = Codes::default();
    let mut code_buf = String::new();
    let mut period_cache: HashMap<String, String> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text.as_bytes());
    let mut rows = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error_at(path, e, &mut lines)),
        }
        rows += 1;
        let line = lines.line_of(record.position());
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
        None => parse_number(raw).map(Cell::Number).map_err(|()| {
            let (path, column, value) = (path.to_path_buf(), column.to_string(), raw.to_string());
            if overflows(raw) {
                TableError::NotFinite {
                    path,
                    line,
                    column,
                    value,
                }
            } else {
                TableError::BadNumber {
                    path,
                    line,
                    column,
                    value,
                }
            }
        }),
    }
}

/// Reads a lookup table. A repeated key keeps its first row.
///
/// ```
/// # let dir = test_support::fixtures_dir();
/// # let cat = dir.join("toy_catalog.toml");
/// use districts::{catalog::Catalog, indicators::read_lookup};
/// let catalog = Catalog::load(&cat, &dir).unwrap();
/// let lookup = read_lookup(catalog.lookup("toy_regions_lookup").unwrap()).unwrap();
/// assert_eq!(lookup.get("E09000903", "rgncd"), Some("E12000901"));
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
    let mut lines = LineCounter::new(text.as_bytes());
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error_at(path, e, &mut lines)),
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
