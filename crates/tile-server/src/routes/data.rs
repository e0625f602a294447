//! Data for GIS users and the map page: the catalogue of layers (`GET /layers`), districts as
//! RFC 7946 GeoJSON (`GET /layers/{layer}.geojson`), CSV, GeoPackage (`.gpkg`), FlatGeobuf
//! (`.fgb`) and zipped Shapefile (`.shp.zip`), one district, and the district list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maps::export::{district_values, layer_csv_cancellable, layer_geojson_cancellable, layer_json};
use maps::formats::{GisFormat, layer_file_cancellable};
use maps::geojson_text;
use maps::{ExportOptions, VersionOptions};
use serde_json::{Map, Value, json};

use crate::admission::Class;
use crate::byte_ranges::file_like;
use crate::error::ApiError;
use crate::extract::Options;
use crate::state::SharedState;

/// What exporting all of `layer` as GeoJSON may hold: the text (about 24 bytes a coordinate
/// at the default precision, half a kilobyte of properties a district), twice while the
/// string grows. Counted once per layer (boundaries do not change while the server runs).
fn geojson_bytes(layer: &districts::Layer) -> u64 {
    use geo::CoordsIter;
    static COORDS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, u64>>> =
        std::sync::OnceLock::new();
    let memo = COORDS.get_or_init(Default::default);
    let known = memo
        .lock()
        .ok()
        .and_then(|m| m.get(&layer.meta.id).copied());
    let coords = known.unwrap_or_else(|| {
        let n: u64 = layer
            .districts
            .iter()
            .map(|d| d.wgs84.0.coords_count() as u64)
            .sum();
        if let Ok(mut m) = memo.lock() {
            m.insert(layer.meta.id.clone(), n);
        }
        n
    });
    2 * (coords * 24 + layer.districts.len() as u64 * 512)
}

/// What a CSV export of `layer` may hold (a kilobyte a district, twice while growing).
fn csv_bytes(layer: &districts::Layer) -> u64 {
    2 * 1024 * layer.districts.len() as u64
}

/// What a GeoPackage, FlatGeobuf or Shapefile export of `layer` may hold: the geometries on
/// their grid and the encoded file (GeoPackage reads its temporary file back; the Shapefile
/// holds its parts and the zip), within the GeoJSON estimate's 48 bytes a coordinate.
fn gis_bytes(layer: &districts::Layer) -> u64 {
    geojson_bytes(layer)
}

/// The file name of a download of `layer` (`lad19.gpkg`), for `Content-Disposition`.
fn attachment(layer: &str, format: GisFormat) -> String {
    let safe: String = layer
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    format!("attachment; filename=\"{safe}.{}\"", format.extension())
}

/// A GeoPackage, FlatGeobuf or zipped Shapefile of layer `id`, built within the admission
/// budget and cancelled when the client goes away.
pub(crate) async fn gis_file(
    state: &SharedState,
    id: &str,
    q: ExportOptions,
    format: GisFormat,
) -> Result<Response, ApiError> {
    let bytes = gis_bytes(state.layer(id)?);
    let state2 = state.clone();
    let id = id.to_string();
    let name = id.clone();
    let body = state
        .heavy(
            Class::Export,
            bytes,
            move |cancel| -> Result<Vec<u8>, ApiError> {
                let layer = state2.layer(&id)?;
                Ok(layer_file_cancellable(layer, &q, format, &|| {
                    cancel.is_cancelled()
                })?)
            },
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_string()),
            (header::CONTENT_DISPOSITION, attachment(&name, format)),
        ],
        body,
    )
        .into_response())
}

/// `GET /layers`: every layer and indicator with metadata and join summaries.
pub async fn list_layers(State(state): State<SharedState>) -> Json<Value> {
    Json(json!({ "layers": state.maps.atlas.layers.iter().map(layer_json).collect::<Vec<_>>() }))
}

/// `GET /layers/{layer}` (metadata), `GET /layers/{layer}.geojson`, `.csv`, `.gpkg`, `.fgb` or
/// `.shp.zip`.
pub async fn layer_file(
    State(state): State<SharedState>,
    Path(file): Path<String>,
    uri: axum::http::Uri,
    Options((mut q, pin)): Options<(ExportOptions, VersionOptions)>,
) -> Result<Response, ApiError> {
    // `indicators=` resolved once here: `@N` and `version=N` pin uploaded datasets.
    let gis = GisFormat::ALL.into_iter().find_map(|f| {
        file.strip_suffix(f.extension())
            .and_then(|id| id.strip_suffix('.'))
            .map(|id| (id.to_string(), f))
    });
    let layer_id = [".geojson", ".csv"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .or(gis.as_ref().map(|(id, _)| id.as_str()));
    if let Some(id) = layer_id {
        let layer = state.layer(id)?;
        q.indicators = state
            .maps
            .pin_list(layer, q.indicators.as_deref(), pin.version)?;
    } else if pin.version.is_some() {
        return Err(ApiError::bad_request(
            "version= applies to the .geojson, .csv, .gpkg, .fgb and .shp.zip exports",
            "e.g. /layers/lad23.csv?indicators=my_data&version=1",
        ));
    }
    if let Some((id, format)) = gis {
        let res = gis_file(&state, &id, q, format).await?;
        return Ok(file_like(res, (&state.maps.data_version, uri.to_string())));
    }
    if let Some(id) = file.strip_suffix(".geojson") {
        let bytes = geojson_bytes(state.layer(id)?);
        // OGC API - Features Part 2's header naming the CRS of the coordinates.
        let content_crs = format!("<{}>", q.crs.unwrap_or_default().uri());
        let state2 = state.clone();
        let id = id.to_string();
        let body = state
            .heavy(
                Class::Export,
                bytes,
                move |cancel| -> Result<String, ApiError> {
                    let layer = state2.layer(&id)?;
                    Ok(layer_geojson_cancellable(&state2.maps, layer, &q, &|| {
                        cancel.is_cancelled()
                    })?)
                },
            )
            .await?;
        let res = (
            [
                (header::CONTENT_TYPE, "application/geo+json".to_string()),
                (header::HeaderName::from_static("content-crs"), content_crs),
            ],
            body,
        )
            .into_response();
        return Ok(file_like(res, (&state.maps.data_version, uri.to_string())));
    }
    if let Some(id) = file.strip_suffix(".csv") {
        let bytes = csv_bytes(state.layer(id)?);
        let state2 = state.clone();
        let id = id.to_string();
        let body = state
            .heavy(
                Class::Export,
                bytes,
                move |cancel| -> Result<String, ApiError> {
                    let layer = state2.layer(&id)?;
                    Ok(layer_csv_cancellable(layer, &q, &|| cancel.is_cancelled())?)
                },
            )
            .await?;
        let res = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
        return Ok(file_like(res, (&state.maps.data_version, uri.to_string())));
    }
    if let Some(id) = file.strip_suffix(".json") {
        return Ok(Json(layer_json(state.layer(id)?)).into_response());
    }
    Ok(Json(layer_json(state.layer(&file)?)).into_response())
}

/// `GET /layers/{layer}/districts`: code, name and bbox of every district (the map page's
/// search). With `indicator=` (and the tiles' style options: `year=`, `change=`, `scheme=`...)
/// each district also has the value the map shows and its fill colour (`null` for no data):
/// the map page's data table, the same numbers as the map, change arithmetic included.
/// `region=` lists that region's districts only, coloured as its tiles colour them.
pub async fn list_districts(
    State(state): State<SharedState>,
    Path(layer): Path<String>,
    axum::extract::Query(mut pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let layer = state.layer(&layer)?;
    let indicator = pairs
        .iter()
        .position(|(k, _)| k == "indicator")
        .map(|i| pairs.remove(i).1);
    let ((opts, pin), area): (
        (maps::StyleOptions, VersionOptions),
        maps::options::RegionOptions,
    ) = maps::options::read_options(&pairs)?;
    if indicator.is_none() && pairs.iter().any(|(k, _)| k != "region") {
        return Err(ApiError::bad_request(
            "style options need indicator=",
            "e.g. /layers/lad19/districts?indicator=imd_score&year=2019",
        ));
    }
    let shown = match &indicator {
        Some(id) => {
            let ind = state.indicator_at(layer, id, pin.version)?;
            let style =
                state
                    .maps
                    .styles
                    .resolve_in_region(layer, ind, &opts, area.region.as_deref())?;
            Some((ind, style))
        }
        None => None,
    };
    let labels: Option<&Vec<Option<String>>> = shown.as_ref().and_then(|(ind, style)| {
        match (&style.showing, style.classification.is_none()) {
            (maps::style::Showing::Period(p), true) => match ind.period(p).map(|p| &p.values) {
                Some(districts::layer::PeriodValues::Categorical(v)) => Some(v),
                _ => None,
            },
            _ => None,
        }
    });
    // With region=, that region's districts only.
    let inside = match &area.region {
        Some(r) => Some(maps::region::select(layer, r)?),
        None => None,
    };
    let list: Vec<Value> = layer
        .districts
        .iter()
        .enumerate()
        .filter(|(i, _)| inside.as_ref().is_none_or(|c| c[*i]))
        .map(|(i, d)| {
            let bbox = d
                .wgs84
                .bbox()
                .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
            let mut v = json!({ "code": d.code, "name": d.name, "bbox": bbox });
            if let Some((_, style)) = &shown {
                v["value"] = match labels {
                    Some(l) => l.get(i).cloned().flatten().map_or(Value::Null, Value::from),
                    None => style
                        .values
                        .get(i)
                        .copied()
                        .flatten()
                        .map_or(Value::Null, Value::from),
                };
                v["colour"] = match style.fills.get(i) {
                    Some(choropleth::render::Fill::Solid(c)) => Value::from(c.to_hex()),
                    _ => Value::Null,
                };
            }
            v
        })
        .collect();
    let mut out = json!({ "layer": layer.meta.id, "districts": list });
    if let Some((ind, style)) = &shown {
        out["indicator"] = Value::from(ind.meta.id.clone());
        out["showing"] = Value::from(style.showing.label());
        out["unit"] = Value::from(style.unit.clone());
    }
    Ok(Json(out))
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
        Value::Object(district_values(&state.maps, layer, i)),
    );
    let mut out = String::new();
    geojson_text::push_feature(&mut out, &d.code, &d.wgs84.0, &props, 6);
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], out).into_response())
}
