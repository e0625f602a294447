//! OGC API - Features (Part 1: Core, with the GeoJSON encoding) under `/ogc`, so QGIS, ArcGIS
//! and GDAL's OAPIF driver can browse and page through the districts of every layer, with
//! their indicator values as properties. Collections are the boundary layers; a feature's id is
//! its GSS code. Written against the standard (OGC 17-069r4) because no Rust crate serves it.
//!
//! | route | what |
//! |---|---|
//! | `GET /ogc` | landing page |
//! | `GET /ogc/conformance` | conformance classes |
//! | `GET /ogc/api` | OpenAPI 3.0 description of these routes |
//! | `GET /ogc/collections`, `/ogc/collections/{layer}` | the layers, with extent and CRS |
//! | `GET /ogc/collections/{layer}/items` | features: `limit` (10, at most 10,000), `offset`, `bbox`, `datetime`, plus placemap's `indicators=`, `periods=`, `precision=` and `version=` |
//! | `GET /ogc/collections/{layer}/items/{code}` | one feature |
//! | `GET /ogc/collections/{layer}/queryables` | the properties filters may name (JSON Schema) |
//!
//! Part 2 (CRS by reference): `crs=` on items and features (CRS84, EPSG:4326, EPSG:27700,
//! EPSG:3857), `bbox-crs=`, a `Content-Crs` header on every GeoJSON response, and each
//! collection's `storageCrs` (the CRS of its boundary file). Part 3 (Filtering): `filter=` in
//! CQL2 text, `property=value`, plus `sortby=` and `properties=`; the evaluation is
//! [`maps::filter`]'s.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use districts::Layer;
use serde_json::{Value, json};

use crate::base_url::BaseUrl;
use crate::error::ApiError;
use maps::export::{chosen_indicators, feature_properties, layer_bounds};
use maps::filter::{Filter, Queryables};
use maps::formats::GisFormat;
use maps::geojson_text;
use maps::options::{Bbox, ExportOptions, Periods};
use maps::output_crs::{OutputCrs, Projector};

use crate::params::{parse_bbox, parse_num, reject_unknown, urlencode};
use crate::state::SharedState;

const CONF_CORE: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core";
const CONF_GEOJSON: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson";
/// Every document also as HTML (`f=html`; the `ogc_html` middleware renders it).
const CONF_HTML: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GEOJSON: &str = "application/geo+json";
/// Part 2 (CRS by reference).
const CONF_CRS: &str = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs";
/// Part 3 (Filtering) and the CQL2 classes [`maps::filter`] implements.
const CONF_FILTERING: [&str; 10] = [
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
];
const QUERYABLES_REL: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";
const SCHEMA_JSON: &str = "application/schema+json";
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 10_000;

/// `{base}/ogc` (see [`crate::base_url`]), for absolute links (clients such as GDAL follow
/// `next` links as given).
fn base(base: &BaseUrl) -> String {
    format!("{}/ogc", base.as_str())
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": kind, "title": title })
}

/// Only `known` query options, and `f=json` as the encoding; anything else is a 400.
fn check_options(q: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    reject_unknown(q, known)?;
    check_format(q)
}

/// `f=json` is the only encoding (GeoJSON for features); anything else is a 400.
fn check_format(q: &HashMap<String, String>) -> Result<(), ApiError> {
    match q.get("f").map(|f| f.to_ascii_lowercase()) {
        None => Ok(()),
        Some(f) if f == "json" || f == "geojson" => Ok(()),
        Some(f) => Err(ApiError::bad_request(
            format!("f={f:?} is not an encoding this service offers"),
            "f=json (GeoJSON for features; items also take f=gpkg, f=fgb or f=shp), or leave it out",
        )),
    }
}

/// The options of a feature response: placemap's own `precision`, `periods`, `indicators` and
/// `version` (pins the uploaded datasets named in `indicators`, like `@N`), Part 2's `crs` and
/// `properties=`.
struct FeatureOptions<'a> {
    precision: usize,
    periods: Periods,
    inds: Vec<&'a districts::Indicator>,
    crs: OutputCrs,
    /// The properties to keep (`properties=`), all when `None`.
    properties: Option<Vec<String>>,
    /// `datetime=`: the period of each indicator shown instead of its default.
    at: Option<Vec<(&'a districts::Indicator, usize)>>,
}

fn feature_options<'a>(
    state: &SharedState,
    layer: &'a Layer,
    q: &HashMap<String, String>,
) -> Result<FeatureOptions<'a>, ApiError> {
    let crs = crs_param(q, "crs")?.unwrap_or_default();
    let precision = crs.precision(
        q.get("precision")
            .map(|p| parse_num::<usize>("precision", p))
            .transpose()?,
    )?;
    let periods = periods_param(q)?;
    let version = q
        .get("version")
        .map(|v| parse_num::<u32>("version", v))
        .transpose()?;
    let list = state
        .maps
        .pin_list(layer, q.get("indicators").map(String::as_str), version)?;
    let inds = chosen_indicators(layer, list.as_deref())?;
    maps::export::check_periods(&inds, &periods)?;
    let properties = match q.get("properties") {
        Some(raw) => Some(maps::filter::parse_properties(
            raw,
            // With datetime= each indicator's property is its id (the period datetime= picks).
            &maps::filter::property_names(
                layer,
                &inds,
                if q.contains_key("datetime") {
                    &Periods::DefaultPlain
                } else {
                    &periods
                },
            ),
        )?),
        None => None,
    };
    let at = match q.get("datetime") {
        Some(raw) => {
            if !matches!(periods, Periods::Default | Periods::DefaultPlain) {
                return Err(ApiError::bad_request(
                    "datetime= picks one period of each indicator; periods= chooses periods too",
                    "leave out periods=, or datetime=",
                ));
            }
            let span = maps::filter::datetime_span(raw)?;
            Some(maps::filter::periods_at(&inds, span, raw)?)
        }
        None => None,
    };
    Ok(FeatureOptions {
        precision,
        periods,
        inds,
        crs,
        properties,
        at,
    })
}

/// `periods=` with `columns=` applied (how the default period's properties are named).
fn periods_param(q: &HashMap<String, String>) -> Result<Periods, ApiError> {
    let periods = q
        .get("periods")
        .map(|p| p.parse::<Periods>())
        .transpose()?
        .unwrap_or_default();
    let columns = q
        .get("columns")
        .map(|c| c.parse::<maps::options::ColumnNames>())
        .transpose()?;
    Ok(periods.named(columns)?)
}

/// A CRS query option (`crs`, `bbox-crs`, `filter-crs`), 400 naming it when not one we offer.
fn crs_param(q: &HashMap<String, String>, name: &str) -> Result<Option<OutputCrs>, ApiError> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => OutputCrs::parse(raw).map(Some).map_err(|e| {
            ApiError::bad_request(
                format!("{name}: {}", e.message()),
                e.hint().unwrap_or_default().to_string(),
            )
        }),
    }
}

/// Outside CRS84, the GeoJSON 2008 `crs` member (`"crs":{...},`) naming the CRS, for clients
/// that read a response as a file (GDAL's GeoJSON driver, QGIS); empty in CRS84 (RFC 7946).
fn crs_member(crs: OutputCrs) -> String {
    if crs == OutputCrs::Crs84 {
        return String::new();
    }
    format!(
        r#""crs":{{"type":"name","properties":{{"name":"{}"}}}},"#,
        crs.urn()
    )
}

/// Part 2's `Content-Crs` header, `<uri>`.
fn content_crs(crs: OutputCrs) -> (header::HeaderName, String) {
    (
        header::HeaderName::from_static("content-crs"),
        format!("<{}>", crs.uri()),
    )
}

/// Appends district `i` as a GeoJSON Feature in the requested CRS, precision and properties.
fn push_item(
    out: &mut String,
    layer: &Layer,
    i: usize,
    o: &FeatureOptions<'_>,
    projector: &Projector,
) -> Result<(), ApiError> {
    let d = &layer.districts[i];
    let mut props = match &o.at {
        Some(chosen) => maps::export::feature_properties_at(layer, chosen, i),
        None => feature_properties(layer, &o.inds, i, &o.periods),
    };
    if let Some(keep) = &o.properties {
        props.retain(|k, _| keep.contains(k));
    }
    if projector.crs() == OutputCrs::Crs84 {
        geojson_text::push_feature(out, &d.code, &d.wgs84.0, &props, o.precision);
    } else {
        let g = projector.multipolygon(&d.wgs84.0)?;
        geojson_text::push_feature(out, &d.code, &g, &props, o.precision);
    }
    Ok(())
}

/// Part 1's items options, then Parts 2 and 3's.
const ITEMS_OPTIONS: &[&str] = &[
    "f",
    "limit",
    "offset",
    "bbox",
    "datetime",
    "indicators",
    "periods",
    "columns",
    "precision",
    "version",
    "crs",
    "bbox-crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
];

/// Items options: the known ones, and any queryable as `property=value`; anything else is a 400.
fn check_items_options(q: &HashMap<String, String>, qs: &Queryables<'_>) -> Result<(), ApiError> {
    let mut unknown: Vec<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !ITEMS_OPTIONS.contains(k) && qs.find(k).is_none())
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(ApiError::bad_request(
            format!("unknown option(s): {}", unknown.join(", ")),
            format!(
                "valid options: {}, or a queryable property as property=value (see the \
                 collection's /queryables)",
                ITEMS_OPTIONS.join(", ")
            ),
        ));
    }
    check_format(q)
}

/// `bbox=` in `bbox-crs` (CRS84 by default) as an area in WGS84.
fn bbox_param(raw: &str, crs: OutputCrs) -> Result<geo::Geometry<f64>, ApiError> {
    if crs == OutputCrs::Crs84 {
        let [w, s, e, n] = parse_bbox(raw)?;
        return Ok(geo::Geometry::Rect(geo::Rect::new(
            geo::coord! { x: w, y: s },
            geo::coord! { x: e, y: n },
        )));
    }
    let hint = "bbox=minX,minY,maxX,maxY in the axis order of bbox-crs, e.g. \
                bbox=440000,520000,460000,540000&bbox-crs=EPSG:27700";
    let v: Vec<f64> = raw
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("bbox value {p:?} is not a number"), hint)
                })
        })
        .collect::<Result<_, _>>()?;
    let b = match v.as_slice() {
        [a, b, c, d] | [a, b, _, c, d, _] => [*a, *b, *c, *d],
        _ => {
            return Err(ApiError::bad_request(
                format!("bbox={raw:?} needs 4 numbers, got {}", v.len()),
                hint,
            ));
        }
    };
    Ok(maps::filter::bbox_area(b, crs)?)
}

/// The districts an items request selects, in response order: `bbox` (exact intersection, in
/// `bbox-crs`), then `filter` and `property=value` filters, then `sortby`. Paging comes after,
/// so `numberMatched` counts them all.
fn matched_features(
    layer: &Layer,
    qs: &Queryables<'_>,
    q: &HashMap<String, String>,
) -> Result<Vec<usize>, ApiError> {
    use geo::{BoundingRect, Intersects};
    let bbox_crs = crs_param(q, "bbox-crs")?;
    let candidates: Vec<usize> = match q.get("bbox") {
        Some(raw) => {
            let area = bbox_param(raw, bbox_crs.unwrap_or_default())?;
            let mut c: Vec<usize> = match area.bounding_rect() {
                Some(r) => layer
                    .index
                    .candidates_in_bbox(r.min().x, r.min().y, r.max().x, r.max().y)
                    .into_iter()
                    .filter(|&i| layer.districts[i].wgs84.0.intersects(&area))
                    .collect(),
                None => Vec::new(),
            };
            c.sort_unstable();
            c
        }
        None if bbox_crs.is_some() => {
            return Err(ApiError::bad_request(
                "bbox-crs names the CRS of bbox=, which is missing",
                "e.g. bbox=440000,520000,460000,540000&bbox-crs=EPSG:27700",
            ));
        }
        None => (0..layer.districts.len()).collect(),
    };
    let mut filters: Vec<Filter> = Vec::new();
    match q.get("filter-lang").map(|l| l.to_ascii_lowercase()) {
        None => {}
        Some(l) if l == "cql2-text" => {}
        Some(l) => {
            return Err(ApiError::bad_request(
                format!("filter-lang={l:?} is not supported"),
                "filter-lang=cql2-text (the default); CQL2 JSON is not offered",
            ));
        }
    }
    let filter_crs = crs_param(q, "filter-crs")?;
    match q.get("filter") {
        Some(text) => filters.push(maps::filter::parse_cql2_text(
            text,
            qs,
            filter_crs.unwrap_or_default(),
        )?),
        None if filter_crs.is_some() || q.contains_key("filter-lang") => {
            return Err(ApiError::bad_request(
                "filter-lang and filter-crs describe filter=, which is missing",
                "e.g. filter=S_INTERSECTS(geometry, BBOX(440000,520000,460000,540000))&filter-crs=EPSG:27700",
            ));
        }
        None => {}
    }
    let mut equals: Vec<(&String, &String)> = q
        .iter()
        .filter(|(k, _)| !ITEMS_OPTIONS.contains(&k.as_str()))
        .collect();
    equals.sort();
    for (k, v) in equals {
        filters.push(maps::filter::property_equals(qs, k, v)?);
    }
    let keys = match q.get("sortby") {
        Some(raw) => maps::filter::parse_sortby(raw, qs)?,
        None => Vec::new(),
    };
    Ok(maps::filter::select(
        qs,
        candidates,
        Filter::all(filters).as_ref(),
        &keys,
    ))
}

/// Part 2's members of a collection: every CRS it can be had in, and the CRS of its file.
fn add_crs_members(c: &mut Value, layer: &Layer) {
    c["crs"] = json!(OutputCrs::ALL.iter().map(|k| k.uri()).collect::<Vec<_>>());
    let storage = layer
        .source_crs
        .map(OutputCrs::of_source)
        .unwrap_or_default();
    c["storageCrs"] = json!(storage.uri());
}

/// `GET /ogc/collections/{layer}/queryables`: the properties filters may name, as JSON Schema.
pub async fn queryables(
    State(state): State<SharedState>,
    origin: BaseUrl,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    check_options(&q, &["f"])?;
    let layer = state.layer(&id)?;
    let url = format!("{}/collections/{id}/queryables", base(&origin));
    let doc = Queryables::of(layer).schema(&url);
    Ok(([(header::CONTENT_TYPE, SCHEMA_JSON)], doc.to_string()).into_response())
}

/// `GET /ogc`: the landing page.
pub async fn landing(
    origin: BaseUrl,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_options(&q, &["f"])?;
    let b = base(&origin);
    Ok(Json(json!({
        "title": "placemap",
        "description": "Districts of England and the UK (local authority districts, LSOAs, MSOAs) with the deprivation, pay, employment and education indicators placemap joins to them.",
        "links": [
            link(b.clone(), "self", "application/json", "this document"),
            link(format!("{b}?f=html"), "alternate", "text/html", "this document as HTML"),
            link(format!("{b}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            link(format!("{b}/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{b}/collections"), "data", "application/json", "the boundary layers"),
        ],
    })))
}

/// `GET /ogc/conformance`.
pub async fn conformance(
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_options(&q, &["f"])?;
    let mut classes = vec![CONF_CORE, CONF_GEOJSON, CONF_HTML, CONF_CRS];
    classes.extend(CONF_FILTERING);
    Ok(Json(json!({ "conformsTo": classes })))
}

/// One collection (a boundary layer).
fn collection_json(layer: &Layer, b: &str) -> Value {
    let id = &layer.meta.id;
    let mut c = json!({
        "id": id,
        "title": layer.meta.title,
        "description": format!(
            "{} districts, vintage {}, with {} indicators as properties (default period each). {}",
            layer.districts.len(),
            layer.meta.vintage,
            layer.indicators.len(),
            layer.meta.provenance.attribution
        ),
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            link(format!("{b}/collections/{id}"), "self", "application/json", "this collection"),
            link(format!("{b}/collections/{id}/items"), "items", GEOJSON, "the districts"),
        ],
    });
    if let Some(bounds) = layer_bounds(layer) {
        c["extent"] = json!({ "spatial": { "bbox": [bounds], "crs": CRS84 } });
    }
    add_crs_members(&mut c, layer);
    if let Some(links) = c["links"].as_array_mut() {
        links.push(link(
            format!("{b}/collections/{id}/queryables"),
            QUERYABLES_REL,
            SCHEMA_JSON,
            "the properties filter= and sortby= may name",
        ));
    }
    c
}

/// `GET /ogc/collections`.
pub async fn collections(
    State(state): State<SharedState>,
    origin: BaseUrl,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_options(&q, &["f"])?;
    let b = base(&origin);
    Ok(Json(json!({
        "links": [link(format!("{b}/collections"), "self", "application/json", "this document")],
        "collections": state.maps.atlas.layers.iter().map(|l| collection_json(l, &b)).collect::<Vec<_>>(),
    })))
}

/// `GET /ogc/collections/{layer}`.
pub async fn collection(
    State(state): State<SharedState>,
    origin: BaseUrl,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    check_options(&q, &["f"])?;
    let layer = state.layer(&id)?;
    Ok(Json(collection_json(layer, &base(&origin))))
}

/// Checks `datetime` (an instant or an interval, `..` open): districts have no temporal
/// geometry, so a valid value selects every feature (the standard's "features without
/// temporal information" case); a malformed one is a 400.
fn check_datetime(raw: &str) -> Result<(), ApiError> {
    // An RFC 3339 date or date-time starts YYYY-MM-DD; the time part is not checked further.
    let ok_date = |s: &str| {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
        b.len() >= 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && num(5..7).is_some_and(|m| (1..=12).contains(&m))
            && num(8..10).is_some_and(|d| (1..=31).contains(&d))
            && (b.len() == 10 || b[10] == b'T' || b[10] == b't')
    };
    let ok_instant = |s: &str| s == ".." || s.is_empty() || ok_date(s);
    let parts: Vec<&str> = raw.split('/').collect();
    let valid = match parts.as_slice() {
        [one] => !one.is_empty() && *one != ".." && ok_instant(one),
        [a, b] => {
            let open = |s: &str| s.is_empty() || s == "..";
            ok_instant(a) && ok_instant(b) && !(open(a) && open(b))
        }
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            format!("datetime={raw:?} is not an RFC 3339 instant or interval"),
            "e.g. datetime=2019-09-26T00:00:00Z or datetime=2019-01-01T00:00:00Z/..",
        ))
    }
}

/// `GET /ogc/collections/{layer}/items`: a page of districts as a GeoJSON FeatureCollection.
pub async fn items(
    State(state): State<SharedState>,
    origin: BaseUrl,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(format) = q.get("f").and_then(|f| GisFormat::from_name(f)) {
        return items_file(&state, &id, &q, format).await;
    }
    check_items_options(&q, &Queryables::of(state.layer(&id)?))?;
    let crs = crs_param(&q, "crs")?.unwrap_or_default();
    let b = base(&origin);
    let state2 = state.clone();
    // A page is at most MAX_LIMIT features, each up to a few hundred kilobytes of GeoJSON.
    let body = state
        .heavy(
            crate::admission::Class::Export,
            ITEMS_PAGE_BYTES,
            move |_| items_page(&state2, &id, &q, &b),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, GEOJSON.to_string()),
            content_crs(crs),
        ],
        body,
    )
        .into_response())
}

/// `GET /ogc/collections/{layer}/items?f=gpkg|fgb|shp` (or a media type): every feature of
/// the collection meeting `bbox` (by bounding box) as one GeoPackage, FlatGeobuf or zipped
/// Shapefile in `crs`, the same file as `GET /layers/{layer}.gpkg|.fgb|.shp.zip`. A file is
/// not paged: `limit` and `offset` are refused.
async fn items_file(
    state: &SharedState,
    id: &str,
    q: &HashMap<String, String>,
    format: GisFormat,
) -> Result<Response, ApiError> {
    if q.contains_key("limit") || q.contains_key("offset") {
        return Err(ApiError::bad_request(
            format!(
                "f={} is one file of every feature: limit and offset do not apply",
                format.name()
            ),
            "leave out limit and offset (bbox= narrows the features), or page with f=json",
        ));
    }
    reject_unknown(
        q,
        &[
            "f",
            "bbox",
            "crs",
            "datetime",
            "indicators",
            "periods",
            "columns",
            "precision",
            "version",
        ],
    )?;
    if let Some(d) = q.get("datetime") {
        check_datetime(d)?;
    }
    let layer = state.layer(id)?;
    let version = q
        .get("version")
        .map(|v| parse_num::<u32>("version", v))
        .transpose()?;
    let opts = ExportOptions {
        indicators: state
            .maps
            .pin_list(layer, q.get("indicators").map(String::as_str), version)?,
        periods: q.get("periods").map(|p| p.parse::<Periods>()).transpose()?,
        columns: q
            .get("columns")
            .map(|c| c.parse::<maps::options::ColumnNames>())
            .transpose()?,
        bbox: q.get("bbox").map(|b| parse_bbox(b).map(Bbox)).transpose()?,
        precision: q
            .get("precision")
            .map(|p| parse_num::<usize>("precision", p))
            .transpose()?,
        crs: crs_param(q, "crs")?,
        ..ExportOptions::default()
    };
    super::data::gis_file(state, id, opts, format).await
}

/// Memory a page of items may hold (admission control's estimate).
const ITEMS_PAGE_BYTES: u64 = 64 * 1024 * 1024;

fn items_page(
    state: &SharedState,
    id: &str,
    q: &HashMap<String, String>,
    b: &str,
) -> Result<String, ApiError> {
    let layer = state.layer(id)?;
    let limit = match q.get("limit") {
        Some(l) => parse_num::<usize>("limit", l)?,
        None => DEFAULT_LIMIT,
    };
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            format!("limit {limit} is out of range"),
            format!("limit=1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); page with offset="),
        ));
    }
    let offset = match q.get("offset") {
        Some(o) => parse_num::<usize>("offset", o)?,
        None => 0,
    };
    if let Some(d) = q.get("datetime") {
        check_datetime(d)?;
    }
    let options = feature_options(state, layer, q)?;
    let projector = options.crs.projector()?;
    let matched = matched_features(layer, &Queryables::of(layer), q)?;
    let page: &[usize] = matched
        .get(offset..)
        .map_or(&[], |rest| &rest[..limit.min(rest.len())]);

    // Links keep the client's other parameters.
    let mut kept: Vec<(&String, &String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "offset" && k.as_str() != "limit")
        .collect();
    kept.sort();
    let href = |off: usize| {
        let mut s = format!("{b}/collections/{id}/items?limit={limit}&offset={off}");
        for (k, v) in &kept {
            s.push_str(&format!("&{}={}", urlencode(k), urlencode(v)));
        }
        s
    };
    let mut links = vec![
        link(href(offset), "self", GEOJSON, "this page"),
        link(
            format!("{b}/collections/{id}"),
            "collection",
            "application/json",
            "the collection",
        ),
    ];
    if offset + page.len() < matched.len() {
        links.push(link(
            href(offset + page.len()),
            "next",
            GEOJSON,
            "next page",
        ));
    }
    if offset > 0 {
        links.push(link(
            href(offset.saturating_sub(limit)),
            "prev",
            GEOJSON,
            "previous page",
        ));
    }

    let mut out = String::with_capacity(page.len() * 2048 + 512);
    out.push_str(r#"{"type":"FeatureCollection","#);
    out.push_str(&crs_member(options.crs));
    out.push_str(r#""features":["#);
    for (n, &i) in page.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_item(&mut out, layer, i, &options, &projector)?;
    }
    out.push_str("],");
    let tail = json!({
        "numberMatched": matched.len(),
        "numberReturned": page.len(),
        "links": links,
    });
    // Splice the members of `tail` into the collection object.
    let tail = tail.to_string();
    out.push_str(&tail[1..]);
    Ok(out)
}

/// `GET /ogc/collections/{layer}/items/{code}`: one district as a GeoJSON Feature.
pub async fn item(
    State(state): State<SharedState>,
    origin: BaseUrl,
    Path((id, code)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    check_options(
        &q,
        &[
            "f",
            "indicators",
            "periods",
            "columns",
            "precision",
            "version",
            "crs",
            "properties",
            "datetime",
        ],
    )?;
    let layer = state.layer(&id)?;
    let i = layer.position(&code).ok_or_else(|| {
        ApiError::not_found(
            format!("no feature {code:?} in collection {id}"),
            format!(
                "feature ids are the layer's GSS codes, e.g. {}",
                layer
                    .districts
                    .first()
                    .map_or("E06000001", |d| d.code.as_str())
            ),
        )
    })?;
    let options = feature_options(&state, layer, &q)?;
    let projector = options.crs.projector()?;
    let b = base(&origin);
    let d = &layer.districts[i];
    let mut out = String::new();
    push_item(&mut out, layer, i, &options, &projector)?;
    // Add the links member before the closing brace of the feature.
    out.pop();
    let links = json!([
        link(
            format!("{b}/collections/{id}/items/{}", d.code),
            "self",
            GEOJSON,
            "this feature"
        ),
        link(
            format!("{b}/collections/{id}"),
            "collection",
            "application/json",
            "the collection"
        ),
    ]);
    out.push(',');
    out.push_str(&crs_member(options.crs));
    out.push_str(r#""links":"#);
    out.push_str(&links.to_string());
    out.push('}');
    Ok((
        [
            (header::CONTENT_TYPE, GEOJSON.to_string()),
            content_crs(options.crs),
        ],
        out,
    )
        .into_response())
}

/// `GET /ogc/api`: an OpenAPI 3.0 description of the routes above.
pub async fn api(origin: BaseUrl) -> Response {
    let b = base(&origin);
    let param = |name: &str, schema: Value, desc: &str| json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": desc });
    let path_param = |name: &str, desc: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": desc });
    let ok =
        |desc: &str, kind: &str| json!({ "200": { "description": desc, "content": { kind: {} } } });
    let doc = json!({
        "openapi": "3.0.3",
        "info": { "title": "placemap OGC API - Features", "version": env!("CARGO_PKG_VERSION") },
        "servers": [{ "url": b }],
        "paths": {
            "/": { "get": { "summary": "Landing page", "responses": ok("links", "application/json") } },
            "/conformance": { "get": { "summary": "Conformance classes", "responses": ok("conformsTo", "application/json") } },
            "/collections": { "get": { "summary": "The boundary layers", "responses": ok("collections", "application/json") } },
            "/collections/{collectionId}": { "get": {
                "summary": "One boundary layer",
                "parameters": [path_param("collectionId", "layer id, e.g. lad19")],
                "responses": ok("collection", "application/json"),
            } },
            "/collections/{collectionId}/items": { "get": {
                "summary": "Districts of a layer, paged",
                "parameters": [
                    path_param("collectionId", "layer id, e.g. lad19"),
                    param("limit", json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }), "features per page"),
                    param("offset", json!({ "type": "integer", "minimum": 0, "default": 0 }), "features to skip"),
                    param("bbox", json!({ "type": "array", "minItems": 4, "maxItems": 4, "items": { "type": "number" } }), "minLon,minLat,maxLon,maxLat (CRS84): features intersecting it"),
                    param("datetime", json!({ "type": "string" }), "RFC 3339 instant or interval; districts have no temporal geometry, so every feature matches"),
                    param("indicators", json!({ "type": "string" }), "comma-separated indicator ids to include as properties (default all)"),
                    param("periods", json!({ "type": "string", "default": "default" }), "`default` (each indicator's default period), `all` (every period) or a list of periods such as `2015,2021`; listed periods are named `id_period`"),
                    param("columns", json!({ "type": "string", "enum": ["period", "plain"], "default": "period" }), "how the default period's properties are named: `id_period` for an indicator with several periods (`period`), or `id` (`plain`)"),
                    param("precision", json!({ "type": "integer", "minimum": 0, "maximum": 10, "default": 6 }), "decimals of coordinates"),
                    param("version", json!({ "type": "integer", "minimum": 1 }), "version of the uploaded datasets named in indicators (default the latest; id@N pins one too)"),
                ],
                "responses": ok("FeatureCollection", GEOJSON),
            } },
            "/collections/{collectionId}/items/{featureId}": { "get": {
                "summary": "One district",
                "parameters": [path_param("collectionId", "layer id"), path_param("featureId", "GSS code, e.g. E06000001")],
                "responses": ok("Feature", GEOJSON),
            } },
        },
    });
    let mut doc = doc;
    add_part2_part3_api(&mut doc);
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.oai.openapi+json;version=3.0",
        )],
        doc.to_string(),
    )
        .into_response()
}

/// The OpenAPI description of Parts 2 and 3: the CRS and filtering parameters of items and
/// features, and the queryables path.
fn add_part2_part3_api(doc: &mut Value) {
    let param = |name: &str, schema: Value, desc: &str| json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": desc });
    let crs_schema = json!({
        "type": "string",
        "format": "uri",
        "enum": OutputCrs::ALL.iter().map(|c| c.uri()).collect::<Vec<_>>(),
        "default": CRS84,
    });
    let crs = param(
        "crs",
        crs_schema.clone(),
        "CRS of the returned coordinates (EPSG:4326 is latitude first; EPSG:27700 and EPSG:3857 are metres, precision then counts decimals of metres, default 2); EPSG:27700 and the short forms are accepted too",
    );
    let properties = param(
        "properties",
        json!({ "type": "string" }),
        "comma-separated property names to return (default all)",
    );
    let items = [
        crs.clone(),
        param(
            "bbox-crs",
            crs_schema.clone(),
            "CRS of bbox= (its axis order): CRS84 by default",
        ),
        param(
            "filter",
            json!({ "type": "string" }),
            "CQL2 text filter over the queryables: comparisons, AND/OR/NOT, LIKE, BETWEEN, IN, IS NULL, S_INTERSECTS(geometry, BBOX(...) or WKT)",
        ),
        param(
            "filter-lang",
            json!({ "type": "string", "enum": ["cql2-text"], "default": "cql2-text" }),
            "language of filter=",
        ),
        param(
            "filter-crs",
            crs_schema,
            "CRS of the geometry literals in filter= (CRS84 by default)",
        ),
        param(
            "sortby",
            json!({ "type": "string" }),
            "comma-separated queryables, - prefix for descending, e.g. -imd_score,name",
        ),
        properties.clone(),
    ];
    let path = |p: &str| format!("/collections/{{collectionId}}{p}");
    let datetime = param(
        "datetime",
        json!({ "type": "string" }),
        "RFC 3339 instant or interval (.. for an open end): each indicator's value is that of its period at that time (the latest it meets; 2020/21 is September to August) instead of its default period; 400 when no indicator has such a period. Districts have no temporal geometry, so every feature matches",
    );
    if let Some(list) = doc["paths"][path("/items")]["get"]["parameters"].as_array_mut() {
        for p in list.iter_mut().filter(|p| p["name"] == "datetime") {
            *p = datetime.clone();
        }
    }
    if let Some(list) = doc["paths"][path("/items")]["get"]["parameters"].as_array_mut() {
        list.extend(items);
    }
    if let Some(list) = doc["paths"][path("/items/{featureId}")]["get"]["parameters"].as_array_mut()
    {
        list.extend([crs, properties, datetime]);
    }
    doc["paths"][path("/queryables")] = json!({ "get": {
        "summary": "The properties filter=, property=value and sortby= may name",
        "parameters": [{ "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string" }, "description": "layer id, e.g. lad19" }],
        "responses": { "200": { "description": "JSON Schema of the queryables", "content": { SCHEMA_JSON: {} } } },
    } });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_forms() {
        for ok in [
            "2019-09-26T00:00:00Z",
            "2019-09-26",
            "2019-01-01T00:00:00Z/..",
            "../2020-01-01T00:00:00Z",
            "2018-01-01/2019-12-31",
        ] {
            assert!(check_datetime(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            "../..",
            "yesterday",
            "2019/2020/2021",
            "19-1-1",
            "2019-99-99",
            "2019-02-00",
            "2019-01-01X",
        ] {
            assert!(check_datetime(bad).is_err(), "{bad}");
        }
    }
}
