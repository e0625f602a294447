//! Reading indicator tables (CSV, wide or long) as published: UTF-8 BOMs, padded headers,
//! thousands separators, `£` and `%`, and the suppression markers of ONS and DfE, which are read
//! as missing (`None`), never as zero. A cell that is neither a number nor a known marker is an
//! error naming the file, line and column.
//!
//! The cells themselves (encodings, numbers, markers, period labels) are [`crate::csv_text`]'s;
//! values are keyed by normalised GSS code; aligning them with a layer's districts is
//! [`crate::join`]'s job.

/// Tables as read: codes interned per table, values per period keyed by code.
mod tables;

/// Reading indicator and lookup tables as the catalogue describes them.
mod readers;

// The readers' error, at its old path (the catalogue shares it, so it lives in csv_text).
pub use crate::csv_text::TableError;
pub use readers::{read_all, read_lookup, read_table};
pub use tables::{
    CodeValues, DuplicateKey, IndicatorTable, LookupTable, TableCodes, TableIndicator, TablePeriod,
    TableValues,
};
