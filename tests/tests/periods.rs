//! `periods=` takes a list of periods on every export (issue 15): CSV, GeoJSON, OGC items, and
//! columns name their period.

use placemap_e2e::{expect_client_error, get, state};

#[tokio::test]
async fn periods_lists_choose_the_columns_of_every_export() {
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let pay = layer.indicator("median_weekly_pay").expect("pay");
    let value = |label: &str| match &pay.period(label).expect("period").values {
        districts::layer::PeriodValues::Numeric(v) => {
            v[layer.position("E06000001").expect("Hartlepool")]
        }
        _ => panic!("numeric"),
    };

    let csv = get("/layers/lad19.csv?indicators=median_weekly_pay&periods=2015,2019").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    let text = csv.text();
    let header = text.lines().next().expect("header");
    assert!(
        header.contains("median_weekly_pay_2015") && header.contains("median_weekly_pay_2019"),
        "{header}"
    );
    assert!(
        !header.split(',').any(|c| c == "median_weekly_pay"),
        "{header}"
    );

    let gj = get("/layers/lad19.geojson?indicators=median_weekly_pay&periods=2015&zoom=4")
        .await
        .json();
    let hartlepool = gj["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["properties"]["code"] == "E06000001")
        .expect("Hartlepool");
    assert_eq!(
        hartlepool["properties"]["median_weekly_pay_2015"].as_f64(),
        value("2015")
    );

    let ogc = get(
        "/ogc/collections/lad19/items/E06000001?indicators=median_weekly_pay&periods=2015,2021",
    )
    .await
    .json();
    assert_eq!(
        ogc["properties"]["median_weekly_pay_2015"].as_f64(),
        value("2015")
    );
    assert_eq!(
        ogc["properties"]["median_weekly_pay_2021"].as_f64(),
        value("2021")
    );

    // No indicator asked for has the period: a 404 listing the periods they have.
    let e = expect_client_error(
        "/layers/lad19.csv?indicators=median_weekly_pay&periods=1900",
        404,
    )
    .await;
    assert!(
        e["hint"].as_str().is_some_and(|h| h.contains("2015")),
        "{e}"
    );
    // datetime= and periods= together are refused.
    expect_client_error(
        "/ogc/collections/lad19/items?periods=2015&datetime=2015-06-01",
        400,
    )
    .await;
}

/// Issue 15.6: the default column of an indicator with several periods names its period
/// (`median_weekly_pay_2021`, the lad19 default) in CSV, GeoJSON, OGC items and GIS files;
/// one with a single period keeps its id; `columns=plain` gives plain ids.
#[tokio::test]
async fn default_columns_name_their_period_unless_asked_plain() {
    let st = state();
    let layer = st.maps.atlas.layer("lad19").expect("lad19");
    let pay = layer.indicator("median_weekly_pay").expect("pay");
    assert!(pay.periods.len() > 1);
    let imd = layer.indicator("imd_score").expect("imd");
    assert_eq!(imd.periods.len(), 1, "imd_score has one period");
    let key = format!("median_weekly_pay_{}", pay.default_period);
    assert_eq!(key, "median_weekly_pay_2021");
    let header = |text: String| -> Vec<String> {
        text.lines()
            .next()
            .expect("header")
            .split(',')
            .map(str::to_string)
            .collect()
    };
    let csv = get("/layers/lad19.csv?indicators=median_weekly_pay,imd_score").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    let h = header(csv.text());
    assert!(
        h.contains(&key) && h.contains(&"imd_score".to_string()),
        "{h:?}"
    );
    assert!(!h.contains(&"median_weekly_pay".to_string()), "{h:?}");
    let plain = get("/layers/lad19.csv?indicators=median_weekly_pay,imd_score&columns=plain").await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    let h = header(plain.text());
    assert!(
        h.contains(&"median_weekly_pay".to_string()) && !h.contains(&key),
        "{h:?}"
    );

    let gj = get("/layers/lad19.geojson?indicators=median_weekly_pay&zoom=4")
        .await
        .json();
    let props = &gj["features"][0]["properties"];
    assert!(
        props.get(&key).is_some() && props.get("median_weekly_pay").is_none(),
        "{props}"
    );
    let items = get("/ogc/collections/lad19/items?indicators=median_weekly_pay&limit=1")
        .await
        .json();
    let props = &items["features"][0]["properties"];
    assert!(props.get(&key).is_some(), "{props}");
    let items =
        get("/ogc/collections/lad19/items?indicators=median_weekly_pay&limit=1&columns=plain")
            .await
            .json();
    assert!(
        items["features"][0]["properties"]
            .get("median_weekly_pay")
            .is_some()
    );
    // properties= takes the names the response has.
    let r = get(&format!(
        "/ogc/collections/lad19/items?indicators=median_weekly_pay&limit=1&properties=code,{key}"
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());

    expect_client_error("/layers/lad19.csv?periods=all&columns=plain", 400).await;
    expect_client_error("/layers/lad19.csv?columns=short", 400).await;
    expect_client_error("/ogc/collections/lad19/items?columns=short", 400).await;
}
