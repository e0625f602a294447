//! Prometheus metrics (`GET /metrics`): requests by route and status, latencies, tile cache hits
//! and render time, with the official `prometheus-client` crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

/// Labels naming a class of heavy work (see [`crate::admission::Class`]).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabels {
    /// `tile`, `static`, `analysis`, `export`, `upload` or `lookup`.
    pub class: String,
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
    /// Heavy requests answered 503 by admission control, by class.
    pub admission_rejected: Family<ClassLabels, Counter>,
    /// Heavy jobs running now, by class.
    pub jobs_running: Family<ClassLabels, Gauge>,
    /// Heavy jobs that ended with their cancel token tripped (client gone, deadline passed).
    pub jobs_cancelled: Family<ClassLabels, Counter>,
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
        let admission_rejected = Family::<ClassLabels, Counter>::default();
        let jobs_running = Family::<ClassLabels, Gauge>::default();
        let jobs_cancelled = Family::<ClassLabels, Counter>::default();
        registry.register(
            "admission_rejected",
            "Heavy requests answered 503 because their class or the memory budget was full",
            admission_rejected.clone(),
        );
        registry.register(
            "jobs_running",
            "Heavy jobs (uncached tiles, static maps, analyses, exports, uploads) running now",
            jobs_running.clone(),
        );
        registry.register(
            "jobs_cancelled",
            "Heavy jobs stopped because their client went away or their deadline passed",
            jobs_cancelled.clone(),
        );
        Metrics {
            registry,
            admission_rejected,
            jobs_running,
            jobs_cancelled,
            requests,
            latency,
            tile_cache_hits,
            tile_cache_misses,
            not_modified,
            render_seconds,
        }
    }

    /// The metrics in `format`, with `gauges` (name without the `placemap_` prefix, help,
    /// value) read at scrape time added.
    pub fn encode(&self, format: Format, gauges: &[(&str, &str, u64)]) -> String {
        let mut om = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(&mut om, &self.registry);
        for (name, help, value) in gauges {
            om.push_str(&format!(
                "# HELP placemap_{name} {help}\n# TYPE placemap_{name} gauge\nplacemap_{name} {value}\n"
            ));
        }
        match format {
            Format::OpenMetrics => {
                let _ = prometheus_client::encoding::text::encode_eof(&mut om);
                om
            }
            Format::Prometheus => to_prometheus_text(&om),
        }
    }
}

/// The two exposition formats Prometheus scrapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4: the default, what `promtool check metrics` reads.
    Prometheus,
    /// OpenMetrics 1.0.0, when the client's `Accept` prefers it.
    OpenMetrics,
}

impl Format {
    /// The format a client's `Accept` header asks for: OpenMetrics only when
    /// `application/openmetrics-text` is acceptable (q > 0) and rated at least as high as any
    /// text/plain range; the 0.0.4 text format otherwise (no header, `*/*`, `text/plain`).
    ///
    /// ```
    /// use tile_server::metrics::Format;
    /// assert_eq!(Format::negotiate(None), Format::Prometheus);
    /// assert_eq!(Format::negotiate(Some("text/plain;version=0.0.4")), Format::Prometheus);
    /// assert_eq!(Format::negotiate(Some("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")), Format::OpenMetrics);
    /// ```
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Prometheus;
        };
        let (mut om, mut text) = (0.0f32, 0.0f32);
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => om = om.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if om > 0.0 && om >= text {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// OpenMetrics text (as `prometheus-client` writes it; it has no 0.0.4 encoder) to the
/// Prometheus 0.0.4 text format. The two differ, for what this server exports, only in that a
/// counter family `x` is named `x_total` in 0.0.4's HELP and TYPE lines (its samples are
/// `x_total` in both), `# UNIT` lines do not exist, and there is no `# EOF`. Histograms and
/// gauges are written the same in both.
fn to_prometheus_text(om: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in om.lines() {
        if let Some(name) = line
            .strip_prefix("# TYPE ")
            .and_then(|r| r.strip_suffix(" counter"))
        {
            counters.insert(name.to_string());
        }
    }
    let mut out = String::with_capacity(om.len());
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            (counters.contains(name) && !name.ends_with("_total"))
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_total_in_the_text_format() {
        let m = Metrics::new();
        m.tile_cache_hits.inc();
        let text = m.encode(
            Format::Prometheus,
            &[("tile_cache_entries", "Tiles held.", 3)],
        );
        assert!(
            text.contains("# HELP placemap_tile_cache_hits_total Tiles answered from the cache.\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE placemap_tile_cache_hits_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("placemap_tile_cache_hits_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# TYPE placemap_tile_cache_entries gauge\nplacemap_tile_cache_entries 3\n"
            ),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        let om = m.encode(Format::OpenMetrics, &[]);
        assert!(
            om.contains("# TYPE placemap_tile_cache_hits counter\n"),
            "{om}"
        );
        assert!(om.ends_with("# EOF\n"), "{om}");
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(Format::negotiate(Some("*/*")), Format::Prometheus);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Prometheus
        );
        assert_eq!(
            Format::negotiate(Some("text/plain;q=0.9, application/openmetrics-text;q=0.5")),
            Format::Prometheus
        );
    }
}
