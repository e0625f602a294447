//! OGC API - Features Part 2 (CRS by reference) and Part 3 (Filtering) on the real layers:
//! British National Grid coordinates checked against pyproj and against the BNG source file,
//! CQL2 filters checked against the same condition evaluated on the full CSV download,
//! `sortby`, `properties`, queryables as JSON Schema, the OpenAPI document validated, point
//! lookups by eastings/northings, and every bad value answered 400 with a hint.
//!
//! The independent checks run `tests/scripts/ogc_check.py` (pyproj, openapi-spec-validator,
//! jsonschema: `.ci/run` installs them); outside CI a missing module skips that check.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use placemap_e2e::{expect_client_error, get, state};
use serde_json::Value;

const BNG: &str = "http://www.opengis.net/def/crs/EPSG/0/27700";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs the checker script; `None` (after saying why) when python3 or a module is missing
/// outside CI.
fn python(args: &[&str], stdin: Option<&str>) -> Option<Value> {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ogc_check.py");
    let missing = |why: String| {
        assert!(
            !test_support::in_ci(),
            "{why}: CI must have python3 with pyproj, openapi-spec-validator and jsonschema (.ci/run)"
        );
        eprintln!("skipping an independent check: {why}");
        None
    };
    let child = std::process::Command::new("python3")
        .arg(&script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return missing(format!("python3 does not run: {e}")),
    };
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.unwrap_or_default().as_bytes())
            .expect("write to the checker");
    }
    let out = child.wait_with_output().expect("checker finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("checker output is not JSON ({e}): {stdout}\n{stderr}"));
    if out.status.code() == Some(2) {
        return missing(format!("missing {}", v["missing"]));
    }
    assert!(out.status.success(), "the check failed: {v}\n{stderr}");
    Some(v)
}

/// Every position of a (Multi)Polygon geometry.
fn positions(geometry: &Value) -> Vec<[f64; 2]> {
    fn walk(v: &Value, out: &mut Vec<[f64; 2]>) {
        match v.as_array() {
            Some(a) if a.len() >= 2 && a[0].is_number() => {
                out.push([a[0].as_f64().expect("x"), a[1].as_f64().expect("y")]);
            }
            Some(a) => a.iter().for_each(|x| walk(x, out)),
            None => {}
        }
    }
    let mut out = Vec::new();
    walk(&geometry["coordinates"], &mut out);
    out
}

/// The largest distance from a point of `a` to its nearest point of `b`.
fn farthest_nearest(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    a.iter()
        .map(|p| {
            b.iter()
                .map(|q| (p[0] - q[0]).hypot(p[1] - q[1]))
                .fold(f64::INFINITY, f64::min)
        })
        .fold(0.0, f64::max)
}

/// pyproj's British National Grid of each feature's CRS84 positions (one Python run for all).
fn pyproj_bng(features: &[Vec<[f64; 2]>]) -> Option<Vec<Vec<[f64; 2]>>> {
    let all: Vec<[f64; 2]> = features.iter().flatten().copied().collect();
    let input = serde_json::to_string(&all).expect("json");
    let out: Vec<[f64; 2]> =
        serde_json::from_value(python(&["to-bng"], Some(&input))?).expect("pairs");
    assert_eq!(out.len(), all.len());
    let mut rest = &out[..];
    Some(
        features
            .iter()
            .map(|f| {
                let (mine, tail) = rest.split_at(f.len());
                rest = tail;
                mine.to_vec()
            })
            .collect(),
    )
}

/// Asserts that each feature's positions and pyproj's transformation of `lonlat`'s are within
/// `tolerance` metres of each other both ways; returns how many positions were compared.
fn assert_matches_pyproj(lonlat: &Value, bng: &Value, tolerance: f64) -> usize {
    let fl = lonlat["features"].as_array().expect("features");
    let fb = bng["features"].as_array().expect("features");
    assert_eq!(ids(lonlat), ids(bng));
    let input: Vec<Vec<[f64; 2]>> = fl.iter().map(|f| positions(&f["geometry"])).collect();
    let Some(theirs) = pyproj_bng(&input) else {
        return 0;
    };
    let mut n = 0;
    for ((f, ours), theirs) in fb
        .iter()
        .zip(fb.iter().map(|f| positions(&f["geometry"])))
        .zip(theirs)
    {
        let d = farthest_nearest(&ours, &theirs).max(farthest_nearest(&theirs, &ours));
        assert!(d < tolerance, "{}: {d} m from pyproj", f["id"]);
        n += ours.len();
    }
    n
}

pub(crate) fn ids(j: &Value) -> Vec<String> {
    j["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn conformance_and_collections_name_the_crs_and_the_queryables() {
    let c = get("/ogc/conformance").await.json();
    let classes: Vec<&str> = c["conformsTo"]
        .as_array()
        .expect("conformsTo")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for want in [
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ] {
        assert!(classes.contains(&want), "{want} not in {classes:?}");
    }
    // Every collection offers the four CRSs; the storage CRS is the boundary file's.
    for (id, storage) in [
        ("lad19", CRS84),
        ("lad21", BNG),
        ("lad23", BNG),
        ("lsoa11", CRS84),
    ] {
        let col = get(&format!("/ogc/collections/{id}")).await.json();
        let crs: Vec<&str> = col["crs"]
            .as_array()
            .expect("crs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            crs,
            [
                CRS84,
                "http://www.opengis.net/def/crs/EPSG/0/4326",
                BNG,
                "http://www.opengis.net/def/crs/EPSG/0/3857"
            ]
        );
        assert_eq!(col["storageCrs"], storage, "{id}");
        let q = col["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables")
            .expect("queryables link");
        assert!(q["href"].as_str().expect("href").ends_with("/queryables"));
    }

    // Queryables: JSON Schema with typed properties.
    let r = get("/ogc/collections/lsoa11/queryables").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/schema+json")
    );
    let schema = r.json();
    let props = &schema["properties"];
    assert_eq!(props["code"]["type"], "string");
    assert_eq!(props["region_name"]["type"], "string");
    assert_eq!(props["imd_decile"]["type"], "number");
    assert_eq!(props["imd_decile_2019"]["type"], "number");
    assert!(props["geometry"].is_object());
    let dir = std::env::temp_dir().join(format!("placemap-ogc-parts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("queryables.json");
    std::fs::write(&file, r.body).expect("write");
    if let Some(v) = python(&["json-schema", &file.display().to_string()], None) {
        assert_eq!(v["valid"], true);
    }
    // The OpenAPI document is valid and documents the new parameters and path.
    let api = get("/ogc/api").await;
    let doc = api.json();
    let items = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    for p in [
        "crs",
        "bbox-crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
    ] {
        assert!(items.iter().any(|x| x["name"] == p), "{p} undocumented");
    }
    assert!(doc["paths"]["/collections/{collectionId}/queryables"].is_object());
    let file = dir.join("openapi.json");
    std::fs::write(&file, api.body).expect("write");
    if let Some(v) = python(&["openapi", &file.display().to_string()], None) {
        assert_eq!(v["valid"], true, "{v}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn british_national_grid_output_matches_pyproj_within_10_cm() {
    let page = "/ogc/collections/lad19/items?limit=12&offset=300&indicators=";
    let r = get(&format!("{page}&precision=9")).await;
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some(&*format!("<{CRS84}>"))
    );
    let wgs = r.json();
    let r = get(&format!("{page}&crs={}", enc(BNG))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some(&*format!("<{BNG}>"))
    );
    let bng = r.json();
    // Default precision in metres: 2 decimals.
    for f in bng["features"].as_array().expect("features") {
        assert!(
            positions(&f["geometry"])
                .iter()
                .all(|p| ((p[0] * 100.0).round() - p[0] * 100.0).abs() < 1e-6),
            "centimetres"
        );
    }
    let checked = assert_matches_pyproj(&wgs, &bng, 0.1);
    assert!(checked == 0 || checked > 200, "{checked} positions");

    // EPSG:4326 is latitude first; EPSG:3857 metres; one feature too.
    let one = |crs: &str| {
        format!(
            "/ogc/collections/lad19/items/E06000001?indicators=&crs={}",
            enc(crs)
        )
    };
    let f84 = get(&one("CRS84")).await.json();
    let f4326 = get(&one("EPSG:4326")).await;
    assert_eq!(
        f4326.header("content-crs").as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4326>")
    );
    let a = positions(&f84["geometry"]);
    let b: Vec<[f64; 2]> = positions(&f4326.json()["geometry"])
        .into_iter()
        .map(|[lat, lon]| [lon, lat])
        .collect();
    assert!(farthest_nearest(&a, &b) < 1e-9);
    let merc = positions(&get(&one("EPSG:3857")).await.json()["geometry"]);
    assert!(
        merc.iter()
            .all(|p| (-170_000.0..-100_000.0).contains(&p[0]) && p[1] > 7_200_000.0),
        "Hartlepool in Web Mercator metres: {:?}",
        &merc[..3.min(merc.len())]
    );
}

#[tokio::test]
async fn bng_export_round_trips_the_source_file_within_millimetres() {
    // lad21 is loaded from a British National Grid file; written back in EPSG:27700 at
    // millimetres, its vertices are the file's.
    let path = placemap_e2e::data_dir().join("lad_may2021_uk_buc_bng.geojson");
    let source: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("source file")).expect("GeoJSON");
    let mut by_code: HashMap<String, Vec<[f64; 2]>> = HashMap::new();
    for f in source["features"].as_array().expect("features") {
        let code = f["properties"]["LAD21CD"].as_str().expect("LAD21CD");
        by_code.insert(code.to_string(), positions(&f["geometry"]));
    }
    let r = get(
        "/layers/lad21.geojson?indicators=&crs=EPSG:27700&precision=3&bbox=-1.7,54.4,-1.0,54.8",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-crs").as_deref(),
        Some(&*format!("<{BNG}>"))
    );
    let g = r.json();
    assert_eq!(
        g["crs"]["properties"]["name"],
        "urn:ogc:def:crs:EPSG::27700"
    );
    let features = g["features"].as_array().expect("features");
    assert!(
        features.len() >= 5,
        "{} districts on Teesside",
        features.len()
    );
    for f in features {
        let code = f["id"].as_str().expect("id");
        let ours = positions(&f["geometry"]);
        let theirs = &by_code[code];
        let d = farthest_nearest(&ours, theirs);
        assert!(d < 0.002, "{code}: a vertex {d} m from the source's");
    }
}

/// One LSOA row of the CSV download.
struct Row {
    lad: String,
    region: String,
    imd_decile: Option<f64>,
    income_decile: Option<f64>,
    population: Option<f64>,
}

async fn lsoa_rows() -> HashMap<String, Row> {
    let r = get("/layers/lsoa11.csv?indicators=imd_decile,income_decile,population_total").await;
    assert_eq!(r.status, 200);
    let mut rdr = csv::Reader::from_reader(&r.body[..]);
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect(n);
    let (code, lad, region, imd, income, pop) = (
        col("code"),
        col("lad19nm"),
        col("region_name"),
        col("imd_decile"),
        col("income_decile"),
        col("population_total"),
    );
    let num = |s: &str| s.parse::<f64>().ok();
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            (
                r[code].to_string(),
                Row {
                    lad: r[lad].to_string(),
                    region: r[region].to_string(),
                    imd_decile: num(&r[imd]),
                    income_decile: num(&r[income]),
                    population: num(&r[pop]),
                },
            )
        })
        .collect()
}

/// Every id an items query matches (one page of at most 10,000), and `numberMatched`.
async fn matched(query: &str) -> (BTreeSet<String>, u64) {
    let uri =
        format!("/ogc/collections/lsoa11/items?limit=10000&precision=0&properties=code&{query}");
    let r = get(&uri).await;
    assert_eq!(r.status, 200, "{uri}: {}", r.text());
    let j = r.json();
    let n = j["numberMatched"].as_u64().expect("numberMatched");
    assert_eq!(j["numberReturned"].as_u64(), Some(n), "one page: {uri}");
    (ids(&j).into_iter().collect(), n)
}

#[tokio::test]
async fn cql2_filters_select_what_the_condition_selects_on_the_full_download() {
    let rows = lsoa_rows().await;
    assert_eq!(rows.len(), 32_844);
    type Cond = Box<dyn Fn(&Row) -> bool>;
    let cases: Vec<(&str, Cond)> = vec![
        (
            "region_name = 'North East' AND imd_decile <= 2",
            Box::new(|r| r.region == "North East" && r.imd_decile.is_some_and(|d| d <= 2.0)),
        ),
        (
            "(lad19nm IN ('Hartlepool', 'York') AND NOT imd_decile BETWEEN 3 AND 8) OR population_total > 4500",
            Box::new(|r| {
                (["Hartlepool", "York"].contains(&r.lad.as_str())
                    && r.imd_decile.is_some_and(|d| !(3.0..=8.0).contains(&d)))
                    || r.population.is_some_and(|p| p > 4500.0)
            }),
        ),
        (
            "lad19nm LIKE 'Hart%' or lad19nm like '%upon Tyne'",
            Box::new(|r| r.lad.starts_with("Hart") || r.lad.ends_with("upon Tyne")),
        ),
        (
            "region_name = 'North East' AND income_decile < imd_decile",
            Box::new(|r| {
                r.region == "North East"
                    && matches!((r.income_decile, r.imd_decile), (Some(a), Some(b)) if a < b)
            }),
        ),
        (
            "NOT (region_name <> 'London') AND population_total >= 2500 AND imd_decile IS NOT NULL",
            Box::new(|r| {
                r.region == "London"
                    && r.population.is_some_and(|p| p >= 2500.0)
                    && r.imd_decile.is_some()
            }),
        ),
    ];
    for (filter, cond) in cases {
        let want: BTreeSet<String> = rows
            .iter()
            .filter(|(_, r)| cond(r))
            .map(|(c, _)| c.clone())
            .collect();
        assert!(
            !want.is_empty() && want.len() < 10_000,
            "{filter}: {}",
            want.len()
        );
        let (got, n) = matched(&format!("filter-lang=cql2-text&filter={}", enc(filter))).await;
        assert_eq!(n as usize, want.len(), "{filter}");
        assert_eq!(got, want, "{filter}");
    }

    // property=value, sortby (descending then ascending), properties=.
    let uri = "/ogc/collections/lsoa11/items?region_name=North%20East&sortby=-population_total,%2Bcode&limit=5&properties=code,population_total";
    let j = get(uri).await.json();
    let mut ne: Vec<(&String, f64)> = rows
        .iter()
        .filter(|(_, r)| r.region == "North East")
        .map(|(c, r)| (c, r.population.unwrap_or(f64::NEG_INFINITY)))
        .collect();
    ne.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    assert_eq!(j["numberMatched"].as_u64(), Some(ne.len() as u64));
    let top: Vec<String> = ne.iter().take(5).map(|(c, _)| (*c).clone()).collect();
    assert_eq!(ids(&j), top);
    for f in j["features"].as_array().expect("features") {
        let keys: BTreeSet<&str> = f["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["code", "population_total"]));
    }
}

#[tokio::test]
async fn spatial_filters_and_bbox_crs_select_what_intersects() {
    use geo::Intersects;
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    // A triangle over Hartlepool and Stockton, in CRS84.
    let tri = geo::Polygon::new(
        geo::LineString::from(vec![
            (-1.3, 54.6),
            (-1.1, 54.6),
            (-1.1, 54.75),
            (-1.3, 54.6),
        ]),
        vec![],
    );
    let want: BTreeSet<String> = lsoa
        .districts
        .iter()
        .filter(|d| d.wgs84.0.intersects(&tri))
        .map(|d| d.code.clone())
        .collect();
    assert!(want.len() > 20, "{}", want.len());
    let filter = "S_INTERSECTS(geometry, POLYGON((-1.3 54.6, -1.1 54.6, -1.1 54.75, -1.3 54.6)))";
    let (got, _) = matched(&format!("filter={}", enc(filter))).await;
    assert_eq!(got, want);

    // A box in British National Grid metres, as bbox-crs and as a filter-crs BBOX: the
    // districts whose BNG outline meets the box.
    let (w, s, e, n) = (445_000.0, 525_000.0, 455_000.0, 535_000.0);
    let rect = geo::Rect::new(geo::coord! { x: w, y: s }, geo::coord! { x: e, y: n });
    let to_bng = maps::output_crs::OutputCrs::Bng27700
        .projector()
        .expect("projector");
    let want: BTreeSet<String> = lsoa
        .districts
        .iter()
        .filter(|d| {
            to_bng
                .multipolygon(&d.wgs84.0)
                .expect("in Great Britain")
                .intersects(&rect)
        })
        .map(|d| d.code.clone())
        .collect();
    assert!(want.len() > 20, "{}", want.len());
    let (got, _) = matched(&format!("bbox={w},{s},{e},{n}&bbox-crs=EPSG:27700")).await;
    assert_eq!(got, want);
    let filter = format!("S_INTERSECTS(geometry, BBOX({w},{s},{e},{n}))");
    let (got, _) = matched(&format!("filter={}&filter-crs={}", enc(&filter), enc(BNG))).await;
    assert_eq!(got, want);
    // bbox in EPSG:4326 is latitude first.
    let (a, _) = matched("bbox=54.6,-1.3,54.75,-1.1&bbox-crs=EPSG:4326").await;
    let (b, _) = matched("bbox=-1.3,54.6,-1.1,54.75").await;
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[tokio::test]
async fn lookup_by_eastings_and_northings() {
    // pyproj puts Hartlepool's centre (-1.2129, 54.6863) at 450840.6, 532645.4.
    let j = get("/lookup?x=450840.6&y=532645.4&crs=EPSG:27700&layer=lad19")
        .await
        .json();
    assert_eq!(j["results"][0]["code"], "E06000001", "{j}");
    assert_eq!(j["crs"], BNG);
    let (lon, lat) = (
        j["lon"].as_f64().expect("lon"),
        j["lat"].as_f64().expect("lat"),
    );
    assert!(
        (lon + 1.2129).abs() < 1e-5 && (lat - 54.6863).abs() < 1e-5,
        "{lon},{lat}"
    );
    for uri in [
        "/lookup?x=450840&y=532645&crs=EPSG:2157",
        "/lookup?x=abc&y=532645&crs=EPSG:27700",
        "/lookup?x=450840&crs=EPSG:27700",
        "/lookup?x=9e9&y=532645&crs=EPSG:27700",
        "/lookup?lon=-1.2&lat=54.7&crs=EPSG:27700",
    ] {
        expect_client_error(uri, 400).await;
    }
}

#[tokio::test]
async fn bad_crs_filter_sortby_and_properties_are_400_with_hints() {
    let items = "/ogc/collections/lsoa11/items?limit=1";
    for (query, names) in [
        ("crs=EPSG:2157", "EPSG:2157"),
        ("crs=nonsense", "nonsense"),
        ("crs=EPSG:27700&precision=6", "precision"),
        ("bbox=1,2,3,4&bbox-crs=EPSG:9999", "bbox-crs"),
        ("bbox-crs=EPSG:27700", "bbox-crs"),
        ("bbox=445000,525000,455000&bbox-crs=EPSG:27700", "4 numbers"),
        (
            "bbox=455000,525000,445000,535000&bbox-crs=EPSG:27700",
            "min greater than max",
        ),
        ("bbox=54.6,-1.3,54.75&bbox-crs=EPSG:4326", "4 numbers"),
        ("filter=imd_decile%20%3E%20%27x%27", "types differ"),
        ("filter=nope%20%3D%201", "nope"),
        ("filter=imd_decile%20%3E", "ends"),
        ("filter=T_BEFORE(a,b)", "T_BEFORE"),
        ("filter=S_WITHIN(geometry,POINT(0%2054))", "S_WITHIN"),
        ("filter=CASEI(name)%20%3D%20%27x%27", "CASEI"),
        ("filter=imd_decile%20%2B%201%20%3E%202", "arithmetic"),
        ("filter=name%20%3D%20%27open", "not closed"),
        (
            "filter=S_INTERSECTS(geometry,POLYGON((0%200,1%201)))",
            "ring",
        ),
        ("filter=S_INTERSECTS(geometry,BBOX(1,2,3))", "BBOX"),
        ("filter=region_name%20LIKE%205", "pattern"),
        ("filter=imd_decile%20BETWEEN%20%27a%27%20AND%203", "BETWEEN"),
        ("filter=code%20%3D%20%271%27%20code", "unexpected"),
        ("filter=", "empty"),
        (
            "filter=code%20%3D%20%27x%27&filter-lang=cql2-json",
            "cql2-json",
        ),
        (
            "filter=code%20%3D%20%27x%27&filter-crs=EPSG:1",
            "filter-crs",
        ),
        ("filter-lang=cql2-text", "filter"),
        ("sortby=nope", "nope"),
        ("sortby=-", "empty"),
        ("properties=nope", "nope"),
        ("imd_decile=high", "imd_decile"),
        ("no_such_option=1", "no_such_option"),
    ] {
        let j = expect_client_error(&format!("{items}&{query}"), 400).await;
        let text = format!("{} {}", j["error"], j["hint"]);
        assert!(text.contains(names), "{query}: {text}");
    }
    expect_client_error("/ogc/collections/lad19/items/E06000001?crs=EPSG:9", 400).await;
    expect_client_error("/ogc/collections/lad19/items/E06000001?properties=x", 400).await;
    expect_client_error("/layers/lad19.geojson?crs=EPSG:9", 400).await;
    expect_client_error("/layers/lad19.csv?crs=EPSG:27700", 400).await;
    expect_client_error("/layers/lad19.geojson?crs=EPSG:27700&precision=4", 400).await;
}

/// GDAL reads lad19 in the British National Grid over HTTP, knowing its CRS, with coordinates
/// within 10 cm of pyproj's transformation of the CRS84 ones. (GDAL 3.6, Debian 12's, has no
/// CRS option in its OAPIF driver, added in 3.7: its GeoJSON driver reads the items URL with
/// `crs=` and the response's `crs` member.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_lad19_in_british_national_grid() {
    let (addr, tx, server) = crate::socket::start().await;
    let url = format!(
        "http://{addr}/ogc/collections/lad19/items?limit=400&indicators=&crs={}",
        enc(BNG)
    );
    let text = crate::socket::gdal(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), "-al".into(), url.clone()],
    )
    .await;
    assert!(text.contains("Feature Count: 382"), "{text}");
    assert!(text.contains("British National Grid"), "{text}");
    let out =
        std::env::temp_dir().join(format!("placemap-oapif-bng-{}.geojson", std::process::id()));
    let _ = std::fs::remove_file(&out);
    crate::socket::gdal(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            out.display().to_string(),
            url,
        ],
    )
    .await;
    let written: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("ogr2ogr output")).expect("GeoJSON");
    let _ = std::fs::remove_file(&out);
    tx.send(()).expect("shutdown");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    // GDAL's features carry the id as a property; order is kept.
    let mut gdal_fc = written.clone();
    for f in gdal_fc["features"].as_array_mut().expect("features") {
        f["id"] = f["properties"]["code"].clone();
    }
    let lonlat = get("/ogc/collections/lad19/items?limit=400&indicators=&precision=9")
        .await
        .json();
    let n = assert_matches_pyproj(&lonlat, &gdal_fc, 0.1);
    assert!(n == 0 || n > 10_000, "{n} positions");
}

#[tokio::test]
async fn datetime_picks_each_indicators_period() {
    let st = state();
    let layer = st.maps.atlas.layer("lad21").expect("lad21");
    let i = layer.position("E06000001").expect("Hartlepool");
    let value = |id: &str, label: &str| -> Option<f64> {
        match &layer
            .indicator(id)
            .expect(id)
            .period(label)
            .expect(label)
            .values
        {
            districts::layer::PeriodValues::Numeric(v) => v[i],
            districts::layer::PeriodValues::Categorical(_) => panic!("numeric"),
        }
    };
    let at = |datetime: &str| {
        format!(
            "/ogc/collections/lad21/items/E06000001?indicators=median_weekly_pay,gcse_eng_maths_by_19&datetime={}",
            enc(datetime)
        )
    };
    // An instant: the calendar year 2015 and the academic year 2014/15 (September to August)
    // where the pay series has it; an interval: the latest period it meets.
    let f = get(&at("2015-06-01T00:00:00Z")).await.json();
    let props = &f["properties"];
    assert_eq!(
        props["median_weekly_pay"].as_f64(),
        value("median_weekly_pay", "2015")
    );
    assert_ne!(
        value("median_weekly_pay", "2015"),
        value("median_weekly_pay", "2021")
    );
    let f = get(&at("2008-01-01/2010-12-31")).await.json();
    assert_eq!(
        f["properties"]["median_weekly_pay"].as_f64(),
        value("median_weekly_pay", "2010")
    );
    let gcse = layer.indicator("gcse_eng_maths_by_19").expect("gcse");
    let label = "2018/19";
    assert!(
        gcse.period(label).is_some(),
        "{:?}",
        gcse.periods.iter().map(|p| &p.label).collect::<Vec<_>>()
    );
    let f = get(&at("2019-03-01")).await.json();
    assert_eq!(
        f["properties"]["gcse_eng_maths_by_19"].as_f64(),
        value("gcse_eng_maths_by_19", label)
    );
    // Items too, with every feature still matched.
    let j = get(
        "/ogc/collections/lad21/items?limit=1&indicators=median_weekly_pay&datetime=2012-07-01",
    )
    .await
    .json();
    assert_eq!(
        j["numberMatched"].as_u64(),
        Some(layer.districts.len() as u64)
    );
    let j = expect_client_error(&at("1990-01-01"), 400).await;
    assert!(j["hint"].as_str().expect("hint").contains("2008"), "{j}");
    expect_client_error(
        "/ogc/collections/lad21/items?datetime=2015-01-01&periods=all",
        400,
    )
    .await;
    expect_client_error(
        "/ogc/collections/lad21/items?datetime=2016-01-01/2015-01-01",
        400,
    )
    .await;
}
