//! Indicators across boundary changes (issue 14 item 3) on the real data: File 10 (LAD 2019
//! codes) recombined on lad23 and lad21 where the catalogue says how, and no data with the
//! reason where it cannot be (pay, a median) or where the source publishes only the merged
//! district (the claimant count on lad21), shown in GeoJSON, the legend, the lookup and the
//! join report.

use std::collections::HashMap;

use districts::layer::PeriodValues;
use placemap_e2e::{data_dir, get, state};

/// One column of a CSV by its key column (thousands separators dropped).
fn csv_column(file: &str, key: &str, column: &str) -> HashMap<String, f64> {
    let mut r = csv::Reader::from_path(data_dir().join(file)).expect("csv");
    let headers = r.headers().expect("header").clone();
    let pos = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap_or_else(|| panic!("{file}: no column {name}"))
    };
    let (k, c) = (pos(key), pos(column));
    let mut out: HashMap<String, f64> = HashMap::new();
    for row in r.records() {
        let row = row.expect("row");
        let v: f64 = row[c].replace(',', "").parse().expect("number");
        *out.entry(row[k].to_string()).or_default() += v;
    }
    out
}

const FILE10: &str = "imd2019_lad_summaries_file10.csv";
const FILE10_CODE: &str = "Local Authority District code (2019)";
const CUMBERLAND: [&str; 3] = ["E07000026", "E07000028", "E07000029"];

fn value(layer: &str, indicator: &str, code: &str) -> Option<f64> {
    let st = state();
    let l = st.maps.atlas.layer(layer).expect("layer");
    let ind = l.indicator(indicator).expect("indicator");
    let i = l.position(code).expect("district");
    match &ind.period(&ind.default_period).expect("period").values {
        PeriodValues::Numeric(v) => v[i],
        PeriodValues::Categorical(_) => panic!("numeric"),
    }
}

/// File 10's district average score is the population-weighted mean of its LSOA scores, so the
/// mean of Allerdale, Carlisle and Copeland's scores weighted by their mid-2015 populations
/// (File 6, summed here from the LSOA rows) is Cumberland's score.
#[test]
fn cumberland_imd_score_is_the_population_weighted_mean_of_its_former_districts() {
    let pop = csv_column(
        "imd2019_lsoa_file6_population.csv",
        FILE10_CODE,
        "Total population: mid 2015 (excluding prisoners)",
    );
    for (indicator, column) in [
        ("imd_score", "IMD - Average score"),
        ("imd_average_rank", "IMD - Average rank"),
    ] {
        let score = csv_column(FILE10, FILE10_CODE, column);
        let (num, den) = CUMBERLAND.iter().fold((0.0, 0.0), |(n, d), c| {
            (n + score[*c] * pop[*c], d + pop[*c])
        });
        let expected = num / den;
        let got = value("lad23", indicator, "E06000063").expect("Cumberland recombined");
        assert!(
            (got - expected).abs() < 1e-9,
            "{indicator}: {got} vs {expected}"
        );
    }
    // Buckinghamshire (merged in 2020) on lad21, from its four LAD 2019 districts.
    let score = csv_column(FILE10, FILE10_CODE, "IMD - Average score");
    let bucks = ["E07000004", "E07000005", "E07000006", "E07000007"];
    let (num, den) = bucks.iter().fold((0.0, 0.0), |(n, d), c| {
        (n + score[*c] * pop[*c], d + pop[*c])
    });
    let got = value("lad21", "imd_score", "E06000060").expect("Buckinghamshire recombined");
    assert!((got - num / den).abs() < 1e-9, "{got} vs {}", num / den);
    // The description and the report say how.
    let st = state();
    let ind = st
        .maps
        .atlas
        .layer("lad23")
        .and_then(|l| l.indicator("imd_score"))
        .expect("imd_score on lad23");
    let r = ind
        .report
        .recombined
        .iter()
        .find(|r| r.code == "E06000063")
        .expect("Cumberland in the report");
    assert!(
        r.how.starts_with(
            "mean of E07000026 Allerdale, E07000028 Carlisle, E07000029 Copeland weighted by Population, mid-2015"
        ),
        "{}",
        r.how
    );
    assert!(
        ind.meta
            .description
            .as_deref()
            .is_some_and(|d| d.contains("E06000063 Cumberland = mean of")),
        "{:?}",
        ind.meta.description
    );
}

/// Counts are summed: File 10's income scale, and the SNI apprenticeship starts (LAD 2021 codes).
#[test]
fn counts_of_the_former_districts_are_summed() {
    let scale = csv_column(FILE10, FILE10_CODE, "Income scale");
    let expected: f64 = CUMBERLAND.iter().map(|c| scale[*c]).sum();
    assert_eq!(value("lad23", "income_scale", "E06000063"), Some(expected));
    let starts: f64 = CUMBERLAND
        .iter()
        .map(|c| value("lad21", "apprenticeship_starts", c).expect("lad21 value"))
        .sum();
    assert_eq!(
        value("lad23", "apprenticeship_starts", "E06000063"),
        Some(starts)
    );
    let st = state();
    let ind = st
        .maps
        .atlas
        .layer("lad23")
        .and_then(|l| l.indicator("income_scale"))
        .expect("income_scale");
    assert!(ind.report.recombined.iter().any(|r| r.code == "E06000063"
        && r.how == "sum of E07000026 Allerdale, E07000028 Carlisle, E07000029 Copeland"));
}

const NEW_UNITARIES: [&str; 4] = ["E06000063", "E06000064", "E06000065", "E06000066"];

/// A median cannot be recombined: the four 2023 unitaries have no pay, and GeoJSON, the legend
/// and the lookup say why.
#[tokio::test]
async fn pay_on_lad23_has_no_data_for_the_new_unitaries_with_the_reason() {
    for code in NEW_UNITARIES {
        assert_eq!(value("lad23", "median_weekly_pay", code), None, "{code}");
    }
    let r = get("/layers/lad23.geojson?indicators=median_weekly_pay&precision=2").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let features = j["features"].as_array().expect("features");
    // The default period's column names its period (issue 15.6).
    let st = placemap_e2e::state();
    let lad23 = st.maps.atlas.layer("lad23").expect("lad23");
    let period = &lad23
        .indicator("median_weekly_pay")
        .expect("pay")
        .default_period;
    let key = format!("median_weekly_pay_{period}");
    let mut explained = 0;
    for f in features {
        let p = &f["properties"];
        let code = p["code"].as_str().expect("code");
        assert!(p.get(&key).is_some(), "{code}: no {key} in {p}");
        let reason = p[format!("{key}_no_data_reason")].as_str();
        if NEW_UNITARIES.contains(&code) {
            assert!(p[&key].is_null(), "{code}");
            let reason = reason.unwrap_or_else(|| panic!("{code}: no reason in {p}"));
            assert!(
                reason.starts_with("merged in 2023 from ")
                    && reason.contains("the source publishes the former districts only")
                    && reason.contains("a median cannot be recombined"),
                "{reason}"
            );
            explained += 1;
        } else {
            assert!(reason.is_none(), "{code}: {reason:?}");
        }
    }
    assert_eq!(explained, 4);
    let cumberland = features
        .iter()
        .find(|f| f["properties"]["code"] == "E06000063")
        .expect("Cumberland");
    assert!(
        cumberland["properties"][format!("{key}_no_data_reason")]
            .as_str()
            .is_some_and(
                |r| r.contains("E07000026 Allerdale, E07000028 Carlisle, E07000029 Copeland")
            )
    );

    let legend = get("/legend/lad23/median_weekly_pay.json").await.json();
    let reasons = legend["no_data"]["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 1, "{legend}");
    assert_eq!(reasons[0]["count"], 4);
    assert_eq!(
        reasons[0]["text"],
        "No data: 4 districts merged in 2023; the source publishes the former districts only"
    );
    let svg = get("/legend/lad23/median_weekly_pay.svg").await.text();
    assert!(
        svg.contains("No data: 4 districts merged in 2023;"),
        "{svg}"
    );

    // Carlisle is in Cumberland.
    let j = get("/lookup?lon=-2.9340&lat=54.8925&layer=lad23")
        .await
        .json();
    let pay = &j["results"][0]["values"]["median_weekly_pay"];
    assert!(pay["value"].is_null(), "{j}");
    assert!(
        pay["no_data_reason"]
            .as_str()
            .is_some_and(|r| r.contains("merged in 2023 from E07000026 Allerdale")),
        "{pay}"
    );
    // CSV export carries the reason column too.
    let csv = get("/layers/lad23.csv?indicators=median_weekly_pay")
        .await
        .text();
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.ends_with(&format!("{key},{key}_no_data_reason"))),
        "{}",
        csv.lines().next().unwrap_or_default()
    );
}

/// The claimant count is published on 2023 codes: on lad21 the 17 former districts have no data
/// with the reverse reason.
#[tokio::test]
async fn claimant_count_on_lad21_explains_the_17_former_districts() {
    let st = state();
    let lad21 = st.maps.atlas.layer("lad21").expect("lad21");
    let ind = lad21.indicator("claimant_rate").expect("claimant_rate");
    let notes = &ind.report.no_data_reasons;
    assert_eq!(notes.len(), 17, "{notes:?}");
    let allerdale = ind
        .no_data_reason("E07000026", &ind.default_period)
        .expect("Allerdale explained");
    assert_eq!(
        allerdale.reason,
        "merged into E06000063 Cumberland in 2023; the source publishes the merged district only"
    );
    let legend = get("/legend/lad21/claimant_rate.json").await.json();
    assert_eq!(
        legend["no_data"]["reasons"][0]["text"],
        "No data: 17 districts merged in 2023; the source publishes the merged district only",
        "{legend}"
    );
    let j = get("/lookup?lon=-2.9340&lat=54.8925&layer=lad21")
        .await
        .json();
    assert_eq!(j["results"][0]["code"], "E07000028", "{j}");
    assert_eq!(
        j["results"][0]["values"]["claimant_rate"]["no_data_reason"],
        "merged into E06000063 Cumberland in 2023; the source publishes the merged district only"
    );
}

/// The join report names, per old code, the district it became, and per merged district the
/// districts it was made of (North Northamptonshire: four, not the county's seven).
#[test]
fn join_report_says_which_district_each_old_code_became() {
    let st = state();
    let lad23 = st.maps.atlas.layer("lad23").expect("lad23");
    let report = &lad23.indicator("imd_score").expect("imd_score").report;
    let hint = |code: &str| {
        report
            .data_without_boundary
            .iter()
            .find(|r| r.code == code)
            .and_then(|r| r.hint.clone())
            .unwrap_or_else(|| panic!("{code} not reported"))
    };
    assert_eq!(
        hint("E07000026"),
        "became part of E06000063 Cumberland on 2023-04-01"
    );
    assert_eq!(
        hint("E07000004"),
        "became part of E06000060 Buckinghamshire on 2020-04-01"
    );
    assert_eq!(report.data_without_boundary.len(), 28);
    // Pay (LAD 2021 codes): the merged district's note lists its parts.
    let pay = &lad23.indicator("median_weekly_pay").expect("pay").report;
    let nn = pay
        .no_data_reasons
        .iter()
        .find(|r| r.code == "E06000065")
        .expect("North Yorkshire");
    assert!(nn.reason.contains("E07000163 Craven") && nn.reason.contains("E07000169 Selby"));
    let hint = districts::join::reorganisation_hint("E06000061").expect("hint");
    assert!(hint.contains("E07000153 Kettering") && !hint.contains("E07000154 Northampton"));
}
