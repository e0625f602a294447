//! Server configuration in two stages (ripgrep's lowargs -> hiargs, martin's config lifecycle):
//! [`RawConfig`](crate::config::RawConfig) as the user wrote it, then [`ServerConfig`](crate::config::ServerConfig) resolved and validated. Nothing
//! downstream reads environment variables or files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Default tile cache bound, megabytes. The server's own cache only has to hold the tiles in
/// use now (a CDN or the browser caches the rest, by their ETag and max-age): 128 MB keeps it
/// within issue 12's bound, RSS back within 150 MB of its start-up level a minute after the
/// load stops, while holding tens of thousands of tiles (BENCHMARKS.md section 13).
pub const DEFAULT_CACHE_MB: u64 = 128;

/// Options as given (CLI flags or defaults), not yet checked.
#[derive(Clone, Debug)]
pub struct RawConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub addr: String,
    /// Data directory the catalogue's files are read from.
    pub data_dir: PathBuf,
    /// Catalogue file (`boundaries/catalog.toml`).
    pub catalog: PathBuf,
    /// Tile cache bound, megabytes.
    pub cache_mb: u64,
    /// Allowed CORS origins; `*` for any, empty for none.
    pub cors_origins: Vec<String>,
    /// Longest a request may take, seconds (then 503).
    pub request_timeout_secs: u64,
    /// Longest a client may take to send a request's header, seconds (then the connection is
    /// closed): one header byte a second cannot hold a connection for long.
    pub header_timeout_secs: u64,
    /// Most connections open at once; more wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Most points accepted by `POST /lookup`.
    pub max_lookup_points: usize,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Deepest zoom served.
    pub max_zoom: u8,
    /// Only load these layers (all when empty).
    pub layers: Vec<String>,
    /// The address clients reach the server by (`https://maps.example.org/placemap`), the base
    /// of every absolute link; `None` to work it out per request (see [`crate::base_url`]).
    pub public_url: Option<String>,
    /// Peers (IP addresses or CIDR blocks) whose `Forwarded` / `X-Forwarded-*` headers are
    /// believed.
    pub trusted_proxies: Vec<String>,
    /// How much heavy work (uncached tiles, static maps, analyses, exports, uploads) runs at
    /// once, and the memory budget they share: beyond them requests get 503 with
    /// `Retry-After` at once rather than piling up (sized from the core count by default).
    pub admission: crate::admission::Limits,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("../shared/data"),
            catalog: PathBuf::from("boundaries/catalog.toml"),
            cache_mb: DEFAULT_CACHE_MB,
            cors_origins: vec!["*".into()],
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            max_connections: 1024,
            max_lookup_points: 100_000,
            max_body_bytes: 16 * 1024 * 1024,
            max_zoom: 18,
            layers: Vec::new(),
            public_url: None,
            trusted_proxies: Vec::new(),
            admission: crate::admission::Limits::for_this_machine(),
        }
    }
}

/// A checked configuration.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Data directory (exists).
    pub data_dir: PathBuf,
    /// Catalogue file (exists).
    pub catalog: PathBuf,
    /// Tile cache bound, bytes.
    pub cache_bytes: u64,
    /// Allowed CORS origins; `*` for any, empty for none.
    pub cors_origins: Vec<String>,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Longest a client may take to send a request's header.
    pub header_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most points accepted by `POST /lookup`.
    pub max_lookup_points: usize,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Deepest zoom served.
    pub max_zoom: u8,
    /// Only these layers are loaded (all when empty).
    pub layers: Vec<String>,
    /// The base of every absolute link, when configured (checked: `http` or `https`, a host,
    /// no query; no trailing slash).
    pub public_url: Option<crate::base_url::PublicUrl>,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Bounds on heavy work (each at least 1).
    pub admission: crate::admission::Limits,
}

/// What is wrong with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--addr` is not a socket address.
    #[error("--addr {0:?} is not a socket address such as 127.0.0.1:8080")]
    Addr(String),
    /// The data directory does not exist.
    #[error("data directory {0} does not exist")]
    DataDir(PathBuf),
    /// The catalogue file does not exist.
    #[error("catalogue {0} does not exist")]
    Catalog(PathBuf),
    /// Another option is out of range (the message names it).
    #[error("{0}")]
    Invalid(String),
}

impl RawConfig {
    /// Validates and resolves.
    ///
    /// ```
    /// let mut raw = tile_server::config::RawConfig::default();
    /// raw.addr = "not an address".into();
    /// assert!(raw.resolve().is_err());
    /// ```
    pub fn resolve(self) -> Result<ServerConfig, ConfigError> {
        let addr: SocketAddr = self
            .addr
            .parse()
            .map_err(|_| ConfigError::Addr(self.addr.clone()))?;
        if !self.data_dir.is_dir() {
            return Err(ConfigError::DataDir(self.data_dir));
        }
        if !self.catalog.is_file() {
            return Err(ConfigError::Catalog(self.catalog));
        }
        if self.max_zoom > tile_math::MAX_ZOOM {
            return Err(ConfigError::Invalid(format!(
                "max zoom {} is beyond {}",
                self.max_zoom,
                tile_math::MAX_ZOOM
            )));
        }
        if self.max_lookup_points == 0 || self.max_body_bytes == 0 {
            return Err(ConfigError::Invalid(
                "lookup and body limits must be positive".into(),
            ));
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Invalid(
                "--max-connections must be at least 1".into(),
            ));
        }
        let a = &self.admission;
        if [
            a.tile_jobs,
            a.static_jobs,
            a.analysis_jobs,
            a.export_jobs,
            a.upload_jobs,
            a.lookup_jobs,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Invalid(
                "--max-tile-jobs, --max-static-jobs, --max-analysis-jobs, --max-export-jobs, --max-upload-jobs and --max-lookup-jobs must be at least 1".into(),
            ));
        }
        if a.memory_bytes < 1024 * 1024 {
            return Err(ConfigError::Invalid(
                "--heavy-memory-mb must be at least 1".into(),
            ));
        }
        let public_url = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(crate::base_url::PublicUrl::parse)
            .transpose()
            .map_err(ConfigError::Invalid)?;
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(crate::base_url::parse_proxy)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ConfigError::Invalid)?;
        Ok(ServerConfig {
            addr,
            data_dir: self.data_dir,
            catalog: self.catalog,
            cache_bytes: self.cache_mb.saturating_mul(1024 * 1024),
            cors_origins: self.cors_origins,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            max_connections: self.max_connections,
            max_lookup_points: self.max_lookup_points,
            max_body_bytes: self.max_body_bytes,
            max_zoom: self.max_zoom,
            layers: self.layers,
            public_url,
            trusted_proxies,
            admission: self.admission,
        })
    }
}
