//! Fuzz target: uploaded tables (`datasets::analyse`: read CSV/TSV/XLSX, detect header, code
//! column, geography and values, join), on samples of real tables, mutated as bytes, and on
//! workbooks made from them whose sheet XML is mutated (huge dimension declarations, cells at
//! row a billion or column XFD, broken markup) or whose zip bytes are flipped; with the upload
//! options (aggregate rule, weights, layer, period, direction, id) fuzzed too.

use std::io::{Cursor, Read, Write};
use std::sync::OnceLock;

use datasets::{KnownLayer, Limits, UploadOptions, analyse};
use districts::load::{BoundarySpec, load_boundaries};
use fuzz_targets::mutate::{self, Mutation};
use fuzz_targets::{Outcome, clear_error, nasty_text, run, within_bound};
use proptest::prelude::*;

use crate::tables::sample_lines;

/// Real tables an uploader might send: district summaries (wide and long), small areas beside
/// their districts, a multi-year long table.
const TABLES: &[&str] = &[
    "imd2019_lad_summaries_file10.csv",
    "imd2019_lsoa_file1_imd.csv",
    "lad_indicators_ons_sni_2022_wide.csv",
    "els_claimant_count_2001_2025_lad23.csv",
    "lad17_area_classification_2011.csv",
];

fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        TABLES
            .iter()
            .map(|f| {
                let p = test_support::data_dir().join(f);
                let bytes =
                    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                sample_lines(&bytes, 60)
            })
            .collect()
    })
}

/// Two real layers: LAD 2019 from its boundary file, LSOA 2011 from the deprivation table that
/// lists every one of them (loading the 15 MB LSOA boundaries for their codes is not needed).
pub fn layers() -> &'static Vec<KnownLayer> {
    static LAYERS: OnceLock<Vec<KnownLayer>> = OnceLock::new();
    LAYERS.get_or_init(|| {
        let data = test_support::data_dir();
        let lad = load_boundaries(
            &data.join("lad_2019_uk_generalised_wgs84.geojson"),
            &BoundarySpec::new("lad19cd", "lad19nm"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let lad19 = KnownLayer::new(
            "lad19",
            "Local authority districts (December 2019)",
            lad.features.iter().map(|f| f.code.clone()).collect(),
            lad.features.iter().map(|f| f.name.clone()).collect(),
        );
        let path = data.join("imd2019_lsoa_file1_imd.csv");
        let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
        let (mut codes, mut names) = (Vec::new(), Vec::new());
        for rec in reader.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{e}"));
            codes.push(rec[0].to_string());
            names.push(rec[1].to_string());
        }
        let lsoa11 = KnownLayer::new("lsoa11", "LSOAs (2011)", codes, names);
        vec![lad19, lsoa11]
    })
}

/// The server's limits, with fewer rows so the row limit is met too.
pub fn limits() -> Limits {
    Limits {
        max_bytes: 1024 * 1024,
        max_rows: 5_000,
        ..Limits::default()
    }
}

fn options() -> impl Strategy<Value = UploadOptions> {
    let rule = prop_oneof![
        Just("mean".to_string()),
        Just("sum".to_string()),
        Just("weighted-mean".to_string()),
        Just("share:decile=1".to_string()),
        Just("share:Index of Multiple Deprivation (IMD) Decile<=2".to_string()),
        Just("max".to_string()),
        nasty_text(),
    ];
    let word = |choices: &'static [&'static str]| {
        prop_oneof![
            3 => proptest::sample::select(choices).prop_map(str::to_string),
            1 => nasty_text(),
        ]
    };
    (
        proptest::option::weighted(0.2, word(&["lad19", "lsoa11", "lad21", "nowhere"])),
        proptest::option::weighted(0.2, rule),
        proptest::option::weighted(
            0.1,
            word(&["Index of Multiple Deprivation (IMD) Rank", "households"]),
        ),
        proptest::option::weighted(0.1, word(&["2019", "2019/20", "latest", ""])),
        proptest::option::weighted(0.1, word(&["higher_is_worse", "worse", "sideways"])),
        proptest::option::weighted(0.1, word(&["imd", "new", "Imd", "a_b_1"])),
        proptest::option::weighted(0.05, word(&["Sheet1", "Sheet2"])),
    )
        .prop_map(
            |(layer, aggregate, weights, period, direction, id, sheet)| UploadOptions {
                layer,
                aggregate,
                weights,
                period,
                direction,
                id,
                sheet,
                ..UploadOptions::default()
            },
        )
}

/// Analyses one upload: `Ok`, or an error with a message and a hint.
pub fn upload(bytes: &[u8], name: &str, opts: &UploadOptions) -> Result<Outcome, TestCaseError> {
    let result = within_bound(
        || format!("{name} ({} bytes), {opts:?}", bytes.len()),
        || analyse(bytes, name, None, opts, layers(), &limits()),
    )?;
    match result {
        Ok(a) => {
            // Every value lines up with a district of the chosen layer.
            let layer = layers().iter().find(|l| l.id == a.detection.layer);
            prop_assert!(layer.is_some(), "unknown layer {}", a.detection.layer);
            let districts = layer.map_or(0, |l| l.codes.len());
            for j in &a.joined {
                for (label, values) in &j.periods {
                    prop_assert_eq!(values.len(), districts, "{} {}", j.key, label);
                }
            }
            Ok(Outcome::Read)
        }
        Err(e) => {
            clear_error(&e.message, None)?;
            prop_assert!(!e.hint.trim().is_empty(), "no hint: {}", e.message);
            Ok(Outcome::Refused(e.message))
        }
    }
}

fn csv_case() -> impl Strategy<Value = (usize, Vec<Mutation>, bool, UploadOptions)> {
    (
        any::<usize>(),
        mutate::mutations(6),
        any::<bool>(),
        options(),
    )
}

/// Samples of real tables, mutated, as CSV or TSV.
#[test]
fn csv_uploads_mutated() {
    run(
        "csv_uploads_mutated",
        250,
        true,
        csv_case(),
        |(which, edits, tsv, opts)| {
            let seeds = seeds();
            let mut bytes = mutate::apply(&seeds[which % seeds.len()], &edits);
            if tsv {
                bytes = mutate::apply(&bytes, &[Mutation::SwapBytes(b',', b'\t')]);
            }
            upload(&bytes, if tsv { "upload.tsv" } else { "upload.csv" }, &opts)
        },
    );
}

/// Arbitrary bytes as an upload (a zip signature first, sometimes).
#[test]
fn arbitrary_uploads() {
    let inputs = (
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..1_500),
        options(),
    );
    run(
        "arbitrary_uploads",
        100,
        false,
        inputs,
        |(zip, body, opts)| {
            let mut bytes = if zip {
                b"PK\x03\x04".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(&body);
            upload(
                &bytes,
                if zip { "upload.xlsx" } else { "upload.csv" },
                &opts,
            )
        },
    );
}

// ---------------------------------------------------------------------------------------------
// XLSX

/// A workbook of a CSV sample (numbers as numbers, the rest as text), written by
/// rust_xlsxwriter as a spreadsheet program would.
fn workbook(csv_bytes: &[u8]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_bytes);
    for (r, rec) in reader.records().enumerate() {
        let Ok(rec) = rec else { continue };
        for (c, cell) in rec.iter().enumerate() {
            let (r, c) = (u32::try_from(r).unwrap_or(0), u16::try_from(c).unwrap_or(0));
            let written = match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => sheet.write_number(r, c, x).map(|_| ()),
                _ => sheet.write_string(r, c, cell).map(|_| ()),
            };
            written.unwrap_or_else(|e| panic!("writing a cell: {e}"));
        }
    }
    wb.save_to_buffer()
        .unwrap_or_else(|e| panic!("saving a workbook: {e}"))
}

pub fn xlsx_seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        seeds()
            .iter()
            .map(|s| workbook(&mutate::head_lines(s, 25)))
            .collect()
    })
}

/// Edits of the sheet XML inside a workbook.
#[derive(Clone, Debug)]
pub enum SheetEdit {
    /// `<dimension ref="...">` declares this range.
    Dimension(&'static str),
    /// The nth cell reference `r="..."` becomes this one.
    CellRef(u32, &'static str),
    /// Byte edits of the XML.
    Bytes(Vec<Mutation>),
}

const REFS: &[&str] = &[
    "A1:XFD1048576",
    "A1:ZZZZZZZZ999999999999",
    "XFD1048576",
    "A1048577",
    "A4294967296",
    "A999999999999",
    "ZZZZZ1",
    "",
    "1A",
    "A0",
    "a1",
    "A-1",
];

fn sheet_edit() -> impl Strategy<Value = SheetEdit> {
    prop_oneof![
        proptest::sample::select(REFS).prop_map(SheetEdit::Dimension),
        (any::<u32>(), proptest::sample::select(REFS)).prop_map(|(n, r)| SheetEdit::CellRef(n, r)),
        mutate::mutations(3).prop_map(SheetEdit::Bytes),
    ]
}

fn edit_sheet(xml: &str, edit: &SheetEdit) -> Vec<u8> {
    match edit {
        SheetEdit::Dimension(r) => match xml.find("<dimension ref=\"") {
            Some(i) => {
                let start = i + "<dimension ref=\"".len();
                let end = xml[start..].find('"').map_or(start, |j| start + j);
                format!("{}{r}{}", &xml[..start], &xml[end..]).into_bytes()
            }
            None => xml.as_bytes().to_vec(),
        },
        SheetEdit::CellRef(n, r) => {
            let starts: Vec<usize> = xml.match_indices(" r=\"").map(|(i, _)| i + 4).collect();
            if starts.is_empty() {
                return xml.as_bytes().to_vec();
            }
            let start = starts[*n as usize % starts.len()];
            let end = xml[start..].find('"').map_or(start, |j| start + j);
            format!("{}{r}{}", &xml[..start], &xml[end..]).into_bytes()
        }
        SheetEdit::Bytes(m) => mutate::apply(xml.as_bytes(), m),
    }
}

/// The workbook with its first sheet's XML edited (other parts copied), zipped again.
pub fn rezip(xlsx: &[u8], edits: &[SheetEdit]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap_or_else(|e| panic!("{e}"));
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
        let name = file.name().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        if name == "xl/worksheets/sheet1.xml" {
            for e in edits {
                bytes = edit_sheet(&String::from_utf8_lossy(&bytes), e);
            }
        }
        out.start_file(name, opts).unwrap_or_else(|e| panic!("{e}"));
        out.write_all(&bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    out.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

fn xlsx_case() -> impl Strategy<Value = (usize, Vec<SheetEdit>, Vec<Mutation>, UploadOptions)> {
    (
        any::<usize>(),
        proptest::collection::vec(sheet_edit(), 0..4),
        proptest::collection::vec(
            prop_oneof![
                (any::<u32>(), 0..8u8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
                any::<u32>().prop_map(Mutation::Truncate),
            ],
            0..2,
        ),
        options(),
    )
}

/// Workbooks of real tables with their sheet XML edited, and zip bytes flipped.
#[test]
fn xlsx_uploads_mutated() {
    run(
        "xlsx_uploads_mutated",
        150,
        true,
        xlsx_case(),
        |(which, sheet, zip_edits, opts)| {
            let seeds = xlsx_seeds();
            let bytes = rezip(&seeds[which % seeds.len()], &sheet);
            upload(&mutate::apply(&bytes, &zip_edits), "upload.xlsx", &opts)
        },
    );
}

#[test]
fn the_seeds_are_read_unmutated() {
    for (name, bytes) in TABLES.iter().zip(seeds()) {
        let a = analyse(
            bytes,
            name,
            None,
            &UploadOptions::default(),
            layers(),
            &limits(),
        );
        // The LSOA table beside its districts asks for aggregate=, the classification has
        // no numbers to map; the others map.
        match a {
            Ok(a) => assert!(!a.joined.is_empty(), "{name}"),
            Err(e) => assert!(
                name.contains("lsoa") || name.contains("classification"),
                "{name}: {}",
                e.message
            ),
        }
    }
    let xlsx = rezip(&xlsx_seeds()[0], &[]);
    let a = analyse(
        &xlsx,
        "file10.xlsx",
        None,
        &UploadOptions::default(),
        layers(),
        &limits(),
    );
    assert!(a.is_ok(), "{:?}", a.err());
}
