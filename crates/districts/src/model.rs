//! The value model: districts, indicators joined to a layer with their periods of values, and
//! the report of how a join went. Plain data, produced by [`crate::join`] and
//! [`crate::layer`] and read by everything downstream (tiles, exports, analysis).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::catalog::IndicatorMeta;
use crate::geometry::{Mercator, Wgs84};
use crate::indicators::DuplicateKey;

/// One district (or small area) of a layer.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct District {
    /// GSS code as published (trimmed, upper case), e.g. `E06000001`.
    pub code: String,
    /// Name as published, e.g. `Hartlepool`.
    pub name: String,
    /// Boundary in WGS84, kept for GeoJSON output and lookups.
    pub wgs84: Wgs84,
    /// Boundary in Web Mercator, for rendering.
    pub mercator: Mercator,
    /// Further attributes the catalogue asks to keep (e.g. `region_name`, `lad19cd`).
    pub attributes: Vec<(String, String)>,
}

/// Values of one indicator for one period, aligned with [`Layer::districts`](crate::Layer::districts).
#[derive(Clone, Debug)]
pub struct Period {
    /// Period label as shown to users: `2021`, `2020/21`.
    pub label: String,
    /// The values by district position; `None` is "no data" (suppressed, missing or unmatched).
    pub values: PeriodValues,
}

/// Numeric values, or category labels for a classification (e.g. the area classification).
#[derive(Clone, Debug)]
pub enum PeriodValues {
    /// One number (or none) per district, in layer order.
    Numeric(Vec<Option<f64>>),
    /// One category label (or none) per district, in layer order.
    Categorical(Vec<Option<String>>),
}

/// An indicator joined to a layer: metadata, every published period, the join report.
#[derive(Clone, Debug)]
pub struct Indicator {
    /// What it measures: id, title, unit, direction, source and credit.
    pub meta: IndicatorMeta,
    /// Periods in chronological order.
    pub periods: Vec<Period>,
    /// The label of the period shown by default (from the catalogue, else the latest).
    pub default_period: String,
    /// How the table's codes met the layer's codes.
    pub report: JoinReport,
}

impl Indicator {
    /// The period with this label.
    pub fn period(&self, label: &str) -> Option<&Period> {
        self.periods.iter().find(|p| p.label == label)
    }

    /// Why the district `code` has no value in `period`, where a boundary change explains it
    /// (the note for that period, else the note for every period).
    pub fn no_data_reason(&self, code: &str, period: &str) -> Option<&NoDataReason> {
        let notes = self
            .report
            .no_data_reasons
            .iter()
            .filter(|r| r.code == code);
        let mut all = None;
        for r in notes {
            match &r.period {
                Some(p) if p == period => return Some(r),
                None => all = all.or(Some(r)),
                Some(_) => {}
            }
        }
        all
    }
}

/// Why a district has no value: the source follows another vintage of the boundaries (a
/// merged district whose former districts the source publishes and which cannot be
/// recombined, or a former district the source publishes only merged).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoDataReason {
    /// District code.
    pub code: String,
    /// District name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The period it applies to; `None` for every period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The reason in full, naming the districts: "merged in 2023 from E07000026 Allerdale,
    /// E07000028 Carlisle, E07000029 Copeland; the source publishes the former districts only".
    pub reason: String,
    /// The reason without names, to follow a count in a legend ("4 districts merged in 2023;
    /// the source publishes the former districts only").
    pub summary: String,
}

/// A merged district whose value placemap made from its former districts' values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecombinedCode {
    /// District code.
    pub code: String,
    /// District name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How: "sum of E07000026 Allerdale, E07000028 Carlisle, E07000029 Copeland".
    pub how: String,
    /// The periods recombined.
    pub periods: Vec<String>,
}

/// A code in a report, with its name and a reorganisation hint where one applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportedCode {
    /// GSS code.
    pub code: String,
    /// Name, if the boundary file or the table gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why it may not match (a known reorganisation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Districts with a value in one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodCoverage {
    /// Period label.
    pub label: String,
    /// Boundary districts with a row in this period (suppressed or not).
    pub with_row: usize,
    /// Boundary districts with a value (not suppressed) in this period.
    pub with_value: usize,
}

/// How a table's codes met a layer's codes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JoinReport {
    /// Indicator id.
    pub indicator: String,
    /// Data file of the indicator.
    pub file: String,
    /// Layer id.
    pub layer: String,
    /// Number of districts in the layer.
    pub boundary_count: usize,
    /// Districts with a row in at least one period.
    pub matched: usize,
    /// Districts with no row in any period.
    pub boundaries_without_data: Vec<ReportedCode>,
    /// Data codes of the layer's kind (same code prefixes) with no district.
    pub data_without_boundary: Vec<ReportedCode>,
    /// Data codes of other kinds (counties, regions, nations...), not failures: count by prefix.
    pub not_district_codes: BTreeMap<String, usize>,
    /// Codes that occur more than once in the boundary file.
    pub boundary_duplicates: Vec<String>,
    /// Repeated (code, period) keys in the data (the first row was kept).
    pub data_duplicates: Vec<DuplicateKey>,
    /// Coverage of each period.
    pub coverage: Vec<PeriodCoverage>,
    /// Merged districts whose values were recombined from their former districts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recombined: Vec<RecombinedCode>,
    /// Districts without a value because of a boundary change, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_data_reasons: Vec<NoDataReason>,
}

impl JoinReport {
    /// Total count of data codes that are not district codes.
    pub fn not_district_total(&self) -> usize {
        self.not_district_codes.values().sum()
    }

    /// Whether every district matched and no district-kind data code was left over.
    pub fn is_complete(&self) -> bool {
        self.boundaries_without_data.is_empty()
            && self.data_without_boundary.is_empty()
            && self.boundary_duplicates.is_empty()
    }
}

fn write_codes(f: &mut fmt::Formatter<'_>, codes: &[ReportedCode]) -> fmt::Result {
    for c in codes {
        write!(f, "    {}", c.code)?;
        if let Some(n) = &c.name {
            write!(f, " {n}")?;
        }
        if let Some(h) = &c.hint {
            write!(f, "  [hint: {h}]")?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for JoinReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "join {} -> {} ({})",
            self.indicator, self.layer, self.file
        )?;
        writeln!(
            f,
            "  matched {} of {} districts",
            self.matched, self.boundary_count
        )?;
        writeln!(
            f,
            "  districts with no data: {}",
            self.boundaries_without_data.len()
        )?;
        write_codes(f, &self.boundaries_without_data)?;
        writeln!(
            f,
            "  data codes with no district: {}",
            self.data_without_boundary.len()
        )?;
        write_codes(f, &self.data_without_boundary)?;
        if !self.not_district_codes.is_empty() {
            let kinds: Vec<String> = self
                .not_district_codes
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            writeln!(
                f,
                "  not district codes: {} ({})",
                self.not_district_total(),
                kinds.join(", ")
            )?;
        }
        if !self.boundary_duplicates.is_empty() {
            writeln!(
                f,
                "  duplicate codes in the boundaries: {}",
                self.boundary_duplicates.join(", ")
            )?;
        }
        if !self.data_duplicates.is_empty() {
            writeln!(
                f,
                "  duplicate (code, period) rows in the data, first kept: {}",
                self.data_duplicates.len()
            )?;
            for d in &self.data_duplicates {
                writeln!(
                    f,
                    "    {} {}: line {} repeats line {}{}",
                    d.code,
                    d.period,
                    d.line,
                    d.first_line,
                    if d.same_value {
                        " (same value)"
                    } else {
                        " (different value)"
                    }
                )?;
            }
        }
        if !self.recombined.is_empty() {
            writeln!(
                f,
                "  recombined from former districts: {}",
                self.recombined.len()
            )?;
            for r in &self.recombined {
                writeln!(
                    f,
                    "    {}{}: {} ({})",
                    r.code,
                    r.name
                        .as_deref()
                        .map(|n| format!(" {n}"))
                        .unwrap_or_default(),
                    r.how,
                    r.periods.join(", ")
                )?;
            }
        }
        if !self.no_data_reasons.is_empty() {
            writeln!(
                f,
                "  no data because of a boundary change: {}",
                self.no_data_reasons.len()
            )?;
            for r in &self.no_data_reasons {
                writeln!(
                    f,
                    "    {}{}{}: {}",
                    r.code,
                    r.name
                        .as_deref()
                        .map(|n| format!(" {n}"))
                        .unwrap_or_default(),
                    r.period
                        .as_deref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default(),
                    r.reason
                )?;
            }
        }
        if !self.coverage.is_empty() {
            writeln!(f, "  coverage (districts with a value / with a row):")?;
            for c in &self.coverage {
                writeln!(f, "    {}: {} / {}", c.label, c.with_value, c.with_row)?;
            }
        }
        Ok(())
    }
}
