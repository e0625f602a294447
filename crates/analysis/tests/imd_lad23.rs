//! IMD 2019 and 2025 on the April 2023 districts (`lad23`), recomputed from LSOAs by the
//! catalogue's derived indicators: 2025 from every row of the LSOA 2021 table grouped by its
//! LAD 2024 column, 2019 from the LSOA 2011 layer keyed by LAD 2019 codes carried through
//! lad23's lineage. Each is checked against File 10 of its release and, where File 10 has no
//! row (the merged districts) or is wrong (version 1), against a count made here from the
//! LSOA files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use crate::common::{number, read_csv, round_dp};
use crate::query_real::atlas;

/// Values of a lad23 indicator (default period) by district code.
fn lad23(id: &str) -> HashMap<String, Option<f64>> {
    let layer = atlas().layer("lad23").unwrap();
    let values = analysis::layer::numeric_values(layer, id, None).unwrap();
    layer
        .districts
        .iter()
        .map(|d| d.code.clone())
        .zip(values)
        .collect()
}

/// Share of LSOAs in decile 1 per district, counted from rows of an LSOA file.
fn decile1_shares(
    rows: &[HashMap<String, String>],
    district: &str,
    decile: &str,
) -> HashMap<String, (usize, usize)> {
    let mut n: HashMap<String, (usize, usize)> = HashMap::new();
    for r in rows {
        let e = n.entry(r[district].clone()).or_default();
        e.0 += usize::from(number(&r[decile]) == 1.0);
        e.1 += 1;
    }
    n
}

#[test]
fn imd2025_share_from_every_lsoa21_row_reproduces_file10_except_west_northamptonshire() {
    let ours = lad23("imd25_lsoa21_share_most_deprived_decile");
    let file10: Vec<(String, f64)> = read_csv("imd2025_lad24_summaries_long_trafford.csv")
        .into_iter()
        .filter(|r| r["index_domain"] == "Index of Multiple Deprivation")
        .map(|r| {
            (
                r["area_code"].clone(),
                number(&r["proportion_bottom_decile"]),
            )
        })
        .collect();
    assert_eq!(file10.len(), 296);
    let differ: Vec<&str> = file10
        .iter()
        .filter(|(code, published)| {
            let v = ours[code].unwrap_or_else(|| panic!("{code}: no value"));
            // The file's 4 decimals (R wrote 0.093 as 0.09300000000000001).
            round_dp(v, 4) != round_dp(*published, 4)
        })
        .map(|(c, _)| c.as_str())
        .collect();
    // File 10 version 1 (the long file's source) has West Northamptonshire's share as 0.0211;
    // its LSOAs in File 1 give 5/238 = 0.0210 (SOURCES.md, file 26), as version 2 does.
    assert_eq!(differ, ["E06000062"]);
    let lsoa21 = read_csv("imd2025_lsoa21_file1_imd.csv");
    assert_eq!(lsoa21.len(), 33_755);
    let decile = lsoa21[0]
        .keys()
        .find(|k| k.starts_with("Index of Multiple Deprivation (IMD) Decile"))
        .unwrap()
        .clone();
    let counts = decile1_shares(&lsoa21, "Local Authority District code (2024)", &decile);
    let (n1, n) = counts["E06000062"];
    let west = ours["E06000062"].unwrap();
    assert_eq!(west, n1 as f64 / n as f64);
    assert_eq!(round_dp(west, 4), 0.021);
    // Every row counted, the 1,945 LSOAs with no 2011 boundary included.
    let ind = atlas()
        .layer("lad23")
        .unwrap()
        .indicator("imd25_lsoa21_share_most_deprived_decile")
        .unwrap();
    assert_eq!(ind.report.matched, 296);
    let description = ind.meta.description.as_deref().unwrap();
    assert!(
        description.contains("33755 of 33755 areas assigned. Nothing excluded."),
        "{description}"
    );
    assert!(
        ind.meta
            .provenance
            .attribution
            .contains("English Indices of Deprivation 2025"),
        "{:?}",
        ind.meta.provenance
    );
    // The mean decile comes from the same rows.
    let mean = lad23("imd25_lsoa21_mean_decile");
    let mut sum: HashMap<&str, (f64, f64)> = HashMap::new();
    for r in &lsoa21 {
        let e = sum
            .entry(r["Local Authority District code (2024)"].as_str())
            .or_default();
        e.0 += number(&r[&decile]);
        e.1 += 1.0;
    }
    for (code, (s, k)) in sum {
        let v = mean[code].unwrap();
        assert!((v - s / k).abs() < 1e-12, "{code}: {v} vs {}", s / k);
    }
}

#[test]
fn imd2019_on_lad23_equals_file10_where_unchanged_and_counts_lsoas_of_merged_districts() {
    let share = lad23("imd19_lad23_share_most_deprived_decile");
    let rank = lad23("imd19_lad23_rank_pop_weighted");
    let layer = atlas().layer("lad23").unwrap();
    let lineage = layer.lineage.as_deref().expect("lad23 is a merged layer");
    let file10: HashMap<String, HashMap<String, String>> =
        read_csv("imd2019_lad_summaries_file10.csv")
            .into_iter()
            .map(|r| (r["Local Authority District code (2019)"].clone(), r))
            .collect();

    let mut unchanged = 0;
    let mut exact_rank = 0;
    for d in layer.districts.iter().filter(|d| d.code.starts_with('E')) {
        if !lineage.parts(&d.code).is_empty() {
            continue;
        }
        let row = &file10[&d.code];
        let s = share[&d.code].unwrap();
        let published = number(&row["IMD - Proportion of LSOAs in most deprived 10% nationally"]);
        // Exact at the published 4 decimals, rounded half away from zero as Excel does.
        assert_eq!(round_dp(s, 4), published, "{} {}", d.code, d.name);
        // File 10 counts ranks the other way (most deprived LSOA = 32,844): 32,845 - ours.
        let a = 32_845.0 - rank[&d.code].unwrap();
        let published = number(&row["IMD - Average rank"]);
        // Within the weight differences explained in imd_file10.rs (File 6 whole people).
        assert!(
            (a - published).abs() < 0.15,
            "{}: {a} vs {published}",
            d.code
        );
        exact_rank += usize::from(round_dp(a, 2) == published);
        unchanged += 1;
    }
    // 296 English districts, 7 of them made by the 2020-2023 mergers.
    assert_eq!(unchanged, 289);
    assert!(exact_rank >= 230, "{exact_rank}/289 exact to 2 dp");

    // The merged districts, counted here from File 1 and File 6 through the changes file.
    let file1 = read_csv("imd2019_lsoa_file1_imd.csv");
    let pop: HashMap<String, f64> = read_csv("imd2019_lsoa_file6_population.csv")
        .into_iter()
        .map(|r| {
            (
                r["LSOA code (2011)"].clone(),
                number(&r["Total population: mid 2015 (excluding prisoners)"]),
            )
        })
        .collect();
    let changes = read_csv("lad_changes_2019_2023_england.csv");
    let counts = decile1_shares(
        &file1,
        "Local Authority District code (2019)",
        "Index of Multiple Deprivation (IMD) Decile",
    );
    let mut merged = 0;
    for new in [
        "E06000060",
        "E06000061",
        "E06000062",
        "E06000063",
        "E06000064",
        "E06000065",
        "E06000066",
    ] {
        let old: Vec<&str> = changes
            .iter()
            .filter(|r| r["new_code"] == new)
            .map(|r| r["old_code"].as_str())
            .collect();
        assert!(old.len() >= 3, "{new}: {old:?}");
        let (n1, n) = old.iter().fold((0, 0), |(a, b), o| {
            let (x, y) = counts[*o];
            (a + x, b + y)
        });
        assert_eq!(share[new], Some(n1 as f64 / n as f64), "{new}");
        let (sw, swr) = file1
            .iter()
            .filter(|r| old.contains(&r["Local Authority District code (2019)"].as_str()))
            .fold((0.0, 0.0), |(sw, swr), r| {
                let w = pop[&r["LSOA code (2011)"]];
                (
                    sw + w,
                    swr + w * number(&r["Index of Multiple Deprivation (IMD) Rank"]),
                )
            });
        let r = rank[new].unwrap();
        assert!((r - swr / sw).abs() < 1e-6, "{new}: {r} vs {}", swr / sw);
        merged += 1;
    }
    assert_eq!(merged, 7);
    let ind = layer
        .indicator("imd19_lad23_share_most_deprived_decile")
        .unwrap();
    let description = ind.meta.description.as_deref().unwrap();
    assert!(
        description.contains("32844 of 32844 areas assigned"),
        "{description}"
    );
    assert!(
        description.contains("carried to the districts they became"),
        "{description}"
    );
    assert_eq!(ind.report.matched, 296);
}

#[test]
fn releases_series_holds_both_recomputed_shares_as_periods() {
    let layer = atlas().layer("lad23").unwrap();
    let series = layer
        .indicator("imd_share_most_deprived_decile_2019_2025")
        .unwrap();
    let labels: Vec<&str> = series.periods.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2019", "2025"]);
    assert_eq!(series.default_period, "2025");
    for (period, id) in [
        ("2019", "imd19_lad23_share_most_deprived_decile"),
        ("2025", "imd25_lsoa21_share_most_deprived_decile"),
    ] {
        let from_series =
            analysis::layer::numeric_values(layer, series.meta.id.as_str(), Some(period)).unwrap();
        let from_part = analysis::layer::numeric_values(layer, id, None).unwrap();
        assert_eq!(from_series, from_part, "{period}");
    }
    assert_eq!(series.report.matched, 296);
    let description = series.meta.description.as_deref().unwrap();
    assert!(
        description.contains("2019 = imd19_lad23_share_most_deprived_decile"),
        "{description}"
    );
    assert!(
        series
            .meta
            .provenance
            .attribution
            .contains("English Indices of Deprivation 2019")
            && series
                .meta
                .provenance
                .attribution
                .contains("English Indices of Deprivation 2025"),
        "{:?}",
        series.meta.provenance
    );
}

#[test]
fn file10_average_ranks_read_higher_as_more_deprived_like_the_scores() {
    // File 10 ranks LSOAs with the most deprived highest, so its average rank rises with the
    // average score; the catalogue must colour both the same way round.
    for (layer, rank, score) in [
        ("lad19", "imd_average_rank", "imd_score"),
        ("lad23", "imd25_average_rank", "imd25_score"),
    ] {
        let l = atlas().layer(layer).unwrap();
        let r = analysis::layer::numeric_values(l, rank, None).unwrap();
        let s = analysis::layer::numeric_values(l, score, None).unwrap();
        let c = analysis::correlate(&r, &s, analysis::CorrelationMethod::Spearman).unwrap();
        assert!(c.r > 0.9, "{layer}: Spearman {rank} ~ {score} = {}", c.r);
        assert_eq!(
            l.indicator(rank).unwrap().meta.direction,
            l.indicator(score).unwrap().meta.direction,
            "{layer}: {rank}"
        );
    }
}
