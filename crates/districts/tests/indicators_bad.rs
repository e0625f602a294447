//! Bad CSVs, written to temporary files: each one errors (or is reported) naming file and line.

use std::path::{Path, PathBuf};

use districts::catalog::{Catalog, CatalogError};
use districts::indicators::{TableError, TableValues, read_table};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("placemap-bad-csv-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        // The layer file only has to exist for catalogue validation.
        std::fs::write(d.join("layer.geojson"), "{}").expect("layer");
        Scratch(d)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    }
    fn catalog(&self, source: &str) -> Result<Catalog, CatalogError> {
        let text = format!(
            r#"[[layer]]
id = "lad"
title = "t"
file = "layer.geojson"
code_field = "code"
name_field = "name"
vintage = "v"
licence = "l"
attribution = "a"

{source}"#
        );
        let p = self.write("catalog.toml", text.as_bytes());
        Catalog::load(&p, &self.0)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wide(file: &str, code_column: &str, extra: &str) -> String {
    format!(
        r#"[[source]]
id = "s"
title = "t"
file = "{file}"
publisher = "p"
licence = "l"
attribution = "a"
layout = "wide"
code_column = "{code_column}"
period = "2019"
layers = ["lad"]
{extra}
[[source.indicator]]
id = "v"
title = "t"
unit = "u"
direction = "neutral"
column = "value"
"#
    )
}

fn read(cat: &Catalog) -> Result<districts::indicators::IndicatorTable, TableError> {
    read_table(cat, &cat.sources[0])
}

fn assert_names(msg: &str, file: &Path, line: &str) {
    assert!(
        msg.contains(&file.display().to_string()),
        "no file in: {msg}"
    );
    assert!(msg.contains(line), "no `{line}` in: {msg}");
}

#[test]
fn duplicate_codes_are_reported_first_kept() {
    let s = Scratch::new("dups");
    s.write(
        "t.csv",
        b"code,value\nE06000001,1\nE06000002,2\ne06000001 ,3\n",
    );
    let cat = s.catalog(&wide("t.csv", "code", "")).expect("catalog");
    let t = read(&cat).expect("reads");
    let v = &t.indicators[0];
    assert_eq!(v.duplicates.len(), 1);
    let d = &v.duplicates[0];
    assert_eq!(
        (
            d.code.as_str(),
            d.period.as_str(),
            d.first_line,
            d.line,
            d.same_value
        ),
        ("E06000001", "2019", 2, 4, false)
    );
    assert_eq!(v.periods[0].values.number("E06000001"), Some(Some(1.0)));
}

#[test]
fn missing_code_column_names_file_and_header() {
    let s = Scratch::new("nocode");
    let file = s.write("t.csv", b"area,value\nE06000001,1\n");
    let err = s
        .catalog(&wide("t.csv", "code", ""))
        .expect_err("must fail");
    let msg = err.to_string();
    assert!(matches!(err, CatalogError::MissingColumn { .. }));
    assert_names(&msg, &file, "header: area, value");

    // The reader checks too, e.g. when the file changed after validation.
    s.write("t.csv", b"code,value\nE06000001,1\n");
    let cat = s.catalog(&wide("t.csv", "code", "")).expect("catalog");
    s.write("t.csv", b"area,value\nE06000001,1\n");
    let err = read(&cat).expect_err("must fail");
    assert!(matches!(
        err,
        TableError::MissingColumn { role: "code", .. }
    ));
    assert_names(&err.to_string(), &file, "header: area, value");
}

#[test]
fn non_utf8_bytes_name_the_line_unless_windows_1252() {
    let s = Scratch::new("latin");
    let file = s.write(
        "t.csv",
        b"code,name,value\nE06000001,ok,1\nE06000002,caf\xe9 \xa3,2\n",
    );
    let cat = s
        .catalog(&wide("t.csv", "code", "name_column = \"name\""))
        .expect("catalog");
    let err = read(&cat).expect_err("must fail");
    assert!(
        matches!(err, TableError::NotUtf8 { line: 3, .. }),
        "{err:?}"
    );
    assert_names(&err.to_string(), &file, "line 3");
    assert!(err.to_string().contains("windows-1252"));

    let cat = s
        .catalog(&wide(
            "t.csv",
            "code",
            "name_column = \"name\"\nencoding = \"windows-1252\"",
        ))
        .expect("catalog");
    let t = read(&cat).expect("decodes");
    assert_eq!(
        t.indicators[0].names.get("E06000002").map(String::as_str),
        Some("café £")
    );
}

#[test]
fn garbage_number_names_file_line_and_column() {
    let s = Scratch::new("garbage");
    let file = s.write("t.csv", "\u{feff}code , value \nE06000001,\"1,234\"\nE06000002,12.5%\nE06000003,x\nE06000004,twelve\n".as_bytes());
    let cat = s
        .catalog(&wide("t.csv", "code", ""))
        .expect("catalog (BOM and padded header)");
    let err = read(&cat).expect_err("must fail");
    assert!(
        matches!(&err, TableError::BadNumber { line: 5, value, .. } if value == "twelve"),
        "{err:?}"
    );
    assert_names(&err.to_string(), &file, "line 5, column `value`");

    s.write(
        "t.csv",
        b"code,value\nE06000001,\"1,234\"\nE06000002,12.5%\nE06000003,x\nE06000004,\n",
    );
    let t = read(&cat).expect("reads");
    let TableValues::Numeric(m) = &t.indicators[0].periods[0].values else {
        panic!("numeric")
    };
    assert_eq!(m["E06000001"], Some(1234.0));
    assert_eq!(m["E06000002"], Some(12.5));
    assert_eq!(m["E06000003"], None);
    assert_eq!(m["E06000004"], None);
}

#[test]
fn ragged_rows_empty_codes_and_bad_periods_name_the_line() {
    let s = Scratch::new("ragged");
    let file = s.write("t.csv", b"code,value\nE06000001,1\nE06000002,2,3\n");
    let cat = s.catalog(&wide("t.csv", "code", "")).expect("catalog");
    let err = read(&cat).expect_err("ragged");
    assert!(matches!(err, TableError::Csv { line: 3, .. }), "{err:?}");
    assert_names(&err.to_string(), &file, "line 3");

    s.write("t.csv", b"code,value\nE06000001,1\n ,2\n");
    let err = read(&cat).expect_err("empty code");
    assert!(
        matches!(err, TableError::EmptyCode { line: 3, .. }),
        "{err:?}"
    );

    let long = r#"[[source]]
id = "s"
title = "t"
file = "l.csv"
publisher = "p"
licence = "l"
attribution = "a"
layout = "long"
code_column = "code"
period_column = "period"
value_column = "value"
layers = ["lad"]
[[source.indicator]]
id = "v"
title = "t"
unit = "u"
direction = "neutral"
"#;
    let file = s.write("l.csv", b"code,period,value\nE06000001,2018-09-01/P1Y,1\nE06000001,202021,2\nE06000001,last year,3\n");
    let cat = s.catalog(long).expect("catalog");
    let err = read(&cat).expect_err("bad period");
    assert!(
        matches!(&err, TableError::BadPeriod { line: 4, value, .. } if value == "last year"),
        "{err:?}"
    );
    assert_names(&err.to_string(), &file, "line 4");
    s.write(
        "l.csv",
        b"code,period,value\nE06000001,2018-09-01/P1Y,1\nE06000001,202021,2\n",
    );
    let t = read(&cat).expect("reads");
    let labels: Vec<&str> = t.indicators[0]
        .periods
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(labels, ["2018/19", "2020/21"]);
}

/// The catalogue source of the real IMD 2019 LAD summaries (File 10), average score column.
fn file10_source(file: &str) -> String {
    format!(
        r#"[[source]]
id = "s"
title = "t"
file = "{file}"
publisher = "p"
licence = "l"
attribution = "a"
layout = "wide"
code_column = "Local Authority District code (2019)"
name_column = "Local Authority District name (2019)"
period = "2019"
layers = ["lad"]

[[source.indicator]]
id = "imd_score"
title = "t"
unit = "u"
direction = "neutral"
column = "IMD - Average score"
"#
    )
}

/// The real File 10 as published (CRLF line ends), with the average score (5th field) of the
/// row on `line` (1-based; the header is line 1) replaced by `value`, and optionally the name of
/// Middlesbrough (line 3) quoted with a newline inside.
fn file10_with(line: usize, value: &str, quoted_newline: bool) -> Vec<u8> {
    let text =
        std::fs::read_to_string(test_support::data_dir().join("imd2019_lad_summaries_file10.csv"))
            .expect("File 10");
    assert!(
        text.contains("\r\n"),
        "File 10 is published with CRLF line ends"
    );
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    let row = &mut lines[line - 1];
    assert!(!row.contains('"'), "row {line} has no quoted field: {row}");
    let mut fields: Vec<&str> = row.split(',').collect();
    fields[4] = value;
    *row = fields.join(",");
    if quoted_newline {
        assert!(lines[2].starts_with("E06000002,Middlesbrough,"));
        lines[2] = lines[2].replacen("Middlesbrough", "\"Middles\nbrough\"", 1);
    }
    lines.join("\r\n").into_bytes()
}

/// `1e400` overflows to infinity when parsed: it is refused like `inf`, naming file, line and
/// column, rather than read as an infinite value.
#[test]
fn overflowing_numbers_are_refused_like_inf() {
    let s = Scratch::new("overflow");
    let cat_text = file10_source("file10.csv");
    for value in ["1e400", "-1e400", "inf", "1.8e308"] {
        let file = s.write("file10.csv", &file10_with(30, value, false));
        let cat = s.catalog(&cat_text).expect("catalog");
        let err = read(&cat).expect_err(value);
        let msg = err.to_string();
        assert_names(&msg, &file, "line 30, column `IMD - Average score`");
        assert!(msg.contains(value), "{msg}");
    }
    // The file as published reads, Peterborough (line 30) with its score.
    s.write("file10.csv", &file10_with(30, "27.821", false));
    let cat = s.catalog(&cat_text).expect("catalog");
    let t = read(&cat).expect("reads");
    let TableValues::Numeric(m) = &t.indicators[0].periods[0].values else {
        panic!("numeric")
    };
    assert_eq!(m["E06000031"], Some(27.821));
    assert_eq!(m.len(), 317);
}

/// Errors name the line a text editor shows: File 10 has CRLF line ends, and a quoted field
/// with a newline in it makes its record two lines long.
#[test]
fn line_numbers_count_crlf_and_quoted_newlines() {
    let s = Scratch::new("crlf-lines");
    let cat_text = file10_source("file10.csv");
    // A bad number on line 30 of the CRLF file.
    let file = s.write("file10.csv", &file10_with(30, "twelve", false));
    let cat = s.catalog(&cat_text).expect("catalog");
    let err = read(&cat).expect_err("bad number");
    assert!(
        matches!(&err, TableError::BadNumber { line: 30, .. }),
        "{err:?}"
    );
    assert_names(&err.to_string(), &file, "line 30,");
    // The same row one line further down after a quoted newline on line 3.
    s.write("file10.csv", &file10_with(30, "twelve", true));
    let err = read(&cat).expect_err("bad number");
    assert!(
        matches!(&err, TableError::BadNumber { line: 31, .. }),
        "{err:?}"
    );
    // A ragged row (a field too many) on line 30.
    s.write("file10.csv", &file10_with(30, "27.821,extra", false));
    let err = read(&cat).expect_err("ragged");
    assert!(matches!(&err, TableError::Csv { line: 30, .. }), "{err:?}");
    assert_names(&err.to_string(), &file, "line 30");
    // A repeated code: Hartlepool's on line 30 repeats line 2 (not the header, line 1).
    let text = String::from_utf8(file10_with(30, "27.821", false)).expect("UTF-8");
    s.write(
        "file10.csv",
        text.replacen("E06000031,Peterborough", "E06000001,Peterborough", 1)
            .as_bytes(),
    );
    let t = read(&cat).expect("reads");
    let d = &t.indicators[0].duplicates;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].first_line, d[0].line), (2, 30), "{d:?}");
}
