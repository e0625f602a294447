//! Groups of districts compared: by region, by the 2011 area classification, by country, or
//! a user list against the rest. Per group: count, mean, weighted mean, median, quartiles,
//! min and max with district names; the gap between two groups and between the top and
//! bottom quintile of districts; every district's rank nationally and within its group.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use districts::codes::normalise_code;

use crate::aggregate::check_len;
use crate::error::AnalysisError;
use crate::table::{Cell, Table};

/// Which group each district belongs to, aligned with the district list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grouping {
    /// What the groups are, e.g. `region`, `area_classification_subgroup`, `country`.
    pub kind: String,
    /// Group key of each district (`None`: in no group).
    pub labels: Vec<Option<String>>,
    /// Display names of group keys where the key is a code (e.g. `6a2r` -> `Mining Legacy`).
    pub names: HashMap<String, String>,
}

/// Level of the 2011 area classification for local authorities (codes like `6a2r`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassLevel {
    /// e.g. `6r` Services and Industrial Legacy.
    Supergroup,
    /// e.g. `6ar` Services Manufacturing and Mining Legacy.
    Group,
    /// e.g. `6a2r` Mining Legacy.
    Subgroup,
}

impl Grouping {
    /// Groups from one label per district (e.g. the `region_name` attribute).
    pub fn from_labels(kind: &str, labels: Vec<Option<String>>) -> Self {
        Grouping {
            kind: kind.to_string(),
            labels: labels
                .into_iter()
                .map(|l| l.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
                .collect(),
            names: HashMap::new(),
        }
    }

    /// Groups through a lookup table from district code to group (e.g. LAD17CD -> RGN11NM).
    pub fn from_lookup<S: AsRef<str>>(
        kind: &str,
        codes: &[S],
        lookup: &HashMap<String, String>,
    ) -> Self {
        let lookup: HashMap<String, &String> =
            lookup.iter().map(|(k, v)| (normalise_code(k), v)).collect();
        let labels = codes
            .iter()
            .map(|c| {
                lookup
                    .get(&normalise_code(c.as_ref()))
                    .map(|s| (*s).clone())
            })
            .collect();
        Grouping::from_labels(kind, labels)
    }

    /// Groups by country, from the first letter of the GSS code (E, W, S, N).
    ///
    /// ```
    /// let g = analysis::Grouping::by_country(&["E06000001", "W06000001", "X1"]);
    /// assert_eq!(g.labels, vec![Some("England".to_string()), Some("Wales".to_string()), None]);
    /// ```
    pub fn by_country<S: AsRef<str>>(codes: &[S]) -> Self {
        let labels = codes
            .iter()
            .map(|c| {
                match normalise_code(c.as_ref()).chars().next() {
                    Some('E') => Some("England"),
                    Some('W') => Some("Wales"),
                    Some('S') => Some("Scotland"),
                    Some('N') => Some("Northern Ireland"),
                    _ => None,
                }
                .map(str::to_string)
            })
            .collect();
        Grouping::from_labels("country", labels)
    }

    /// A user list of codes against every other district (`rest`). Unknown codes are an error.
    ///
    /// ```
    /// let g = analysis::Grouping::from_code_list(&["A", "B", "C"], "mine", &["b"]).unwrap();
    /// assert_eq!(g.labels[1].as_deref(), Some("mine"));
    /// assert_eq!(g.labels[0].as_deref(), Some("rest"));
    /// assert!(analysis::Grouping::from_code_list(&["A"], "mine", &["Z"]).is_err());
    /// ```
    pub fn from_code_list<S: AsRef<str>, T: AsRef<str>>(
        codes: &[S],
        name: &str,
        members: &[T],
    ) -> Result<Self, AnalysisError> {
        let all: Vec<String> = codes.iter().map(|c| normalise_code(c.as_ref())).collect();
        let mut chosen = std::collections::HashSet::new();
        for m in members {
            let m = normalise_code(m.as_ref());
            if !all.contains(&m) {
                return Err(AnalysisError::UnknownCode { code: m });
            }
            chosen.insert(m);
        }
        let labels = all
            .iter()
            .map(|c| Some(if chosen.contains(c) { name } else { "rest" }.to_string()))
            .collect();
        Ok(Grouping::from_labels("code_list", labels))
    }

    /// Groups by the 2011 area classification at `level`, from each district's subgroup code
    /// (e.g. `LACCD` of `lad17_area_classification_2011.csv`); `names` maps codes of any level
    /// to names (e.g. from `la_classification_2011_hierarchy_names.csv`).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use analysis::compare::{ClassLevel, Grouping};
    /// let class = HashMap::from([("E06000001".to_string(), "6a2r".to_string())]);
    /// let g = Grouping::area_classification(&["E06000001"], &class, ClassLevel::Group, HashMap::new());
    /// assert_eq!(g.labels[0].as_deref(), Some("6ar"));
    /// ```
    pub fn area_classification<S: AsRef<str>>(
        codes: &[S],
        subgroup_of: &HashMap<String, String>,
        level: ClassLevel,
        names: HashMap<String, String>,
    ) -> Self {
        let subgroup_of: HashMap<String, &String> = subgroup_of
            .iter()
            .map(|(k, v)| (normalise_code(k), v))
            .collect();
        let labels = codes
            .iter()
            .map(|c| {
                subgroup_of
                    .get(&normalise_code(c.as_ref()))
                    .and_then(|sub| class_at_level(sub, level))
            })
            .collect();
        let kind = match level {
            ClassLevel::Supergroup => "area_classification_supergroup",
            ClassLevel::Group => "area_classification_group",
            ClassLevel::Subgroup => "area_classification_subgroup",
        };
        let mut g = Grouping::from_labels(kind, labels);
        g.names = names;
        g
    }

    /// The group keys, sorted.
    pub fn groups(&self) -> Vec<String> {
        let mut g: Vec<String> = self.labels.iter().flatten().cloned().collect();
        g.sort();
        g.dedup();
        g
    }

    /// Finds a group by key or display name (case-insensitive), e.g. `6a2r` or `Mining Legacy`.
    pub fn resolve(&self, query: &str) -> Result<String, AnalysisError> {
        let q = query.trim().to_lowercase();
        let groups = self.groups();
        if let Some(g) = groups.iter().find(|g| g.to_lowercase() == q) {
            return Ok(g.clone());
        }
        if let Some(g) = groups.iter().find(|g| {
            self.names
                .get(*g)
                .is_some_and(|n| n.trim().to_lowercase() == q)
        }) {
            return Ok(g.clone());
        }
        Err(AnalysisError::UnknownGroup {
            group: query.to_string(),
            known: groups
                .iter()
                .map(|g| match self.names.get(g) {
                    Some(n) => format!("{g} ({n})"),
                    None => g.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Positions of the districts in group `key`.
    pub fn members(&self, key: &str) -> Vec<usize> {
        self.labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.as_deref() == Some(key))
            .map(|(i, _)| i)
            .collect()
    }
}

/// `6a2r` -> `6r` / `6ar` / `6a2r` (digit, letter, digit, `r`).
fn class_at_level(subgroup: &str, level: ClassLevel) -> Option<String> {
    let s = subgroup.trim().to_ascii_lowercase();
    let c: Vec<char> = s.chars().collect();
    let valid = c.len() == 4
        && c[0].is_ascii_digit()
        && c[1].is_ascii_lowercase()
        && c[2].is_ascii_digit()
        && c[3] == 'r';
    if !valid {
        return None;
    }
    Some(match level {
        ClassLevel::Supergroup => format!("{}r", c[0]),
        ClassLevel::Group => format!("{}{}r", c[0], c[1]),
        ClassLevel::Subgroup => s,
    })
}

/// A district with its value, for the extremes of a group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedValue {
    /// District code.
    pub code: String,
    /// District name.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// A district a statistic leaves out or treats specially, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistrictNote {
    /// District code.
    pub code: String,
    /// District name.
    pub name: String,
    /// Why: "no value for 2021 in the source", "merged in 2019 from ...; not carried: ...".
    pub reason: String,
}

/// Summary statistics of one group's values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupSummary {
    /// Group key.
    pub group: String,
    /// Display name if known.
    pub name: Option<String>,
    /// Districts with a value.
    pub count: usize,
    /// Districts in the group without a value.
    pub missing: usize,
    /// Those districts, by code and name, with the reason where one is known.
    pub without_value: Vec<DistrictNote>,
    /// Plain mean.
    pub mean: f64,
    /// Weighted mean when weights were given and usable.
    pub weighted_mean: Option<f64>,
    /// Median and quartiles (numpy's linear interpolation).
    pub median: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Lowest value and its district.
    pub min: NamedValue,
    /// Highest value and its district.
    pub max: NamedValue,
}

/// "E06000053 Isles of Scilly (no value); ..." for a CSV cell.
fn notes_text(notes: &[DistrictNote]) -> String {
    notes
        .iter()
        .map(|d| format!("{} {} ({})", d.code, d.name, d.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Linear-interpolated quantile of sorted data (numpy's default `linear` method).
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Summarises the values of the districts at `members` (positions in `codes`).
///
/// ```
/// use analysis::summarise_group;
/// let codes = ["A", "B", "C", "D"];
/// let names = ["Ay", "Bee", "Sea", "Dee"];
/// let values = [Some(1.0), Some(2.0), Some(10.0), None];
/// let s = summarise_group("g", &codes, &names, &values, None, &[0, 1, 2, 3]).unwrap();
/// assert_eq!((s.count, s.missing, s.median), (3, 1, 2.0));
/// assert_eq!(s.max.name, "Sea");
/// ```
pub fn summarise_group<S: AsRef<str>, N: AsRef<str>>(
    group: &str,
    codes: &[S],
    names: &[N],
    values: &[Option<f64>],
    weights: Option<&[Option<f64>]>,
    members: &[usize],
) -> Result<GroupSummary, AnalysisError> {
    check_len("names", codes.len(), names.len())?;
    check_len("values", codes.len(), values.len())?;
    if let Some(w) = weights {
        check_len("weights", codes.len(), w.len())?;
    }
    let mut present: Vec<(usize, f64)> = Vec::with_capacity(members.len());
    let mut without_value = Vec::new();
    for &i in members {
        match values.get(i).copied().flatten().filter(|v| v.is_finite()) {
            Some(v) => present.push((i, v)),
            None => without_value.push(DistrictNote {
                code: codes[i].as_ref().to_string(),
                name: names[i].as_ref().to_string(),
                reason: "no value".to_string(),
            }),
        }
    }
    let missing = without_value.len();
    if present.is_empty() {
        return Err(AnalysisError::EmptyGroup {
            group: group.to_string(),
        });
    }
    let mut sorted: Vec<f64> = present.iter().map(|(_, v)| *v).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let named = |&(i, v): &(usize, f64)| NamedValue {
        code: codes[i].as_ref().to_string(),
        name: names[i].as_ref().to_string(),
        value: v,
    };
    // First occurrence wins on ties, so the result does not depend on sort stability.
    let min = present
        .iter()
        .fold(present[0], |m, p| if p.1 < m.1 { *p } else { m });
    let max = present
        .iter()
        .fold(present[0], |m, p| if p.1 > m.1 { *p } else { m });
    let weighted_mean = weights.and_then(|w| {
        let (sw, swv) = present.iter().fold((0.0, 0.0), |(sw, swv), &(i, v)| {
            match w[i].filter(|w| w.is_finite() && *w > 0.0) {
                Some(w) => (sw + w, swv + w * v),
                None => (sw, swv),
            }
        });
        (sw > 0.0).then(|| swv / sw)
    });
    let q = |p| quantile_sorted(&sorted, p).unwrap_or(f64::NAN);
    Ok(GroupSummary {
        group: group.to_string(),
        name: None,
        count: present.len(),
        missing,
        without_value,
        mean: sorted.iter().sum::<f64>() / n,
        weighted_mean,
        median: q(0.5),
        q1: q(0.25),
        q3: q(0.75),
        min: named(&min),
        max: named(&max),
    })
}

/// Which end of the scale is rank 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankOrder {
    /// Rank 1 is the highest value (e.g. IMD score: most deprived first).
    HighestFirst,
    /// Rank 1 is the lowest value.
    LowestFirst,
}

/// A district's rank nationally (among all districts with a value) and within its group.
/// Ties share the best rank ("1224" competition ranking).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DistrictRank {
    /// District code.
    pub code: String,
    /// District name.
    pub name: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// Its value.
    pub value: f64,
    /// Rank among all districts with a value.
    pub rank: usize,
    /// Number of districts ranked nationally.
    pub of: usize,
    /// Rank within its group.
    pub rank_in_group: Option<usize>,
    /// Number of districts with a value in its group.
    pub of_in_group: Option<usize>,
}

fn competition_ranks(vals: &[(usize, f64)], order: RankOrder) -> HashMap<usize, usize> {
    let mut v = vals.to_vec();
    v.sort_by(|a, b| match order {
        RankOrder::HighestFirst => b.1.total_cmp(&a.1),
        RankOrder::LowestFirst => a.1.total_cmp(&b.1),
    });
    let mut out = HashMap::with_capacity(v.len());
    let mut rank = 0;
    for (k, &(i, x)) in v.iter().enumerate() {
        if k == 0 || x != v[k - 1].1 {
            rank = k + 1;
        }
        out.insert(i, rank);
    }
    out
}

/// Ranks every district with a value nationally and within its group (districts without a
/// value are left out).
///
/// ```
/// use analysis::{rank_districts, Grouping, RankOrder};
/// let g = Grouping::from_labels("r", vec![Some("N".into()), Some("S".into()), Some("N".into())]);
/// let r = rank_districts(&["A", "B", "C"], &["a", "b", "c"], &[Some(3.0), Some(9.0), Some(5.0)], &g, RankOrder::HighestFirst).unwrap();
/// assert_eq!(r.iter().map(|d| d.rank).collect::<Vec<_>>(), vec![3, 1, 2]);
/// assert_eq!(r[0].rank_in_group, Some(2));
/// ```
pub fn rank_districts<S: AsRef<str>, N: AsRef<str>>(
    codes: &[S],
    names: &[N],
    values: &[Option<f64>],
    grouping: &Grouping,
    order: RankOrder,
) -> Result<Vec<DistrictRank>, AnalysisError> {
    check_len("names", codes.len(), names.len())?;
    check_len("values", codes.len(), values.len())?;
    check_len("grouping", codes.len(), grouping.labels.len())?;
    let present: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    let national = competition_ranks(&present, order);
    let mut by_group: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for &(i, v) in &present {
        if let Some(g) = grouping.labels[i].as_deref() {
            by_group.entry(g).or_default().push((i, v));
        }
    }
    let mut in_group = HashMap::new();
    let mut group_size = HashMap::new();
    for (g, vals) in &by_group {
        group_size.insert(*g, vals.len());
        in_group.extend(competition_ranks(vals, order));
    }
    Ok(present
        .iter()
        .map(|&(i, v)| {
            let group = grouping.labels[i].clone();
            DistrictRank {
                code: codes[i].as_ref().to_string(),
                name: names[i].as_ref().to_string(),
                value: v,
                rank: national.get(&i).copied().unwrap_or(0),
                of: present.len(),
                rank_in_group: in_group.get(&i).copied(),
                of_in_group: group.as_deref().and_then(|g| group_size.get(g).copied()),
                group,
            }
        })
        .collect())
}

/// Mean of the top and bottom quintile of districts and their gap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuintileGap {
    /// Districts in each quintile: `floor(n / 5)` of the `n` with a value.
    pub per_quintile: usize,
    /// Mean of the highest fifth.
    pub top_mean: f64,
    /// Mean of the lowest fifth.
    pub bottom_mean: f64,
    /// `top_mean - bottom_mean`.
    pub gap: f64,
    /// `top_mean / bottom_mean` (`None` when the bottom mean is 0).
    pub ratio: Option<f64>,
}

/// Two groups compared, with every group's summary and every district's ranks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// What the groups are (the grouping's kind).
    pub kind: String,
    /// The first group.
    pub a: GroupSummary,
    /// The second group, or every other district with a group (`rest`).
    pub b: GroupSummary,
    /// `a.mean - b.mean`.
    pub gap_mean: f64,
    /// `a.median - b.median`.
    pub gap_median: f64,
    /// `a.weighted_mean - b.weighted_mean` when both exist.
    pub gap_weighted_mean: Option<f64>,
    /// Top against bottom quintile of all districts with a value.
    pub quintiles: QuintileGap,
    /// Summary of every group of the grouping (groups with no value are skipped).
    pub groups: Vec<GroupSummary>,
    /// Districts in scope without a group (no class, no region), by code and name, with why.
    pub without_group: Vec<DistrictNote>,
    /// Districts whose group was carried from their former districts (all shared it), and how.
    pub carried: Vec<DistrictNote>,
    /// Every district's ranks.
    pub ranks: Vec<DistrictRank>,
}

impl Comparison {
    /// Table form of the group summaries: the two compared groups first, then all groups.
    pub fn to_table(&self) -> Table {
        let mut t = Table::new(&[
            "group",
            "name",
            "count",
            "missing",
            "mean",
            "weighted_mean",
            "median",
            "q1",
            "q3",
            "min",
            "min_code",
            "min_name",
            "max",
            "max_code",
            "max_name",
            "without_value",
        ]);
        for g in [&self.a, &self.b].into_iter().chain(self.groups.iter()) {
            t.push(vec![
                Cell::from(g.group.as_str()),
                Cell::from(g.name.clone()),
                Cell::from(g.count),
                Cell::from(g.missing),
                Cell::from(g.mean),
                Cell::from(g.weighted_mean),
                Cell::from(g.median),
                Cell::from(g.q1),
                Cell::from(g.q3),
                Cell::from(g.min.value),
                Cell::from(g.min.code.as_str()),
                Cell::from(g.min.name.as_str()),
                Cell::from(g.max.value),
                Cell::from(g.max.code.as_str()),
                Cell::from(g.max.name.as_str()),
                Cell::from(notes_text(&g.without_value)),
            ]);
        }
        t
    }

    /// Every district the comparison leaves out or treats specially, one row each:
    /// `code, name, group, status, reason` where status is `without_value` (in a group, no
    /// value), `without_group` (in scope, no group) or `group_carried` (its group carried from
    /// its former districts).
    pub fn exclusions_table(&self) -> Table {
        let mut t = Table::new(&["code", "name", "group", "status", "reason"]);
        let mut seen = std::collections::HashSet::new();
        for g in [&self.a, &self.b].into_iter().chain(self.groups.iter()) {
            for d in &g.without_value {
                // Once each: the compared group first (a district is in `b` and in its own
                // group of `groups` too).
                if seen.insert(d.code.clone()) {
                    t.push(vec![
                        Cell::from(d.code.as_str()),
                        Cell::from(d.name.as_str()),
                        Cell::from(g.name.clone().unwrap_or_else(|| g.group.clone())),
                        Cell::from("without_value"),
                        Cell::from(d.reason.as_str()),
                    ]);
                }
            }
        }
        for (status, list) in [
            ("without_group", &self.without_group),
            ("group_carried", &self.carried),
        ] {
            for d in list {
                t.push(vec![
                    Cell::from(d.code.as_str()),
                    Cell::from(d.name.as_str()),
                    Cell::from(None::<String>),
                    Cell::from(status),
                    Cell::from(d.reason.as_str()),
                ]);
            }
        }
        t
    }

    /// Table form of the ranks: `code, name, group, value, rank, of, rank_in_group, of_in_group`.
    pub fn ranks_table(&self) -> Table {
        let mut t = Table::new(&[
            "code",
            "name",
            "group",
            "value",
            "rank",
            "of",
            "rank_in_group",
            "of_in_group",
        ]);
        for r in &self.ranks {
            t.push(vec![
                Cell::from(r.code.as_str()),
                Cell::from(r.name.as_str()),
                Cell::from(r.group.clone()),
                Cell::from(r.value),
                Cell::from(r.rank),
                Cell::from(r.of),
                Cell::from(r.rank_in_group),
                Cell::from(r.of_in_group),
            ]);
        }
        t
    }
}

/// Compares group `a` with group `b` (or, with `b = None`, with every other district that
/// has a group). Groups are found by key or name ([`Grouping::resolve`]).
///
/// ```
/// use analysis::{compare_groups, Grouping, RankOrder};
/// let g = Grouping::from_labels("region", vec![Some("N".into()), Some("N".into()), Some("S".into()), Some("S".into()), Some("S".into())]);
/// let v = [Some(30.0), Some(20.0), Some(10.0), Some(12.0), Some(8.0)];
/// let c = compare_groups(&["A", "B", "C", "D", "E"], &["a", "b", "c", "d", "e"], &v, None, &g, "n", None, RankOrder::HighestFirst).unwrap();
/// assert_eq!(c.gap_mean, 15.0);
/// assert_eq!(c.quintiles.gap, 30.0 - 8.0);
/// assert!(compare_groups(&["A"], &["a"], &[Some(1.0)], None, &Grouping::by_country(&["A"]), "Wales", None, RankOrder::HighestFirst).is_err());
/// ```
#[allow(clippy::too_many_arguments)]
pub fn compare_groups<S: AsRef<str>, N: AsRef<str>>(
    codes: &[S],
    names: &[N],
    values: &[Option<f64>],
    weights: Option<&[Option<f64>]>,
    grouping: &Grouping,
    a: &str,
    b: Option<&str>,
    order: RankOrder,
) -> Result<Comparison, AnalysisError> {
    check_len("grouping", codes.len(), grouping.labels.len())?;
    let key_a = grouping.resolve(a)?;
    let members_a = grouping.members(&key_a);
    let (key_b, members_b) = match b {
        Some(b) => {
            let k = grouping.resolve(b)?;
            let m = grouping.members(&k);
            (k, m)
        }
        None => {
            let m = grouping
                .labels
                .iter()
                .enumerate()
                .filter(|(_, l)| l.as_deref().is_some_and(|l| l != key_a))
                .map(|(i, _)| i)
                .collect();
            (format!("not {key_a}"), m)
        }
    };
    let with_name = |mut s: GroupSummary, key: &str| {
        s.name = grouping.names.get(key).cloned();
        s
    };
    let sa = with_name(
        summarise_group(&key_a, codes, names, values, weights, &members_a)?,
        &key_a,
    );
    let sb = with_name(
        summarise_group(&key_b, codes, names, values, weights, &members_b)?,
        &key_b,
    );
    let mut groups = Vec::new();
    for g in grouping.groups() {
        match summarise_group(&g, codes, names, values, weights, &grouping.members(&g)) {
            Ok(s) => groups.push(with_name(s, &g)),
            Err(AnalysisError::EmptyGroup { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let quintiles = quintile_gap(values)?;
    Ok(Comparison {
        kind: grouping.kind.clone(),
        gap_mean: sa.mean - sb.mean,
        gap_median: sa.median - sb.median,
        gap_weighted_mean: sa.weighted_mean.zip(sb.weighted_mean).map(|(x, y)| x - y),
        a: sa,
        b: sb,
        quintiles,
        groups,
        without_group: codes
            .iter()
            .zip(names)
            .zip(&grouping.labels)
            .filter(|(_, l)| l.is_none())
            .map(|((c, n), _)| DistrictNote {
                code: c.as_ref().to_string(),
                name: n.as_ref().to_string(),
                reason: format!("no {} value", grouping.kind),
            })
            .collect(),
        carried: Vec::new(),
        ranks: rank_districts(codes, names, values, grouping, order)?,
    })
}

/// Top against bottom quintile of all values present; needs at least 5 values.
pub fn quintile_gap(values: &[Option<f64>]) -> Result<QuintileGap, AnalysisError> {
    let mut v: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if v.len() < 5 {
        return Err(AnalysisError::TooFewValues {
            statistic: "quintile gap",
            needed: 5,
            got: v.len(),
        });
    }
    v.sort_by(f64::total_cmp);
    let k = v.len() / 5;
    let bottom_mean = v[..k].iter().sum::<f64>() / k as f64;
    let top_mean = v[v.len() - k..].iter().sum::<f64>() / k as f64;
    Ok(QuintileGap {
        per_quintile: k,
        top_mean,
        bottom_mean,
        gap: top_mean - bottom_mean,
        ratio: (bottom_mean != 0.0).then(|| top_mean / bottom_mean),
    })
}
