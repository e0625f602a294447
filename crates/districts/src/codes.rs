//! GSS codes as compared everywhere: trimmed and upper case. Boundary files, indicator tables,
//! lookups, requests and the analysis crate all normalise codes here, so they always agree.

/// Normalises a GSS code for matching: trimmed, upper case (ASCII letters only).
///
/// ```
/// assert_eq!(districts::codes::normalise_code(" e06000001 "), "E06000001");
/// ```
pub fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// [`normalise_code`] into a buffer the caller reuses (one per table rather than one
/// allocation per row).
///
/// ```
/// let mut buf = String::from("old");
/// districts::codes::normalise_code_into(" e01000001", &mut buf);
/// assert_eq!(buf, "E01000001");
/// ```
pub fn normalise_code_into(code: &str, buf: &mut String) {
    buf.clear();
    buf.extend(code.trim().chars().map(|c| c.to_ascii_uppercase()));
}
