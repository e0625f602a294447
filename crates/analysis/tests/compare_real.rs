//! Group comparison, ranks, correlation and spatial aggregation on the real LAD data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::HashMap;

use analysis::compare::ClassLevel;
use analysis::{
    Aggregation, AnalysisError, CorrelationMethod, Grouping, RankOrder, aggregate, assign_by_point,
    compare_groups, correlate, interior_points,
};
use common::{EnvelopeIndex, number, read_csv, read_geojson};

struct Lads {
    codes: Vec<String>,
    names: Vec<String>,
    score: Vec<Option<f64>>,
    avg_rank: Vec<Option<f64>>,
}

fn lads() -> Lads {
    let f10 = read_csv("imd2019_lad_summaries_file10.csv");
    Lads {
        codes: f10
            .iter()
            .map(|r| r["Local Authority District code (2019)"].clone())
            .collect(),
        names: f10
            .iter()
            .map(|r| r["Local Authority District name (2019)"].clone())
            .collect(),
        score: f10
            .iter()
            .map(|r| Some(number(&r["IMD - Average score"])))
            .collect(),
        avg_rank: f10
            .iter()
            .map(|r| Some(number(&r["IMD - Average rank"])))
            .collect(),
    }
}

#[test]
fn mining_legacy_against_the_rest_of_england() {
    let l = lads();
    let class: HashMap<String, String> = read_csv("lad17_area_classification_2011.csv")
        .into_iter()
        .map(|r| (r["LAD17CD"].clone(), r["LACCD"].clone()))
        .collect();
    let names: HashMap<String, String> = read_csv("la_classification_2011_hierarchy_names.csv")
        .into_iter()
        .map(|r| (r["code"].clone(), r["name"].clone()))
        .collect();
    let g = Grouping::area_classification(&l.codes, &class, ClassLevel::Subgroup, names.clone());
    let c = compare_groups(
        &l.codes,
        &l.names,
        &l.score,
        None,
        &g,
        "Mining Legacy",
        None,
        RankOrder::HighestFirst,
    )
    .unwrap();
    assert_eq!(c.a.group, "6a2r");
    assert_eq!(c.a.name.as_deref(), Some("Mining Legacy"));
    // Check the summary against the data directly.
    let members: Vec<f64> = l
        .codes
        .iter()
        .zip(&l.score)
        .filter(|(code, _)| class.get(*code).map(String::as_str) == Some("6a2r"))
        .map(|(_, s)| s.unwrap())
        .collect();
    assert_eq!(c.a.count, members.len());
    let mean = members.iter().sum::<f64>() / members.len() as f64;
    assert!((c.a.mean - mean).abs() < 1e-9);
    assert!(
        members
            .iter()
            .all(|&v| v <= c.a.max.value && v >= c.a.min.value)
    );
    // The rest: every other English district that has a class (renamed districts have none).
    let classed = l
        .codes
        .iter()
        .filter(|code| class.contains_key(*code))
        .count();
    assert_eq!(c.a.count + c.b.count, classed);
    assert!(
        c.gap_mean > 0.0,
        "Mining Legacy districts are more deprived on average"
    );
    assert!(c.a.q1 <= c.a.median && c.a.median <= c.a.q3);
    // Ranks: national rank 1 is the highest score; within-group ranks run 1..count.
    let top = c.ranks.iter().find(|r| r.rank == 1).unwrap();
    assert_eq!(
        top.value,
        l.score.iter().flatten().copied().fold(f64::MIN, f64::max)
    );
    let mut in_group: Vec<usize> = c
        .ranks
        .iter()
        .filter(|r| r.group.as_deref() == Some("6a2r"))
        .filter_map(|r| r.rank_in_group)
        .collect();
    in_group.sort();
    assert_eq!(in_group, (1..=c.a.count).collect::<Vec<_>>());
    assert_eq!(c.to_table().rows.len(), 2 + c.groups.len());

    // Group level 6ar contains subgroup 6a2r.
    let g6 = Grouping::area_classification(&l.codes, &class, ClassLevel::Group, names);
    let c6 = compare_groups(
        &l.codes,
        &l.names,
        &l.score,
        None,
        &g6,
        "6ar",
        None,
        RankOrder::HighestFirst,
    )
    .unwrap();
    assert!(c6.a.count > c.a.count);
    assert_eq!(
        c6.a.name.as_deref(),
        Some("Services Manufacturing and Mining Legacy")
    );

    // Errors: unknown group, empty group.
    assert!(matches!(
        compare_groups(
            &l.codes,
            &l.names,
            &l.score,
            None,
            &g,
            "Mining heritage",
            None,
            RankOrder::HighestFirst
        ),
        Err(AnalysisError::UnknownGroup { .. })
    ));
    let none: Vec<Option<f64>> = l
        .codes
        .iter()
        .zip(&l.score)
        .map(|(code, s)| {
            if class.get(code).map(String::as_str) == Some("6a2r") {
                None
            } else {
                *s
            }
        })
        .collect();
    assert!(matches!(
        compare_groups(
            &l.codes,
            &l.names,
            &none,
            None,
            &g,
            "6a2r",
            None,
            RankOrder::HighestFirst
        ),
        Err(AnalysisError::EmptyGroup { .. })
    ));
}

#[test]
fn regions_from_the_boundary_attribute_and_quintile_gap() {
    let l = lads();
    let region: HashMap<String, String> = read_geojson("lad_2019_uk_generalised_wgs84.geojson")
        .into_iter()
        .map(|f| (f.props["lad19cd"].clone(), f.props["region_name"].clone()))
        .collect();
    let g = Grouping::from_lookup("region", &l.codes, &region);
    assert_eq!(g.groups().len(), 9);
    let c = compare_groups(
        &l.codes,
        &l.names,
        &l.score,
        None,
        &g,
        "North East",
        Some("South East"),
        RankOrder::HighestFirst,
    )
    .unwrap();
    assert!(c.gap_mean > 0.0);
    assert_eq!(c.quintiles.per_quintile, 317 / 5);
    assert!(c.quintiles.gap > 0.0);
    let by_country = Grouping::by_country(&l.codes);
    assert_eq!(by_country.groups(), vec!["England"]);
}

#[test]
fn average_rank_and_average_score_correlate_strongly() {
    let l = lads();
    let s = correlate(&l.score, &l.avg_rank, CorrelationMethod::Spearman).unwrap();
    let p = correlate(&l.score, &l.avg_rank, CorrelationMethod::Pearson).unwrap();
    assert_eq!(s.n, 317);
    assert!(s.r > 0.9 && p.r > 0.9, "{} {}", s.r, p.r);
    assert!(correlate(&l.score[..2], &l.avg_rank[..2], CorrelationMethod::Pearson).is_err());
}

#[test]
fn lsoas_assigned_spatially_agree_with_the_lookup() {
    let lad = read_geojson("lad_2019_uk_generalised_wgs84.geojson");
    let lad_codes: Vec<String> = lad.iter().map(|f| f.props["lad19cd"].clone()).collect();
    let index = EnvelopeIndex::new(lad.into_iter().map(|f| f.geometry).collect());
    let lsoa = read_geojson("lsoa_2011_england_generalised_wgs84.geojson");
    let codes: Vec<String> = lsoa.iter().map(|f| f.props["lsoa11cd"].clone()).collect();
    let geoms: Vec<_> = lsoa.iter().map(|f| f.geometry.clone()).collect();
    let pts = interior_points(&geoms);
    let a = assign_by_point(&codes, &pts, &lad_codes, |x, y| index.locate(x, y));
    // The LSOA and LAD files are different generalisations: a few interior points near the
    // coast fall outside every LAD polygon, and are reported.
    assert_eq!(a.assigned_count() + a.unassigned.len(), 32_844);
    assert!(
        a.unassigned.len() < 330,
        "{} unassigned",
        a.unassigned.len()
    );
    let agree = lsoa
        .iter()
        .zip(&a.target)
        .filter(|(f, t)| t.is_some_and(|t| lad_codes[t] == f.props["lad19cd"]))
        .count();
    assert!(
        agree as f64 > 0.97 * 32_844.0,
        "{agree} agree with the lookup"
    );
    let ones = vec![Some(1.0); codes.len()];
    let counts = aggregate(&codes, &ones, None, &a, Aggregation::Sum).unwrap();
    assert_eq!(counts.exclusions.unassigned.len(), a.unassigned.len());
    let total: f64 = counts.rows.iter().filter_map(|r| r.value).sum();
    assert_eq!(total as usize, a.assigned_count());
}
