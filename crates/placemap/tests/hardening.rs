//! Issue 12 on the real data, through the real `placemap serve` and command line: tiny boxes,
//! body limits, compressed bodies, slow clients, whole-or-nothing files, clear errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::datasets::{TOKEN, http, http_full, json, serve_args, serve_layers};

/// The box of issue 12: about a millimetre square near Middlesbrough.
const TINY_BBOX: &str = "-1.2,54.6,-1.19999999,54.60000001";

fn placemap() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_placemap"));
    c.current_dir(test_support::repo_root());
    c.env_remove("PLACEMAP_DATA");
    c.arg("--quiet");
    c
}

fn run_cmd(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("placemap runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_cmd(placemap().args(args))
}

/// Asserts the JSON error shape `{"error", "hint"}`.
fn assert_json_error(what: &str, j: &serde_json::Value) {
    assert!(
        j["error"].as_str().is_some_and(|e| !e.is_empty())
            && j["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{what}: not the JSON error: {j}"
    );
}

// ---- 1. A tiny bbox: no panic in tiny-skia. ----

#[test]
fn a_tiny_bbox_renders_a_png_from_the_server_and_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("tiny.png");
    let (code, _, err) = run(&[
        "render",
        "--layer",
        "lad19",
        "--indicator",
        "imd_score",
        &format!("--bbox={TINY_BBOX}"),
        "--width",
        "400",
        "--height",
        "300",
        "--out",
        out.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code, 0, "render of a tiny bbox: {err}");
    let png = std::fs::read(&out).expect("PNG written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");

    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(state.path(), "lad19");
    for ext in ["png", "svg"] {
        let (st, head, body) = http_full(
            &server.addr,
            "GET",
            &format!("/static/lad19/imd_score.{ext}?bbox={TINY_BBOX}&width=400&height=300"),
            &[],
            b"",
        );
        assert_eq!(st, 200, "{ext}: {head}{}", String::from_utf8_lossy(&body));
        if ext == "png" {
            assert!(body.starts_with(b"\x89PNG"));
        } else {
            assert!(String::from_utf8_lossy(&body).contains("<svg"));
        }
    }
    // Still serving.
    let (st, _) = http(&server.addr, "GET", "/health", &[], b"");
    assert_eq!(st, 200);
}

// ---- 4, 11, 12. Body limits, compressed bodies, error hygiene. ----

/// A FeatureCollection of `n` points on a grid over Teesside.
fn points_geojson(n: usize) -> String {
    let mut gj = String::with_capacity(n * 100);
    gj.push_str(r#"{"type":"FeatureCollection","features":["#);
    for i in 0..n {
        if i > 0 {
            gj.push(',');
        }
        let lon = -1.30 + (i % 200) as f64 * 0.001;
        let lat = 54.55 + (i / 200 % 200) as f64 * 0.001;
        gj.push_str(&format!(
            r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[{lon:.5},{lat:.5}]}}}}"#
        ));
    }
    gj.push_str("]}");
    gj
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// Sends a request declaring `len` body bytes, then streams `len` bytes of `fill` while the server
/// reads them; returns the status, head and body of the answer.
fn post_streamed(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    len: usize,
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {len}\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    let reader = s.try_clone().expect("clone");
    let read = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = BufReader::new(reader).read_to_end(&mut out);
        out
    });
    let chunk = "-1.2129,54.6863\n".repeat(4096);
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        if s.write_all(&chunk.as_bytes()[..n]).is_err() {
            break;
        }
        sent += n;
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let out = read.join().expect("reader");
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response after {sent} bytes"))
        + 4;
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    (status, head, out[end..].to_vec())
}

#[test]
fn post_lookup_takes_the_configured_16_mib_and_gzip_bodies_within_it() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(state.path(), "lad19");
    let a = &server.addr;
    // 100,000 points (the default --max-lookup-points): about 9 MB, over axum's 2 MiB default.
    let gj = points_geojson(100_000);
    assert!(gj.len() > 4 << 20, "{} bytes", gj.len());
    let (st, body) = http(
        a,
        "POST",
        "/lookup?layer=lad19",
        &[("Content-Type", "application/geo+json")],
        gj.as_bytes(),
    );
    assert_eq!(
        st,
        200,
        "{}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    );
    let j = json(&body);
    assert_eq!(j["count"], 100_000);
    // (-1.2129, 54.6863) is in Hartlepool: the grid's point 17 + 200 * 136 is close to it.
    assert!(
        j["matched"][0]["matched"]
            .as_u64()
            .is_some_and(|m| m > 50_000),
        "{}",
        j["matched"]
    );

    // The same body gzipped: decoded, same answer.
    let (st, body) = http(
        a,
        "POST",
        "/lookup?layer=lad19",
        &[
            ("Content-Type", "application/geo+json"),
            ("Content-Encoding", "gzip"),
        ],
        &gzip(gj.as_bytes()),
    );
    assert_eq!(
        st,
        200,
        "{}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    );
    assert_eq!(json(&body)["count"], 100_000);

    // Over the 16 MiB lookup limit: a JSON 413 naming the limit (not the upload limit).
    let (st, head, body) = post_streamed(
        a,
        "/lookup?layer=lad19",
        &[("Content-Type", "text/csv")],
        17 << 20,
    );
    assert_eq!(st, 413, "{head}{}", String::from_utf8_lossy(&body));
    let j = json(&body);
    assert_json_error("17 MiB lookup", &j);
    assert!(
        j["error"].as_str().unwrap_or("").contains("16777216"),
        "{j}"
    );

    // A gzip bomb: 40 KB that inflate to 40 MB of spaces, refused at the limit.
    let bomb = gzip(&vec![b' '; 40 << 20]);
    assert!(bomb.len() < 1 << 20);
    let (st, head, body) = http_full(
        a,
        "POST",
        "/lookup?layer=lad19",
        &[("Content-Type", "text/csv"), ("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(st, 413, "{head}{}", String::from_utf8_lossy(&body));
    assert_json_error("gzip bomb", &json(&body));

    // Encodings we do not decode: 415, the JSON error.
    for enc in ["br", "zstd", "compress"] {
        let (st, head, body) = http_full(
            a,
            "POST",
            "/lookup?layer=lad19",
            &[("Content-Type", "text/csv"), ("Content-Encoding", enc)],
            b"lon,lat\n-1.2,54.6\n",
        );
        assert_eq!(st, 415, "{enc}: {head}{}", String::from_utf8_lossy(&body));
        let j = json(&body);
        assert_json_error(enc, &j);
        assert!(j["hint"].as_str().unwrap_or("").contains("gzip"), "{j}");
    }
    // A gzipped upload is decoded too.
    let csv = "code,score\nE06000001,35.037\nE06000002,40.46\nE06000003,29.792\n";
    let auth = format!("Bearer {TOKEN}");
    let (st, body) = http(
        a,
        "POST",
        "/datasets?title=Gz&id=gz",
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/csv"),
            ("Content-Encoding", "gzip"),
        ],
        &gzip(csv.as_bytes()),
    );
    assert!(
        (200..300).contains(&st),
        "{st}: {}",
        String::from_utf8_lossy(&body)
    );
}

#[test]
fn json_errors_are_nosniff_and_echo_at_most_a_clipped_input() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(state.path(), "lad19");
    let a = &server.addr;
    // A 2 MB CSV header without lon/lat columns.
    let mut csv = String::with_capacity(2 << 20);
    for i in 0..200_000 {
        if i > 0 {
            csv.push(',');
        }
        csv.push_str(&format!("c{i}"));
    }
    csv.push_str("\n1,2\n");
    assert!(csv.len() > 1 << 20);
    let (st, head, body) = http_full(
        a,
        "POST",
        "/lookup",
        &[("Content-Type", "text/csv")],
        csv.as_bytes(),
    );
    assert_eq!(st, 400, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{head}"
    );
    let j = json(&body);
    assert_json_error("2 MB header", &j);
    let error = j["error"].as_str().unwrap_or("");
    assert!(
        error.chars().count() <= 1000,
        "{} characters echoed",
        error.len()
    );
    assert!(error.contains('…'), "{error}");
    assert!(error.contains("c0"), "{error}");

    // The same header uploaded as a dataset.
    let auth = format!("Bearer {TOKEN}");
    let (st, head, body) = http_full(
        a,
        "POST",
        "/datasets?title=Wide",
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        csv.as_bytes(),
    );
    assert!((400..500).contains(&st), "{head}");
    assert!(body.len() < 4000, "{} bytes in the error", body.len());
    assert!(head.to_ascii_lowercase().contains("nosniff"), "{head}");

    // Every JSON error says nosniff: a 404 and an axum rejection on /datasets.
    for (method, path) in [
        ("GET", "/nowhere"),
        ("GET", "/static/lad19/nope.png"),
        ("PATCH", "/datasets"),
    ] {
        let (st, head, _) = http_full(a, method, path, &[], b"");
        assert!((400..500).contains(&st), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("x-content-type-options: nosniff"),
            "{method} {path}: {head}"
        );
    }
}

// ---- 6, 7. Uploaded tables: infinities refused, lines counted as editors count them. ----

/// The real IMD 2019 LAD summaries (File 10; CRLF as published), first `rows` lines.
fn file10_head(rows: usize) -> String {
    let text =
        std::fs::read_to_string(test_support::data_dir().join("imd2019_lad_summaries_file10.csv"))
            .expect("File 10");
    text.split_inclusive("\r\n").take(rows).collect()
}

#[test]
fn uploads_refuse_overflowing_numbers_and_name_crlf_lines() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_layers(state.path(), "lad19");
    let a = &server.addr;
    let auth = format!("Bearer {TOKEN}");
    let upload = |query: &str, body: &[u8]| {
        let (st, b) = http(
            a,
            "POST",
            &format!("/datasets?{query}"),
            &[("Authorization", &auth), ("Content-Type", "text/csv")],
            body,
        );
        (st, json(&b))
    };
    // Peterborough (line 30) with an average score of 1e400.
    let head = file10_head(60);
    let line30 = head.split("\r\n").nth(29).expect("line 30").to_string();
    assert!(line30.starts_with("E06000031,Peterborough,"), "{line30}");
    let mut fields: Vec<&str> = line30.split(',').collect();
    fields[4] = "1e400";
    let bad = head.replacen(&line30, &fields.join(","), 1);
    let (st, j) = upload("title=Imd&id=file10_upload", bad.as_bytes());
    assert_eq!(st, 422, "{j}");
    assert_json_error("1e400", &j);
    let e = j["error"].as_str().unwrap_or("");
    assert!(
        e.contains("line 30") && e.contains("IMD - Average score") && e.contains("1e400"),
        "{e}"
    );
    // With a newline inside Middlesbrough's quoted name (line 3), that row is on line 31.
    let quoted = bad.replacen(
        "E06000002,Middlesbrough,",
        "E06000002,\"Middles\nbrough\",",
        1,
    );
    assert_ne!(quoted, bad);
    let (st, j) = upload("title=Imd&id=file10_upload", quoted.as_bytes());
    assert_eq!(st, 422, "{j}");
    let e = j["error"].as_str().unwrap_or("");
    assert!(e.contains("line 31"), "{e}");
    // As published it uploads.
    let (st, j) = upload("title=Imd&id=file10_upload", head.as_bytes());
    assert!((200..300).contains(&st), "{st}: {j}");
}

// ---- 8. Slow clients. ----

#[test]
fn slow_headers_are_cut_connections_are_capped_and_slow_bodies_time_out() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_args(
        state.path(),
        &[
            "--layers",
            "lad19",
            "--header-timeout",
            "1",
            "--max-connections",
            "2",
            "--timeout",
            "2",
        ],
    );
    let a = server.addr.clone();

    // One header byte a second: cut off after about the header timeout, long before the
    // header is complete.
    let mut s = TcpStream::connect(&a).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n\r\n";
    let start = Instant::now();
    let mut cut = None;
    'bytes: for b in request {
        if s.write_all(&[*b]).is_err() {
            cut = Some(start.elapsed());
            break;
        }
        let sent_at = Instant::now();
        while sent_at.elapsed() < Duration::from_secs(1) {
            let mut buf = [0u8; 256];
            match s.read(&mut buf) {
                Ok(0) => {
                    cut = Some(start.elapsed());
                    break 'bytes;
                }
                Ok(_) => {
                    // An answer (408) before the header is complete is a cut too.
                    cut = Some(start.elapsed());
                    break 'bytes;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    cut = Some(start.elapsed());
                    break 'bytes;
                }
            }
        }
    }
    let cut = cut.expect("a client sending one header byte a second was never cut off");
    assert!(cut < Duration::from_secs(5), "cut after {cut:?}");
    drop(s);

    // Two silent connections fill the cap of 2: a third is answered only once the header
    // timeout has closed them.
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(&a).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = a.clone();
    std::thread::spawn(move || {
        let _ = tx.send(http(&addr, "GET", "/health", &[], b""));
    });
    let answer = rx.recv_timeout(Duration::from_secs(10));
    let waited = start.elapsed();
    drop(silent);
    let (st, _) = answer.expect("no answer within 10 s: silent connections were never cut");
    assert_eq!(st, 200);
    assert!(
        waited >= Duration::from_millis(500),
        "answered after {waited:?}: the connection cap did not hold"
    );
    assert!(waited < Duration::from_secs(6), "answered after {waited:?}");

    // A slow body is still cut at the request timeout (2 s here) with a 503.
    let mut s = TcpStream::connect(&a).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"POST /lookup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nlon,lat\n")
        .expect("head");
    let start = Instant::now();
    let reader = s.try_clone().expect("clone");
    let read = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = BufReader::new(reader).read_to_end(&mut out);
        (out, Instant::now())
    });
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(500));
        if s.write_all(b"1").is_err() || read.is_finished() {
            break;
        }
    }
    let (out, at) = read.join().expect("reader");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(at - start < Duration::from_secs(6), "{:?}", at - start);
    // Like every 503: when to retry, and a JSON error with a hint.
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("\r\nretry-after: 1\r\n"), "{text}");
    assert!(lower.contains("content-type: application/json"), "{text}");
    assert!(text.contains("\"hint\""), "{text}");
}

// ---- 5. Whole files or none. ----

/// Partial files in `dir` (what a killed writer leaves).
fn partials(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// Whole-file writes go through a temporary file, but the result has the mode of any file the
/// user creates (umask applied), not the temporary file's 0600.
#[cfg(unix)]
#[test]
fn written_files_get_the_usual_mode_not_the_temporary_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("lad19.csv");
    let (code, _, err) = run(&[
        "export",
        "--layer",
        "lad19",
        "--format",
        "csv",
        "--out",
        out.to_str().expect("UTF-8 path"),
    ]);
    assert_eq!(code, 0, "{err}");
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"x").expect("plain file");
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&out), mode(&plain), "export's mode {:o}", mode(&out));
}

#[test]
fn out_that_is_a_directory_is_refused_by_every_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("maps");
    std::fs::create_dir(&target).expect("mkdir");
    let t = format!("{}/", target.display());
    let commands: [&[&str]; 4] = [
        &["export", "--layer", "lad19", "--format", "csv", "--out"],
        &["export", "--layer", "lad19", "--out"],
        &[
            "render",
            "--layer",
            "lad19",
            "--indicator",
            "imd_score",
            "--width",
            "300",
            "--height",
            "300",
            "--out",
        ],
        &["tiles", "--layer", "lad19", "--max-zoom", "3", "--out"],
    ];
    for args in commands {
        for out in [t.as_str(), target.to_str().expect("UTF-8")] {
            let mut all: Vec<&str> = args.to_vec();
            all.push(out);
            let (code, _, err) = run(&all);
            assert_ne!(code, 0, "{all:?} succeeded");
            assert!(err.contains("is a directory"), "{all:?}: {err}");
            assert!(
                partials(dir.path()).is_empty(),
                "{all:?}: {:?}",
                partials(dir.path())
            );
            assert!(partials(&target).is_empty(), "{all:?}");
            assert_eq!(
                std::fs::read_dir(&target).expect("dir").count(),
                0,
                "{all:?}"
            );
        }
    }
}

#[test]
fn a_killed_writer_leaves_the_old_file_and_the_next_run_clears_its_partial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("lsoa.pmtiles");
    std::fs::write(&out, b"the previous archive").expect("old file");
    // Tiles of 32,844 LSOAs down to zoom 12 take long enough to be killed midway.
    let mut child = placemap()
        .args(["tiles", "--layer", "lsoa11", "--max-zoom", "12", "--out"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("placemap tiles starts");
    let start = Instant::now();
    while partials(dir.path()).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no partial file appeared"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "tiles finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(
        std::fs::read(&out).expect("old file"),
        b"the previous archive",
        "the previous file was replaced by a half-written one"
    );
    assert_eq!(partials(dir.path()).len(), 1, "the killed run's partial");

    // The next run to the same file clears the stale partial and writes the file whole.
    let (code, _, err) = run_cmd(
        placemap()
            .args(["tiles", "--layer", "lad19", "--max-zoom", "3", "--out"])
            .arg(&out),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        partials(dir.path()).is_empty(),
        "{:?}",
        partials(dir.path())
    );
    assert!(
        std::fs::read(&out)
            .expect("archive")
            .starts_with(b"PMTiles")
    );

    // Export and render write whole files the same way: no partial left.
    for args in [
        vec!["export", "--layer", "lad19", "--format", "csv", "--out"],
        vec![
            "render",
            "--layer",
            "lad19",
            "--indicator",
            "imd_score",
            "--width",
            "300",
            "--height",
            "300",
            "--out",
        ],
    ] {
        let file = dir.path().join(if args[0] == "export" {
            "lad19.csv"
        } else {
            "lad19.png"
        });
        let (code, _, err) = run_cmd(placemap().args(&args).arg(&file));
        assert_eq!(code, 0, "{err}");
        assert!(std::fs::metadata(&file).expect("written").len() > 1000);
        assert!(partials(dir.path()).is_empty());
    }
}

// ---- 9, 10. Catalogue gaps and clear load errors. ----

/// Runs `placemap serve` on `catalog` and the real data; returns its exit code and stderr, or
/// panics if it starts listening.
fn serve_catalog(catalog: &Path, layers: &[&str]) -> (i32, String) {
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_placemap"))
        .current_dir(test_support::repo_root())
        .env_remove("PLACEMAP_DATA")
        .env("PLACEMAP_TOKEN", TOKEN)
        .arg("--quiet")
        .arg("--state")
        .arg(state.path())
        .arg("--data")
        .arg(test_support::data_dir())
        .arg("--catalog")
        .arg(catalog)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(layers)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("placemap serve starts");
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_default();
        if line.starts_with("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started on catalogue {}", catalog.display());
        }
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_empty_catalogue_and_bad_styles_are_refused_at_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "# nothing yet\n").expect("write");
    let (code, err) = serve_catalog(&empty, &[]);
    assert_ne!(code, 0);
    assert!(
        err.contains("empty.toml") && err.contains("no layers"),
        "{err}"
    );

    let real = std::fs::read_to_string(test_support::catalog_path()).expect("catalogue");
    let style = r#"style = { scheme = "quantile", k = 5, palette = "YlOrRd" }"#;
    assert!(real.contains(style));
    for (bad, key) in [
        (
            r#"style = { scheme = "quantile", k = 500, palette = "YlOrRd" }"#,
            "k = 500",
        ),
        (
            r#"style = { scheme = "quantile", k = 5, palette = "Jet" }"#,
            "Jet",
        ),
        (
            r#"style = { scheme = "loudest", k = 5, palette = "YlOrRd" }"#,
            "loudest",
        ),
    ] {
        let path = dir.path().join("catalog.toml");
        std::fs::write(&path, real.replacen(style, bad, 1)).expect("write");
        let (code, err) = serve_catalog(&path, &["--layers", "lad19"]);
        assert_ne!(code, 0, "{bad}");
        // The first such style is imd_score's (File 10).
        assert!(
            err.contains("imd_score") && err.contains(key),
            "{bad}: {err}"
        );
    }
}

/// `X: Y: X: Y`: a run of `: `-separated parts said twice in a row.
fn repeated_run(line: &str) -> Option<String> {
    let parts: Vec<&str> = line.split(": ").collect();
    for n in 1..=parts.len() / 2 {
        for i in 0..=parts.len() - 2 * n {
            if parts[i..i + n] == parts[i + n..i + 2 * n] {
                return Some(parts[i..i + n].join(": "));
            }
        }
    }
    None
}

#[test]
fn load_errors_say_each_thing_once_and_name_truncated_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = test_support::data_dir();
    let base = "england_msoa_2011_sgen_clipped";
    for ext in ["shp", "shx", "prj"] {
        std::fs::copy(
            data.join(format!("{base}.{ext}")),
            dir.path().join(format!("msoa.{ext}")),
        )
        .expect("copy");
    }
    let dbf = std::fs::read(data.join(format!("{base}.dbf"))).expect("dbf");
    std::fs::write(dir.path().join("msoa.dbf"), &dbf[..dbf.len() / 2]).expect("truncated dbf");
    let layer = |file: &str, crs: &str| {
        format!(
            "[[layer]]\nid = \"msoa\"\ntitle = \"t\"\nfile = \"{file}\"\ncode_field = \"code\"\nname_field = \"name\"\nvintage = \"v\"\nlicence = \"l\"\nattribution = \"a\"\n{crs}"
        )
    };
    std::fs::write(
        dir.path().join("cut.geojson"),
        "{\"type\":\"FeatureCollection\",\"features\":[",
    )
    .expect("json");
    let cases = [
        (layer("msoa.shp", ""), "msoa.dbf"),
        (layer("cut.geojson", ""), "cut.geojson"),
        (layer("msoa.shp", "crs = \"EPSG:9999\"\n"), "EPSG:9999"),
        ("[[layer]]\nid = 3\n".to_string(), "catalog.toml"),
    ];
    for (catalogue, names) in cases {
        let cat = dir.path().join("catalog.toml");
        std::fs::write(&cat, &catalogue).expect("catalogue");
        let (code, _, err) = run_cmd(
            Command::new(env!("CARGO_BIN_EXE_placemap"))
                .arg("--quiet")
                .arg("--data")
                .arg(dir.path())
                .arg("--catalog")
                .arg(&cat)
                .args(["export", "--layer", "msoa", "--format", "csv"]),
        );
        assert_ne!(code, 0, "{catalogue}");
        assert!(err.contains(names), "{catalogue}: {err}");
        for line in err.lines() {
            assert!(
                repeated_run(line).is_none(),
                "said twice ({:?}) in: {line}",
                repeated_run(line)
            );
        }
        assert!(
            !err.contains("failed to fill whole buffer") && !err.contains("Error {"),
            "{err}"
        );
    }
}

// ---- 2, 3. Admission control of heavy work, and cancellation. ----

/// The value of the first `/metrics` sample whose name and labels are `series` (e.g.
/// `placemap_jobs_running{class="static"}`); `None` before the series exists.
fn metric(addr: &str, series: &str) -> Option<f64> {
    let (st, body) = http(addr, "GET", "/metrics", &[], b"");
    assert_eq!(st, 200);
    String::from_utf8_lossy(&body).lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Polls `series` every 10 ms until `ok` holds or `limit` passes; the last value seen.
fn wait_metric(addr: &str, series: &str, limit: Duration, ok: impl Fn(f64) -> bool) -> Option<f64> {
    let start = Instant::now();
    loop {
        let v = metric(addr, series);
        if v.is_some_and(&ok) || start.elapsed() > limit {
            return v;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A header's value in a response head (names compared without case).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn a_second_big_static_map_gets_503_at_once_while_the_first_is_drawn() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_args(
        state.path(),
        &["--layers", "lad19", "--max-static-jobs", "1"],
    );
    let big = "/static/lad19/imd_score.png?width=8000&height=8000";
    let addr = server.addr.clone();
    let first = std::thread::spawn(move || http_full(&addr, "GET", big, &[], b""));
    let running = r#"placemap_jobs_running{class="static"}"#;
    let seen = wait_metric(&server.addr, running, Duration::from_secs(30), |v| v == 1.0);
    assert_eq!(
        seen,
        Some(1.0),
        "the first static map never showed as running"
    );

    let start = Instant::now();
    let (st, head, body) = http_full(&server.addr, "GET", big, &[], b"");
    let waited = start.elapsed();
    assert_eq!(st, 503, "{head}{}", String::from_utf8_lossy(&body));
    assert!(
        waited < Duration::from_secs(2),
        "refused only after {waited:?}"
    );
    let retry = header(&head, "retry-after").and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| s >= 1), "no Retry-After: {head}");
    let j = json(&body);
    assert_json_error("busy static map", &j);
    assert!(
        j["error"].as_str().is_some_and(|e| e.contains("static")),
        "{j}"
    );

    let (st, head, body) = first.join().expect("first request");
    assert_eq!(st, 200, "{head}{}", String::from_utf8_lossy(&body));
    assert!(body.starts_with(b"\x89PNG"));
    assert_eq!(
        metric(
            &server.addr,
            r#"placemap_admission_rejected_total{class="static"}"#
        ),
        Some(1.0)
    );
    // The slot is free again once the first is done.
    assert_eq!(
        wait_metric(&server.addr, running, Duration::from_secs(5), |v| v == 0.0),
        Some(0.0)
    );
    let (st, _) = http(
        &server.addr,
        "GET",
        "/static/lad19/imd_score.png?width=400&height=300",
        &[],
        b"",
    );
    assert_eq!(st, 200);
}

/// CPU time (user + system) the process has used, in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

#[test]
fn moran_past_its_deadline_answers_503_and_stops_computing() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_args(state.path(), &["--layers", "lsoa11", "--timeout", "3"]);
    // 99,999 permutations over 32,844 LSOAs take about a minute on two cores.
    let start = Instant::now();
    let (st, head, body) = http_full(
        &server.addr,
        "GET",
        "/stats/lsoa11/imd_rank/moran?permutations=99999",
        &[],
        b"",
    );
    let answered = start.elapsed();
    assert_eq!(st, 503, "{head}{}", String::from_utf8_lossy(&body));
    assert!(
        answered < Duration::from_secs(15),
        "answered after {answered:?}"
    );

    // The job stops soon after: the running gauge returns to 0 and it counts as cancelled.
    let running = r#"placemap_jobs_running{class="analysis"}"#;
    let left = wait_metric(&server.addr, running, Duration::from_secs(10), |v| v == 0.0);
    assert_eq!(
        left,
        Some(0.0),
        "the Moran job still runs {:?} after the 503",
        start.elapsed()
    );
    assert_eq!(
        metric(
            &server.addr,
            r#"placemap_jobs_cancelled_total{class="analysis"}"#
        ),
        Some(1.0)
    );
    // And the server burns no more CPU (an uncancelled job keeps both cores busy: 2 s of
    // CPU a second).
    let pid = server.child.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 50,
        "{used} ticks of CPU in 2 s after the job stopped"
    );
    // A small analysis still runs.
    let (st, body) = http(
        &server.addr,
        "GET",
        "/stats/lsoa11/imd_rank/moran?permutations=0",
        &[],
        b"",
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
}

#[test]
fn a_batch_lookup_beyond_its_class_gets_503_at_once_and_a_normal_one_still_answers() {
    let state = tempfile::tempdir().expect("tempdir");
    let server = serve_args(
        state.path(),
        &["--layers", "lad19", "--max-lookup-jobs", "1"],
    );
    // 100,000 points answered as JSON with five indicators: a couple of seconds of work, long
    // enough to be seen running.
    let big = points_geojson(100_000);
    let path = "/lookup?layer=lad19&indicators=imd_score,income_score,health_score,crime_score,barriers_score";
    let addr = server.addr.clone();
    let first = std::thread::spawn(move || {
        http_full(
            &addr,
            "POST",
            path,
            &[("Content-Type", "application/geo+json")],
            big.as_bytes(),
        )
    });
    let running = r#"placemap_jobs_running{class="lookup"}"#;
    let seen = wait_metric(&server.addr, running, Duration::from_secs(30), |v| v == 1.0);
    assert_eq!(seen, Some(1.0), "the big lookup never showed as running");

    // A second lookup, however small, finds the class full: 503 at once with Retry-After.
    let small = b"id,lon,lat\nhartlepool,-1.2129,54.6863\nleeds,-1.5491,53.8008\n";
    let start = Instant::now();
    let (st, head, body) = http_full(
        &server.addr,
        "POST",
        "/lookup?layer=lad19",
        &[("Content-Type", "text/csv")],
        small,
    );
    let waited = start.elapsed();
    assert_eq!(st, 503, "{head}{}", String::from_utf8_lossy(&body));
    assert!(
        waited < Duration::from_secs(2),
        "refused only after {waited:?}"
    );
    let retry = header(&head, "retry-after").and_then(|v| v.parse::<u64>().ok());
    assert!(retry.is_some_and(|s| s >= 1), "no Retry-After: {head}");
    let j = json(&body);
    assert_json_error("busy lookup", &j);
    assert!(
        j["error"].as_str().is_some_and(|e| e.contains("lookup")),
        "{j}"
    );
    assert!(
        j["hint"].as_str().is_some_and(|h| h.contains("batches")),
        "{j}"
    );

    let (st, head, body) = first.join().expect("first request");
    assert_eq!(
        st,
        200,
        "{head}{}",
        String::from_utf8_lossy(&body[..body.len().min(500)])
    );
    let j = json(&body);
    assert_eq!(j["points"].as_array().map(Vec::len), Some(100_000));
    assert!(
        j["matched"][0]["matched"]
            .as_u64()
            .is_some_and(|m| m > 50_000),
        "{}",
        j["matched"]
    );
    assert_eq!(
        metric(
            &server.addr,
            r#"placemap_admission_rejected_total{class="lookup"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        wait_metric(&server.addr, running, Duration::from_secs(5), |v| v == 0.0),
        Some(0.0)
    );

    // Once the slot is free, the same small lookup answers with the right districts.
    let (st, body) = http(
        &server.addr,
        "POST",
        "/lookup?layer=lad19",
        &[("Content-Type", "text/csv")],
        small,
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    let j = json(&body);
    assert_eq!(j["count"], 2);
    let codes: Vec<&str> = j["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["districts"]["lad19"]["code"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(codes, ["E06000001", "E08000035"], "{j}");
    assert_eq!(j["points"][0]["input"]["id"], "hartlepool");
}
