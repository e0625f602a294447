//! Fuzz targets: the boundary loaders (`districts::load`). Seeds are small pieces of the real
//! files: the first features of every GeoJSON layer of the catalogue, the first geometries of
//! both TopoJSON files with the arcs they use, and the first records of the MSOA shapefile
//! (`.shp`, `.shx`, `.dbf` cut consistently, with its real `.prj`). Each is mutated structurally
//! (JSON nodes replaced, removed, wrapped; shapefile header fields set to extreme values;
//! sidecars dropped) and byte-wise, and loaded from a temporary directory.

use std::path::Path;
use std::sync::OnceLock;

use districts::crs::Crs;
use districts::load::{BoundarySpec, load_boundaries};
use fuzz_targets::json::{self, JsonMutation};
use fuzz_targets::mutate::{self, Mutation};
use fuzz_targets::{Outcome, clear_error, nasty_text, run, within_bound};
use proptest::prelude::*;
use serde_json::Value;

use crate::tables::catalog;

/// A JSON seed: file name, code and name fields, attributes, CRS and TopoJSON object.
struct JsonSeed {
    file: String,
    code_field: String,
    name_field: String,
    attributes: Vec<String>,
    crs: Option<Crs>,
    object: Option<String>,
    doc: Value,
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The first `n` features of every GeoJSON layer the catalogue reads from a file.
fn geojson_seeds() -> &'static Vec<JsonSeed> {
    static SEEDS: OnceLock<Vec<JsonSeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let cat = catalog();
        cat.layers
            .iter()
            .filter(|l| l.merge.is_none() && l.file.ends_with(".geojson"))
            .map(|l| {
                let path = cat.data_dir.join(&l.file);
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                let doc: Value = serde_json::from_slice(&first_features(&bytes, 3))
                    .unwrap_or_else(|e| panic!("cutting {}: {e}", path.display()));
                JsonSeed {
                    file: l.file.clone(),
                    code_field: l.code_field.clone(),
                    name_field: l.name_field.clone(),
                    attributes: l.attributes.clone(),
                    crs: l.crs.as_deref().and_then(|c| Crs::from_name(c).ok()),
                    object: None,
                    doc,
                }
            })
            .collect()
    })
}

/// The text of a FeatureCollection cut after its first `n` features (the members before
/// `"features"`, such as `crs`, kept). Cut as text: parsing the 15 MB LSOA file into a JSON tree
/// for three features would cost each test process seconds.
fn first_features(bytes: &[u8], n: usize) -> Vec<u8> {
    let key = bytes
        .windows(10)
        .position(|w| w == b"\"features\"")
        .unwrap_or_else(|| panic!("no \"features\" member"));
    let open = key + bytes[key..].iter().position(|b| *b == b'[').unwrap_or(0);
    let (mut depth, mut in_string, mut escaped, mut seen) = (0usize, false, false, 0usize);
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate().skip(open + 1) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    seen += 1;
                    if seen == n {
                        end = i + 1;
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = bytes[..end].to_vec();
    out.extend_from_slice(b"]}");
    out
}

/// Arc indices used by a TopoJSON geometry's `arcs` member (any nesting).
fn arc_indices(v: &Value, out: &mut Vec<i64>) {
    match v {
        Value::Number(n) => out.extend(n.as_i64()),
        Value::Array(a) => a.iter().for_each(|x| arc_indices(x, out)),
        _ => {}
    }
}

fn renumber(v: &mut Value, map: &std::collections::HashMap<i64, i64>) {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let (k, reversed) = if i >= 0 { (i, false) } else { (!i, true) };
                let new = map.get(&k).copied().unwrap_or(k);
                *v = Value::from(if reversed { !new } else { new });
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| renumber(x, map)),
        _ => {}
    }
}

/// A topology cut to the first `n` geometries of its object and the arcs they use (renumbered;
/// quantised arcs are delta-encoded per arc, so each stays valid on its own).
fn cut_topology(mut doc: Value, object: &str, n: usize) -> Value {
    let arcs = doc["arcs"].as_array().cloned().unwrap_or_default();
    let Some(geoms) = doc["objects"][object]["geometries"].as_array_mut() else {
        return doc;
    };
    geoms.truncate(n);
    let mut used = Vec::new();
    for g in geoms.iter() {
        arc_indices(&g["arcs"], &mut used);
    }
    let mut kept: Vec<i64> = used.iter().map(|&i| if i >= 0 { i } else { !i }).collect();
    kept.sort_unstable();
    kept.dedup();
    let map: std::collections::HashMap<i64, i64> = kept
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new as i64))
        .collect();
    for g in geoms.iter_mut() {
        renumber(&mut g["arcs"], &map);
    }
    doc["arcs"] = Value::Array(
        kept.iter()
            .filter_map(|&i| arcs.get(usize::try_from(i).ok()?).cloned())
            .collect(),
    );
    doc
}

/// Both real TopoJSON files, cut to three geometries.
fn topojson_seeds() -> &'static Vec<JsonSeed> {
    static SEEDS: OnceLock<Vec<JsonSeed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let data = test_support::data_dir();
        let mut seeds = Vec::new();
        for file in ["lad_apr2019_uk_bgc.topojson", "lad_apr2019_uk_buc.topojson"] {
            let doc = read_json(&data.join(file));
            let object = doc["objects"]
                .as_object()
                .and_then(|o| o.keys().next().cloned())
                .unwrap_or_default();
            seeds.push(JsonSeed {
                file: file.to_string(),
                code_field: "AREACD".into(),
                name_field: "AREANM".into(),
                attributes: vec![],
                crs: None,
                object: Some(object.clone()),
                doc: cut_topology(doc, &object, 3),
            });
        }
        seeds
    })
}

/// Loads `bytes` as the seed's file; `Ok`, or an error naming the file.
fn load_json_as(
    seed: &JsonSeed,
    bytes: &[u8],
    name_object: bool,
) -> Result<Outcome, TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join(&seed.file);
    std::fs::write(&path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let spec = BoundarySpec {
        code_field: &seed.code_field,
        name_field: &seed.name_field,
        crs: seed.crs,
        attributes: &seed.attributes,
        object: if name_object {
            seed.object.as_deref()
        } else {
            None
        },
    };
    let result = within_bound(
        || format!("{} ({} bytes)", seed.file, bytes.len()),
        || load_boundaries(&path, &spec),
    )?;
    match result {
        Ok(loaded) => {
            prop_assert!(!loaded.features.is_empty());
            for f in &loaded.features {
                prop_assert!(!f.code.is_empty());
            }
            Ok(Outcome::Read)
        }
        Err(e) => {
            clear_error(&e.to_string(), Some(&seed.file))?;
            Ok(Outcome::Refused(e.to_string()))
        }
    }
}

fn json_case() -> impl Strategy<Value = (usize, Vec<JsonMutation>, Vec<Mutation>)> {
    (
        any::<usize>(),
        json::json_mutations(4),
        mutate::mutations(2),
    )
}

/// GeoJSON: the first features of each real layer, mutated as JSON and as bytes.
#[test]
fn geojson_mutated() {
    run(
        "geojson_mutated",
        300,
        true,
        json_case(),
        |(which, tree, bytes)| {
            let seeds = geojson_seeds();
            let seed = &seeds[which % seeds.len()];
            let text = json::to_text(&json::apply(&seed.doc, &tree));
            load_json_as(seed, &mutate::apply(&text, &bytes), false)
        },
    );
}

/// TopoJSON: the first geometries of each real topology, mutated as JSON and as bytes.
#[test]
fn topojson_mutated() {
    let inputs = (json_case(), any::<bool>());
    run(
        "topojson_mutated",
        300,
        true,
        inputs,
        |((which, tree, bytes), name_object)| {
            let seeds = topojson_seeds();
            let seed = &seeds[which % seeds.len()];
            let text = json::to_text(&json::apply(&seed.doc, &tree));
            load_json_as(seed, &mutate::apply(&text, &bytes), name_object)
        },
    );
}

/// Arbitrary bytes as GeoJSON and TopoJSON.
#[test]
fn arbitrary_bytes_as_boundaries() {
    let inputs = (
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..1_000),
    );
    run(
        "arbitrary_bytes_as_boundaries",
        100,
        false,
        inputs,
        |(topo, bytes)| {
            let seed = if topo {
                &topojson_seeds()[1]
            } else {
                &geojson_seeds()[0]
            };
            load_json_as(seed, &bytes, true)
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Shapefile

/// The real MSOA shapefile cut to its first records: `.shp`, `.shx`, `.dbf`, `.prj`.
fn shapefile_seed() -> &'static [Vec<u8>; 4] {
    static SEED: OnceLock<[Vec<u8>; 4]> = OnceLock::new();
    SEED.get_or_init(|| {
        let data = test_support::data_dir();
        let read = |ext: &str| {
            let p = data.join(format!("england_msoa_2011_sgen_clipped.{ext}"));
            std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
        };
        cut_shapefile(&read("shp"), &read("shx"), &read("dbf"), read("prj"), 3)
    })
}

/// The first `n` records of a shapefile, with the lengths and counts in the headers set to
/// match (a valid, smaller shapefile).
fn cut_shapefile(shp: &[u8], shx: &[u8], dbf: &[u8], prj: Vec<u8>, n: usize) -> [Vec<u8>; 4] {
    let be = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let entry = 100 + 8 * (n - 1);
    let end = 2 * (be(shx, entry) as usize + 4 + be(shx, entry + 4) as usize);
    let mut shp = shp[..end].to_vec();
    shp[24..28].copy_from_slice(&u32::try_from(end / 2).unwrap_or(0).to_be_bytes());
    let shx_end = 100 + 8 * n;
    let mut shx = shx[..shx_end].to_vec();
    shx[24..28].copy_from_slice(&u32::try_from(shx_end / 2).unwrap_or(0).to_be_bytes());
    let header = usize::from(u16::from_le_bytes([dbf[8], dbf[9]]));
    let record = usize::from(u16::from_le_bytes([dbf[10], dbf[11]]));
    let mut dbf = dbf[..header + n * record].to_vec();
    dbf.push(0x1A);
    dbf[4..8].copy_from_slice(&u32::try_from(n).unwrap_or(0).to_le_bytes());
    [shp, shx, dbf, prj]
}

/// A header or record field of one of the files set to an extreme value.
#[derive(Clone, Debug)]
pub struct SetField {
    pub file: usize,
    pub offset: usize,
    pub width: usize,
    pub big_endian: bool,
    pub value: u32,
}

/// Fields worth breaking: `.shp`/`.shx` file code, length, version, shape type, the first
/// record's number, length, type, part and point counts and first part index; `.dbf` record
/// count, header and record sizes and the first field's type and length.
fn set_field() -> impl Strategy<Value = SetField> {
    let shp_fields = prop_oneof![
        Just((0usize, 4usize, true)),
        Just((24, 4, true)),
        Just((28, 4, false)),
        Just((32, 4, false)),
        Just((100, 4, true)),
        Just((104, 4, true)),
        Just((108, 4, false)),
        Just((144, 4, false)),
        Just((148, 4, false)),
        Just((152, 4, false)),
    ];
    let dbf_fields = prop_oneof![
        Just((4usize, 4usize, false)),
        Just((8, 2, false)),
        Just((10, 2, false)),
        Just((32 + 11, 1, false)),
        Just((32 + 16, 1, false)),
    ];
    let value = prop_oneof![
        Just(0u32),
        Just(1),
        Just(3),
        Just(5),
        Just(8),
        Just(31),
        Just(0xFF),
        Just(0xFFFF),
        Just(0x7FFF_FFFF),
        Just(u32::MAX),
        any::<u32>(),
    ];
    prop_oneof![
        (0..2usize, shp_fields, value.clone()).prop_map(
            |(file, (offset, width, big_endian), value)| {
                SetField {
                    file,
                    offset,
                    width,
                    big_endian,
                    value,
                }
            }
        ),
        (dbf_fields, value).prop_map(|((offset, width, big_endian), value)| SetField {
            file: 2,
            offset,
            width,
            big_endian,
            value,
        }),
    ]
}

fn set(bytes: &mut [u8], f: &SetField) {
    let v = if f.big_endian {
        f.value.to_be_bytes()
    } else {
        f.value.to_le_bytes()
    };
    let v = if f.big_endian {
        &v[4 - f.width..]
    } else {
        &v[..f.width]
    };
    if let Some(slot) = bytes.get_mut(f.offset..f.offset + f.width) {
        slot.copy_from_slice(v);
    }
}

/// One shapefile case: header fields set, byte edits of one file, sidecars dropped or added.
#[derive(Clone, Debug)]
pub struct ShapefileCase {
    pub fields: Vec<SetField>,
    pub file: usize,
    pub edits: Vec<Mutation>,
    pub drop_shx: bool,
    pub drop_prj: bool,
    pub cpg: Option<String>,
}

fn shapefile_case() -> impl Strategy<Value = ShapefileCase> {
    (
        proptest::collection::vec(set_field(), 0..3),
        0..4usize,
        mutate::mutations(3),
        proptest::bool::weighted(0.1),
        proptest::bool::weighted(0.1),
        proptest::option::weighted(0.1, nasty_text()),
    )
        .prop_map(
            |(fields, file, edits, drop_shx, drop_prj, cpg)| ShapefileCase {
                fields,
                file,
                edits,
                drop_shx,
                drop_prj,
                cpg,
            },
        )
}

pub fn load_shapefile_case(case: &ShapefileCase) -> Result<Outcome, TestCaseError> {
    let mut files = shapefile_seed().clone();
    for f in &case.fields {
        set(&mut files[f.file], f);
    }
    files[case.file] = mutate::apply(&files[case.file], &case.edits);
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (ext, bytes) in ["shp", "shx", "dbf", "prj"].iter().zip(&files) {
        if (*ext == "shx" && case.drop_shx) || (*ext == "prj" && case.drop_prj) {
            continue;
        }
        std::fs::write(dir.path().join(format!("msoa.{ext}")), bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    if let Some(cpg) = &case.cpg {
        std::fs::write(dir.path().join("msoa.cpg"), cpg)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    let path = dir.path().join("msoa.shp");
    let spec = BoundarySpec::new("code", "name");
    let result = within_bound(|| format!("{case:?}"), || load_boundaries(&path, &spec))?;
    match result {
        Ok(loaded) => {
            prop_assert!(!loaded.features.is_empty());
            Ok(Outcome::Read)
        }
        Err(e) => {
            clear_error(&e.to_string(), Some("msoa."))?;
            Ok(Outcome::Refused(e.to_string()))
        }
    }
}

/// The first records of the real MSOA shapefile, with header fields set to extreme values,
/// bytes edited, sidecars dropped and code pages named.
#[test]
fn shapefile_mutated() {
    run("shapefile_mutated", 400, true, shapefile_case(), |case| {
        load_shapefile_case(&case)
    });
}

#[test]
fn the_seeds_load_unmutated() {
    for seed in geojson_seeds().iter().chain(topojson_seeds()) {
        let spec = BoundarySpec {
            code_field: &seed.code_field,
            name_field: &seed.name_field,
            crs: seed.crs,
            attributes: &seed.attributes,
            object: seed.object.as_deref(),
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(&seed.file);
        std::fs::write(&path, json::to_text(&seed.doc)).expect("write");
        let loaded = load_boundaries(&path, &spec).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.features.len(), 3, "{}", seed.file);
    }
    let case = ShapefileCase {
        fields: vec![],
        file: 0,
        edits: vec![],
        drop_shx: false,
        drop_prj: false,
        cpg: None,
    };
    let r = load_shapefile_case(&case);
    assert!(
        matches!(r, Ok(Outcome::Read)),
        "the cut shapefile does not load"
    );
}
