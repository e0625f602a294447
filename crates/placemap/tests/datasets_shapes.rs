//! Uploaded datasets of more shapes, over HTTP against the real `placemap serve`: small-area
//! tables aggregated to their districts (checked against the published IMD 2025 File 10), a
//! table on 2023 codes, TSV, formula cells, other geography types, a 1 GB body and an XLSX
//! declaring a huge sheet. Every client error is JSON `{"error", "hint"}`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::datasets::{TOKEN, http, json, serve, serve_layers, upload};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/../../../shared/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dataset_count(addr: &str) -> usize {
    let (_, b) = http(addr, "GET", "/datasets", &[], b"");
    json(&b)["datasets"].as_array().map_or(0, Vec::len)
}

/// `{"error", "hint"}` with both strings.
fn assert_json_error(what: &str, r: &serde_json::Value) {
    assert!(
        r["error"].as_str().is_some_and(|s| !s.is_empty()) && r["hint"].is_string(),
        "{what}: {r}"
    );
}

/// Rounds `v` to `d` decimals.
fn round(v: f64, d: i32) -> f64 {
    let m = 10f64.powi(d);
    (v * m).round() / m
}

#[test]
fn lsoa_2021_table_is_explained_then_aggregated_to_districts_as_file_10_publishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(dir.path(), "lad19,lad21,lad23");
    let a = server.addr.clone();
    let lsoa = data("imd2025_lsoa21_file1_imd.csv");

    // Without aggregate=: what the codes are, and the way to map them.
    let (st, r) = upload(&a, "id=imd25", "text/csv", &lsoa);
    assert_eq!(st, 422, "{r}");
    assert_json_error("no aggregate", &r);
    let error = r["error"].as_str().unwrap_or("");
    assert!(error.contains("LSOA code (2021)"), "{error}");
    assert!(
        error.contains("33,755 lower layer super output area (LSOA) (E01) codes"),
        "{error}"
    );
    assert!(error.contains("LSOA 2021 codes"), "{error}");
    let hint = r["hint"].as_str().unwrap_or("");
    assert!(
        hint.contains("Local Authority District code (2024)")
            && hint.contains("296 districts, layer lad23")
            && hint.contains("aggregate=share:")
            && hint.contains("weighted-mean"),
        "{hint}"
    );
    assert_eq!(dataset_count(&a), 0);

    // With it (the spelling): the share of LSOAs in decile 1, by district.
    let (st, r) = upload(
        &a,
        "id=imd25_d1&title=LSOAs%20in%20decile%201&aggregate=share:decile=1",
        "text/csv",
        &lsoa,
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["layer"], "lad23");
    assert_eq!(r["code_column"], "Local Authority District code (2024)");
    let agg = &r["aggregated"];
    assert_eq!(agg["rows"], 33_755, "{agg}");
    assert_eq!(agg["districts"], 296);
    assert_eq!(agg["how"], "share of rows with value = 1");
    assert_eq!(agg["rows_per_district"]["E09000001"], 6); // City of London
    assert_eq!(agg["rows_per_district"]["E06000053"], 1); // Isles of Scilly
    assert_eq!(agg["rows_per_district_max"], 659);
    assert_eq!(
        agg["columns"],
        serde_json::json!([
            "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOA"
        ])
    );
    assert_eq!(r["indicators"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["indicators"][0]["matched"], 296);
    assert_eq!(r["join"]["matched"], 296);
    assert_eq!(r["join"]["unmatched"].as_array().map(Vec::len), Some(0));

    // The served values equal File 10's "proportion of LSOAs in the most deprived 10%", rounded
    // as published, for every district but West Northamptonshire (File 10 version 1).
    let (st, body) = http(&a, "GET", "/layers/lad23.csv?indicators=imd25_d1", &[], b"");
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let mut rd = csv::Reader::from_reader(body.as_slice());
    let headers = rd.headers().expect("headers").clone();
    let col = headers
        .iter()
        .position(|h| h.starts_with("imd25_d1"))
        .unwrap_or_else(|| panic!("no imd25_d1 column in {headers:?}"));
    let ours: HashMap<String, f64> = rd
        .records()
        .map(|r| r.expect("row"))
        .filter_map(|r| Some((r[0].to_string(), r[col].parse().ok()?)))
        .collect();
    assert_eq!(ours.len(), 296);
    let file10 = data("imd2025_lad24_summaries_long_trafford.csv");
    let mut rd = csv::Reader::from_reader(file10.as_slice());
    let published: Vec<(String, String)> = rd
        .records()
        .map(|r| r.expect("row"))
        .filter(|r| &r[4] == "Index of Multiple Deprivation")
        .map(|r| (r[0].to_string(), r[9].to_string()))
        .collect();
    assert_eq!(published.len(), 296);
    // The file's precision: the usual count of decimals (4; one value is written 0.09300000000000001).
    let mut decimals: HashMap<usize, usize> = HashMap::new();
    for (_, v) in &published {
        *decimals
            .entry(v.split('.').nth(1).map_or(0, str::len))
            .or_default() += 1;
    }
    let d = decimals
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or(4, |(d, _)| *d as i32);
    assert_eq!(d, 4);
    let differ: Vec<&str> = published
        .iter()
        .filter(|(code, v)| {
            let p: f64 = v.parse().expect("number");
            ours.get(code)
                .is_none_or(|o| (round(*o, d) - round(p, d)).abs() > 1e-9)
        })
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(differ, vec!["E06000062"]);
    // Mapped like any dataset.
    let (st, _) = http(&a, "GET", "/tiles/lad23/imd25_d1/6/31/20.png", &[], b"");
    assert_eq!(st, 200);

    // Other rules and their errors.
    let (st, r) = upload(
        &a,
        "id=lsoa_mean_rank&aggregate=mean:rank",
        "text/csv",
        &lsoa,
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["aggregated"]["how"], "mean");
    for (query, needle) in [
        ("aggregate=share:score=1", "no value column matches"),
        ("aggregate=share:decile", "needs a class"),
        ("aggregate=average", "not a statistic"),
        ("aggregate=weighted-mean", "needs weights"),
        (
            "aggregate=weighted-mean&weights=population",
            "no value column",
        ),
    ] {
        let (st, r) = upload(&a, &format!("id=bad&{query}"), "text/csv", &lsoa);
        assert_eq!(st, 422, "{query}: {r}");
        assert_json_error(query, &r);
        assert!(
            r["error"].as_str().unwrap_or("").contains(needle),
            "{query}: {r}"
        );
    }
    // A district table has nothing to aggregate.
    let (st, r) = upload(
        &a,
        "id=bad&aggregate=mean",
        "text/csv",
        b"Code,Value\nE06000001,1\nE06000002,2\n",
    );
    assert_eq!(st, 422, "{r}");
    assert!(
        r["error"].as_str().unwrap_or("").contains("small-area"),
        "{r}"
    );
    assert_eq!(dataset_count(&a), 2);
}

#[test]
fn cli_aggregates_an_lsoa_table_with_the_same_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = format!(
        "{}/../../../shared/data/imd2025_lsoa21_file1_imd.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("PLACEMAP_DATA")
        .args(["--quiet", "--state"])
        .arg(dir.path())
        .args(["datasets", "add", &file, "--id", "imd25_d1"])
        .args(["--layers", "lad21,lad23", "--aggregate", "share:decile=1"])
        .output()
        .expect("placemap runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&out.stdout);
    assert_eq!(r["layer"], "lad23");
    assert_eq!(r["aggregated"]["districts"], 296);
    assert_eq!(r["join"]["matched"], 296);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("PLACEMAP_DATA")
        .args(["--quiet", "--state"])
        .arg(dir.path())
        .args(["datasets", "list"])
        .output()
        .expect("placemap runs");
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.starts_with("imd25_d1\tversion 1\tlad23"), "{list}");
}

#[test]
fn a_table_on_2023_codes_is_lad23_in_full_and_tsv_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(dir.path(), "lad19,lad21,lad23");
    let a = server.addr.clone();
    // The 2025 claimant rate of every district of April 2023 (Cumberland E06000063, Westmorland
    // and Furness E06000064, North Yorkshire E06000065, Somerset E06000066 included).
    let raw = data("els_claimant_count_2001_2025_lad23.csv");
    let mut rd = csv::Reader::from_reader(raw.as_slice());
    let headers = rd.headers().expect("headers").clone();
    let mut csv_out = csv::Writer::from_writer(Vec::new());
    csv_out.write_record(&headers).expect("header");
    let mut tsv_out = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(Vec::new());
    tsv_out.write_record(&headers).expect("header");
    let mut n = 0;
    for r in rd.records() {
        let r = r.expect("row");
        let district = ["E06", "E07", "E08", "E09", "W06", "S12", "N09"]
            .iter()
            .any(|k| r[0].starts_with(k));
        if district && &r[4] == "2025-01-01/P1Y" {
            csv_out.write_record(&r).expect("row");
            tsv_out.write_record(&r).expect("row");
            n += 1;
        }
    }
    assert_eq!(n, 361);
    let body = csv_out.into_inner().expect("csv");
    let text = String::from_utf8_lossy(&body);
    for code in ["E06000063", "E06000064", "E06000065", "E06000066"] {
        assert!(text.contains(code), "{code}");
    }
    let (st, r) = upload(&a, "id=claimants", "text/csv", &body);
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["layer"], "lad23");
    assert_eq!(r["rows"], 361);
    assert_eq!(r["join"]["matched"], 361);
    assert_eq!(r["join"]["districts"], 361);
    assert_eq!(
        r["join"]["unmatched"].as_array().map(Vec::len),
        Some(0),
        "{r}"
    );
    assert_eq!(
        r["join"]["districts_without_data"].as_array().map(Vec::len),
        Some(0)
    );

    let tsv = tsv_out.into_inner().expect("tsv");
    let (st, r) = upload(
        &a,
        "id=claimants_tsv&filename=claimants.tsv",
        "text/tab-separated-values",
        &tsv,
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["format"], "tsv");
    assert_eq!(r["layer"], "lad23");
    assert_eq!(r["join"]["matched"], 361);
    assert_eq!(r["code_column"], "areacd");
    assert_eq!(r["detection"]["name_column"], "areanm");
}

#[test]
fn formula_cells_are_read_as_their_saved_values_or_named_when_never_calculated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let workbook = |cached: bool| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        if !cached {
            // As a program that writes formulas without calculating them saves them.
            ws.set_formula_result_default("");
        }
        ws.write_string(0, 0, "Code").expect("cell");
        ws.write_string(0, 1, "Rate").expect("cell");
        for (r, code) in ["E06000001", "E06000002", "E06000003"].iter().enumerate() {
            let r = r as u32 + 1;
            ws.write_string(r, 0, *code).expect("cell");
            let f = rust_xlsxwriter::Formula::new(format!("={r}*2"));
            let f = if cached {
                f.set_result(format!("{}", r * 2))
            } else {
                f
            };
            ws.write_formula(r, 1, f).expect("cell");
        }
        wb.save_to_buffer().expect("xlsx")
    };
    let (st, r) = upload(&a, "id=formulas&layer=lad21", XLSX, &workbook(true));
    assert_eq!(st, 201, "{r}");
    let notes = r["detection"]["notes"].to_string();
    assert!(
        notes.contains("3 formula cells: their values as last calculated and saved were read"),
        "{notes}"
    );
    let (_, b) = http(&a, "GET", "/layers/lad21/districts/E06000003", &[], b"");
    let text = String::from_utf8_lossy(&b);
    assert!(text.contains("\"formulas\""), "{text}");

    let (st, r) = upload(&a, "id=uncalculated&layer=lad21", XLSX, &workbook(false));
    assert_eq!(st, 422, "{r}");
    assert_json_error("uncalculated formulas", &r);
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains("3 formula cells have no calculated value (first at row 2, column 2)"),
        "{r}"
    );
    assert_eq!(dataset_count(&a), 1);
}

#[test]
fn other_geographies_huge_sheets_and_odd_requests_get_json_4xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    // Region codes only.
    let regions =
        "Code,Name,Rate\nE12000001,North East,5\nE12000002,North West,4\nE12000007,London,6\n";
    let (st, r) = upload(&a, "id=regions", "text/csv", regions.as_bytes());
    assert_eq!(st, 422, "{r}");
    assert_json_error("regions", &r);
    assert!(
        r["error"].as_str().unwrap_or("").contains("3 region (E12)"),
        "{r}"
    );
    assert!(r["hint"].as_str().unwrap_or("").contains("lad21"), "{r}");

    // An XLSX declaring a sheet of 1,048,576 rows x 16,384 columns (two cells, far apart):
    // read cell by cell, refused at the row limit without allocating the sheet.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "E06000001").expect("cell");
    ws.write_number(1_048_575, 16_383, 1.0).expect("cell");
    let bomb = wb.save_to_buffer().expect("xlsx");
    assert!(bomb.len() < 20_000);
    let (st, r) = upload(&a, "id=bomb", XLSX, &bomb);
    assert_eq!(st, 413, "{r}");
    assert_json_error("bomb", &r);
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains("more than 100000 rows"),
        "{r}"
    );

    // Not a method of /datasets: 405, as JSON.
    let auth = format!("Bearer {TOKEN}");
    let (st, b) = http(&a, "PATCH", "/datasets", &[("Authorization", &auth)], b"");
    assert_eq!(st, 405);
    assert_json_error("405", &json(&b));
    // A multipart upload without its file part.
    let form =
        "--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nNo file\r\n--XX--\r\n";
    let (st, r) = upload(&a, "", "multipart/form-data; boundary=XX", form.as_bytes());
    assert_eq!(st, 422, "{r}");
    assert_json_error("no file part", &r);
    assert_eq!(dataset_count(&a), 0);
}

/// Sends `head` then up to 1 GiB of CSV rows from one reused 64 KiB buffer (chunked when
/// `chunked`), stopping as soon as a whole response has arrived. Returns the status, the
/// body and how many body bytes were sent.
fn stream_gigabyte(addr: &str, head: &str, chunked: bool) -> (u16, Vec<u8>, u64) {
    const GIB: u64 = 1 << 30;
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(head.as_bytes()).expect("head");
    let mut reader = s.try_clone().expect("clone");
    let answered = Arc::new(AtomicBool::new(false));
    let flag = answered.clone();
    let read = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|len| out.len() >= end + 4 + len) {
                    break;
                }
            }
        }
        flag.store(true, Ordering::SeqCst);
        out
    });
    let row = "E06000001,Hartlepool,1\n";
    let chunk = row.repeat(64 * 1024 / row.len());
    let mut sent = 0u64;
    while sent < GIB && !answered.load(Ordering::SeqCst) {
        let r = if chunked {
            write!(s, "{:x}\r\n", chunk.len())
                .and_then(|()| s.write_all(chunk.as_bytes()))
                .and_then(|()| s.write_all(b"\r\n"))
        } else {
            s.write_all(chunk.as_bytes())
        };
        if r.is_err() {
            break;
        }
        sent += chunk.len() as u64;
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let out = read.join().expect("reader");
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response after {sent} bytes"))
        + 4;
    let status = String::from_utf8_lossy(&out[..end])
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, out[end..].to_vec(), sent)
}

#[test]
fn a_gigabyte_body_gets_a_prompt_json_413_and_the_server_carries_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let limit = 32 * 1024 * 1024u64; // the default --max-upload-bytes
    // Declared up front: refused from the header, before the body is read.
    let head = format!(
        "POST /datasets?id=huge HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        1u64 << 30
    );
    let (st, body, sent) = stream_gigabyte(&a, &head, false);
    assert_eq!(st, 413, "{}", String::from_utf8_lossy(&body));
    let r = json(&body);
    assert_json_error("declared 1 GiB", &r);
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains(&limit.to_string()),
        "{r}"
    );
    assert!(
        sent < 1 << 30,
        "the whole gigabyte was sent before an answer"
    );
    // Chunked, no length: refused once the limit is passed.
    let head = format!(
        "POST /datasets?id=huge HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let (st, body, sent) = stream_gigabyte(&a, &head, true);
    assert_eq!(st, 413, "{}", String::from_utf8_lossy(&body));
    let r = json(&body);
    assert_json_error("chunked 1 GiB", &r);
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains(&limit.to_string()),
        "{r}"
    );
    assert!(
        sent < 1 << 30,
        "the whole gigabyte was sent before an answer"
    );
    // Still serving, nothing stored, and a normal upload works.
    let (st, _) = http(&a, "GET", "/health", &[], b"");
    assert_eq!(st, 200);
    assert_eq!(dataset_count(&a), 0);
    let (st, r) = upload(
        &a,
        "id=small&layer=lad21",
        "text/csv",
        b"Code,Rate\nE06000001,1\nE06000002,2\n",
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(dataset_count(&a), 1);
}
