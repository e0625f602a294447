//! Test-side reader for the real WGS84 GeoJSON boundary files (the crate's loaders are built
//! elsewhere; the index and simplification tests only need codes and multipolygons).
#![allow(dead_code)]

pub use test_support::data_dir;

use districts::Wgs84;
use geo_types::MultiPolygon;

/// Reads `file` from the data directory as (code, geometry) in file order; the code comes from
/// the property `code_field`. Panics with the file and feature on anything unexpected (tests only).
pub fn read_layer(file: &str, code_field: &str) -> Vec<(String, Wgs84)> {
    let path = data_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let fc: geojson::FeatureCollection = text
        .parse()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    fc.features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let code = f
                .property(code_field)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("{}: feature {i} has no {code_field}", path.display()))
                .to_string();
            let geometry = f.geometry.as_ref().unwrap_or_else(|| {
                panic!("{}: feature {i} ({code}) has no geometry", path.display())
            });
            let geom: geo_types::Geometry<f64> = (&geometry.value)
                .try_into()
                .unwrap_or_else(|e| panic!("{}: feature {i} ({code}): {e}", path.display()));
            let mp = match geom {
                geo_types::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo_types::Geometry::MultiPolygon(mp) => mp,
                other => panic!(
                    "{}: feature {i} ({code}) is not polygonal: {other:?}",
                    path.display()
                ),
            };
            (code, Wgs84(mp))
        })
        .collect()
}

/// Just the geometries of [`read_layer`].
pub fn geoms(layer: &[(String, Wgs84)]) -> Vec<Wgs84> {
    layer.iter().map(|(_, g)| g.clone()).collect()
}

pub const LAD19: &str = "lad_2019_uk_generalised_wgs84.geojson";
pub const LAD19_BGC: &str = "lad_apr2019_uk_bgc_wgs84.geojson";
pub const LSOA11: &str = "lsoa_2011_england_generalised_wgs84.geojson";
