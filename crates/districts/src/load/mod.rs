//! Reading boundary files into WGS84 features, one sibling module per format (GeoJSON,
//! Shapefile + `.prj`, TopoJSON), all with the same shape: a format module reads the file into
//! `SourceFeature`s in the file's own CRS, then `finish` checks every geometry the same way,
//! reprojects it and records what it handled in notes.
//!
//! Geometry policy (the same for every format):
//! - only Polygon / MultiPolygon (a TopoJSON GeometryCollection of them is merged); any other
//!   type is an error naming the feature;
//! - a ring must be closed (first position = last), else error;
//! - a ring of fewer than 4 positions is a degenerate sliver: dropped with a note (a shell takes
//!   its holes with it); if nothing is left of the feature, error;
//! - coordinates must be finite and inside the CRS's valid range, else error;
//! - invalid geometry (self-intersections, shells that overlap, like South Cambridgeshire
//!   E07000012 carrying Cambridge's hole as a separate polygon in the ONS BGC file) is **kept**:
//!   point-in-polygon and rendering use the even-odd rule over all rings, which gives the intended
//!   result for such nested shells. We detect shells lying inside another shell of the same
//!   feature and note them; we do not run a full self-intersection check (a sweep over 400k
//!   vertices at start-up for a note) nor attempt repairs, which would move shared borders.
//! - duplicate codes are kept (the join reports them).

mod error;
pub mod geojson;
pub mod shapefile;
pub mod topojson;

use std::path::{Path, PathBuf};

use geo::{BoundingRect, CoordinatePosition};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};

pub use error::LoadError;

use crate::Wgs84;
use crate::codes::normalise_code;
use crate::crs::{Crs, ToWgs84};

/// What the catalogue says about a boundary file: which fields hold the code and name, which
/// attributes to keep, and the CRS when the file itself cannot say.
#[derive(Clone, Copy, Debug)]
pub struct BoundarySpec<'a> {
    /// Property / DBF field holding the GSS code.
    pub code_field: &'a str,
    /// Property / DBF field holding the name.
    pub name_field: &'a str,
    /// CRS from the catalogue, used when the file does not state one (GeoJSON without `crs`,
    /// shapefile without `.prj`, TopoJSON). A CRS the file states wins.
    pub crs: Option<Crs>,
    /// Further properties to keep, in this order.
    pub attributes: &'a [String],
    /// TopoJSON: the object to read; may be `None` when the topology has only one object.
    pub object: Option<&'a str>,
}

impl<'a> BoundarySpec<'a> {
    /// A spec with just the code and name fields (WGS84 unless the file says otherwise, no
    /// extra attributes, the only TopoJSON object).
    ///
    /// ```
    /// use districts::load::BoundarySpec;
    /// let spec = BoundarySpec::new("lad19cd", "lad19nm");
    /// assert!(spec.crs.is_none() && spec.attributes.is_empty());
    /// ```
    pub fn new(code_field: &'a str, name_field: &'a str) -> Self {
        BoundarySpec {
            code_field,
            name_field,
            crs: None,
            attributes: &[],
            object: None,
        }
    }
}

/// One district boundary as loaded: code, name, WGS84 geometry, kept attributes.
#[derive(Clone, Debug)]
pub struct RawFeature {
    /// GSS code, trimmed and upper-cased.
    pub code: String,
    /// Name as published (trimmed).
    pub name: String,
    /// Geometry reprojected to WGS84 lon/lat.
    pub geometry: Wgs84,
    /// The attributes the spec asked for, in its order (null values as empty strings).
    pub attributes: Vec<(String, String)>,
}

/// Everything read from one boundary file.
#[derive(Clone, Debug)]
pub struct LoadedBoundaries {
    /// The file read (for a shapefile, the `.shp`).
    pub path: PathBuf,
    /// The CRS the coordinates were in before reprojection.
    pub source_crs: Crs,
    /// Features in file order.
    pub features: Vec<RawFeature>,
    /// What was handled on the way (dropped slivers, nested shells...), one line per item,
    /// each naming the feature.
    pub notes: Vec<String>,
}

/// Loads a boundary file, choosing the reader by extension: `.geojson`/`.json`, `.shp`,
/// `.topojson`.
///
/// ```
/// use districts::load::{load_boundaries, BoundarySpec};
/// let toy = load_boundaries(
///     &test_support::fixtures_dir().join("toy_districts.geojson"),
///     &BoundarySpec::new("toycd", "toynm"),
/// )?;
/// assert_eq!(toy.features.len(), 4);
/// # Ok::<(), districts::load::LoadError>(())
/// ```
pub fn load_boundaries(path: &Path, spec: &BoundarySpec) -> Result<LoadedBoundaries, LoadError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("geojson" | "json") => geojson::load(path, spec),
        Some("shp") => shapefile::load(path, spec),
        Some("topojson") => topojson::load(path, spec),
        _ => Err(LoadError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// A feature as a format module reads it, in the file's CRS, before any check.
#[derive(Debug)]
pub(crate) struct SourceFeature {
    /// The code as written, `None` if the field is absent or null.
    pub code: Option<String>,
    /// The name as written (empty if null).
    pub name: String,
    /// Kept attributes.
    pub attributes: Vec<(String, String)>,
    pub geometry: SourceGeometry,
}

/// Geometry as read: polygons as lists of rings (the first ring is the shell).
#[derive(Debug)]
pub(crate) enum SourceGeometry {
    Polygons(Vec<Vec<Vec<Coord<f64>>>>),
    /// A geometry type we do not take (`Point`, `LineString`...), by name.
    Unsupported(String),
    /// `null` geometry or a null shape.
    Missing,
}

/// Checks, reprojects and notes every feature (see the module docs for the policy).
pub(crate) fn finish(
    path: &Path,
    source_crs: Crs,
    features: Vec<SourceFeature>,
    mut notes: Vec<String>,
) -> Result<LoadedBoundaries, LoadError> {
    if features.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_path_buf(),
        });
    }
    let to_wgs84 = ToWgs84::new(source_crs).map_err(|source| LoadError::Crs {
        path: path.to_path_buf(),
        source,
    })?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(features.len());
    for (index, feature) in features.into_iter().enumerate() {
        let code = feature
            .code
            .as_deref()
            .map(normalise_code)
            .unwrap_or_default();
        let geometry_error = |msg: String| LoadError::Geometry {
            path: path.to_path_buf(),
            feature: index,
            code: if code.is_empty() {
                "?".to_string()
            } else {
                code.clone()
            },
            msg,
        };
        if code.is_empty() {
            return Err(geometry_error("the code field is empty".to_string()));
        }
        let polygons = match feature.geometry {
            SourceGeometry::Polygons(p) => p,
            SourceGeometry::Unsupported(kind) => {
                return Err(geometry_error(format!(
                    "geometry type {kind} is not a Polygon or MultiPolygon"
                )));
            }
            SourceGeometry::Missing => {
                return Err(geometry_error("the feature has no geometry".to_string()));
            }
        };
        let mut mp = check_polygons(polygons, source_crs, &mut |note| {
            notes.push(format!("{file}: feature {index} ({code}): {note}"));
        })
        .map_err(&geometry_error)?;
        for note in nested_shells(&mp) {
            notes.push(format!("{file}: feature {index} ({code}): {note}"));
        }
        to_wgs84
            .multipolygon(&mut mp)
            .map_err(|e| geometry_error(e.to_string()))?;
        out.push(RawFeature {
            code,
            name: feature.name.trim().to_string(),
            geometry: Wgs84(mp),
            attributes: feature.attributes,
        });
    }
    Ok(LoadedBoundaries {
        path: path.to_path_buf(),
        source_crs,
        features: out,
        notes,
    })
}

/// Ring checks of one feature; returns the polygons with degenerate rings dropped.
fn check_polygons(
    polygons: Vec<Vec<Vec<Coord<f64>>>>,
    crs: Crs,
    note: &mut dyn FnMut(String),
) -> Result<MultiPolygon<f64>, String> {
    let (min_x, min_y, max_x, max_y) = crs.valid_range();
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, rings) in polygons.into_iter().enumerate() {
        let mut kept: Vec<LineString<f64>> = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.into_iter().enumerate() {
            if let Some(c) = ring.iter().find(|c| {
                !(c.x.is_finite() && c.y.is_finite())
                    || c.x < min_x
                    || c.x > max_x
                    || c.y < min_y
                    || c.y > max_y
            }) {
                return Err(format!(
                    "polygon {pi} ring {ri}: coordinate ({}, {}) is out of range for {crs}",
                    c.x, c.y
                ));
            }
            if ring.len() >= 2 && ring.first() != ring.last() {
                return Err(format!(
                    "polygon {pi} ring {ri} is not closed (first position {:?} != last {:?})",
                    (ring[0].x, ring[0].y),
                    ring.last().map(|c| (c.x, c.y)).unwrap_or_default()
                ));
            }
            if ring.len() < 4 {
                if ri == 0 {
                    note(format!(
                        "dropped polygon {pi}: its shell has {} positions (degenerate sliver)",
                        ring.len()
                    ));
                    kept.clear();
                    break;
                }
                note(format!(
                    "dropped hole {ri} of polygon {pi}: {} positions (degenerate sliver)",
                    ring.len()
                ));
                continue;
            }
            kept.push(LineString(ring));
        }
        let mut kept = kept.into_iter();
        if let Some(shell) = kept.next() {
            out.push(Polygon::new(shell, kept.collect()));
        }
    }
    if out.is_empty() {
        return Err("no ring of 4 or more positions is left".to_string());
    }
    Ok(MultiPolygon(out))
}

/// Notes shells lying inside another shell of the same feature (a hole stored as an
/// overlapping polygon): kept, since even-odd filling treats them as holes.
fn nested_shells(mp: &MultiPolygon<f64>) -> Vec<String> {
    let mut notes = Vec::new();
    if mp.0.len() < 2 {
        return notes;
    }
    let boxes: Vec<Option<Rect<f64>>> = mp.0.iter().map(|p| p.exterior().bounding_rect()).collect();
    for (i, outer) in mp.0.iter().enumerate() {
        let Some(ob) = boxes[i] else { continue };
        let shell = Polygon::new(outer.exterior().clone(), vec![]);
        for (j, inner) in mp.0.iter().enumerate() {
            let Some(ib) = boxes[j] else { continue };
            if i == j
                || ib.min().x < ob.min().x
                || ib.min().y < ob.min().y
                || ib.max().x > ob.max().x
                || ib.max().y > ob.max().y
            {
                continue;
            }
            // Inside if some vertex is strictly inside (vertices on a shared border do not count).
            let inside = inner
                .exterior()
                .0
                .iter()
                .map(|c| shell.coordinate_position(c))
                .find(|p| *p != geo::coordinate_position::CoordPos::OnBoundary)
                == Some(geo::coordinate_position::CoordPos::Inside);
            if inside {
                notes.push(format!(
                    "polygon {j} lies inside polygon {i} (an overlapping \"nested shell\", \
                     probably a hole); kept, even-odd filling treats it as a hole"
                ));
            }
        }
    }
    notes
}

/// Turns a property value into the text we keep: strings as they are, numbers in JSON form,
/// null as `None`.
pub(crate) fn json_value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Code (absent if null), name and kept attributes of one feature.
pub(crate) type FeatureFields = (Option<String>, String, Vec<(String, String)>);

/// Reads code, name and attributes from a JSON property map (GeoJSON and TopoJSON share it).
pub(crate) fn json_properties(
    path: &Path,
    index: usize,
    properties: Option<&serde_json::Map<String, serde_json::Value>>,
    spec: &BoundarySpec,
) -> Result<FeatureFields, LoadError> {
    let empty = serde_json::Map::new();
    let props = properties.unwrap_or(&empty);
    let get = |field: &str| -> Result<Option<String>, LoadError> {
        match props.get(field) {
            Some(v) => Ok(json_value_text(v)),
            None => Err(LoadError::MissingField {
                path: path.to_path_buf(),
                feature: index,
                field: field.to_string(),
                available: props.keys().cloned().collect(),
            }),
        }
    };
    let code = get(spec.code_field)?;
    let name = get(spec.name_field)?.unwrap_or_default();
    let attributes = spec
        .attributes
        .iter()
        .map(|a| Ok((a.clone(), get(a)?.unwrap_or_default())))
        .collect::<Result<Vec<_>, LoadError>>()?;
    Ok((code, name, attributes))
}

/// Maps a serde_json error to [`LoadError::Json`] with its line and column.
pub(crate) fn json_error(path: &Path, e: serde_json::Error) -> LoadError {
    LoadError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        msg: e.to_string(),
    }
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Bounds over all coordinates of all features, `None` if there are none.
pub(crate) fn source_bounds(features: &[SourceFeature]) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    for f in features {
        if let SourceGeometry::Polygons(polys) = &f.geometry {
            for c in polys.iter().flatten().flatten() {
                let (x0, y0, x1, y1) = b.get_or_insert((c.x, c.y, c.x, c.y));
                *x0 = x0.min(c.x);
                *y0 = y0.min(c.y);
                *x1 = x1.max(c.x);
                *y1 = y1.max(c.y);
            }
        }
    }
    b
}

/// For files that cannot state a CRS (GeoJSON without `crs`, TopoJSON): the catalogue's CRS if
/// given, else WGS84 provided the coordinates are degrees, else an error suggesting a CRS.
pub(crate) fn undeclared_crs(
    path: &Path,
    features: &[SourceFeature],
    spec: &BoundarySpec,
) -> Result<Crs, LoadError> {
    if let Some(crs) = spec.crs {
        return Ok(crs);
    }
    let Some((min_x, min_y, max_x, max_y)) = source_bounds(features) else {
        return Ok(Crs::Wgs84);
    };
    if min_x >= -180.0 && max_x <= 180.0 && min_y >= -90.0 && max_y <= 90.0 {
        return Ok(Crs::Wgs84);
    }
    let hint = match Crs::suggest_from_ranges(min_x, min_y, max_x, max_y) {
        Some(crs) => format!(
            "the ranges look like {crs} ({crs:?}); name it as the layer's `crs` in the catalogue"
        ),
        None => "name the file's CRS as the layer's `crs` in the catalogue".to_string(),
    };
    Err(LoadError::UndeclaredCrs {
        path: path.to_path_buf(),
        min_x,
        min_y,
        max_x,
        max_y,
        hint,
    })
}
