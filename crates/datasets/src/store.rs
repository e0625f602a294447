//! Storage behind one small trait, so a shared database for several replicas can replace the
//! SQLite file later without touching detection or the edges.

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Descriptive metadata of a dataset, as given at upload (or defaulted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// URL-safe id: lower-case letters, digits and `_`.
    pub id: String,
    /// Title shown on legends.
    pub title: String,
    /// Unit of the values.
    pub unit: String,
    /// `higher_is_better`, `higher_is_worse` or `neutral`.
    pub direction: String,
    /// Source line for credits.
    pub source: String,
    /// Licence text for credits.
    pub licence: String,
}

/// One stored, immutable version of a dataset.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredVersion {
    /// The dataset's id.
    pub dataset: String,
    /// Version number, 1 for the first upload.
    pub version: u32,
    /// Layer the table joined to.
    pub layer: String,
    /// Metadata as it was for this version.
    pub meta: DatasetMeta,
    /// The detection and join report (JSON text, as answered at upload).
    pub report: String,
    /// The normalised table as stored: [`crate::table::encode`]'s bytes (JSON text for
    /// versions stored by earlier releases); read it with [`crate::table::decode_for_join`].
    pub table: Vec<u8>,
    /// Seconds since the Unix epoch.
    pub created: i64,
    /// Its join with its layer as stored ([`crate::stored_join::StoredJoin::encode`]'s
    /// bytes); empty when none was stored (versions from earlier releases).
    #[serde(default)]
    pub join: Vec<u8>,
}

/// A dataset as listed: latest metadata and its versions.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetSummary {
    #[serde(flatten)]
    /// Latest metadata.
    pub meta: DatasetMeta,
    /// Seconds since the Unix epoch.
    pub created: i64,
    /// Deleted datasets answer 410 Gone.
    pub deleted: bool,
    /// Version numbers with their layers, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// A version as listed.
#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    /// Version number, 1 for the first upload.
    pub version: u32,
    /// Layer the version joined to.
    pub layer: String,
    /// Seconds since the Unix epoch.
    pub created: i64,
}

/// A version to store: what was uploaded, as analysed.
#[derive(Clone, Copy, Debug)]
pub struct NewVersion<'a> {
    /// Metadata (its id names the dataset).
    pub meta: &'a DatasetMeta,
    /// Layer the table joined to.
    pub layer: &'a str,
    /// The detection and join report (JSON text).
    pub report: &'a str,
    /// [`crate::table::encode`]'s bytes.
    pub table: &'a [u8],
    /// Its join with the layer ([`crate::stored_join::StoredJoin::encode`]); may be empty.
    pub join: &'a [u8],
}

/// Where datasets live. Every write is one transaction: visible complete or not at all.
pub trait DatasetStore: Send + Sync {
    /// Stores a new version (creating the dataset on its first), returning its number.
    /// Fails with `Gone` for a deleted id, `Conflict` past `max_datasets` or when `create_only`
    /// and the id exists.
    fn put_version(
        &self,
        version: &NewVersion<'_>,
        create_only: bool,
        max_datasets: usize,
    ) -> Result<u32>;
    /// Every dataset, deleted ones included (flagged).
    fn list(&self) -> Result<Vec<DatasetSummary>>;
    /// One dataset, or `None`.
    fn get(&self, id: &str) -> Result<Option<DatasetSummary>>;
    /// One version (the latest when `version` is `None`).
    fn version(&self, id: &str, version: Option<u32>) -> Result<Option<StoredVersion>>;
    /// Every version of every live dataset, for building the maps; a version with a stored
    /// join comes without its table (`table` empty: read it with [`DatasetStore::version`]).
    fn live_versions(&self) -> Result<Vec<StoredVersion>>;
    /// Marks a dataset deleted; `false` if there was none (or it was already deleted).
    fn delete(&self, id: &str) -> Result<bool>;
    /// Stores (or replaces) the join of a version made again (its layer or the program
    /// changed); not a change of the data, so the generation stays.
    fn put_join(&self, dataset: &str, version: u32, join: &[u8]) -> Result<()>;
    /// A number that changes whenever any process commits a write: cheap to poll.
    fn generation(&self) -> Result<u64>;
}
