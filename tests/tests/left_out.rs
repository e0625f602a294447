//! Every comparison says who it leaves out and why: the issue's example (employment rate, Mining
//! Legacy against the rest of England on lad19) accounts for all 317 English districts, the
//! 2019 unitaries get the area class of their former districts where those all share it (read
//! here from the 2017 classification file), and the others are listed with the reason.

use std::collections::{BTreeMap, BTreeSet};

use placemap_e2e::{data_dir, get};
use serde_json::Value;

/// The 2019 unitaries and the 2017 districts they were made of (ONS, 1 April 2019).
const MERGED_2019: [(&str, &[&str]); 5] = [
    ("E06000058", &["E06000028", "E06000029", "E07000048"]),
    (
        "E06000059",
        &[
            "E07000049",
            "E07000050",
            "E07000051",
            "E07000052",
            "E07000053",
        ],
    ),
    ("E07000244", &["E07000205", "E07000206"]),
    ("E07000245", &["E07000201", "E07000204"]),
    ("E07000246", &["E07000190", "E07000191"]),
];

/// The class of every 2017 district at one level of the 2011 area classification, by name: the
/// subgroup code (`6a2r`) from the classification file, cut to the level (`6r` supergroup), named
/// from the hierarchy names file.
fn classes_2017(level: &str) -> BTreeMap<String, String> {
    let read = |file: &str| {
        let mut rdr = csv::Reader::from_path(data_dir().join(file)).expect(file);
        let h: Vec<String> = rdr
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
        (h, rows)
    };
    let (h, rows) = read("la_classification_2011_hierarchy_names.csv");
    let col = |h: &[String], n: &str| h.iter().position(|c| c == n).expect(n);
    let names: BTreeMap<String, String> = rows
        .iter()
        .map(|r| {
            (
                r[col(&h, "code")].to_string(),
                r[col(&h, "name")].to_string(),
            )
        })
        .collect();
    let (h, rows) = read("lad17_area_classification_2011.csv");
    rows.iter()
        .map(|r| {
            let sub = r[col(&h, "LACCD")].to_string();
            let code = match level {
                "supergroup" => format!("{}r", &sub[..1]),
                "group" => format!("{}r", &sub[..2]),
                _ => sub,
            };
            let name = names
                .get(&code)
                .cloned()
                .unwrap_or_else(|| panic!("no name for {code}"));
            (r[col(&h, "LAD17CD")].to_string(), name)
        })
        .collect()
}

fn codes(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            assert!(d["name"].as_str().is_some_and(|n| !n.is_empty()), "{d}");
            assert!(d["reason"].as_str().is_some_and(|n| !n.is_empty()), "{d}");
            d["code"].as_str().expect("code").to_string()
        })
        .collect()
}

#[tokio::test]
async fn mining_legacy_against_the_rest_accounts_for_every_english_district() {
    // The issue's example: at subgroup level the former districts of all five 2019 unitaries
    // differ, so all five are listed without a group (not silently dropped).
    let (carried, ungrouped) = accounts("subgroup", "Mining%20Legacy", 7).await;
    assert_eq!((carried, ungrouped), (0, 5));
}

#[tokio::test]
async fn classes_are_carried_where_the_former_districts_share_them() {
    // Coarser levels: some unitaries' former districts share the class, and it is carried.
    let (carried, ungrouped) = accounts("supergroup", "Countryside%20Living", 0).await;
    assert!(carried > 0, "nothing carried at supergroup level");
    assert_eq!(carried + ungrouped, 5);
    let (carried, ungrouped) = accounts("group", "English%20and%20Welsh%20Countryside", 0).await;
    assert_eq!(carried + ungrouped, 5);
}

/// Compares group `group` of the classification at `level` with the rest of England on lad19,
/// checks that every English district is accounted for and that each 2019 unitary is carried
/// exactly when its former districts share a class; returns (carried, without a group).
/// `size`: the group's known size (0: not checked).
async fn accounts(level: &str, group: &str, size: u64) -> (usize, usize) {
    let r = get(&format!("/stats/lad19/employment_rate/compare?group_by=area_class_{level}&group={group}&england_only=true")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let c = &j["comparison"];
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    assert_eq!(j["in_scope"], 317);
    assert_eq!(j["scope"], "England");
    let in_a = n(&c["a"]["count"]) + n(&c["a"]["missing"]);
    let in_b = n(&c["b"]["count"]) + n(&c["b"]["missing"]);
    let ungrouped = codes(&c["without_group"]);
    if size > 0 {
        assert_eq!(in_a, size);
    }
    // England minus the group: in the rest, or listed without a group.
    assert_eq!(in_b + ungrouped.len() as u64, 317 - in_a, "{c}");
    assert_eq!(j["in_other_groups"], 0);
    for g in ["a", "b"] {
        let listed = codes(&c[g]["without_value"]);
        assert_eq!(listed.len() as u64, n(&c[g]["missing"]), "{g}");
    }

    // The five 2019 unitaries: each carried (all its former districts share a class) or listed
    // without a group, never silently dropped.
    let classes = classes_2017(level);
    let carried: BTreeMap<String, String> = c["carried"]
        .as_array()
        .expect("carried")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (code, formers) in MERGED_2019 {
        let former: BTreeSet<&str> = formers
            .iter()
            .map(|f| classes.get(*f).map(String::as_str).expect("2017 class"))
            .collect();
        if former.len() == 1 {
            let class = former.iter().next().copied().unwrap_or_default();
            let how = carried
                .get(code)
                .unwrap_or_else(|| panic!("{code} not carried: {c}"));
            assert!(
                how.contains(&format!(
                    "carried from its {} former districts, all '{class}'",
                    formers.len()
                )),
                "{how}"
            );
            for f in formers {
                assert!(how.contains(f), "{how} does not name {f}");
            }
            assert!(!ungrouped.contains(code), "{code}");
        } else {
            assert!(
                ungrouped.contains(code),
                "{code} neither carried nor listed: {c}"
            );
            let reason = c["without_group"]
                .as_array()
                .and_then(|l| l.iter().find(|d| d["code"] == code))
                .and_then(|d| d["reason"].as_str())
                .unwrap_or_default();
            assert!(reason.contains("classes differ"), "{code}: {reason}");
            for f in formers {
                assert!(reason.contains(f), "{reason} does not name {f}");
            }
        }
    }
    // Nothing else is without a group in England: the other 312 districts have 2017 codes.
    let merged: BTreeSet<String> = MERGED_2019.iter().map(|(c, _)| c.to_string()).collect();
    assert!(ungrouped.is_subset(&merged), "{ungrouped:?}");
    assert_eq!(
        carried.len() + ungrouped.len(),
        5,
        "{carried:?} {ungrouped:?}"
    );

    // The same as one CSV row per district left out or carried.
    let r = get(&format!("/stats/lad19/employment_rate/compare?group_by=area_class_{level}&group={group}&england_only=true&format=csv&left_out=true")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(text.starts_with("code,name,group,status,reason"), "{text}");
    for code in carried.keys().chain(ungrouped.iter()) {
        assert!(
            text.contains(code.as_str()),
            "{code} not in the CSV: {text}"
        );
    }
    let without_value = text
        .lines()
        .filter(|l| l.contains(",without_value,"))
        .count() as u64;
    assert_eq!(
        without_value,
        n(&c["a"]["missing"]) + n(&c["b"]["missing"]),
        "{text}"
    );
    (carried.len(), ungrouped.len())
}

#[tokio::test]
async fn region_groups_use_the_same_regions_as_region_maps() {
    // lad21 carries no region attribute: its regions come from the lookups and, for the
    // 2020-21 unitaries, by location; every English district is in one of nine regions.
    let r = get("/stats/lad21/median_weekly_pay/compare?group_by=region&group=north%20east&england_only=true").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let c = &j["comparison"];
    assert_eq!(
        c["a"]["count"].as_u64().unwrap_or(0) + c["a"]["missing"].as_u64().unwrap_or(0),
        12
    );
    assert_eq!(c["without_group"].as_array().map(Vec::len), Some(0), "{c}");
    let groups = c["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 9, "{c}");
}

#[test]
fn classes_are_carried_through_the_catalogues_merge_lookup_too() {
    // LAD 2021: Buckinghamshire (2020) was made of four 2017 districts (the catalogue's
    // 2019-2023 merge lookup), all in the 'Affluent England' supergroup but in three subgroups.
    let classes = classes_2017("supergroup");
    let formers = ["E07000004", "E07000005", "E07000006", "E07000007"];
    let shared: BTreeSet<&str> = formers
        .iter()
        .map(|f| classes.get(*f).map(String::as_str).expect("class"))
        .collect();
    assert_eq!(shared.len(), 1);
    let st = placemap_e2e::state();
    let lad21 = st.maps.atlas.layer("lad21").expect("lad21");
    let i = lad21.position("E06000060").expect("Buckinghamshire");
    let class_of = |id: &str| {
        let ind = lad21.indicator(id).expect(id);
        match &ind.period(&ind.default_period).expect("period").values {
            districts::PeriodValues::Categorical(v) => (v[i].clone(), ind),
            districts::PeriodValues::Numeric(_) => panic!("{id} is categorical"),
        }
    };
    let (value, ind) = class_of("area_class_supergroup");
    assert_eq!(value.as_deref(), shared.iter().next().copied());
    let how = ind
        .report
        .recombined
        .iter()
        .find(|r| r.code == "E06000060")
        .map(|r| r.how.clone())
        .unwrap_or_default();
    assert!(
        how.starts_with("carried from its 4 former districts, all 'Affluent England'"),
        "{how}"
    );
    let (value, ind) = class_of("area_class_subgroup");
    assert_eq!(value, None);
    let reason = ind
        .no_data_reason("E06000060", &ind.default_period)
        .map(|r| r.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("classes differ"), "{reason}");
    for f in formers {
        assert!(reason.contains(f), "{reason}");
    }
}
