//! Prometheus metrics (`GET /metrics`): requests by route and status, latencies, tile cache hits
//! and render time, with the official `prometheus-client` crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request: route template and status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, e.g. `/tiles/{layer}/{indicator}/{z}/{x}/{y}`.
    pub route: String,
    /// HTTP status code.
    pub status: u16,
}

/// Labels naming a route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
}

/// All metrics the server keeps.
pub struct Metrics {
    registry: Registry,
    /// Requests by route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency by route, seconds.
    pub latency: Family<RouteLabels, Histogram>,
    /// Tiles answered from the cache.
    pub tile_cache_hits: Counter,
    /// Tiles rendered because the cache did not have them.
    pub tile_cache_misses: Counter,
    /// Conditional requests answered 304.
    pub not_modified: Counter,
    /// Time spent rendering tiles, seconds.
    pub render_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("placemap");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let tile_cache_hits = Counter::default();
        let tile_cache_misses = Counter::default();
        let not_modified = Counter::default();
        let render_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "tile_cache_hits",
            "Tiles answered from the cache",
            tile_cache_hits.clone(),
        );
        registry.register(
            "tile_cache_misses",
            "Tiles rendered",
            tile_cache_misses.clone(),
        );
        registry.register(
            "not_modified",
            "Requests answered 304",
            not_modified.clone(),
        );
        registry.register(
            "tile_render_seconds",
            "Time to render and encode one tile",
            render_seconds.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            tile_cache_hits,
            tile_cache_misses,
            not_modified,
            render_seconds,
        }
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
