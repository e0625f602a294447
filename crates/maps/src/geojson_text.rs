//! Writing RFC 7946 GeoJSON straight to a string: coordinates rounded to the requested precision
//! (the geojson crate has no precision control, and going through its value tree would double the
//! work for a 30k-feature layer). Each geometry is made valid on the grid of that precision
//! before it is written ([`districts::repair::on_decimal_grid`]), so what a client parses is
//! OGC-valid, not only what placemap held before rounding.

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

/// Appends `(origin + v) / 10^decimals` exactly, trailing zeros removed.
fn push_fixed(out: &mut String, origin: i64, v: i32, decimals: u32) {
    let n = origin + i64::from(v);
    let unit = 10u64.pow(decimals);
    let (whole, mut frac) = (n.unsigned_abs() / unit, n.unsigned_abs() % unit);
    if n < 0 {
        out.push('-');
    }
    let _ = write!(out, "{whole}");
    if frac != 0 {
        let mut digits = decimals as usize;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
}

/// Appends the coordinates of polygons on a decimal grid (rings closed again).
fn push_grid_polygons(out: &mut String, g: &districts::repair::DecimalShapes) {
    out.push('[');
    for (i, shape) in g.shapes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (k, ring) in shape.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push('[');
            for (j, p) in ring.iter().chain(ring.first()).enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push('[');
                push_fixed(out, g.origin[0], p.x, g.decimals);
                out.push(',');
                push_fixed(out, g.origin[1], p.y, g.decimals);
                out.push(']');
            }
            out.push(']');
        }
        out.push(']');
    }
    out.push(']');
}

/// Appends a GeoJSON MultiPolygon geometry object (RFC 7946 ring order: exteriors
/// counter-clockwise, holes clockwise), valid on the grid of `precision` decimals.
pub fn push_multipolygon(out: &mut String, mp: &MultiPolygon<f64>, precision: usize) {
    use geo::orient::{Direction, Orient};
    let decimals = u32::try_from(precision).unwrap_or(u32::MAX);
    if let Some(g) = districts::repair::on_decimal_grid(mp, decimals) {
        out.push_str(r#"{"type":"MultiPolygon","coordinates":"#);
        push_grid_polygons(out, &g);
        out.push('}');
        return;
    }
    // Too fine a grid for this geometry's extent: its coordinates, rounded.
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

    #[test]
    fn grid_numbers_are_exact_and_trimmed() {
        let mut s = String::new();
        for (origin, v, decimals, want) in [
            (-1_234_567, 7, 6, "-1.23456"),
            (-5, 2, 6, "-0.000003"),
            (0, 0, 6, "0"),
            (54_000_000, 120, 6, "54.00012"),
            (3, 4, 0, "7"),
        ] {
            s.clear();
            push_fixed(&mut s, origin, v, decimals);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn a_ring_that_rounding_folds_is_written_valid() {
        use geo::Validation;
        // Valid at full precision; at 2 decimals the notch's two sides fall on one line.
        use geo_types::polygon;
        let notch = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0),
            (x: 0.501, y: 1.0), (x: 0.501, y: 0.5), (x: 0.499, y: 0.5), (x: 0.499, y: 1.0),
            (x: 0.0, y: 1.0)];
        let mp = MultiPolygon(vec![notch]);
        assert!(mp.is_valid());
        let mut s = String::new();
        push_multipolygon(&mut s, &mp, 2);
        let g: geojson::Geometry = s.parse().expect("GeoJSON");
        let back: MultiPolygon<f64> = g.try_into().expect("a MultiPolygon");
        assert!(back.is_valid(), "{s}");
        assert!(!s.contains("0.5,0.5"), "the folded notch is gone: {s}");
    }
}
