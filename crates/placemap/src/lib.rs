//! The library side of the `placemap` binary: only what the command line needs and no other
//! crate should know (where the data and the catalogue are found).

/// Finding the data directory and the catalogue (`--data`, `PLACEMAP_DATA`, `../shared/data`).
pub mod data_dir;
