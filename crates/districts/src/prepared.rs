//! Prepared layers: a boundary layer as loading leaves it (read, reprojected to WGS84, projected
//! to Web Mercator, repaired where the catalogue says, indexed) kept in one binary file, so the
//! next process reads it instead of parsing and indexing the source again. Reading the LSOA
//! layer's 15 MB of GeoJSON and building its index is most of a batch lookup's time; the
//! prepared file is decoded in a fraction of that.
//!
//! A prepared file is named after the layer and a SHA-256 key over everything its content
//! depends on: the source file's bytes (and a Shapefile's sidecar files), the catalogue entry,
//! and the running program itself (its size and modification time, so a rebuilt program never
//! reads a file an older build wrote in another layout). Anything else is a miss: the layer is
//! loaded from its source as before and the file written for next time (temporary file, then
//! rename, so a reader sees the whole file or none; older files of the layer are removed). A
//! file that cannot be read, decoded or checked ([`crate::index::DistrictIndex`]'s bounds) is
//! logged and replaced; a directory that cannot be written only costs the speed-up.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::LayerMeta;
use crate::crs::Crs;
use crate::index::DistrictIndex;
use crate::layer::{AtlasError, Layer};
use crate::model::District;

/// First bytes of every prepared file; the number changes with the layout.
const MAGIC: &[u8] = b"placemap prepared layer 1\n";
/// File name extension of prepared layers.
const EXTENSION: &str = "layer";

/// What a prepared file holds, borrowed for writing.
#[derive(Serialize)]
struct Stored<'a> {
    districts: &'a [District],
    index: &'a DistrictIndex,
    notes: &'a [String],
    source_crs: Option<Crs>,
}

/// What a prepared file holds, owned for reading (the same fields in the same order).
#[derive(Deserialize)]
struct Owned {
    districts: Vec<District>,
    index: DistrictIndex,
    notes: Vec<String>,
    source_crs: Option<Crs>,
}

/// Whether a layer came from its prepared file or from its source, for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Read from the prepared file.
    Prepared,
    /// Loaded from the source file (the prepared file was written, if it could be).
    Source,
}

/// Loads a boundary layer from its prepared file in `dir`, or from its source when there is
/// none that matches (then writes one). Errors are the source's: a prepared file is never the
/// reason a layer fails to load.
pub fn load(meta: &LayerMeta, data_dir: &Path, dir: &Path) -> Result<(Layer, Origin), AtlasError> {
    let Some(key) = key(meta, data_dir) else {
        return Ok((
            crate::layer::load_districts(meta, data_dir)?,
            Origin::Source,
        ));
    };
    let path = dir.join(format!("{}-{key}.{EXTENSION}", meta.id));
    match read(meta, &path) {
        Ok(Some(layer)) => {
            tracing::debug!(layer = %meta.id, file = %path.display(), "prepared layer read");
            return Ok((layer, Origin::Prepared));
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(
            layer = %meta.id,
            file = %path.display(),
            "prepared layer not used ({e}); loading the source and writing it again"
        ),
    }
    let layer = crate::layer::load_districts(meta, data_dir)?;
    match write(&layer, &path) {
        Ok(()) => remove_older(dir, &meta.id, &path),
        Err(e) => tracing::warn!(
            layer = %meta.id,
            dir = %dir.display(),
            "prepared layer not written ({e}); the next start loads the source again"
        ),
    }
    Ok((layer, Origin::Source))
}

/// The key of a layer's prepared file: SHA-256 over the program, the catalogue entry and the
/// source files, as 32 hex digits. `None` when a source file or the program cannot be read
/// (the layer is then loaded without a prepared file, and the source's own error reported).
fn key(meta: &LayerMeta, data_dir: &Path) -> Option<String> {
    let mut h = Sha256::new();
    h.update(MAGIC);
    let exe = std::env::current_exe().ok()?.metadata().ok()?;
    let modified = exe
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    h.update(exe.len().to_le_bytes());
    h.update(modified.as_nanos().to_le_bytes());
    h.update(format!("{meta:?}").as_bytes());
    for file in source_files(&data_dir.join(&meta.file)) {
        let mut f = std::fs::File::open(&file).ok()?;
        let mut buf = vec![0u8; 1 << 20];
        h.update(file.file_name()?.as_encoded_bytes());
        loop {
            let n = f.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    let digest = h.finalize();
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// The files a boundary layer is read from: the file itself, and for a Shapefile the sidecar
/// files beside it that exist (index, attributes, projection, code page).
fn source_files(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    let is_shp = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
    if is_shp {
        files.extend(
            ["shx", "dbf", "prj", "cpg"]
                .iter()
                .map(|ext| path.with_extension(ext))
                .filter(|p| p.is_file()),
        );
    }
    files
}

/// Reads a prepared file: `Ok(None)` when there is none, an error when it is unusable.
fn read(meta: &LayerMeta, path: &Path) -> Result<Option<Layer>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let body = bytes
        .strip_prefix(MAGIC)
        .ok_or("not a prepared layer of this version")?;
    let stored: Owned = postcard::from_bytes(body).map_err(|e| format!("cannot decode: {e}"))?;
    let index = stored.index.checked(stored.districts.len())?;
    let mut layer = Layer::new(
        meta.clone(),
        stored.districts,
        Vec::new(),
        index,
        stored.notes,
    );
    layer.source_crs = stored.source_crs;
    Ok(Some(layer))
}

/// Writes a layer's prepared file whole or not at all (a temporary file in the same
/// directory, then a rename).
fn write(layer: &Layer, path: &Path) -> Result<(), String> {
    let dir = path.parent().ok_or("no directory")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let stored = Stored {
        districts: &layer.districts,
        index: &layer.index,
        notes: &layer.load_notes,
        source_crs: layer.source_crs,
    };
    let body = postcard::to_stdvec(&stored).map_err(|e| e.to_string())?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    tmp.write_all(MAGIC).map_err(|e| e.to_string())?;
    tmp.write_all(&body).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.to_string())?;
    Ok(())
}

/// Removes the layer's other prepared files (older sources, catalogue entries or programs).
fn remove_older(dir: &Path, layer: &str, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{layer}-");
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(&prefix)
            && name.ends_with(&format!(".{EXTENSION}"))
            // Another layer whose id starts with this one's (`lad19` and `lad19-x`) has
            // more than a 32-digit key after the prefix.
            && name.len() == prefix.len() + 32 + 1 + EXTENSION.len();
        if ours && path != keep {
            let _ = std::fs::remove_file(&path);
        }
    }
}
