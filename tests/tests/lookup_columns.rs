//! `POST /lookup` keeps the user's columns, in order, and adds indicator values per point
//! (`indicators=`, `periods=`), in CSV, GeoJSON and JSON. Expected values are read from IMD
//! File 10 itself.

use axum::body::Body;
use axum::http::Request;
use placemap_e2e::{Reply, data_dir, send, state};

async fn post(uri: &str, ctype: &str, body: &str) -> Reply {
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", ctype)
        .body(Body::from(body.to_string()))
        .expect("request");
    send(req).await
}

/// `IMD - Average score` of a district, from File 10.
fn file10_imd_score(code: &str) -> String {
    let mut rdr = csv::Reader::from_path(data_dir().join("imd2019_lad_summaries_file10.csv"))
        .expect("File 10");
    let h = rdr.headers().expect("header").clone();
    let score = h
        .iter()
        .position(|c| c == "IMD - Average score")
        .expect("column");
    rdr.records()
        .map(|r| r.expect("row"))
        .find(|r| &r[0] == code)
        .map(|r| r[score].to_string())
        .expect("district in File 10")
}

/// A list of schools: the user's `id` first, a name with a comma, coordinates in the middle.
const SCHOOLS: &str = "id,school,lon,lat,phase\n\
    S1,\"High Tunstall, Hartlepool\",-1.2129,54.6863,secondary\n\
    S2,At sea,-3.0,53.9,none\n\
    S3,Leeds primary,-1.5491,53.8008,primary\n";

#[tokio::test]
async fn csv_keeps_every_column_in_order_and_adds_indicators() {
    let pay_period = {
        let st = state();
        let l = st.maps.atlas.layer("lad19").expect("lad19");
        l.indicator("median_weekly_pay")
            .expect("pay")
            .default_period
            .clone()
    };
    let r = post(
        "/lookup?layer=lad19&format=csv&indicators=imd_score,median_weekly_pay",
        "text/csv",
        SCHOOLS,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut rdr = csv::Reader::from_reader(r.body.as_slice());
    let header: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "id".to_string(),
            "school".into(),
            "lon".into(),
            "lat".into(),
            "phase".into(),
            "lad19_code".into(),
            "lad19_name".into(),
            "lad19_imd_score_2019".into(),
            format!("lad19_median_weekly_pay_{pay_period}"),
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    // The user's cells come back as sent, the comma inside quotes included.
    assert_eq!(&rows[0][0], "S1");
    assert_eq!(&rows[0][1], "High Tunstall, Hartlepool");
    assert_eq!(&rows[0][4], "secondary");
    assert_eq!(&rows[0][5], "E06000001");
    let score: f64 = rows[0][7].parse().expect("a number");
    let published: f64 = file10_imd_score("E06000001")
        .parse()
        .expect("File 10 number");
    assert!((score - published).abs() < 1e-9, "{score} vs {published}");
    assert!(rows[0][8].parse::<f64>().is_ok(), "pay: {:?}", &rows[0][8]);
    // A point at sea keeps its row, with empty added cells.
    assert_eq!(&rows[1][0], "S2");
    assert_eq!((&rows[1][5], &rows[1][7]), ("", ""));
    assert_eq!((&rows[2][0], &rows[2][5]), ("S3", "E08000035"));
    let leeds: f64 = rows[2][7].parse().expect("Leeds score");
    assert!((leeds - file10_imd_score("E08000035").parse::<f64>().expect("n")).abs() < 1e-9);
}

#[tokio::test]
async fn periods_all_adds_one_column_per_period() {
    let r = post(
        "/lookup?layer=lad21&format=csv&indicators=median_weekly_pay&periods=2010,2020",
        "text/csv",
        SCHOOLS,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.ends_with(
            "lad21_code,lad21_name,lad21_median_weekly_pay_2010,lad21_median_weekly_pay_2020"
        ),
        "{header}"
    );
    // Values as the layer holds them, per period.
    let st = state();
    let l = st.maps.atlas.layer("lad21").expect("lad21");
    let ind = l.indicator("median_weekly_pay").expect("pay");
    let i = l.position("E06000001").expect("Hartlepool");
    let mut rdr = csv::Reader::from_reader(r.body.as_slice());
    let first = rdr.records().next().expect("row").expect("row");
    for (k, period) in [(7, "2010"), (8, "2020")] {
        let want = match &ind.period(period).expect("period").values {
            districts::PeriodValues::Numeric(v) => v[i].expect("a value"),
            districts::PeriodValues::Categorical(_) => panic!("numeric"),
        };
        assert_eq!(first[k].parse::<f64>().expect("number"), want, "{period}");
    }
}

#[tokio::test]
async fn geojson_keeps_properties_in_order_in_geojson_and_csv() {
    let gj = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"zeta":"z1","id":17,"alpha":true},"geometry":{"type":"Point","coordinates":[-1.2129,54.6863]}},
        {"type":"Feature","properties":{"zeta":"z2","id":18,"alpha":false,"extra":"only here"},"geometry":{"type":"Point","coordinates":[-1.5491,53.8008]}}]}"#;
    let r = post(
        "/lookup?layer=lad19&format=geojson&indicators=imd_score",
        "application/geo+json",
        gj,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    let text = r.text();
    // The user's order (zeta, id, alpha), then the added properties.
    let first = text.find("\"properties\"").expect("properties");
    let order: Vec<usize> = [
        "\"zeta\"",
        "\"id\"",
        "\"alpha\"",
        "\"lad19_code\"",
        "\"lad19_imd_score_2019\"",
    ]
    .iter()
    .map(|k| {
        first
            + text[first..]
                .find(k)
                .unwrap_or_else(|| panic!("{k} in {text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}: {text}");
    let j: serde_json::Value = serde_json::from_str(&text).expect("GeoJSON");
    let f = &j["features"][0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["coordinates"][0], -1.2129);
    assert_eq!(f["properties"]["id"], 17);
    assert_eq!(f["properties"]["alpha"], true);
    assert_eq!(f["properties"]["lad19_code"], "E06000001");
    let published: f64 = file10_imd_score("E06000001").parse().expect("number");
    assert_eq!(f["properties"]["lad19_imd_score_2019"], published);
    assert_eq!(j["features"][1]["properties"]["extra"], "only here");
    assert!(j["features"][0]["properties"]["extra"].is_null());

    // The same points as CSV: properties as columns in first-seen order, then lon, lat.
    let r = post("/lookup?layer=lad19&format=csv", "application/geo+json", gj).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("zeta,id,alpha,extra,lon,lat,lad19_code,lad19_name")
    );
    assert_eq!(
        lines.next(),
        Some("z1,17,true,,-1.2129,54.6863,E06000001,Hartlepool")
    );

    // JSON keeps the input too, with the column order.
    let r = post(
        "/lookup?layer=lad19&indicators=imd_score",
        "application/geo+json",
        gj,
    )
    .await;
    let j = r.json();
    assert_eq!(
        j["columns"],
        serde_json::json!(["zeta", "id", "alpha", "extra"])
    );
    assert_eq!(j["points"][0]["input"]["id"], 17);
    assert_eq!(
        j["points"][0]["districts"]["lad19"]["values"]["lad19_imd_score_2019"]["value"],
        published
    );
}

#[tokio::test]
async fn added_columns_never_overwrite_the_users() {
    let csv = "lad19_code,lon,lat\nmine,-1.2129,54.6863\n";
    let r = post("/lookup?layer=lad19&format=csv", "text/csv", csv).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("lad19_code,lon,lat,lad19_code_2,lad19_name")
    );
    assert_eq!(
        lines.next(),
        Some("mine,-1.2129,54.6863,E06000001,Hartlepool")
    );
}

#[tokio::test]
async fn bad_indicator_and_period_options_are_4xx_with_hints() {
    for (uri, status, says) in [
        ("/lookup?layer=lad19&indicators=nope", 404, "imd_score"),
        (
            "/lookup?layer=lad19&indicators=imd_score&periods=1999",
            404,
            "2019",
        ),
        ("/lookup?layer=lad19&periods=2019", 400, "indicators="),
        ("/lookup?layer=lad19&indicators=", 400, "indicators="),
        ("/lookup?layer=lad19&format=kml", 400, "geojson"),
    ] {
        let r = post(uri, "text/csv", SCHOOLS).await;
        assert_eq!(r.status.as_u16(), status, "{uri}: {}", r.text());
        let j = r.json();
        assert!(
            j["hint"].as_str().is_some_and(|h| h.contains(says)),
            "{uri}: {j}"
        );
    }
}

#[tokio::test]
async fn readme_lookup_example_answers_as_documented() {
    // README.md, "Examples, with the server running".
    let r = post(
        "/lookup?layer=lad19&format=csv&indicators=imd_score",
        "text/csv",
        "id,school,lon,lat\nS1,High Tunstall,-1.2129,54.6863\n",
    )
    .await;
    assert_eq!(
        r.text(),
        "id,school,lon,lat,lad19_code,lad19_name,lad19_imd_score_2019\n\
         S1,High Tunstall,-1.2129,54.6863,E06000001,Hartlepool,35.037\n"
    );
    let readme =
        std::fs::read_to_string(test_support::repo_root().join("README.md")).expect("README.md");
    assert!(readme.contains("# S1,High Tunstall,-1.2129,54.6863,E06000001,Hartlepool,35.037"));
}
