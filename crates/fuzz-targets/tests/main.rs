//! The fuzz targets of placemap (issue 12), built as one test binary (`autotests = false` in
//! Cargo.toml): every other file here is a module of it. Add a new file with a `mod` line below;
//! `every_test_file_is_a_module` fails if one is missing. FUZZING.md at the repository root says
//! how long each ran and what it found.

mod boundaries;
mod catalog;
mod queries;
mod regressions;
mod tables;
mod uploads;

#[test]
fn every_test_file_is_a_module() {
    test_support::assert_test_modules_declared(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
    );
}
