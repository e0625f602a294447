//! The 2023 districts (`lad23`, LAD 2021 merged by the 2019-2023 changes), IMD 2025 on them and
//! on the unchanged 2011 LSOAs, and data on 2023 codes (claimant count) on today's geography.

use geo::{Area, Contains};
use placemap_e2e::{get, state};

#[tokio::test]
async fn lad23_has_361_districts_and_carlisle_is_in_cumberland() {
    let layers = get("/layers").await.json();
    let lad23 = layers["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["id"] == "lad23")
        .expect("lad23 listed");
    assert_eq!(lad23["district_count"], 361);
    let r = get("/lookup?lon=-2.9340&lat=54.8925&layer=lad23").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["results"][0]["code"], "E06000063", "{j}");
    assert_eq!(j["results"][0]["name"], "Cumberland", "{j}");
}

#[test]
fn merged_districts_are_exact_unions_without_interior_edges() {
    let st = state();
    let lad21 = st.maps.atlas.layer("lad21").expect("lad21");
    let lad23 = st.maps.atlas.layer("lad23").expect("lad23");
    for (new, old) in [
        ("E06000063", &["E07000026", "E07000028", "E07000029"][..]),
        ("E06000064", &["E07000027", "E07000030", "E07000031"][..]),
        (
            "E06000065",
            &[
                "E07000163",
                "E07000164",
                "E07000165",
                "E07000166",
                "E07000167",
                "E07000168",
                "E07000169",
            ][..],
        ),
        (
            "E06000066",
            &["E07000187", "E07000188", "E07000189", "E07000246"][..],
        ),
    ] {
        let merged = lad23.district(new).expect("merged district");
        let members: Vec<_> = old
            .iter()
            .map(|c| lad21.district(c).expect("member in lad21"))
            .collect();
        let sum: f64 = members.iter().map(|d| d.mercator.0.unsigned_area()).sum();
        let area = merged.mercator.0.unsigned_area();
        assert!(
            (area - sum).abs() / sum < 1e-3,
            "{new}: area {area} vs members {sum}"
        );
        // No holes were made, and every vertex is a member's: the outer boundary is unchanged.
        let member_holes: usize = members
            .iter()
            .flat_map(|d| d.wgs84.0.0.iter())
            .map(|p| p.interiors().len())
            .sum();
        let holes: usize = merged.wgs84.0.0.iter().map(|p| p.interiors().len()).sum();
        assert!(holes <= member_holes, "{new}: {holes} holes");
        let inputs: std::collections::HashSet<(u64, u64)> = members
            .iter()
            .flat_map(|d| d.wgs84.0.0.iter())
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter())
            .map(|c| (c.x.to_bits(), c.y.to_bits()))
            .collect();
        for p in &merged.wgs84.0.0 {
            for c in &p.exterior().0 {
                assert!(
                    inputs.contains(&(c.x.to_bits(), c.y.to_bits())),
                    "{new}: vertex {c:?} is not a member's"
                );
                // A vertex inside the merged area would be left of a former internal border.
                assert!(!merged.wgs84.0.contains(c), "{new}: interior vertex {c:?}");
            }
        }
        let notes = merged
            .attributes
            .iter()
            .find(|(k, _)| k == "merged_from")
            .map(|(_, v)| v.clone());
        assert_eq!(notes.as_deref(), Some(old.join(",").as_str()));
        // Every zoom band keeps the same parts, with no slivers or seams along old borders.
        let bands = st.maps.bands("lad23").expect("bands");
        let i = lad23.position(new).expect("position");
        for z in 0..=12u8 {
            let g = &bands.geometry(z)[i].0;
            let h: usize = g.0.iter().map(|p| p.interiors().len()).sum();
            assert!(h <= member_holes, "{new} z{z}: {h} holes");
            assert!(!g.0.is_empty(), "{new} z{z}: vanished");
        }
    }
}

#[tokio::test]
async fn imd_2025_and_the_claimant_count_map_on_lad23() {
    let j = get("/layers/lad23.json").await.json();
    let ind = |id: &str| -> serde_json::Value {
        j["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} on lad23"))
            .clone()
    };
    assert_eq!(ind("imd25_score")["join"]["matched"], 296);
    assert_eq!(
        ind("imd25_health_share_most_deprived_decile")["join"]["matched"],
        296
    );
    // Published on 2023 codes: every UK district has a claimant rate.
    assert_eq!(ind("claimant_rate")["join"]["matched"], 361);
    let r = get("/tiles/lad23/imd25_score/6/31/20.png").await;
    assert_eq!(r.status, 200);
    let legend = get("/legend/lad23/imd25_score.json").await.json();
    assert!(
        legend["credit"]
            .as_str()
            .is_some_and(|c| c.contains("English Indices of Deprivation 2025")),
        "{legend}"
    );
}

#[test]
fn imd_2025_deciles_on_the_unchanged_2011_lsoas() {
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let ind = lsoa.indicator("imd25_decile").expect("imd25_decile");
    let r = &ind.report;
    assert_eq!(r.matched, 31_810);
    assert_eq!(r.boundaries_without_data.len(), 1_034);
    assert!(r.boundaries_without_data.iter().all(|c| {
        c.hint
            .as_deref()
            .is_some_and(|h| h.contains("split or merged in the 2021 LSOA revision"))
    }));
    assert_eq!(r.data_without_boundary.len(), 1_945);
    assert!(r.data_without_boundary.iter().all(|c| {
        c.hint
            .as_deref()
            .is_some_and(|h| h.starts_with("new in 2021"))
    }));
}

/// Rows of a staged CSV as header -> value maps (BOM stripped).
fn read_rows(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = placemap_e2e::data_dir().join(name);
    let mut r = csv::Reader::from_path(&path).expect("staged CSV");
    let headers: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.expect("row").iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Share of `rows` whose `district` column is one of `codes` that have decile 1.
fn share_in_decile_1(
    rows: &[std::collections::HashMap<String, String>],
    district: &str,
    codes: &[&str],
    decile_prefix: &str,
) -> f64 {
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| codes.contains(&r[district].as_str()))
        .collect();
    let d1 = mine
        .iter()
        .filter(|r| {
            r.iter()
                .find(|(k, _)| k.starts_with(decile_prefix))
                .is_some_and(|(_, v)| v == "1")
        })
        .count();
    d1 as f64 / mine.len() as f64
}

#[tokio::test]
async fn imd_2019_to_2025_change_maps_on_lad23_and_cumberland_moves_as_its_lsoas_did() {
    let ind = "imd_share_most_deprived_decile_2019_2025";
    let legend = get(&format!("/legend/lad23/{ind}.json?change=2019..2025")).await;
    assert_eq!(legend.status, 200, "{}", legend.text());
    let legend = legend.json();
    assert!(
        legend["subtitle"]
            .as_str()
            .is_some_and(|s| s.contains("2019") && s.contains("2025")),
        "{legend}"
    );
    assert!(
        legend["entries"].as_array().is_some_and(|e| e.len() >= 2),
        "{legend}"
    );
    let tile = get(&format!("/tiles/lad23/{ind}/6/31/20.png?change=2019..2025")).await;
    assert_eq!(tile.status, 200, "{}", tile.text());
    assert_eq!(tile.header("content-type").as_deref(), Some("image/png"));
    // Only the two releases are periods of the series.
    let r = get(&format!("/legend/lad23/{ind}.json?change=2015..2025")).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("2019, 2025"), "{}", r.text());

    // Cumberland (Allerdale, Carlisle, Copeland in 2019), counted here from the LSOA files.
    let old: Vec<String> = read_rows("lad_changes_2019_2023_england.csv")
        .into_iter()
        .filter(|r| r["new_code"] == "E06000063")
        .map(|r| r["old_code"].clone())
        .collect();
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    assert_eq!(old, ["E07000026", "E07000028", "E07000029"]);
    let s19 = share_in_decile_1(
        &read_rows("imd2019_lsoa_file1_imd.csv"),
        "Local Authority District code (2019)",
        &old,
        "Index of Multiple Deprivation (IMD) Decile",
    );
    let s25 = share_in_decile_1(
        &read_rows("imd2025_lsoa21_file1_imd.csv"),
        "Local Authority District code (2024)",
        &["E06000063"],
        "Index of Multiple Deprivation (IMD) Decile",
    );
    let st = state();
    let lad23 = st.maps.atlas.layer("lad23").expect("lad23");
    let series = lad23.indicator(ind).expect("series on lad23");
    let opts = maps::options::StyleOptions {
        change: Some("2019..2025".into()),
        ..Default::default()
    };
    let style = maps::style::resolve(lad23, series, &opts).expect("change style");
    let i = lad23.position("E06000063").expect("Cumberland");
    let change = style.values[i].expect("Cumberland has both periods");
    assert!(
        (change - (s25 - s19)).abs() < 1e-12,
        "{change} vs {s25} - {s19}"
    );
    assert!(s19 > 0.0 && s25 > 0.0, "{s19} {s25}");
    // Every English district has both periods, so every one has a change.
    let with_change = style.values.iter().filter(|v| v.is_some()).count();
    assert_eq!(with_change, 296);

    // /stats/aggregate keyed by LAD 2019 codes follows lad23's lineage the same way.
    let r = get(
        "/stats/aggregate?from=lsoa11&to=lad23&indicator=imd_decile&how=share&class=%3D1&key=lad19cd",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let cumberland = j["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["code"] == "E06000063")
        .expect("Cumberland row");
    let v = cumberland["value"].as_f64().expect("Cumberland has LSOAs");
    assert!((v - s19).abs() < 1e-12, "{v} vs {s19}");
}

/// The 1,034 LSOAs of 2011 that the 2021 revision split or merged say why they are blank, in
/// the legend, the CSV export and the lookup.
#[tokio::test]
async fn the_split_or_merged_lsoas_say_why_they_have_no_imd_2025_value() {
    let legend = get("/legend/lsoa11/imd25_decile.json").await.json();
    let reasons = legend["no_data"]["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.len(), 1, "{legend}");
    assert_eq!(reasons[0]["count"], 1_034);
    assert!(
        reasons[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("split or merged in the 2021 LSOA revision")),
        "{legend}"
    );
    let csv = get("/layers/lsoa11.csv?indicators=imd25_decile")
        .await
        .text();
    let mut lines = csv.lines();
    let header = lines.next().expect("header");
    assert!(
        header.ends_with("imd25_decile,imd25_decile_no_data_reason"),
        "{header}"
    );
    let explained = lines
        .filter(|l| l.contains("was split or merged in the 2021 LSOA revision"))
        .count();
    assert_eq!(explained, 1_034);

    // One of them, looked up at a point inside it.
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let ind = lsoa.indicator("imd25_decile").expect("imd25_decile");
    let code = &ind.report.boundaries_without_data[0].code;
    let d = lsoa.district(code).expect("district");
    let p = geo::InteriorPoint::interior_point(&d.wgs84.0).expect("interior point");
    let j = get(&format!("/lookup?lon={}&lat={}&layer=lsoa11", p.x(), p.y()))
        .await
        .json();
    let v = &j["results"][0]["values"]["imd25_decile"];
    assert_eq!(j["results"][0]["code"], code.as_str(), "{j}");
    assert!(v["value"].is_null(), "{j}");
    assert!(
        v["no_data_reason"]
            .as_str()
            .is_some_and(|r| r.contains("split or merged")),
        "{j}"
    );
}
