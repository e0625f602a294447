//! The integration tests of `analysis`, built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod compare_real;
mod imd_file10;
mod imd_lad23;
mod pysal_fixture;
mod query_real;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
