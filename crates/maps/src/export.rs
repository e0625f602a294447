//! Exports for GIS users and spreadsheets: a layer's districts as RFC 7946 GeoJSON (full or
//! simplified for a zoom) and as CSV, the JSON descriptions of layers and indicators, and one
//! district's values with ranks. The same output for `GET /layers/...` and `placemap export`.

use districts::layer::PeriodValues;
use districts::{Indicator, Layer};
use geo::MapCoords;
use serde_json::{Map, Value, json};

use crate::error::{MapError, valid_ids};
use crate::geojson_text;
use crate::loaded::Loaded;
use crate::options::{ExportOptions, Periods, parse_list};
use crate::output_crs::OutputCrs;

/// `[minLon, minLat, maxLon, maxLat]` of a layer.
pub fn layer_bounds(layer: &Layer) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for d in layer.districts.iter() {
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
        // Uploaded datasets: the version shown and the id that keeps showing it.
        "version": crate::loaded::dataset_version(ind).map(|(_, v)| v),
        "pinned_id": crate::loaded::pinned_id(ind),
        "join": {
            "matched": r.matched,
            "districts": r.boundary_count,
            "districts_without_data": r.boundaries_without_data.len(),
            "data_codes_without_district": r.data_without_boundary.len(),
            "complete": r.is_complete(),
            "recombined": r.recombined,
            "no_data_reasons": r.no_data_reasons.len(),
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
        "indicators": layer.indicators.iter().map(|i| indicator_json(i)).collect::<Vec<_>>(),
    })
}

fn period_value(values: &PeriodValues, i: usize) -> Value {
    match values {
        PeriodValues::Numeric(v) => v[i].map(Value::from).unwrap_or(Value::Null),
        PeriodValues::Categorical(v) => v[i].clone().map(Value::from).unwrap_or(Value::Null),
    }
}

/// Why district `i` of `layer` has no value of `ind` in `period`, where a boundary change
/// explains it ("merged in 2023 from ...; the source publishes the former districts only").
pub fn no_data_reason<'a>(
    layer: &Layer,
    ind: &'a Indicator,
    period: &str,
    i: usize,
) -> Option<&'a str> {
    let has_value = match ind.period(period).map(|p| &p.values) {
        Some(PeriodValues::Numeric(v)) => v[i].is_some(),
        Some(PeriodValues::Categorical(v)) => v[i].is_some(),
        None => false,
    };
    if has_value {
        return None;
    }
    let code = &layer.districts.get(i)?.code;
    ind.no_data_reason(code, period).map(|r| r.reason.as_str())
}

/// The periods of `ind` an export carries, each with its key: the default period as
/// `{id}_{label}` when the indicator has several periods (a column says which year it holds),
/// as `{id}` when it has one or with `columns=plain`; with `periods=all` or a list, each as
/// `{id}_{label}` (`/` and `-` as `_`). A listed period the indicator lacks is left out
/// (another indicator may have it).
pub fn chosen_periods(ind: &Indicator, periods: &Periods) -> Vec<(usize, String)> {
    let key = |label: &str| {
        if label.is_empty() {
            ind.meta.id.clone()
        } else {
            format!("{}_{}", ind.meta.id, label.replace(['/', '-'], "_"))
        }
    };
    let default = ind
        .periods
        .iter()
        .position(|p| p.label == ind.default_period);
    match periods {
        Periods::Default if ind.periods.len() > 1 => default
            .map(|p| (p, key(&ind.periods[p].label)))
            .into_iter()
            .collect(),
        Periods::Default | Periods::DefaultPlain => default
            .map(|p| (p, ind.meta.id.clone()))
            .into_iter()
            .collect(),
        Periods::All => ind
            .periods
            .iter()
            .enumerate()
            .map(|(p, period)| (p, key(&period.label)))
            .collect(),
        Periods::Listed(wanted) => {
            let mut out: Vec<(usize, String)> = Vec::new();
            for w in wanted {
                let exact = ind.periods.iter().position(|p| p.label == *w);
                let prefixed: Vec<usize> = (0..ind.periods.len())
                    .filter(|&p| ind.periods[p].label.starts_with(w.as_str()))
                    .collect();
                let found = exact.or(match prefixed.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                });
                if let Some(p) = found
                    && !out.iter().any(|(q, _)| *q == p)
                {
                    out.push((p, key(&ind.periods[p].label)));
                }
            }
            out
        }
    }
}

/// A list of periods none of the chosen indicators has is a 400 naming the periods they do
/// have (`periods=default` and `all` always have some).
pub fn check_periods(inds: &[&Indicator], periods: &Periods) -> Result<(), MapError> {
    if let Periods::Listed(list) = periods
        && !inds.is_empty()
        && inds.iter().all(|i| chosen_periods(i, periods).is_empty())
    {
        let mut valid: Vec<&str> = inds
            .iter()
            .flat_map(|i| i.periods.iter().map(|p| p.label.as_str()))
            .collect();
        valid.sort_unstable();
        valid.dedup();
        return Err(MapError::not_found(
            format!(
                "no indicator asked for has the period(s) {}",
                list.join(", ")
            ),
            valid_ids("periods", valid),
        ));
    }
    Ok(())
}

/// The chosen periods' values of district `i` as properties ([`chosen_periods`] names them); a
/// missing value explained by a boundary change adds `{key}_no_data_reason`.
fn indicator_properties(
    props: &mut Map<String, Value>,
    layer: &Layer,
    inds: &[&Indicator],
    i: usize,
    periods: &Periods,
) {
    for ind in inds {
        for (p, key) in chosen_periods(ind, periods) {
            let period = &ind.periods[p];
            if let Some(r) = no_data_reason(layer, ind, &period.label, i) {
                props.insert(format!("{key}_no_data_reason"), Value::from(r));
            }
            props.insert(key, period_value(&period.values, i));
        }
    }
}

/// The properties of district `i` in GeoJSON: code, name, kept attributes and the chosen
/// indicators' values (see [`Periods`]).
pub fn feature_properties(
    layer: &Layer,
    inds: &[&Indicator],
    i: usize,
    periods: &Periods,
) -> Map<String, Value> {
    let mut props = district_properties(layer, i);
    indicator_properties(&mut props, layer, inds, i, periods);
    props
}

/// Code, name and kept attributes of district `i`: the properties every feature starts with.
fn district_properties(layer: &Layer, i: usize) -> Map<String, Value> {
    let d = &layer.districts[i];
    let mut props = Map::new();
    props.insert("code".into(), Value::from(d.code.clone()));
    props.insert("name".into(), Value::from(d.name.clone()));
    for (k, v) in &d.attributes {
        props.insert(k.clone(), Value::from(v.clone()));
    }
    props
}

/// [`feature_properties`] with one chosen period per indicator (`datetime=`): `{id}: value`
/// of that period, and `{id}_no_data_reason` where a boundary change explains a missing value.
pub fn feature_properties_at(
    layer: &Layer,
    chosen: &[(&Indicator, usize)],
    i: usize,
) -> Map<String, Value> {
    let mut props = district_properties(layer, i);
    for (ind, p) in chosen {
        let period = &ind.periods[*p];
        props.insert(ind.meta.id.clone(), period_value(&period.values, i));
        if let Some(r) = no_data_reason(layer, ind, &period.label, i) {
            props.insert(format!("{}_no_data_reason", ind.meta.id), Value::from(r));
        }
    }
    props
}

/// Picks the indicators named in `indicators=` (all by default; `indicators=` empty for none).
pub fn chosen_indicators<'a>(
    layer: &'a Layer,
    indicators: Option<&str>,
) -> Result<Vec<&'a Indicator>, MapError> {
    match indicators {
        None => Ok(layer.indicators.iter().map(|i| &**i).collect()),
        Some(list) => parse_list(list)
            .into_iter()
            .map(|id| {
                layer.indicator(&id).ok_or_else(|| {
                    MapError::not_found(
                        format!("unknown indicator {id:?} on layer {}", layer.meta.id),
                        valid_ids(
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
pub fn check_precision(precision: Option<usize>) -> Result<usize, MapError> {
    let precision = precision.unwrap_or(6);
    if precision > 10 {
        return Err(MapError::bad_request(
            format!("precision {precision} is too large"),
            "use 0 to 10 decimals (6 is about 10 cm)",
        ));
    }
    Ok(precision)
}

/// Districts whose bounding box meets `bbox=` (all without one), in layer order.
pub fn districts_in_bbox(
    layer: &Layer,
    bbox: Option<crate::options::Bbox>,
) -> Result<Vec<usize>, MapError> {
    Ok(match bbox {
        Some(b) => {
            let [w, s, e, n] = b.0;
            let mut c = layer.index.candidates_in_bbox(w, s, e, n);
            c.sort_unstable();
            c
        }
        None => (0..layer.districts.len()).collect(),
    })
}

/// One value column of a wide export (CSV, GeoPackage, FlatGeobuf, Shapefile): an indicator
/// in one period.
#[derive(Clone, Debug)]
pub struct ValueColumn<'a> {
    /// `{id}` for the default period, `{id}_{period}` with `periods=all` (see [`Periods`]).
    pub name: String,
    /// The indicator.
    pub indicator: &'a Indicator,
    /// Index of the period in `indicator.periods`.
    pub period: usize,
    /// Some exported district's missing value has a reason (a boundary change), so a
    /// `{name}_no_data_reason` column follows this one.
    pub explained: bool,
}

impl ValueColumn<'_> {
    /// Why district `i` has no value in this column, when a boundary change explains it.
    pub fn reason<'b>(&'b self, layer: &Layer, i: usize) -> Option<&'b str> {
        no_data_reason(
            layer,
            self.indicator,
            &self.indicator.periods[self.period].label,
            i,
        )
    }
}

/// The value columns of an export of districts `rows`: one per indicator (its default period)
/// or one per indicator and period (`periods=all`), in the order of `inds`.
pub fn value_columns<'a>(
    layer: &Layer,
    inds: &[&'a Indicator],
    periods: &Periods,
    rows: &[usize],
) -> Vec<ValueColumn<'a>> {
    let mut columns = Vec::new();
    for ind in inds {
        for (period, name) in chosen_periods(ind, periods) {
            let label = &ind.periods[period].label;
            let explained = rows
                .iter()
                .any(|&i| no_data_reason(layer, ind, label, i).is_some());
            columns.push(ValueColumn {
                name,
                indicator: ind,
                period,
                explained,
            });
        }
    }
    columns
}

/// The districts' attributes and indicator values as CSV, one row per district (no geometry):
/// `code`, `name`, the layer's kept attributes, then one column per indicator (or per
/// indicator and period with `periods=all`). Missing values are empty cells.
pub fn layer_csv(layer: &Layer, q: &ExportOptions) -> Result<String, MapError> {
    layer_csv_cancellable(layer, q, &|| false)
}

/// How many rows or features an export writes between two looks at the cancel flag.
const CHECK_EVERY: usize = 64;

/// [`layer_csv`] that stops with a [`crate::ErrorKind::Cancelled`] error soon after
/// `cancelled()` turns true (checked every few rows).
pub fn layer_csv_cancellable(
    layer: &Layer,
    q: &ExportOptions,
    cancelled: &dyn Fn() -> bool,
) -> Result<String, MapError> {
    for (opt, given) in [
        ("zoom", q.zoom.is_some()),
        ("simplify", q.simplify.is_some()),
        ("precision", q.precision.is_some()),
        ("crs", q.crs.is_some()),
    ] {
        if given {
            return Err(MapError::bad_request(
                format!("{opt} applies to GeoJSON only"),
                "CSV takes bbox, indicators and periods",
            ));
        }
    }
    let periods = q.periods_named()?;
    let inds = chosen_indicators(layer, q.indicators.as_deref())?;
    check_periods(&inds, &periods)?;
    let rows = districts_in_bbox(layer, q.bbox)?;
    let columns = value_columns(layer, &inds, &periods, &rows);
    let mut header: Vec<String> = vec!["code".into(), "name".into()];
    header.extend(layer.meta.attributes.iter().cloned());
    for c in &columns {
        header.push(c.name.clone());
        if c.explained {
            header.push(format!("{}_no_data_reason", c.name));
        }
    }
    let internal = |e: csv::Error| MapError::internal("writing CSV", e);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).map_err(internal)?;
    for (n, i) in rows.into_iter().enumerate() {
        if n % CHECK_EVERY == 0 && cancelled() {
            return Err(MapError::cancelled("the CSV export"));
        }
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
        for c in &columns {
            record.push(match &c.indicator.periods[c.period].values {
                PeriodValues::Numeric(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
                PeriodValues::Categorical(v) => v[i].clone().unwrap_or_default(),
            });
            if c.explained {
                record.push(c.reason(layer, i).unwrap_or_default().to_string());
            }
        }
        w.write_record(&record).map_err(internal)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| MapError::internal("writing CSV", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| MapError::internal("CSV is not UTF-8", e))
}

/// The districts as an RFC 7946 FeatureCollection with the chosen indicators as properties
/// (`bbox`, `indicators`, `periods`, `zoom` or `simplify`, `precision`, `crs`). In a CRS other
/// than CRS84 the collection names it in a `crs` member (the GeoJSON 2008 form GDAL and QGIS
/// read), and `precision` counts decimals of metres for the projected ones.
pub fn layer_geojson(
    loaded: &Loaded,
    layer: &Layer,
    q: &ExportOptions,
) -> Result<String, MapError> {
    layer_geojson_cancellable(loaded, layer, q, &|| false)
}

/// [`layer_geojson`] that stops with a [`crate::ErrorKind::Cancelled`] error soon after
/// `cancelled()` turns true (checked every few features).
pub fn layer_geojson_cancellable(
    loaded: &Loaded,
    layer: &Layer,
    q: &ExportOptions,
    cancelled: &dyn Fn() -> bool,
) -> Result<String, MapError> {
    let periods = q.periods_named()?;
    let crs = q.crs.unwrap_or_default();
    let precision = crs.precision(q.precision)?;
    let projector = crs.projector()?;
    let max_zoom = loaded.max_zoom;
    let zoom = match (q.zoom, q.simplify) {
        (Some(_), Some(_)) => {
            return Err(MapError::bad_request(
                "give zoom= or simplify=, not both",
                "zoom=8 picks the simplification for that zoom",
            ));
        }
        (Some(z), None) => {
            if z > max_zoom {
                return Err(MapError::bad_request(
                    format!("zoom {z} is beyond {max_zoom}"),
                    "use 0 to the maximum zoom",
                ));
            }
            Some(z)
        }
        (None, Some(metres)) => {
            if !(metres.is_finite() && metres >= 0.0) {
                return Err(MapError::bad_request(
                    "simplify must be a non-negative tolerance in metres",
                    "e.g. simplify=500",
                ));
            }
            // The zoom whose half-pixel tolerance is at most the requested one.
            Some(
                (0..=max_zoom)
                    .find(|z| tile_math::metres_per_pixel(*z) * 0.5 <= metres)
                    .unwrap_or(max_zoom),
            )
        }
        (None, None) => None,
    };
    let inds = chosen_indicators(layer, q.indicators.as_deref())?;
    check_periods(&inds, &periods)?;
    let candidates = districts_in_bbox(layer, q.bbox)?;
    let bands = match zoom {
        Some(_) => Some(loaded.bands(&layer.meta.id)?),
        None => None,
    };
    let mut out = String::with_capacity(candidates.len() * 512);
    out.push_str(r#"{"type":"FeatureCollection","#);
    if crs != OutputCrs::Crs84 {
        out.push_str(r#""crs":{"type":"name","properties":{"name":"#);
        out.push_str(&Value::from(crs.urn()).to_string());
        out.push_str("}},");
    }
    out.push_str(r#""features":["#);
    for (n, &i) in candidates.iter().enumerate() {
        if n % CHECK_EVERY == 0 && cancelled() {
            return Err(MapError::cancelled("the GeoJSON export"));
        }
        let d = &layer.districts[i];
        if n > 0 {
            out.push(',');
        }
        let props = feature_properties(layer, &inds, i, &periods);
        match (bands, zoom) {
            (Some(b), Some(z)) => {
                let merc = &b.geometry(z)[i].0;
                let ll = merc.map_coords(|c| {
                    let (x, y) = tile_math::mercator_to_lonlat(c.x, c.y);
                    geo_types::coord! { x: x, y: y }
                });
                let g = projector.multipolygon(&ll)?;
                geojson_text::push_feature(&mut out, &d.code, &g, &props, precision);
            }
            _ if crs == OutputCrs::Crs84 => {
                geojson_text::push_feature(&mut out, &d.code, &d.wgs84.0, &props, precision);
            }
            _ => {
                let g = projector.multipolygon(&d.wgs84.0)?;
                geojson_text::push_feature(&mut out, &d.code, &g, &props, precision);
            }
        }
    }
    out.push_str("]}");
    Ok(out)
}

/// Every indicator value of one district, every period, with rank.
pub fn district_values(loaded: &Loaded, layer: &Layer, i: usize) -> Map<String, Value> {
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
        let mut entry = indicator_value(loaded, layer, ind, &ind.default_period, i);
        entry.insert("periods".into(), Value::Object(periods));
        values.insert(ind.meta.id.clone(), Value::Object(entry));
    }
    values
}

/// The value of one district for one period, with unit and rank (`rank` 1 = highest; `of` =
/// districts with a value).
pub fn indicator_value(
    loaded: &Loaded,
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
    if let Some(r) = no_data_reason(layer, ind, period, i) {
        m.insert("no_data_reason".into(), Value::from(r));
    }
    m.insert("period".into(), Value::from(period.to_string()));
    m.insert("unit".into(), Value::from(ind.meta.unit.clone()));
    if !ind.meta.categorical {
        let ranks = loaded.ranks(layer, ind, period);
        let of = ranks.iter().filter(|r| r.is_some()).count();
        m.insert(
            "rank".into(),
            ranks[i].map(Value::from).unwrap_or(Value::Null),
        );
        m.insert("of".into(), Value::from(of));
    }
    m
}
