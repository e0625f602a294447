//! GeoJSON FeatureCollections of Polygon / MultiPolygon.
//!
//! Parsed straight into our own types with serde rather than through the `geojson` crate's
//! generic tree: a ring goes directly into a `Vec<Coord>`, which keeps start-up fast on the
//! 15 MB LSOA file (see `benches/load.rs`). A legacy `crs` member (`{"type":"name",
//! "properties":{"name":"EPSG:27700"}}`) is honoured; without one the file is WGS84 per RFC 7946
//! unless its coordinates are plainly not degrees (then the catalogue must name the CRS).

use std::fmt;
use std::path::Path;

use geo_types::Coord;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{
    BoundarySpec, LoadError, LoadedBoundaries, SourceFeature, SourceGeometry, finish, json_error,
    json_properties, read_file, undeclared_crs,
};
use crate::crs::Crs;

/// Loads a GeoJSON FeatureCollection (see the module docs).
///
/// ```no_run
/// use districts::load::{geojson, BoundarySpec};
/// let lad21 = geojson::load(
///     "../shared/data/lad_may2021_uk_buc_bng.geojson".as_ref(),
///     &BoundarySpec::new("LAD21CD", "LAD21NM"),
/// )?;
/// assert_eq!(lad21.source_crs, districts::crs::Crs::BritishNationalGrid);
/// # Ok::<(), districts::load::LoadError>(())
/// ```
pub fn load(path: &Path, spec: &BoundarySpec) -> Result<LoadedBoundaries, LoadError> {
    let bytes = read_file(path)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let doc = CollectionSeed { path, spec }
        .deserialize(&mut de)
        .and_then(|doc| de.end().map(|()| doc))
        .map_err(|e| json_error(path, e))?;
    drop(bytes);
    if doc.kind != "FeatureCollection" {
        return Err(LoadError::Format {
            path: path.to_path_buf(),
            msg: format!(
                "top-level \"type\" is {:?}, expected \"FeatureCollection\"{}",
                doc.kind,
                if doc.kind == "Topology" {
                    " (a TopoJSON file: give it the .topojson extension)"
                } else {
                    ""
                }
            ),
        });
    }
    let Some(features) = doc.features else {
        return Err(LoadError::Format {
            path: path.to_path_buf(),
            msg: "the FeatureCollection has no \"features\" member".to_string(),
        });
    };
    let source = features.source?;
    let declared = match &doc.crs {
        Some(member) => Some(member.crs().map_err(|msg| LoadError::Format {
            path: path.to_path_buf(),
            msg,
        })?),
        None => None,
    };
    let crs = match declared {
        Some(name) => Crs::from_name(&name).map_err(|source| LoadError::Crs {
            path: path.to_path_buf(),
            source,
        })?,
        None => undeclared_crs(path, &source, spec)?,
    };
    finish(path, crs, source, Vec::new())
}

/// The top-level object, its features already taken apart.
struct FeatureCollectionDoc {
    kind: String,
    crs: Option<CrsMember>,
    features: Option<SourceFeatures>,
}

/// The features as read, or the first feature whose properties lack a field the spec names.
/// That error waits until the whole file has parsed, so a JSON error anywhere in the file, and
/// a top-level `type` that is not a FeatureCollection, are still reported first.
struct SourceFeatures {
    source: Result<Vec<SourceFeature>, LoadError>,
}

/// Reads the top-level object, turning each feature into a [`SourceFeature`] as soon as it is
/// parsed: a feature's property map lives only while its fields are taken, so the whole
/// document never exists as a tree (the LSOA file's 32,844 maps of five properties cost more
/// than its coordinates, and a first `placemap tiles` run peaked on them: issue 11). Duplicate,
/// missing and unknown members are treated as `#[derive(Deserialize)]` treats them.
struct CollectionSeed<'a> {
    path: &'a Path,
    spec: &'a BoundarySpec<'a>,
}

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_> {
    type Value = FeatureCollectionDoc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_> {
    type Value = FeatureCollectionDoc;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct FeatureCollectionDoc")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind: Option<String> = None;
        let mut crs: Option<Option<CrsMember>> = None;
        let mut features: Option<Option<SourceFeatures>> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "type" if kind.is_some() => return Err(de::Error::duplicate_field("type")),
                "type" => kind = Some(map.next_value()?),
                "crs" if crs.is_some() => return Err(de::Error::duplicate_field("crs")),
                "crs" => crs = Some(map.next_value()?),
                "features" if features.is_some() => {
                    return Err(de::Error::duplicate_field("features"));
                }
                "features" => {
                    features = Some(map.next_value_seed(OptionalFeaturesSeed {
                        path: self.path,
                        spec: self.spec,
                    })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(FeatureCollectionDoc {
            kind: kind.ok_or_else(|| de::Error::missing_field("type"))?,
            crs: crs.flatten(),
            features: features.flatten(),
        })
    }
}

/// `"features": null` or the array of features.
struct OptionalFeaturesSeed<'a> {
    path: &'a Path,
    spec: &'a BoundarySpec<'a>,
}

impl<'de> DeserializeSeed<'de> for OptionalFeaturesSeed<'_> {
    type Value = Option<SourceFeatures>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptionalFeaturesSeed<'_> {
    type Value = Option<SourceFeatures>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(FeaturesVisitor {
            path: self.path,
            spec: self.spec,
        })
        .map(Some)
    }
}

/// The `features` array, one [`FeatureDoc`] at a time.
struct FeaturesVisitor<'a> {
    path: &'a Path,
    spec: &'a BoundarySpec<'a>,
}

impl<'de> Visitor<'de> for FeaturesVisitor<'_> {
    type Value = SourceFeatures;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut source = Ok(Vec::with_capacity(seq.size_hint().unwrap_or(0)));
        let mut index = 0;
        while let Some(f) = seq.next_element::<FeatureDoc>()? {
            // After the first missing field the rest is only parsed (for its JSON errors).
            if let Ok(features) = &mut source {
                match json_properties(self.path, index, f.properties.as_ref(), self.spec) {
                    Ok((code, name, attributes)) => features.push(SourceFeature {
                        code,
                        name,
                        attributes,
                        geometry: match f.geometry {
                            None => SourceGeometry::Missing,
                            Some(GeometryDoc::Polygon(rings)) => {
                                SourceGeometry::Polygons(vec![rings])
                            }
                            Some(GeometryDoc::MultiPolygon(polys)) => {
                                SourceGeometry::Polygons(polys)
                            }
                            Some(GeometryDoc::Other(kind)) => SourceGeometry::Unsupported(kind),
                        },
                    }),
                    Err(e) => source = Err(e),
                }
            }
            index += 1;
        }
        Ok(SourceFeatures { source })
    }
}

/// The legacy (GeoJSON 2008) `crs` member.
#[derive(Deserialize)]
struct CrsMember {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    properties: serde_json::Map<String, serde_json::Value>,
}

impl CrsMember {
    /// The CRS name of a `"type":"name"` member.
    fn crs(&self) -> Result<String, String> {
        if self.kind != "name" {
            return Err(format!(
                "the \"crs\" member is of type {:?}; only \"name\" is supported",
                self.kind
            ));
        }
        match self.properties.get("name") {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err("the \"crs\" member has no string properties.name".to_string()),
        }
    }
}

#[derive(Deserialize)]
struct FeatureDoc {
    #[serde(default)]
    geometry: Option<GeometryDoc>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A geometry: the polygon kinds with their rings, any other kind by name only.
enum GeometryDoc {
    Polygon(Vec<Vec<Coord<f64>>>),
    MultiPolygon(Vec<Vec<Vec<Coord<f64>>>>),
    Other(String),
}

/// One ring read directly into coordinates (positions may carry an altitude, ignored).
struct Ring(Vec<Coord<f64>>);

impl<'de> Deserialize<'de> for Ring {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RingVisitor;
        impl<'de> Visitor<'de> for RingVisitor {
            type Value = Ring;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of positions")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ring, A::Error> {
                let mut ring = Vec::with_capacity(seq.size_hint().unwrap_or(16));
                while let Some(Position(c)) = seq.next_element()? {
                    ring.push(c);
                }
                Ok(Ring(ring))
            }
        }
        d.deserialize_seq(RingVisitor)
    }
}

struct Position(Coord<f64>);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PositionVisitor;
        impl<'de> Visitor<'de> for PositionVisitor {
            type Value = Position;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [x, y]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Position(Coord { x, y }))
            }
        }
        d.deserialize_seq(PositionVisitor)
    }
}

/// Rings of a polygon.
struct PolygonRings(Vec<Vec<Coord<f64>>>);

impl<'de> Deserialize<'de> for PolygonRings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rings: Vec<Ring> = Vec::deserialize(d)?;
        Ok(PolygonRings(rings.into_iter().map(|r| r.0).collect()))
    }
}

/// Coordinates whose geometry type is not known yet (`coordinates` before `type`).
enum Deferred {
    None,
    Value(serde_json::Value),
}

struct CoordinatesSeed<'a>(&'a str);

impl<'de> DeserializeSeed<'de> for CoordinatesSeed<'_> {
    type Value = GeometryDoc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<GeometryDoc, D::Error> {
        Ok(match self.0 {
            "Polygon" => GeometryDoc::Polygon(PolygonRings::deserialize(d)?.0),
            "MultiPolygon" => {
                let polys: Vec<PolygonRings> = Vec::deserialize(d)?;
                GeometryDoc::MultiPolygon(polys.into_iter().map(|p| p.0).collect())
            }
            other => {
                IgnoredAny::deserialize(d)?;
                GeometryDoc::Other(other.to_string())
            }
        })
    }
}

impl<'de> Deserialize<'de> for GeometryDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct GeometryVisitor;
        impl<'de> Visitor<'de> for GeometryVisitor {
            type Value = GeometryDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a GeoJSON geometry object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GeometryDoc, A::Error> {
                let mut kind: Option<String> = None;
                let mut parsed: Option<GeometryDoc> = None;
                let mut deferred = Deferred::None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "type" => kind = Some(map.next_value()?),
                        "coordinates" => match &kind {
                            // The usual order: the type is known, parse straight into rings.
                            Some(k) => parsed = Some(map.next_value_seed(CoordinatesSeed(k))?),
                            None => deferred = Deferred::Value(map.next_value()?),
                        },
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
                if let Some(doc) = parsed {
                    return Ok(doc);
                }
                match deferred {
                    Deferred::Value(v) => CoordinatesSeed(&kind)
                        .deserialize(v)
                        .map_err(de::Error::custom),
                    Deferred::None if kind == "Polygon" || kind == "MultiPolygon" => {
                        Err(de::Error::missing_field("coordinates"))
                    }
                    Deferred::None => Ok(GeometryDoc::Other(kind)),
                }
            }
        }
        d.deserialize_map(GeometryVisitor)
    }
}
