//! The library side of the `placemap` binary: only what the command line needs and no other
//! crate should know (where the data and the catalogue are found).

/// Finding the data directory and the catalogue (`--data`, `PLACEMAP_DATA`, `../shared/data`).
pub mod data_dir;

/// An error and its causes on one line, each said once.
///
/// Our error types make their `Display` whole (`layer msoa: msoa.dbf: truncated`), because the
/// server logs and HTTP answers show `Display` alone; they also keep the cause as `source()`.
/// Printing the chain the usual way (`{:#}`) would then say every cause twice
/// (`X: Y: Y`), so a cause whose text is already in the line is left out.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("layer msoa: {source}")]
/// struct Outer { source: std::io::Error }
/// let e = anyhow::Error::new(Outer { source: std::io::Error::other("msoa.dbf: truncated") })
///     .context("loading the layers");
/// assert_eq!(
///     placemap::error_chain(&e),
///     "loading the layers: layer msoa: msoa.dbf: truncated"
/// );
/// ```
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(text.trim()) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
