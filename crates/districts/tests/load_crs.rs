//! Reprojection of British National Grid against pyproj, on every GB rail station.

use std::collections::HashMap;
use test_support::data_dir;

use districts::crs::{Crs, ToWgs84};

/// Great-circle distance in metres (haversine, mean Earth radius).
fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

#[test]
fn bng_rail_stations_match_pyproj_within_5_metres() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rail_wgs84_pyproj.csv"
    );
    let mut expected = HashMap::new();
    let mut rdr = csv::Reader::from_path(fixture).expect("fixture is committed");
    for row in rdr.records() {
        let row = row.expect("fixture row");
        let lon: f64 = row[1].parse().expect("lon");
        let lat: f64 = row[2].parse().expect("lat");
        expected.insert(row[0].to_string(), (lon, lat));
    }
    let t = ToWgs84::new(Crs::BritishNationalGrid).expect("BNG projection");
    let mut rdr = csv::Reader::from_path(data_dir().join("naptan_rail_references_2016.csv"))
        .expect("NaPTAN rail references in the data directory");
    let headers = rdr.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (code_i, e_i, n_i) = (col("AtcoCode"), col("Easting"), col("Northing"));
    let (mut n, mut worst, mut worst_code) = (0, 0.0_f64, String::new());
    for row in rdr.records() {
        let row = row.expect("row");
        let e: f64 = row[e_i].parse().expect("easting");
        let nn: f64 = row[n_i].parse().expect("northing");
        let (lon, lat) = t.point(e, nn).expect("reprojects");
        let &(elon, elat) = expected.get(&row[code_i]).expect("station in fixture");
        let d = haversine_m(lon, lat, elon, elat);
        if d > worst {
            worst = d;
            worst_code = row[code_i].to_string();
        }
        n += 1;
    }
    println!("{n} stations, max distance from pyproj {worst:.3} m at {worst_code}");
    assert_eq!(n, 2619);
    assert_eq!(n, expected.len());
    assert!(worst < 5.0, "max error {worst} m at {worst_code}");
}

#[test]
fn web_mercator_inverse_matches_tile_math() {
    let t = ToWgs84::new(Crs::WebMercator).expect("mercator");
    let (x, y) = tile_math::lonlat_to_mercator(-1.6178, 54.9783);
    let (lon, lat) = t.point(x, y).expect("reprojects");
    assert!((lon + 1.6178).abs() < 1e-9 && (lat - 54.9783).abs() < 1e-9);
}

#[test]
fn reprojection_of_nan_is_an_error() {
    let t = ToWgs84::new(Crs::BritishNationalGrid).expect("BNG projection");
    assert!(t.point(f64::NAN, 100.0).is_err());
}
