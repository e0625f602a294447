//! Reading the real indicator tables: every catalogued source parses, markers are missing
//! (never zero), thousands separators and BOMs are handled, periods get their labels.

use test_support::data_dir;

use districts::catalog::Catalog;
use districts::indicators::{IndicatorTable, TableValues, read_all, read_lookup, read_table};

fn catalog() -> Catalog {
    Catalog::load(&test_support::catalog_path(), &data_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn table(cat: &Catalog, source: &str) -> IndicatorTable {
    let spec = cat
        .source(source)
        .unwrap_or_else(|| panic!("no source {source}"));
    read_table(cat, spec).unwrap_or_else(|e| panic!("{e}"))
}

fn number(t: &IndicatorTable, ind: &str, period: &str, code: &str) -> Option<Option<f64>> {
    t.indicator(ind)
        .and_then(|i| i.period(period))
        .and_then(|p| p.values.number(code))
}

#[test]
fn every_catalogued_source_parses() {
    let cat = catalog();
    let tables = read_all(&cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tables.len(), cat.sources.len());
    for (t, s) in tables.iter().zip(&cat.sources) {
        assert_eq!(t.source_id, s.id);
        for i in &t.indicators {
            let rows: usize = i.periods.iter().map(|p| p.values.len()).sum();
            assert!(rows > 0, "{} has no rows in {}", i.id, s.file);
        }
    }
}

#[test]
fn quoted_thousands_separators_and_bom() {
    let cat = catalog();
    let f1 = table(&cat, "imd2019_lsoa_file1");
    // E01000001 City of London 001A: rank "29,199", decile 9.
    assert_eq!(
        number(&f1, "imd_rank", "2019", "E01000001"),
        Some(Some(29199.0))
    );
    assert_eq!(
        number(&f1, "imd_decile", "2019", "E01000001"),
        Some(Some(9.0))
    );
    assert_eq!(
        f1.indicator("imd_rank").map(|i| i.periods[0].values.len()),
        Some(32_844)
    );
    let f6 = table(&cat, "imd2019_lsoa_file6");
    assert_eq!(
        number(&f6, "population_total", "2015", "E01000001"),
        Some(Some(1296.0))
    );
}

#[test]
fn imd_file10_values_as_published() {
    let cat = catalog();
    let t = table(&cat, "imd2019_file10");
    let score = t.indicator("imd_score").expect("imd_score");
    assert_eq!(score.periods.len(), 1);
    assert_eq!(score.periods[0].values.len(), 317);
    assert!(score.duplicates.is_empty());
    // Blackpool E06000009 has the highest IMD 2019 average score (45.039).
    let TableValues::Numeric(m) = &score.periods[0].values else {
        panic!("numeric")
    };
    let (max_code, max) = m
        .iter()
        .filter_map(|(c, v)| v.map(|v| (c.clone(), v)))
        .fold(
            (String::new(), f64::MIN),
            |a, b| if b.1 > a.1 { b } else { a },
        );
    assert_eq!(max_code, "E06000009");
    assert!((max - 45.039).abs() < 1e-9, "{max}");
}

#[test]
fn suppression_markers_are_missing_not_zero() {
    let cat = catalog();
    // DfE KS4: Isles of Scilly (E06000053) Total avg_att8 is `c` in 2019/20 and 2020/21.
    let ks4 = table(&cat, "dfe_ks4_la");
    assert_eq!(
        number(&ks4, "attainment8", "2019/20", "E06000053"),
        Some(None)
    );
    assert_eq!(
        number(&ks4, "attainment8", "2020/21", "E06000053"),
        Some(None)
    );
    assert!(
        matches!(number(&ks4, "attainment8", "2018/19", "E06000053"), Some(Some(v)) if v > 0.0)
    );
    let a8 = ks4.indicator("attainment8").expect("attainment8");
    let labels: Vec<&str> = a8.periods.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["2018/19", "2019/20", "2020/21", "2021/22", "2022/23"]
    );
    // `z` (not applicable) Progress 8 in 2019/20: every LA row is missing.
    let p8 = ks4.indicator("progress8").expect("progress8");
    let TableValues::Numeric(m) = &p8.period("2019/20").expect("2019/20").values else {
        panic!()
    };
    assert!(!m.is_empty() && m.values().all(Option::is_none));

    // ELS pay: 42 rows `x` with an empty value cell (e.g. City of London, Scilly).
    let pay = table(&cat, "els_median_weekly_pay");
    let p = pay.indicator("median_weekly_pay").expect("pay");
    let suppressed: usize = p
        .periods
        .iter()
        .map(|per| match &per.values {
            TableValues::Numeric(m) => m.values().filter(|v| v.is_none()).count(),
            TableValues::Categorical(_) => 0,
        })
        .sum();
    assert_eq!(suppressed, 42);
    let zeros = p.periods.iter().any(
        |per| matches!(&per.values, TableValues::Numeric(m) if m.values().any(|v| *v == Some(0.0))),
    );
    assert!(!zeros);

    // SNI long file: `NA` cells are missing.
    let sni = table(&cat, "ons_sni_2022");
    let nas: usize = sni
        .indicators
        .iter()
        .flat_map(|i| &i.periods)
        .map(|per| match &per.values {
            TableValues::Numeric(m) => m.values().filter(|v| v.is_none()).count(),
            TableValues::Categorical(_) => 0,
        })
        .sum();
    assert!(nas >= 11 - 1, "{nas}"); // 11 NA cells, minus any on a duplicated key
}

#[test]
fn period_labels_of_each_layout() {
    let cat = catalog();
    let pay = table(&cat, "els_median_weekly_pay");
    let labels: Vec<String> = pay
        .indicator("median_weekly_pay")
        .expect("pay")
        .periods
        .iter()
        .map(|p| p.label.clone())
        .collect();
    let expected: Vec<String> = (2002..=2022).map(|y| y.to_string()).collect();
    assert_eq!(labels, expected, "UK rows go back to 2002");
    let emp = table(&cat, "els_employment_rate");
    let e = emp.indicator("employment_rate").expect("employment_rate");
    assert_eq!(e.periods.first().map(|p| p.label.as_str()), Some("2004"));
    assert_eq!(e.periods.last().map(|p| p.label.as_str()), Some("2023"));
    let ks2 = table(&cat, "els_ks2_rwm");
    let labels: Vec<&str> = ks2
        .indicator("ks2_rwm_expected")
        .expect("ks2")
        .periods
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(
        labels,
        ["2018/19", "2021/22", "2022/23", "2023/24", "2024/25"]
    );
    let sni = table(&cat, "ons_sni_2022");
    assert_eq!(
        sni.indicator("life_satisfaction").expect("ls").periods[0].label,
        "2020/21"
    );
    assert_eq!(
        sni.indicator("healthy_life_expectancy_male")
            .expect("hle")
            .periods[0]
            .label,
        "2018-20"
    );
    // The wide pivot (column pattern) agrees with the long file it was made from.
    let wide = table(&cat, "lad21_pay_employment_wide");
    let w = wide.indicator("median_weekly_pay_wide").expect("wide");
    assert_eq!(w.periods.len(), 15);
    let long = pay.indicator("median_weekly_pay").expect("pay");
    let mut compared = 0;
    for wp in &w.periods {
        let lp = long.period(&wp.label).expect("period in long file");
        let TableValues::Numeric(wm) = &wp.values else {
            panic!()
        };
        for (code, v) in wm {
            if let Some(v) = v {
                assert_eq!(
                    lp.values.number(code),
                    Some(Some(*v)),
                    "{code} {}",
                    wp.label
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 5000, "{compared}");
}

#[test]
fn duplicate_sni_keys_are_reported_first_kept() {
    let cat = catalog();
    let sni = table(&cat, "ons_sni_2022");
    let dups: Vec<_> = sni
        .indicators
        .iter()
        .flat_map(|i| i.duplicates.iter().map(move |d| (i.id.clone(), d.clone())))
        .collect();
    // SOURCES.md: 12 distinct (AREACD, Indicator, Period) keys repeat; "na" keys repeat many times.
    let mut keys: Vec<(String, String, String)> = dups
        .iter()
        .map(|(id, d)| (id.clone(), d.code.clone(), d.period.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12, "{keys:?}");
    assert!(
        dups.iter()
            .any(|(id, d)| id == "fe_achievements" && d.code == "E06000062")
    );
    assert!(
        dups.iter()
            .any(|(id, d)| id.starts_with("travel_time_employment") && d.code == "E13000002")
    );
    assert!(dups.iter().all(|(_, d)| d.line > d.first_line));
}

#[test]
fn area_classification_categories_with_names() {
    let cat = catalog();
    let t = table(&cat, "lad17_area_classification");
    let get = |ind: &str, code: &str| -> Option<String> {
        match &t.indicator(ind)?.periods[0].values {
            TableValues::Categorical(m) => m.get(code).cloned().flatten(),
            TableValues::Numeric(_) => None,
        }
    };
    // Hartlepool: 6a2r Mining Legacy, group 6ar, supergroup 6r.
    assert_eq!(
        get("area_class_subgroup", "E06000001").as_deref(),
        Some("Mining Legacy")
    );
    assert_eq!(
        get("area_class_group", "E06000001").as_deref(),
        Some("Services Manufacturing and Mining Legacy")
    );
    let supergroup = get("area_class_supergroup", "E06000001").expect("supergroup");
    assert!(!supergroup.is_empty());
    assert_eq!(
        t.indicator("area_class_subgroup")
            .expect("sub")
            .categories
            .len(),
        23
    );
    // 16 groups exist; 7br "Northern Ireland Countryside" cannot occur in this GB file.
    assert_eq!(
        t.indicator("area_class_group").expect("g").categories.len(),
        15
    );
    assert_eq!(
        t.indicator("area_class_supergroup")
            .expect("s")
            .categories
            .len(),
        8
    );
}

#[test]
fn lookup_lsoa_to_msoa() {
    let cat = catalog();
    let l = read_lookup(cat.lookup("lsoa11_msoa11_lad17").expect("lookup"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(l.keys.len(), 34_753);
    assert_eq!(l.get("E01000001", "MSOA11CD"), Some("E02000001"));
    assert_eq!(l.get("e01000001", "LAD17CD"), Some("E09000001"));
}
