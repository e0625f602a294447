//! The integration tests of `placemap-e2e`, built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing.

mod boundary_changes;
mod cancel_drawing;
mod clients;
mod current_geography;
mod derived;
mod describe;
mod geometry;
mod gis_files;
mod golden;
mod home;
mod left_out;
mod lookup_columns;
mod ogc;
mod ogc_html;
mod ogc_parts;
mod ordinal;
mod periods;
mod qgis;
mod readme;
mod regions;
mod server;
mod socket;
mod startup_tiles;
mod staticmaps;
mod stats;
mod styles;
mod tiny_bbox;
mod valid_geometry;
mod vector;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
