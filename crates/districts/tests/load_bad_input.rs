//! Bad boundary files, written to temporary files: each fails with an error naming the file and
//! the feature or line, and nothing panics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use districts::crs::Crs;
use districts::load::{BoundarySpec, LoadError, load_boundaries};

fn data(file: &str) -> PathBuf {
    test_support::data_dir().join(file)
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "placemap-load-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SPEC: BoundarySpec<'static> = BoundarySpec {
    code_field: "code",
    name_field: "name",
    crs: None,
    attributes: &[],
    object: None,
};

fn square(x: f64, y: f64) -> String {
    format!(
        "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
        x + 0.1,
        x + 0.1,
        y + 0.1,
        y + 0.1
    )
}

fn feature(code: &str, geometry: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","name":"N"}},"geometry":{geometry}}}"#
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",\n")
    )
}

fn polygon(coords: &str) -> String {
    format!(r#"{{"type":"Polygon","coordinates":{coords}}}"#)
}

fn load_err(path: &Path, spec: &BoundarySpec) -> (LoadError, String) {
    match load_boundaries(path, spec) {
        Ok(l) => panic!(
            "{} loaded {} features, expected an error",
            path.display(),
            l.features.len()
        ),
        Err(e) => {
            let msg = e.to_string();
            // The file itself, or its sidecar (`.dbf`, `.prj`) for a shapefile.
            let stem = path.with_extension("").display().to_string();
            assert!(msg.contains(&stem), "message does not name the file: {msg}");
            (e, msg)
        }
    }
}

#[test]
fn a_good_file_loads() {
    let dir = TempDir::new("good");
    let body = collection(&[
        feature(" e01000001 ", &polygon(&square(-1.0, 52.0))),
        feature("E01000002", &polygon(&square(0.0, 51.0))),
    ]);
    let p = dir.write("good.geojson", body.as_bytes());
    let l = load_boundaries(&p, &SPEC).expect("loads");
    assert_eq!(l.features.len(), 2);
    assert_eq!(l.features[0].code, "E01000001", "trimmed and upper-cased");
}

#[test]
fn truncated_json_names_line_and_column() {
    let dir = TempDir::new("trunc");
    let body = collection(&[
        feature("E1", &polygon(&square(0.0, 51.0))),
        feature("E2", &polygon(&square(1.0, 51.0))),
    ]);
    let p = dir.write("truncated.geojson", &body.as_bytes()[..body.len() - 40]);
    match load_err(&p, &SPEC) {
        (LoadError::Json { line, column, .. }, msg) => {
            assert_eq!(line, 2, "{msg}");
            assert!(column > 0 && msg.contains("line 2"), "{msg}");
        }
        (e, _) => panic!("expected a JSON error, got {e:?}"),
    }
}

#[test]
fn invalid_json_names_line_and_column() {
    let dir = TempDir::new("invalid");
    let p = dir.write(
        "invalid.geojson",
        b"{\"type\":\"FeatureCollection\",\n\"features\":[{,}]}",
    );
    match load_err(&p, &SPEC) {
        (
            LoadError::Json {
                line: 2,
                column: 14,
                ..
            },
            _,
        ) => {}
        (e, _) => panic!("expected a JSON error at 2:14, got {e:?}"),
    }
}

#[test]
fn non_utf8_bytes_in_json_name_line_and_column() {
    let dir = TempDir::new("latin1");
    // "Ynys M\xf4n" in Latin-1 inside a JSON string.
    let body = collection(&[feature("W06000001", &polygon(&square(-4.4, 53.2)))])
        .replace("\"N\"", "\"Ynys M\u{1}n\"");
    let bytes: Vec<u8> = body
        .bytes()
        .map(|b| if b == 1 { 0xF4 } else { b })
        .collect();
    let p = dir.write("latin1.geojson", &bytes);
    match load_err(&p, &SPEC) {
        (
            LoadError::Json {
                line: 1, column, ..
            },
            msg,
        ) => assert!(column > 1, "{msg}"),
        (e, _) => panic!("expected a JSON error, got {e:?}"),
    }
}

#[test]
fn point_geometry_is_refused_naming_the_feature() {
    let dir = TempDir::new("point");
    let body = collection(&[
        feature("E1", &polygon(&square(0.0, 51.0))),
        feature("E2", r#"{"type":"Point","coordinates":[0.5,51.5]}"#),
    ]);
    let p = dir.write("point.geojson", body.as_bytes());
    match load_err(&p, &SPEC) {
        (
            LoadError::Geometry {
                feature: 1, code, ..
            },
            msg,
        ) => {
            assert_eq!(code, "E2");
            assert!(
                msg.contains("feature 1 (E2)") && msg.contains("Point"),
                "{msg}"
            );
        }
        (e, _) => panic!("expected a geometry error, got {e:?}"),
    }
}

#[test]
fn unclosed_ring_is_refused() {
    let dir = TempDir::new("unclosed");
    let body = collection(&[feature("E9", &polygon("[[[0,51],[1,51],[1,52],[0,52]]]"))]);
    let p = dir.write("unclosed.geojson", body.as_bytes());
    match load_err(&p, &SPEC) {
        (LoadError::Geometry { feature: 0, .. }, msg) => {
            assert!(msg.contains("(E9)") && msg.contains("not closed"), "{msg}");
        }
        (e, _) => panic!("expected a geometry error, got {e:?}"),
    }
}

#[test]
fn degenerate_ring_is_dropped_with_a_note_or_refused_if_nothing_is_left() {
    let dir = TempDir::new("sliver");
    let mp = format!(
        r#"{{"type":"MultiPolygon","coordinates":[{},[[[0,51],[1,51],[0,51]]]]}}"#,
        square(0.0, 51.0)
    );
    let body = collection(&[feature("E5", &mp)]);
    let p = dir.write("sliver.geojson", body.as_bytes());
    let l = load_boundaries(&p, &SPEC).expect("the sliver is dropped");
    assert_eq!(l.features[0].geometry.0.0.len(), 1);
    assert!(
        l.notes
            .iter()
            .any(|n| n.contains("feature 0 (E5)") && n.contains("sliver")),
        "{:?}",
        l.notes
    );

    let body = collection(&[feature("E6", &polygon("[[[0,51],[1,51],[0,51]]]"))]);
    let p = dir.write("only_sliver.geojson", body.as_bytes());
    match load_err(&p, &SPEC) {
        (LoadError::Geometry { feature: 0, .. }, msg) => assert!(msg.contains("(E6)"), "{msg}"),
        (e, _) => panic!("expected a geometry error, got {e:?}"),
    }
}

#[test]
fn empty_collection_is_refused() {
    let dir = TempDir::new("empty");
    let p = dir.write(
        "empty.geojson",
        br#"{"type":"FeatureCollection","features":[]}"#,
    );
    assert!(matches!(load_err(&p, &SPEC).0, LoadError::Empty { .. }));
}

#[test]
fn missing_code_property_names_the_feature() {
    let dir = TempDir::new("nocode");
    let body = collection(&[
        feature("E1", &polygon(&square(0.0, 51.0))),
        feature("E2", &polygon(&square(1.0, 51.0))).replace("\"code\"", "\"lad19cd\""),
    ]);
    let p = dir.write("nocode.geojson", body.as_bytes());
    match load_err(&p, &SPEC) {
        (
            LoadError::MissingField {
                feature: 1, field, ..
            },
            msg,
        ) => {
            assert_eq!(field, "code");
            assert!(
                msg.contains("feature 1") && msg.contains("lad19cd"),
                "{msg}"
            );
        }
        (e, _) => panic!("expected a missing-field error, got {e:?}"),
    }
}

#[test]
fn numeric_codes_are_accepted() {
    let dir = TempDir::new("numeric");
    let body = collection(&[feature("X", &polygon(&square(0.0, 51.0))).replace("\"X\"", "95")]);
    let p = dir.write("numeric.geojson", body.as_bytes());
    let l = load_boundaries(&p, &SPEC).expect("loads");
    assert_eq!(l.features[0].code, "95");
}

#[test]
fn coordinates_out_of_range_for_the_declared_crs() {
    let dir = TempDir::new("range");
    // Declared WGS84 but one feature has a latitude of 95 degrees.
    let body = collection(&[feature("E1", &polygon(&square(0.0, 51.0))), feature("E2", &polygon(&square(0.0, 95.0)))])
        .replacen("{\"type\":\"FeatureCollection\",", r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"#, 1);
    let p = dir.write("range.geojson", body.as_bytes());
    match load_err(&p, &SPEC) {
        (LoadError::Geometry { feature: 1, .. }, msg) => {
            assert!(
                msg.contains("(E2)") && msg.contains("out of range"),
                "{msg}"
            );
        }
        (e, _) => panic!("expected a geometry error, got {e:?}"),
    }
    // Undeclared and in BNG-like metres: the hint suggests EPSG:27700.
    let body = collection(&[feature(
        "E1",
        &polygon("[[[400000,300000],[401000,300000],[401000,301000],[400000,300000]]]"),
    )]);
    let p = dir.write("metres.geojson", body.as_bytes());
    let (e, msg) = load_err(&p, &SPEC);
    assert!(
        matches!(e, LoadError::UndeclaredCrs { .. }) && msg.contains("EPSG:27700"),
        "{msg}"
    );
    let spec = BoundarySpec {
        crs: Some(Crs::BritishNationalGrid),
        ..SPEC
    };
    assert_eq!(
        load_boundaries(&p, &spec)
            .expect("loads with the catalogue CRS")
            .source_crs,
        Crs::BritishNationalGrid
    );
}

#[test]
fn unknown_crs_name_is_refused() {
    let dir = TempDir::new("crsname");
    let body = collection(&[feature("E1", &polygon(&square(0.0, 51.0)))]).replacen(
        "{\"type\":\"FeatureCollection\",",
        r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:2157"}},"#,
        1,
    );
    let p = dir.write("irish.geojson", body.as_bytes());
    let (e, msg) = load_err(&p, &SPEC);
    assert!(
        matches!(e, LoadError::Crs { .. }) && msg.contains("EPSG:2157"),
        "{msg}"
    );
}

/// Copies the real MSOA `.shp`/`.shx` (and optionally `.dbf`/`.prj`) into a temp dir.
fn msoa_copy(dir: &TempDir, with_dbf: bool, prj: Option<&[u8]>) -> PathBuf {
    let base = "england_msoa_2011_sgen_clipped";
    let mut exts = vec!["shp", "shx"];
    if with_dbf {
        exts.push("dbf");
    }
    for ext in exts {
        std::fs::copy(
            data(&format!("{base}.{ext}")),
            dir.0.join(format!("msoa.{ext}")),
        )
        .expect("copy");
    }
    if let Some(prj) = prj {
        dir.write("msoa.prj", prj);
    }
    dir.0.join("msoa.shp")
}

#[test]
fn shapefile_without_dbf_names_the_dbf() {
    let dir = TempDir::new("nodbf");
    let shp = msoa_copy(&dir, false, Some(b"PROJCS[\"British_National_Grid\"]"));
    let (e, msg) = load_err(&shp.with_extension("shp"), &SPEC);
    assert!(
        matches!(e, LoadError::MissingSidecar { .. }) && msg.contains("msoa.dbf"),
        "{msg}"
    );
}

#[test]
fn shapefile_without_prj_needs_the_catalogue_crs() {
    let dir = TempDir::new("noprj");
    let shp = msoa_copy(&dir, true, None);
    let (e, msg) = load_err(&shp, &SPEC);
    assert!(
        matches!(e, LoadError::MissingSidecar { .. }) && msg.contains("msoa.prj"),
        "{msg}"
    );
    let spec = BoundarySpec {
        crs: Some(Crs::BritishNationalGrid),
        ..SPEC
    };
    assert_eq!(
        load_boundaries(&shp, &spec).expect("loads").features.len(),
        6_791
    );
}

#[test]
fn shapefile_with_unknown_prj_quotes_its_name() {
    let dir = TempDir::new("badprj");
    let prj = br#"PROJCS["IRENET95_Irish_Transverse_Mercator",GEOGCS["GCS_IRENET95"],PROJECTION["Transverse_Mercator"]]"#;
    let shp = msoa_copy(&dir, true, Some(prj));
    let (e, msg) = load_err(&shp, &SPEC);
    assert!(matches!(e, LoadError::Crs { .. }), "{e:?}");
    assert!(
        msg.contains("msoa.prj") && msg.contains("IRENET95_Irish_Transverse_Mercator"),
        "{msg}"
    );
}

/// Features are taken apart while the file is parsed (issue 11); a missing field still waits
/// for the whole file, so a JSON error further on, or a top-level type that is not a
/// FeatureCollection, is what the message reports, as when the file was parsed whole first.
#[test]
fn a_missing_field_is_reported_after_json_and_type_errors() {
    let dir = TempDir::new("noorder");
    let nocode = feature("E1", &polygon(&square(0.0, 51.0))).replace("\"code\"", "\"lad19cd\"");
    let body = collection(&[nocode.clone(), feature("E2", &polygon(&square(1.0, 51.0)))]);
    let broken = body.replacen("\"E2\"", "\"E2\",,", 1);
    let p = dir.write("later_json_error.geojson", broken.as_bytes());
    match load_err(&p, &SPEC) {
        (LoadError::Json { line: 2, .. }, _) => {}
        (e, _) => panic!("expected the JSON error on line 2, got {e:?}"),
    }
    let topology = body.replacen("FeatureCollection", "Topology", 1);
    let p = dir.write("not_a_collection.geojson", topology.as_bytes());
    let (e, msg) = load_err(&p, &SPEC);
    assert!(
        matches!(e, LoadError::Format { .. }) && msg.contains("Topology"),
        "{msg}"
    );
    // Several features without the field: the first is named.
    let body = collection(&[
        feature("E0", &polygon(&square(2.0, 51.0))),
        nocode.clone(),
        nocode,
    ]);
    let p = dir.write("first_missing.geojson", body.as_bytes());
    assert!(
        matches!(
            load_err(&p, &SPEC).0,
            LoadError::MissingField { feature: 1, .. }
        ),
        "the first feature lacking the field is named"
    );
}

/// Members of the top-level object keep the meaning they had under `#[derive(Deserialize)]`:
/// unknown ones are skipped, `features` may come before `type`, a repeated one is an error.
#[test]
fn top_level_members_in_any_order() {
    let dir = TempDir::new("members");
    let f = feature("E1", &polygon(&square(0.0, 51.0)));
    let body = format!(
        r#"{{"name":"x","features":[{f}],"bbox":[0,51,0.1,51.1],"type":"FeatureCollection"}}"#
    );
    let p = dir.write("order.geojson", body.as_bytes());
    let l = load_boundaries(&p, &SPEC).expect("loads");
    assert_eq!(l.features.len(), 1);
    let twice = format!(r#"{{"type":"FeatureCollection","features":[{f}],"features":[{f}]}}"#);
    let p = dir.write("twice.geojson", twice.as_bytes());
    let (e, msg) = load_err(&p, &SPEC);
    assert!(
        matches!(e, LoadError::Json { .. }) && msg.contains("duplicate field `features`"),
        "{msg}"
    );
}

#[test]
fn shapefile_missing_code_field_lists_the_fields() {
    let dir = TempDir::new("shpfield");
    let shp = msoa_copy(&dir, true, Some(b"PROJCS[\"British_National_Grid\"]"));
    let spec = BoundarySpec::new("MSOA11CD", "name");
    let (e, msg) = load_err(&shp, &spec);
    assert!(matches!(e, LoadError::MissingField { .. }), "{e:?}");
    assert!(msg.contains("MSOA11CD") && msg.contains("code"), "{msg}");
}

#[test]
fn topojson_with_several_objects_needs_a_name_and_bad_arcs_are_refused() {
    let dir = TempDir::new("topo");
    let topo = r#"{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[-1,50]},"arcs":[[[0,0],[1,0],[0,1],[-1,0],[0,-1]]],
        "objects":{"a":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[0]],"properties":{"code":"E1","name":"A"}}]},
                   "b":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[~5]],"properties":{"code":"E2","name":"B"}}]}}}"#
        .replace("~5", "-6");
    let p = dir.write("two.topojson", topo.as_bytes());
    let (_, msg) = load_err(&p, &SPEC);
    assert!(msg.contains("a, b"), "{msg}");
    let spec = BoundarySpec {
        object: Some("a"),
        ..SPEC
    };
    let l = load_boundaries(&p, &spec).expect("object a loads");
    let ring = &l.features[0].geometry.0.0[0].exterior().0;
    assert_eq!(ring.len(), 5);
    assert_eq!(
        (ring[2].x, ring[2].y),
        (-0.5, 50.5),
        "delta-decoded and transformed"
    );
    let spec = BoundarySpec {
        object: Some("b"),
        ..SPEC
    };
    match load_err(&p, &spec) {
        (
            LoadError::Geometry {
                feature: 0,
                code,
                msg,
                ..
            },
            _,
        ) => {
            assert_eq!(code, "E2");
            assert!(msg.contains("arc index -6"), "{msg}");
        }
        (e, _) => panic!("expected a geometry error, got {e:?}"),
    }
}

#[test]
fn unsupported_extension_is_refused() {
    let dir = TempDir::new("ext");
    let p = dir.write("boundaries.kml", b"<kml/>");
    assert!(matches!(
        load_err(&p, &SPEC).0,
        LoadError::UnsupportedFormat { .. }
    ));
}

/// A minimal dBase III table with two character fields, `name` (C 40) and `code` (C 9), whose
/// text bytes are written as given (so a test can write Windows-1252).
fn dbf_bytes(rows: &[(Vec<u8>, String)]) -> Vec<u8> {
    let fields: [(&str, u8); 2] = [("name", 40), ("code", 9)];
    let record_len: u16 = 1 + fields.iter().map(|f| u16::from(f.1)).sum::<u16>();
    let header_len: u16 = 32 + 32 * fields.len() as u16 + 1;
    let mut b = vec![0x03, 126, 1, 1];
    b.extend((rows.len() as u32).to_le_bytes());
    b.extend(header_len.to_le_bytes());
    b.extend(record_len.to_le_bytes());
    b.resize(32, 0);
    for (name, len) in fields {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = b'C';
        d[16] = len;
        b.extend(d);
    }
    b.push(0x0D);
    for (name, code) in rows {
        b.push(b' ');
        let mut n = name.clone();
        n.resize(40, b' ');
        b.extend(n);
        let mut c = code.as_bytes().to_vec();
        c.resize(9, b' ');
        b.extend(c);
    }
    b.push(0x1A);
    b
}

#[test]
fn dbf_text_in_windows_1252_is_decoded_with_or_without_a_cpg() {
    let real =
        load_boundaries(&data("england_msoa_2011_sgen_clipped.shp"), &SPEC).expect("real MSOA");
    let rows: Vec<(Vec<u8>, String)> = real
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = if i == 0 {
                b"Ynys M\xf4n 001".to_vec()
            } else {
                f.name.as_bytes().to_vec()
            };
            (name, f.code.clone())
        })
        .collect();
    let dir = TempDir::new("cp1252");
    let shp = msoa_copy(&dir, false, Some(b"PROJCS[\"British_National_Grid\"]"));
    dir.write("msoa.dbf", &dbf_bytes(&rows));
    let l = load_boundaries(&shp, &SPEC).expect("loads");
    assert_eq!(l.features[0].name, "Ynys Môn 001");
    assert_eq!(l.features[1].name, real.features[1].name);
    assert!(
        l.notes.iter().any(|n| n.contains("Windows-1252")),
        "{:?}",
        l.notes
    );

    dir.write("msoa.cpg", b"1252");
    let l = load_boundaries(&shp, &SPEC).expect("loads with .cpg");
    assert_eq!(l.features[0].name, "Ynys Môn 001");
    assert!(l.notes.is_empty(), "{:?}", l.notes);

    dir.write("msoa.cpg", b"no-such-code-page");
    let (_, msg) = load_err(&shp, &SPEC);
    assert!(
        msg.contains("msoa.cpg") && msg.contains("no-such-code-page"),
        "{msg}"
    );
}

/// A real MSOA shapefile with one of its files cut short: the error names that file and says
/// it is truncated, with no raw debug dump and no bare "failed to fill whole buffer".
#[test]
fn truncated_dbf_shx_and_shp_name_the_file_and_say_truncated() {
    let base = "england_msoa_2011_sgen_clipped";
    let prj = std::fs::read(data(&format!("{base}.prj"))).expect("prj");
    for ext in ["dbf", "shx", "shp"] {
        let full = std::fs::read(data(&format!("{base}.{ext}"))).expect("read");
        // Cut in the middle of the records, and inside the header.
        for keep in [full.len() / 2, 50] {
            let dir = TempDir::new(&format!("trunc-{ext}-{keep}"));
            let shp = msoa_copy(&dir, true, Some(&prj));
            let target = shp.with_extension(ext);
            std::fs::remove_file(&target).expect("remove copy");
            std::fs::write(&target, &full[..keep]).expect("write truncated");
            let (_, msg) = load_err(&shp, &SPEC);
            assert!(
                msg.contains(&format!("msoa.{ext}")),
                "{ext} cut to {keep} bytes: the message does not name msoa.{ext}: {msg}"
            );
            assert!(
                msg.contains("truncated"),
                "{ext} cut to {keep} bytes: {msg}"
            );
            for raw in ["failed to fill whole buffer", "Error {", "kind:", "Io("] {
                assert!(
                    !msg.contains(raw),
                    "{ext} cut to {keep} bytes: raw {raw:?} in {msg}"
                );
            }
        }
    }
}
