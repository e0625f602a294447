//! `placemap lookup`: one point to its district (JSON), or a streaming spatial join of a CSV of
//! points (each row gets the code and name of its district).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use districts::Layer;
use districts::crs::{Crs, ToWgs84};
use districts::layer::PeriodValues;
use serde_json::{Map, Value, json};

use super::Context_;

#[derive(Args, Debug)]
pub struct LookupArgs {
    /// Layer to look up in (e.g. lad19, lsoa11).
    #[arg(long)]
    pub layer: String,
    /// Longitude (WGS84 degrees) of one point.
    #[arg(
        long,
        allow_hyphen_values = true,
        requires = "lat",
        conflicts_with = "points"
    )]
    pub lon: Option<f64>,
    /// Latitude (WGS84 degrees) of one point.
    #[arg(long, allow_hyphen_values = true, requires = "lon")]
    pub lat: Option<f64>,
    /// CSV of points: every row is written to stdout with `<layer>_code` and `<layer>_name` appended.
    #[arg(long, value_name = "FILE.csv")]
    pub points: Option<PathBuf>,
    /// Column of x / longitude / easting (default: lon, longitude, x or Easting).
    #[arg(long)]
    pub x_col: Option<String>,
    /// Column of y / latitude / northing (default: lat, latitude, y or Northing).
    #[arg(long)]
    pub y_col: Option<String>,
    /// CRS of the points, e.g. EPSG:27700 for easting/northing (default EPSG:4326).
    #[arg(long, default_value = "EPSG:4326")]
    pub crs: String,
}

/// Every indicator value of district `i` for its default period.
pub fn values_of(layer: &Layer, i: usize) -> Map<String, Value> {
    let mut m = Map::new();
    for ind in &layer.indicators {
        let v = match ind.period(&ind.default_period).map(|p| &p.values) {
            Some(PeriodValues::Numeric(v)) => v[i].map(Value::from).unwrap_or(Value::Null),
            Some(PeriodValues::Categorical(v)) => {
                v[i].clone().map(Value::from).unwrap_or(Value::Null)
            }
            None => Value::Null,
        };
        let mut entry = json!({ "value": v, "period": ind.default_period, "unit": ind.meta.unit });
        // Why there is no value, where a boundary change explains it.
        if let Some(r) = maps::export::no_data_reason(layer, ind, &ind.default_period, i) {
            entry["no_data_reason"] = Value::from(r);
        }
        m.insert(ind.meta.id.clone(), entry);
    }
    m
}

pub fn run(ctx: &Context_, a: LookupArgs) -> Result<ExitCode> {
    // A file of points gets codes and names only: the boundary layer alone is read (its
    // indicator tables and derived indicators would be a third of the time of a million points).
    // Layers built by merging another are loaded in full.
    if let (None, None, Some(path)) = (a.lon, a.lat, &a.points) {
        let catalog = ctx.catalog()?;
        if let Some(meta) = catalog
            .layers
            .iter()
            .find(|m| m.id == a.layer && m.merge.is_none())
        {
            let layer = districts::layer::load_districts(meta, &catalog.data_dir)
                .with_context(|| format!("loading layer {}", a.layer))?;
            return join_points(&layer, path, &a);
        }
    }
    // As the server loads it: derived indicators, recombined merged districts and their reasons.
    let loaded = ctx.maps(&a.layer, None)?;
    let layer = loaded
        .atlas
        .layer(&a.layer)
        .ok_or_else(|| anyhow!("layer {} did not load", a.layer))?;
    match (a.lon, a.lat, &a.points) {
        (Some(lon), Some(lat), None) => {
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                bail!("--lon {lon} --lat {lat} is not a WGS84 point (lon -180..180, lat -90..90)");
            }
            let out = match layer.index.lookup(lon, lat) {
                Some(i) => {
                    let d = &layer.districts[i];
                    json!({ "layer": layer.meta.id, "lon": lon, "lat": lat, "code": d.code, "name": d.name, "indicators": values_of(layer, i) })
                }
                None => {
                    json!({ "layer": layer.meta.id, "lon": lon, "lat": lat, "code": null, "name": null, "indicators": {} })
                }
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        (None, None, Some(path)) => join_points(layer, path, &a),
        _ => bail!("give --lon and --lat for one point, or --points FILE.csv"),
    }
}

fn find_col(
    headers: &csv::StringRecord,
    given: &Option<String>,
    defaults: &[&str],
    what: &str,
    path: &std::path::Path,
) -> Result<usize> {
    let clean = |h: &str| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    if let Some(name) = given {
        return headers
            .iter()
            .position(|h| clean(h) == name.to_ascii_lowercase())
            .ok_or_else(|| {
                anyhow!(
                    "{}: no column {name:?} for {what}; header: {:?}",
                    path.display(),
                    headers.iter().collect::<Vec<_>>()
                )
            });
    }
    headers
        .iter()
        .position(|h| defaults.contains(&clean(h).as_str()))
        .ok_or_else(|| {
            anyhow!(
                "{}: no {what} column (tried {}); name it with --{}-col",
                path.display(),
                defaults.join(", "),
                if what.starts_with('x') { "x" } else { "y" }
            )
        })
}

fn join_points(layer: &Layer, path: &std::path::Path, a: &LookupArgs) -> Result<ExitCode> {
    let crs = Crs::from_name(&a.crs).map_err(|e| anyhow!("--crs {}: {e}", a.crs))?;
    let to_wgs84 = ToWgs84::new(crs).map_err(|e| anyhow!("--crs {}: {e}", a.crs))?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("{}: reading the header", path.display()))?
        .clone();
    let xi = find_col(
        &headers,
        &a.x_col,
        &["lon", "longitude", "lng", "x", "easting"],
        "x (longitude/easting)",
        path,
    )?;
    let yi = find_col(
        &headers,
        &a.y_col,
        &["lat", "latitude", "y", "northing"],
        "y (latitude/northing)",
        path,
    )?;
    let stdout = std::io::stdout();
    let mut w = csv::Writer::from_writer(stdout.lock());
    let mut out_header: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    out_header.push(format!("{}_code", layer.meta.id));
    out_header.push(format!("{}_name", layer.meta.id));
    w.write_record(&out_header)?;
    let (mut rows, mut matched, mut skipped) = (0usize, 0usize, 0usize);
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.with_context(|| format!("{}: line {line}", path.display()))?;
        rows += 1;
        let x = rec.get(xi).unwrap_or("").trim();
        let y = rec.get(yi).unwrap_or("").trim();
        let found = match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => match to_wgs84.point(x, y) {
                Ok((lon, lat)) => layer.index.lookup(lon, lat),
                Err(e) => {
                    eprintln!("{}: line {line}: {e}; left unmatched", path.display());
                    skipped += 1;
                    None
                }
            },
            _ => {
                if !(x.is_empty() && y.is_empty()) {
                    eprintln!(
                        "{}: line {line}: x {x:?}, y {y:?} are not numbers; left unmatched",
                        path.display()
                    );
                }
                skipped += 1;
                None
            }
        };
        let mut row: Vec<&str> = rec.iter().collect();
        let (code, name) = match found {
            Some(i) => {
                matched += 1;
                (
                    layer.districts[i].code.as_str(),
                    layer.districts[i].name.as_str(),
                )
            }
            None => ("", ""),
        };
        row.push(code);
        row.push(name);
        w.write_record(&row)?;
    }
    w.flush()?;
    drop(w);
    std::io::stderr().flush().ok();
    eprintln!(
        "placemap: {rows} rows, {matched} in a {} district, {} outside every district, {skipped} without usable coordinates",
        layer.meta.id,
        rows - matched - skipped
    );
    Ok(ExitCode::SUCCESS)
}
