//! Reproduces IMD 2019 File 10 (local authority district summaries) from the LSOA files:
//! population-weighted average rank and the proportion of LSOAs in the most deprived decile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
    // Exact to 2 dp for the large majority; the rest off by < 0.15 of a rank.
    assert!(
        exact_2dp >= 250,
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
