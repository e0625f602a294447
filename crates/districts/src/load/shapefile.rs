//! ESRI shapefiles: `.shp` (+ `.shx` if present) with the `shapefile` crate, attributes from the
//! `.dbf`, CRS from the `.prj`.
//!
//! DBF text: a `.cpg` file naming the code page is honoured; without one the table is read as
//! strict UTF-8 and, if any text is not UTF-8, read again as Windows-1252 (what ONS/OS exports
//! without a `.cpg` use, and what Welsh names such as `Ynys Môn` come in). The dbase crate's
//! default (lossy UTF-8) would silently turn such names into replacement characters.
//!
//! Rings: the shapefile crate tells shells from holes by orientation (shells clockwise); we then
//! give each hole to the shell that contains it (its `TryFrom` conversion to geo types gives a
//! hole to the shell just before it, which the format does not guarantee).

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use geo::CoordinatePosition;
use geo_types::{Coord, LineString, Polygon};
use shapefile::dbase::{self, FieldValue, Record};
use shapefile::{PolygonRing, Shape, ShapeReader};

use super::{
    BoundarySpec, LoadError, LoadedBoundaries, SourceFeature, SourceGeometry, finish, read_file,
};
use crate::crs::Crs;

/// Loads a shapefile (see the module docs).
///
/// ```no_run
/// use districts::load::{shapefile, BoundarySpec};
/// let msoa = shapefile::load(
///     "../shared/data/england_msoa_2011_sgen_clipped.shp".as_ref(),
///     &BoundarySpec::new("code", "name"),
/// )?;
/// assert_eq!(msoa.features.len(), 6791);
/// # Ok::<(), districts::load::LoadError>(())
/// ```
pub fn load(path: &Path, spec: &BoundarySpec) -> Result<LoadedBoundaries, LoadError> {
    let dbf_path = path.with_extension("dbf");
    if !dbf_path.is_file() {
        return Err(LoadError::MissingSidecar {
            path: dbf_path,
            what: "attribute table (.dbf)",
            why: "the district codes and names are in it",
        });
    }
    check_shape_file_length(path)?;
    let shx_path = path.with_extension("shx");
    if shx_path.is_file() {
        check_shape_file_length(&shx_path)?;
    }
    check_dbf_length(&dbf_path)?;
    let crs = shapefile_crs(path, spec)?;
    let mut notes = Vec::new();
    let records = match read_cpg(path)? {
        Some(enc) => read_records(path, &dbf_path, spec, Some(enc)),
        None => match read_records(path, &dbf_path, spec, None) {
            Err(ReadFailure::NotUtf8) => {
                notes.push(format!(
                    "{}: text is not UTF-8 and there is no .cpg; read as Windows-1252",
                    dbf_path.display()
                ));
                read_records(path, &dbf_path, spec, Some(encoding_rs::WINDOWS_1252))
            }
            other => other,
        },
    }
    .map_err(|e| match e {
        ReadFailure::Other(e) => e,
        // encoding_rs decoders never fail, so only the strict UTF-8 pass can end here.
        ReadFailure::NotUtf8 => LoadError::Format {
            path: dbf_path.clone(),
            msg: "DBF text is not valid UTF-8".to_string(),
        },
    })?;
    finish(path, crs, records, notes)
}

/// The first `n` bytes of a file (fewer if it is shorter) and its length.
fn head(path: &Path, n: u64) -> Result<(Vec<u8>, u64), LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::new();
    file.take(n).read_to_end(&mut bytes).map_err(io)?;
    Ok((bytes, len))
}

fn truncated(path: &Path, msg: String) -> LoadError {
    LoadError::Format {
        path: path.to_path_buf(),
        msg: format!("the file is truncated: {msg}; copy or download it again"),
    }
}

/// A `.shp` or `.shx` is at least its 100-byte header and as long as the header says (in
/// 16-bit words, big-endian, at byte 24). Checked before reading so a cut file is reported by
/// name and cause rather than as the shapefile crate's "failed to fill whole buffer".
fn check_shape_file_length(path: &Path) -> Result<(), LoadError> {
    let (h, len) = head(path, 100)?;
    if h.len() < 100 {
        return Err(truncated(
            path,
            format!(
                "{len} bytes, shorter than the 100-byte header every .shp and .shx starts with"
            ),
        ));
    }
    let code = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    if code != 9994 {
        return Err(LoadError::Format {
            path: path.to_path_buf(),
            msg: format!("not a shapefile: file code {code}, where a .shp or .shx has 9994"),
        });
    }
    let declared = u64::from(u32::from_be_bytes([h[24], h[25], h[26], h[27]])) * 2;
    if len < declared {
        return Err(truncated(
            path,
            format!("its header declares {declared} bytes, the file has {len}"),
        ));
    }
    Ok(())
}

/// A `.dbf` holds its header and as many records as the header declares (count at byte 4,
/// header and record sizes at bytes 8 and 10, little-endian).
fn check_dbf_length(path: &Path) -> Result<(), LoadError> {
    let (h, len) = head(path, 32)?;
    if h.len() < 32 {
        return Err(truncated(
            path,
            format!("{len} bytes, shorter than the 32-byte header every .dbf starts with"),
        ));
    }
    let records = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
    let header = u64::from(u16::from_le_bytes([h[8], h[9]]));
    let record = u64::from(u16::from_le_bytes([h[10], h[11]]));
    let declared = header + records * record;
    if len < declared {
        return Err(truncated(
            path,
            format!(
                "its header declares {records} records of {record} bytes after a {header}-byte header ({declared} bytes), the file has {len}"
            ),
        ));
    }
    Ok(())
}

/// The CRS from the `.prj`, or the catalogue's when there is no `.prj`.
fn shapefile_crs(path: &Path, spec: &BoundarySpec) -> Result<Crs, LoadError> {
    let prj_path = path.with_extension("prj");
    if !prj_path.is_file() {
        return spec.crs.ok_or(LoadError::MissingSidecar {
            path: prj_path,
            what: "projection file (.prj)",
            why: "the CRS is unknown; add the .prj or name the layer's `crs` in the catalogue",
        });
    }
    let bytes = read_file(&prj_path)?;
    let wkt = String::from_utf8_lossy(&bytes);
    Crs::from_prj_wkt(&wkt).map_err(|source| LoadError::Crs {
        path: prj_path,
        source,
    })
}

/// The encoding a `.cpg` names, if there is one.
fn read_cpg(path: &Path) -> Result<Option<&'static encoding_rs::Encoding>, LoadError> {
    let cpg_path = path.with_extension("cpg");
    if !cpg_path.is_file() {
        return Ok(None);
    }
    let bytes = read_file(&cpg_path)?;
    let label = String::from_utf8_lossy(&bytes).trim().to_string();
    // ESRI writes bare Windows code page numbers ("1252", "65001") as well as labels.
    let normalised = match label.as_str() {
        "65001" => "utf-8".to_string(),
        n if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => format!("windows-{n}"),
        other => other.to_string(),
    };
    encoding_rs::Encoding::for_label(normalised.as_bytes())
        .map(Some)
        .ok_or_else(|| LoadError::Format {
            path: cpg_path,
            msg: format!("unknown code page {label:?}"),
        })
}

enum ReadFailure {
    /// Strict UTF-8 decoding of the DBF failed (the caller retries in Windows-1252).
    NotUtf8,
    Other(LoadError),
}

impl From<LoadError> for ReadFailure {
    fn from(e: LoadError) -> Self {
        ReadFailure::Other(e)
    }
}

/// A dbase error as a sentence: its `Display` is a debug-like `Error { kind: ... }` when it has
/// no record context (found by fuzzing a `.dbf` whose field type byte is a space).
fn dbase_message(e: &dbase::Error) -> String {
    let text = e.to_string();
    if text.starts_with("Error {") {
        e.kind().to_string()
    } else {
        text
    }
}

fn open_err(path: &Path, e: impl std::fmt::Display) -> LoadError {
    LoadError::Shapefile {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}

/// Reads shapes and records; `encoding` `None` is strict UTF-8.
fn read_records(
    path: &Path,
    dbf_path: &Path,
    spec: &BoundarySpec,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> Result<Vec<SourceFeature>, ReadFailure> {
    let builder = dbase::ReaderBuilder::new();
    let builder = match encoding {
        Some(enc) => builder.with_encoding(dbase::encoding::EncodingRs::from(enc)),
        None => builder.with_encoding(dbase::Unicode),
    };
    let dbf = builder
        .open(dbf_path)
        .map_err(|e| open_err(dbf_path, dbase_message(&e)))?;
    let fields: Vec<String> = dbf.fields().iter().map(|f| f.name().to_string()).collect();
    for field in [spec.code_field, spec.name_field]
        .into_iter()
        .chain(spec.attributes.iter().map(String::as_str))
    {
        if !fields.iter().any(|f| f == field) {
            return Err(LoadError::MissingField {
                path: dbf_path.to_path_buf(),
                feature: 0,
                field: field.to_string(),
                available: fields,
            }
            .into());
        }
    }
    let shx_path = path.with_extension("shx");
    let shp = std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let shapes = if shx_path.is_file() {
        let shx = std::fs::File::open(&shx_path)
            .map(BufReader::new)
            .map_err(|source| LoadError::Io {
                path: shx_path.clone(),
                source,
            })?;
        ShapeReader::with_shx(shp, shx)
    } else {
        ShapeReader::new(shp)
    }
    .map_err(|e| open_err(path, e))?;
    let mut reader = shapefile::Reader::new(shapes, dbf);
    collect(path, dbf_path, &mut reader, spec)
}

fn collect<T: Read + Seek, D: Read + Seek>(
    path: &Path,
    dbf_path: &Path,
    reader: &mut shapefile::Reader<T, D>,
    spec: &BoundarySpec,
) -> Result<Vec<SourceFeature>, ReadFailure> {
    let mut out = Vec::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = match item {
            Ok(pair) => pair,
            Err(shapefile::Error::DbaseError(e))
                if matches!(e.kind(), dbase::ErrorKind::StringDecodeError(_)) =>
            {
                return Err(ReadFailure::NotUtf8);
            }
            // The shapefile crate shows dbase errors as a debug dump: name the .dbf and use
            // the dbase crate's own message.
            Err(shapefile::Error::DbaseError(e)) => {
                return Err(LoadError::Shapefile {
                    path: dbf_path.to_path_buf(),
                    msg: format!("record {index}: {}", dbase_message(&e)),
                }
                .into());
            }
            Err(e) => {
                return Err(LoadError::Shapefile {
                    path: path.to_path_buf(),
                    msg: format!("record {index}: {e}"),
                }
                .into());
            }
        };
        let text = |field: &str| record_text(&record, field);
        let attributes = spec
            .attributes
            .iter()
            .map(|a| (a.clone(), text(a).unwrap_or_default()))
            .collect();
        out.push(SourceFeature {
            code: text(spec.code_field),
            name: text(spec.name_field).unwrap_or_default(),
            attributes,
            geometry: shape_geometry(shape),
        });
    }
    Ok(out)
}

/// A DBF value as text, `None` for null / blank.
fn record_text(record: &Record, field: &str) -> Option<String> {
    let value = record.get(field)?;
    let text = match value {
        FieldValue::Character(s) => s.clone()?,
        FieldValue::Memo(s) => s.clone(),
        FieldValue::Numeric(n) => fmt_number((*n)?),
        FieldValue::Float(n) => fmt_number(f64::from((*n)?)),
        FieldValue::Double(n) | FieldValue::Currency(n) => fmt_number(*n),
        FieldValue::Integer(n) => n.to_string(),
        FieldValue::Logical(b) => b.map(|b| b.to_string())?,
        FieldValue::Date(d) => {
            d.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))?
        }
        FieldValue::DateTime(dt) => {
            let d = dt.date();
            format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        }
    };
    Some(text.trim().to_string())
}

/// Whole numbers without a decimal point (a numeric code `95` stays `95`, not `95.0`).
fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

fn shape_geometry(shape: Shape) -> SourceGeometry {
    let rings: Vec<(bool, Vec<Coord<f64>>)> = match shape {
        Shape::Polygon(p) => p.into_inner().into_iter().map(ring_of).collect(),
        Shape::PolygonM(p) => p
            .into_inner()
            .into_iter()
            .map(|r| match r {
                PolygonRing::Outer(pts) => {
                    (true, pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect())
                }
                PolygonRing::Inner(pts) => (
                    false,
                    pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect(),
                ),
            })
            .collect(),
        Shape::PolygonZ(p) => p
            .into_inner()
            .into_iter()
            .map(|r| match r {
                PolygonRing::Outer(pts) => {
                    (true, pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect())
                }
                PolygonRing::Inner(pts) => (
                    false,
                    pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect(),
                ),
            })
            .collect(),
        Shape::NullShape => return SourceGeometry::Missing,
        other => return SourceGeometry::Unsupported(other.shapetype().to_string()),
    };
    SourceGeometry::Polygons(assign_holes(rings))
}

fn ring_of(r: PolygonRing<shapefile::Point>) -> (bool, Vec<Coord<f64>>) {
    match r {
        PolygonRing::Outer(pts) => (true, pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect()),
        PolygonRing::Inner(pts) => (
            false,
            pts.iter().map(|p| Coord { x: p.x, y: p.y }).collect(),
        ),
    }
}

/// Groups rings into polygons: each hole goes to the shell containing it; a hole no shell
/// contains is kept as a polygon of its own (even-odd filling still treats overlaps right).
fn assign_holes(rings: Vec<(bool, Vec<Coord<f64>>)>) -> Vec<Vec<Vec<Coord<f64>>>> {
    let shells: Vec<Polygon<f64>> = rings
        .iter()
        .filter(|(outer, _)| *outer)
        .map(|(_, r)| Polygon::new(LineString(r.clone()), vec![]))
        .collect();
    let boxes: Vec<_> = shells
        .iter()
        .map(geo::BoundingRect::bounding_rect)
        .collect();
    let mut polygons: Vec<Vec<Vec<Coord<f64>>>> = Vec::with_capacity(shells.len());
    let mut holes: Vec<Vec<Vec<Coord<f64>>>> = vec![Vec::new(); shells.len()];
    let mut orphans = Vec::new();
    let mut last_shell = None;
    let mut shell_index = 0;
    for (outer, ring) in rings {
        if outer {
            last_shell = Some(shell_index);
            shell_index += 1;
            continue;
        }
        let containing = if shells.len() == 1 {
            Some(0)
        } else {
            shells.iter().enumerate().position(|(i, s)| {
                let fits = boxes[i].is_some_and(|b| {
                    ring.iter().all(|c| {
                        c.x >= b.min().x && c.x <= b.max().x && c.y >= b.min().y && c.y <= b.max().y
                    })
                });
                fits && ring
                    .iter()
                    .map(|c| s.coordinate_position(c))
                    .find(|p| *p != geo::coordinate_position::CoordPos::OnBoundary)
                    != Some(geo::coordinate_position::CoordPos::Outside)
            })
        };
        match containing.or(last_shell) {
            Some(i) => holes[i].push(ring),
            None => orphans.push(vec![ring]),
        }
    }
    for (shell, hs) in shells.into_iter().zip(holes) {
        let (exterior, _) = shell.into_inner();
        let mut rings = Vec::with_capacity(1 + hs.len());
        rings.push(exterior.0);
        rings.extend(hs);
        polygons.push(rings);
    }
    polygons.extend(orphans);
    polygons
}
