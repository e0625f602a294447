//! The integration tests of `choropleth`, built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing.

mod common;
#[path = "common/figure_data.rs"]
mod figure_data;

mod classify_mapclassify;
mod figure_golden;
mod figure_lsoa;
mod figure_real;
mod legend_real;
mod palette_colorbrewer;
mod render_real;
mod render_synthetic;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
