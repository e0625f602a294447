//! Which district a code became, and which codes a district was made of: the history of a
//! merged layer (e.g. `lad23`), kept from its merge lookup so joins can explain old codes on
//! new districts (and the reverse) and recombine values where the catalogue says how.
//!
//! The lookup's rows are kept whole, chains resolved, including rows for districts merged
//! before the base layer's vintage (the 2020 Buckinghamshire members on LAD 2021): a table on
//! LAD 2019 codes still needs to know that E07000004 became E06000060.

use std::collections::BTreeMap;

use crate::codes::normalise_code;
use crate::dissolve::{MergePlan, MergeRow};

/// The lineage of a merged layer's districts.
#[derive(Clone, Debug, Default)]
pub struct Lineage {
    source: String,
    /// Old code -> its row (final new code after chains).
    by_old: BTreeMap<String, MergeRow>,
    /// New code -> the old codes it was made of, in lookup order.
    by_new: BTreeMap<String, Vec<String>>,
}

impl Lineage {
    /// The lineage recorded by a merge plan. Identity rows (`A -> A`, a district that kept its
    /// code) are not changes and are left out.
    ///
    /// ```
    /// use districts::dissolve::{MergeColumns, MergePlan};
    /// use districts::lineage::Lineage;
    /// let csv = "old_code,old_name,new_code,new_name,effective\n\
    ///            A,Ay,C,Sea,2023-04-01\nB,Bee,C,Sea,2023-04-01\nC,Sea,C,Sea,\n";
    /// let plan = MergePlan::from_reader(csv.as_bytes(), "inline", &MergeColumns::default())?;
    /// let lineage = Lineage::from_plan(&plan);
    /// assert_eq!(lineage.successor("a").map(|r| r.new_code.as_str()), Some("C"));
    /// assert_eq!(lineage.parts("C").len(), 2);
    /// assert_eq!(lineage.became("A").as_deref(), Some("became part of C Sea on 2023-04-01"));
    /// assert_eq!(lineage.made_from("C").as_deref(), Some("made on 2023-04-01 from A Ay, B Bee"));
    /// assert!(lineage.successor("C").is_none());
    /// # Ok::<(), districts::dissolve::MergeError>(())
    /// ```
    pub fn from_plan(plan: &MergePlan) -> Self {
        let mut by_old = BTreeMap::new();
        let mut by_new: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in plan.rows() {
            if row.old_code == row.new_code {
                continue;
            }
            by_new
                .entry(row.new_code.clone())
                .or_default()
                .push(row.old_code.clone());
            by_old.insert(row.old_code.clone(), row.clone());
        }
        Lineage {
            source: plan.source().to_string(),
            by_old,
            by_new,
        }
    }

    /// The lookup it was read from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The row of an old code: which district it ended up in (any case, stray spaces).
    pub fn successor(&self, old_code: &str) -> Option<&MergeRow> {
        self.by_old.get(&normalise_code(old_code))
    }

    /// The rows of the old codes a new district was made of (empty if it was not made by a
    /// merger).
    pub fn parts(&self, new_code: &str) -> Vec<&MergeRow> {
        self.by_new
            .get(&normalise_code(new_code))
            .map(|olds| olds.iter().filter_map(|o| self.by_old.get(o)).collect())
            .unwrap_or_default()
    }

    /// Every new district made by a merger, with its parts.
    pub fn merged(&self) -> impl Iterator<Item = (&str, Vec<&MergeRow>)> {
        self.by_new.keys().map(|n| (n.as_str(), self.parts(n)))
    }

    /// "became part of E06000063 Cumberland on 2023-04-01", for an old code.
    pub fn became(&self, old_code: &str) -> Option<String> {
        let row = self.successor(old_code)?;
        let mut s = format!("became part of {} {}", row.new_code, row.new_name);
        if !row.effective.is_empty() {
            s.push_str(&format!(" on {}", row.effective));
        }
        Some(s)
    }

    /// "made on 2023-04-01 from E07000026 Allerdale, ...", for a new code.
    pub fn made_from(&self, new_code: &str) -> Option<String> {
        let parts = self.parts(new_code);
        let first = parts.first()?;
        let list = parts
            .iter()
            .map(|r| {
                if r.old_name.is_empty() {
                    r.old_code.clone()
                } else {
                    format!("{} {}", r.old_code, r.old_name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        Some(if first.effective.is_empty() {
            format!("made from {list}")
        } else {
            format!("made on {} from {list}", first.effective)
        })
    }
}

/// The vintage of a district-code column: `LAD17CD` is 2017, `Local Authority District code
/// (2019)` is 2019; with the column of its names (`LAD17NM`, `... name (2019)`).
fn district_code_vintage(column: &str) -> Option<u16> {
    let c = column.trim();
    if let Some(yy) = c.strip_prefix("LAD").and_then(|r| r.strip_suffix("CD"))
        && yy.len() == 2
        && let Ok(yy) = yy.parse::<u16>()
    {
        return Some(2000 + yy);
    }
    let rest = c.strip_prefix("Local Authority District code (")?;
    rest.strip_suffix(')')?.parse().ok()
}

fn names_column_of(code_column: &str) -> String {
    if code_column.starts_with("LAD") {
        code_column.replacen("CD", "NM", 1)
    } else {
        code_column.replace("District code", "District name")
    }
}

/// Mergers between two vintages of district codes found through the small areas both lookups
/// key (LSOAs): an older code all of whose small areas lie in one newer district of another
/// code, and which is no newer district itself, became part of it (LAD 2017 -> 2019: Christchurch
/// into Bournemouth, Christchurch and Poole, East Dorset into Dorset...). Whole-district mergers
/// only: an older code split between newer districts is left out. `None` when the lookups hold
/// no two vintages over the same keys.
///
/// ```
/// use districts::indicators::LookupTable;
/// use std::collections::HashMap;
/// let t = |id: &str, cols: &[&str], rows: &[(&str, [&str; 2])]| LookupTable {
///     id: id.into(),
///     columns: cols.iter().map(|c| c.to_string()).collect(),
///     rows: rows.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect::<HashMap<_, _>>(),
///     keys: rows.iter().map(|(k, _)| k.to_string()).collect(),
/// };
/// let old = t("old", &["LAD17CD", "LAD17NM"], &[("L1", ["A", "Ay"]), ("L2", ["B", "Bee"]), ("L3", ["C", "Sea"])]);
/// let new = t("new", &["Local Authority District code (2019)", "Local Authority District name (2019)"],
///     &[("L1", ["N", "New"]), ("L2", ["N", "New"]), ("L3", ["C", "Sea"])]);
/// let l = districts::lineage::bridged_by_small_areas(&[old, new]).unwrap();
/// assert_eq!(l.made_from("N").as_deref(), Some("made from A Ay, B Bee"));
/// assert!(l.successor("C").is_none());
/// ```
pub fn bridged_by_small_areas(lookups: &[crate::indicators::LookupTable]) -> Option<Lineage> {
    use std::collections::{BTreeSet, HashMap};
    // (lookup, code column, name column, vintage)
    let mut cols = Vec::new();
    for (t, table) in lookups.iter().enumerate() {
        for (i, c) in table.columns.iter().enumerate() {
            if let Some(v) = district_code_vintage(c) {
                let name = table.columns.iter().position(|n| *n == names_column_of(c));
                cols.push((t, i, name, v));
            }
        }
    }
    let &(ot, oc, on, ov) = cols.iter().min_by_key(|c| c.3)?;
    let &(nt, nc, nn, nv) = cols.iter().max_by_key(|c| c.3)?;
    if ov == nv {
        return None;
    }
    let (old_t, new_t) = (&lookups[ot], &lookups[nt]);
    let mut into: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut old_names: HashMap<&str, &str> = HashMap::new();
    let mut new_names: HashMap<&str, &str> = HashMap::new();
    let mut new_codes: BTreeSet<&str> = BTreeSet::new();
    for (key, row) in &new_t.rows {
        let (Some(o), Some(n)) = (old_t.rows.get(key), row.get(nc)) else {
            continue;
        };
        let Some(old) = o.get(oc) else { continue };
        if old.is_empty() || n.is_empty() {
            continue;
        }
        into.entry(old.as_str()).or_default().insert(n.as_str());
        new_codes.insert(n.as_str());
        if let Some(name) = on.and_then(|i| o.get(i)) {
            old_names.insert(old.as_str(), name.as_str());
        }
        if let Some(name) = nn.and_then(|i| row.get(i)) {
            new_names.insert(n.as_str(), name.as_str());
        }
    }
    let mut changes: Vec<(&str, &str)> = into
        .iter()
        .filter(|(old, news)| news.len() == 1 && !new_codes.contains(*old))
        .filter_map(|(old, news)| news.iter().next().map(|n| (*old, *n)))
        .filter(|(old, new)| old != new)
        .collect();
    if changes.is_empty() {
        return None;
    }
    changes.sort_unstable();
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = ["old_code", "old_name", "new_code", "new_name"];
    w.write_record(header).ok()?;
    for (old, new) in changes {
        let on = old_names.get(old).copied().unwrap_or("");
        let nn = new_names.get(new).copied().unwrap_or("");
        w.write_record([old, on, new, nn]).ok()?;
    }
    let text = w.into_inner().ok()?;
    let source = format!(
        "{} {} and {} {} by shared keys",
        old_t.id, old_t.columns[oc], new_t.id, new_t.columns[nc]
    );
    let plan = crate::dissolve::MergePlan::from_reader(
        text.as_slice(),
        &source,
        &crate::dissolve::MergeColumns::default(),
    )
    .ok()?;
    Some(Lineage::from_plan(&plan))
}
