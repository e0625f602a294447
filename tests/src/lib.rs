//! Shared helpers of the end-to-end tests (in `tests/tests/`): the real data directory, one
//! server state loaded once per test binary, and request helpers driving the router with
//! `tower::ServiceExt::oneshot`.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tile_server::SharedState;
use tile_server::config::RawConfig;
use tower::ServiceExt;

pub use test_support::golden::check_png as check_golden_png;
pub use test_support::{catalog_path, data_dir};

/// A configuration for tests: loopback, port 0, every layer.
pub fn test_config() -> tile_server::config::ServerConfig {
    let raw = RawConfig {
        addr: "127.0.0.1:0".into(),
        data_dir: data_dir(),
        catalog: catalog_path(),
        cache_mb: 64,
        max_lookup_points: 5_000,
        max_body_bytes: 1024 * 1024,
        // Every test of this binary shares one state, and they run in parallel: admission
        // control (tested on its own in crates/placemap/tests/hardening.rs) must not refuse
        // one test's static map because another's is drawing.
        admission: tile_server::admission::Limits {
            tile_jobs: 64,
            static_jobs: 64,
            analysis_jobs: 64,
            export_jobs: 64,
            upload_jobs: 64,
            lookup_jobs: 64,
            memory_bytes: 1 << 40,
            tile_wait: std::time::Duration::from_secs(30),
            upload_wait: std::time::Duration::from_secs(30),
            inline_tile_vertices: tile_server::admission::Limits::for_cores(1).inline_tile_vertices,
        },
        ..RawConfig::default()
    };
    match raw.resolve() {
        Ok(c) => c,
        Err(e) => panic!("test configuration: {e}"),
    }
}

/// The server state with every catalogue layer, loaded once per test binary.
pub fn state() -> SharedState {
    static STATE: OnceLock<SharedState> = OnceLock::new();
    STATE
        .get_or_init(|| match tile_server::serve::load_state(test_config()) {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("loading the real data: {e}"),
        })
        .clone()
}

/// A response as tests see it.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: axum::http::HeaderMap,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)),
        }
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// Sends one request through the router.
pub async fn send(req: Request<Body>) -> Reply {
    let app = tile_server::app(state());
    let res = match app.oneshot(req).await {
        Ok(r) => r,
        Err(e) => panic!("router error: {e}"),
    };
    let status = res.status();
    let headers = res.headers().clone();
    let body = match axum::body::to_bytes(res.into_body(), usize::MAX).await {
        Ok(b) => b.to_vec(),
        Err(e) => panic!("reading body: {e}"),
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(uri: &str) -> Reply {
    let req = match Request::builder().uri(uri).body(Body::empty()) {
        Ok(r) => r,
        Err(e) => panic!("bad test request {uri}: {e}"),
    };
    send(req).await
}

/// Asserts a 4xx JSON error with a hint, returning the body.
pub async fn expect_client_error(uri: &str, status: u16) -> serde_json::Value {
    let r = get(uri).await;
    assert_eq!(r.status.as_u16(), status, "{uri}: {}", r.text());
    let j = r.json();
    assert!(
        j["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{uri}: no error message: {j}"
    );
    assert!(
        j["hint"].as_str().is_some_and(|s| !s.is_empty()),
        "{uri}: no hint: {j}"
    );
    j
}
