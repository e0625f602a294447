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
    /// Keep every input column in the output (`--keep-columns false`: only the coordinates,
    /// then the code and name).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub keep_columns: bool,
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
            // The points are read on a thread of their own while the layer loads; from a
            // prepared layer only the codes, names and index are read, never the geometry.
            let points = PointReader::start(path, &a)?;
            let located = match &catalog.prepared_dir {
                Some(dir) => districts::prepared::load_for_lookup(meta, &catalog.data_dir, dir)
                    .map(|(located, _)| located),
                None => districts::layer::load_districts(meta, &catalog.data_dir)
                    .map(|layer| districts::prepared::Located::of(&layer)),
            }
            .with_context(|| format!("loading layer {}", a.layer))?;
            return join_points(&meta.id, &located, points, &a);
        }
    }
    let points = match (a.lon, a.lat, &a.points) {
        (None, None, Some(path)) => Some(PointReader::start(path, &a)?),
        _ => None,
    };
    // As the server loads it: derived indicators, recombined merged districts and their reasons.
    let loaded = ctx.maps(&a.layer, None)?;
    let layer = loaded
        .atlas
        .layer(&a.layer)
        .ok_or_else(|| anyhow!("layer {} did not load", a.layer))?;
    if let Some(points) = points {
        let located = districts::prepared::Located::of(layer);
        return join_points(&layer.meta.id, &located, points, &a);
    }
    match (a.lon, a.lat) {
        (Some(lon), Some(lat)) => {
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

/// Rows read and joined at a time: large enough that a chunk's thread overhead is nothing,
/// small enough that memory stays bounded and both cores get work.
const CHUNK_ROWS: usize = 32 * 1024;
/// Chunks read ahead of the join (about 1 M rows): the reader runs while the layer loads.
const CHUNKS_AHEAD: usize = 32;

/// One chunk of input rows, with the line number of its first row.
struct Chunk {
    first_line: usize,
    rows: Rows,
}

/// Rows of a CSV held in three flat buffers (one allocation each, not three per row as in a
/// `ByteRecord`): every field's bytes, where each field ends, and where each row's fields start.
#[derive(Default)]
struct Rows {
    bytes: Vec<u8>,
    field_ends: Vec<usize>,
    row_starts: Vec<usize>,
}

impl Rows {
    fn clear(&mut self) {
        self.bytes.clear();
        self.field_ends.clear();
        self.row_starts.clear();
    }

    fn len(&self) -> usize {
        self.row_starts.len()
    }

    fn push(&mut self, rec: &csv::ByteRecord) {
        self.row_starts.push(self.field_ends.len());
        for field in rec {
            self.bytes.extend_from_slice(field);
            self.field_ends.push(self.bytes.len());
        }
    }

    /// Positions in `field_ends` of row `i`'s fields.
    fn fields_of(&self, i: usize) -> std::ops::Range<usize> {
        let first = self.row_starts[i];
        let last = self
            .row_starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.field_ends.len());
        first..last
    }

    /// The bytes of field `f` (a position in `field_ends`).
    fn bytes_of(&self, f: usize) -> &[u8] {
        let start = if f == 0 { 0 } else { self.field_ends[f - 1] };
        &self.bytes[start..self.field_ends[f]]
    }

    /// The fields of row `i`.
    fn row(&self, i: usize) -> impl Iterator<Item = &[u8]> {
        self.fields_of(i).map(|f| self.bytes_of(f))
    }

    /// Field `k` of row `i` (empty when the row is shorter), without walking the fields before it.
    fn field(&self, i: usize, k: usize) -> &[u8] {
        let fields = self.fields_of(i);
        if k < fields.len() {
            self.bytes_of(fields.start + k)
        } else {
            &[]
        }
    }
}

/// A CSV of points being read on its own thread, in chunks, while the layer loads. The header
/// and the coordinate columns are checked before it starts, so a wrong column is an error at
/// once, not after the layer has loaded.
struct PointReader {
    path: PathBuf,
    headers: csv::ByteRecord,
    xi: usize,
    yi: usize,
    chunks: std::sync::mpsc::Receiver<Result<Chunk>>,
    /// Rows already written go back to the reader, which reads the next rows into the same
    /// records: no fresh memory per chunk (page faults were a quarter of the time).
    recycle: std::sync::mpsc::Sender<Rows>,
    thread: std::thread::JoinHandle<()>,
}

impl PointReader {
    fn start(path: &std::path::Path, a: &LookupArgs) -> Result<PointReader> {
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
        let headers = headers.into_byte_record();
        let (tx, chunks) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
        let (recycle, recycled) = std::sync::mpsc::channel::<Rows>();
        let shown = path.display().to_string();
        let thread = std::thread::spawn(move || {
            let mut line = 2;
            let mut rec = csv::ByteRecord::new();
            loop {
                let mut rows = recycled.try_recv().unwrap_or_default();
                rows.clear();
                let first_line = line;
                while rows.len() < CHUNK_ROWS {
                    match rdr.read_byte_record(&mut rec) {
                        Ok(true) => {
                            rows.push(&rec);
                            line += 1;
                        }
                        Ok(false) => break,
                        Err(e) => {
                            let _ = tx.send(Err(anyhow!("{shown}: line {line}: {e}")));
                            return;
                        }
                    }
                }
                let last = rows.len() < CHUNK_ROWS;
                if rows.len() > 0 && tx.send(Ok(Chunk { first_line, rows })).is_err() {
                    return;
                }
                if last {
                    return;
                }
            }
        });
        Ok(PointReader {
            path: path.to_path_buf(),
            headers,
            xi,
            yi,
            chunks,
            recycle,
            thread,
        })
    }
}

/// What joining one chunk gave: its CSV bytes, its warnings and its counts.
#[derive(Default)]
struct Joined {
    csv: Vec<u8>,
    warnings: String,
    rows: usize,
    matched: usize,
    skipped: usize,
}

/// Writes every row of the points file with its district's code and name, in input order.
/// Chunks are joined and formatted in parallel (rayon), then written in order: on two cores
/// the CSV formatting costs as much as the lookups.
fn join_points(
    layer_id: &str,
    layer: &districts::prepared::Located,
    points: PointReader,
    a: &LookupArgs,
) -> Result<ExitCode> {
    use rayon::prelude::*;
    let crs = Crs::from_name(&a.crs).map_err(|e| anyhow!("--crs {}: {e}", a.crs))?;
    let to_wgs84 = ToWgs84::new(crs).map_err(|e| anyhow!("--crs {}: {e}", a.crs))?;
    let (xi, yi) = (points.xi, points.yi);
    let keep = |rec: &csv::ByteRecord| -> Vec<Vec<u8>> {
        if a.keep_columns {
            rec.iter().map(<[u8]>::to_vec).collect()
        } else {
            [xi, yi]
                .iter()
                .map(|&i| rec.get(i).unwrap_or_default().to_vec())
                .collect()
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header = keep(&points.headers);
        if let Some(first) = header.first_mut() {
            // A UTF-8 byte-order mark belongs to the file, not to the first column's name.
            if first.starts_with("\u{feff}".as_bytes()) {
                first.drain(..3);
            }
        }
        header.push(format!("{layer_id}_code").into_bytes());
        header.push(format!("{layer_id}_name").into_bytes());
        w.write_record(&header)?;
        w.flush()?;
    }
    let shown = points.path.display().to_string();
    let join_chunk = |chunk: &Chunk, mut buf: Vec<u8>| -> Result<Joined> {
        let mut j = Joined::default();
        buf.clear();
        let mut w = csv::Writer::from_writer(buf);
        let mut row: Vec<&[u8]> = Vec::new();
        for n in 0..chunk.rows.len() {
            let field_of = |i: usize| chunk.rows.field(n, i);
            let line = chunk.first_line + n;
            j.rows += 1;
            let field = |i: usize| std::str::from_utf8(field_of(i)).unwrap_or("").trim();
            let (x, y) = (field(xi), field(yi));
            let found = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => match to_wgs84.point(x, y) {
                    Ok((lon, lat)) => layer.index.lookup(lon, lat),
                    Err(e) => {
                        j.warnings
                            .push_str(&format!("{shown}: line {line}: {e}; left unmatched\n"));
                        j.skipped += 1;
                        None
                    }
                },
                _ => {
                    if !(x.is_empty() && y.is_empty()) {
                        j.warnings.push_str(&format!(
                            "{shown}: line {line}: x {x:?}, y {y:?} are not numbers; left unmatched\n"
                        ));
                    }
                    j.skipped += 1;
                    None
                }
            };
            row.clear();
            if a.keep_columns {
                row.extend(chunk.rows.row(n));
            } else {
                row.push(field_of(xi));
                row.push(field_of(yi));
            }
            match found {
                Some(i) => {
                    j.matched += 1;
                    let (code, name) = &layer.districts[i];
                    row.push(code.as_bytes());
                    row.push(name.as_bytes());
                }
                None => row.extend([&b""[..], &b""[..]]),
            }
            w.write_record(&row)?;
        }
        j.csv = w
            .into_inner()
            .map_err(|e| anyhow!("formatting the output: {e}"))?;
        Ok(j)
    };
    let (mut rows, mut matched, mut skipped) = (0usize, 0usize, 0usize);
    // Output buffers, reused from batch to batch for the same reason as the rows.
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    let mut done = false;
    while !done {
        // Every chunk read so far (at least one): joined in parallel, written in order.
        let mut batch = Vec::new();
        match points.chunks.recv() {
            Ok(c) => batch.push(c?),
            Err(_) => break,
        }
        while batch.len() < 2 * rayon::current_num_threads().max(1) {
            match points.chunks.try_recv() {
                Ok(c) => batch.push(c?),
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    done = true;
                    break;
                }
            }
        }
        let bufs: Vec<Vec<u8>> = (0..batch.len())
            .map(|_| buffers.pop().unwrap_or_default())
            .collect();
        let joined: Vec<Joined> = batch
            .par_iter()
            .zip(bufs)
            .map(|(chunk, buf)| join_chunk(chunk, buf))
            .collect::<Result<_>>()?;
        for chunk in batch {
            // The reader may have finished: then the rows are simply dropped.
            let _ = points.recycle.send(chunk.rows);
        }
        for j in joined {
            out.write_all(&j.csv)?;
            buffers.push(j.csv);
            if !j.warnings.is_empty() {
                eprint!("{}", j.warnings);
            }
            rows += j.rows;
            matched += j.matched;
            skipped += j.skipped;
        }
    }
    out.flush()?;
    drop(out);
    if points.thread.join().is_err() {
        bail!("{shown}: the thread reading the points stopped unexpectedly");
    }
    std::io::stderr().flush().ok();
    eprintln!(
        "placemap: {rows} rows, {matched} in a {} district, {} outside every district, {skipped} without usable coordinates",
        layer_id,
        rows - matched - skipped
    );
    Ok(ExitCode::SUCCESS)
}
