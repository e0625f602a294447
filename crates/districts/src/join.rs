//! Joining indicator tables to districts by GSS code. A mismatch is data (a [`JoinReport`]), not
//! an error.

use serde::Serialize;

/// Normalises a GSS code for matching: trimmed, upper case.
///
/// ```
/// assert_eq!(districts::join::normalise_code(" e06000001 "), "E06000001");
/// ```
pub fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// How a table's codes met a layer's codes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JoinReport {
    pub matched: usize,
}
