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
//! The file has three parts, each after its length: the districts' codes, names and attributes
//! with the load notes; the index (with the first part, all a point lookup needs,
//! [`crate::prepared::load_for_lookup`]); then the geometry in WGS84 and Web Mercator, one record
//! per district, which a batch lookup never reads. The geometry is decoded district by district
//! (one record in memory at a time, never the whole part), and a command that needs no index
//! ([`crate::layer::LookupIndex::Skipped`]) steps over it unread.

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::LayerMeta;
use crate::crs::Crs;
use crate::geometry::{Mercator, Wgs84};
use crate::index::DistrictIndex;
use crate::layer::{AtlasError, Layer, LookupIndex};
use crate::model::District;

/// First bytes of every prepared file; the number changes with the layout. The length of the
/// first part follows (8 bytes, little-endian), then that part, the length of the index and
/// the index, then per district the length of its geometry (4 bytes, little-endian) and the
/// geometry.
const MAGIC: &[u8] = b"placemap prepared layer 3\n";
/// File name extension of prepared layers.
const EXTENSION: &str = "layer";

/// The first part of a prepared file, borrowed for writing.
#[derive(Serialize)]
struct HeadRef<'a> {
    names: Vec<NamedRef<'a>>,
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
    load_with(meta, data_dir, dir, LookupIndex::Built)
}

/// [`load`], with or without the lookup index. Without it, the index part of the prepared file
/// is not read; a layer loaded from its source still gets the index for the file it writes
/// (whole, for the next command), then drops it.
pub fn load_with(
    meta: &LayerMeta,
    data_dir: &Path,
    dir: &Path,
    index: LookupIndex,
) -> Result<(Layer, Origin), AtlasError> {
    let Some(key) = key(&[meta], &source_files(&data_dir.join(&meta.file))) else {
        return Ok((
            crate::layer::load_districts_with(meta, data_dir, index)?,
            Origin::Source,
        ));
    };
    let path = file_of(dir, meta, &key);
    match read(meta, &path, index) {
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
    let mut layer = crate::layer::load_districts(meta, data_dir)?;
    match write(&layer, &path) {
        Ok(()) => remove_older(dir, &meta.id, &path),
        Err(e) => tracing::warn!(
            layer = %meta.id,
            dir = %dir.display(),
            "prepared layer not written ({e}); the next start loads the source again"
        ),
    }
    if index == LookupIndex::Skipped {
        layer.index = std::sync::Arc::new(DistrictIndex::empty());
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
        match read_head(&path, LookupIndex::Built) {
            Ok(Some((head, Some(index)))) => {
                let districts = head.names.into_iter().map(|n| (n.code, n.name)).collect();
                let located = Located {
                    districts,
                    index: std::sync::Arc::new(index),
                };
                return Ok((located, Origin::Prepared));
            }
            Ok(Some((_, None))) => {}
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
    load_merged_with(meta, base_meta, base, data_dir, dir, LookupIndex::Built)
}

/// [`load_merged`], with or without the lookup index (as for [`load_with`]).
pub fn load_merged_with(
    meta: &LayerMeta,
    base_meta: &LayerMeta,
    base: &Layer,
    data_dir: &Path,
    dir: &Path,
    index: LookupIndex,
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
    match read(meta, &path, index) {
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
    let mut layer = crate::layer::merge_districts(meta, base, data_dir)?;
    match write(&layer, &path) {
        Ok(()) => remove_older(dir, &meta.id, &path),
        Err(e) => tracing::warn!(
            layer = %meta.id,
            dir = %dir.display(),
            "prepared layer not written ({e}); the next start merges again"
        ),
    }
    if index == LookupIndex::Skipped {
        layer.index = std::sync::Arc::new(DistrictIndex::empty());
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

/// A prepared file being read, part by part, with the bytes it has left.
struct Opened<R> {
    file: R,
    left: u64,
}

impl<R: Read + Seek> Opened<R> {
    /// Reads `buf.len()` bytes; `what` names them when the file ends first.
    fn fill(&mut self, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<(), String> {
        let n = buf.len() as u64;
        if n > self.left {
            return Err(format!("{} is cut short", what()));
        }
        self.file
            .read_exact(buf)
            .map_err(|e| format!("cannot read {}: {e}", what()))?;
        self.left -= n;
        Ok(())
    }

    /// The length before a part (`width` bytes, little-endian), checked against what is left.
    fn length(&mut self, width: usize, what: &dyn Fn() -> String) -> Result<usize, String> {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes[..width], &|| format!("the length of {}", what()))?;
        let len = u64::from_le_bytes(bytes);
        if len > self.left {
            return Err(format!(
                "{} says {len} bytes, more than the {} left in the file",
                what(),
                self.left
            ));
        }
        usize::try_from(len).map_err(|e| format!("{}: {e}", what()))
    }

    /// A part after its 8-byte length, whole.
    fn part(&mut self, what: &dyn Fn() -> String) -> Result<Vec<u8>, String> {
        let len = self.length(8, what)?;
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes, what)?;
        Ok(bytes)
    }

    /// Steps over a part after its 8-byte length, unread.
    fn skip_part(&mut self, what: &dyn Fn() -> String) -> Result<(), String> {
        let len = self.length(8, what)?;
        let step = i64::try_from(len).map_err(|e| format!("{}: {e}", what()))?;
        self.file
            .seek(SeekFrom::Current(step))
            .map_err(|e| format!("cannot step over {}: {e}", what()))?;
        self.left -= len as u64;
        Ok(())
    }

    /// The geometry of district `i` of `n` (its record read into `buf`, reused from one
    /// district to the next), which must hold exactly that.
    fn geometry(
        &mut self,
        buf: &mut Vec<u8>,
        i: usize,
        n: usize,
        code: &str,
    ) -> Result<(Wgs84, Mercator), String> {
        let what = || format!("the geometry of district {} of {n} ({code})", i + 1);
        let len = self.length(4, &what)?;
        buf.clear();
        buf.resize(len, 0);
        self.fill(buf, &what)?;
        decode_whole(buf, &what())
    }

    /// The first part and the index (`None` when `index` says it is not wanted: stepped
    /// over, unread), checked; the file is left at the geometry.
    fn head(&mut self, index: LookupIndex) -> Result<(Head, Option<DistrictIndex>), String> {
        let mut magic = vec![0u8; MAGIC.len()];
        self.fill(&mut magic, &|| "its header".into())?;
        if magic != MAGIC {
            return Err("not a prepared layer of this version".into());
        }
        let bytes = self.part(&|| "its first part".into())?;
        let head: Head = decode_whole(&bytes, "its first part")?;
        drop(bytes);
        let index = match index {
            LookupIndex::Built => {
                let bytes = self.part(&|| "its index".into())?;
                let index: DistrictIndex = decode_whole(&bytes, "its index")?;
                Some(index.checked(head.names.len())?)
            }
            LookupIndex::Skipped => {
                self.skip_part(&|| "its index".into())?;
                None
            }
        };
        Ok((head, index))
    }

    /// The whole layer (with or without its index), the geometry district by district.
    fn layer(mut self, meta: &LayerMeta, index: LookupIndex) -> Result<Layer, String> {
        let (head, read_index) = self.head(index)?;
        let n = head.names.len();
        let mut districts: Vec<District> = Vec::with_capacity(n);
        let mut buf = Vec::new();
        for (i, name) in head.names.into_iter().enumerate() {
            let (wgs84, mercator) = self.geometry(&mut buf, i, n, &name.code)?;
            districts.push(District {
                code: name.code,
                name: name.name,
                wgs84,
                mercator,
                attributes: name.attributes,
            });
        }
        if self.left > 0 {
            return Err(format!(
                "{} bytes after the last district's geometry",
                self.left
            ));
        }
        let index = read_index.unwrap_or_else(DistrictIndex::empty);
        let mut layer = Layer::new(meta.clone(), districts, Vec::new(), index, head.notes);
        layer.source_crs = head.source_crs;
        Ok(layer)
    }
}

/// Decodes a part that must hold exactly one value (bytes left over mean a damaged file).
fn decode_whole<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    let (value, rest) =
        postcard::take_from_bytes(bytes).map_err(|e| format!("cannot decode {what}: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{what} has {} bytes after its end", rest.len()));
    }
    Ok(value)
}

/// Opens a prepared file for reading: `Ok(None)` when there is none.
fn open(path: &Path) -> Result<Option<Opened<BufReader<std::fs::File>>>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let left = file.metadata().map_err(|e| e.to_string())?.len();
    Ok(Some(Opened {
        file: BufReader::with_capacity(1 << 16, file),
        left,
    }))
}

/// The first part and the index of a prepared file ([`Opened::head`]): `Ok(None)` when there
/// is no file, an error naming the file and what is wrong with it when it is unusable.
fn read_head(
    path: &Path,
    index: LookupIndex,
) -> Result<Option<(Head, Option<DistrictIndex>)>, String> {
    let named = |e: String| format!("{}: {e}", path.display());
    match open(path).map_err(named)? {
        Some(mut opened) => opened.head(index).map(Some).map_err(named),
        None => Ok(None),
    }
}

/// A whole prepared file ([`Opened::layer`]): `Ok(None)` when there is none, an error naming
/// the file and what is wrong with it when it is unusable.
fn read(meta: &LayerMeta, path: &Path, index: LookupIndex) -> Result<Option<Layer>, String> {
    let named = |e: String| format!("{}: {e}", path.display());
    match open(path).map_err(named)? {
        Some(opened) => opened.layer(meta, index).map(Some).map_err(named),
        None => Ok(None),
    }
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
        notes: &layer.load_notes,
        source_crs: layer.source_crs,
    };
    let head = postcard::to_stdvec(&head).map_err(|e| e.to_string())?;
    let index = postcard::to_stdvec(&*layer.index).map_err(|e| e.to_string())?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| e.to_string())?;
    {
        let mut out = BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        let mut put = |bytes: &[u8]| out.write_all(bytes).map_err(|e| e.to_string());
        put(MAGIC)?;
        put(&(head.len() as u64).to_le_bytes())?;
        put(&head)?;
        put(&(index.len() as u64).to_le_bytes())?;
        put(&index)?;
        for d in layer.districts.iter() {
            let record =
                postcard::to_stdvec(&(&d.wgs84, &d.mercator)).map_err(|e| e.to_string())?;
            let len = u32::try_from(record.len())
                .map_err(|_| format!("the geometry of {} is over 4 GB", d.code))?;
            put(&len.to_le_bytes())?;
            put(&record)?;
        }
        out.flush().map_err(|e| e.to_string())?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{MultiPolygon, polygon};

    fn meta(id: &str) -> LayerMeta {
        let catalog =
            crate::catalog::Catalog::load(&test_support::catalog_path(), &test_support::data_dir())
                .expect("catalogue loads");
        catalog.layer(id).expect("layer in catalogue").clone()
    }

    /// Two squares sharing a side, with notes and a CRS: a file of a few hundred bytes, small
    /// enough to damage at every byte.
    fn two_squares() -> Layer {
        let square = |x: f64| {
            Wgs84(MultiPolygon(vec![polygon![
                (x: x, y: 50.0), (x: x + 1.0, y: 50.0), (x: x + 1.0, y: 51.0), (x: x, y: 51.0)
            ]]))
        };
        let geoms = [square(0.0), square(1.0)];
        let index = DistrictIndex::build(&geoms);
        let districts = geoms
            .into_iter()
            .enumerate()
            .map(|(i, wgs84)| District {
                code: format!("E0{i}"),
                name: format!("Square {i}"),
                mercator: wgs84.to_mercator(),
                wgs84,
                attributes: vec![("region_name".into(), "North East".into())],
            })
            .collect();
        let mut layer = Layer::new(
            meta("lad19"),
            districts,
            Vec::new(),
            index,
            vec!["a note".into()],
        );
        layer.source_crs = Some(Crs::Wgs84);
        layer
    }

    fn assert_same_districts(a: &Layer, b: &Layer) {
        assert_eq!(a.districts.len(), b.districts.len());
        for (x, y) in a.districts.iter().zip(b.districts.iter()) {
            assert_eq!(
                (&x.code, &x.name, &x.attributes),
                (&y.code, &y.name, &y.attributes)
            );
            assert_eq!(x.wgs84, y.wgs84, "{}", x.code);
            assert_eq!(x.mercator, y.mercator, "{}", x.code);
        }
        assert_eq!(a.load_notes, b.load_notes);
        assert_eq!(a.source_crs, b.source_crs);
    }

    #[test]
    fn a_layer_is_read_back_district_by_district_with_or_without_its_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let meta = meta("lad19");
        let layer = crate::layer::load_districts(&meta, &test_support::data_dir()).expect("loads");
        let path = dir.path().join("lad19.layer");
        write(&layer, &path).expect("written");
        let full = read(&meta, &path, LookupIndex::Built)
            .expect("reads")
            .expect("a file");
        let lean = read(&meta, &path, LookupIndex::Skipped)
            .expect("reads")
            .expect("a file");
        assert_same_districts(&layer, &full);
        assert_same_districts(&layer, &lean);
        // Hartlepool, looked up with the index read back; the lean layer has none.
        let hartlepool = layer.position("E06000001");
        assert!(hartlepool.is_some());
        assert_eq!(full.index.lookup(-1.21, 54.68), hartlepool);
        assert_eq!(lean.index.lookup(-1.21, 54.68), None);
        assert!(
            read(&meta, &dir.path().join("none.layer"), LookupIndex::Built)
                .expect("no error")
                .is_none(),
            "no file is no layer, not an error"
        );
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it_never_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let layer = two_squares();
        let path = dir.path().join("squares.layer");
        write(&layer, &path).expect("written");
        let bytes = std::fs::read(&path).expect("read");
        let back = read(&layer.meta, &path, LookupIndex::Built)
            .expect("reads")
            .expect("a file");
        assert_same_districts(&layer, &back);
        // From memory, every damage below (a file written for each would take a minute).
        let from = |content: &[u8], index| {
            let opened = Opened {
                file: std::io::Cursor::new(content),
                left: content.len() as u64,
            };
            opened.layer(&layer.meta, index)
        };
        let fails = |content: &[u8], why: &str| {
            for index in [LookupIndex::Built, LookupIndex::Skipped] {
                if let Ok(l) = from(content, index) {
                    panic!("{why} ({index:?}): read as {} districts", l.districts.len());
                }
            }
        };
        // Cut short anywhere: in the header, a length, a part, between or in a record.
        for cut in 0..bytes.len() {
            fails(&bytes[..cut], &format!("cut at {cut} of {}", bytes.len()));
        }
        // Bytes after the last district.
        fails(&[&bytes[..], b"x"].concat(), "one byte too many");
        // A first part, index or record claiming more than the file holds is refused before
        // anything that size is allocated.
        let length_at = |at: usize| -> usize {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            usize::try_from(u64::from_le_bytes(b)).expect("a length")
        };
        let index_at = MAGIC.len() + 8 + length_at(MAGIC.len());
        let record_at = index_at + 8 + length_at(index_at);
        for (at, width) in [(MAGIC.len(), 8), (index_at, 8), (record_at, 4)] {
            let mut huge = bytes.clone();
            for b in &mut huge[at..at + width] {
                *b = 0xff;
            }
            fails(&huge, &format!("a length of all ones at {at}"));
        }
        // Any byte garbled: an error or a layer of the same districts, never a panic.
        for at in 0..bytes.len() {
            let mut garbled = bytes.clone();
            garbled[at] ^= 0xa5;
            for index in [LookupIndex::Built, LookupIndex::Skipped] {
                if let Ok(l) = from(&garbled, index) {
                    assert_eq!(l.districts.len(), 2, "garbled at {at}");
                }
            }
        }
        // A damaged file on disk: the error names it (the warning that the source is loaded
        // instead says which file).
        let shown = path.display().to_string();
        for damaged in [&bytes[..bytes.len() / 2], &[&bytes[..], b"x"].concat()[..]] {
            std::fs::write(&path, damaged).expect("write");
            for index in [LookupIndex::Built, LookupIndex::Skipped] {
                let e = read(&layer.meta, &path, index).expect_err("damaged");
                assert!(e.starts_with(&shown), "{e}");
            }
            let e = read_head(&path, LookupIndex::Built);
            if damaged.len() < bytes.len() {
                assert!(e.is_err_and(|e| e.starts_with(&shown)));
            }
        }
    }
}
