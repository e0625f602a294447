//! Writing RFC 7946 GeoJSON straight to a string: coordinates rounded to the requested precision
//! (the geojson crate has no precision control, and going through its value tree would double the
//! work for a 30k-feature layer).

use std::fmt::Write;

use geo_types::{LineString, MultiPolygon};
use serde_json::{Map, Value};

/// Appends one coordinate, rounded to `precision` decimals with trailing zeros removed.
fn push_number(out: &mut String, v: f64, precision: usize) {
    let start = out.len();
    let _ = write!(out, "{v:.precision$}");
    if out[start..].contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

fn push_ring(out: &mut String, ring: &LineString<f64>, precision: usize) {
    out.push('[');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_number(out, c.x, precision);
        out.push(',');
        push_number(out, c.y, precision);
        out.push(']');
    }
    out.push(']');
}

/// Appends a GeoJSON MultiPolygon geometry object (RFC 7946 ring order: exteriors
/// counter-clockwise, holes clockwise).
pub fn push_multipolygon(out: &mut String, mp: &MultiPolygon<f64>, precision: usize) {
    use geo::orient::{Direction, Orient};
    let mp = mp.orient(Direction::Default);
    out.push_str(r#"{"type":"MultiPolygon","coordinates":["#);
    for (i, poly) in mp.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_ring(out, poly.exterior(), precision);
        for hole in poly.interiors() {
            out.push(',');
            push_ring(out, hole, precision);
        }
        out.push(']');
    }
    out.push_str("]}");
}

/// Appends one Feature with an `id`, the geometry and the properties.
pub fn push_feature(
    out: &mut String,
    id: &str,
    mp: &MultiPolygon<f64>,
    properties: &Map<String, Value>,
    precision: usize,
) {
    out.push_str(r#"{"type":"Feature","id":"#);
    out.push_str(&Value::String(id.to_string()).to_string());
    out.push_str(r#","geometry":"#);
    push_multipolygon(out, mp, precision);
    out.push_str(r#","properties":"#);
    out.push_str(&Value::Object(properties.clone()).to_string());
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_and_trimmed() {
        let mut s = String::new();
        push_number(&mut s, 1.2300004, 6);
        assert_eq!(s, "1.23");
        s.clear();
        push_number(&mut s, -0.0000001, 6);
        assert_eq!(s, "0");
        s.clear();
        push_number(&mut s, 54.123456789, 4);
        assert_eq!(s, "54.1235");
    }
}
