//! Data for GIS users and the map page: the catalogue of layers (`GET /layers`), districts as
//! RFC 7946 GeoJSON (`GET /layers/{layer}.geojson`), one district, and the district list.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use districts::layer::PeriodValues;
use districts::{Indicator, Layer};
use geo::MapCoords;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::geojson_out;
use crate::params::{parse_bbox, parse_list, parse_num, reject_unknown};
use crate::state::SharedState;

/// `[minLon, minLat, maxLon, maxLat]` of a layer.
pub fn layer_bounds(layer: &Layer) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for d in &layer.districts {
        if let Some(r) = d.wgs84.bbox() {
            let e = b.get_or_insert([f64::MAX, f64::MAX, f64::MIN, f64::MIN]);
            e[0] = e[0].min(r.min().x);
            e[1] = e[1].min(r.min().y);
            e[2] = e[2].max(r.max().x);
            e[3] = e[3].max(r.max().y);
        }
    }
    b
}

/// The JSON description of an indicator (metadata, periods, join summary).
pub fn indicator_json(ind: &Indicator) -> Value {
    let r = &ind.report;
    json!({
        "id": ind.meta.id,
        "title": ind.meta.title,
        "unit": ind.meta.unit,
        "direction": ind.meta.direction,
        "source": ind.meta.source,
        "licence": ind.meta.provenance.licence,
        "attribution": ind.meta.provenance.attribution,
        "categorical": ind.meta.categorical,
        "description": ind.meta.description,
        "periods": ind.periods.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(),
        "default_period": ind.default_period,
        "join": {
            "matched": r.matched,
            "districts": r.boundary_count,
            "districts_without_data": r.boundaries_without_data.len(),
            "data_codes_without_district": r.data_without_boundary.len(),
            "complete": r.is_complete(),
        },
    })
}

/// The JSON description of a layer and its indicators.
pub fn layer_json(layer: &Layer) -> Value {
    json!({
        "id": layer.meta.id,
        "title": layer.meta.title,
        "vintage": layer.meta.vintage,
        "licence": layer.meta.provenance.licence,
        "attribution": layer.meta.provenance.attribution,
        "bounds": layer_bounds(layer),
        "district_count": layer.districts.len(),
        "default_indicator": layer.meta.default_indicator,
        "load_notes": layer.load_notes,
        "indicators": layer.indicators.iter().map(indicator_json).collect::<Vec<_>>(),
    })
}

/// `GET /layers`: every layer and indicator with metadata and join summaries.
pub async fn list_layers(State(state): State<SharedState>) -> Json<Value> {
    Json(json!({ "layers": state.atlas.layers.iter().map(layer_json).collect::<Vec<_>>() }))
}

/// `GET /layers/{layer}` (metadata), `GET /layers/{layer}.geojson` or `GET /layers/{layer}.csv`.
pub async fn layer_file(
    State(state): State<SharedState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(id) = file.strip_suffix(".geojson") {
        let layer = state.layer(id)?;
        let state2 = state.clone();
        let id = id.to_string();
        let body = tokio::task::spawn_blocking(move || {
            let layer = state2.layer(&id)?;
            layer_geojson(&state2, layer, &q)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
        let _ = layer;
        return Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response());
    }
    if let Some(id) = file.strip_suffix(".csv") {
        let layer = state.layer(id)?;
        let body = layer_csv(layer, &q)?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    if let Some(id) = file.strip_suffix(".json") {
        return Ok(Json(layer_json(state.layer(id)?)).into_response());
    }
    Ok(Json(layer_json(state.layer(&file)?)).into_response())
}

/// Which periods of each indicator become feature properties (`periods=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Periods {
    /// The default period, as `{id}` (the default).
    Default,
    /// Every period, as `{id}_{label}` with `/` and `-` of the label as `_`
    /// (`median_weekly_pay_2021`, `gcse_eng_maths_2020_21`): a wide table for GIS users.
    All,
}

/// `periods=default|all`.
pub fn parse_periods(q: &HashMap<String, String>) -> Result<Periods, ApiError> {
    match q.get("periods").map(String::as_str) {
        None | Some("default") => Ok(Periods::Default),
        Some("all") => Ok(Periods::All),
        Some(other) => Err(ApiError::bad_request(
            format!("periods={other:?} is not a choice"),
            "periods=default (each indicator's default period, as its id) or periods=all (every period, as id_period)",
        )),
    }
}

fn period_value(values: &PeriodValues, i: usize) -> Value {
    match values {
        PeriodValues::Numeric(v) => v[i].map(Value::from).unwrap_or(Value::Null),
        PeriodValues::Categorical(v) => v[i].clone().map(Value::from).unwrap_or(Value::Null),
    }
}

/// Indicator values as feature properties: `{id: value}` for the default period, or
/// `{id_period: value}` for every period.
fn indicator_properties(
    props: &mut Map<String, Value>,
    inds: &[&Indicator],
    i: usize,
    periods: Periods,
) {
    for ind in inds {
        match periods {
            Periods::Default => {
                let v = ind
                    .period(&ind.default_period)
                    .map(|p| period_value(&p.values, i));
                props.insert(ind.meta.id.clone(), v.unwrap_or(Value::Null));
            }
            Periods::All => {
                for p in &ind.periods {
                    let key = format!("{}_{}", ind.meta.id, p.label.replace(['/', '-'], "_"));
                    props.insert(key, period_value(&p.values, i));
                }
            }
        }
    }
}

/// The properties of district `i` in GeoJSON: code, name, kept attributes and the chosen
/// indicators' values (see [`Periods`]).
pub fn feature_properties(
    layer: &Layer,
    inds: &[&Indicator],
    i: usize,
    periods: Periods,
) -> Map<String, Value> {
    let d = &layer.districts[i];
    let mut props = Map::new();
    props.insert("code".into(), Value::from(d.code.clone()));
    props.insert("name".into(), Value::from(d.name.clone()));
    for (k, v) in &d.attributes {
        props.insert(k.clone(), Value::from(v.clone()));
    }
    indicator_properties(&mut props, inds, i, periods);
    props
}

/// Picks the indicators named in `indicators=` (all by default; `indicators=` empty for none).
pub fn chosen_indicators<'a>(
    layer: &'a Layer,
    q: &HashMap<String, String>,
) -> Result<Vec<&'a Indicator>, ApiError> {
    match q.get("indicators") {
        None => Ok(layer.indicators.iter().collect()),
        Some(list) => parse_list(list)
            .into_iter()
            .map(|id| {
                layer.indicator(&id).ok_or_else(|| {
                    ApiError::not_found(
                        format!("unknown indicator {id:?} on layer {}", layer.meta.id),
                        crate::error::valid_ids(
                            "indicators",
                            layer.indicators.iter().map(|i| i.meta.id.as_str()),
                        ),
                    )
                })
            })
            .collect(),
    }
}

/// `precision=` decimals of coordinates (default 6, about 10 cm; at most 10).
pub fn parse_precision(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    let precision = match q.get("precision") {
        Some(p) => parse_num::<usize>("precision", p)?,
        None => 6,
    };
    if precision > 10 {
        return Err(ApiError::bad_request(
            format!("precision {precision} is too large"),
            "use 0 to 10 decimals (6 is about 10 cm)",
        ));
    }
    Ok(precision)
}

/// Districts whose bounding box meets `bbox=` (all without one), in layer order.
fn districts_in_bbox(layer: &Layer, q: &HashMap<String, String>) -> Result<Vec<usize>, ApiError> {
    Ok(match q.get("bbox") {
        Some(b) => {
            let [w, s, e, n] = parse_bbox(b)?;
            let mut c = layer.index.candidates_in_bbox(w, s, e, n);
            c.sort_unstable();
            c
        }
        None => (0..layer.districts.len()).collect(),
    })
}

/// The districts' attributes and indicator values as CSV, one row per district (no geometry):
/// `code`, `name`, the layer's kept attributes, then one column per indicator (or per
/// indicator and period with `periods=all`). Missing values are empty cells.
pub fn layer_csv(layer: &Layer, q: &HashMap<String, String>) -> Result<String, ApiError> {
    reject_unknown(q, &["bbox", "indicators", "periods"])?;
    let periods = parse_periods(q)?;
    let inds = chosen_indicators(layer, q)?;
    let rows = districts_in_bbox(layer, q)?;
    let mut header: Vec<String> = vec!["code".into(), "name".into()];
    header.extend(layer.meta.attributes.iter().cloned());
    // (indicator, period index) per value column.
    let mut columns: Vec<(&Indicator, usize)> = Vec::new();
    for ind in &inds {
        match periods {
            Periods::Default => {
                if let Some(p) = ind
                    .periods
                    .iter()
                    .position(|p| p.label == ind.default_period)
                {
                    header.push(ind.meta.id.clone());
                    columns.push((ind, p));
                }
            }
            Periods::All => {
                for (p, period) in ind.periods.iter().enumerate() {
                    header.push(format!(
                        "{}_{}",
                        ind.meta.id,
                        period.label.replace(['/', '-'], "_")
                    ));
                    columns.push((ind, p));
                }
            }
        }
    }
    let internal = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(internal)?;
    for i in rows {
        let d = &layer.districts[i];
        let mut record: Vec<String> = vec![d.code.clone(), d.name.clone()];
        for a in &layer.meta.attributes {
            let v = d
                .attributes
                .iter()
                .find(|(k, _)| k == a)
                .map(|(_, v)| v.clone());
            record.push(v.unwrap_or_default());
        }
        for (ind, p) in &columns {
            record.push(match &ind.periods[*p].values {
                PeriodValues::Numeric(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
                PeriodValues::Categorical(v) => v[i].clone().unwrap_or_default(),
            });
        }
        w.write_record(&record).map_err(internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(format!("CSV is not UTF-8: {e}")))
}

/// The districts as an RFC 7946 FeatureCollection with the chosen indicators as properties
/// (`bbox`, `indicators`, `periods`, `zoom` or `simplify`, `precision`).
pub fn layer_geojson(
    state: &SharedState,
    layer: &Layer,
    q: &HashMap<String, String>,
) -> Result<String, ApiError> {
    reject_unknown(
        q,
        &[
            "bbox",
            "indicators",
            "periods",
            "zoom",
            "simplify",
            "precision",
        ],
    )?;
    let periods = parse_periods(q)?;
    let precision = parse_precision(q)?;
    let zoom = match (q.get("zoom"), q.get("simplify")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give zoom= or simplify=, not both",
                "zoom=8 picks the simplification for that zoom",
            ));
        }
        (Some(z), None) => {
            let z = parse_num::<u8>("zoom", z)?;
            if z > state.config.max_zoom {
                return Err(ApiError::bad_request(
                    format!("zoom {z} is beyond {}", state.config.max_zoom),
                    "use 0 to the maximum zoom",
                ));
            }
            Some(z)
        }
        (None, Some(m)) => {
            let metres = parse_num::<f64>("simplify", m)?;
            if !(metres.is_finite() && metres >= 0.0) {
                return Err(ApiError::bad_request(
                    "simplify must be a non-negative tolerance in metres",
                    "e.g. simplify=500",
                ));
            }
            // The zoom whose half-pixel tolerance is at most the requested one.
            Some(
                (0..=state.config.max_zoom)
                    .find(|z| tile_math::metres_per_pixel(*z) * 0.5 <= metres)
                    .unwrap_or(state.config.max_zoom),
            )
        }
        (None, None) => None,
    };
    let inds = chosen_indicators(layer, q)?;
    let candidates = districts_in_bbox(layer, q)?;
    let bands = match zoom {
        Some(_) => Some(state.bands(&layer.meta.id)?),
        None => None,
    };
    let mut out = String::with_capacity(candidates.len() * 512);
    out.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (n, &i) in candidates.iter().enumerate() {
        let d = &layer.districts[i];
        if n > 0 {
            out.push(',');
        }
        let props = feature_properties(layer, &inds, i, periods);
        match (bands, zoom) {
            (Some(b), Some(z)) => {
                let merc = &b.geometry(z)[i].0;
                let ll = merc.map_coords(|c| {
                    let (x, y) = tile_math::mercator_to_lonlat(c.x, c.y);
                    geo_types::coord! { x: x, y: y }
                });
                geojson_out::push_feature(&mut out, &d.code, &ll, &props, precision);
            }
            _ => geojson_out::push_feature(&mut out, &d.code, &d.wgs84.0, &props, precision),
        }
    }
    out.push_str("]}");
    Ok(out)
}

/// `GET /layers/{layer}/districts`: code, name and bounding box of every district (for search).
pub async fn list_districts(
    State(state): State<SharedState>,
    Path(layer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let layer = state.layer(&layer)?;
    let list: Vec<Value> = layer
        .districts
        .iter()
        .map(|d| {
            let bbox = d
                .wgs84
                .bbox()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
            json!({ "code": d.code, "name": d.name, "bbox": bbox })
        })
        .collect();
    Ok(Json(json!({ "layer": layer.meta.id, "districts": list })))
}

/// Every indicator value of one district, every period, with rank.
pub fn district_values(state: &SharedState, layer: &Layer, i: usize) -> Map<String, Value> {
    let mut values = Map::new();
    for ind in &layer.indicators {
        let mut periods = Map::new();
        for p in &ind.periods {
            let v = match &p.values {
                PeriodValues::Numeric(v) => v[i].map(Value::from).unwrap_or(Value::Null),
                PeriodValues::Categorical(v) => {
                    v[i].clone().map(Value::from).unwrap_or(Value::Null)
                }
            };
            periods.insert(p.label.clone(), v);
        }
        let mut entry = indicator_value(state, layer, ind, &ind.default_period, i);
        entry.insert("periods".into(), Value::Object(periods));
        values.insert(ind.meta.id.clone(), Value::Object(entry));
    }
    values
}

/// The value of one district for one period, with unit and rank (`rank` 1 = highest; `of` =
/// districts with a value).
pub fn indicator_value(
    state: &SharedState,
    layer: &Layer,
    ind: &Indicator,
    period: &str,
    i: usize,
) -> Map<String, Value> {
    let mut m = Map::new();
    let p = ind.period(period);
    let value = match p.map(|p| &p.values) {
        Some(PeriodValues::Numeric(v)) => v[i].map(Value::from).unwrap_or(Value::Null),
        Some(PeriodValues::Categorical(v)) => v[i].clone().map(Value::from).unwrap_or(Value::Null),
        None => Value::Null,
    };
    m.insert("value".into(), value);
    m.insert("period".into(), Value::from(period.to_string()));
    m.insert("unit".into(), Value::from(ind.meta.unit.clone()));
    if !ind.meta.categorical {
        let ranks = state.ranks(layer, ind, period);
        let of = ranks.iter().filter(|r| r.is_some()).count();
        m.insert(
            "rank".into(),
            ranks[i].map(Value::from).unwrap_or(Value::Null),
        );
        m.insert("of".into(), Value::from(of));
    }
    m
}

/// `GET /layers/{layer}/districts/{code}`: one Feature with every indicator value.
pub async fn one_district(
    State(state): State<SharedState>,
    Path((layer, code)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let layer = state.layer(&layer)?;
    let i = layer.position(&code).ok_or_else(|| {
        ApiError::not_found(
            format!("no district {code:?} in layer {}", layer.meta.id),
            format!(
                "codes look like {}; GET /layers/{}/districts lists them",
                layer
                    .districts
                    .first()
                    .map(|d| d.code.as_str())
                    .unwrap_or("E06000001"),
                layer.meta.id
            ),
        )
    })?;
    let d = &layer.districts[i];
    let mut props = Map::new();
    props.insert("code".into(), Value::from(d.code.clone()));
    props.insert("name".into(), Value::from(d.name.clone()));
    props.insert("layer".into(), Value::from(layer.meta.id.clone()));
    for (k, v) in &d.attributes {
        props.insert(k.clone(), Value::from(v.clone()));
    }
    props.insert(
        "indicators".into(),
        Value::Object(district_values(&state, layer, i)),
    );
    let mut out = String::new();
    geojson_out::push_feature(&mut out, &d.code, &d.wgs84.0, &props, 6);
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], out).into_response())
}
