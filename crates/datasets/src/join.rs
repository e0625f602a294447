//! Joining a detected table to a layer, explaining every code that does not match: an
//! earlier or later vintage (with the reorganisation from `districts::join`), another nation,
//! another geography type, a duplicate (with its lines), or unknown.

use std::collections::BTreeMap;

use districts::join::REORGANISATIONS;
use serde::{Deserialize, Serialize};

use crate::codes::{is_aggregate_kind, kind, kind_name, nation};
use crate::detect::KnownLayer;
use crate::table::Table;

/// A code without a district, with why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unmatched {
    /// The code as written (normalised).
    pub code: String,
    /// Its line in the upload.
    pub line: u64,
    /// Why it did not match (earlier vintage, duplicate...).
    pub reason: String,
}

/// A code of an aggregate (region, county, nation...), not an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotDistrict {
    /// The code as written (normalised).
    pub code: String,
    /// Its line in the upload.
    pub line: u64,
    /// What kind of area it is (region, county, country...).
    pub kind: String,
}

/// A district of the layer with no row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    /// The district's code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// How the table met the layer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinSummary {
    /// The layer joined to.
    pub layer: String,
    /// Districts of the layer.
    pub districts: usize,
    /// Districts with a row.
    pub matched: usize,
    /// Districts of the layer with no row.
    pub districts_without_data: Vec<Missing>,
    /// Codes of other geography kinds (regions, nations...), not errors.
    pub not_districts: Vec<NotDistrict>,
    /// Codes that matched no district, each with its reason.
    pub unmatched: Vec<Unmatched>,
}

/// One indicator's values aligned with the layer's districts, by period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Joined {
    /// Indicator key within the dataset (column header made short).
    pub key: String,
    /// Header text of its column(s).
    pub title: String,
    /// `(period label, one value per district in layer order)`.
    pub periods: Vec<(String, Vec<Option<f64>>)>,
    /// Districts with a value in some period.
    pub matched: usize,
}

fn reason(code: &str, layer: &KnownLayer) -> String {
    let k = kind(code);
    let list = |codes: &[(&str, &str)]| {
        codes
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for r in REORGANISATIONS {
        if r.old.iter().any(|(c, _)| *c == code)
            && r.new.iter().any(|(c, _)| layer.positions.contains_key(*c))
        {
            return format!(
                "earlier vintage: replaced in {} ({}) by {}, which layer {} holds",
                r.effective,
                r.name,
                list(r.new),
                layer.id
            );
        }
        if r.new.iter().any(|(c, _)| *c == code)
            && r.old.iter().any(|(c, _)| layer.positions.contains_key(*c))
        {
            return format!(
                "later vintage: created in {} ({}) from {}, which layer {} holds",
                r.effective,
                r.name,
                list(r.old),
                layer.id
            );
        }
    }
    if crate::codes::is_lsoa_2021_only(code) && layer.kinds.contains("E01") {
        return format!(
            "later vintage: an LSOA created in 2021 (E01033769 and above are 2021 codes); layer {} has the 2011 LSOAs",
            layer.id
        );
    }
    let first = code.chars().next().unwrap_or('?');
    let district_kind = matches!(k, "E06" | "E07" | "E08" | "E09" | "W06" | "S12" | "N09");
    let same_type = layer.kinds.iter().any(|lk| lk.get(1..) == k.get(1..));
    if !layer.nations().contains(&first) && (district_kind || same_type) {
        return format!(
            "other nation: a code of {} ({}), layer {} covers {}",
            nation(code),
            kind_name(k),
            layer.id,
            layer
                .nations()
                .iter()
                .map(|c| nation(&c.to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !layer.kinds.contains(k) {
        return format!(
            "other geography type: a {} code ({k}); layer {} holds {}",
            kind_name(k),
            layer.id,
            layer.kinds.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    format!(
        "unknown: a {} code ({k}) that layer {} does not have (a typo, or a newer or older code)",
        kind_name(k),
        layer.id
    )
}

/// Joins `table` to `layer`.
pub fn join(table: &Table, layer: &KnownLayer) -> (Vec<Joined>, JoinSummary) {
    let n = layer.codes.len();
    let mut summary = JoinSummary {
        layer: layer.id.clone(),
        districts: n,
        ..Default::default()
    };
    // Row -> district position (None = unmatched); explain each unmatched code once per line.
    let mut has_row = vec![false; n];
    let mut row_pos: Vec<Option<usize>> = Vec::with_capacity(table.rows.len());
    // A long table repeats each code once per period (21 times in the 6,527-row pay table):
    // explain each code once, not once per row, as every stored version is joined at start-up.
    let mut reasons: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for row in &table.rows {
        let pos = layer.positions.get(&row.code).copied();
        if let Some(p) = pos {
            has_row[p] = true;
        } else if is_aggregate_kind(kind(&row.code)) && !layer.kinds.contains(kind(&row.code)) {
            summary.not_districts.push(NotDistrict {
                code: row.code.clone(),
                line: row.line,
                kind: kind_name(kind(&row.code)).into(),
            });
        } else {
            summary.unmatched.push(Unmatched {
                code: row.code.clone(),
                line: row.line,
                reason: reasons
                    .entry(row.code.as_str())
                    .or_insert_with(|| reason(&row.code, layer))
                    .clone(),
            });
        }
        row_pos.push(pos);
    }
    // Duplicates: the same code twice in one period (the first row is kept).
    let mut dup_lines: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    let mut joined = Vec::with_capacity(table.indicators.len());
    // The line that gave each district its value in the current period (a vector, not a map:
    // this loop runs for every value of every stored dataset at start-up).
    let mut first_line: Vec<Option<u64>> = vec![None; n];
    for ind in &table.indicators {
        let mut with_value = vec![false; n];
        let mut periods = Vec::with_capacity(ind.periods.len());
        for p in &ind.periods {
            let mut values: Vec<Option<f64>> = vec![None; n];
            first_line.iter_mut().for_each(|f| *f = None);
            for &(r, v) in &p.values {
                let Some(Some(pos)) = row_pos.get(r as usize) else {
                    continue;
                };
                let line = table.rows[r as usize].line;
                if let Some(first) = first_line[*pos] {
                    let e = dup_lines
                        .entry((table.rows[r as usize].code.clone(), p.label.clone()))
                        .or_insert_with(|| vec![first]);
                    if !e.contains(&line) {
                        e.push(line);
                    }
                    continue;
                }
                first_line[*pos] = Some(line);
                values[*pos] = v;
                if v.is_some() {
                    with_value[*pos] = true;
                }
            }
            periods.push((p.label.clone(), values));
        }
        joined.push(Joined {
            key: ind.key.clone(),
            title: ind.title.clone(),
            periods,
            matched: with_value.iter().filter(|b| **b).count(),
        });
    }
    let mut dup_by_code: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for ((code, _), lines) in dup_lines {
        let e = dup_by_code.entry(code).or_default();
        for l in lines {
            if !e.contains(&l) {
                e.push(l);
            }
        }
    }
    for (code, mut lines) in dup_by_code {
        lines.sort();
        let line = lines.get(1).copied().unwrap_or(0);
        summary.unmatched.push(Unmatched {
            reason: format!(
                "duplicate: the code is on lines {} (the first was used)",
                lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            code,
            line,
        });
    }
    summary.matched = has_row.iter().filter(|b| **b).count();
    summary.districts_without_data = has_row
        .iter()
        .enumerate()
        .filter(|(_, h)| !**h)
        .map(|(i, _)| Missing {
            code: layer.codes[i].clone(),
            name: layer.names.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    (joined, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{TableIndicator, TablePeriod, TableRow};

    fn layer() -> KnownLayer {
        let codes = ["E06000001", "E06000060", "E07000004", "E07000005"];
        KnownLayer::new(
            "lad21",
            "",
            codes.iter().map(std::string::ToString::to_string).collect(),
            vec![],
        )
    }

    #[test]
    fn every_unmatched_code_has_a_reason() {
        // E06000060 (2020) is in the layer, E07000004 too (an artificial mix, to test both).
        let l = KnownLayer::new(
            "lad21",
            "",
            vec!["E06000001".into(), "E06000060".into(), "E06000002".into()],
            vec![],
        );
        let codes = [
            "E06000001",
            "E07000004",
            "S12000033",
            "E01000001",
            "E06000099",
            "E12000001",
            "E06000001",
        ];
        let rows: Vec<TableRow> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| TableRow {
                line: i as u64 + 2,
                code: c.to_string(),
                name: String::new(),
            })
            .collect();
        let t = Table {
            indicators: vec![TableIndicator {
                key: "v".into(),
                title: "v".into(),
                periods: vec![TablePeriod {
                    label: "2020".into(),
                    values: (0..codes.len() as u32).map(|r| (r, Some(1.0))).collect(),
                }],
                markers: Default::default(),
            }],
            rows,
        };
        let (j, s) = join(&t, &l);
        assert_eq!(s.matched, 1);
        assert_eq!(j[0].matched, 1);
        assert_eq!(s.not_districts.len(), 1);
        let reasons: Vec<&str> = s.unmatched.iter().map(|u| u.reason.as_str()).collect();
        assert!(reasons[0].starts_with("earlier vintage"), "{reasons:?}");
        assert!(reasons[1].starts_with("other nation"), "{reasons:?}");
        assert!(
            reasons[2].starts_with("other geography type"),
            "{reasons:?}"
        );
        assert!(reasons[3].starts_with("unknown"), "{reasons:?}");
        assert!(
            reasons[4].starts_with("duplicate: the code is on lines 2, 8"),
            "{reasons:?}"
        );
        let _ = layer();
    }

    #[test]
    fn later_vintage_names_what_it_replaced() {
        let l = layer();
        assert!(
            reason(
                "E06000060",
                &KnownLayer::new("lad19", "", vec!["E07000004".into()], vec![])
            )
            .starts_with("later vintage")
        );
        assert!(reason("E06000099", &l).starts_with("unknown"));
    }
}
