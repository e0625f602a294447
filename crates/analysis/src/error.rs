//! Errors of the analysis functions. Missing data and unassignable areas are *not* errors:
//! they are reported in the results (exclusions, unassigned lists).

use thiserror::Error;

/// What went wrong in an analysis, with the offending code, group or sizes.
#[derive(Debug, Error, Clone, PartialEq)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum AnalysisError {
    /// Two inputs that must be aligned have different lengths.
    #[error("{what}: expected {expected} entries (one per area), got {got}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A group name that the grouping does not contain.
    #[error("unknown group {group:?}; known groups: {known}")]
    UnknownGroup { group: String, known: String },
    /// A group with no district carrying a value.
    #[error("group {group:?} has no district with a value")]
    EmptyGroup { group: String },
    /// Too few values for the statistic asked for.
    #[error("{statistic} needs at least {needed} values, got {got}")]
    TooFewValues {
        statistic: &'static str,
        needed: usize,
        got: usize,
    },
    /// A statistic that is undefined for these data (e.g. zero variance).
    #[error("{statistic} is undefined: {reason}")]
    Undefined {
        statistic: &'static str,
        reason: String,
    },
    /// A code given by the user that is not among the districts.
    #[error("unknown district code {code:?}")]
    UnknownCode { code: String },
    /// An indicator or period asked of a layer that it does not have.
    #[error("layer {layer:?} has no {what} {id:?}; available: {available}")]
    NotInLayer {
        layer: String,
        what: &'static str,
        id: String,
        available: String,
    },
    /// A parameter out of its valid range (e.g. zero permutations, k = 0).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    /// The caller asked the computation to stop (its client went away or its deadline passed).
    #[error("the analysis was stopped before it finished")]
    Cancelled,
}
