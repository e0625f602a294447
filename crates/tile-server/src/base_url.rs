//! The base of every absolute link the server writes (TileJSON tile URLs, OGC API links), worked
//! out in one place so no route echoes a client's `Host` header unchecked.
//!
//! In order:
//! 1. `--public-url` (`PLACEMAP_PUBLIC_URL`), when configured, is the base of every link.
//! 2. A peer listed in `--trusted-proxies` may say how the client reached it: the last (nearest)
//!    element of `Forwarded` (RFC 7239: `proto=`, `host=`), else the last value of
//!    `X-Forwarded-Proto` / `X-Forwarded-Host`. Other peers' forwarding headers are ignored.
//! 3. Otherwise the `Host` header, only when it names the address the connection came in on,
//!    or `localhost` / `127.0.0.1` / `[::1]` with its port.
//! 4. Otherwise that address itself.
//!
//! A request with `Host: evil.example` therefore gets links to the server's own address, never
//! to `evil.example`, unless a trusted proxy says so or it is the configured public URL.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::http::uri::{Authority, Uri};
use axum::serve::IncomingStream;
use ipnet::IpNet;

use crate::config::ServerConfig;
use crate::state::SharedState;

/// A configured public URL: `http` or `https`, a host, an optional path prefix; kept without a
/// trailing slash so links are `{base}/tiles/...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Checks `raw` (e.g. `https://maps.example.org/placemap/`), or says what is wrong.
    ///
    /// ```
    /// use tile_server::base_url::PublicUrl;
    /// assert_eq!(PublicUrl::parse("https://maps.example.org/x/").unwrap().as_str(), "https://maps.example.org/x");
    /// assert!(PublicUrl::parse("maps.example.org").is_err());
    /// ```
    pub fn parse(raw: &str) -> Result<PublicUrl, String> {
        let bad = |why: &str| {
            format!(
                "--public-url {raw:?} {why}: give the address clients use, e.g. https://maps.example.org or https://example.org/placemap"
            )
        };
        let uri: Uri = raw.parse().map_err(|_| bad("is not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(bad("must start with http:// or https://")),
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return Err(bad("must name a host without user information"));
        }
        if uri.query().is_some() {
            return Err(bad("must not have a query string"));
        }
        let path = uri.path().trim_end_matches('/');
        Ok(PublicUrl(format!(
            "{}://{}{path}",
            uri.scheme_str().unwrap_or("http"),
            authority.as_str().to_ascii_lowercase()
        )))
    }

    /// The base, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One `--trusted-proxies` entry: an IP address (a /32 or /128) or a CIDR block.
///
/// ```
/// let net = tile_server::base_url::parse_proxy("10.0.0.0/8").unwrap();
/// assert!(net.contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
/// assert!(tile_server::base_url::parse_proxy("ten").is_err());
/// ```
pub fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "--trusted-proxies entry {raw:?} is not an IP address or CIDR block such as 10.0.0.1 or 10.0.0.0/8"
            )
        })
}

/// Both ends of a TCP connection: who sent the request (`remote`, checked against the trusted
/// proxies) and the address it came in on (`local`, the one `Host` may name). The server
/// records it with `into_make_service_with_connect_info::<Peer>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The client or proxy that opened the connection.
    pub remote: SocketAddr,
    /// The server's address on that connection.
    pub local: SocketAddr,
}

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        let remote = *stream.remote_addr();
        let local = stream
            .io()
            .local_addr()
            .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
        Peer { remote, local }
    }
}

/// The base of absolute links for this request (`http://127.0.0.1:8080`,
/// `https://maps.example.org/placemap`), without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    /// The base as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<S> FromRequestParts<S> for BaseUrl
where
    S: Send + Sync,
    SharedState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = SharedState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(p)| *p);
        Ok(BaseUrl(resolve(&state.config, &parts.headers, peer)))
    }
}

/// The base of links for a request with these headers from this peer (`None` when the request
/// did not come over a socket, as in tests driving the router directly: the configured
/// address stands for the local end, and no proxy is trusted).
pub fn resolve(config: &ServerConfig, headers: &HeaderMap, peer: Option<Peer>) -> String {
    if let Some(url) = &config.public_url {
        return url.as_str().to_string();
    }
    let local = peer.map_or(config.addr, |p| p.local);
    let trusted = peer.is_some_and(|p| {
        let ip = p.remote.ip().to_canonical();
        config.trusted_proxies.iter().any(|n| n.contains(&ip))
    });
    let (mut proto, mut host) = (None, None);
    if trusted {
        (proto, host) = forwarded(headers);
    }
    let scheme = proto.unwrap_or("http");
    let default_port = if scheme == "https" { 443 } else { 80 };
    if let Some(h) = host {
        return format!("{scheme}://{h}");
    }
    let own = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(valid_host)
        .filter(|h| names_listener(h, local, default_port));
    match own {
        Some(h) => format!("{scheme}://{h}"),
        None => format!("{scheme}://{}", listen_authority(local)),
    }
}

/// `proto` and `host` as a trusted proxy gives them: `Forwarded`'s last element first, else
/// `X-Forwarded-Proto` / `X-Forwarded-Host` (their last values). Values that are not a
/// scheme this server can be reached by, or not a host, are ignored.
fn forwarded(headers: &HeaderMap) -> (Option<&'static str>, Option<String>) {
    let scheme = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "https" => Some("https"),
        "http" => Some("http"),
        _ => None,
    };
    let all = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    let fwd = all("forwarded").join(",");
    if let Some(last) = split_outside_quotes(&fwd, ',')
        .last()
        .copied()
        .map(str::trim)
        && !last.is_empty()
    {
        let (mut proto, mut host) = (None, None);
        for pair in split_outside_quotes(last, ';') {
            if let Some((k, v)) = pair.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "proto" => proto = scheme(v),
                    "host" => host = valid_host(v),
                    _ => {}
                }
            }
        }
        return (proto, host);
    }
    let last_value = |name: &str| {
        all(name)
            .join(",")
            .rsplit(',')
            .next()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    (
        last_value("x-forwarded-proto").and_then(|p| scheme(&p)),
        last_value("x-forwarded-host").and_then(|h| valid_host(&h)),
    )
}

/// Splits at `sep` outside double-quoted strings (RFC 7239 quotes values with `:` or `[`).
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// `h` as a lower-case `host[:port]` authority, or `None` when it is not one (user information,
/// paths, spaces).
fn valid_host(h: &str) -> Option<String> {
    let h = h.trim();
    if h.is_empty() || h.contains(['@', '/', '?', '#']) {
        return None;
    }
    let a: Authority = h.parse().ok()?;
    if a.host().is_empty() {
        return None;
    }
    Some(a.as_str().to_ascii_lowercase())
}

/// True when `host` (a checked authority) names `local`: its address, or a loopback name, with
/// its port (`default_port` when the authority has none).
fn names_listener(host: &str, local: SocketAddr, default_port: u16) -> bool {
    let Ok(a) = host.parse::<Authority>() else {
        return false;
    };
    if a.port_u16().unwrap_or(default_port) != local.port() {
        return false;
    }
    let name = a.host().trim_start_matches('[').trim_end_matches(']');
    if name == "localhost" {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|ip| {
        let ip = ip.to_canonical();
        ip == local.ip().to_canonical() || ip.is_loopback()
    })
}

/// `local` as a link authority: an unspecified address (`0.0.0.0`, `::`) becomes `localhost`.
fn listen_authority(local: SocketAddr) -> String {
    match local.ip() {
        ip if ip.is_unspecified() => format!("localhost:{}", local.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", local.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", local.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(public: Option<&str>, proxies: &[&str]) -> ServerConfig {
        ServerConfig {
            addr: "127.0.0.1:8080".parse().expect("addr"),
            data_dir: ".".into(),
            catalog: ".".into(),
            cache_bytes: 0,
            cors_origins: Vec::new(),
            request_timeout: std::time::Duration::from_secs(1),
            header_timeout: std::time::Duration::from_secs(1),
            max_connections: 1,
            max_lookup_points: 1,
            max_body_bytes: 1,
            max_zoom: 1,
            layers: Vec::new(),
            public_url: public.map(|p| PublicUrl::parse(p).expect("url")),
            trusted_proxies: proxies
                .iter()
                .map(|p| parse_proxy(p).expect("proxy"))
                .collect(),
            admission: crate::admission::Limits::for_cores(1),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn peer(remote: &str, local: &str) -> Option<Peer> {
        Some(Peer {
            remote: remote.parse().expect("remote"),
            local: local.parse().expect("local"),
        })
    }

    #[test]
    fn an_unknown_host_is_never_echoed() {
        let c = config(None, &[]);
        let evil = headers(&[("host", "evil.example")]);
        assert_eq!(resolve(&c, &evil, None), "http://127.0.0.1:8080");
        let p = peer("192.0.2.7:5000", "192.0.2.1:8080");
        assert_eq!(resolve(&c, &evil, p), "http://192.0.2.1:8080");
        // Forwarding headers from an untrusted peer are ignored too.
        let fwd = headers(&[
            ("host", "evil.example"),
            ("forwarded", "proto=https;host=evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(resolve(&c, &fwd, p), "http://192.0.2.1:8080");
    }

    #[test]
    fn a_host_naming_the_listener_is_kept() {
        let c = config(None, &[]);
        let p = peer("192.0.2.7:5000", "192.0.2.1:8080");
        for ok in [
            "192.0.2.1:8080",
            "localhost:8080",
            "127.0.0.1:8080",
            "LOCALHOST:8080",
        ] {
            let h = HeaderMap::from_iter([(
                axum::http::header::HOST,
                HeaderValue::from_str(ok).expect("value"),
            )]);
            assert_eq!(
                resolve(&c, &h, p),
                format!("http://{}", ok.to_ascii_lowercase())
            );
        }
        // Another port, or no port (80), is not this listener.
        for bad in ["localhost:9090", "localhost", "192.0.2.1"] {
            let h = HeaderMap::from_iter([(
                axum::http::header::HOST,
                HeaderValue::from_str(bad).expect("value"),
            )]);
            assert_eq!(resolve(&c, &h, p), "http://192.0.2.1:8080", "{bad}");
        }
    }

    #[test]
    fn the_public_url_wins() {
        let c = config(Some("https://Maps.Example.org/placemap/"), &[]);
        let h = headers(&[
            ("host", "evil.example"),
            ("x-forwarded-host", "evil.example"),
        ]);
        assert_eq!(
            resolve(&c, &h, peer("10.0.0.2:1", "10.0.0.1:8080")),
            "https://maps.example.org/placemap"
        );
        for bad in [
            "ftp://x",
            "maps.example.org",
            "https://u@x.org",
            "https://x.org/?a=1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trusted_proxies_say_how_the_client_came() {
        let c = config(None, &["10.0.0.0/8", "::1"]);
        let from_proxy = peer("10.1.2.3:4000", "10.0.0.1:8080");
        let h = headers(&[
            ("host", "10.0.0.1:8080"),
            (
                "forwarded",
                "for=192.0.2.60;proto=http;host=cdn.example, for=10.9.9.9;proto=https;host=\"maps.example.org\"",
            ),
        ]);
        assert_eq!(resolve(&c, &h, from_proxy), "https://maps.example.org");
        let h = headers(&[
            ("host", "10.0.0.1:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "maps.example.org"),
        ]);
        assert_eq!(resolve(&c, &h, from_proxy), "https://maps.example.org");
        // Only the scheme forwarded: the host still has to name the listener.
        let h = headers(&[("host", "evil.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(resolve(&c, &h, from_proxy), "https://10.0.0.1:8080");
        // A bogus scheme or host is ignored.
        let h = headers(&[
            ("host", "10.0.0.1:8080"),
            ("x-forwarded-proto", "gopher"),
            ("x-forwarded-host", "a b/c"),
        ]);
        assert_eq!(resolve(&c, &h, from_proxy), "http://10.0.0.1:8080");
        // IPv6 loopback proxy, IPv4-mapped addresses compare as IPv4.
        let h = headers(&[("x-forwarded-host", "maps.example.org")]);
        assert_eq!(
            resolve(&c, &h, peer("[::1]:4000", "[::1]:8080")),
            "http://maps.example.org"
        );
        assert_eq!(
            resolve(&c, &h, peer("[::ffff:10.0.0.5]:4000", "10.0.0.1:8080")),
            "http://maps.example.org"
        );
    }

    #[test]
    fn unspecified_listeners_link_to_localhost() {
        let mut c = config(None, &[]);
        c.addr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(
            resolve(&c, &HeaderMap::new(), None),
            "http://localhost:8080"
        );
        assert!(parse_proxy("10.0.0.0/33").is_err());
    }
}
