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

/// What one case came to: the reader's `Ok`, or its error message (a clear one: the target
/// checked it before returning).
#[derive(Debug)]
pub enum Outcome {
    /// The input was read.
    Read,
    /// The input was refused with this message.
    Refused(String),
}

impl<T, E: std::fmt::Display> From<&Result<T, E>> for Outcome {
    fn from(r: &Result<T, E>) -> Self {
        match r {
            Ok(_) => Outcome::Read,
            Err(e) => Outcome::Refused(e.to_string()),
        }
    }
}

/// Runs a target: `cases` cases (see [`config`]) of `strategy` through `test`, panicking with
/// the shrunk failing input if a case fails or panics. Prints a one-line summary (cases, time,
/// how many inputs were read and refused, a few distinct refusals) and checks that the inputs
/// reach both outcomes when `both` is set: a target whose inputs are all refused at the first
/// check, or all read, is not exploring the reader.
pub fn run<S>(
    name: &str,
    cases: u32,
    both: bool,
    strategy: S,
    test: impl Fn(S::Value) -> Result<Outcome, TestCaseError>,
) where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    use std::sync::Mutex;
    let read = std::sync::atomic::AtomicUsize::new(0);
    let refused = Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    let start = Instant::now();
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    let result = runner.run(&strategy, |input| {
        match test(input)? {
            Outcome::Read => {
                read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Outcome::Refused(msg) => {
                // Group refusals by their gist: the message without file paths and numbers.
                let gist: String = msg
                    .split_whitespace()
                    .filter(|w| !w.contains('/') && !w.starts_with(|c: char| c.is_ascii_digit()))
                    .take(8)
                    .collect::<Vec<_>>()
                    .join(" ");
                *refused
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(gist)
                    .or_default() += 1;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let read = read.into_inner();
    let refused = refused
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let refusals: usize = refused.values().sum();
    let mut common: Vec<(&String, &usize)> = refused.iter().collect();
    common.sort_by(|a, b| b.1.cmp(a.1));
    eprintln!(
        "fuzz {name}: {} cases in {:.1?}: {read} read, {refusals} refused ({} kinds; most common: {})",
        read + refusals,
        start.elapsed(),
        refused.len(),
        common
            .iter()
            .take(3)
            .map(|(g, n)| format!("{n}x \"{g}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if both {
        assert!(
            read > 0,
            "{name}: no input was read: the mutations are too destructive"
        );
        assert!(
            refusals > 0,
            "{name}: no input was refused: the mutations change nothing"
        );
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
