//! What is wrong with a catalogue: every variant names the catalogue file; most name the entry.

use std::path::PathBuf;

use crate::csv_text::TableError;

/// What is wrong with a catalogue. Every variant names the catalogue file; most name the entry.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The catalogue file could not be read.
    #[error("cannot read catalogue {path}: {source}")]
    Io {
        /// Catalogue path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown/missing keys.
    #[error("catalogue {path} is not valid: {source}")]
    Parse {
        /// Catalogue path.
        path: PathBuf,
        /// Cause (with line and column).
        source: Box<toml::de::Error>,
    },
    /// The catalogue declares no layer, so there is nothing to map.
    #[error(
        "catalogue {path} has no layers: add a [[layer]] entry naming a boundary file (see boundaries/README.md)"
    )]
    NoLayers {
        /// Catalogue path.
        path: PathBuf,
    },
    /// An entry names a file that is not in the data directory.
    #[error("catalogue {catalog}: entry `{entry}` names {file}, which does not exist")]
    MissingFile {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Missing file (resolved path).
        file: PathBuf,
    },
    /// Two entries share an id.
    #[error("catalogue {catalog}: {kind} id `{id}` is used more than once")]
    DuplicateId {
        /// Catalogue path.
        catalog: PathBuf,
        /// `layer`, `source`, `indicator`, `lookup`, `points`.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A reference to a layer, indicator or lookup that does not exist.
    #[error(
        "catalogue {catalog}: entry `{entry}` refers to unknown {kind} `{id}` (known: {known})"
    )]
    UnknownReference {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// `layer`, `indicator`, `lookup`.
        kind: &'static str,
        /// The unknown id.
        id: String,
        /// The valid ids.
        known: String,
    },
    /// A column the entry names is not in the file's header.
    #[error(
        "catalogue {catalog}: entry `{entry}` names column `{column}`, which is not in {file} (header: {header})"
    )]
    MissingColumn {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Column named.
        column: String,
        /// Data file.
        file: PathBuf,
        /// The file's header, comma-separated.
        header: String,
    },
    /// The entry is inconsistent (e.g. a long source without a period column).
    #[error("catalogue {catalog}: entry `{entry}`: {message}")]
    Invalid {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The header of a data file could not be read.
    #[error("catalogue {catalog}: entry `{entry}`: {source}")]
    Table {
        /// Catalogue path.
        catalog: PathBuf,
        /// Entry id.
        entry: String,
        /// Cause.
        source: Box<TableError>,
    },
}
