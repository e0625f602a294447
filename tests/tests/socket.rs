//! A few tests on a real socket (127.0.0.1, port 0): the server answers HTTP/1.1 over TCP,
//! compresses GeoJSON, keeps serving after bad requests, and shuts down gracefully by itself.

use std::net::SocketAddr;

use placemap_e2e::state;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTP/1.1 exchange (one request, `Connection: close`): status, headers, body.
async fn http(addr: SocketAddr, request: &str) -> (u16, String, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head, buf[split + 4..].to_vec())
}

pub(crate) type Server = tokio::task::JoinHandle<Result<(), tile_server::serve::StartError>>;

/// Starts the server on 127.0.0.1:0; returns its address, the shutdown trigger and the task.
pub(crate) async fn start() -> (SocketAddr, tokio::sync::oneshot::Sender<()>, Server) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let server = tokio::spawn(tile_server::serve::run_until(
        state(),
        move |a| {
            let _ = addr_tx.send(a);
        },
        async {
            let _ = rx.await;
        },
    ));
    (addr_rx.await.expect("bound address"), tx, server)
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_loopback_and_shuts_down() {
    let (addr, tx, server) = start().await;
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let (status, _, body) = http(addr, &get("/health", "")).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("\"ok\""));

    let (status, head, body) = http(addr, &get("/tiles/lad19/imd_score/7/63/40.png", "")).await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: image/png")
    );
    assert_eq!(&body[1..4], b"PNG");

    // GeoJSON is compressed for clients that accept it.
    let (status, head, _) = http(
        addr,
        &get("/layers/lad19.geojson?zoom=5", "Accept-Encoding: gzip\r\n"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{head}"
    );

    // Bad requests get 4xx and the server keeps serving.
    let (status, _, _) = http(addr, &get("/tiles/lad19/imd_score/99/0/0.png", "")).await;
    assert_eq!(status, 400);
    let (status, _, _) = http(addr, "GARBAGE\r\n\r\n").await;
    assert!((400..500).contains(&status));
    let (status, _, _) = http(addr, &get("/health", "")).await;
    assert_eq!(status, 200);

    tx.send(()).expect("shutdown signal");
    let res = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    assert!(
        matches!(res, Ok(Ok(Ok(())))),
        "server stopped cleanly: {res:?}"
    );
}

/// GDAL reads the GeoJSON over HTTP (the way QGIS and ogr2ogr users pull it): every feature,
/// the properties as typed fields, WGS84. `.ci/run` installs gdal-bin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_geojson_over_http() {
    let (addr, tx, server) = start().await;
    let url =
        format!("http://{addr}/layers/lad19.geojson?zoom=7&indicators=imd_score,median_weekly_pay");
    let text = gdal(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), "-al".into(), url],
    )
    .await;
    assert!(text.contains("Feature Count: 382"), "{text}");
    assert!(text.contains("Geometry: Multi Polygon"), "{text}");
    assert!(text.contains("imd_score: Real"), "{text}");
    assert!(text.contains("code: String"), "{text}");
    assert!(text.contains("WGS 84"), "{text}");
    tx.send(()).expect("shutdown");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
}

/// GDAL's `/vsicurl/` reads the GeoJSON download with range requests (a HEAD for the size,
/// then `Range: bytes=...` pieces), the way it reads any file on a web server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_geojson_through_vsicurl() {
    let (addr, tx, server) = start().await;
    let url = format!("/vsicurl/http://{addr}/layers/lad19.geojson?zoom=8&indicators=imd_score");
    let text = tokio::time::timeout(
        std::time::Duration::from_secs(240),
        gdal(
            "ogrinfo",
            vec!["-ro".into(), "-so".into(), "-al".into(), url],
        ),
    )
    .await
    .expect("ogrinfo finished in time");
    assert!(text.contains("Feature Count: 382"), "{text}");
    assert!(text.contains("imd_score: Real"), "{text}");
    // Without -al it lists the layer, as the README shows; curl's trace shows GDAL reading
    // the full-resolution file in byte ranges.
    let url = format!("/vsicurl/http://{addr}/layers/lad19.geojson");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ogrinfo")
            .args(["-ro", "-so", &url])
            .env("GDAL_HTTP_TIMEOUT", "30")
            .env("CPL_CURL_VERBOSE", "YES")
            .output()
    })
    .await
    .expect("join")
    .expect("ogrinfo runs (install gdal-bin)");
    let listed = String::from_utf8_lossy(&out.stdout);
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && listed.contains("1: lad19"),
        "{listed}{trace}"
    );
    assert!(trace.contains("Range: bytes="), "no range request: {trace}");
    assert!(
        trace.contains("206 Partial Content"),
        "no 206 answer: {trace}"
    );
    // The range answers themselves, over the socket.
    let (status, head, body) = http(addr, &get("/layers/lad19.csv", "Range: bytes=-5\r\n")).await;
    assert_eq!(status, 206, "{head}");
    assert_eq!(body.len(), 5);
    assert!(
        head.to_ascii_lowercase().contains("content-range: bytes "),
        "{head}"
    );
    tx.send(()).expect("shutdown");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
}

/// Runs a GDAL command line tool on a blocking thread; panics with its output when it fails.
pub(crate) async fn gdal(program: &'static str, args: Vec<String>) -> String {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(program)
            .args(&args)
            .env("GDAL_HTTP_TIMEOUT", "30")
            .output()
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("{program} runs (install gdal-bin): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[tokio::test]
async fn gdal_reads_districts_through_ogc_api_features() {
    use geo::Intersects;
    let (addr, tx, server) = start().await;
    let service = format!("OAPIF:http://{addr}/ogc");

    // GDAL's OGC API - Features driver lists the layers and reads the collection's metadata.
    let text = gdal("ogrinfo", vec!["-ro".into(), service.clone()]).await;
    for id in state().maps.atlas.layer_ids() {
        assert!(text.contains(&format!(": {id} (title:")), "{id}: {text}");
    }
    let text = gdal(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), service.clone(), "lad19".into()],
    )
    .await;
    assert!(text.contains("Feature Count: 382"), "{text}");
    assert!(text.contains("imd_score: Real"), "{text}");

    // ogr2ogr pages through the LSOAs in a box around Hartlepool (GDAL sends bbox and follows
    // next links) and gets exactly the LSOAs whose polygons intersect the box.
    let (w, s, e, n) = (-1.3, 54.6, -1.1, 54.75);
    let out = std::env::temp_dir().join(format!("placemap-oapif-{}.geojson", std::process::id()));
    let _ = std::fs::remove_file(&out);
    gdal(
        "ogr2ogr",
        vec![
            "-f".into(),
            "GeoJSON".into(),
            out.display().to_string(),
            service,
            "lsoa11".into(),
            "-spat".into(),
            w.to_string(),
            s.to_string(),
            e.to_string(),
            n.to_string(),
        ],
    )
    .await;
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("ogr2ogr output")).expect("GeoJSON");
    let _ = std::fs::remove_file(&out);
    let mut got: Vec<String> = written["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str().map(str::to_string))
        .collect();
    got.sort();
    let st = state();
    let lsoa = st.maps.atlas.layer("lsoa11").expect("lsoa11");
    let rect = geo::Rect::new(geo::coord! { x: w, y: s }, geo::coord! { x: e, y: n });
    let mut want: Vec<String> = lsoa
        .districts
        .iter()
        .filter(|d| d.wgs84.0.intersects(&rect))
        .map(|d| d.code.clone())
        .collect();
    want.sort();
    assert!(want.len() > 50, "{} LSOAs in the box", want.len());
    assert_eq!(got, want);

    tx.send(()).expect("shutdown");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
}

/// GDAL reads today's districts (the merged `lad23`) over HTTP: 361 features, and the reason
/// a merged district has no pay value comes through as a string field GIS users see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_lad23_with_the_no_data_reasons() {
    let (addr, tx, server) = start().await;
    let url = format!("http://{addr}/layers/lad23.geojson?zoom=7&indicators=median_weekly_pay");
    let text = gdal(
        "ogrinfo",
        vec!["-ro".into(), "-so".into(), "-al".into(), url.clone()],
    )
    .await;
    assert!(text.contains("Feature Count: 361"), "{text}");
    assert!(
        // The default period's column names its period (issue 15.6).
        text.contains("median_weekly_pay_2021_no_data_reason: String"),
        "{text}"
    );
    let text = gdal(
        "ogrinfo",
        vec![
            "-ro".into(),
            "-al".into(),
            "-geom=NO".into(),
            "-where".into(),
            "code = 'E06000063'".into(),
            url,
        ],
    )
    .await;
    assert!(text.contains("Feature Count: 1"), "{text}");
    assert!(
        text.contains("merged in 2023 from E07000026 Allerdale"),
        "{text}"
    );
    tx.send(()).expect("shutdown");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
}
