//! Errors of reading a boundary file, each naming the file and where in it (line and column,
//! feature index and code, DBF field) what is wrong.

use std::path::PathBuf;

use thiserror::Error;

use crate::crs::CrsError;

/// Why a boundary file could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The file (or a sidecar file) could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON (truncated, bad syntax, bytes that are not UTF-8...).
    #[error("{path}: invalid JSON at line {line}, column {column}: {msg}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's message.
        msg: String,
    },
    /// The file is valid JSON/shapefile but not shaped as expected (not a FeatureCollection...).
    #[error("{path}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The file has no features.
    #[error("{path}: the file has no features")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The code, name or an attribute field the catalogue names is absent from a feature.
    #[error("{path}: feature {feature}: no field {field:?}{}", available_hint(.available))]
    MissingField {
        /// The file.
        path: PathBuf,
        /// 0-based feature (record) index.
        feature: usize,
        /// The field asked for.
        field: String,
        /// The fields the feature does have, for the hint.
        available: Vec<String>,
    },
    /// A feature's geometry is unusable (wrong type, unclosed ring, coordinates out of range...).
    #[error("{path}: feature {feature} ({code}): {msg}")]
    Geometry {
        /// The file.
        path: PathBuf,
        /// 0-based feature index.
        feature: usize,
        /// The feature's code (or `?` if it has none).
        code: String,
        /// What is wrong.
        msg: String,
    },
    /// The CRS the file states (GeoJSON `crs`, `.prj`) is not one we know, or cannot be used.
    #[error("{path}: {source}")]
    Crs {
        /// The file stating the CRS (the `.prj` for a shapefile).
        path: PathBuf,
        /// What is wrong with it.
        source: CrsError,
    },
    /// The file does not state its CRS and its coordinates are not WGS84 degrees.
    #[error(
        "{path}: no CRS is declared, so RFC 7946 WGS84 degrees are assumed, but the coordinates \
         span x {min_x}..{max_x}, y {min_y}..{max_y}, which are not degrees; {hint}"
    )]
    UndeclaredCrs {
        /// The file.
        path: PathBuf,
        /// Coordinate ranges found.
        min_x: f64,
        /// Coordinate ranges found.
        min_y: f64,
        /// Coordinate ranges found.
        max_x: f64,
        /// Coordinate ranges found.
        max_y: f64,
        /// A suggestion of the CRS to name in the catalogue.
        hint: String,
    },
    /// A shapefile's sidecar file (`.dbf`, `.prj`) is missing.
    #[error("{path}: missing {what}: {why}")]
    MissingSidecar {
        /// The missing file.
        path: PathBuf,
        /// What it would hold, e.g. `attribute table (.dbf)`.
        what: &'static str,
        /// Why it is needed / how to go without it.
        why: &'static str,
    },
    /// The shapefile or its DBF could not be read.
    #[error("{path}: {msg}")]
    Shapefile {
        /// The file.
        path: PathBuf,
        /// The shapefile/dbase crate's message, with record index when known.
        msg: String,
    },
    /// A TopoJSON topology is inconsistent (arc index out of range, unknown object...).
    #[error("{path}: {msg}")]
    Topology {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// The file extension is none we read.
    #[error("{path}: unsupported boundary file type; expected .geojson, .json, .shp or .topojson")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(" (fields present: {})", available.join(", "))
    }
}
