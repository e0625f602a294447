//! TopoJSON topologies: Polygon / MultiPolygon geometries (in a GeometryCollection object)
//! whose rings are lists of shared arcs.
//!
//! Decoded by hand because the `topojson` crate is stale (built on an old `geojson`), and the
//! format is small: arcs are delta-encoded integer positions when the topology has a
//! `transform` (position = cumulative sum x `scale` + `translate`); a ring is the concatenation
//! of its arcs, index `~i` (negative) meaning arc `i` reversed, dropping the first position of
//! every arc after the first (it repeats the previous arc's last). Rings built this way are
//! closed by construction. TopoJSON has no CRS member: WGS84 unless the catalogue says.

use std::collections::BTreeMap;
use std::path::Path;

use geo_types::Coord;
use serde::Deserialize;

use super::{
    BoundarySpec, LoadError, LoadedBoundaries, SourceFeature, SourceGeometry, finish, json_error,
    json_properties, read_file, undeclared_crs,
};

/// Loads one object of a TopoJSON topology (`spec.object`, or the only object).
///
/// ```no_run
/// use districts::load::{topojson, BoundarySpec};
/// let spec = BoundarySpec { object: Some("data"), ..BoundarySpec::new("AREACD", "AREANM") };
/// let lad = topojson::load("../shared/data/lad_apr2019_uk_buc.topojson".as_ref(), &spec)?;
/// assert_eq!(lad.features.len(), 382);
/// # Ok::<(), districts::load::LoadError>(())
/// ```
pub fn load(path: &Path, spec: &BoundarySpec) -> Result<LoadedBoundaries, LoadError> {
    let bytes = read_file(path)?;
    let doc: TopologyDoc = serde_json::from_slice(&bytes).map_err(|e| json_error(path, e))?;
    drop(bytes);
    let topology_error = |msg: String| LoadError::Topology {
        path: path.to_path_buf(),
        msg,
    };
    if doc.kind != "Topology" {
        return Err(topology_error(format!(
            "top-level \"type\" is {:?}, expected \"Topology\"",
            doc.kind
        )));
    }
    let names = || doc.objects.keys().cloned().collect::<Vec<_>>().join(", ");
    let object = match spec.object {
        Some(name) => doc
            .objects
            .get(name)
            .ok_or_else(|| topology_error(format!("no object {name:?}; objects: {}", names())))?,
        None if doc.objects.len() == 1 => doc
            .objects
            .values()
            .next()
            .ok_or_else(|| topology_error("no objects".to_string()))?,
        None => {
            return Err(topology_error(format!(
                "the topology has {} objects ({}); the catalogue must name one",
                doc.objects.len(),
                names()
            )));
        }
    };
    let arcs = decode_arcs(&doc.arcs, doc.transform.as_ref());
    let members: Vec<&GeometryDoc> = match object.kind.as_deref() {
        Some("GeometryCollection") => object.geometries.iter().collect(),
        _ => vec![object],
    };
    let mut source = Vec::with_capacity(members.len());
    for (index, g) in members.into_iter().enumerate() {
        let (code, name, attributes) = json_properties(path, index, g.properties.as_ref(), spec)?;
        let geometry = geometry(g, &arcs).map_err(|msg| LoadError::Geometry {
            path: path.to_path_buf(),
            feature: index,
            code: code.clone().unwrap_or_else(|| "?".to_string()),
            msg,
        })?;
        source.push(SourceFeature {
            code,
            name,
            attributes,
            geometry,
        });
    }
    let crs = undeclared_crs(path, &source, spec)?;
    finish(path, crs, source, Vec::new())
}

#[derive(Deserialize)]
struct TopologyDoc {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    transform: Option<TransformDoc>,
    #[serde(default)]
    objects: BTreeMap<String, GeometryDoc>,
    #[serde(default)]
    arcs: Vec<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct TransformDoc {
    scale: [f64; 2],
    translate: [f64; 2],
}

#[derive(Deserialize)]
struct GeometryDoc {
    /// `null` type geometries exist in TopoJSON (features without geometry).
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    arcs: Option<serde_json::Value>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    geometries: Vec<GeometryDoc>,
}

/// Every arc in absolute coordinates (positions with fewer than two numbers are skipped).
fn decode_arcs(arcs: &[Vec<Vec<f64>>], transform: Option<&TransformDoc>) -> Vec<Vec<Coord<f64>>> {
    arcs.iter()
        .map(|arc| {
            let points = arc.iter().filter(|p| p.len() >= 2);
            match transform {
                Some(t) => {
                    let (mut x, mut y) = (0.0, 0.0);
                    points
                        .map(|p| {
                            x += p[0];
                            y += p[1];
                            Coord {
                                x: x * t.scale[0] + t.translate[0],
                                y: y * t.scale[1] + t.translate[1],
                            }
                        })
                        .collect()
                }
                None => points.map(|p| Coord { x: p[0], y: p[1] }).collect(),
            }
        })
        .collect()
}

/// One ring from its arc indices.
fn ring(indices: &[i64], arcs: &[Vec<Coord<f64>>]) -> Result<Vec<Coord<f64>>, String> {
    let mut ring: Vec<Coord<f64>> = Vec::new();
    for &i in indices {
        let (index, reversed) = if i >= 0 { (i, false) } else { (!i, true) };
        let arc = usize::try_from(index)
            .ok()
            .and_then(|k| arcs.get(k))
            .ok_or_else(|| format!("arc index {i} is out of range ({} arcs)", arcs.len()))?;
        let skip = usize::from(!ring.is_empty());
        if reversed {
            ring.extend(arc.iter().rev().skip(skip));
        } else {
            ring.extend(arc.iter().skip(skip));
        }
    }
    Ok(ring)
}

fn polygon(
    v: &serde_json::Value,
    arcs: &[Vec<Coord<f64>>],
) -> Result<Vec<Vec<Coord<f64>>>, String> {
    let rings: Vec<Vec<i64>> = serde_json::from_value(v.clone())
        .map_err(|e| format!("polygon arcs are not lists of arc indices: {e}"))?;
    rings.iter().map(|r| ring(r, arcs)).collect()
}

fn geometry(g: &GeometryDoc, arcs: &[Vec<Coord<f64>>]) -> Result<SourceGeometry, String> {
    let no_arcs = || "the geometry has no \"arcs\"".to_string();
    match g.kind.as_deref() {
        None => Ok(SourceGeometry::Missing),
        Some("Polygon") => {
            let v = g.arcs.as_ref().ok_or_else(no_arcs)?;
            Ok(SourceGeometry::Polygons(vec![polygon(v, arcs)?]))
        }
        Some("MultiPolygon") => {
            let v = g.arcs.as_ref().ok_or_else(no_arcs)?;
            let polys = v
                .as_array()
                .ok_or_else(|| "MultiPolygon arcs are not a list".to_string())?;
            Ok(SourceGeometry::Polygons(
                polys
                    .iter()
                    .map(|p| polygon(p, arcs))
                    .collect::<Result<_, _>>()?,
            ))
        }
        // A feature made of several parts: merge its polygon members.
        Some("GeometryCollection") => {
            let mut all = Vec::new();
            for member in &g.geometries {
                match geometry(member, arcs)? {
                    SourceGeometry::Polygons(p) => all.extend(p),
                    SourceGeometry::Missing => {}
                    other @ SourceGeometry::Unsupported(_) => return Ok(other),
                }
            }
            if all.is_empty() {
                Ok(SourceGeometry::Missing)
            } else {
                Ok(SourceGeometry::Polygons(all))
            }
        }
        Some(other) => Ok(SourceGeometry::Unsupported(other.to_string())),
    }
}
