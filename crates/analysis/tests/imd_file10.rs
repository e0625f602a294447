//! Reproduces IMD 2019 File 10 (local authority district summaries) from the LSOA files:
//! population-weighted average rank and the proportion of LSOAs in the most deprived decile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::HashMap;

use analysis::aggregate::ClassRule;
use analysis::{Aggregation, aggregate, assign_by_lookup};
use common::{number, read_csv, round_dp};

const LSOA_CODE: &str = "LSOA code (2011)";
const LAD_CODE: &str = "Local Authority District code (2019)";
const TOTAL_POP: &str = "Total population: mid 2015 (excluding prisoners)";

struct Inputs {
    lsoa: Vec<String>,
    lookup: HashMap<String, String>,
    reversed_rank: Vec<Option<f64>>,
    decile: Vec<Option<f64>>,
    population: Vec<Option<f64>>,
    file10: Vec<HashMap<String, String>>,
}

fn inputs() -> Inputs {
    let file1 = read_csv("imd2019_lsoa_file1_imd.csv");
    let n = file1.len() as f64;
    let pop: HashMap<String, f64> = read_csv("imd2019_lsoa_file6_population.csv")
        .into_iter()
        .map(|r| (r[LSOA_CODE].clone(), number(&r[TOTAL_POP])))
        .collect();
    Inputs {
        lsoa: file1.iter().map(|r| r[LSOA_CODE].clone()).collect(),
        lookup: file1
            .iter()
            .map(|r| (r[LSOA_CODE].clone(), r[LAD_CODE].clone()))
            .collect(),
        // File 10 ranks LSOAs the other way round for its summaries: the most deprived LSOA
        // counts as rank 32,844 (= n + 1 - File 1 rank), so a higher average is more deprived.
        reversed_rank: file1
            .iter()
            .map(|r| Some(n + 1.0 - number(&r["Index of Multiple Deprivation (IMD) Rank"])))
            .collect(),
        decile: file1
            .iter()
            .map(|r| Some(number(&r["Index of Multiple Deprivation (IMD) Decile"])))
            .collect(),
        population: file1
            .iter()
            .map(|r| pop.get(&r[LSOA_CODE]).copied())
            .collect(),
        file10: read_csv("imd2019_lad_summaries_file10.csv"),
    }
}

#[test]
fn reproduces_file10_average_rank_and_most_deprived_decile_share() {
    let d = inputs();
    assert_eq!(d.lsoa.len(), 32_844);
    let lads: Vec<String> = d.file10.iter().map(|r| r[LAD_CODE].clone()).collect();
    assert_eq!(lads.len(), 317);
    let assignment = assign_by_lookup(&d.lsoa, &d.lookup, &lads);
    assert!(
        assignment.unassigned.is_empty(),
        "{:?}",
        &assignment.unassigned[..3.min(assignment.unassigned.len())]
    );

    let avg = aggregate(
        &d.lsoa,
        &d.reversed_rank,
        Some(&d.population),
        &assignment,
        Aggregation::WeightedMean,
    )
    .unwrap();
    assert_eq!(
        avg.exclusions.count(),
        0,
        "File 6 has a positive population for every LSOA"
    );
    let share = aggregate(
        &d.lsoa,
        &d.decile,
        None,
        &assignment,
        Aggregation::Share(ClassRule::Equal(1.0)),
    )
    .unwrap();

    let mut exact_2dp = 0;
    let mut worst: (f64, &str) = (0.0, "");
    for (row, lad) in d.file10.iter().zip(&lads) {
        // Proportion in the most deprived 10%: exact to the published 4 dp for every district,
        // with the published (Excel) rounding, half away from zero (0.03125 -> 0.0313).
        let p = share.row(lad).unwrap().value.unwrap();
        let published = number(&row["IMD - Proportion of LSOAs in most deprived 10% nationally"]);
        assert_eq!(round_dp(p, 4), published, "{lad}: proportion {p}");

        let a = avg.row(lad).unwrap().value.unwrap();
        let published = number(&row["IMD - Average rank"]);
        if round_dp(a, 2) == published {
            exact_2dp += 1;
        }
        let diff = (a - published).abs();
        if diff > worst.0 {
            worst = (diff, lad);
        }
        // The File 6 populations as published are whole people excluding prisoners; MHCLG's
        // weights differ slightly in some districts (see the report), never by more than a
        // few hundred-thousandths of the rank scale.
        assert!(
            diff < 0.15,
            "{lad}: average rank {a} vs published {published}"
        );
    }
    // Exact to 2 dp for the large majority; the rest off by < 0.15 of a rank (see
    // `average_rank_misses_are_one_person_weight_differences` for why).
    eprintln!("IMD average rank exact to 2 dp in {exact_2dp}/317; worst {worst:?}");
    assert!(
        exact_2dp >= 255,
        "only {exact_2dp}/317 average ranks exact to 2 dp; worst {worst:?}"
    );

    // The order of districts is reproduced exactly: "IMD - Rank of average rank" (1 = most
    // deprived = highest average reversed rank).
    let mut order: Vec<(f64, &str)> = lads
        .iter()
        .map(|l| (avg.row(l).unwrap().value.unwrap(), l.as_str()))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    let rank_of: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (_, l))| (*l, i + 1))
        .collect();
    for (row, lad) in d.file10.iter().zip(&lads) {
        assert_eq!(
            rank_of[lad.as_str()] as f64,
            number(&row["IMD - Rank of average rank"]),
            "{lad}"
        );
    }
}

#[test]
fn other_population_columns_do_not_reproduce_file10() {
    // Evidence for which population MHCLG used: the age-band columns of File 6 are far off,
    // the total (excluding prisoners) is within 0.15.
    let d = inputs();
    let file6 = read_csv("imd2019_lsoa_file6_population.csv");
    let by_code: HashMap<&str, &HashMap<String, String>> =
        file6.iter().map(|r| (r[LSOA_CODE].as_str(), r)).collect();
    let lads: Vec<String> = d.file10.iter().map(|r| r[LAD_CODE].clone()).collect();
    let assignment = assign_by_lookup(&d.lsoa, &d.lookup, &lads);
    let published: Vec<f64> = d
        .file10
        .iter()
        .map(|r| number(&r["IMD - Average rank"]))
        .collect();
    for col in [
        "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
        "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    ] {
        let w: Vec<Option<f64>> = d
            .lsoa
            .iter()
            .map(|c| Some(number(&by_code[c.as_str()][col])))
            .collect();
        let r = aggregate(
            &d.lsoa,
            &d.reversed_rank,
            Some(&w),
            &assignment,
            Aggregation::WeightedMean,
        )
        .unwrap();
        let worst = r
            .rows
            .iter()
            .zip(&published)
            .map(|(row, p)| (row.value.unwrap() - p).abs())
            .fold(0.0, f64::max);
        assert!(worst > 100.0, "{col}: worst {worst}");
    }
}

#[test]
fn missing_and_zero_weights_are_reported_not_dropped_silently() {
    let mut d = inputs();
    let lads: Vec<String> = d.file10.iter().map(|r| r[LAD_CODE].clone()).collect();
    d.population[0] = None;
    d.population[1] = Some(0.0);
    d.population[2] = Some(-3.0);
    d.reversed_rank[3] = None;
    let mut lookup = d.lookup.clone();
    lookup.remove(&d.lsoa[4]);
    let assignment = assign_by_lookup(&d.lsoa, &lookup, &lads);
    let r = aggregate(
        &d.lsoa,
        &d.reversed_rank,
        Some(&d.population),
        &assignment,
        Aggregation::WeightedMean,
    )
    .unwrap();
    let e = &r.exclusions;
    assert_eq!(e.missing_weight, vec![d.lsoa[0].clone()]);
    assert_eq!(e.zero_weight, vec![d.lsoa[1].clone()]);
    assert_eq!(e.invalid_weight, vec![d.lsoa[2].clone()]);
    assert_eq!(e.missing_value, vec![d.lsoa[3].clone()]);
    assert_eq!(e.unassigned.len(), 1);
    assert_eq!(r.exclusions_table().rows.len(), 5);
    // Per district: assigned = its LSOAs minus the unassigned one, used = assigned minus the
    // four exclusions that fall in it.
    let lad0 = &d.lookup[&d.lsoa[0]];
    let in_lad0 = |i: usize| &d.lookup[&d.lsoa[i]] == lad0;
    let total = d.lsoa.iter().filter(|c| &d.lookup[*c] == lad0).count();
    let assigned = total - usize::from(in_lad0(4));
    let used = assigned - (0..4).filter(|&i| in_lad0(i)).count();
    let row = r.row(lad0).unwrap();
    assert_eq!((row.areas_assigned, row.areas_used), (assigned, used));
    // Missing weights with a weighted mean is an error, not a silent plain mean.
    assert!(
        aggregate(
            &d.lsoa,
            &d.reversed_rank,
            None,
            &assignment,
            Aggregation::WeightedMean
        )
        .is_err()
    );
}

/// File 2 rank column prefix and File 10 sheet name of every domain File 10 weights by the total
/// population (Employment uses the working-age population and the supplementary indices are not
/// in File 2).
const TOTAL_WEIGHTED_DOMAINS: [(&str, &str); 7] = [
    ("Index of Multiple Deprivation (IMD) Rank", "IMD"),
    ("Income Rank", "Income"),
    (
        "Education, Skills and Training Rank",
        "Education, Skills and Training",
    ),
    (
        "Health Deprivation and Disability Rank",
        "Health Deprivation and Disability",
    ),
    ("Crime Rank", "Crime"),
    (
        "Barriers to Housing and Services Rank",
        "Barriers to Housing and Services",
    ),
    ("Living Environment Rank", "Living Environment"),
];

/// Where the IMD average rank misses the published figure, the miss is a weight difference of
/// one person in one or two LSOAs, not a different method: adding one person to a single LSOA
/// of the district (or two LSOAs, or moving one person between two) reproduces all seven
/// total-population-weighted average ranks of File 10 at once, and exactly one LSOA (pair)
/// does. A chance fit of seven published figures by one of ~100 candidates is implausible, so
/// this pins the cause on MHCLG's weights, which differ from File 6 as published. The LSOAs it
/// finds are in towns with prisons (Bedford 010F, Winchester 005F, Chelmsford 010E, ...), which
/// suggests a difference in how prisoners were removed; the staged data cannot say which LSOAs
/// hold a prison.
#[test]
fn average_rank_misses_are_one_person_weight_differences() {
    let file2 = read_csv("imd2019_lsoa_file2_domains.csv");
    let n = file2.len() as f64;
    let header: Vec<&String> = file2[0].keys().collect();
    let columns: Vec<&String> = TOTAL_WEIGHTED_DOMAINS
        .iter()
        .map(|(prefix, _)| {
            *header
                .iter()
                .find(|h| h.starts_with(prefix))
                .unwrap_or_else(|| panic!("File 2 has no column {prefix}"))
        })
        .collect();
    let pop: HashMap<String, f64> = read_csv("imd2019_lsoa_file6_population.csv")
        .into_iter()
        .map(|r| (r[LSOA_CODE].clone(), number(&r[TOTAL_POP])))
        .collect();
    // Per district: (weight, reversed rank per domain) of each LSOA.
    let mut by_lad: HashMap<&str, Vec<(f64, [f64; 7])>> = HashMap::new();
    for r in &file2 {
        let mut ranks = [0.0; 7];
        for (k, c) in columns.iter().enumerate() {
            ranks[k] = n + 1.0 - number(&r[c.as_str()]);
        }
        by_lad
            .entry(r[LAD_CODE].as_str())
            .or_default()
            .push((pop[&r[LSOA_CODE]], ranks));
    }
    let file10 = read_csv("imd2019_lad_summaries_file10.csv");
    let (mut misses, mut explained) = (0, Vec::new());
    for row in &file10 {
        let lad = row[LAD_CODE].as_str();
        let published: Vec<f64> = TOTAL_WEIGHTED_DOMAINS
            .iter()
            .map(|(_, sheet)| number(&row[&format!("{sheet} - Average rank")]))
            .collect();
        let lsoas = &by_lad[lad];
        let mut sums = [0.0; 7];
        let mut total = 0.0;
        for (w, ranks) in lsoas {
            total += w;
            for k in 0..7 {
                sums[k] += w * ranks[k];
            }
        }
        // All seven averages with `delta[k]` added to the weighted sums and `dw` to the total.
        let matches = |delta: &dyn Fn(usize) -> f64, dw: f64| {
            (0..7).all(|k| round_dp((sums[k] + delta(k)) / (total + dw), 2) == published[k])
        };
        if round_dp(sums[0] / total, 2) == published[0] {
            continue;
        }
        misses += 1;
        let one: Vec<usize> = (0..lsoas.len())
            .filter(|&j| matches(&|k| lsoas[j].1[k], 1.0))
            .collect();
        if one.len() == 1 {
            explained.push(lad);
            continue;
        }
        let mut two = 0;
        let mut moved = 0;
        for i in 0..lsoas.len() {
            for j in 0..lsoas.len() {
                if i <= j && matches(&|k| lsoas[i].1[k] + lsoas[j].1[k], 2.0) {
                    two += 1;
                }
                if i != j && matches(&|k| lsoas[i].1[k] - lsoas[j].1[k], 0.0) {
                    moved += 1;
                }
            }
        }
        if two == 1 || moved == 1 {
            explained.push(lad);
        }
    }
    eprintln!(
        "{misses} IMD average ranks off at 2 dp; {} explained by a unique one-person change: {explained:?}",
        explained.len()
    );
    assert!(
        (45..=70).contains(&misses),
        "{misses} misses: the File 6 weights no longer behave as analysed"
    );
    assert!(
        explained.len() >= 25,
        "only {} of {misses} misses explained by one-person weight changes",
        explained.len()
    );
}
