//! What clients other than placemap's own page need (issue 10): absolute TileJSON with the
//! legend as HTML, links that never name a host the server was not configured for, `/metrics`
//! that `promtool` accepts in both formats, and byte ranges on downloads.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use placemap_e2e::{Reply, send, state};
use tile_server::base_url::Peer;
use tile_server::config::RawConfig;

/// A request with extra headers, optionally as if it came over a socket from `peer`.
fn request(uri: &str, headers: &[(&str, &str)], peer: Option<Peer>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut req = b.body(Body::empty()).expect("request");
    if let Some(p) = peer {
        req.extensions_mut().insert(ConnectInfo(p));
    }
    req
}

/// Sends through a router over the shared layers with another link configuration.
async fn send_with(public_url: Option<&str>, proxies: &[&str], req: Request<Body>) -> Reply {
    use tower::ServiceExt;
    let shared = state();
    let config = RawConfig {
        addr: "127.0.0.1:8080".into(),
        data_dir: placemap_e2e::data_dir(),
        catalog: placemap_e2e::catalog_path(),
        public_url: public_url.map(str::to_string),
        trusted_proxies: proxies.iter().map(|p| (*p).to_string()).collect(),
        ..RawConfig::default()
    }
    .resolve()
    .expect("config");
    let st = Arc::new(tile_server::AppState {
        config,
        maps: Arc::clone(&shared.maps),
        metrics: Arc::clone(&shared.metrics),
        tiles: shared.tiles.clone(),
        admission: Arc::clone(&shared.admission),
    });
    let res = tile_server::app(st).oneshot(req).await.expect("router");
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn peer(remote: &str) -> Option<Peer> {
    Some(Peer {
        remote: remote.parse().expect("remote"),
        local: "127.0.0.1:8080".parse().expect("local"),
    })
}

#[tokio::test]
async fn raster_tilejson_is_absolute_with_an_html_legend() {
    let r = send(request(
        "/tiles/lad19/imd_score.json?palette=viridis",
        &[("host", "localhost:8080")],
        peer("127.0.0.1:50000"),
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    // The Host names the connection's own port on a loopback name: kept.
    assert_eq!(
        j["tiles"][0],
        "http://localhost:8080/tiles/lad19/imd_score/{z}/{x}/{y}.png?palette=viridis"
    );
    let legend = j["legend"].as_str().expect("legend text");
    let legend_json = placemap_e2e::get("/legend/lad19/imd_score.json?palette=viridis")
        .await
        .json();
    let title = legend_json["title"].as_str().expect("title");
    assert!(
        legend.starts_with("<div") && legend.contains(title),
        "{legend}"
    );
    // One swatch per class plus no data, each with its colour.
    let entries = legend_json["entries"].as_array().expect("entries");
    for e in entries {
        let color = e["color"].as_str().expect("colour");
        assert!(legend.contains(color), "{color} missing from {legend}");
    }
    assert_eq!(
        legend.matches("<li>").count(),
        entries.len() + 1,
        "{legend}"
    );
    let url = j["legend_url"].as_str().expect("legend_url");
    assert_eq!(
        url,
        "http://localhost:8080/legend/lad19/imd_score.json?palette=viridis"
    );
}

#[tokio::test]
async fn a_foreign_host_is_never_linked() {
    for uri in [
        "/tiles/lad19/imd_score.json",
        "/tiles/lad19.json?indicators=imd_score",
        "/ogc",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/lad19",
        "/ogc/collections/lad19/items?limit=2",
        "/ogc/collections/lad19/items/E06000001",
    ] {
        for p in [None, peer("192.0.2.7:40000")] {
            let r = send(request(uri, &[("host", "evil.example")], p)).await;
            assert_eq!(r.status, 200, "{uri}: {}", r.text());
            let text = r.text();
            assert!(
                !text.contains("evil.example"),
                "{uri} links to the Host header: {text}"
            );
            assert!(text.contains("http://127.0.0.1:"), "{uri}: {text}");
        }
        // Forwarding headers from a peer that is not a trusted proxy change nothing.
        let r = send_with(
            None,
            &["10.0.0.0/8"],
            request(
                uri,
                &[
                    ("host", "evil.example"),
                    ("x-forwarded-host", "evil.example"),
                    ("forwarded", "proto=https;host=evil.example"),
                ],
                peer("192.0.2.7:40000"),
            ),
        )
        .await;
        assert!(!r.text().contains("evil.example"), "{uri}: {}", r.text());
        assert!(
            r.text().contains("http://127.0.0.1:8080/"),
            "{uri}: {}",
            r.text()
        );
    }
}

#[tokio::test]
async fn trusted_proxies_and_the_public_url_set_the_links() {
    // Behind an HTTPS proxy at 10.1.2.3: the vector TileJSON and OGC links say https.
    let proxied = |uri: &str, headers: &'static [(&'static str, &'static str)]| {
        send_with(
            None,
            &["10.0.0.0/8"],
            request(uri, headers, peer("10.1.2.3:40000")),
        )
    };
    let j = proxied(
        "/tiles/lad19.json?indicators=imd_score",
        &[
            ("host", "10.0.0.1:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "maps.example.org"),
        ],
    )
    .await
    .json();
    assert_eq!(
        j["tiles"][0],
        "https://maps.example.org/tiles/lad19/{z}/{x}/{y}.mvt?indicators=imd_score"
    );
    let j = proxied(
        "/ogc/collections/lad19/items?limit=5",
        &[(
            "forwarded",
            "for=192.0.2.60;proto=https;host=maps.example.org",
        )],
    )
    .await
    .json();
    let links: Vec<&str> = j["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["href"].as_str())
        .collect();
    assert!(links.len() >= 3, "{links:?}");
    assert!(
        links
            .iter()
            .all(|l| l.starts_with("https://maps.example.org/ogc/collections/lad19")),
        "{links:?}"
    );

    // A configured public URL (with a path prefix) is the base whatever the request says.
    let r = send_with(
        Some("https://example.org/placemap/"),
        &[],
        request(
            "/tiles/lad19/imd_score.json",
            &[
                ("host", "evil.example"),
                ("x-forwarded-host", "evil.example"),
            ],
            peer("10.1.2.3:40000"),
        ),
    )
    .await;
    let j = r.json();
    assert_eq!(
        j["tiles"][0],
        "https://example.org/placemap/tiles/lad19/imd_score/{z}/{x}/{y}.png"
    );
    assert_eq!(
        j["legend_url"],
        "https://example.org/placemap/legend/lad19/imd_score.json"
    );
    let r = send_with(
        Some("https://example.org/placemap"),
        &[],
        request("/ogc", &[], None),
    )
    .await;
    assert!(
        r.text()
            .contains("\"https://example.org/placemap/ogc/collections\""),
        "{}",
        r.text()
    );

    // A bad --public-url or proxy entry is refused at start-up, naming the option.
    let bad = RawConfig {
        data_dir: placemap_e2e::data_dir(),
        catalog: placemap_e2e::catalog_path(),
        public_url: Some("maps.example.org".into()),
        ..RawConfig::default()
    }
    .resolve();
    assert!(bad.is_err_and(|e| e.to_string().contains("--public-url")));
    let bad = RawConfig {
        data_dir: placemap_e2e::data_dir(),
        catalog: placemap_e2e::catalog_path(),
        trusted_proxies: vec!["proxy.local".into()],
        ..RawConfig::default()
    }
    .resolve();
    assert!(bad.is_err_and(|e| e.to_string().contains("--trusted-proxies")));
}

/// `program` if `args` run it successfully, or `None` (with a message) when it is missing
/// outside CI; under `CI=true` a missing tool fails the test (`.ci/run` installs it).
fn tool(program: &'static str, args: &[&str], install: &str) -> Option<&'static str> {
    match std::process::Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => Some(program),
        other => {
            let why = format!("{program} is not usable ({other:?}); {install} provides it");
            assert!(!test_support::in_ci(), "{why}");
            eprintln!("skipping a check: {why}");
            None
        }
    }
}

/// Runs `program args` with `text` on its standard input: (success, stdout and stderr).
fn run_with_stdin(program: &str, args: &[&str], text: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).expect("write to stdin");
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `promtool check metrics` on `text`: (passed, its output).
fn promtool_check(tool: &str, text: &str) -> (bool, String) {
    run_with_stdin(tool, &["check", "metrics"], text)
}

#[tokio::test]
async fn metrics_pass_promtool_in_both_formats() {
    // Something in every family: requests, a cache miss and hit, a 304.
    let tile = "/tiles/lad19/imd_score/6/31/20.png";
    let first = placemap_e2e::get(tile).await;
    placemap_e2e::get(tile).await;
    let etag = first.header("etag").expect("etag");
    send(request(tile, &[("if-none-match", &etag)], None)).await;

    let text = placemap_e2e::get("/metrics").await;
    assert_eq!(
        text.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let t = text.text();
    assert!(!t.contains("# EOF"), "{t}");
    assert!(t.contains("# HELP placemap_http_requests_total "), "{t}");
    assert!(
        t.contains("# TYPE placemap_tile_cache_hits_total counter"),
        "{t}"
    );
    assert!(t.contains("# TYPE placemap_tile_cache_bytes gauge"), "{t}");

    let asked = send(request(
        "/metrics",
        &[("accept", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")],
        None,
    ))
    .await;
    assert!(
        asked
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4"))
    );

    // What Prometheus sends when it prefers OpenMetrics.
    let om = send(request(
        "/metrics",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
        )],
        None,
    ))
    .await;
    assert!(
        om.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text; version=1.0.0")),
        "{:?}",
        om.header("content-type")
    );
    let o = om.text();
    assert!(o.ends_with("# EOF\n"), "{o}");
    assert!(o.contains("# TYPE placemap_http_requests counter"), "{o}");

    if let Some(tool) = tool("promtool", &["--version"], "apt-get install prometheus") {
        let (ok, out) = promtool_check(tool, &t);
        assert!(
            ok,
            "promtool check metrics fails on the text format:\n{out}\n{t}"
        );
        // The check can fail: a counter without HELP is refused.
        let (ok, _) = promtool_check(tool, "# TYPE x_total counter\nx_total 1\n");
        assert!(!ok, "promtool accepted a counter without HELP");
    }
    // promtool 2.42's `check metrics` reads only the 0.0.4 text format (to it an OpenMetrics
    // counter family `x` with samples `x_total` is two families, one without HELP), so the
    // OpenMetrics output goes through the reference OpenMetrics parser of the Python client,
    // which checks names, types, sample suffixes and the closing `# EOF`.
    if let Some(python) = tool(
        "/usr/bin/python3",
        &["-c", "import prometheus_client"],
        "apt-get install python3-prometheus-client",
    ) {
        let (ok, out) = openmetrics_check(python, &o);
        assert!(ok, "the OpenMetrics parser refuses the output:\n{out}\n{o}");
        assert!(out.contains("placemap_http_requests counter"), "{out}");
        let (ok, _) = openmetrics_check(python, &t);
        assert!(
            !ok,
            "the OpenMetrics parser accepted the 0.0.4 text (no # EOF)"
        );
    }
}

/// `text` through `prometheus_client.openmetrics.parser`: (parsed, the families it read or
/// why not).
fn openmetrics_check(python: &str, text: &str) -> (bool, String) {
    const SCRIPT: &str = "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\nfor f in parse(sys.stdin.read()):\n    print(f.name, f.type, len(f.samples))\n";
    run_with_stdin(python, &["-c", SCRIPT], text)
}

#[tokio::test]
async fn downloads_answer_byte_ranges() {
    let uri = "/layers/lad19.csv?indicators=imd_score";
    let whole = placemap_e2e::get(uri).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("accept-ranges").as_deref(), Some("bytes"));
    let etag = whole.header("etag").expect("etag");
    let body = &whole.body;
    let len = body.len();
    assert!(len > 1000);

    let ranged = |range: &'static str, extra: Option<(&'static str, String)>| {
        let mut h: Vec<(&str, String)> = vec![("range", range.to_string())];
        h.extend(extra);
        async move {
            let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(request(uri, &pairs, None)).await
        }
    };
    let r = ranged("bytes=0-99", None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some(format!("bytes 0-99/{len}")));
    assert_eq!(r.body, body[..100]);
    let r = ranged("bytes=500-", None).await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 500-{}/{len}", len - 1))
    );
    assert_eq!(r.body, body[500..]);
    let r = ranged("bytes=-10", None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, body[len - 10..]);

    // Past the end: 416 naming the length, in the JSON error shape.
    let r = ranged("bytes=99999999-", None).await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some(format!("bytes */{len}")));
    assert!(r.json()["hint"].is_string());

    // Several ranges: the whole body, 200. A malformed header is ignored.
    for range in ["bytes=0-9,20-29", "bytes=ten-twenty"] {
        let r = ranged(range, None).await;
        assert_eq!((r.status.as_u16(), r.body.len()), (200, len), "{range}");
    }

    // If-Range: the current ETag gets the range, another one the whole (new) body.
    let r = ranged("bytes=0-9", Some(("if-range", etag.clone()))).await;
    assert_eq!((r.status.as_u16(), r.body.len()), (206, 10));
    let r = ranged("bytes=0-9", Some(("if-range", "\"stale\"".to_string()))).await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, len));

    // A page on another origin may read the range headers.
    let r = ranged(
        "bytes=0-9",
        Some(("origin", "http://127.0.0.1:9".to_string())),
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(
        exposed.contains("content-range") && exposed.contains("etag"),
        "{exposed}"
    );

    // GeoJSON and static figures too; other routes (tiles) ignore Range.
    let r = send(request(
        "/layers/lad19.geojson?zoom=5",
        &[("range", "bytes=0-29")],
        None,
    ))
    .await;
    assert_eq!(r.status, 206);
    assert!(
        r.text().starts_with("{\"type\":\"FeatureCollection\""),
        "{}",
        r.text()
    );
    let r = send(request(
        "/static/lad19/imd_score.png",
        &[("range", "bytes=0-7")],
        None,
    ))
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, b"\x89PNG\r\n\x1a\n");
    let r = send(request(
        "/tiles/lad19/imd_score/5/15/10.png",
        &[("range", "bytes=0-7")],
        None,
    ))
    .await;
    assert_eq!(r.status, 200);
}
