//! The SQLite store: one file `placemap.sqlite` in the state directory, WAL mode so the
//! server reads while the CLI writes, a busy timeout so two writers wait rather than fail,
//! the schema versioned with `PRAGMA user_version` and checked at open.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{DatasetError, ErrorKind, Result};
use crate::store::{
    DatasetMeta, DatasetStore, DatasetSummary, NewVersion, StoredVersion, VersionInfo,
};

/// File name of the database inside the state directory.
pub const DB_FILE: &str = "placemap.sqlite";

/// Current schema version (`PRAGMA user_version`): 2 added `joins`.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE datasets (
    id        TEXT PRIMARY KEY,
    title     TEXT NOT NULL,
    unit      TEXT NOT NULL,
    direction TEXT NOT NULL,
    source    TEXT NOT NULL,
    licence   TEXT NOT NULL,
    created   INTEGER NOT NULL,
    deleted   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE versions (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset  TEXT NOT NULL REFERENCES datasets(id),
    version  INTEGER NOT NULL,
    layer    TEXT NOT NULL,
    meta     TEXT NOT NULL,
    report   TEXT NOT NULL,
    tbl      TEXT NOT NULL, -- table::encode's bytes, stored as a BLOB (JSON text before)
    created  INTEGER NOT NULL,
    UNIQUE (dataset, version)
);
CREATE TABLE generation (n INTEGER NOT NULL);
INSERT INTO generation (n) VALUES (0);
";

/// Each version's join with its layer (`stored_join::StoredJoin::encode`'s bytes): derived
/// from the version, so replacing it never changes the generation.
const JOINS: &str = "
CREATE TABLE joins (
    dataset  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (dataset, version),
    FOREIGN KEY (dataset, version) REFERENCES versions(dataset, version)
);
";

/// Datasets in a SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn storage(path: &Path, what: &str, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::new(
        ErrorKind::Storage,
        format!("{}: {what}: {e}", path.display()),
        "check the state directory (disk space, permissions, a file not written by placemap)",
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating if needed) `placemap.sqlite` in `state_dir`, checks its integrity and
    /// brings its schema up to date.
    pub fn open(state_dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(state_dir)
            .map_err(|e| storage(state_dir, "cannot create the state directory", e))?;
        let path = state_dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|e| storage(&path, "cannot open", e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| storage(&path, "busy_timeout", e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| storage(&path, "cannot switch to WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), %mode, "dataset database not in WAL mode");
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(|e| storage(&path, "pragmas", e))?;
        let checked = std::time::Instant::now();
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| storage(&path, "quick_check", e))?;
        if check != "ok" {
            return Err(storage(&path, "integrity check failed", check));
        }
        tracing::debug!(
            ms = checked.elapsed().as_secs_f64() * 1000.0,
            "dataset database checked"
        );
        let store = SqliteStore {
            path: path.clone(),
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        match v {
            0 => {
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(JOINS)?;
                tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
            }
            // Versions stored before joins were kept: joined again at the next start, and
            // their joins stored then.
            1 => {
                tx.execute_batch(JOINS)?;
                tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
            }
            SCHEMA_VERSION => {}
            newer => {
                return Err(storage(
                    &self.path,
                    "schema",
                    format!("version {newer} is newer than this placemap ({SCHEMA_VERSION})"),
                ));
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn versions_of(conn: &Connection, id: &str) -> Result<Vec<VersionInfo>> {
        let mut st = conn.prepare_cached(
            "SELECT version, layer, created FROM versions WHERE dataset = ?1 ORDER BY version",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(VersionInfo {
                version: r.get(0)?,
                layer: r.get(1)?,
                created: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn summary(conn: &Connection, id: &str) -> Result<Option<DatasetSummary>> {
        let row = conn
            .query_row(
                "SELECT id, title, unit, direction, source, licence, created, deleted FROM datasets WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        DatasetMeta {
                            id: r.get(0)?,
                            title: r.get(1)?,
                            unit: r.get(2)?,
                            direction: r.get(3)?,
                            source: r.get(4)?,
                            licence: r.get(5)?,
                        },
                        r.get::<_, i64>(6)?,
                        r.get::<_, bool>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((meta, created, deleted)) = row else {
            return Ok(None);
        };
        let versions = Self::versions_of(conn, id)?;
        Ok(Some(DatasetSummary {
            meta,
            created,
            deleted,
            versions,
        }))
    }
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(StoredVersion, String)> {
    let meta_json: String = r.get(3)?;
    Ok((
        StoredVersion {
            dataset: r.get(0)?,
            version: r.get(1)?,
            layer: r.get(2)?,
            meta: DatasetMeta::default(),
            report: r.get(4)?,
            // BLOB (postcard) since tables are encoded; TEXT (JSON) for older versions.
            table: match r.get_ref(5)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                    b.to_vec()
                }
                _ => Vec::new(),
            },
            created: r.get(6)?,
            join: r.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default(),
        },
        meta_json,
    ))
}

fn with_meta(path: &Path, (mut v, meta): (StoredVersion, String)) -> Result<StoredVersion> {
    v.meta = serde_json::from_str(&meta).map_err(|e| storage(path, "version metadata", e))?;
    Ok(v)
}

/// A version with its stored join (if any): `SELECT {VERSION_COLUMNS} FROM {VERSIONS} ...`.
const VERSION_COLUMNS: &str =
    "v.dataset, v.version, v.layer, v.meta, v.report, v.tbl, v.created, j.data";
/// [`VERSION_COLUMNS`] without the table of a version that has a join: start-up needs the
/// join only (the table is read again, with `version`, if the join no longer fits).
const LIVE_COLUMNS: &str = "v.dataset, v.version, v.layer, v.meta, v.report, CASE WHEN j.data IS NULL THEN v.tbl END, v.created, j.data";
const VERSIONS: &str =
    "versions v LEFT JOIN joins j ON j.dataset = v.dataset AND j.version = v.version";

impl DatasetStore for SqliteStore {
    fn put_version(
        &self,
        new: &NewVersion<'_>,
        create_only: bool,
        max_datasets: usize,
    ) -> Result<u32> {
        let NewVersion {
            meta,
            layer,
            report,
            table,
            join,
        } = *new;
        let meta_json =
            serde_json::to_string(meta).map_err(|e| storage(&self.path, "metadata", e))?;
        let mut conn = self.conn();
        // IMMEDIATE: take the write lock now, so two writers queue (busy_timeout) instead of
        // one failing when it upgrades a read lock.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<bool> = tx
            .query_row(
                "SELECT deleted FROM datasets WHERE id = ?1",
                [&meta.id],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(true) => {
                return Err(DatasetError::new(
                    ErrorKind::Gone,
                    format!("dataset {:?} was deleted", meta.id),
                    "choose another id",
                ));
            }
            Some(false) if create_only => {
                return Err(DatasetError::new(
                    ErrorKind::Conflict,
                    format!("dataset {:?} exists", meta.id),
                    format!(
                        "PUT /datasets/{} adds a version; or choose another id",
                        meta.id
                    ),
                ));
            }
            Some(false) => {
                tx.execute(
                    "UPDATE datasets SET title=?2, unit=?3, direction=?4, source=?5, licence=?6 WHERE id=?1",
                    params![meta.id, meta.title, meta.unit, meta.direction, meta.source, meta.licence],
                )?;
            }
            None => {
                let count: i64 =
                    tx.query_row("SELECT count(*) FROM datasets WHERE deleted = 0", [], |r| {
                        r.get(0)
                    })?;
                if count as usize >= max_datasets {
                    return Err(DatasetError::new(
                        ErrorKind::Conflict,
                        format!("the limit of {max_datasets} datasets is reached"),
                        "delete a dataset, or raise the limit (--max-datasets)",
                    ));
                }
                tx.execute(
                    "INSERT INTO datasets (id, title, unit, direction, source, licence, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![meta.id, meta.title, meta.unit, meta.direction, meta.source, meta.licence, now()],
                )?;
            }
        }
        let version: u32 = tx.query_row(
            "SELECT ifnull(max(version), 0) + 1 FROM versions WHERE dataset = ?1",
            [&meta.id],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO versions (dataset, version, layer, meta, report, tbl, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![meta.id, version, layer, meta_json, report, table, now()],
        )?;
        if !join.is_empty() {
            tx.execute(
                "INSERT INTO joins (dataset, version, data) VALUES (?1, ?2, ?3)",
                params![meta.id, version, join],
            )?;
        }
        tx.execute("UPDATE generation SET n = n + 1", [])?;
        tx.commit()?;
        Ok(version)
    }

    fn list(&self) -> Result<Vec<DatasetSummary>> {
        let conn = self.conn();
        let ids: Vec<String> = {
            let mut st = conn.prepare_cached("SELECT id FROM datasets ORDER BY id")?;
            st.query_map([], |r| r.get(0))?
                .collect::<std::result::Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = Self::summary(&conn, &id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn get(&self, id: &str) -> Result<Option<DatasetSummary>> {
        Self::summary(&self.conn(), id)
    }

    fn version(&self, id: &str, version: Option<u32>) -> Result<Option<StoredVersion>> {
        let conn = self.conn();
        let row = match version {
            Some(n) => conn
                .query_row(
                    &format!("SELECT {VERSION_COLUMNS} FROM {VERSIONS} WHERE v.dataset = ?1 AND v.version = ?2"),
                    params![id, n],
                    version_row,
                )
                .optional()?,
            None => conn
                .query_row(
                    &format!("SELECT {VERSION_COLUMNS} FROM {VERSIONS} WHERE v.dataset = ?1 ORDER BY v.version DESC LIMIT 1"),
                    [id],
                    version_row,
                )
                .optional()?,
        };
        row.map(|r| with_meta(&self.path, r)).transpose()
    }

    fn live_versions(&self) -> Result<Vec<StoredVersion>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {LIVE_COLUMNS} FROM {VERSIONS} WHERE v.dataset IN (SELECT id FROM datasets WHERE deleted = 0) ORDER BY v.dataset, v.version"
        ))?;
        let rows = st
            .query_map([], version_row)?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| with_meta(&self.path, r)).collect()
    }

    fn delete(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE datasets SET deleted = 1 WHERE id = ?1 AND deleted = 0",
            [id],
        )?;
        if n > 0 {
            tx.execute("UPDATE generation SET n = n + 1", [])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    fn put_join(&self, dataset: &str, version: u32, join: &[u8]) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO joins (dataset, version, data) VALUES (?1, ?2, ?3)",
            params![dataset, version, join],
        )?;
        Ok(())
    }

    fn generation(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT n FROM generation", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> DatasetMeta {
        DatasetMeta {
            id: id.into(),
            title: "T".into(),
            ..Default::default()
        }
    }

    fn new<'a>(meta: &'a DatasetMeta, layer: &'a str) -> NewVersion<'a> {
        NewVersion {
            meta,
            layer,
            report: "{}",
            table: b"{}",
            join: b"",
        }
    }

    #[test]
    fn versions_count_up_and_survive_reopen() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| DatasetError::bad(e.to_string(), ""))?;
        {
            let s = SqliteStore::open(dir.path())?;
            assert_eq!(s.put_version(&new(&meta("a"), "lad19"), false, 10)?, 1);
            assert_eq!(s.put_version(&new(&meta("a"), "lad19"), false, 10)?, 2);
            assert!(s.put_version(&new(&meta("a"), "lad19"), true, 10).is_err());
        }
        let s = SqliteStore::open(dir.path())?;
        let g = s.generation()?;
        assert_eq!(s.get("a")?.map(|d| d.versions.len()), Some(2));
        assert_eq!(s.version("a", None)?.map(|v| v.version), Some(2));
        assert!(s.delete("a")?);
        assert!(s.generation()? > g);
        assert!(s.live_versions()?.is_empty());
        let e = s.put_version(&new(&meta("a"), "lad19"), false, 10);
        assert!(matches!(
            e,
            Err(DatasetError {
                kind: ErrorKind::Gone,
                ..
            })
        ));
        Ok(())
    }

    #[test]
    fn dataset_limit_is_enforced() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| DatasetError::bad(e.to_string(), ""))?;
        let s = SqliteStore::open(dir.path())?;
        s.put_version(&new(&meta("a"), "l"), false, 1)?;
        let e = s.put_version(&new(&meta("b"), "l"), false, 1);
        assert!(matches!(
            e,
            Err(DatasetError {
                kind: ErrorKind::Conflict,
                ..
            })
        ));
        Ok(())
    }
}
