//! The inputs the fuzz targets found failing, each kept as a small case (FUZZING.md tells the
//! story of each): they must keep giving a clear error, not a panic or a debug dump.

use axum::body::Body;
use axum::http::Request;
use datasets::UploadOptions;
use districts::csv_text::period_label;
use tower::ServiceExt;

use crate::boundaries::{SetField, ShapefileCase, load_shapefile_case};
use crate::queries::{runtime, toy_app};
use crate::uploads::{SheetEdit, layers, limits, rezip, xlsx_seeds};

/// `tables::cell_parsers`: a 7-byte period cell that is not ASCII was split inside a character
/// (`period_label` panicked on `"\u{feff}\u{feff}0"`, and on any such cell of a long table).
#[test]
fn a_seven_byte_period_that_is_not_ascii() {
    assert_eq!(period_label("\u{feff}\u{feff}0"), None);
    assert_eq!(period_label("2019/é"), None);
    assert_eq!(period_label("2019/20").as_deref(), Some("2019/20"));
}

/// `boundaries::shapefile_mutated`: a `.dbf` whose first field type byte is a space was
/// reported as `Error { kind: The FieldType code ' ' is not a valid one }`.
#[test]
fn a_dbf_field_of_unknown_type_is_a_sentence() {
    let case = ShapefileCase {
        fields: vec![SetField {
            file: 2,
            offset: 43,
            width: 1,
            big_endian: false,
            value: u32::from(b' '),
        }],
        file: 1,
        edits: vec![],
        drop_shx: false,
        drop_prj: false,
        cpg: None,
    };
    // The target's own property: an error naming the file, no debug dump.
    let r = load_shapefile_case(&case);
    assert!(matches!(r, Ok(fuzz_targets::Outcome::Refused(_))), "{r:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = test_support::data_dir();
    for ext in ["shp", "shx", "dbf", "prj"] {
        let from = data.join(format!("england_msoa_2011_sgen_clipped.{ext}"));
        let mut bytes = std::fs::read(&from).expect("real shapefile");
        if ext == "dbf" {
            bytes[43] = b' ';
        }
        std::fs::write(dir.path().join(format!("m.{ext}")), bytes).expect("write");
    }
    let e = districts::load::load_boundaries(
        &dir.path().join("m.shp"),
        &districts::load::BoundarySpec::new("code", "name"),
    )
    .expect_err("an unknown field type");
    let msg = e.to_string();
    assert!(
        msg.contains("m.dbf") && msg.contains("FieldType code ' '") && !msg.contains("Error {"),
        "{msg}"
    );
}

/// `uploads::xlsx_uploads_mutated`: calamine overflowed on the cell reference `A4294967296`
/// (a panic with overflow checks on, a wrong position without).
#[test]
fn a_workbook_cell_beyond_u32_rows_is_a_400() {
    let xlsx = rezip(&xlsx_seeds()[0], &[SheetEdit::CellRef(0, "A4294967296")]);
    let e = datasets::analyse(
        &xlsx,
        "huge.xlsx",
        None,
        &UploadOptions::default(),
        layers(),
        &limits(),
    )
    .expect_err("an out-of-range cell reference");
    assert_eq!(e.kind, datasets::ErrorKind::BadInput);
    assert!(
        e.message.contains("huge.xlsx") && e.message.contains("out of range"),
        "{}",
        e.message
    );
}

/// `queries::routes`: a path segment that is not UTF-8 once decoded (`/layers/%ff`) got axum's
/// plain-text 400 rather than the JSON error shape.
#[test]
fn a_path_segment_that_is_not_utf8_is_a_json_400() {
    for uri in [
        "/layers/%ff",
        "/legend/toy/%ff%fe.json",
        "/stats/%ff/toy_score/moran",
    ] {
        let req = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        let (status, body) = runtime().block_on(async {
            let res = toy_app().oneshot(req).await.unwrap_or_else(|e| match e {});
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            (status, body)
        });
        assert_eq!(status.as_u16(), 400, "{uri}");
        let j: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert!(
            j["error"].as_str().is_some_and(|e| e.contains("UTF-8")) && j["hint"].is_string(),
            "{uri}: {j}"
        );
    }
}
