//! The fuzzing harness of placemap's readers of outside input (issue 12): seeded, shrinking
//! property tests with `proptest` (stable Rust has no libFuzzer, so no `cargo fuzz`), fed with
//! arbitrary bytes and with structured mutations of the real files in the data directory.
//!
//! Every target (in `tests/`) states one property: the reader returns `Ok` or a clear `Err`,
//! never panics (proptest catches the panic and shrinks the input to a small one), and finishes
//! well within [`HANG`] (a hang detector, not a timing test).
//!
//! Bounded in CI: each target runs a fixed number of cases from a fixed seed, so a run is
//! reproducible and all targets together take well under a minute. To fuzz longer locally:
//! `PLACEMAP_FUZZ_SCALE=20` multiplies every target's cases, and `PLACEMAP_FUZZ_SEED=N` (or
//! `random`) explores other inputs. FUZZING.md records the long runs and what they found.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError};

pub mod json;
pub mod mutate;

/// A case taking longer than this is a hang (the slowest honest case takes well under 100 ms
/// in the test profile).
pub const HANG: Duration = Duration::from_secs(5);

/// The seed of CI runs: fixed, so a failure seen in CI is seen again locally.
const DEFAULT_SEED: u64 = 0x706c_6163_656d_6170;

/// The multiplier of every target's case count (`PLACEMAP_FUZZ_SCALE`, default 1).
pub fn scale() -> u32 {
    std::env::var("PLACEMAP_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(1)
}

/// The proptest configuration of a target that runs `cases` cases in CI: scaled by
/// [`scale`], seeded by `PLACEMAP_FUZZ_SEED` (a number, or `random`; fixed by default), and not
/// writing regression files into the source tree (failures found are committed as explicit
/// regression tests instead, see `tests/regressions.rs`).
pub fn config(cases: u32) -> Config {
    let seed = match std::env::var("PLACEMAP_FUZZ_SEED").ok().as_deref() {
        Some("random") => RngSeed::Random,
        Some(s) => RngSeed::Fixed(s.trim().parse().unwrap_or(DEFAULT_SEED)),
        None => RngSeed::Fixed(DEFAULT_SEED),
    };
    Config {
        cases: cases.saturating_mul(scale()),
        rng_seed: seed,
        failure_persistence: None,
        // Shrinking re-runs the reader; bound it so a failure is reported in seconds.
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// Runs one case of a target, failing it (with `input` described) if it takes longer than
/// [`HANG`]. Panics inside `f` propagate to proptest, which reports and shrinks them.
pub fn within_bound<T>(
    input: impl FnOnce() -> String,
    f: impl FnOnce() -> T,
) -> Result<T, TestCaseError> {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    if took > HANG {
        return Err(TestCaseError::fail(format!(
            "took {took:?} (over {HANG:?}): a hang on {}",
            input()
        )));
    }
    Ok(out)
}

/// Checks that an error reads as a clear message: not empty, no debug dump of the reader's
/// internals (`{ kind: ...` or `Error(`), and naming `what` (a file name) when given.
pub fn clear_error(message: &str, what: Option<&str>) -> Result<(), TestCaseError> {
    prop_assert!(!message.trim().is_empty(), "empty error message");
    prop_assert!(
        !message.contains("{ kind:") && !message.contains("Custom {"),
        "error is a debug dump: {message}"
    );
    if let Some(name) = what {
        prop_assert!(
            message.contains(name),
            "error does not name {name}: {message}"
        );
    }
    Ok(())
}

/// Arbitrary text, mostly short, drawing on characters that trouble parsers (separators,
/// quotes, escapes, digits, exponents, non-ASCII, control characters).
pub fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(nasty_char(), 0..24).prop_map(|cs| cs.into_iter().collect()),
        2 => proptest::sample::select(mutate::TOKENS).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// Characters that mean something to some parser.
const CHARS: &[char] = &[
    '0', '1', '9', '.', '-', '+', 'e', 'E', ',', ';', ':', '=', '&', '%', '"', '\'', '\\', '/',
    ' ', '\t', '\n', '\r', '{', '}', '[', ']', '(', ')', '#', '*', '~', 'x', 'n', 'a', 'i', 'f',
    '\0', '\u{feff}', '\u{fffd}', 'é', '∞',
];

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::sample::select(CHARS),
        1 => any::<char>(),
    ]
}
