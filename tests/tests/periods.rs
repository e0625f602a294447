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
