//! The integration tests of `districts`, built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing.

mod common;

mod catalog_real;
mod dissolve_real;
mod fixtures_toy;
mod index_fast_path;
mod index_lookup;
mod indicators_bad;
mod indicators_real;
mod join_real;
mod load_bad_input;
mod load_crs;
mod load_real;
mod prepared_real;
mod simplify_bands;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
