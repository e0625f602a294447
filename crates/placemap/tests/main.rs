//! The integration tests of `placemap`, built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing.

mod cli;
mod cli_analysis;
mod cli_gis;
mod datasets;
mod datasets_shapes;
mod hardening;
mod scale_out;
mod startup;
mod stored_joins;
mod tiles_load;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
