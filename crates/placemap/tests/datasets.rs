//! Uploaded datasets end to end: the real `placemap serve` on 127.0.0.1:0 with a temporary
//! state directory, tables shaped as people get them, restarts and SIGKILL mid-upload.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub(crate) const TOKEN: &str = "test-token-123";

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(state: &Path) -> Server {
    serve_layers(state, "lad19,lad21")
}

/// `placemap serve` with these layers (comma-separated) and `state` as its state directory.
pub(crate) fn serve_layers(state: &Path, layers: &str) -> Server {
    serve_args(state, &["--layers", layers])
}

/// `placemap serve` on 127.0.0.1:0 with `state` as its state directory and these options.
pub(crate) fn serve_args(state: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("PLACEMAP_DATA")
        .env("PLACEMAP_TOKEN", TOKEN)
        .args(["--quiet", "--state"])
        .arg(state)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("placemap serve starts");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server prints its address")
            .expect("line");
        if let Some(a) = line.strip_prefix("listening on http://") {
            break a.to_string();
        }
    };
    // Keep reading: a closed pipe would make the server's later prints fail.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Server { child, addr }
}

/// One HTTP/1.1 request (Connection: close): status and body.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let (status, _, body) = http_full(addr, method, path, headers, body);
    (status, body)
}

/// [`http`] with the response head too.
pub(crate) fn http_full(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end")
        + 4;
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, head, out[split..].to_vec())
}

pub(crate) fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

pub(crate) fn upload(
    addr: &str,
    query: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {TOKEN}");
    let (st, b) = http(
        addr,
        "POST",
        &format!("/datasets?{query}"),
        &[("Authorization", &auth), ("Content-Type", content_type)],
        body,
    );
    (st, json(&b))
}

/// A CSV with a BOM, CRLF, title lines, `%` signs, suppression markers, a region, an old code
/// and notes below.
const PAY_CSV: &str = "\u{feff}Pay table\r\nSource: ONS\r\n\r\nCode,Name,Pay %,Rate\r\nE06000001,Hartlepool,12.5%,\"1,234\"\r\ne06000002 ,Middlesbrough,[c],1000\r\nE12000001,North East,11%,900\r\nE06000060,Buckinghamshire,10%,800\r\nE06000001,Hartlepool again,9%,..\r\nE07000004,Aylesbury Vale,8%,700\r\nE01000001,An LSOA,7%,600\r\nNotes: provisional\r\n";

#[test]
fn csv_upload_is_detected_joined_served_versioned_and_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();

    // No token: 401, nothing stored.
    let (st, b) = http(
        &a,
        "POST",
        "/datasets?title=Pay",
        &[("Content-Type", "text/csv")],
        PAY_CSV.as_bytes(),
    );
    assert_eq!(st, 401);
    assert!(json(&b)["hint"].is_string());
    let (_, b) = http(&a, "GET", "/datasets", &[], b"");
    assert_eq!(json(&b)["datasets"].as_array().map(Vec::len), Some(0));

    let (st, r) = upload(
        &a,
        "title=Pay&layer=lad21&unit=%25",
        "text/csv",
        PAY_CSV.as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["id"], "pay");
    assert_eq!(r["version"], 1);
    assert_eq!(r["layer"], "lad21");
    assert_eq!(r["header_row"], 4);
    assert_eq!(r["code_column"], "Code");
    assert_eq!(r["detection"]["name_column"], "Name");
    assert_eq!(r["detection"]["notes_below"], 1);
    let inds = r["indicators"].as_array().expect("indicators");
    assert_eq!(inds.len(), 2);
    assert_eq!(inds[0]["id"], "pay_pay");
    assert_eq!(inds[0]["matched"], 2, "{r}"); // Hartlepool, Buckinghamshire ([c] is missing)
    assert_eq!(inds[0]["suppressed"]["[c]"], 1);
    assert_eq!(r["join"]["matched"], 3);
    assert_eq!(r["join"]["not_districts"][0]["code"], "E12000001");
    let unmatched = r["join"]["unmatched"].as_array().expect("unmatched");
    let reason = |code: &str| {
        unmatched
            .iter()
            .find(|u| u["code"] == code)
            .and_then(|u| u["reason"].as_str())
            .unwrap_or_else(|| panic!("{code} not in {unmatched:?}"))
            .to_string()
    };
    assert!(reason("E07000004").starts_with("earlier vintage"));
    assert!(reason("E07000004").contains("E06000060"));
    assert!(reason("E01000001").starts_with("other geography type"));
    assert!(reason("E06000001").contains("lines 5, 9"));
    assert_eq!(
        unmatched
            .iter()
            .find(|u| u["code"] == "E07000004")
            .map(|u| u["line"].clone()),
        Some(10.into())
    );

    // Served like a catalogue indicator.
    for path in [
        "/tiles/lad21/pay_rate/6/31/20.png",
        "/legend/lad21/pay_rate.svg",
        "/static/lad21/pay_rate.png",
        "/map/lad21/pay_rate",
        "/legend/lad21/pay_rate@1.svg",
    ] {
        let (st, b) = http(&a, "GET", path, &[], b"");
        assert_eq!(st, 200, "{path}: {}", String::from_utf8_lossy(&b));
    }

    // A new version; version 1 stays pinned.
    let auth = format!("Bearer {TOKEN}");
    let v2 = PAY_CSV.replace("1000", "2000");
    let (st, b) = http(
        &a,
        "PUT",
        "/datasets/pay?layer=lad21",
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        v2.as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["version"], 2);
    let (_, b) = http(&a, "GET", "/layers/lad21/districts/E06000002", &[], b"");
    let text = String::from_utf8_lossy(&b);
    assert!(text.contains("2000") && text.contains("1000"), "{text}");

    // Restart (SIGKILL): everything is still there.
    drop(server);
    let server = serve(dir.path());
    let (_, b) = http(&server.addr, "GET", "/datasets/pay", &[], b"");
    let d = json(&b);
    assert_eq!(d["versions"].as_array().map(Vec::len), Some(2), "{d}");
    let (st, _) = http(
        &server.addr,
        "GET",
        "/legend/lad21/pay_rate@2.svg",
        &[],
        b"",
    );
    assert_eq!(st, 200);

    // Delete: 410 afterwards, and its maps are gone.
    let (st, _) = http(
        &server.addr,
        "DELETE",
        "/datasets/pay",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(st, 204);
    let (st, _) = http(&server.addr, "GET", "/datasets/pay", &[], b"");
    assert_eq!(st, 410);
    let (st, _) = http(&server.addr, "GET", "/legend/lad21/pay_rate.svg", &[], b"");
    assert_eq!(st, 410);
}

#[test]
fn sigkill_during_a_large_upload_keeps_earlier_datasets_and_no_partial_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path());
    let a = server.addr.clone();
    let (st, r) = upload(&a, "id=first&layer=lad21", "text/csv", PAY_CSV.as_bytes());
    assert_eq!(st, 201, "{r}");
    // Start a large upload (the LSOA table, about 2 MB) and kill the server half way.
    let big = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/imd2019_lsoa_file1_imd.csv"
    ))
    .expect("LSOA table");
    let mut s = TcpStream::connect(&a).expect("connect");
    let head = format!(
        "POST /datasets?id=second HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(&big[..big.len() / 2]).expect("half");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = server.child.kill(); // SIGKILL
    let _ = server.child.wait();
    drop(s);
    let server = serve(dir.path());
    let (_, b) = http(&server.addr, "GET", "/datasets", &[], b"");
    let ids: Vec<String> = json(&b)["datasets"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(ids, vec!["first".to_string()]);
}

#[test]
fn concurrent_uploads_both_land_and_bad_inputs_get_clear_4xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let handles: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|id| {
            let a = a.clone();
            std::thread::spawn(move || {
                upload(
                    &a,
                    &format!("id={id}&layer=lad21"),
                    "text/csv",
                    PAY_CSV.as_bytes(),
                )
                .0
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), 201);
    }
    let (_, b) = http(&a, "GET", "/datasets", &[], b"");
    assert_eq!(json(&b)["datasets"].as_array().map(Vec::len), Some(2));

    let lsoa = "LSOA code,Score\nE01000001,1\nE01000002,2\nE01000003,3\n";
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty", Vec::new(), 422),
        ("binary", vec![0u8, 1, 2, 3, 0, 255], 422),
        (
            "no code column",
            b"Name,Value\nHartlepool,1\n".to_vec(),
            422,
        ),
        (
            "no values",
            b"Code,Name\nE06000001,Hartlepool\n".to_vec(),
            422,
        ),
        ("another geography type", lsoa.as_bytes().to_vec(), 422),
    ];
    for (what, body, want) in cases {
        let (st, r) = upload(&a, "title=Bad", "text/csv", &body);
        assert_eq!(st, want, "{what}: {r}");
        assert!(
            r["error"].is_string() && r["hint"].is_string(),
            "{what}: {r}"
        );
    }
    let (st, r) = upload(&a, "title=Lsoa", "text/csv", lsoa.as_bytes());
    assert!(
        r["error"]
            .as_str()
            .unwrap_or("")
            .contains("lower layer super output area"),
        "{st} {r}"
    );
    let (_, b) = http(&a, "GET", "/datasets", &[], b"");
    assert_eq!(json(&b)["datasets"].as_array().map(Vec::len), Some(2));
}

#[test]
fn xlsx_with_titles_and_notes_and_a_long_table_on_2019_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Table 3: claimant rate by district")
        .expect("cell");
    ws.write_string(1, 0, "Source: DWP").expect("cell");
    for (c, h) in ["Area name", "Area code", "2019", "2020/21", "2021-22"]
        .iter()
        .enumerate()
    {
        ws.write_string(3, c as u16, *h).expect("cell");
    }
    let rows = [
        ("Hartlepool", "E06000001"),
        ("Middlesbrough", "E06000002"),
        ("Aylesbury Vale", "E07000004"),
    ];
    for (r, (n, c)) in rows.iter().enumerate() {
        let r = r as u32 + 4;
        ws.write_string(r, 0, *n).expect("cell");
        ws.write_string(r, 1, *c).expect("cell");
        ws.write_number(r, 2, 3.5).expect("cell");
        ws.write_number(r, 3, 4.5).expect("cell");
        ws.write_string(r, 4, "[x]").expect("cell");
    }
    ws.write_string(8, 0, "Notes: rates are provisional")
        .expect("cell");
    let bytes = wb.save_to_buffer().expect("xlsx");
    let (st, r) = upload(
        &a,
        "title=Claimants&id=claimants",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &bytes,
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["header_row"], 4);
    assert_eq!(r["code_column"], "Area code");
    assert_eq!(r["layer"], "lad19"); // E07000004 only exists in 2019
    assert_eq!(r["indicators"][0]["id"], "claimants");
    assert_eq!(
        r["indicators"][0]["periods"],
        serde_json::json!(["2019", "2020/21", "2021/22"])
    );
    assert_eq!(r["join"]["matched"], 3);

    let long =
        "Code,Year,Rate\nE06000001,2019,1\nE06000001,2020,2\nE06000060,2020,3\nE07000004,2019,4\n";
    let (st, r) = upload(&a, "id=long", "text/csv", long.as_bytes());
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["detection"]["layout"], "long");
    assert_eq!(r["detection"]["period_column"], "Year");
    assert_eq!(
        r["indicators"][0]["periods"],
        serde_json::json!(["2019", "2020"])
    );
}

/// `Code,Name,Pay` rows of the unitary authorities (E06) in 2022 from the real ONS median
/// weekly pay table; `f` turns the real value into the uploaded one.
fn e06_pay_table(f: impl Fn(f64) -> f64) -> String {
    let path = test_support::data_dir().join("els_median_weekly_pay_2008_2022_lad21.csv");
    let mut rdr = csv::Reader::from_path(&path).expect("the real pay table");
    let mut out = String::from("Code,Name,Pay\n");
    for rec in rdr.records() {
        let rec = rec.expect("record");
        let (code, name, period, value) = (&rec[0], &rec[1], &rec[7], &rec[8]);
        if code.starts_with("E06")
            && period == "2022"
            && let Ok(v) = value.parse::<f64>()
        {
            out.push_str(&format!("{code},\"{name}\",{:.1}\n", f(v)));
        }
    }
    assert!(out.lines().count() > 50, "{out}");
    out
}

fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    http(addr, "GET", path, &[], b"")
}

fn get_ok(addr: &str, path: &str) -> Vec<u8> {
    let (st, b) = get(addr, path);
    assert_eq!(st, 200, "{path}: {}", String::from_utf8_lossy(&b));
    b
}

#[test]
fn versions_are_pinned_by_at_n_and_version_n_on_every_route() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let auth = format!("Bearer {TOKEN}");

    // Version 1: the real 2022 pay; version 2 turns the order round (1000 - pay).
    let v1 = e06_pay_table(|v| v);
    let v2 = e06_pay_table(|v| 1000.0 - v);
    let (st, r) = upload(
        &a,
        "id=weekly_pay&title=Weekly%20pay&layer=lad21&unit=%C2%A3",
        "text/csv",
        v1.as_bytes(),
    );
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["pinned_map"], "/map/lad21/weekly_pay@1");
    let (st, b) = http(
        &a,
        "PUT",
        "/datasets/weekly_pay?layer=lad21",
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        v2.as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["version"], 2);

    // Hartlepool's value, as each route reads it.
    let hartlepool = |table: &str| -> f64 {
        table
            .lines()
            .find(|l| l.starts_with("E06000001,"))
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
            .expect("Hartlepool row")
    };
    let (h1, h2) = (hartlepool(&v1), hartlepool(&v2));
    assert!((h1 - h2).abs() > 1.0);

    // Legends: `@1` and `version=1` are version 1, the bare id and `version=2` the latest.
    let legend = |path: &str| -> serde_json::Value { json(&get_ok(&a, path)) };
    let l_at1 = legend("/legend/lad21/weekly_pay@1.json");
    let l_v1 = legend("/legend/lad21/weekly_pay.json?version=1");
    let l_latest = legend("/legend/lad21/weekly_pay.json");
    let l_v2 = legend("/legend/lad21/weekly_pay.json?version=2");
    assert_eq!(l_at1["entries"], l_v1["entries"]);
    assert_eq!(l_latest["entries"], l_v2["entries"]);
    assert_ne!(l_v1["entries"], l_latest["entries"], "{l_v1} vs {l_latest}");
    assert_eq!(l_v1["indicator"], "weekly_pay@1");
    assert_eq!(l_latest["indicator"], "weekly_pay");

    // PNG tiles of England at zoom 5, static figures and vector tiles.
    let t_at1 = get_ok(&a, "/tiles/lad21/weekly_pay@1/5/15/10.png");
    let t_v1 = get_ok(&a, "/tiles/lad21/weekly_pay/5/15/10.png?version=1");
    let t_latest = get_ok(&a, "/tiles/lad21/weekly_pay/5/15/10.png");
    assert_eq!(t_at1, t_v1);
    assert_ne!(t_v1, t_latest);
    let s_at1 = get_ok(&a, "/static/lad21/weekly_pay@1.svg?width=500&height=600");
    let s_v1 = get_ok(
        &a,
        "/static/lad21/weekly_pay.svg?width=500&height=600&version=1",
    );
    let s_latest = get_ok(&a, "/static/lad21/weekly_pay.svg?width=500&height=600");
    assert_eq!(s_at1, s_v1);
    assert_ne!(s_v1, s_latest);
    let m_at1 = get_ok(&a, "/tiles/lad21/5/15/10.mvt?indicators=weekly_pay@1");
    let m_v1 = get_ok(
        &a,
        "/tiles/lad21/5/15/10.mvt?indicators=weekly_pay&version=1",
    );
    let m_latest = get_ok(&a, "/tiles/lad21/5/15/10.mvt?indicators=weekly_pay");
    assert_eq!(m_at1, m_v1);
    assert_ne!(m_v1, m_latest);

    // TileJSON says which version it draws and the id that keeps drawing it.
    let tj = json(&get_ok(&a, "/tiles/lad21/weekly_pay.json"));
    assert_eq!(tj["placemap"]["version"], 2, "{tj}");
    assert_eq!(tj["placemap"]["pinned_indicator"], "weekly_pay@2");
    let tj1 = json(&get_ok(&a, "/tiles/lad21/weekly_pay.json?version=1"));
    assert_eq!(tj1["placemap"]["version"], 1);
    let tiles = tj1["tiles"][0].as_str().expect("tiles url");
    assert!(
        tiles.contains("/weekly_pay@1/") && !tiles.contains("version="),
        "{tiles}"
    );

    // Values: CSV, GeoJSON, OGC and lookup.
    let value_in = |text: &str, v: f64| text.contains(&format!("{v}"));
    let csv1 = String::from_utf8_lossy(&get_ok(
        &a,
        "/layers/lad21.csv?indicators=weekly_pay&version=1",
    ))
    .to_string();
    assert!(
        csv1.lines()
            .next()
            .is_some_and(|h| h.contains("weekly_pay@1")),
        "{csv1}"
    );
    let row = csv1
        .lines()
        .find(|l| l.starts_with("E06000001"))
        .expect("row");
    assert!(value_in(row, h1) && !value_in(row, h2), "{row}");
    let gj = String::from_utf8_lossy(&get_ok(
        &a,
        "/layers/lad21.geojson?indicators=weekly_pay@1&bbox=-1.3,54.6,-1.1,54.75",
    ))
    .to_string();
    assert!(value_in(&gj, h1) && !value_in(&gj, h2));
    let item = json(&get_ok(
        &a,
        "/ogc/collections/lad21/items/E06000001?indicators=weekly_pay&version=1",
    ));
    assert_eq!(item["properties"]["weekly_pay@1"], h1, "{item}");
    let look = json(&get_ok(&a, "/lookup?lon=-1.21&lat=54.69&layer=lad21"));
    let values = &look["results"][0]["values"];
    assert_eq!(values["weekly_pay@1"]["value"], h1, "{look}");
    assert_eq!(values["weekly_pay"]["value"], h2);

    // Statistics read the pinned version.
    let moran = json(&get_ok(
        &a,
        "/stats/lad21/weekly_pay/moran?version=1&permutations=99",
    ));
    assert_eq!(moran["indicator"], "weekly_pay@1");

    // The map page: `version=` redirects to the pinned address; the page knows the version
    // its embed code and downloads pin (the script turns `pinned` into those links).
    let (st, head, _) = http_full(&a, "GET", "/map/lad21/weekly_pay?version=1", &[], b"");
    assert_eq!(st, 303, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("location: /map/lad21/weekly_pay@1\r\n"),
        "{head}"
    );
    let page = String::from_utf8_lossy(&get_ok(&a, "/map/lad21/weekly_pay")).to_string();
    assert!(page.contains(r#""pinned":"weekly_pay@2""#), "{page}");
    let layers = json(&get_ok(&a, "/layers/lad21"));
    let ind = layers["indicators"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["id"] == "weekly_pay"))
        .expect("weekly_pay listed");
    assert_eq!(ind["pinned_id"], "weekly_pay@2");
    assert_eq!(ind["version"], 2);

    // Clear errors: a version that does not exist, two versions, a catalogue indicator.
    let (st, b) = get(&a, "/legend/lad21/weekly_pay.json?version=3");
    assert_eq!(st, 404);
    assert!(
        json(&b)["hint"]
            .as_str()
            .is_some_and(|h| h.contains("versions: 1, 2")),
        "{}",
        String::from_utf8_lossy(&b)
    );
    let (st, _) = get(&a, "/tiles/lad21/weekly_pay@3/5/15/10.png");
    assert_eq!(st, 404);
    let (st, _) = get(&a, "/legend/lad21/weekly_pay@1.json?version=2");
    assert_eq!(st, 400);
    let (st, _) = get(&a, "/legend/lad21/weekly_pay@one.json");
    assert_eq!(st, 400);
    let (st, b) = get(&a, "/legend/lad21/median_weekly_pay.json?version=1");
    assert_eq!(st, 400, "{}", String::from_utf8_lossy(&b));
    let (st, _) = get(&a, "/layers/lad21.csv?version=1");
    assert_eq!(st, 400);
    let (st, _) = get(&a, "/tiles/lad21/weekly_pay/5/15/10.png?version=x");
    assert_eq!(st, 400);

    // Deleted: every route of it, pinned or not, answers 410 Gone.
    let (st, _) = http(
        &a,
        "DELETE",
        "/datasets/weekly_pay",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(st, 204);
    for path in [
        "/legend/lad21/weekly_pay@1.json",
        "/legend/lad21/weekly_pay.json?version=2",
        "/tiles/lad21/weekly_pay.json",
        "/tiles/lad21/weekly_pay/5/15/10.png",
        "/static/lad21/weekly_pay@2.png",
        "/map/lad21/weekly_pay@1",
        "/layers/lad21.csv?indicators=weekly_pay@1",
        "/stats/lad21/weekly_pay/moran",
    ] {
        let (st, b) = get(&a, path);
        assert_eq!(st, 410, "{path}: {}", String::from_utf8_lossy(&b));
    }
}

#[test]
fn the_upload_page_is_served_with_its_script_and_new_is_not_an_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path());
    let a = server.addr.clone();
    let (st, head, body) = http_full(&a, "GET", "/datasets/new", &[], b"");
    assert_eq!(st, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    let html = String::from_utf8_lossy(&body);
    for part in [
        r#"<label for="file">"#,
        r#"<label for="paste">"#,
        r#"<label for="title">"#,
        r#"<label for="unit">"#,
        r#"<label for="direction">"#,
        r#"<label for="token">"#,
        r#"type="password""#,
        r#"<option value="higher_is_worse">"#,
        r#"<script src="/datasets/assets/new.js">"#,
    ] {
        assert!(html.contains(part), "the page lacks {part}");
    }
    let (st, head, js) = http_full(&a, "GET", "/datasets/assets/new.js", &[], b"");
    assert_eq!(st, 200);
    assert!(
        head.to_ascii_lowercase().contains("text/javascript"),
        "{head}"
    );
    let js = String::from_utf8_lossy(&js);
    assert!(js.contains("dry_run=true") && js.contains("sessionStorage"));
    let (st, _) = get(&a, "/datasets/assets/nothing.js");
    assert_eq!(st, 404);

    // `new` is the page's address, so no dataset may be called that.
    let (st, r) = upload(&a, "id=new&layer=lad21", "text/csv", PAY_CSV.as_bytes());
    assert_eq!(st, 422, "{r}");
    assert!(
        r["error"].as_str().is_some_and(|e| e.contains("reserved")),
        "{r}"
    );
}

/// `placemap --state DIR ARGS...`: exit success and stderr.
fn cli(state: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("PLACEMAP_DATA")
        .arg("--quiet")
        .arg("--state")
        .arg(state)
        .args(args)
        .output()
        .expect("placemap runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn the_cli_pins_versions_and_says_when_a_dataset_was_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("pay.csv");
    std::fs::write(&table, e06_pay_table(|v| v)).expect("write table");
    let table = table.to_string_lossy().to_string();
    let add = [
        "datasets", "add", &table, "--id", "cli_pay", "--layer", "lad21",
    ];
    for _ in 0..2 {
        let (ok, err) = cli(dir.path(), &add);
        assert!(ok, "{err}");
    }
    let out = dir.path().join("v1.svg").to_string_lossy().to_string();
    let render = |indicator: &str| {
        cli(
            dir.path(),
            &[
                "render",
                "--layer",
                "lad21",
                "--indicator",
                indicator,
                "--out",
                &out,
            ],
        )
    };
    let (ok, err) = render("cli_pay@1");
    assert!(ok, "{err}");
    let (ok, err) = render("cli_pay@5");
    assert!(!ok);
    assert!(
        err.contains("no version 5") && err.contains("versions: 1, 2"),
        "{err}"
    );
    let (ok, err) = cli(dir.path(), &["datasets", "delete", "cli_pay"]);
    assert!(ok, "{err}");
    let (ok, err) = render("cli_pay@1");
    assert!(!ok);
    assert!(err.contains("was deleted"), "{err}");
}
