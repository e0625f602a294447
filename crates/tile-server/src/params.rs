//! Parsing query parameters into checked values, each failure a 400 that says which parameter
//! and what a good value looks like.

use std::collections::HashMap;
use std::str::FromStr;

use crate::error::ApiError;

/// A number parameter.
pub fn parse_num<T: FromStr>(name: &str, raw: &str) -> Result<T, ApiError> {
    raw.trim().parse::<T>().map_err(|_| {
        ApiError::bad_request(
            format!("{name}={raw:?} is not a valid number"),
            format!("give {name} as a number"),
        )
    })
}

/// A boolean parameter: `true|false|1|0|yes|no`.
pub fn parse_bool(name: &str, raw: &str) -> Result<bool, ApiError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ApiError::bad_request(
            format!("{name}={raw:?} is not true or false"),
            format!("use {name}=true or {name}=false"),
        )),
    }
}

pub use maps::options::parse_list;

/// `bbox=minLon,minLat,maxLon,maxLat` in degrees, checked for order and range.
pub fn parse_bbox(raw: &str) -> Result<[f64; 4], ApiError> {
    Ok(raw.parse::<maps::options::Bbox>()?.0)
}

/// Rejects parameters this route does not know, listing the ones it does.
pub fn reject_unknown(q: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    let mut unknown: Vec<&str> = q
        .keys()
        .map(std::string::String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    Err(ApiError::bad_request(
        format!("unknown option(s): {}", unknown.join(", ")),
        format!("valid options: {}", known.join(", ")),
    ))
}

/// Longitude and latitude, checked for range.
pub fn parse_lonlat(lon: &str, lat: &str) -> Result<(f64, f64), ApiError> {
    let lon: f64 = parse_num("lon", lon)?;
    let lat: f64 = parse_num("lat", lat)?;
    if !lon.is_finite()
        || !(-180.0..=180.0).contains(&lon)
        || !lat.is_finite()
        || !(-90.0..=90.0).contains(&lat)
    {
        return Err(ApiError::bad_request(
            format!("lon={lon}, lat={lat} is out of range"),
            "lon in -180..180 and lat in -90..90 (WGS84 degrees)",
        ));
    }
    Ok((lon, lat))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
