//! `placemap aggregate | compare | clusters` on the real data: the table, `--json` and `--csv`
//! outputs, the README worked example, and errors that say what to do.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(test_support::repo_root())
        .env_remove("PLACEMAP_DATA")
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("placemap runs: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const MINING: [&str; 9] = [
    "compare",
    "--layer",
    "lad19",
    "--group-by",
    "area_class_subgroup",
    "--group",
    "Mining Legacy",
    "--england-only",
    "--indicator",
];

fn mining(indicator: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args: Vec<&str> = MINING.to_vec();
    args.push(indicator);
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn readme_worked_example_prints_the_documented_numbers() {
    // The numbers quoted in README.md ("Worked example"): if the data or the code changes them,
    // this test and the README must change together.
    let (code, out, err) = mining("employment_rate", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Mining Legacy against rest of England"),
        "{out}"
    );
    assert!(
        out.contains("Mining Legacy       7       0 72.5429"),
        "{out}"
    );
    assert!(
        out.contains("gap (Mining Legacy minus rest of England): mean -4.5157, median -4.7"),
        "{out}"
    );
    // Who is left out, and why: every English district accounted for (issue 15).
    assert!(
        out.contains("districts in scope (England): 317 = 7 in Mining Legacy, 305 in rest of England, 0 in other groups, 5 without a group"),
        "{out}"
    );
    assert!(
        out.contains("rest of England without a value for 2023 (13):"),
        "{out}"
    );
    assert!(
        out.contains(
            "  E06000059 Dorset: merged from E07000049 East Dorset, E07000050 North Dorset"
        ),
        "{out}"
    );
    let (code, out, err) = mining("employment_rate", &["--csv", "--left-out"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("code,name,group,status,reason\n"), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(",without_group,"))
            .count(),
        5,
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(",without_value,"))
            .count(),
        13,
        "{out}"
    );
    let (_, out, _) = mining("median_weekly_pay", &[]);
    assert!(
        out.contains("gap (Mining Legacy minus rest of England): mean -22.3608, median -10.05"),
        "{out}"
    );
    let (_, out, _) = mining("imd_score", &["--correlate", "median_weekly_pay"]);
    assert!(
        out.contains("gap (Mining Legacy minus rest of England): mean 12.2489, median 12.573"),
        "{out}"
    );
    assert!(
        out.contains("Pearson r = -0.4032, Spearman rho = -0.4617, n = 304 districts"),
        "{out}"
    );
    let (code, out, err) = run(&[
        "clusters",
        "--layer",
        "lad19",
        "--indicator",
        "imd_score",
        "--england-only",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("global Moran's I = 0.3570, E[I] = -0.0032, z = 9.64 (normality), p_sim = 0.0010 (999 permutations, seed 42)"), "{out}");
    assert!(
        out.contains(
            "high-high 30, low-low 57, high-low 7, low-high 4, not significant 217, no neighbours 2"
        ),
        "{out}"
    );
}

#[test]
fn compare_json_and_csv_agree_with_the_table() {
    let (code, out, err) = mining("employment_rate", &["--json", "--ranks"]);
    assert_eq!(code, 0, "{err}");
    let j = json(&out);
    let c = &j["compare"]["comparison"];
    assert_eq!(c["a"]["count"], 7);
    assert!((c["gap_mean"].as_f64().unwrap_or(f64::NAN) + 4.5157).abs() < 1e-4);
    assert_eq!(c["ranks"].as_array().map(Vec::len), Some(304));
    let (code, out, _) = mining("employment_rate", &["--csv"]);
    assert_eq!(code, 0);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().filter_map(Result::ok).collect();
    assert_eq!(rows[0].get(0), Some("Mining Legacy"));
    assert_eq!(rows[0].get(2), Some("7"));
    let (_, out, _) = mining("employment_rate", &["--csv", "--ranks"]);
    assert!(out.starts_with("code,name,group,value,rank,of,rank_in_group,of_in_group\n"));
    // Bad input: an unknown group lists the groups; both --json and --csv is refused.
    let (code, _, err) = run(&[
        "compare",
        "--layer",
        "lad19",
        "--indicator",
        "imd_score",
        "--group-by",
        "area_class_subgroup",
        "--group",
        "Atlantis",
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unknown group") && err.contains("Mining Legacy"),
        "{err}"
    );
    let (code, _, _) = mining("imd_score", &["--json", "--csv"]);
    assert_ne!(code, 0);
    let (code, _, err) = run(&["compare", "--layer", "lad19", "--indicator", "imd_score"]);
    assert_ne!(code, 0);
    assert!(err.contains("--group-by"), "{err}");
}

#[test]
fn aggregate_table_json_csv_and_exclusions() {
    let base = [
        "aggregate",
        "--from",
        "lsoa11",
        "--to",
        "lad19",
        "--indicator",
        "imd_rank",
        "--how",
        "weighted-mean",
        "--weights",
        "population_total",
    ];
    let (code, out, err) = run(&base);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("32844 of 32844 areas assigned; 317 of 382 districts have a value"),
        "{out}"
    );
    assert!(out.contains("E06000001 Hartlepool"), "{out}");
    assert!(out.contains("exclusions: none"), "{out}");
    let mut args = base.to_vec();
    args.push("--json");
    let (_, out, _) = run(&args);
    let j = json(&out);
    let hp = j["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["code"] == "E06000001"))
        .cloned()
        .unwrap_or_default();
    // File 10 "IMD - Average rank" of Hartlepool is 22,581.95 on the reversed scale.
    let v = hp["value"].as_f64().unwrap_or(f64::NAN);
    assert!((32_845.0 - v - 22_581.95).abs() < 0.15, "{v}");
    args.pop();
    args.push("--csv");
    let (_, out, _) = run(&args);
    assert_eq!(out.lines().count(), 383);
    assert!(out.starts_with("code,name,value,areas_assigned,areas_used,weight_total\n"));

    // Spatially into LAD 2021: the areas outside the generalised coastline are reported.
    let (code, out, err) = run(&[
        "aggregate",
        "--from",
        "lsoa11",
        "--to",
        "lad21",
        "--indicator",
        "imd_decile",
        "--how",
        "share",
        "--class",
        "decile=1",
        "--via",
        "spatial",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("unassigned: outside every district:"), "{out}");
    // Bad input.
    let (code, _, err) = run(&[
        "aggregate",
        "--from",
        "lsoa11",
        "--to",
        "lad19",
        "--indicator",
        "imd_rank",
        "--how",
        "weighted-mean",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("weights"), "{err}");
    let (code, _, err) = run(&[
        "aggregate",
        "--from",
        "lsoa11",
        "--to",
        "lad19",
        "--indicator",
        "imd_rank",
        "--via",
        "teleport",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("via"), "{err}");
}

#[test]
fn clusters_json_and_csv() {
    let base = [
        "clusters",
        "--layer",
        "lad19",
        "--indicator",
        "imd_score",
        "--england-only",
        "--permutations",
        "99",
        "--seed",
        "7",
    ];
    let mut args = base.to_vec();
    args.push("--json");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let j = json(&out);
    assert_eq!(j["moran"]["n"], 317);
    assert_eq!(j["moran"]["p_sim"], 0.01);
    assert_eq!(j["districts"].as_array().map(Vec::len), Some(317));
    let (_, again, _) = run(&args);
    assert_eq!(out, again, "seeded");
    args.pop();
    args.push("--csv");
    let (_, out, _) = run(&args);
    assert_eq!(out.lines().count(), 318);
    let (code, _, err) = run(&[
        "clusters",
        "--layer",
        "lad19",
        "--indicator",
        "area_class_group",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("numeric indicator"), "{err}");
}
