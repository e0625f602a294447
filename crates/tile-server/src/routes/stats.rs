//! `/stats/...`: the regional-divide analyses over HTTP, JSON by default and CSV with
//! `format=csv`, the same numbers as `placemap aggregate | compare | clusters` (both call
//! `analysis::query`). Heavy work (permutations, aggregation) runs on blocking threads.

use std::collections::HashMap;

use analysis::query::{self, AggregateRequest, ClusterRequest, CompareRequest, QueryError};
use analysis::{Cell, Table};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::admission::{Cancel, Class};
use crate::error::ApiError;
use crate::params::{parse_bool, parse_list, parse_num, reject_unknown};
use crate::state::SharedState;

/// Maps an analysis error to the HTTP error shape.
fn api_error(e: QueryError) -> ApiError {
    ApiError::from(maps::MapError::from(e))
}

/// `format=json` (default) or `format=csv`.
fn wants_csv(q: &HashMap<String, String>) -> Result<bool, ApiError> {
    match q
        .get("format")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            format!("format={other:?} is not served"),
            "format=json (default) or format=csv",
        )),
    }
}

/// Rows of a table as JSON objects keyed by column.
fn table_objects(t: &Table) -> Vec<Value> {
    t.rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            for (c, cell) in t.columns.iter().zip(row) {
                let v = match cell {
                    Cell::Text(s) => Value::from(s.clone()),
                    Cell::Int(i) => Value::from(*i),
                    Cell::Number(x) => Value::from(*x),
                    Cell::Empty => Value::Null,
                };
                m.insert(c.clone(), v);
            }
            Value::Object(m)
        })
        .collect()
}

fn csv_response(t: &Table) -> Response {
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        t.to_csv(),
    )
        .into_response()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

/// Memory an analysis may hold: the contiguity of 32,844 LSOAs is built from a copy of their
/// geometry, and aggregation keeps an assignment per small area.
const ANALYSIS_BYTES: u64 = 160 * 1024 * 1024;

/// Runs `f` on a blocking thread as an analysis job of admission control (503 when too many
/// run), with the token that trips when the request is dropped or times out.
async fn blocking<T: Send + 'static>(
    state: &SharedState,
    f: impl FnOnce(&Cancel) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    state.heavy(Class::Analysis, ANALYSIS_BYTES, f).await
}

fn opt_bool(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    q.get(name).map_or(Ok(false), |v| parse_bool(name, v))
}

/// Checks that the layer and indicator exist (404 listing the valid ids) before any work.
fn check_ids(state: &SharedState, layer: &str, indicator: &str) -> Result<(), ApiError> {
    let l = state.layer(layer)?;
    state.indicator(l, indicator)?;
    Ok(())
}

/// The id of the route's indicator at `version=` (`@N` in the path works too), checked like
/// [`check_ids`]: the analyses then read that version.
fn pinned(
    state: &SharedState,
    layer: &str,
    indicator: &str,
    q: &HashMap<String, String>,
) -> Result<String, ApiError> {
    let version = q
        .get("version")
        .map(|v| parse_num::<u32>("version", v))
        .transpose()?;
    let l = state.layer(layer)?;
    Ok(state.indicator_at(l, indicator, version)?.meta.id.clone())
}

/// `GET /stats`: the analyses served and the derived indicators added at start-up.
pub async fn index(State(state): State<SharedState>) -> Json<Value> {
    let derived: Vec<Value> = state
        .maps
        .atlas
        .layers
        .iter()
        .flat_map(|l| {
            l.indicators
                .iter()
                .filter(|i| i.meta.source_id == analysis::derived::DERIVED_SOURCE_ID)
                .map(|i| {
                    json!({
                        "layer": l.meta.id, "id": i.meta.id, "title": i.meta.title,
                        "categorical": i.meta.categorical, "matched": i.report.matched,
                        "districts": i.report.boundary_count, "description": i.meta.description,
                    })
                })
        })
        .collect();
    Json(json!({
        "routes": [
            "/stats/{layer}/{indicator}/compare?group_by=&group=[&vs=][&codes=][&weights=][&year=][&england_only=][&ranks=][&left_out=][&version=][&format=csv]",
            "/stats/{layer}/{indicator}/correlate?with=[&year=][&with_year=][&england_only=][&version=][&format=csv]",
            "/stats/{layer}/{indicator}/moran[?permutations=999&seed=42][&england_only=][&knn=][&year=][&version=][&format=csv]",
            "/stats/{layer}/{indicator}/clusters[?permutations=999&seed=42&alpha=0.05][&england_only=][&knn=][&year=][&version=][&format=csv]",
            "/stats/aggregate?from=&to=&indicator=&how=[&weights=][&class=][&via=lookup|spatial][&key=][&year=][&format=csv]",
        ],
        "derived_indicators": derived,
    }))
}

const COMPARE_OPTIONS: [&str; 11] = [
    "left_out",
    "version",
    "group_by",
    "group",
    "vs",
    "codes",
    "weights",
    "year",
    "england_only",
    "ranks",
    "format",
];

/// `GET /stats/{layer}/{indicator}/compare`: two groups of districts compared (summaries,
/// gaps, top/bottom quintile gap; ranks with `ranks=true`), saying who is left out and why
/// (JSON: `without_value` per group, `without_group`, `carried`; CSV with `left_out=true`: one
/// row per such district).
pub async fn compare(
    State(state): State<SharedState>,
    Path((layer_id, indicator)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &COMPARE_OPTIONS)?;
    let csv = wants_csv(&q)?;
    let ranks = opt_bool(&q, "ranks")?;
    let left_out = opt_bool(&q, "left_out")?;
    let indicator = pinned(&state, &layer_id, &indicator, &q)?;
    let group_by = q
        .get("group_by")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("compare needs group_by=", query::GROUP_BY_HELP))?;
    let req = CompareRequest {
        indicator,
        period: q.get("year").cloned(),
        group_by,
        group: q.get("group").cloned(),
        vs: q.get("vs").cloned(),
        codes: q.get("codes").map(|c| parse_list(c)).unwrap_or_default(),
        weights: q.get("weights").cloned(),
        england_only: opt_bool(&q, "england_only")?,
    };
    let st = state.clone();
    let out = blocking(&state, move |_| {
        let layer = st.layer(&layer_id)?;
        query::compare_on_layer(layer, &req, &st.maps.lookups).map_err(api_error)
    })
    .await?;
    if csv {
        let t = if ranks {
            out.comparison.ranks_table()
        } else if left_out {
            out.comparison.exclusions_table()
        } else {
            out.comparison.to_table()
        };
        return Ok(csv_response(&t));
    }
    let mut v = to_json(&out)?;
    if !ranks && let Some(c) = v.get_mut("comparison").and_then(Value::as_object_mut) {
        c.remove("ranks");
    }
    Ok(Json(v).into_response())
}

/// `GET /stats/{layer}/{indicator}/correlate?with=other`: Pearson and Spearman with n.
pub async fn correlate(
    State(state): State<SharedState>,
    Path((layer_id, indicator)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(
        &q,
        &[
            "with",
            "year",
            "with_year",
            "england_only",
            "format",
            "version",
        ],
    )?;
    let csv = wants_csv(&q)?;
    let indicator = pinned(&state, &layer_id, &indicator, &q)?;
    let with = q.get("with").cloned().ok_or_else(|| {
        ApiError::bad_request(
            "correlate needs with=<other indicator>",
            "e.g. /stats/lad19/imd_score/correlate?with=median_weekly_pay",
        )
    })?;
    check_ids(&state, &layer_id, &with)?;
    let england = opt_bool(&q, "england_only")?;
    let layer = state.layer(&layer_id)?;
    let out = query::correlate_on_layer(
        layer,
        (&indicator, q.get("year").map(String::as_str)),
        (&with, q.get("with_year").map(String::as_str)),
        england,
    )
    .map_err(api_error)?;
    if csv {
        return Ok(csv_response(&out.to_table()));
    }
    Ok(Json(to_json(&out)?).into_response())
}

fn cluster_request(
    indicator: String,
    q: &HashMap<String, String>,
) -> Result<ClusterRequest, ApiError> {
    let mut req = ClusterRequest {
        indicator,
        period: q.get("year").cloned(),
        england_only: opt_bool(q, "england_only")?,
        ..ClusterRequest::default()
    };
    if let Some(p) = q.get("permutations") {
        req.permutations = parse_num("permutations", p)?;
    }
    if let Some(s) = q.get("seed") {
        req.seed = parse_num("seed", s)?;
    }
    if let Some(a) = q.get("alpha") {
        req.alpha = parse_num("alpha", a)?;
    }
    if let Some(k) = q.get("knn") {
        let k: usize = parse_num("knn", k)?;
        if k == 0 {
            return Err(ApiError::bad_request(
                "knn=0 links nothing",
                "knn=1 or more links each island to its nearest districts",
            ));
        }
        req.knn_islands = Some(k);
    }
    Ok(req)
}

const MORAN_OPTIONS: [&str; 7] = [
    "version",
    "permutations",
    "seed",
    "year",
    "england_only",
    "knn",
    "format",
];

/// `GET /stats/{layer}/{indicator}/moran`: global Moran's I (queen contiguity,
/// row-standardised) with E\[I\], z and the seeded permutation pseudo p-value.
pub async fn moran(
    State(state): State<SharedState>,
    Path((layer_id, indicator)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &MORAN_OPTIONS)?;
    let csv = wants_csv(&q)?;
    let indicator = pinned(&state, &layer_id, &indicator, &q)?;
    let req = cluster_request(indicator, &q)?;
    let st = state.clone();
    let out = blocking(&state, move |cancel| {
        let layer = st.layer(&layer_id)?;
        query::clusters_on_layer_cancellable(layer, &req, false, &|| cancel.is_cancelled())
            .map_err(api_error)
    })
    .await?;
    if csv {
        return Ok(csv_response(&out.global.to_table()));
    }
    Ok(Json(json!({
        "layer": out.layer, "indicator": out.indicator, "period": out.period,
        "england_only": out.england_only, "excluded": out.excluded, "islands": out.islands,
        "moran": out.global,
    }))
    .into_response())
}

/// `GET /stats/{layer}/{indicator}/clusters`: LISA class of every district with the global
/// Moran's I and the count per class.
pub async fn clusters(
    State(state): State<SharedState>,
    Path((layer_id, indicator)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut known = MORAN_OPTIONS.to_vec();
    known.push("alpha");
    reject_unknown(&q, &known)?;
    let csv = wants_csv(&q)?;
    let indicator = pinned(&state, &layer_id, &indicator, &q)?;
    let req = cluster_request(indicator, &q)?;
    let st = state.clone();
    let out = blocking(&state, move |cancel| {
        let layer = st.layer(&layer_id)?;
        query::clusters_on_layer_cancellable(layer, &req, true, &|| cancel.is_cancelled())
            .map_err(api_error)
    })
    .await?;
    let t = out.lisa_table();
    if csv {
        return Ok(csv_response(&t));
    }
    let counts: Map<String, Value> = out
        .class_counts()
        .into_iter()
        .map(|(c, n)| (c.label().to_string(), Value::from(n)))
        .collect();
    let local = out.local.as_ref();
    Ok(Json(json!({
        "layer": out.layer, "indicator": out.indicator, "period": out.period,
        "england_only": out.england_only, "excluded": out.excluded, "islands": out.islands,
        "permutations": local.map(|l| l.permutations), "seed": local.map(|l| l.seed),
        "alpha": local.map(|l| l.alpha),
        "moran": out.global, "counts": counts, "districts": table_objects(&t),
    }))
    .into_response())
}

const AGGREGATE_OPTIONS: [&str; 10] = [
    "from",
    "to",
    "indicator",
    "how",
    "weights",
    "class",
    "via",
    "key",
    "year",
    "format",
];

/// `GET /stats/aggregate?from=lsoa11&to=lad19&indicator=imd_rank&how=weighted-mean&weights=population_total`:
/// small areas aggregated to districts, with every exclusion reported.
pub async fn aggregate(
    State(state): State<SharedState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &AGGREGATE_OPTIONS)?;
    let csv = wants_csv(&q)?;
    let need = |name: &str, example: &str| {
        q.get(name).cloned().ok_or_else(|| {
            ApiError::bad_request(
                format!("aggregate needs {name}="),
                format!("e.g. /stats/aggregate?{example}"),
            )
        })
    };
    let example =
        "from=lsoa11&to=lad19&indicator=imd_rank&how=weighted-mean&weights=population_total";
    let from = need("from", example)?;
    let to = need("to", example)?;
    let indicator = need("indicator", example)?;
    let source = state.layer(&from)?;
    state.layer(&to)?;
    state.indicator(source, &indicator)?;
    if let Some(w) = q.get("weights") {
        state.indicator(source, w)?;
    }
    let how = query::parse_how(
        q.get("how").map_or("mean", String::as_str),
        q.get("class").map(String::as_str),
    )
    .map_err(api_error)?;
    let via = query::parse_via(
        q.get("via").map(String::as_str),
        q.get("key").map(String::as_str),
    )
    .map_err(api_error)?;
    let req = AggregateRequest {
        indicator,
        period: q.get("year").cloned(),
        how,
        weights: q.get("weights").cloned(),
        via,
    };
    let st = state.clone();
    let out = blocking(&state, move |_| {
        let source = st.layer(&from)?;
        let target = st.layer(&to)?;
        query::aggregate_layers(source, target, &req, &st.maps.lookups).map_err(api_error)
    })
    .await?;
    let t = out.to_table();
    if csv {
        return Ok(csv_response(&t));
    }
    let summary: Vec<Value> = out
        .exclusion_summary()
        .into_iter()
        .map(|(reason, count)| json!({"reason": reason, "count": count}))
        .collect();
    Ok(Json(json!({
        "from": out.from, "to": out.to, "indicator": out.indicator, "period": out.period,
        "statistic": out.result.aggregation, "weights": out.weights, "via": out.via,
        "areas": out.areas, "assigned": out.assigned,
        "targets_with_value": out.result.rows.iter().filter(|r| r.value.is_some()).count(),
        "exclusions": {"summary": summary, "areas": out.result.exclusions},
        "rows": table_objects(&t),
    }))
    .into_response())
}
