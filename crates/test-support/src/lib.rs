//! Helpers shared by placemap's tests, benches and doc tests (never by library code): where the
//! real data and the catalogue are, the toy fixtures committed beside this crate, one golden
//! comparison for PNG and one for SVG (with the bless step), and the benchmark tile list.

use std::path::{Path, PathBuf};

pub mod golden;
pub mod readme;

pub mod tiles;

/// The repository root: the nearest ancestor of the current directory that holds
/// `boundaries/catalog.toml` (cargo runs tests, benches and doc tests in the package directory),
/// else the workspace this crate was built in.
pub fn repo_root() -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            if dir.join("boundaries/catalog.toml").is_file() && dir.join("Cargo.toml").is_file() {
                return dir.to_path_buf();
            }
        }
    }
    // Test code only: the workspace this crate sits in (crates/test-support/../..).
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The data directory: `PLACEMAP_DATA` when set and not empty, else `../shared/data` beside the
/// repository root.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("PLACEMAP_DATA") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => repo_root().join("../shared/data"),
    }
}

/// The repository's catalogue of layers and indicators, `boundaries/catalog.toml`.
pub fn catalog_path() -> PathBuf {
    repo_root().join("boundaries/catalog.toml")
}

/// Where golden outputs live: the repository's `tests/expected/`.
pub fn expected_dir() -> PathBuf {
    repo_root().join("tests/expected")
}

/// The toy data committed with this crate (`crates/test-support/fixtures/`): four square
/// districts (`toy_districts.geojson`, codes `E09000901`..`E09000904`), an indicator table with
/// one code that has no district and one district with no row (`toy_indicators.csv`), and a
/// catalogue over both (`toy_catalog.toml`). Small enough for unit and doc tests.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// True when `PLACEMAP_BLESS=1`: golden files are rewritten instead of compared.
pub fn blessing() -> bool {
    std::env::var("PLACEMAP_BLESS").is_ok_and(|v| v == "1")
}

/// True under `CI=true`: a missing golden file fails instead of being written.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Panics unless every `*.rs` file in `tests_dir` (a package's `tests/`) other than `main.rs` is
/// declared as a module in its `main.rs`. Each package builds one integration-test binary from
/// `tests/main.rs` (`autotests = false`), so an undeclared file would silently never run.
pub fn assert_test_modules_declared(tests_dir: &Path) {
    let main = std::fs::read_to_string(tests_dir.join("main.rs"))
        .unwrap_or_else(|e| panic!("reading {}/main.rs: {e}", tests_dir.display()));
    let entries = std::fs::read_dir(tests_dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", tests_dir.display()));
    let mut missing = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if stem != "main" && !main.contains(&format!("mod {stem};")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "{}/main.rs does not declare {missing:?}: add `mod <name>;` lines so they run",
        tests_dir.display()
    );
}
