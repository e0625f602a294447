//! Point lookups: which district(s) contain a point (`GET /lookup`), or many points at once
//! (`POST /lookup` with CSV or GeoJSON points), with indicator values.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use districts::Layer;
use districts::layer::PeriodValues;
use serde_json::{Map, Value, json};

use crate::admission::Class;
use crate::error::{ApiError, clip};
use crate::params::{parse_list, parse_lonlat, reject_unknown};
use crate::state::SharedState;
use maps::export::indicator_value;
use maps::output_crs::OutputCrs;

/// The layers named by `layer=` (comma list), or all.
fn chosen_layers<'a>(
    state: &'a SharedState,
    q: &HashMap<String, String>,
) -> Result<Vec<&'a Layer>, ApiError> {
    match q.get("layer") {
        Some(list) => parse_list(list).iter().map(|id| state.layer(id)).collect(),
        None => Ok(state.maps.atlas.layers.iter().collect()),
    }
}

/// `GET /lookup?lon=&lat=[&layer=]`, or `GET /lookup?x=&y=&crs=EPSG:27700` for a point in
/// another CRS (eastings/northings), converted the way `placemap lookup --crs` does.
pub async fn lookup_point(
    State(state): State<SharedState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    reject_unknown(&q, &["lon", "lat", "x", "y", "crs", "layer", "year"])?;
    let (lon, lat, given) = point_of_query(&q)?;
    let layers = chosen_layers(&state, &q)?;
    let mut results = Vec::new();
    for layer in layers {
        if let Some(i) = layer.index.lookup(lon, lat) {
            let d = &layer.districts[i];
            let mut values = Map::new();
            for ind in &layer.indicators {
                // `year=` picks the period where the indicator has it, else its default.
                let period = q
                    .get("year")
                    .and_then(|y| {
                        ind.periods
                            .iter()
                            .find(|p| p.label == *y || p.label.starts_with(y.as_str()))
                    })
                    .map(|p| p.label.as_str())
                    .unwrap_or(&ind.default_period);
                values.insert(
                    ind.meta.id.clone(),
                    Value::Object(indicator_value(&state.maps, layer, ind, period, i)),
                );
            }
            results.push(
                json!({ "layer": layer.meta.id, "code": d.code, "name": d.name, "values": values }),
            );
        }
    }
    let mut answer = json!({ "lon": lon, "lat": lat, "results": results });
    if let Some((x, y, crs)) = given {
        answer["x"] = json!(x);
        answer["y"] = json!(y);
        answer["crs"] = json!(crs.uri());
    }
    Ok(Json(answer))
}

/// The WGS84 point of a lookup: `lon`/`lat`, or `x`/`y` in `crs` (CRS84 when absent), with the
/// point as given in the second case.
#[allow(clippy::type_complexity)]
fn point_of_query(
    q: &HashMap<String, String>,
) -> Result<(f64, f64, Option<(f64, f64, OutputCrs)>), ApiError> {
    let hint = "GET /lookup?lon=-1.21&lat=54.69 (WGS84 degrees), or \
                /lookup?x=447000&y=532000&crs=EPSG:27700 (eastings, northings), optionally &layer=lad19";
    let has = |k: &str| q.contains_key(k);
    if (has("lon") || has("lat")) && (has("x") || has("y") || has("crs")) {
        return Err(ApiError::bad_request(
            "give lon and lat, or x, y and crs, not both",
            hint,
        ));
    }
    if let (Some(lon), Some(lat)) = (q.get("lon"), q.get("lat")) {
        let (lon, lat) = parse_lonlat(lon, lat)?;
        return Ok((lon, lat, None));
    }
    let (Some(x), Some(y)) = (q.get("x"), q.get("y")) else {
        return Err(ApiError::bad_request(
            "lon and lat (or x and y with crs) are required",
            hint,
        ));
    };
    let num = |k: &str, v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| ApiError::bad_request(format!("{k}={v:?} is not a number"), hint))
    };
    let (x, y) = (num("x", x)?, num("y", y)?);
    let crs = match q.get("crs") {
        Some(c) => OutputCrs::parse(c)?,
        None => OutputCrs::Crs84,
    };
    let (lon, lat) = crs.to_wgs84(x, y)?;
    Ok((lon, lat, Some((x, y, crs))))
}

/// Points of a `POST /lookup` body with the user's own columns, kept in their order so the
/// answer can carry them through (a school's `id`, its name...).
struct PointRows {
    /// Input columns in order: the CSV header (lon and lat included), or the GeoJSON
    /// properties in first-seen order (the feature `id` first when any feature has one).
    columns: Vec<String>,
    /// Per point, its input values aligned with `columns` (CSV cells as text).
    rows: Vec<Vec<Value>>,
    /// Per point, WGS84 lon/lat.
    points: Vec<(f64, f64)>,
    /// Whether the input was GeoJSON (its coordinates are the geometry, not columns).
    geojson: bool,
}

/// Reads points from a CSV body: a header with lon/lat (or longitude/latitude, x/y) columns;
/// every column is kept.
fn points_from_csv(body: &[u8]) -> Result<PointRows, ApiError> {
    let hint = "CSV with a header row holding lon and lat columns (WGS84 degrees)";
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| ApiError::bad_request(format!("CSV header: {e}"), hint))?
        .clone();
    let columns: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let find = |names: &[&str]| {
        columns
            .iter()
            .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
    };
    let (Some(xi), Some(yi)) = (
        find(&["lon", "longitude", "lng", "x"]),
        find(&["lat", "latitude", "y"]),
    ) else {
        return Err(ApiError::bad_request(
            format!(
                "CSV header has no lon/lat columns: {}",
                clip(&format!("{columns:?}"), 200)
            ),
            hint,
        ));
    };
    let mut points = Vec::new();
    let mut rows = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| ApiError::bad_request(format!("CSV line {line}: {e}"), hint))?;
        let (x, y) = (rec.get(xi).unwrap_or(""), rec.get(yi).unwrap_or(""));
        let p = parse_lonlat(x, y).map_err(|_| {
            ApiError::bad_request(
                format!("CSV line {line}: lon {x:?}, lat {y:?} is not a valid WGS84 point"),
                hint,
            )
        })?;
        points.push(p);
        rows.push(rec.iter().map(|c| Value::from(c.to_string())).collect());
    }
    Ok(PointRows {
        columns,
        rows,
        points,
        geojson: false,
    })
}

/// One GeoJSON feature as sent, its properties in the sender's order (`serde_json::Map`
/// sorts keys; `IndexMap` keeps them).
#[derive(serde::Deserialize)]
struct OrderedFeature {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    properties: Option<indexmap::IndexMap<String, Value>>,
    #[serde(default)]
    geometry: Option<Value>,
}

/// A FeatureCollection or a Feature as sent (the members placemap reads).
#[derive(serde::Deserialize)]
struct OrderedDocument {
    #[serde(default)]
    features: Option<Vec<OrderedFeature>>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    properties: Option<indexmap::IndexMap<String, Value>>,
    #[serde(default)]
    geometry: Option<Value>,
}

/// The `type` member of a GeoJSON document; every other member is skipped.
#[derive(serde::Deserialize)]
struct TypeOnly {
    #[serde(rename = "type", default)]
    kind: Option<Value>,
}

/// The positions of a Point or MultiPoint geometry; anything else is an error naming `what`.
fn positions(g: &Value, what: &str, hint: &str) -> Result<Vec<(f64, f64)>, ApiError> {
    let g: geojson::Geometry = serde_json::from_value(g.clone())
        .map_err(|e| ApiError::bad_request(format!("{what}: {e}"), hint))?;
    let point = |c: &geojson::PointType| -> Result<(f64, f64), ApiError> {
        if c.len() < 2 {
            return Err(ApiError::bad_request(
                format!("{what}: position needs 2 numbers"),
                hint,
            ));
        }
        parse_lonlat(&c[0].to_string(), &c[1].to_string())
            .map_err(|_| ApiError::bad_request(format!("{what}: point out of range"), hint))
    };
    match &g.value {
        geojson::GeometryValue::Point { coordinates: c } => Ok(vec![point(c)?]),
        geojson::GeometryValue::MultiPoint { coordinates } => {
            coordinates.iter().map(point).collect()
        }
        other => Err(ApiError::bad_request(
            format!("{what} is a {}, not a Point", other.type_name()),
            hint,
        )),
    }
}

/// Reads points from a GeoJSON body: a FeatureCollection of Points (or MultiPoints, one row
/// per point), a Feature or a bare geometry; every property is kept, in order.
fn points_from_geojson(body: &[u8]) -> Result<PointRows, ApiError> {
    let hint = "a GeoJSON FeatureCollection of Point features in WGS84";
    let invalid = |e: serde_json::Error| {
        ApiError::bad_request(format!("GeoJSON body is not valid GeoJSON: {e}"), hint)
    };
    // The document's `type` alone: the rest is skipped unread, not built into a `Value` tree
    // (about ten times the body for a FeatureCollection of points).
    let kind = match serde_json::from_slice::<TypeOnly>(body) {
        Ok(t) => t
            .kind
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        // Not an object: read whole for the error, or as the bare geometry below.
        Err(_) => serde_json::from_slice::<Value>(body)
            .map_err(invalid)?
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    };
    // Read again with the properties in the sender's order (`Value` sorted them).
    let ordered = |what: &str| -> Result<OrderedDocument, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("{what}: {e}"), hint))
    };
    let features: Vec<(String, OrderedFeature)> = match kind.as_str() {
        "FeatureCollection" => ordered("FeatureCollection")?
            .features
            .ok_or_else(|| {
                ApiError::bad_request("FeatureCollection without a features array", hint)
            })?
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("feature {i}"), f))
            .collect(),
        "Feature" => {
            let d = ordered("feature")?;
            vec![(
                "feature".to_string(),
                OrderedFeature {
                    id: d.id,
                    properties: d.properties,
                    geometry: d.geometry,
                },
            )]
        }
        _ => vec![(
            "geometry".to_string(),
            OrderedFeature {
                id: None,
                properties: None,
                geometry: Some(serde_json::from_slice(body).map_err(invalid)?),
            },
        )],
    };
    let mut columns: Vec<String> = Vec::new();
    if features.iter().any(|(_, f)| f.id.is_some()) {
        columns.push("id".to_string());
    }
    for (_, f) in &features {
        for k in f.properties.iter().flat_map(indexmap::IndexMap::keys) {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let id_column = features.iter().any(|(_, f)| f.id.is_some());
    let mut points = Vec::new();
    let mut rows = Vec::new();
    for (what, f) in &features {
        let g = f
            .geometry
            .as_ref()
            .filter(|g| !g.is_null())
            .ok_or_else(|| ApiError::bad_request(format!("{what} has no geometry"), hint))?;
        let row: Vec<Value> = columns
            .iter()
            .enumerate()
            .map(|(k, c)| {
                if id_column && k == 0 {
                    f.id.clone().unwrap_or(Value::Null)
                } else {
                    f.properties
                        .as_ref()
                        .and_then(|p| p.get(c))
                        .cloned()
                        .unwrap_or(Value::Null)
                }
            })
            .collect();
        for p in positions(g, what, hint)? {
            points.push(p);
            rows.push(row.clone());
        }
    }
    Ok(PointRows {
        columns,
        rows,
        points,
        geojson: true,
    })
}

/// Output of `POST /lookup`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LookupFormat {
    Json,
    Csv,
    GeoJson,
}

/// One added indicator column: layer position, indicator, period, column name.
struct Added<'a> {
    layer: usize,
    indicator: &'a districts::Indicator,
    period: String,
    column: String,
}

/// `name`, or `name_2`, `name_3`... if the user's columns (or earlier added ones) have it.
fn unique(name: String, taken: &mut Vec<String>) -> String {
    let mut out = name.clone();
    let mut n = 2;
    while taken.contains(&out) {
        out = format!("{name}_{n}");
        n += 1;
    }
    taken.push(out.clone());
    out
}

/// The indicator columns asked with `indicators=` (and `periods=`): each indicator on every
/// chosen layer that has it, for its default period or each period listed (`all` for every
/// one). An indicator on none of the layers, or a period it does not have, is a 404 naming
/// what is valid.
fn added_indicators<'a>(
    layers: &[&'a Layer],
    q: &HashMap<String, String>,
    taken: &mut Vec<String>,
) -> Result<Vec<Added<'a>>, ApiError> {
    let Some(list) = q.get("indicators") else {
        if q.contains_key("periods") {
            return Err(ApiError::bad_request(
                "periods= needs indicators=",
                "POST /lookup?layer=lad19&indicators=imd_score&periods=all",
            ));
        }
        return Ok(Vec::new());
    };
    let ids = parse_list(list);
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "indicators= is empty",
            "indicators=imd_score,median_weekly_pay",
        ));
    }
    let periods = q.get("periods").map(|p| parse_list(p));
    let mut out = Vec::new();
    for id in &ids {
        let mut found = false;
        for (li, l) in layers.iter().enumerate() {
            let Some(ind) = l.indicator(id) else { continue };
            found = true;
            let labels: Vec<String> = match periods.as_deref() {
                None => vec![ind.default_period.clone()],
                Some([all]) if all.eq_ignore_ascii_case("all") => {
                    ind.periods.iter().map(|p| p.label.clone()).collect()
                }
                Some(list) => list
                    .iter()
                    .map(|p| {
                        ind.period(p).map(|p| p.label.clone()).ok_or_else(|| {
                            ApiError::not_found(
                                format!("indicator {id} on {} has no period {p:?}", l.meta.id),
                                format!(
                                    "valid periods: {}",
                                    ind.periods
                                        .iter()
                                        .map(|p| p.label.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            };
            for period in labels {
                let column = unique(
                    format!(
                        "{}_{}_{}",
                        l.meta.id,
                        ind.meta.id,
                        period.replace(['/', ' '], "_")
                    ),
                    taken,
                );
                out.push(Added {
                    layer: li,
                    indicator: ind,
                    period,
                    column,
                });
            }
        }
        if !found {
            let mut valid: Vec<&str> = layers
                .iter()
                .flat_map(|l| l.indicators.iter().map(|i| i.meta.id.as_str()))
                .collect();
            valid.sort_unstable();
            valid.dedup();
            return Err(ApiError::not_found(
                format!(
                    "no indicator {id:?} on {}",
                    layers
                        .iter()
                        .map(|l| l.meta.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("valid indicators: {}", clip(&valid.join(", "), 2000)),
            ));
        }
    }
    Ok(out)
}

/// The value of an added indicator at district `i` (null where it has none).
fn added_value(a: &Added<'_>, i: usize) -> Value {
    match a.indicator.period(&a.period).map(|p| &p.values) {
        Some(PeriodValues::Numeric(v)) => {
            v.get(i).copied().flatten().map_or(Value::Null, Value::from)
        }
        Some(PeriodValues::Categorical(v)) => {
            v.get(i).cloned().flatten().map_or(Value::Null, Value::from)
        }
        None => Value::Null,
    }
}

/// A JSON value as a CSV cell: text as is, null empty, numbers and the rest as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Memory a batch lookup may hold for a body of `body` bytes: the parsed points with their
/// input rows, the lookups and the answer's text. Measured: 133 MB above the idle server for
/// 100,000 GeoJSON points (9.7 MB) answered as JSON with five indicators (44 MB of text).
fn lookup_bytes(body: usize) -> u64 {
    16 * 1024 * 1024 + 14 * body as u64
}

/// `POST /lookup[?layer=][&format=json|csv|geojson][&indicators=][&periods=]`: many points
/// (CSV or GeoJSON body) to districts, in input order, every input column kept in order and
/// the districts' codes, names and asked indicator values added after them.
pub async fn lookup_many(
    State(state): State<SharedState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &["layer", "format", "indicators", "periods"])?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let trimmed = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| body[i]);
    let is_json = ctype.contains("json") || trimmed == Some(b'{');
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "empty body",
            "POST CSV (lon,lat columns) or GeoJSON points",
        ));
    }
    let state2 = state.clone();
    let format = match q.get("format").map(std::string::String::as_str) {
        Some("csv") => LookupFormat::Csv,
        Some("geojson") => LookupFormat::GeoJson,
        Some("json") | None => LookupFormat::Json,
        Some(other) => {
            return Err(ApiError::bad_request(
                format!("format={other:?} is not known"),
                "format=json (default), format=csv or format=geojson",
            ));
        }
    };
    let q2 = q.clone();
    let bytes = lookup_bytes(body.len());
    state.heavy(Class::Lookup, bytes, move |_| {
        let state = state2;
        let input = if is_json { points_from_geojson(&body)? } else { points_from_csv(&body)? };
        let pts = &input.points;
        if pts.len() > state.config.max_lookup_points {
            return Err(ApiError::too_large(
                format!("{} points is more than the limit of {}", pts.len(), state.config.max_lookup_points),
                "split the points into smaller batches",
            ));
        }
        let layers = chosen_layers(&state, &q2)?;
        // The user's columns come first; added ones never overwrite them.
        let mut taken = input.columns.clone();
        if input.geojson && format == LookupFormat::Csv {
            taken.extend(["lon".to_string(), "lat".to_string()]);
        }
        let base: Vec<(String, String)> = layers
            .iter()
            .map(|l| {
                let code = unique(format!("{}_code", l.meta.id), &mut taken);
                let name = unique(format!("{}_name", l.meta.id), &mut taken);
                (code, name)
            })
            .collect();
        let added = added_indicators(&layers, &q2, &mut taken)?;
        let found: Vec<Vec<Option<usize>>> = layers.iter().map(|l| l.index.lookup_many(pts)).collect();
        // The added cells of point n, in column order.
        let added_cells = |n: usize| -> Vec<(String, Value)> {
            let mut out = Vec::new();
            for (li, (l, (code, name))) in layers.iter().zip(&base).enumerate() {
                let d = found[li][n].map(|i| &l.districts[i]);
                out.push((code.clone(), d.map_or(Value::Null, |d| Value::from(d.code.clone()))));
                out.push((name.clone(), d.map_or(Value::Null, |d| Value::from(d.name.clone()))));
                for a in added.iter().filter(|a| a.layer == li) {
                    out.push((a.column.clone(), found[li][n].map_or(Value::Null, |i| added_value(a, i))));
                }
            }
            out
        };
        match format {
            LookupFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let mut header = input.columns.clone();
                if input.geojson {
                    header.extend(["lon".to_string(), "lat".to_string()]);
                }
                for (li, (code, name)) in base.iter().enumerate() {
                    header.push(code.clone());
                    header.push(name.clone());
                    header.extend(added.iter().filter(|a| a.layer == li).map(|a| a.column.clone()));
                }
                w.write_record(&header).map_err(ApiError::internal)?;
                for (n, (lon, lat)) in pts.iter().enumerate() {
                    let mut row: Vec<String> = input.rows[n].iter().map(cell).collect();
                    if input.geojson {
                        row.push(lon.to_string());
                        row.push(lat.to_string());
                    }
                    row.extend(added_cells(n).iter().map(|(_, v)| cell(v)));
                    w.write_record(&row).map_err(ApiError::internal)?;
                }
                let bytes = w.into_inner().map_err(ApiError::internal)?;
                Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
            }
            LookupFormat::GeoJson => {
                // Properties in the user's order, then the added ones: written as text, since
                // `serde_json::Map` would sort them.
                let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
                for (n, (lon, lat)) in pts.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"type\":\"Feature\",\"geometry\":");
                    out.push_str(&json!({ "type": "Point", "coordinates": [lon, lat] }).to_string());
                    out.push_str(",\"properties\":{");
                    let props = input.columns.iter().cloned().zip(input.rows[n].iter().cloned()).chain(added_cells(n));
                    for (k, (key, v)) in props.enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        out.push_str(&Value::from(key).to_string());
                        out.push(':');
                        out.push_str(&v.to_string());
                    }
                    out.push_str("}}");
                }
                out.push_str("]}");
                Ok(([(header::CONTENT_TYPE, "application/geo+json")], out).into_response())
            }
            LookupFormat::Json => {
                // Written as text one point at a time: a `Value` tree of 100,000 points with
                // their indicator objects held about 1.2 GB (five indicators), the text a
                // tenth of that. Keys in `serde_json::Map` order (sorted), as `Json` wrote them.
                let matched: Vec<Value> = layers.iter().zip(&found).map(|(l, f)| json!({ "layer": l.meta.id, "matched": f.iter().filter(|x| x.is_some()).count() })).collect();
                let mut out = format!(
                    "{{\"columns\":{},\"count\":{},\"matched\":{},\"points\":[",
                    Value::from(input.columns.clone()),
                    pts.len(),
                    Value::Array(matched)
                );
                for (n, (lon, lat)) in pts.iter().enumerate() {
                    let mut m = Map::new();
                    for (li, (l, f)) in layers.iter().zip(&found).enumerate() {
                        let v = f[n].map(|i| {
                            let mut d = json!({ "code": l.districts[i].code, "name": l.districts[i].name });
                            let values: Map<String, Value> = added
                                .iter()
                                .filter(|a| a.layer == li)
                                .map(|a| (a.column.clone(), Value::Object(indicator_value(&state.maps, l, a.indicator, &a.period, i))))
                                .collect();
                            if !values.is_empty() {
                                d["values"] = Value::Object(values);
                            }
                            d
                        }).unwrap_or(Value::Null);
                        m.insert(l.meta.id.clone(), v);
                    }
                    let input_row: Map<String, Value> = input.columns.iter().cloned().zip(input.rows[n].iter().cloned()).collect();
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&json!({ "index": n, "lon": lon, "lat": lat, "input": input_row, "districts": m }).to_string());
                }
                out.push_str("]}");
                Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
            }
        }
    })
    .await
}
