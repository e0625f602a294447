//! Joining indicator tables to districts by GSS code. A mismatch is data (a [`JoinReport`](crate::model::JoinReport)), not
//! an error: the report lists boundary districts with no data, data codes with no boundary
//! (with a hint where a known reorganisation explains it), duplicates on both sides and the
//! coverage of each period.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// A hash map keyed by codes with a fast (not DoS-resistant) hasher: the keys are codes from
/// our own data files.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use crate::catalog::IndicatorMeta;
use crate::codes::normalise_code;
use crate::indicators::{CodeValues, TableCodes, TableIndicator, TableValues};
use crate::model::{Indicator, Period, PeriodCoverage, PeriodValues, ReportedCode};
// At its old path: the CLI names it `districts::join::JoinReport`.
pub use crate::model::JoinReport;

/// A local government reorganisation that changed GSS codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reorganisation {
    /// Date it took effect (ISO 8601).
    pub effective: &'static str,
    /// Short name, e.g. `Buckinghamshire`.
    pub name: &'static str,
    /// New codes with their names.
    pub new: &'static [(&'static str, &'static str)],
    /// Codes that ceased (or were recoded) with their names.
    pub old: &'static [(&'static str, &'static str)],
}

/// Code changes of local authority districts since the 2011 Census that the staged data
/// straddle, one entry per new district (so a hint names only the districts it was made of). Source: ONS Open Geography, "Code History Database" and the ONS Geography
/// "Changes to local authority districts" notes for each year (e.g. "Local Authority District
/// (LAD) changes 2019/2020/2021/2023"). The 2018/19 Scottish recodes followed minor boundary
/// changes; Barnsley/Sheffield were recoded after a minor boundary change (the ONS data files
/// note "Obsolete code since 2025 (replaced by E08000038 Barnsley)").
pub const REORGANISATIONS: &[Reorganisation] = &[
    Reorganisation {
        effective: "2018",
        name: "Fife recode",
        new: &[("S12000047", "Fife")],
        old: &[("S12000015", "Fife")],
    },
    Reorganisation {
        effective: "2018",
        name: "Perth and Kinross recode",
        new: &[("S12000048", "Perth and Kinross")],
        old: &[("S12000024", "Perth and Kinross")],
    },
    Reorganisation {
        effective: "2019",
        name: "Glasgow City recode",
        new: &[("S12000049", "Glasgow City")],
        old: &[("S12000046", "Glasgow City")],
    },
    Reorganisation {
        effective: "2019",
        name: "North Lanarkshire recode",
        new: &[("S12000050", "North Lanarkshire")],
        old: &[("S12000044", "North Lanarkshire")],
    },
    Reorganisation {
        effective: "2019-04-01",
        name: "Bournemouth, Christchurch and Poole",
        new: &[("E06000058", "Bournemouth, Christchurch and Poole")],
        old: &[
            ("E06000028", "Bournemouth"),
            ("E06000029", "Poole"),
            ("E07000048", "Christchurch"),
        ],
    },
    Reorganisation {
        effective: "2019-04-01",
        name: "Dorset",
        new: &[("E06000059", "Dorset")],
        old: &[
            ("E07000049", "East Dorset"),
            ("E07000050", "North Dorset"),
            ("E07000051", "Purbeck"),
            ("E07000052", "West Dorset"),
            ("E07000053", "Weymouth and Portland"),
        ],
    },
    Reorganisation {
        effective: "2019-04-01",
        name: "East Suffolk",
        new: &[("E07000244", "East Suffolk")],
        old: &[("E07000205", "Suffolk Coastal"), ("E07000206", "Waveney")],
    },
    Reorganisation {
        effective: "2019-04-01",
        name: "West Suffolk",
        new: &[("E07000245", "West Suffolk")],
        old: &[
            ("E07000201", "Forest Heath"),
            ("E07000204", "St Edmundsbury"),
        ],
    },
    Reorganisation {
        effective: "2019-04-01",
        name: "Somerset West and Taunton",
        new: &[("E07000246", "Somerset West and Taunton")],
        old: &[
            ("E07000190", "Taunton Deane"),
            ("E07000191", "West Somerset"),
        ],
    },
    Reorganisation {
        effective: "2020-04-01",
        name: "Buckinghamshire",
        new: &[("E06000060", "Buckinghamshire")],
        old: &[
            ("E07000004", "Aylesbury Vale"),
            ("E07000005", "Chiltern"),
            ("E07000006", "South Bucks"),
            ("E07000007", "Wycombe"),
        ],
    },
    Reorganisation {
        effective: "2021-04-01",
        name: "North Northamptonshire",
        new: &[("E06000061", "North Northamptonshire")],
        old: &[
            ("E07000150", "Corby"),
            ("E07000152", "East Northamptonshire"),
            ("E07000153", "Kettering"),
            ("E07000156", "Wellingborough"),
        ],
    },
    Reorganisation {
        effective: "2021-04-01",
        name: "West Northamptonshire",
        new: &[("E06000062", "West Northamptonshire")],
        old: &[
            ("E07000151", "Daventry"),
            ("E07000154", "Northampton"),
            ("E07000155", "South Northamptonshire"),
        ],
    },
    Reorganisation {
        effective: "2023-04-01",
        name: "Cumberland",
        new: &[("E06000063", "Cumberland")],
        old: &[
            ("E07000026", "Allerdale"),
            ("E07000028", "Carlisle"),
            ("E07000029", "Copeland"),
        ],
    },
    Reorganisation {
        effective: "2023-04-01",
        name: "Westmorland and Furness",
        new: &[("E06000064", "Westmorland and Furness")],
        old: &[
            ("E07000027", "Barrow-in-Furness"),
            ("E07000030", "Eden"),
            ("E07000031", "South Lakeland"),
        ],
    },
    Reorganisation {
        effective: "2023-04-01",
        name: "North Yorkshire",
        new: &[("E06000065", "North Yorkshire")],
        old: &[
            ("E07000163", "Craven"),
            ("E07000164", "Hambleton"),
            ("E07000165", "Harrogate"),
            ("E07000166", "Richmondshire"),
            ("E07000167", "Ryedale"),
            ("E07000168", "Scarborough"),
            ("E07000169", "Selby"),
        ],
    },
    Reorganisation {
        effective: "2023-04-01",
        name: "Somerset",
        new: &[("E06000066", "Somerset")],
        old: &[
            ("E07000187", "Mendip"),
            ("E07000188", "Sedgemoor"),
            ("E07000189", "South Somerset"),
            ("E07000246", "Somerset West and Taunton"),
        ],
    },
    Reorganisation {
        effective: "2025",
        name: "Barnsley recode",
        new: &[("E08000038", "Barnsley")],
        old: &[("E08000016", "Barnsley")],
    },
    Reorganisation {
        effective: "2025",
        name: "Sheffield recode",
        new: &[("E08000039", "Sheffield")],
        old: &[("E08000019", "Sheffield")],
    },
];

/// A hint for a code that did not match: which reorganisation explains it, if any. A code can
/// be both new in one reorganisation and old in a later one (Somerset West and Taunton); every
/// applicable note is given.
///
/// ```
/// let hint = districts::join::reorganisation_hint("E06000060").unwrap();
/// assert!(hint.contains("created 2020-04-01"));
/// assert!(hint.contains("E07000004"));
/// let hint = districts::join::reorganisation_hint("E07000246").unwrap();
/// assert!(hint.contains("created 2019-04-01") && hint.contains("replaced 2023-04-01"));
/// assert!(districts::join::reorganisation_hint("E06000001").is_none());
/// // North Northamptonshire was made of four districts, not all seven of the county.
/// let hint = districts::join::reorganisation_hint("E06000061").unwrap();
/// assert!(hint.contains("E07000150 Corby") && !hint.contains("E07000154"));
/// ```
pub fn reorganisation_hint(code: &str) -> Option<String> {
    let code = normalise_code(code);
    let list = |codes: &[(&str, &str)]| {
        codes
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut notes = Vec::new();
    for r in REORGANISATIONS {
        if r.new.iter().any(|(c, _)| *c == code) {
            notes.push(format!(
                "created {} ({}) from {}",
                r.effective,
                r.name,
                list(r.old)
            ));
        }
        if r.old.iter().any(|(c, _)| *c == code) {
            notes.push(format!(
                "replaced {} ({}) by {}",
                r.effective,
                r.name,
                list(r.new)
            ));
        }
    }
    if is_new_lsoa21(&code) {
        notes.push("new in 2021 (an LSOA split or merged in the 2021 revision); no boundary of it is loaded".into());
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The last English LSOA code of 2011; ONS numbered the LSOAs made in the 2021 revision after it
/// (and kept the code of every LSOA whose boundary did not change).
const LAST_E01_2011: u32 = 33_768;

/// Why a 2011 LSOA has no value in a table of 2021 LSOAs (to follow a count in a legend).
const LSOA_SPLIT: &str =
    "split or merged in the 2021 LSOA revision; the source publishes the 2021 areas only";

/// Whether `code` is an English LSOA code first issued in 2021.
fn is_new_lsoa21(code: &str) -> bool {
    code.strip_prefix("E01")
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| n > LAST_E01_2011)
}

/// The boundary side of a join: a layer's codes in district order.
#[derive(Clone, Copy, Debug)]
pub struct LayerCodes<'a> {
    /// Layer id, for the report.
    pub layer_id: &'a str,
    /// Codes in district order (normalised, see [`normalise_code`]).
    pub codes: &'a [String],
    /// Names in district order, or empty.
    pub names: &'a [String],
    /// Codes the loader found more than once in the boundary file (reported, not matched twice).
    pub duplicate_codes: &'a [String],
    /// The per-layer lookups built once for many joins ([`PreparedCodes`]); built per join if absent.
    pub prepared: Option<&'a PreparedCodes<'a>>,
    /// Code histories (the catalogue's merge lookups) that explain codes of other vintages.
    pub lineages: &'a [Arc<crate::lineage::Lineage>],
}

/// What every join to one layer needs, built once per layer rather than once per indicator:
/// code positions, repeated boundary codes and the kinds of code the layer holds.
#[derive(Debug)]
pub struct PreparedCodes<'a> {
    /// Code -> first district with it; foldhash because every data row of every join looks
    /// a code up here (SipHash was most of the join's time).
    positions: FastMap<&'a str, usize>,
    /// Whether each district is the first with its code (only the first takes a value).
    first_of_code: Vec<bool>,
    boundary_duplicates: Vec<String>,
    boundary_kinds: HashSet<String>,
    /// Per table (keyed by the address of its shared [`TableCodes`], which the entry keeps
    /// alive): table code id -> district position, or [`NO_DISTRICT`]. Built by the first join
    /// of each table, so its other indicators and periods look no code up.
    table_positions: Mutex<FastMap<usize, TablePositions>>,
}

/// A table's codes and, by code id, the district each one lands on.
type TablePositions = (Arc<TableCodes>, Arc<Vec<u32>>);

/// A table code with no district in the layer.
const NO_DISTRICT: u32 = u32::MAX;

impl<'a> PreparedCodes<'a> {
    /// Builds the lookups of a layer's codes.
    ///
    /// ```
    /// use districts::join::{LayerCodes, PreparedCodes};
    /// let codes = vec!["E06000001".to_string()];
    /// let layer = LayerCodes::new("lad19", &codes);
    /// let prepared = PreparedCodes::new(&layer);
    /// let layer = layer.with_prepared(&prepared);
    /// assert!(layer.prepared.is_some());
    /// ```
    pub fn new(layer: &LayerCodes<'a>) -> Self {
        let positions: FastMap<&str, usize> = layer
            .codes
            .iter()
            .enumerate()
            .rev() // the first district with a code wins
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut boundary_duplicates: Vec<String> = layer.duplicate_codes.to_vec();
        let mut seen = HashSet::new();
        for c in layer.codes {
            if !seen.insert(c.as_str()) {
                boundary_duplicates.push(c.clone());
            }
        }
        boundary_duplicates.sort();
        boundary_duplicates.dedup();
        let first_of_code = layer
            .codes
            .iter()
            .enumerate()
            .map(|(i, c)| positions.get(c.as_str()) == Some(&i))
            .collect();
        let boundary_kinds = layer.codes.iter().map(|c| code_kind(c)).collect();
        PreparedCodes {
            positions,
            first_of_code,
            boundary_duplicates,
            boundary_kinds,
            table_positions: Mutex::default(),
        }
    }

    /// Table code id -> district position for the table these codes belong to, cached.
    fn table_positions(&self, codes: &Arc<TableCodes>) -> Arc<Vec<u32>> {
        let key = Arc::as_ptr(codes) as usize;
        let lock = || {
            self.table_positions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, v)) = lock().get(&key) {
            return Arc::clone(v);
        }
        let v: Arc<Vec<u32>> = Arc::new(
            codes
                .list()
                .iter()
                .map(|c| {
                    self.positions
                        .get(c.as_str())
                        .map_or(NO_DISTRICT, |&i| i as u32)
                })
                .collect(),
        );
        let mut map = lock();
        let entry = map
            .entry(key)
            .or_insert_with(|| (Arc::clone(codes), Arc::clone(&v)));
        Arc::clone(&entry.1)
    }
}

impl<'a> LayerCodes<'a> {
    /// Codes only (no names, no known duplicates).
    pub fn new(layer_id: &'a str, codes: &'a [String]) -> Self {
        LayerCodes {
            layer_id,
            codes,
            names: &[],
            duplicate_codes: &[],
            prepared: None,
            lineages: &[],
        }
    }

    /// With the code histories that explain codes of other vintages (hints name which
    /// district an old code became, or what a new one was made of).
    pub fn with_lineages(mut self, lineages: &'a [Arc<crate::lineage::Lineage>]) -> Self {
        self.lineages = lineages;
        self
    }

    /// With names in district order, for readable reports.
    pub fn with_names(mut self, names: &'a [String]) -> Self {
        self.names = names;
        self
    }

    /// With duplicate codes found by the loader.
    pub fn with_duplicates(mut self, duplicate_codes: &'a [String]) -> Self {
        self.duplicate_codes = duplicate_codes;
        self
    }

    /// With lookups prepared once for many joins to this layer.
    pub fn with_prepared(mut self, prepared: &'a PreparedCodes<'a>) -> Self {
        self.prepared = Some(prepared);
        self
    }
}

/// The kind of a GSS code: its three-character entity prefix (`E06`, `S12`); other keys (ITL
/// `TLC3`, `na`) are their letters up to the first digit, or the whole key.
fn code_kind(code: &str) -> String {
    let b = code.as_bytes();
    if b.len() == 9 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit) {
        return code[..3].to_string();
    }
    let end = code
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(code.len());
    if end == 0 {
        code.to_string()
    } else {
        code[..end].to_string()
    }
}

/// Aligns one indicator's periods with a layer's districts and reports the match.
/// Unmatched districts keep `None`. Codes are matched by the layer's own codes, so a
/// multi-vintage table (old and new codes in one period) joins each layer to its vintage.
///
/// ```
/// use std::collections::HashMap;
/// use districts::indicators::{TableIndicator, TablePeriod, TableValues};
/// use districts::join::{join_values, LayerCodes};
/// use districts::model::PeriodValues;
/// let table = TableIndicator {
///     id: "pay".into(), categorical: false,
///     periods: vec![TablePeriod { label: "2021".into(), values: TableValues::Numeric(HashMap::from([
///         ("E06000001".to_string(), Some(500.0)),
///         ("E06000060".to_string(), Some(600.0)),
///         ("E12000001".to_string(), Some(480.0)),
///     ]).into()) }],
///     duplicates: vec![], categories: vec![], names: Default::default(), path: "pay.csv".into(),
/// };
/// let codes = vec!["E06000001".to_string(), "E07000004".to_string()];
/// let (periods, report) = join_values(&LayerCodes::new("lad19", &codes), &table);
/// match &periods[0].values {
///     PeriodValues::Numeric(v) => assert_eq!(v, &vec![Some(500.0), None]),
///     PeriodValues::Categorical(_) => unreachable!(),
/// }
/// assert_eq!(report.matched, 1);
/// assert_eq!(report.data_without_boundary[0].code, "E06000060");
/// assert!(report.data_without_boundary[0].hint.as_deref().unwrap().contains("Buckinghamshire"));
/// assert_eq!(report.not_district_codes["E12"], 1);
/// ```
pub fn join_values(layer: &LayerCodes<'_>, table: &TableIndicator) -> (Vec<Period>, JoinReport) {
    let local;
    let prepared = match layer.prepared {
        Some(p) => p,
        None => {
            local = PreparedCodes::new(layer);
            &local
        }
    };
    let positions = &prepared.positions;
    let boundary_duplicates = prepared.boundary_duplicates.clone();

    let n = layer.codes.len();
    let mut has_row = vec![false; n];
    let mut periods = Vec::with_capacity(table.periods.len());
    let mut coverage = Vec::with_capacity(table.periods.len());
    let mut data_codes: HashSet<&str> = HashSet::new();
    for p in &table.periods {
        // One pass over the data rows, one lookup each: a code's first district takes the
        // value (a repeated boundary code takes none); codes with no district are kept for
        // the report.
        let table_pos = prepared.table_positions(p.values.table_codes());
        let (values, with_row, with_value) = match &p.values {
            TableValues::Numeric(map) => {
                let mut v = vec![None; n];
                let (rows, vals) =
                    align(map, &table_pos, &mut has_row, &mut data_codes, |i, cell| {
                        v[i] = *cell;
                        cell.is_some()
                    });
                (PeriodValues::Numeric(v), rows, vals)
            }
            TableValues::Categorical(map) => {
                let mut v = vec![None; n];
                let (rows, vals) =
                    align(map, &table_pos, &mut has_row, &mut data_codes, |i, cell| {
                        v[i].clone_from(cell);
                        cell.is_some()
                    });
                (PeriodValues::Categorical(v), rows, vals)
            }
        };
        periods.push(Period {
            label: p.label.clone(),
            values,
        });
        coverage.push(PeriodCoverage {
            label: p.label.clone(),
            with_row,
            with_value,
        });
    }

    let boundary_kinds = &prepared.boundary_kinds;
    let mut data_without_boundary = Vec::new();
    let mut not_district_codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut sorted_codes: Vec<&str> = data_codes.into_iter().collect();
    sorted_codes.sort_unstable();
    for code in sorted_codes {
        if positions.contains_key(code) {
            continue;
        }
        let kind = code_kind(code);
        if boundary_kinds.contains(&kind) {
            data_without_boundary.push(ReportedCode {
                code: code.to_string(),
                name: table.names.get(code).cloned(),
                hint: crate::recombine::lineage_hint(layer.lineages, code)
                    .or_else(|| reorganisation_hint(code)),
            });
        } else {
            *not_district_codes.entry(kind).or_default() += 1;
        }
    }

    // A table of 2021 LSOAs on the 2011 layer: the areas it lacks were split or merged.
    let table_is_lsoa21 = data_without_boundary.iter().any(|r| is_new_lsoa21(&r.code));
    let boundaries_without_data = layer
        .codes
        .iter()
        .enumerate()
        .filter(|(i, _)| !has_row[*i] && prepared.first_of_code[*i])
        .map(|(i, c)| ReportedCode {
            code: c.clone(),
            name: layer.names.get(i).cloned(),
            hint: if table_is_lsoa21 && c.starts_with("E01") {
                Some(LSOA_SPLIT.into())
            } else {
                crate::recombine::lineage_hint(layer.lineages, c).or_else(|| reorganisation_hint(c))
            },
        })
        .collect::<Vec<ReportedCode>>();
    // The same reason travels with the indicator, so legends, tooltips and exports say why
    // those areas are blank.
    let no_data_reasons = if table_is_lsoa21 {
        boundaries_without_data
            .iter()
            .filter(|r| r.code.starts_with("E01"))
            .map(|r| crate::model::NoDataReason {
                code: r.code.clone(),
                name: r.name.clone(),
                period: None,
                reason: format!(
                    "LSOA {} was split or merged in the 2021 LSOA revision; the source publishes the 2021 areas only",
                    r.code
                ),
                summary: LSOA_SPLIT.into(),
            })
            .collect()
    } else {
        Vec::new()
    };

    let report = JoinReport {
        indicator: table.id.clone(),
        file: table.path.display().to_string(),
        layer: layer.layer_id.to_string(),
        boundary_count: n,
        matched: has_row.iter().filter(|&&h| h).count(),
        boundaries_without_data,
        data_without_boundary,
        not_district_codes,
        boundary_duplicates,
        data_duplicates: table.duplicates.clone(),
        coverage,
        recombined: Vec::new(),
        no_data_reasons,
    };
    (periods, report)
}

/// Places one period's data rows on the layer's districts: `put(district, cell)` stores a cell
/// and says whether it holds a value. Returns (districts with a row, districts with a value);
/// data codes with no district go to `unmatched`. `table_pos` maps the values' code ids to
/// districts (see [`PreparedCodes`]).
fn align<'m, V>(
    values: &'m CodeValues<V>,
    table_pos: &[u32],
    has_row: &mut [bool],
    unmatched: &mut HashSet<&'m str>,
    mut put: impl FnMut(usize, &V) -> bool,
) -> (usize, usize) {
    let (mut rows, mut vals) = (0, 0);
    for (id, cell) in values.entries() {
        match table_pos[*id as usize] {
            NO_DISTRICT => {
                unmatched.insert(values.table_codes().code(*id).as_str());
            }
            i => {
                let i = i as usize;
                has_row[i] = true;
                rows += 1;
                if put(i, cell) {
                    vals += 1;
                }
            }
        }
    }
    (rows, vals)
}

/// Joins a table indicator to a layer and wraps it as a layer [`Indicator`]: metadata from the
/// catalogue (with the category labels filled in), aligned periods, the default period (the
/// catalogue's if the data has it, else the latest) and the report.
///
/// ```
/// use std::collections::HashMap;
/// use districts::catalog::{Direction, IndicatorMeta, Provenance};
/// use districts::indicators::{TableIndicator, TablePeriod, TableValues};
/// use districts::join::{join_indicator, LayerCodes};
/// let table = TableIndicator {
///     id: "x".into(), categorical: false, duplicates: vec![], categories: vec![],
///     names: Default::default(), path: "x.csv".into(),
///     periods: ["2020", "2021"].iter().map(|l| TablePeriod { label: l.to_string(),
///         values: TableValues::Numeric(HashMap::from([("E06000001".to_string(), Some(1.0))]).into()) }).collect(),
/// };
/// let meta = IndicatorMeta { id: "x".into(), title: "X".into(), unit: "%".into(),
///     direction: Direction::Neutral, source: "s".into(),
///     provenance: Provenance { licence: "OGL-3.0".into(), attribution: "a".into(), ..Default::default() },
///     file: "x.csv".into(), categorical: false, source_id: "s".into(),
///     default_period: None, periods_note: None, description: None, style: None, ordinal: None };
/// let codes = vec!["E06000001".to_string()];
/// let ind = join_indicator(meta, &LayerCodes::new("lad19", &codes), &table);
/// assert_eq!(ind.default_period, "2021");
/// assert_eq!(ind.report.matched, 1);
/// ```
pub fn join_indicator(
    meta: IndicatorMeta,
    layer: &LayerCodes<'_>,
    table: &TableIndicator,
) -> Indicator {
    let (periods, report) = join_values(layer, table);
    let default_period = meta
        .default_period
        .clone()
        .filter(|d| periods.iter().any(|p| &p.label == d))
        .or_else(|| periods.last().map(|p| p.label.clone()))
        .unwrap_or_default();
    Indicator {
        meta,
        periods,
        default_period,
        report,
    }
}
