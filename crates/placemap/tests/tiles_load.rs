//! `placemap tiles` reads only the tables of the indicators it writes
//! (`LoadOptions::only_indicators`, issue 11: lad19 z0-10 went from about 1 s to 0.1 s and
//! from 250 MB to 35 MB), and the values are those of a full load: where a merged district
//! waits for recombination weights (IMD 2019 scores on the 2023 districts), everything it
//! needs is loaded as before. It also leaves out the lookup index and builds the zoom bands one
//! at a time (the archive's peak memory), and writes the archive the full state writes.

use districts::layer::PeriodValues;
use maps::Loaded;
use maps::loaded::LoadOptions;

fn catalog() -> districts::catalog::Catalog {
    districts::catalog::Catalog::load(&test_support::catalog_path(), &test_support::data_dir())
        .expect("catalogue")
}

fn values(loaded: &Loaded, layer: &str, id: &str) -> Vec<(String, Option<f64>)> {
    let layer = loaded.layer(layer).expect("layer");
    let ind = loaded.indicator(layer, id).expect("indicator");
    let Some(PeriodValues::Numeric(v)) = ind.period(&ind.default_period).map(|p| &p.values) else {
        panic!("{id} is numeric");
    };
    layer
        .districts
        .iter()
        .zip(v.iter())
        .map(|(d, v)| (d.code.clone(), *v))
        .collect()
}

fn load(catalog: &districts::catalog::Catalog, layer: &str, lean: bool) -> Loaded {
    let ids = vec!["imd_score".to_string()];
    let opts = if lean {
        LoadOptions {
            layers: vec![layer.into()],
            only_indicators: Some(ids),
            ..LoadOptions::default()
        }
    } else {
        LoadOptions {
            layers: catalog.layers_for(layer, Some(&ids)),
            ..LoadOptions::default()
        }
    };
    Loaded::load(catalog, &opts).expect("loads")
}

#[test]
fn one_indicator_reads_only_its_table_and_gives_the_full_loads_values() {
    let catalog = catalog();
    let lean = load(&catalog, "lad19", true);
    let full = load(&catalog, "lad19", false);
    // Lean: lad19 alone, the IMD table's indicators only, no lookups.
    assert_eq!(lean.atlas.layer_ids(), ["lad19"]);
    assert!(lean.lookups.is_empty());
    let lad19 = lean.layer("lad19").expect("lad19");
    assert!(lad19.indicator("imd_score").is_some());
    assert!(lad19.indicators.len() < full.layer("lad19").expect("lad19").indicators.len());
    assert!(full.atlas.layer("lsoa11").is_some() && !full.lookups.is_empty());
    let v = values(&lean, "lad19", "imd_score");
    assert_eq!(v, values(&full, "lad19", "imd_score"));
    // Hartlepool, IMD 2019 File 10.
    assert!(v.contains(&("E06000001".into(), Some(35.037))));
}

#[test]
fn a_recombination_waiting_for_weights_loads_what_it_needs() {
    let catalog = catalog();
    let lean = load(&catalog, "lad23", true);
    let full = load(&catalog, "lad23", false);
    // The weights (population on lad19, from the LSOAs) were loaded.
    assert!(lean.atlas.layer("lsoa11").is_some());
    let v = values(&lean, "lad23", "imd_score");
    assert_eq!(v, values(&full, "lad23", "imd_score"));
    // Cumberland (2023, merged from Allerdale, Carlisle and Copeland) has a recombined value.
    let cumberland = v
        .iter()
        .find(|(c, _)| c == "E06000063")
        .expect("Cumberland");
    assert!(cumberland.1.is_some(), "{cumberland:?}");
}

/// Issue 11: `placemap tiles` loads its layer without the lookup index
/// (`LookupIndex::Skipped`), builds the zoom bands one at a time
/// (`ArchiveBands::OneAtATime`) and keeps the encoded tiles in a temporary file
/// (`TileSpool::TempFileIn`) to hold less memory. Its archives are the full state's, byte
/// for byte, whether the layer comes from its source (no cache, or a cache miss that writes
/// the prepared file) or from the prepared file read without its index; the temporary file
/// is gone afterwards.
#[test]
fn the_memory_lean_archive_is_the_full_states_archive() {
    use maps::archive::{ArchiveBands, ArchiveOptions, TileSpool, write_pmtiles};
    use maps::loaded::LookupIndex;
    let mut catalog = catalog();
    let ids = vec!["imd_rank".to_string()];
    let full = Loaded::load(
        &catalog,
        &LoadOptions {
            layers: catalog.layers_for("lsoa11", Some(&ids)),
            ..LoadOptions::default()
        },
    )
    .expect("loads");
    // z3-13 over the North East: every band, the last (full detail) included; with the size
    // limit, so the tiles that leave districts out are compared too.
    let archive = |loaded: &Loaded,
                   layer: &str,
                   ids: &[String],
                   bbox: Option<[f64; 4]>,
                   max_zoom: u8,
                   bands: ArchiveBands,
                   spool: TileSpool| {
        let mut out = std::io::Cursor::new(Vec::new());
        let opts = ArchiveOptions {
            indicators: ids.to_vec(),
            min_zoom: if bbox.is_some() { 3 } else { 0 },
            max_zoom,
            bbox,
            tile_size_limit: Some(maps::vector_tiles::TILE_SIZE_LIMIT),
            bands,
            spool,
        };
        let stats = write_pmtiles(loaded, layer, &opts, &mut out).expect("archive");
        (out.into_inner(), stats)
    };
    let north_east = Some([-2.1, 54.5, -1.2, 55.1]);
    let (reference, stats) = archive(
        &full,
        "lsoa11",
        &ids,
        north_east,
        13,
        ArchiveBands::Shared,
        TileSpool::Memory,
    );
    let spool_dir = tempfile::tempdir().expect("temp dir");
    let spooled = || TileSpool::TempFileIn(spool_dir.path().to_path_buf());
    let left = || std::fs::read_dir(spool_dir.path()).expect("dir").count();
    assert!(
        stats.tiles_written > 200 && stats.features_dropped > 0,
        "{stats:?}"
    );
    let newcastle = (-1.6, 54.97);
    assert!(
        full.layer("lsoa11")
            .expect("lsoa11")
            .index
            .lookup(newcastle.0, newcastle.1)
            .is_some()
    );
    let cache = tempfile::tempdir().expect("temp dir");
    for pass in ["no cache", "cache miss", "prepared file"] {
        if pass == "cache miss" {
            catalog.prepared_dir = Some(cache.path().to_path_buf());
        }
        let lean = Loaded::load(
            &catalog,
            &LoadOptions {
                layers: vec!["lsoa11".into()],
                only_indicators: Some(ids.clone()),
                lookup_index: LookupIndex::Skipped,
                ..LoadOptions::default()
            },
        )
        .expect("loads");
        let layer = lean.layer("lsoa11").expect("lsoa11");
        assert_eq!(
            layer.index.lookup(newcastle.0, newcastle.1),
            None,
            "{pass}: no index"
        );
        let (bytes, _) = archive(
            &lean,
            "lsoa11",
            &ids,
            north_east,
            13,
            ArchiveBands::OneAtATime,
            spooled(),
        );
        assert!(bytes == reference, "{pass}: the archive differs");
        assert_eq!(left(), 0, "{pass}: no temporary file left");
        // Nothing kept: the state's own per-zoom geometry was never built.
        assert_eq!(lean.bands_ready(), (0, 1), "{pass}");
    }
    // The prepared file was written whole: a full load reads its index back.
    let cached = Loaded::load(
        &catalog,
        &LoadOptions {
            layers: vec!["lsoa11".into()],
            ..LoadOptions::default()
        },
    )
    .expect("loads");
    assert_eq!(
        cached
            .layer("lsoa11")
            .expect("lsoa11")
            .index
            .lookup(newcastle.0, newcastle.1),
        full.layer("lsoa11")
            .expect("lsoa11")
            .index
            .lookup(newcastle.0, newcastle.1)
    );
    // A whole pyramid with the layer's own extent (lad19 z0-10), both ways.
    let ids = vec!["imd_score".to_string()];
    let lad_full = load(&catalog, "lad19", false);
    let lad_lean = Loaded::load(
        &catalog,
        &LoadOptions {
            layers: vec!["lad19".into()],
            only_indicators: Some(ids.clone()),
            lookup_index: LookupIndex::Skipped,
            ..LoadOptions::default()
        },
    )
    .expect("loads");
    let (a, _) = archive(
        &lad_full,
        "lad19",
        &ids,
        None,
        10,
        ArchiveBands::Shared,
        TileSpool::Memory,
    );
    let (b, _) = archive(
        &lad_lean,
        "lad19",
        &ids,
        None,
        10,
        ArchiveBands::OneAtATime,
        spooled(),
    );
    assert!(a == b, "lad19: the archive differs");
    assert_eq!(left(), 0, "no temporary file left");
}

/// Issue 11: tiles spooled to a temporary file (`TileSpool::TempFileIn`) make the same MBTiles
/// as tiles kept in memory, and an archive whose writing fails leaves no file behind.
#[test]
fn spooled_tiles_leave_nothing_behind() {
    use maps::archive::{ArchiveBands, ArchiveOptions, TileSpool, write_mbtiles, write_pmtiles};
    let catalog = catalog();
    let lad = load(&catalog, "lad19", true);
    let dir = tempfile::tempdir().expect("temp dir");
    let opts = |spool| ArchiveOptions {
        indicators: vec!["imd_score".into()],
        min_zoom: 0,
        max_zoom: 7,
        bbox: None,
        tile_size_limit: Some(maps::vector_tiles::TILE_SIZE_LIMIT),
        bands: ArchiveBands::OneAtATime,
        spool,
    };
    let spooled = || TileSpool::TempFileIn(dir.path().to_path_buf());
    let left = || std::fs::read_dir(dir.path()).expect("dir").count();
    let mbtiles = |spool| {
        let mut out = Vec::new();
        write_mbtiles(&lad, "lad19", &opts(spool), &mut out).expect("mbtiles");
        out
    };
    assert!(mbtiles(TileSpool::Memory) == mbtiles(spooled()));
    assert_eq!(left(), 0);

    /// Takes the header and a little more, then fails (a full disk).
    struct Full(u64);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 > 20_000 {
                return Err(std::io::Error::other("no space left"));
            }
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl std::io::Seek for Full {
        fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
            Ok(0)
        }
    }
    let failed = write_pmtiles(&lad, "lad19", &opts(spooled()), Full(0));
    assert!(failed.is_err());
    assert_eq!(left(), 0, "the temporary file went with the failure");
    // A directory that cannot take the temporary file is an error naming it, before any
    // tile is encoded.
    let missing = dir.path().join("missing");
    let e = write_pmtiles(
        &lad,
        "lad19",
        &opts(TileSpool::TempFileIn(missing.clone())),
        std::io::Cursor::new(Vec::new()),
    )
    .expect_err("no such directory");
    assert!(e.to_string().contains("missing"), "{e}");
}
