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
