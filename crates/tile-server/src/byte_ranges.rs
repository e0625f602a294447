//! Byte ranges (RFC 9110 section 14) of file-like responses: the GeoJSON and CSV downloads and
//! the static figures, so GDAL's `/vsicurl/`, download managers and resumed downloads read them
//! in pieces.
//!
//! A handler marks a response as a file with [`file_like`](crate::byte_ranges::file_like) (`Accept-Ranges: bytes` and a strong
//! ETag); the [`ranges`](crate::byte_ranges::ranges) middleware then answers a `GET` with a `Range` header:
//! - one satisfiable range (`bytes=0-99`, `bytes=100-`, suffix `bytes=-100`): 206 with
//!   `Content-Range: bytes first-last/length`;
//! - an unsatisfiable one (every range starts at or past the end): 416 with
//!   `Content-Range: bytes */length`;
//! - several ranges: 200 with the whole body (a multipart/byteranges answer is allowed but not
//!   required, and no client of ours asks for one);
//! - a malformed `Range`, or an `If-Range` that does not name the current ETag: 200 with the
//!   whole body, as the RFC says.
//!
//! The header is parsed by the `http-range-header` crate (the parser tower-http's `ServeDir`
//! uses); tower-http serves ranges only of files on disk, and these bodies are made in memory,
//! hence this small middleware. It sits inside the compression layer, which leaves 206
//! responses uncompressed (the range is of the identity encoding).

use std::hash::{Hash, Hasher};
use std::ops::RangeInclusive;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Marks `res` as a downloadable file: `Accept-Ranges: bytes`, and a strong ETag from `seed`
/// (the data version and the request URI: the same request gives the same bytes until the
/// data changes), so `If-Range` can be checked.
pub fn file_like(mut res: Response, seed: impl Hash) -> Response {
    let mut h = std::hash::DefaultHasher::new();
    seed.hash(&mut h);
    let headers = res.headers_mut();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{:016x}\"", h.finish())) {
        headers.entry(header::ETAG).or_insert(v);
    }
    res
}

/// What to answer to a `Range` header for a body of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The whole body (no range, a malformed one, or several).
    Whole,
    /// One range of bytes, inclusive.
    Part(RangeInclusive<u64>),
    /// 416: no byte of the range exists.
    Unsatisfiable,
}

/// Reads a `Range` header value for a body of `len` bytes.
///
/// ```
/// use tile_server::byte_ranges::{answer, Answer};
/// assert_eq!(answer("bytes=0-9", 100), Answer::Part(0..=9));
/// assert_eq!(answer("bytes=-10", 100), Answer::Part(90..=99));
/// assert_eq!(answer("bytes=200-", 100), Answer::Unsatisfiable);
/// assert_eq!(answer("pages=1", 100), Answer::Whole);
/// ```
pub fn answer(range: &str, len: u64) -> Answer {
    use http_range_header::{EndPosition, StartPosition};
    // A malformed header is ignored (RFC 9110 14.2), not refused.
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Answer::Whole;
    };
    let [one] = parsed.ranges.as_slice() else {
        return Answer::Whole;
    };
    // Resolved here rather than with the crate's `validate`, which refuses a suffix longer
    // than the body (RFC 9110 14.1.2: that is the whole body) and treats `bytes=5-1` as
    // unsatisfiable (it is malformed, so ignored).
    let last_byte = len.checked_sub(1);
    match (one.start, one.end) {
        (StartPosition::Index(first), EndPosition::Index(last)) if last < first => Answer::Whole,
        (StartPosition::Index(first), end) => match last_byte {
            Some(max) if first <= max => {
                let last = match end {
                    EndPosition::Index(l) => l.min(max),
                    EndPosition::LastByte => max,
                };
                Answer::Part(first..=last)
            }
            _ => Answer::Unsatisfiable,
        },
        (StartPosition::FromLast(n), _) => match last_byte {
            Some(max) if n > 0 => Answer::Part(len - n.min(len)..=max),
            _ => Answer::Unsatisfiable,
        },
    }
}

/// True when an `If-Range` header allows the range: absent, or the strong ETag of the
/// response. A date never matches (these responses have no `Last-Modified`), and a weak tag
/// never does (RFC 9110 13.1.5).
fn if_range_allows(req: &HeaderMap, res: &HeaderMap) -> bool {
    let Some(cond) = req.get(header::IF_RANGE) else {
        return true;
    };
    let (Ok(cond), Some(tag)) = (cond.to_str(), res.get(header::ETAG)) else {
        return false;
    };
    let cond = cond.trim();
    cond.starts_with('"') && tag.to_str().is_ok_and(|t| t == cond)
}

/// The middleware: answers `Range` on responses marked by [`file_like`].
pub async fn ranges(req: Request, next: Next) -> Response {
    let range = (req.method() == Method::GET)
        .then(|| req.headers().get(header::RANGE).cloned())
        .flatten();
    let req_headers = req.headers().clone();
    let res = next.run(req).await;
    let is_file = res
        .headers()
        .get(header::ACCEPT_RANGES)
        .is_some_and(|v| v == "bytes");
    let Some(range) = range else {
        return res;
    };
    if res.status() != StatusCode::OK || !is_file || !if_range_allows(&req_headers, res.headers()) {
        return res;
    }
    let Ok(range) = range.to_str() else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    // The body is already in memory (a String or Vec made by the handler).
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let len = bytes.len() as u64;
    match answer(range, len) {
        Answer::Whole => Response::from_parts(parts, Body::from(bytes)),
        Answer::Part(r) => {
            let (first, last) = (*r.start(), *r.end());
            let content_range = format!("bytes {first}-{last}/{len}");
            parts.status = StatusCode::PARTIAL_CONTENT;
            parts.headers.remove(header::CONTENT_LENGTH);
            if let Ok(v) = HeaderValue::from_str(&content_range) {
                parts.headers.insert(header::CONTENT_RANGE, v);
            }
            // `first..=last` lies within the body (validated against `len`).
            let start = usize::try_from(first).unwrap_or(usize::MAX);
            let end = usize::try_from(last).map_or(usize::MAX, |l| l.saturating_add(1));
            Response::from_parts(parts, Body::from(bytes.slice(start..end)))
        }
        Answer::Unsatisfiable => {
            // The one JSON error shape, with the status ApiError has no variant for.
            let body = serde_json::json!({
                "error": format!("the range {range:?} starts beyond the {len} bytes of this response"),
                "hint": format!("ask for bytes 0 to {}, e.g. Range: bytes=0-1023", len.saturating_sub(1)),
            });
            let mut r = (StatusCode::RANGE_NOT_SATISFIABLE, axum::Json(body)).into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_open_and_suffix_ranges() {
        assert_eq!(answer("bytes=0-0", 10), Answer::Part(0..=0));
        assert_eq!(answer("bytes=5-", 10), Answer::Part(5..=9));
        // A last byte past the end is cut to the end.
        assert_eq!(answer("bytes=5-100", 10), Answer::Part(5..=9));
        assert_eq!(answer("bytes=-3", 10), Answer::Part(7..=9));
        // A suffix longer than the body is the whole body.
        assert_eq!(answer("bytes=-30", 10), Answer::Part(0..=9));
    }

    #[test]
    fn unsatisfiable_malformed_and_multiple() {
        assert_eq!(answer("bytes=10-", 10), Answer::Unsatisfiable);
        assert_eq!(answer("bytes=10-20", 10), Answer::Unsatisfiable);
        assert_eq!(answer("bytes=0-1", 0), Answer::Unsatisfiable);
        assert_eq!(answer("bytes=-5", 0), Answer::Unsatisfiable);
        // The parser refuses a zero-length suffix as malformed: ignored.
        assert_eq!(answer("bytes=-0", 10), Answer::Whole);
        for malformed in ["bytes=abc", "items=0-1", "bytes=5-1", ""] {
            assert_eq!(answer(malformed, 10), Answer::Whole, "{malformed}");
        }
        assert_eq!(answer("bytes=0-1,5-6", 10), Answer::Whole);
    }

    #[test]
    fn if_range_needs_the_strong_etag() {
        let res = HeaderMap::from_iter([(header::ETAG, HeaderValue::from_static("\"abc\""))]);
        let req = |v: &'static str| {
            HeaderMap::from_iter([(header::IF_RANGE, HeaderValue::from_static(v))])
        };
        assert!(if_range_allows(&HeaderMap::new(), &res));
        assert!(if_range_allows(&req("\"abc\""), &res));
        assert!(!if_range_allows(&req("\"abd\""), &res));
        assert!(!if_range_allows(&req("W/\"abc\""), &res));
        assert!(!if_range_allows(
            &req("Wed, 21 Oct 2015 07:28:00 GMT"),
            &res
        ));
    }
}
