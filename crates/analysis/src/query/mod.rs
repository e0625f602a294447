//! Analyses of loaded layers named by id (layer, indicator, period, grouping): the one
//! implementation behind `placemap aggregate | compare | clusters` and the `/stats/...` routes,
//! so the command line and the server always give the same numbers.
//!
//! Every function takes loaded [`Layer`](districts::Layer)s and plain request structs, checks the request
//! against the layer (unknown indicator, period, group, code: [`QueryError`](crate::query::QueryError) listing what
//! exists) and returns a serialisable output with a table form.
//!
//! One module per kind of analysis, each with its request and output types; the error type
//! and the helpers they share are here.

/// Small areas aggregated to districts (`placemap aggregate`, `/stats/aggregate`).
mod aggregate;

/// Groups of districts compared, and two indicators correlated.
mod compare;

/// Moran's I and LISA clusters.
mod clusters;

use districts::Layer;

use crate::error::AnalysisError;

pub use aggregate::{
    AggregateOutput, AggregateRequest, AssignmentCache, KeySource, TableAreas, Via,
    aggregate_layers, aggregate_layers_cached, aggregate_table, carry_to_successors, parse_class,
    parse_how, parse_via,
};
pub use clusters::{
    ClusterOutput, ClusterRequest, clusters_on_layer, clusters_on_layer_cancellable,
};
pub use compare::{
    CompareOutput, CompareRequest, CorrelateOutput, GROUP_BY_HELP, compare_on_layer,
    correlate_on_layer, grouping,
};

/// What went wrong answering a request, with what the user can do about it ([`QueryError::hint`]).
#[derive(Debug, thiserror::Error)]
#[allow(missing_docs)] // each variant's fields are named in its #[error] message
pub enum QueryError {
    /// A statistic could not be computed, or a group, code or indicator is unknown.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    /// A request option with a value that cannot be used.
    #[error("invalid {name}: {reason}")]
    Invalid {
        name: &'static str,
        reason: String,
        hint: String,
    },
    /// No lookup relates the source layer's areas to the target layer's districts.
    #[error("no lookup assigns {from} areas to {to} districts: {reason}")]
    NoLookup {
        from: String,
        to: String,
        reason: String,
    },
}

/// How a [`QueryError`] should be answered (HTTP maps it to a status; the CLI to a message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed or contradictory options (400).
    BadRequest,
    /// Unknown layer, indicator, period, group or code (404).
    NotFound,
    /// Well-formed, but the data cannot give the statistic (422).
    Unprocessable,
    /// Stopped on the caller's request (its client went away or its deadline passed; 503).
    Cancelled,
    /// A bug (500).
    Internal,
}

impl QueryError {
    fn invalid(name: &'static str, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        QueryError::Invalid {
            name,
            reason: reason.into(),
            hint: hint.into(),
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueryError::Invalid { .. } => ErrorKind::BadRequest,
            QueryError::NoLookup { .. } => ErrorKind::Unprocessable,
            QueryError::Analysis(e) => match e {
                AnalysisError::UnknownGroup { .. }
                | AnalysisError::UnknownCode { .. }
                | AnalysisError::NotInLayer { .. } => ErrorKind::NotFound,
                AnalysisError::EmptyGroup { .. }
                | AnalysisError::TooFewValues { .. }
                | AnalysisError::Undefined { .. } => ErrorKind::Unprocessable,
                AnalysisError::InvalidParameter { .. } => ErrorKind::BadRequest,
                AnalysisError::LengthMismatch { .. } => ErrorKind::Internal,
                AnalysisError::Cancelled => ErrorKind::Cancelled,
            },
        }
    }

    /// What to do about it: the valid ids, groups or values.
    pub fn hint(&self) -> String {
        match self {
            QueryError::Invalid { hint, .. } => hint.clone(),
            QueryError::NoLookup { .. } => {
                "use via=spatial (interior point of each area in the target districts)".into()
            }
            QueryError::Analysis(e) => match e {
                AnalysisError::UnknownGroup { known, .. } => format!("valid groups: {known}"),
                AnalysisError::NotInLayer {
                    what, available, ..
                } => format!("valid {what}s: {available}"),
                AnalysisError::UnknownCode { .. } => {
                    "give district codes of this layer, e.g. E06000001".into()
                }
                AnalysisError::EmptyGroup { .. } => {
                    "pick a group with districts that have a value for this indicator and period"
                        .into()
                }
                AnalysisError::TooFewValues { .. } | AnalysisError::Undefined { .. } => {
                    "pick another indicator, period or a wider set of districts".into()
                }
                AnalysisError::InvalidParameter { name, .. } => {
                    format!("check the value of {name}")
                }
                AnalysisError::LengthMismatch { .. } => "this is a bug in placemap".into(),
                AnalysisError::Cancelled => {
                    "ask for fewer permutations, or try again when the server is less busy".into()
                }
            },
        }
    }
}

/// A numeric indicator's values for one period (its default when `None`), with the label used.
pub fn numeric(
    layer: &Layer,
    indicator: &str,
    period: Option<&str>,
) -> Result<(String, Vec<Option<f64>>), QueryError> {
    let values = crate::layer::numeric_values(layer, indicator, period)?;
    let label = match period {
        Some(p) => p.to_string(),
        None => layer
            .indicator(indicator)
            .map(|i| i.default_period.clone())
            .unwrap_or_default(),
    };
    Ok((label, values))
}

/// Values of districts outside England (codes not starting with `E`) set to `None`.
fn england_only(layer: &Layer, mut values: Vec<Option<f64>>) -> Vec<Option<f64>> {
    for (v, d) in values.iter_mut().zip(layer.districts.iter()) {
        if !d.code.starts_with('E') {
            *v = None;
        }
    }
    values
}
