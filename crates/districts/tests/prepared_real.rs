//! Prepared layers ([`districts::prepared`]) on the real boundary files: a layer read back
//! from its prepared file is the layer loaded from the source (same districts, geometry,
//! notes and lookup answers); a damaged file is replaced, and a changed source is a miss.

use std::path::Path;

use districts::catalog::{Catalog, LayerMeta};
use districts::prepared::{Origin, load};
use test_support::{catalog_path, data_dir};

fn meta(id: &str) -> LayerMeta {
    let catalog = Catalog::load(&catalog_path(), &data_dir()).expect("catalogue loads");
    catalog.layer(id).expect("layer in catalogue").clone()
}

/// The layer from `dir`, and where it came from.
fn load_from(meta: &LayerMeta, data: &Path, dir: &Path) -> (districts::Layer, Origin) {
    load(meta, data, dir).expect("layer loads")
}

fn assert_same(a: &districts::Layer, b: &districts::Layer) {
    assert_eq!(a.districts.len(), b.districts.len());
    for (x, y) in a.districts.iter().zip(b.districts.iter()) {
        assert_eq!(x.code, y.code);
        assert_eq!(x.name, y.name);
        assert_eq!(x.attributes, y.attributes);
        assert_eq!(x.wgs84, y.wgs84, "{}", x.code);
        assert_eq!(x.mercator, y.mercator, "{}", x.code);
    }
    assert_eq!(a.load_notes, b.load_notes);
    assert_eq!(a.source_crs, b.source_crs);
    // Every lookup on a fine grid over England and Wales, and the tile-query candidates.
    let mut found = 0;
    for i in 0..200 {
        for j in 0..200 {
            let (lon, lat) = (
                -6.0 + 8.0 * f64::from(i) / 200.0,
                49.9 + 6.0 * f64::from(j) / 200.0,
            );
            let answer = a.index.lookup(lon, lat);
            assert_eq!(answer, b.index.lookup(lon, lat), "lookup at {lon}, {lat}");
            found += usize::from(answer.is_some());
        }
    }
    assert!(found > 5_000, "the grid hits districts ({found})");
    assert_eq!(
        a.index.candidates_in_bbox(-1.7, 54.5, -1.1, 55.0),
        b.index.candidates_in_bbox(-1.7, 54.5, -1.1, 55.0)
    );
}

#[test]
fn a_prepared_layer_is_the_layer_loaded_from_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    // LSOA 2011 (GeoJSON, seven listed invalid geometries repaired) and MSOA 2011 (Shapefile
    // in British National Grid, read with its .prj).
    for id in ["lsoa11", "msoa11"] {
        let meta = meta(id);
        let (source, origin) = load_from(&meta, &data_dir(), dir.path());
        assert_eq!(origin, Origin::Source, "{id}: nothing prepared yet");
        let (prepared, origin) = load_from(&meta, &data_dir(), dir.path());
        assert_eq!(
            origin,
            Origin::Prepared,
            "{id}: read from the prepared file"
        );
        assert_same(&source, &prepared);
        let plain = districts::layer::load_districts(&meta, &data_dir()).expect("loads");
        assert_same(&plain, &prepared);
    }
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "one file per layer, no temporary left: {files:?}"
    );
}

#[test]
fn a_damaged_prepared_file_is_replaced_and_a_changed_source_is_a_miss() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp data dir");
    let meta = meta("lad19");
    let source = data.path().join(&meta.file);
    std::fs::copy(data_dir().join(&meta.file), &source).expect("copy the boundary file");
    let (fresh, _) = load_from(&meta, data.path(), dir.path());
    let prepared = || -> std::path::PathBuf {
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0)
    };
    let first = prepared();
    // Cut short, then overwritten in the middle: neither is trusted, both are rewritten.
    let bytes = std::fs::read(&first).expect("read");
    std::fs::write(&first, &bytes[..bytes.len() / 2]).expect("truncate");
    let (layer, origin) = load_from(&meta, data.path(), dir.path());
    assert_eq!(origin, Origin::Source, "a truncated file is not used");
    assert_same(&fresh, &layer);
    assert_eq!(std::fs::read(&first).expect("rewritten"), bytes);
    let mut garbled = bytes.clone();
    let mid = garbled.len() / 2;
    for b in &mut garbled[mid..mid + 4096] {
        *b = 0xff;
    }
    std::fs::write(&first, &garbled).expect("garble");
    let (layer, origin) = load_from(&meta, data.path(), dir.path());
    assert_eq!(origin, Origin::Source, "a garbled file is not used");
    assert_same(&fresh, &layer);
    assert_eq!(
        load_from(&meta, data.path(), dir.path()).1,
        Origin::Prepared
    );
    // The source changes (a trailing newline is still the same boundaries): a new key, the
    // old file removed.
    let mut text = std::fs::read(&source).expect("read source");
    text.push(b'\n');
    std::fs::write(&source, text).expect("write source");
    assert_eq!(load_from(&meta, data.path(), dir.path()).1, Origin::Source);
    let second = prepared();
    assert_ne!(first, second, "a changed source gets a new prepared file");
    assert_eq!(
        load_from(&meta, data.path(), dir.path()).1,
        Origin::Prepared
    );
}

#[test]
fn an_unwritable_cache_costs_only_the_speed_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"not a directory").expect("write");
    let meta = meta("lad19");
    let (layer, origin) = load_from(&meta, &data_dir(), &blocker.join("layers"));
    assert_eq!(origin, Origin::Source);
    assert_eq!(layer.districts.len(), 382);
}
