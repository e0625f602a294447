//! `/stats/...` and the derived indicators (aggregates, LISA clusters) on the real data,
//! driven through the router with `oneshot`. Expected numbers are recomputed here from the
//! loaded layers with plain arithmetic, not taken from the analysis crate.

use districts::layer::PeriodValues;
use geo::InteriorPoint;
use placemap_e2e::{expect_client_error, get, state};
use serde_json::Value;

fn numeric(layer: &str, id: &str) -> Vec<Option<f64>> {
    let st = state();
    let l = st.maps.atlas.layer(layer).expect("layer");
    let ind = l.indicator(id).expect("indicator");
    match &ind.period(&ind.default_period).expect("period").values {
        PeriodValues::Numeric(v) => v.clone(),
        PeriodValues::Categorical(_) => panic!("{id} is categorical"),
    }
}

fn categorical(layer: &str, id: &str) -> Vec<Option<String>> {
    let st = state();
    let l = st.maps.atlas.layer(layer).expect("layer");
    let ind = l.indicator(id).expect("indicator");
    match &ind.period(&ind.default_period).expect("period").values {
        PeriodValues::Categorical(v) => v.clone(),
        PeriodValues::Numeric(_) => panic!("{id} is numeric"),
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn compare_mining_legacy_with_the_rest_of_england() {
    let r = get("/stats/lad19/employment_rate/compare?group_by=area_class_subgroup&group=Mining%20Legacy&england_only=true").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let c = &j["comparison"];
    // Recompute from the layer: English districts whose subgroup is Mining Legacy.
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let class = categorical("lad19", "area_class_subgroup");
    let rate = numeric("lad19", "employment_rate");
    let mut mine = Vec::new();
    let mut rest = Vec::new();
    for (i, d) in layer.districts.iter().enumerate() {
        let (Some(cl), Some(v)) = (&class[i], rate[i]) else {
            continue;
        };
        if !d.code.starts_with('E') {
            continue;
        }
        if cl == "Mining Legacy" {
            &mut mine
        } else {
            &mut rest
        }
        .push(v);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert_eq!(c["a"]["count"], mine.len());
    assert_eq!(c["a"]["count"], 7);
    assert_eq!(c["b"]["count"], rest.len());
    assert_eq!(c["b"]["name"], "rest of England");
    assert!((f(&c["a"]["mean"]) - mean(&mine)).abs() < 1e-9);
    assert!((f(&c["gap_mean"]) - (mean(&mine) - mean(&rest))).abs() < 1e-9);
    assert!(c.get("ranks").is_none(), "ranks only when asked");
    assert_eq!(j["period"], "2023");
    // Ranks on request; higher employment is better, so rank 1 is the lowest rate.
    let j = get("/stats/lad19/employment_rate/compare?group_by=area_class_subgroup&group=Mining%20Legacy&england_only=true&ranks=true").await.json();
    let ranks = j["comparison"]["ranks"].as_array().expect("ranks");
    let first = ranks.iter().find(|r| r["rank"] == 1).expect("rank 1");
    let lowest = mine.iter().chain(&rest).copied().fold(f64::MAX, f64::min);
    assert_eq!(f(&first["value"]), lowest);
    // CSV: the group table.
    let r = get("/stats/lad19/employment_rate/compare?group_by=area_class_subgroup&group=Mining%20Legacy&england_only=true&format=csv").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    let text = r.text();
    assert!(text.starts_with("group,name,count,missing,mean"));
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("Mining Legacy,,7,0,"))
    );
}

#[tokio::test]
async fn compare_bad_input() {
    let j = expect_client_error(
        "/stats/lad19/imd_score/compare?group_by=area_class_subgroup&group=Atlantis",
        404,
    )
    .await;
    assert!(
        j["hint"]
            .as_str()
            .is_some_and(|h| h.contains("Mining Legacy"))
    );
    // Wales has no IMD score: an empty group.
    expect_client_error(
        "/stats/lad19/imd_score/compare?group_by=country&group=Wales",
        422,
    )
    .await;
    expect_client_error("/stats/lad19/imd_score/compare?group_by=area_class_subgroup&group=Mining%20Legacy&colour=red", 400).await;
    expect_client_error("/stats/lad19/imd_score/compare?group=Mining%20Legacy", 400).await;
    expect_client_error(
        "/stats/lad19/imd_score/compare?group_by=shoe_size&group=x",
        400,
    )
    .await;
    expect_client_error("/stats/lad19/imd_score/compare?group_by=area_class_subgroup&group=Mining%20Legacy&format=xml", 400).await;
    expect_client_error(
        "/stats/lad19/imd_score/compare?group_by=codes&codes=E06000001,X99",
        404,
    )
    .await;
    let j = expect_client_error(
        "/stats/nope/imd_score/compare?group_by=country&group=England",
        404,
    )
    .await;
    assert!(j["hint"].as_str().is_some_and(|h| h.contains("lad19")));
    expect_client_error(
        "/stats/lad19/nope/compare?group_by=country&group=England",
        404,
    )
    .await;
    // A user list of codes against the rest works.
    let j = get(
        "/stats/lad19/imd_score/compare?group_by=codes&codes=E06000001,E06000002&group=Teesside",
    )
    .await
    .json();
    assert_eq!(j["comparison"]["a"]["count"], 2);
    assert_eq!(j["comparison"]["a"]["group"], "Teesside");
}

#[tokio::test]
async fn correlate_deprivation_with_pay() {
    let r = get("/stats/lad19/imd_score/correlate?with=median_weekly_pay").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let (x, y) = (
        numeric("lad19", "imd_score"),
        numeric("lad19", "median_weekly_pay"),
    );
    let pairs: Vec<(f64, f64)> = x.iter().zip(&y).filter_map(|(a, b)| a.zip(*b)).collect();
    assert_eq!(j["pearson"]["n"], pairs.len());
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
    let r_expected = sxy / (sxx * syy).sqrt();
    assert!((f(&j["pearson"]["r"]) - r_expected).abs() < 1e-9);
    assert!(r_expected < -0.3, "more deprived districts have lower pay");
    assert!(f(&j["spearman"]["r"]) < -0.3);
    let csv = get("/stats/lad19/imd_score/correlate?with=median_weekly_pay&format=csv")
        .await
        .text();
    assert!(csv.starts_with("x,y,method,r,n,excluded\nimd_score,median_weekly_pay,pearson,"));
    expect_client_error("/stats/lad19/imd_score/correlate", 400).await;
    expect_client_error("/stats/lad19/imd_score/correlate?with=nope", 404).await;
    expect_client_error(
        "/stats/lad19/imd_score/correlate?with=median_weekly_pay&year=1066",
        404,
    )
    .await;
}

#[tokio::test]
async fn moran_is_seeded_and_checks_its_options() {
    let uri = "/stats/lad19/imd_score/moran?england_only=true&permutations=199&seed=7";
    let a = get(uri).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let b = get(uri).await;
    assert_eq!(a.json(), b.json(), "same seed, same answer");
    let j = a.json();
    assert_eq!(j["moran"]["n"], 317);
    assert!(f(&j["moran"]["i"]) > 0.3, "deprivation is clustered");
    assert_eq!(f(&j["moran"]["p_sim"]), 1.0 / 200.0);
    let none = get("/stats/lad19/imd_score/moran?england_only=true&permutations=0")
        .await
        .json();
    assert!(none["moran"]["p_sim"].is_null());
    assert_eq!(none["moran"]["i"], j["moran"]["i"]);
    let csv = get("/stats/lad19/imd_score/moran?england_only=true&format=csv")
        .await
        .text();
    assert!(csv.starts_with("n,islands,moran_i,"));
    expect_client_error("/stats/lad19/imd_score/moran?permutations=lots", 400).await;
    expect_client_error("/stats/lad19/imd_score/moran?permutations=10000000", 400).await;
    expect_client_error("/stats/lad19/imd_score/moran?alpha=0.05", 400).await;
    expect_client_error("/stats/lad19/area_class_subgroup/moran", 404).await;
}

#[tokio::test]
async fn clusters_match_the_derived_lisa_layer() {
    let r = get("/stats/lad19/imd_score/clusters?england_only=true").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    let districts = j["districts"].as_array().expect("districts");
    assert_eq!(districts.len(), 317);
    let counted: u64 = j["counts"]
        .as_object()
        .expect("counts")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(counted, 317);
    // Same defaults (999 permutations, seed 42, alpha 0.05) as the imd_score_lisa indicator.
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let lisa = categorical("lad19", "imd_score_lisa");
    for d in districts {
        let code = d["code"].as_str().expect("code");
        let i = layer.position(code).expect("known code");
        assert_eq!(lisa[i].as_deref(), d["class"].as_str(), "{code}");
    }
    let csv = get("/stats/lad19/imd_score/clusters?england_only=true&format=csv")
        .await
        .text();
    assert_eq!(csv.lines().count(), 318);
    assert!(csv.starts_with("code,name,value,z,lag,local_i,quadrant,p_sim,class\n"));
    expect_client_error("/stats/lad19/imd_score/clusters?alpha=2", 400).await;
    expect_client_error("/stats/lad19/imd_score/clusters?knn=0", 400).await;
}

#[tokio::test]
async fn aggregate_reports_exclusions() {
    let r = get("/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&how=weighted-mean&weights=population_total").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["assigned"], 32_844);
    assert_eq!(j["targets_with_value"], 317);
    assert!(
        j["exclusions"]["summary"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let hartlepool = j["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["code"] == "E06000001")
        .expect("Hartlepool");
    let st = state();
    let lad19 = st.maps.atlas.layer("lad19").expect("lad19");
    let i = lad19.position("E06000001").expect("Hartlepool");
    let published = numeric("lad19", "imd_average_rank")[i].expect("File 10");
    assert!((32_845.0 - f(&hartlepool["value"]) - published).abs() < 0.15);
    assert_eq!(hartlepool["areas_used"], 58);

    // LAD 2019 codes into LAD 2021: the LSOAs of the merged districts are reported, not dropped.
    let j = get(
        "/stats/aggregate?from=lsoa11&to=lad21&indicator=imd_rank&how=mean&via=lookup&key=lad19cd",
    )
    .await
    .json();
    let unassigned = j["exclusions"]["areas"]["unassigned"]
        .as_array()
        .expect("unassigned");
    assert!(!unassigned.is_empty());
    assert_eq!(
        j["assigned"].as_u64().expect("n") as usize + unassigned.len(),
        32_844
    );
    assert!(
        j["exclusions"]["summary"][0]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("no district"))
    );
    // Spatially: interior points outside the generalised coastline are reported too.
    let j = get("/stats/aggregate?from=lsoa11&to=lad21&indicator=imd_decile&how=share&class=%3D1&via=spatial").await.json();
    let outside = j["exclusions"]["areas"]["unassigned"]
        .as_array()
        .expect("unassigned")
        .len();
    assert_eq!(
        j["assigned"].as_u64().expect("n") as usize + outside,
        32_844
    );
    // Through the catalogued lookup to MSOA, CSV.
    let csv =
        get("/stats/aggregate?from=lsoa11&to=msoa11&indicator=imd_decile&how=median&format=csv")
            .await
            .text();
    assert_eq!(csv.lines().count(), 6_792);

    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&how=weighted-mean",
        400,
    )
    .await;
    expect_client_error("/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&how=mean&weights=population_total", 400).await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_decile&how=share",
        400,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_decile&how=share&class=%3C%3Dx",
        400,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&how=mode",
        400,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&via=teleport",
        400,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&key=nope",
        400,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&weights=nope&how=weighted-mean",
        404,
    )
    .await;
    expect_client_error(
        "/stats/aggregate?from=nope&to=lad19&indicator=imd_rank",
        404,
    )
    .await;
    expect_client_error("/stats/aggregate?from=lsoa11&to=lad19&indicator=nope", 404).await;
    expect_client_error("/stats/aggregate?from=lsoa11&to=lad19", 400).await;
    expect_client_error(
        "/stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&colour=red",
        400,
    )
    .await;
}

#[tokio::test]
async fn derived_indicators_are_listed_looked_up_and_exported() {
    let j = get("/stats").await.json();
    let ids: Vec<&str> = j["derived_indicators"]
        .as_array()
        .expect("derived")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    for id in [
        "imd_lsoa_share_most_deprived_decile",
        "imd_rank_pop_weighted",
        "imd_rank_pop_weighted_spatial",
        "imd_score_lisa",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // In the catalogue listing with their coverage.
    let layers = get("/layers").await.json();
    let lad19 = layers["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["id"] == "lad19")
        .expect("lad19");
    let share = lad19["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["id"] == "imd_lsoa_share_most_deprived_decile")
        .expect("derived share");
    assert_eq!(share["join"]["matched"], 317);
    assert!(
        share["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("placemap aggregation"))
    );
    // Lookup of Hartlepool returns them with the published File 10 proportion.
    let j = get("/lookup?lon=-1.2129&lat=54.6863&layer=lad19")
        .await
        .json();
    let v = &j["results"][0]["values"];
    let published = numeric("lad19", "imd_proportion_most_deprived_10pc");
    let st = state();
    let i = st
        .maps
        .atlas
        .layer("lad19")
        .and_then(|l| l.position("E06000001"))
        .expect("Hartlepool");
    let share = f(&v["imd_lsoa_share_most_deprived_decile"]["value"]);
    assert_eq!(
        (share * 1e4).round() / 1e4,
        published[i].expect("published")
    );
    assert_eq!(
        v["imd_score_lisa"]["value"],
        categorical("lad19", "imd_score_lisa")[i]
            .clone()
            .expect("class")
    );
    // GeoJSON export carries the class.
    let r = get("/layers/lad19.geojson?indicators=imd_score_lisa&bbox=-1.3,54.6,-1.1,54.75&zoom=8")
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let g = r.json();
    let hp = g["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["code"] == "E06000001" || f["id"] == "E06000001")
        .expect("Hartlepool feature");
    assert_eq!(
        hp["properties"]["imd_score_lisa"],
        v["imd_score_lisa"]["value"]
    );
    // Spatially aggregated on LAD 2021: Buckinghamshire (2020) has a value.
    let j = get("/lookup?lon=-0.8&lat=51.8&layer=lad21").await.json();
    let r0 = &j["results"][0];
    assert_eq!(r0["code"], "E06000060");
    assert!(
        r0["values"]["imd_rank_pop_weighted_spatial"]["value"]
            .as_f64()
            .is_some_and(|v| v > 20_000.0)
    );
}

#[tokio::test]
async fn lisa_tile_renders_each_class_in_its_legend_colour() {
    let legend = get("/legend/lad19/imd_score_lisa.json").await;
    assert_eq!(legend.status, 200, "{}", legend.text());
    let legend = legend.json();
    let colour_of = |label: &str| -> [u8; 4] {
        let e = legend["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["label"] == label)
            .unwrap_or_else(|| panic!("no legend entry {label}: {legend}"));
        let hex = e["color"]
            .as_str()
            .expect("hex colour")
            .trim_start_matches('#');
        let c = |k: usize| u8::from_str_radix(&hex[k..k + 2], 16).expect("hex");
        [c(0), c(2), c(4), 255]
    };
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let lisa = categorical("lad19", "imd_score_lisa");
    let mut checked = 0;
    for class in ["high-high", "low-low"] {
        // The first district of this class (in layer order) big enough at zoom 9.
        for (i, c) in lisa.iter().enumerate() {
            if c.as_deref() != Some(class) {
                continue;
            }
            let p = layer.districts[i]
                .wgs84
                .0
                .interior_point()
                .expect("interior point");
            let t = tile_math::tile_for_lonlat(p.x(), p.y(), 9);
            let b = t.mercator_bounds();
            let (x, y) = tile_math::lonlat_to_mercator(p.x(), p.y());
            let px = ((x - b.min_x) / b.width() * 256.0) as u32;
            let py = ((b.max_y - y) / b.height() * 256.0) as u32;
            let r = get(&format!(
                "/tiles/lad19/imd_score_lisa/{}/{}/{}.png",
                t.z, t.x, t.y
            ))
            .await;
            assert_eq!(r.status, 200, "{}", r.text());
            let img = image::load_from_memory(&r.body).expect("PNG").to_rgba8();
            // Interior points can sit near a border: accept the district when its pixel and
            // its four neighbours agree.
            let around = [(0i32, 0i32), (2, 0), (-2, 0), (0, 2), (0, -2)].map(|(dx, dy)| {
                img.get_pixel(
                    (px as i32 + dx).clamp(0, 255) as u32,
                    (py as i32 + dy).clamp(0, 255) as u32,
                )
                .0
            });
            if around.iter().all(|p| *p == around[0]) {
                assert_eq!(
                    around[0],
                    colour_of(class),
                    "{} ({class})",
                    layer.districts[i].code
                );
                checked += 1;
                break;
            }
        }
    }
    assert_eq!(
        checked, 2,
        "a high-high and a low-low district were checked"
    );
}
