//! Fuzz targets: every query-string parser. Directly: the typed option sets of `maps::options`
//! (each alone and in the combinations routes take), `Bbox`, `Periods`, `parse_list`, the
//! tile server's `params` (numbers, booleans, bbox, lon/lat, unknown names) and its `Options`
//! extractor on raw query strings. Through the router: every GET route of a server over the toy
//! catalogue, with fuzzed query strings and path segments; the answer is never a 5xx other than
//! 503, and a 4xx is the JSON error shape.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::Request;
use fuzz_targets::{Outcome, nasty_text, run, within_bound};
use maps::MapError;
use maps::options::{
    Bbox, ExportOptions, FigureOptions, OptionSet, Periods, StyleOptions, VersionOptions,
    parse_list, read_options,
};
use proptest::prelude::*;
use tile_server::params::{parse_bbox, parse_bool, parse_lonlat, parse_num, reject_unknown};
use tower::ServiceExt;

/// Option names of every route (the typed sets' and the hand-parsed ones), and some unknown.
const NAMES: &[&str] = &[
    "bivariate",
    "bivariate_year",
    "scheme",
    "k",
    "breaks",
    "palette",
    "reverse",
    "highlight",
    "year",
    "change",
    "change_kind",
    "midpoint",
    "title",
    "subtitle",
    "width",
    "height",
    "scale",
    "region",
    "bbox",
    "districts",
    "inset",
    "indicators",
    "periods",
    "zoom",
    "simplify",
    "precision",
    "version",
    "lon",
    "lat",
    "layer",
    "format",
    "f",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "crs",
    "bbox-crs",
    "sortby",
    "properties",
    "x",
    "y",
    "region_name",
    "permutations",
    "seed",
    "alpha",
    "knn",
    "england_only",
    "with",
    "group_by",
    "group",
    "codes",
    "ranks",
    "from",
    "to",
    "indicator",
    "how",
    "class",
    "weights",
    "key",
    "via",
    "colour",
    "",
    "K",
    "bbox[]",
];

/// Values that mean something to some option, and values that mean nothing.
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "5",
    "9",
    "10",
    "20",
    "255",
    "256",
    "99999",
    "100000",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "1e400",
    "1e-400",
    "NaN",
    "inf",
    "-0",
    "0.5",
    "0.05",
    "2.5",
    "true",
    "false",
    "yes",
    "no",
    "maybe",
    "quantile",
    "equal",
    "jenks",
    "stddev",
    "manual",
    "YlOrRd",
    "viridis",
    "RdBu",
    "nope",
    "1,2,3",
    "3,2,1",
    "10,20",
    ",,,",
    "-0.03,51.49,0.01,51.53",
    "-180,-90,180,90",
    "-1,53,-2,54",
    "0,0,0,0",
    "1,2,3",
    "-1.2,54.6,-1.19999999,54.60000001",
    "-0.015,51.515,-0.015000001,51.515000001",
    "-0.02,51.5,0.0,51.52,0,100",
    "E09000901",
    "E09000901,E09000902",
    "E99999999",
    "toy_score",
    "toy_households",
    "toy_score,toy_households",
    "toy_score@1",
    "2026",
    "2025..2026",
    "2026..2026",
    "..",
    "diff",
    "pct",
    "median",
    "csv",
    "json",
    "gpkg",
    "application/flatgeobuf",
    "shp",
    "geojson",
    "html",
    "xml",
    "all",
    "default",
    "latest",
    "mean",
    "share",
    "weighted-mean",
    "<=2",
    "=1",
    "<=x",
    "lookup",
    "spatial",
    "toy",
    "toy_region",
    "rgncd",
    "2019-09-26T00:00:00Z",
    "North East",
    "%",
    "%zz",
    "EPSG:27700",
    "http://www.opengis.net/def/crs/EPSG/0/27700",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "EPSG:4326",
    "3857",
    "EPSG:2157",
    "urn:ogc:def:crs:EPSG::27700",
    "[EPSG:27700]",
    "cql2-text",
    "cql2-json",
    "-toy_score,+code",
    "code,name",
    "toy_score > 5 AND name LIKE 'A%'",
    "toy_score BETWEEN 1 AND 2 OR code IN ('E09000901', 'x')",
    "NOT (name IS NULL)",
    "S_INTERSECTS(geometry, BBOX(-0.03,51.49,0.01,51.53))",
    "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))",
    "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(0 51), LINESTRING(0 51, 1 52)))",
    "S_INTERSECTS(geometry, BBOX(530000,180000,540000,190000))",
    "toy_score > 'x'",
    "T_BEFORE(a, b)",
    "((((",
    "'",
    "\"",
    "toy_score +",
    "NOT NOT NOT",
    "a LIKE '%\\'",
    "450840,532645,460000,540000",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => nasty_text(),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(NAMES).prop_map(str::to_string),
        1 => nasty_text(),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((name(), value()), 0..6)
}

/// A 400 from an option parser: a message and a hint.
fn clear_map_error(e: &MapError) -> Result<(), TestCaseError> {
    prop_assert!(!e.message().trim().is_empty(), "no message");
    prop_assert!(
        e.hint().is_some_and(|h| !h.trim().is_empty()),
        "no hint: {e}"
    );
    Ok(())
}

fn check_bbox(b: &Bbox) -> Result<(), TestCaseError> {
    let [w, s, e, n] = b.0;
    prop_assert!(b.0.iter().all(|x| x.is_finite()), "{:?}", b.0);
    prop_assert!(w <= e && s <= n, "{:?}", b.0);
    prop_assert!(
        (-180.0..=180.0).contains(&w) && (-90.0..=90.0).contains(&n),
        "{:?}",
        b.0
    );
    Ok(())
}

/// One option set read from `pairs`: `Ok` with checked values, or a 400 naming the culprit.
fn read_set<T: OptionSet>(pairs: &[(String, String)]) -> Result<Option<T>, TestCaseError> {
    match read_options::<T>(pairs) {
        Ok(t) => Ok(Some(t)),
        Err(e) => clear_map_error(&e).map(|()| None),
    }
}

/// The typed option sets, alone and in the combinations the routes read.
#[test]
fn option_sets() {
    run("option_sets", 1_500, true, pairs(), |pairs| {
        within_bound(
            || format!("{pairs:?}"),
            || -> Result<Outcome, TestCaseError> {
                if let Some(s) = read_set::<StyleOptions>(&pairs)? {
                    prop_assert!(s.k.is_none() || pairs.iter().any(|(n, _)| n == "k"));
                }
                if let Some(f) = read_set::<FigureOptions>(&pairs)?
                    && let Some(b) = &f.bbox
                {
                    check_bbox(b)?;
                }
                if let Some(x) = read_set::<ExportOptions>(&pairs)?
                    && let Some(b) = &x.bbox
                {
                    check_bbox(b)?;
                }
                read_set::<VersionOptions>(&pairs)?;
                read_set::<(StyleOptions, VersionOptions)>(&pairs)?;
                read_set::<(ExportOptions, VersionOptions)>(&pairs)?;
                Ok(Outcome::from(&read_options::<(
                    (StyleOptions, FigureOptions),
                    VersionOptions,
                )>(&pairs)))
            },
        )?
    });
}

/// `Bbox`, `Periods`, `parse_list` and the server's `params` on arbitrary text.
#[test]
fn value_parsers() {
    let inputs = (
        value(),
        value(),
        proptest::collection::hash_map(name(), value(), 0..5),
    );
    run("value_parsers", 1_500, true, inputs, |(a, b, q)| {
        if let Ok(bb) = parse_bbox(&a) {
            check_bbox(&Bbox(bb))?;
        }
        if let Err(e) = a.parse::<Periods>() {
            clear_map_error(&e)?;
        }
        for item in parse_list(&a) {
            prop_assert!(!item.is_empty() && !item.contains(',') && item.trim() == item);
        }
        let _ = parse_num::<u8>("zoom", &a);
        let _ = parse_num::<u32>("version", &a);
        let _ = parse_num::<usize>("limit", &a);
        let _ = parse_num::<u64>("seed", &a);
        let _ = parse_num::<f64>("alpha", &a);
        let _ = parse_bool("england_only", &a);
        if let Ok((lon, lat)) = parse_lonlat(&a, &b) {
            prop_assert!(
                lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0
            );
        }
        let known = ["lon", "lat", "layer"];
        if reject_unknown(&q, &known).is_ok() {
            prop_assert!(q.keys().all(|k| known.contains(&k.as_str())));
        }
        let bbox = a.parse::<Bbox>();
        match &bbox {
            Ok(bb) => check_bbox(bb)?,
            Err(e) => clear_map_error(e)?,
        }
        Ok(Outcome::from(&bbox))
    });
}

/// A query string: form-encoded pairs, or raw text (percent signs, `&`, `=` and all) where it
/// makes a valid URI.
fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => pairs().prop_map(|p| serde_urlencoded::to_string(&p).unwrap_or_default()),
        1 => nasty_text(),
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| {
            b.iter().map(|x| format!("%{x:02X}")).collect::<String>()
        }),
    ]
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
    })
}

/// The `Options` extractor on raw query strings: a set of checked options, or a JSON 400.
#[test]
fn options_extractor() {
    run("options_extractor", 1_000, true, query(), |q| {
        let Ok(req) = Request::builder().uri(format!("/x?{q}")).body(()) else {
            return Ok(Outcome::Refused("not a URI".into()));
        };
        let (mut parts, ()) = req.into_parts();
        type Set = ((StyleOptions, FigureOptions), VersionOptions);
        let out = runtime().block_on(tile_server::extract::Options::<Set>::from_request_parts(
            &mut parts,
            &(),
        ));
        match out {
            Ok(_) => Ok(Outcome::Read),
            Err(e) => {
                let message = e.to_string();
                let status = axum::response::IntoResponse::into_response(e).status();
                prop_assert_eq!(status.as_u16(), 400, "{}", q);
                Ok(Outcome::Refused(message))
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Through the router

/// A server over the toy catalogue (four districts): every route, answers in milliseconds.
pub fn toy_app() -> axum::Router {
    tile_server::app(toy_state())
}

/// The state of the toy server, loaded once.
fn toy_state() -> tile_server::SharedState {
    static STATE: OnceLock<tile_server::SharedState> = OnceLock::new();
    let state = STATE.get_or_init(|| {
        let dir = test_support::fixtures_dir();
        let raw = tile_server::config::RawConfig {
            addr: "127.0.0.1:0".into(),
            data_dir: dir.clone(),
            catalog: dir.join("toy_catalog.toml"),
            cache_mb: 16,
            ..tile_server::config::RawConfig::default()
        };
        let config = raw.resolve().unwrap_or_else(|e| panic!("toy config: {e}"));
        Arc::new(
            tile_server::serve::load_state(config).unwrap_or_else(|e| panic!("toy state: {e}")),
        )
    });
    state.clone()
}

/// CQL2 text filters (`maps::filter`) on token soup and arbitrary text: parsed against the toy
/// layer's queryables, or refused with a message and a hint; a parsed filter evaluates on every
/// district without panicking.
#[test]
fn cql2_text_filters() {
    const TOKENS: &[&str] = &[
        "toy_score",
        "code",
        "name",
        "geometry",
        "\"name\"",
        "AND",
        "OR",
        "NOT",
        "LIKE",
        "BETWEEN",
        "IN",
        "IS",
        "NULL",
        "TRUE",
        "FALSE",
        "(",
        ")",
        ",",
        "=",
        "<>",
        "<",
        ">=",
        "'E09000901'",
        "'A%'",
        "'\\'",
        "1",
        "-2.5",
        "1e3",
        ".5",
        "S_INTERSECTS",
        "BBOX",
        "POINT",
        "POLYGON",
        "MULTIPOLYGON",
        "GEOMETRYCOLLECTION",
        "0 51",
        "-0.1 51.5",
        "T_AFTER",
        "CASEI",
        "+",
        "-",
        "'",
        "\"",
        "!=",
        "||",
    ];
    let soup = prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(TOKENS), 0..18)
            .prop_map(|t| t.join(" ")),
        1 => nasty_text(),
    ];
    let state = toy_state();
    let layer = state
        .maps
        .atlas
        .layer("toy")
        .unwrap_or_else(|| panic!("the toy layer"));
    let qs = maps::filter::Queryables::of(layer);
    run("cql2_text_filters", 2_000, true, soup, |text| {
        let crs = maps::output_crs::OutputCrs::Crs84;
        let parsed = maps::filter::parse_cql2_text(&text, &qs, crs);
        match &parsed {
            Ok(f) => {
                for i in 0..layer.districts.len() {
                    let _ = f.matches(&qs, i);
                }
            }
            Err(e) => clear_map_error(e)?,
        }
        Ok(Outcome::from(&parsed))
    });
}

/// GET routes of the server, `{}` standing for a path segment the fuzzer may replace. Static
/// maps are asked for as SVG: a PNG of the largest allowed size is heavy work by design (the
/// admission control's business), not a parser's.
const ROUTES: &[&str] = &[
    "/layers",
    "/layers/{toy.geojson}",
    "/layers/{toy.csv}",
    "/layers/{toy.gpkg}",
    "/layers/{toy.fgb}",
    "/layers/{toy.shp.zip}",
    "/layers/{toy}/districts",
    "/layers/{toy}/districts/{E09000901}",
    "/lookup",
    "/tiles/{toy.json}",
    "/tiles/{toy}/{toy_score.json}",
    "/tiles/{toy}/{12}/{2047}/{1362.mvt}",
    "/tiles/{toy}/{toy_score}/{12}/{2047}/{1362.png}",
    "/legend/{toy}/{toy_score.json}",
    "/legend/{toy}/{toy_score.svg}",
    "/legend/{toy}/{toy_score.png}",
    "/static/{toy}/{toy_score.svg}",
    "/map/{toy}/{toy_score}",
    "/ogc",
    "/ogc/api",
    "/ogc/conformance",
    "/ogc/collections",
    "/ogc/collections/{toy}",
    "/ogc/collections/{toy}/items",
    "/ogc/collections/{toy}/items/{E09000901}",
    "/ogc/collections/{toy}/queryables",
    "/stats",
    "/stats/aggregate",
    "/stats/{toy}/{toy_score}/compare",
    "/stats/{toy}/{toy_score}/correlate",
    "/stats/{toy}/{toy_score}/moran",
    "/stats/{toy}/{toy_score}/clusters",
    "/datasets",
    "/datasets/{toy}",
];

/// Path segments to put in place of the real ones.
const SEGMENTS: &[&str] = &[
    "toy",
    "toy_region",
    "nope",
    "toy_score",
    "toy_households",
    "toy_score@1",
    "toy_score@0",
    "toy_score@99999999999",
    "toy_score.png",
    "toy_score.svg",
    "toy_score.json",
    "toy_score.gif",
    "toy.gpkg",
    "toy.shp.zip",
    ".fgb",
    "toy_score@2x.png",
    "0",
    "1",
    "12",
    "30",
    "255",
    "-1",
    "4294967296",
    "2047",
    "1362.png",
    "1362.mvt",
    "1362@2x.png",
    "1362",
    "x.png",
    ".png",
    "E09000901",
    "e09000901",
    "E99999999",
    "%00",
    "%2e%2e",
    "..",
    "%ff",
    "toy.geojson",
    "toy.csv",
    "toy.json",
    "toy.",
    "a%2Fb",
];

#[derive(Clone, Debug)]
struct RouteCase {
    route: usize,
    segments: Vec<Option<String>>,
    query: String,
}

fn route_case() -> impl Strategy<Value = RouteCase> {
    (
        0..ROUTES.len(),
        proptest::collection::vec(
            proptest::option::weighted(
                0.2,
                prop_oneof![
                    3 => proptest::sample::select(SEGMENTS).prop_map(str::to_string),
                    1 => nasty_text().prop_map(|t| {
                        t.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
                    }),
                ],
            ),
            5,
        ),
        query(),
    )
        .prop_map(|(route, segments, query)| RouteCase {
            route,
            segments,
            query,
        })
}

/// The route with its `{segment}`s kept or replaced, and the query.
fn uri(case: &RouteCase) -> String {
    let mut out = String::new();
    let mut k = 0;
    let mut rest = ROUTES[case.route];
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').map_or(rest.len(), |j| i + j);
        let real = &rest[i + 1..end];
        match case.segments.get(k).cloned().flatten() {
            Some(s) => out.push_str(&s),
            None => out.push_str(real),
        }
        k += 1;
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    if !case.query.is_empty() {
        out.push('?');
        out.push_str(&case.query);
    }
    out
}

/// Sends a request to the toy server: its status and body, or a hang.
fn answer(req: Request<Body>, what: &str) -> Result<(u16, Vec<u8>), TestCaseError> {
    within_bound(
        || what.to_string(),
        || {
            runtime().block_on(async {
                let res = toy_app().oneshot(req).await.unwrap_or_else(|e| match e {});
                let status = res.status().as_u16();
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .map(|b| b.to_vec())
                    .unwrap_or_default();
                (status, body)
            })
        },
    )
}

/// The server's answer to client input: never a 5xx other than 503 (busy), and a 4xx in the
/// JSON error shape.
fn check_answer(what: &str, status: u16, body: &[u8]) -> Result<Outcome, TestCaseError> {
    let text = String::from_utf8_lossy(body);
    prop_assert!(
        status < 500 || status == 503,
        "{} answered {}: {}",
        what,
        status,
        text
    );
    if !(400..500).contains(&status) {
        return Ok(Outcome::Read);
    }
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        TestCaseError::fail(format!(
            "{what} answered {status} not in JSON ({e}): {text}"
        ))
    })?;
    let error = json["error"].as_str().unwrap_or_default();
    prop_assert!(
        !error.is_empty(),
        "{} answered {} without an error message: {}",
        what,
        status,
        json
    );
    Ok(Outcome::Refused(format!("{status} {error}")))
}

/// Every GET route with fuzzed path segments and query strings: never a 5xx other than 503,
/// and every 4xx in the JSON error shape.
#[test]
fn routes() {
    run("routes", 600, true, route_case(), |case| {
        let uri = uri(&case);
        let Ok(req) = Request::builder().uri(&uri).body(Body::empty()) else {
            return Ok(Outcome::Refused("not a URI".into()));
        };
        let (status, body) = answer(req, &uri)?;
        check_answer(&uri, status, &body)
    });
}

#[test]
fn the_toy_server_answers_the_routes_unmutated() {
    for route in 0..ROUTES.len() {
        let case = RouteCase {
            route,
            segments: vec![],
            query: String::new(),
        };
        let uri = uri(&case);
        let req = Request::builder()
            .uri(&uri)
            .body(Body::empty())
            .expect("request");
        let status = runtime().block_on(async {
            toy_app()
                .oneshot(req)
                .await
                .unwrap_or_else(|e| match e {})
                .status()
        });
        // Without options, /lookup and the statistics routes that need a second indicator
        // or a source layer ask for them (400), and /datasets needs a dataset store, which
        // the toy server has not.
        let needs_options = ["/lookup", "/datasets", "correlate", "aggregate", "compare"]
            .iter()
            .any(|p| uri.contains(p));
        assert!(
            status.is_success() || (needs_options && status.is_client_error()),
            "{uri}: {status}"
        );
    }
}

/// Points to look up as CSV and as GeoJSON: the toy districts' corners and centres.
const LOOKUP_CSV: &str = "id,lon,lat\n1,-0.015,51.515\n2,-0.005,51.505\n3,-0.02,51.5\n4,0.5,52\n";
const LOOKUP_GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[-0.015,51.515]}},
{"type":"Feature","properties":{"id":2},"geometry":{"type":"MultiPoint","coordinates":[[-0.005,51.505],[-0.02,51.5]]}}]}"#;

fn lookup_case() -> impl Strategy<
    Value = (
        bool,
        Vec<fuzz_targets::mutate::Mutation>,
        Vec<fuzz_targets::json::JsonMutation>,
        Option<&'static str>,
        String,
    ),
> {
    (
        any::<bool>(),
        fuzz_targets::mutate::mutations(4),
        fuzz_targets::json::json_mutations(3),
        proptest::option::of(proptest::sample::select(
            &[
                "text/csv",
                "application/json",
                "application/geo+json",
                "text/plain",
                "application/octet-stream",
            ][..],
        )),
        query(),
    )
}

/// `POST /lookup` with mutated CSV and GeoJSON point bodies: never a 5xx other than 503.
#[test]
fn lookup_bodies() {
    run(
        "lookup_bodies",
        300,
        true,
        lookup_case(),
        |(geojson, edits, tree, ctype, q)| {
            let body = if geojson {
                let doc: serde_json::Value =
                    serde_json::from_str(LOOKUP_GEOJSON).unwrap_or_default();
                fuzz_targets::json::to_text(&fuzz_targets::json::apply(&doc, &tree))
            } else {
                LOOKUP_CSV.as_bytes().to_vec()
            };
            let body = fuzz_targets::mutate::apply(&body, &edits);
            let uri = if q.is_empty() {
                "/lookup".to_string()
            } else {
                format!("/lookup?{q}")
            };
            let mut req = Request::builder().method("POST").uri(&uri);
            if let Some(c) = ctype {
                req = req.header("content-type", c);
            }
            let Ok(req) = req.body(Body::from(body.clone())) else {
                return Ok(Outcome::Refused("not a URI".into()));
            };
            let what = format!("POST {uri} with {} bytes", body.len());
            let (status, answer) = answer(req, &what)?;
            check_answer(&what, status, &answer)
        },
    );
}
