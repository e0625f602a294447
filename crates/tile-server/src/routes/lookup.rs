//! Point lookups: which district(s) contain a point (`GET /lookup`), or many points at once
//! (`POST /lookup` with CSV or GeoJSON points), with indicator values.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use districts::Layer;
use serde_json::{Map, Value, json};

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

/// Reads points from a CSV body: a header with lon/lat (or longitude/latitude, x/y) columns.
fn points_from_csv(body: &[u8]) -> Result<Vec<(f64, f64)>, ApiError> {
    let hint = "CSV with a header row holding lon and lat columns (WGS84 degrees)";
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(body);
    let headers = rdr
        .headers()
        .map_err(|e| ApiError::bad_request(format!("CSV header: {e}"), hint))?
        .clone();
    let find = |names: &[&str]| {
        headers.iter().position(|h| {
            names.contains(
                &h.trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
                    .as_str(),
            )
        })
    };
    let (Some(xi), Some(yi)) = (
        find(&["lon", "longitude", "lng", "x"]),
        find(&["lat", "latitude", "y"]),
    ) else {
        return Err(ApiError::bad_request(
            format!(
                "CSV header has no lon/lat columns: {}",
                clip(&format!("{:?}", headers.iter().collect::<Vec<_>>()), 200)
            ),
            hint,
        ));
    };
    let mut pts = Vec::new();
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
        pts.push(p);
    }
    Ok(pts)
}

/// Reads points from a GeoJSON body: a FeatureCollection of Points, or a MultiPoint.
fn points_from_geojson(body: &[u8]) -> Result<Vec<(f64, f64)>, ApiError> {
    let hint = "a GeoJSON FeatureCollection of Point features in WGS84";
    let gj: geojson::GeoJson = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("GeoJSON body is not valid GeoJSON: {e}"), hint)
    })?;
    let mut pts = Vec::new();
    let mut push =
        |g: &geojson::Geometry, what: String| -> Result<(), ApiError> {
            match &g.value {
                geojson::GeometryValue::Point { coordinates: c } if c.len() >= 2 => {
                    pts.push(
                        parse_lonlat(&c[0].to_string(), &c[1].to_string()).map_err(|_| {
                            ApiError::bad_request(format!("{what}: point out of range"), hint)
                        })?,
                    );
                    Ok(())
                }
                geojson::GeometryValue::MultiPoint { coordinates } => {
                    for c in coordinates {
                        if c.len() < 2 {
                            return Err(ApiError::bad_request(
                                format!("{what}: position needs 2 numbers"),
                                hint,
                            ));
                        }
                        pts.push(parse_lonlat(&c[0].to_string(), &c[1].to_string()).map_err(
                            |_| ApiError::bad_request(format!("{what}: point out of range"), hint),
                        )?);
                    }
                    Ok(())
                }
                other => Err(ApiError::bad_request(
                    format!("{what} is a {}, not a Point", other.type_name()),
                    hint,
                )),
            }
        };
    match &gj {
        geojson::GeoJson::FeatureCollection(fc) => {
            for (i, f) in fc.features.iter().enumerate() {
                let g = f.geometry.as_ref().ok_or_else(|| {
                    ApiError::bad_request(format!("feature {i} has no geometry"), hint)
                })?;
                push(g, format!("feature {i}"))?;
            }
        }
        geojson::GeoJson::Feature(f) => {
            let g = f
                .geometry
                .as_ref()
                .ok_or_else(|| ApiError::bad_request("feature has no geometry", hint))?;
            push(g, "feature".into())?;
        }
        geojson::GeoJson::Geometry(g) => push(g, "geometry".into())?,
    }
    Ok(pts)
}

/// `POST /lookup[?layer=][&format=csv]`: many points (CSV or GeoJSON body) to districts, in input order.
pub async fn lookup_many(
    State(state): State<SharedState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    reject_unknown(&q, &["layer", "format"])?;
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
    let format_csv = match q.get("format").map(std::string::String::as_str) {
        Some("csv") => true,
        Some("json") | None => false,
        Some(other) => {
            return Err(ApiError::bad_request(
                format!("format={other:?} is not known"),
                "format=json (default) or format=csv",
            ));
        }
    };
    let q2 = q.clone();
    tokio::task::spawn_blocking(move || {
        let state = state2;
        let pts = if is_json { points_from_geojson(&body)? } else { points_from_csv(&body)? };
        if pts.len() > state.config.max_lookup_points {
            return Err(ApiError::too_large(
                format!("{} points is more than the limit of {}", pts.len(), state.config.max_lookup_points),
                "split the points into smaller batches",
            ));
        }
        let layers = chosen_layers(&state, &q2)?;
        let found: Vec<Vec<Option<usize>>> = layers.iter().map(|l| l.index.lookup_many(&pts)).collect();
        if format_csv {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["index".to_string(), "lon".into(), "lat".into()];
            for l in &layers {
                header.push(format!("{}_code", l.meta.id));
                header.push(format!("{}_name", l.meta.id));
            }
            w.write_record(&header).map_err(ApiError::internal)?;
            for (n, (lon, lat)) in pts.iter().enumerate() {
                let mut row = vec![n.to_string(), lon.to_string(), lat.to_string()];
                for (l, f) in layers.iter().zip(&found) {
                    let d = f[n].map(|i| &l.districts[i]);
                    row.push(d.map(|d| d.code.clone()).unwrap_or_default());
                    row.push(d.map(|d| d.name.clone()).unwrap_or_default());
                }
                w.write_record(&row).map_err(ApiError::internal)?;
            }
            let bytes = w.into_inner().map_err(ApiError::internal)?;
            return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response());
        }
        let rows: Vec<Value> = pts
            .iter()
            .enumerate()
            .map(|(n, (lon, lat))| {
                let mut m = Map::new();
                for (l, f) in layers.iter().zip(&found) {
                    let v = f[n].map(|i| json!({ "code": l.districts[i].code, "name": l.districts[i].name })).unwrap_or(Value::Null);
                    m.insert(l.meta.id.clone(), v);
                }
                json!({ "index": n, "lon": lon, "lat": lat, "districts": m })
            })
            .collect();
        let matched: Vec<Value> = layers.iter().zip(&found).map(|(l, f)| json!({ "layer": l.meta.id, "matched": f.iter().filter(|x| x.is_some()).count() })).collect();
        Ok(Json(json!({ "count": pts.len(), "matched": matched, "points": rows })).into_response())
    })
    .await
    .map_err(ApiError::internal)?
}
