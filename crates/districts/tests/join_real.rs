//! Joining real tables to real boundary codes (read from the GeoJSON properties here, since the
//! boundary loaders are a separate stage).

use test_support::data_dir;

use districts::catalog::Catalog;
use districts::indicators::{IndicatorTable, read_table};
use districts::join::{LayerCodes, join_indicator, join_values};
use districts::layer::PeriodValues;

fn catalog() -> Catalog {
    Catalog::load(&test_support::catalog_path(), &data_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn table(cat: &Catalog, source: &str) -> IndicatorTable {
    read_table(cat, cat.source(source).expect("source")).unwrap_or_else(|e| panic!("{e}"))
}

/// (codes, names) of a GeoJSON layer, in feature order.
fn boundary_codes(file: &str, code: &str, name: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(data_dir().join(file)).expect("geojson");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let features = v["features"].as_array().expect("features");
    features
        .iter()
        .map(|f| {
            (
                f["properties"][code].as_str().expect("code").to_string(),
                f["properties"][name].as_str().expect("name").to_string(),
            )
        })
        .unzip()
}

fn lad19() -> (Vec<String>, Vec<String>) {
    boundary_codes(
        "lad_2019_uk_generalised_wgs84.geojson",
        "lad19cd",
        "lad19nm",
    )
}

fn lad21() -> (Vec<String>, Vec<String>) {
    boundary_codes("lad_may2021_uk_buc_bng.geojson", "LAD21CD", "LAD21NM")
}

fn numeric(p: &PeriodValues) -> &[Option<f64>] {
    match p {
        PeriodValues::Numeric(v) => v,
        PeriodValues::Categorical(_) => panic!("numeric expected"),
    }
}

#[test]
fn imd_file10_matches_every_english_lad19() {
    let cat = catalog();
    let t = table(&cat, "imd2019_file10");
    let (codes, names) = lad19();
    assert_eq!(codes.len(), 382);
    let layer = LayerCodes::new("lad19", &codes).with_names(&names);
    let (periods, report) = join_values(&layer, t.indicator("imd_score").expect("imd_score"));
    assert_eq!(report.matched, 317);
    assert!(report.data_without_boundary.is_empty(), "{report}");
    assert_eq!(report.not_district_total(), 0);
    // The 65 districts without data are exactly the non-English ones.
    assert_eq!(report.boundaries_without_data.len(), 65);
    assert!(
        report
            .boundaries_without_data
            .iter()
            .all(|c| !c.code.starts_with('E'))
    );
    assert_eq!(report.coverage[0].with_value, 317);
    // Aligned with the district order.
    let values = numeric(&periods[0].values);
    let blackpool = codes
        .iter()
        .position(|c| c == "E06000009")
        .expect("Blackpool");
    assert_eq!(values[blackpool], Some(45.039));
    let cardiff = codes
        .iter()
        .position(|c| c == "W06000015")
        .expect("Cardiff");
    assert_eq!(values[cardiff], None);
    // Same table on lad21: the 11 merged districts have no polygon, E06000060-62 no data.
    let (codes21, names21) = lad21();
    let (_, r21) = join_values(
        &LayerCodes::new("lad21", &codes21).with_names(&names21),
        t.indicator("imd_score").expect("imd"),
    );
    let unmatched: Vec<&str> = r21
        .data_without_boundary
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(
        unmatched,
        [
            "E07000004",
            "E07000005",
            "E07000006",
            "E07000007",
            "E07000150",
            "E07000151",
            "E07000152",
            "E07000153",
            "E07000154",
            "E07000155",
            "E07000156"
        ]
    );
    assert!(
        r21.data_without_boundary
            .iter()
            .all(|c| c.hint.is_some() && c.name.is_some())
    );
    let no_data: Vec<&str> = r21
        .boundaries_without_data
        .iter()
        .filter(|c| c.code.starts_with('E'))
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(no_data, ["E06000060", "E06000061", "E06000062"]);
}

#[test]
fn sni_pay_2021_on_lad19_lists_2021_unitaries_with_hints() {
    let cat = catalog();
    let t = table(&cat, "ons_sni_2022");
    let (codes, names) = lad19();
    let layer = LayerCodes::new("lad19", &codes).with_names(&names);
    let ind = t.indicator("median_weekly_pay_sni").expect("pay");
    let (_, report) = join_values(&layer, ind);
    let unmatched: Vec<&str> = report
        .data_without_boundary
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(
        unmatched,
        ["E06000060", "E06000061", "E06000062"],
        "{report}"
    );
    for c in &report.data_without_boundary {
        let hint = c.hint.as_deref().expect("hint");
        assert!(
            hint.contains("created 2020-04-01") || hint.contains("created 2021-04-01"),
            "{hint}"
        );
    }
    assert_eq!(
        report.data_without_boundary[0].name.as_deref(),
        Some("Buckinghamshire")
    );
    // Counties, regions, countries, ITL areas are summarised, not listed.
    assert_eq!(report.not_district_codes.get("E12").copied(), Some(9));
    assert_eq!(report.not_district_codes.get("K02").copied(), Some(1));
    // SOURCES.md: 369 of 372 LAD codes with pay match LAD19 (13 polygons have no value).
    assert_eq!(report.coverage[0].with_value, 369);
    let text = report.to_string();
    assert!(
        text.contains("E06000061 North Northamptonshire") && text.contains("not district codes:"),
        "{text}"
    );
}

#[test]
fn claimant_on_lad21_merged_districts_have_no_data() {
    let cat = catalog();
    let t = table(&cat, "els_claimant_count");
    let (codes, names) = lad21();
    let layer = LayerCodes::new("lad21", &codes).with_names(&names);
    let (meta_src, spec) = cat.indicator("claimant_rate").expect("claimant_rate");
    let ind = join_indicator(
        spec.to_meta(meta_src),
        &layer,
        t.indicator("claimant_rate").expect("claimant"),
    );
    let report = &ind.report;
    let no_data: Vec<&str> = report
        .boundaries_without_data
        .iter()
        .filter(|c| c.code.starts_with('E'))
        .map(|c| c.code.as_str())
        .collect();
    let expected = [
        "E07000026",
        "E07000027",
        "E07000028",
        "E07000029",
        "E07000030",
        "E07000031",
        "E07000163",
        "E07000164",
        "E07000165",
        "E07000166",
        "E07000167",
        "E07000168",
        "E07000169",
        "E07000187",
        "E07000188",
        "E07000189",
        "E07000246",
    ];
    let mut sorted = no_data.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{report}");
    assert!(
        report
            .boundaries_without_data
            .iter()
            .filter(|c| c.code.starts_with('E'))
            .all(|c| c
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("replaced 2023-04-01")))
    );
    let unmatched: Vec<&str> = report
        .data_without_boundary
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    for code in ["E06000063", "E06000064", "E06000065", "E06000066"] {
        assert!(unmatched.contains(&code), "{code} in {unmatched:?}");
    }
    assert!(
        report
            .data_without_boundary
            .iter()
            .filter(|c| c.code.starts_with("E0600006"))
            .all(|c| c
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("created 2023-04-01")))
    );
    // Per period: 292 English LAD21 polygons have a value (SOURCES.md), plus W, S and N.
    let p2024 = report
        .coverage
        .iter()
        .find(|c| c.label == "2024")
        .expect("2024");
    let english_with_value = {
        let period = ind.period("2024").expect("2024");
        numeric(&period.values)
            .iter()
            .zip(&codes)
            .filter(|(v, c)| v.is_some() && c.starts_with('E'))
            .count()
    };
    assert_eq!(english_with_value, 292);
    assert!(p2024.with_value >= 292);
    assert_eq!(ind.default_period, "2025");
    assert_eq!(ind.periods.first().map(|p| p.label.as_str()), Some("2001"));
    let json = serde_json::to_value(report).expect("json");
    assert_eq!(json["layer"], "lad21");
    assert!(
        json["boundaries_without_data"]
            .as_array()
            .is_some_and(|a| a.len() >= 17)
    );
}

#[test]
fn ks2_multi_vintage_matches_each_layer_by_its_own_codes() {
    let cat = catalog();
    let t = table(&cat, "els_ks2_rwm");
    let ind = t.indicator("ks2_rwm_expected").expect("ks2");
    for (layer_id, (codes, names), english) in [("lad19", lad19(), 317), ("lad21", lad21(), 309)] {
        let (_, report) = join_values(&LayerCodes::new(layer_id, &codes).with_names(&names), ind);
        let english_matched = report.matched;
        let missing_e: Vec<_> = report
            .boundaries_without_data
            .iter()
            .filter(|c| c.code.starts_with('E'))
            .collect();
        assert!(missing_e.is_empty(), "{layer_id}: {missing_e:?}");
        assert!(english_matched >= english);
    }
}

#[test]
fn area_classification_joins_categories() {
    let cat = catalog();
    let t = table(&cat, "lad17_area_classification");
    let (codes, names) = lad19();
    let (periods, report) = join_values(
        &LayerCodes::new("lad19", &codes).with_names(&names),
        t.indicator("area_class_supergroup").expect("sg"),
    );
    let PeriodValues::Categorical(v) = &periods[0].values else {
        panic!("categorical")
    };
    let hartlepool = codes
        .iter()
        .position(|c| c == "E06000001")
        .expect("Hartlepool");
    assert_eq!(
        v[hartlepool].as_deref(),
        Some("Services and Industrial Legacy")
    );
    // SOURCES.md: 362 of 380 GB codes match LAD19; the 18 others are pre-2019 codes, with hints.
    assert_eq!(report.matched, 362);
    assert_eq!(report.data_without_boundary.len(), 18);
    assert!(
        report
            .data_without_boundary
            .iter()
            .all(|c| c.hint.is_some()),
        "{report}"
    );
}

#[test]
fn duplicate_boundary_codes_are_reported_and_take_no_second_value() {
    let cat = catalog();
    let t = table(&cat, "imd2019_file10");
    let codes = vec![
        "E06000001".to_string(),
        "E06000002".to_string(),
        "E06000001".to_string(),
    ];
    let (periods, report) = join_values(
        &LayerCodes::new("test", &codes),
        t.indicator("imd_score").expect("imd"),
    );
    assert_eq!(report.boundary_duplicates, ["E06000001"]);
    let v = numeric(&periods[0].values);
    assert!(v[0].is_some() && v[1].is_some() && v[2].is_none());
    assert!(!report.is_complete());
}
