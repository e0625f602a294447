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
//!
//! The file has two parts: first the districts' codes, names and attributes with the index (all
//! a point lookup needs, [`crate::prepared::load_for_lookup`]), then the geometry in WGS84 and Web Mercator
//! (two thirds of the bytes), which a batch lookup never reads.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::LayerMeta;
use crate::crs::Crs;
use crate::index::DistrictIndex;
use crate::layer::{AtlasError, Layer};
use crate::model::District;

/// First bytes of every prepared file; the number changes with the layout. The length of the
/// first part follows (8 bytes, little-endian).
const MAGIC: &[u8] = b"placemap prepared layer 2\n";
/// File name extension of prepared layers.
const EXTENSION: &str = "layer";

/// The first part of a prepared file, borrowed for writing.
#[derive(Serialize)]
struct HeadRef<'a> {
    names: Vec<NamedRef<'a>>,
    index: &'a DistrictIndex,
    notes: &'a [String],
    source_crs: Option<Crs>,
}

/// A district without its geometry, borrowed for writing.
#[derive(Serialize)]
struct NamedRef<'a> {
    code: &'a str,
    name: &'a str,
    attributes: &'a [(String, String)],
}

/// The first part of a prepared file, read back (the same fields in the same order).
#[derive(Deserialize)]
struct Head {
    names: Vec<Named>,
    index: DistrictIndex,
    notes: Vec<String>,
    source_crs: Option<Crs>,
}

/// A district without its geometry, read back.
#[derive(Deserialize)]
struct Named {
    code: String,
    name: String,
    attributes: Vec<(String, String)>,
}

/// What a point lookup needs of a layer: each district's code and name, and the index.
#[derive(Debug)]
pub struct Located {
    /// Code and name of each district, in layer order (the index's positions).
    pub districts: Vec<(String, String)>,
    /// The layer's index.
    pub index: std::sync::Arc<DistrictIndex>,
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
    let Some(key) = key(&[meta], &source_files(&data_dir.join(&meta.file))) else {
        return Ok((
            crate::layer::load_districts(meta, data_dir)?,
            Origin::Source,
        ));
    };
    let path = file_of(dir, meta, &key);
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

/// What a point lookup needs of a layer, from the first part of its prepared file only; from
/// the whole layer (then written for next time) when there is no usable prepared file.
pub fn load_for_lookup(
    meta: &LayerMeta,
    data_dir: &Path,
    dir: &Path,
) -> Result<(Located, Origin), AtlasError> {
    if let Some(key) = key(&[meta], &source_files(&data_dir.join(&meta.file))) {
        let path = file_of(dir, meta, &key);
        match read_head(&path) {
            Ok(Some((head, _))) => {
                let districts = head.names.into_iter().map(|n| (n.code, n.name)).collect();
                let located = Located {
                    districts,
                    index: std::sync::Arc::new(head.index),
                };
                return Ok((located, Origin::Prepared));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(
                layer = %meta.id,
                file = %path.display(),
                "prepared layer not used ({e}); loading the source and writing it again"
            ),
        }
    }
    let (layer, origin) = load(meta, data_dir, dir)?;
    Ok((Located::of(&layer), origin))
}

impl Located {
    /// The codes, names and index of a layer already loaded.
    pub fn of(layer: &Layer) -> Located {
        Located {
            districts: layer
                .districts
                .iter()
                .map(|d| (d.code.clone(), d.name.clone()))
                .collect(),
            index: std::sync::Arc::clone(&layer.index),
        }
    }
}

/// A layer's prepared file in `dir` for `key`.
fn file_of(dir: &Path, meta: &LayerMeta, key: &str) -> PathBuf {
    dir.join(format!("{}-{key}.{EXTENSION}", meta.id))
}

/// A layer made by merging another's districts ([`crate::layer::merge_districts`]: an exact
/// dissolve, then the index and projection), from its prepared file when the base layer's
/// sources, both catalogue entries and the merge lookup are unchanged. The lineage (which old
/// code became which district) is always read from the lookup: it is small.
pub fn load_merged(
    meta: &LayerMeta,
    base_meta: &LayerMeta,
    base: &Layer,
    data_dir: &Path,
    dir: &Path,
) -> Result<(Layer, Origin), AtlasError> {
    let mut files = source_files(&data_dir.join(&base_meta.file));
    if let Some(m) = &meta.merge {
        files.push(data_dir.join(&m.lookup));
    }
    let Some(key) = key(&[meta, base_meta], &files) else {
        let layer = crate::layer::merge_districts(meta, base, data_dir)?;
        return Ok((layer, Origin::Source));
    };
    let path = file_of(dir, meta, &key);
    match read(meta, &path) {
        Ok(Some(mut layer)) => {
            layer.lineage = Some(crate::layer::merge_lineage(meta, data_dir)?);
            tracing::debug!(layer = %meta.id, file = %path.display(), "prepared merged layer read");
            return Ok((layer, Origin::Prepared));
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(
            layer = %meta.id,
            file = %path.display(),
            "prepared layer not used ({e}); merging again and writing it again"
        ),
    }
    let layer = crate::layer::merge_districts(meta, base, data_dir)?;
    match write(&layer, &path) {
        Ok(()) => remove_older(dir, &meta.id, &path),
        Err(e) => tracing::warn!(
            layer = %meta.id,
            dir = %dir.display(),
            "prepared layer not written ({e}); the next start merges again"
        ),
    }
    Ok((layer, Origin::Source))
}

/// The running program's size and modification time (16 + 8 bytes): part of the key of
/// anything it derives and keeps (prepared layers, the joins stored with uploaded datasets),
/// so a rebuilt or upgraded program never reads what an older one derived.
pub fn program_identity() -> Option<[u8; 24]> {
    let exe = std::env::current_exe().ok()?.metadata().ok()?;
    let modified = exe
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&modified.as_nanos().to_le_bytes());
    out[16..].copy_from_slice(&exe.len().to_le_bytes());
    Some(out)
}

/// The key of a prepared file: SHA-256 over the program, the catalogue entries and the source
/// files, as 32 hex digits. `None` when a source file or the program cannot be read (the layer
/// is then loaded without a prepared file, and the source's own error reported).
fn key(metas: &[&LayerMeta], files: &[PathBuf]) -> Option<String> {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(program_identity()?);
    for meta in metas {
        h.update(format!("{meta:?}").as_bytes());
    }
    for file in files {
        let mut f = std::fs::File::open(file).ok()?;
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

/// Opens a prepared file and reads its first part, checked: `Ok(None)` when there is no file,
/// an error when it is unusable. The file is left positioned at the second part.
fn read_head(path: &Path) -> Result<Option<(Head, std::fs::File)>, String> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut start = vec![0u8; MAGIC.len() + 8];
    file.read_exact(&mut start)
        .map_err(|e| format!("cannot read its header: {e}"))?;
    if &start[..MAGIC.len()] != MAGIC {
        return Err("not a prepared layer of this version".into());
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&start[MAGIC.len()..]);
    let len = usize::try_from(u64::from_le_bytes(len)).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    if u64::try_from(len + start.len()).map_err(|e| e.to_string())? > size {
        return Err("first part longer than the file".into());
    }
    let mut bytes = vec![0u8; len];
    file.read_exact(&mut bytes)
        .map_err(|e| format!("cannot read its first part: {e}"))?;
    let head: Head = postcard::from_bytes(&bytes).map_err(|e| format!("cannot decode: {e}"))?;
    let index = head.index.checked(head.names.len())?;
    Ok(Some((Head { index, ..head }, file)))
}

/// Reads a whole prepared file: `Ok(None)` when there is none, an error when it is unusable.
fn read(meta: &LayerMeta, path: &Path) -> Result<Option<Layer>, String> {
    let Some((head, mut file)) = read_head(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read its geometry: {e}"))?;
    let geometry: Vec<(crate::geometry::Wgs84, crate::geometry::Mercator)> =
        postcard::from_bytes(&bytes).map_err(|e| format!("cannot decode its geometry: {e}"))?;
    if geometry.len() != head.names.len() {
        return Err(format!(
            "{} geometries for {} districts",
            geometry.len(),
            head.names.len()
        ));
    }
    let districts: Vec<District> = head
        .names
        .into_iter()
        .zip(geometry)
        .map(|(n, (wgs84, mercator))| District {
            code: n.code,
            name: n.name,
            wgs84,
            mercator,
            attributes: n.attributes,
        })
        .collect();
    let mut layer = Layer::new(meta.clone(), districts, Vec::new(), head.index, head.notes);
    layer.source_crs = head.source_crs;
    Ok(Some(layer))
}

/// Writes a layer's prepared file whole or not at all (a temporary file in the same
/// directory, then a rename).
fn write(layer: &Layer, path: &Path) -> Result<(), String> {
    let dir = path.parent().ok_or("no directory")?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let head = HeadRef {
        names: layer
            .districts
            .iter()
            .map(|d| NamedRef {
                code: &d.code,
                name: &d.name,
                attributes: &d.attributes,
            })
            .collect(),
        index: &layer.index,
        notes: &layer.load_notes,
        source_crs: layer.source_crs,
    };
    let head = postcard::to_stdvec(&head).map_err(|e| e.to_string())?;
    let geometry: Vec<_> = layer
        .districts
        .iter()
        .map(|d| (&d.wgs84, &d.mercator))
        .collect();
    let geometry = postcard::to_stdvec(&geometry).map_err(|e| e.to_string())?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    tmp.write_all(MAGIC).map_err(|e| e.to_string())?;
    tmp.write_all(&(head.len() as u64).to_le_bytes())
        .map_err(|e| e.to_string())?;
    tmp.write_all(&head).map_err(|e| e.to_string())?;
    tmp.write_all(&geometry).map_err(|e| e.to_string())?;
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
