//! The one error of map operations: a kind (what the caller did wrong, or that we failed), a
//! message naming the input, a hint saying what would work, and for internal failures the
//! source error. Edges map the kind to their own vocabulary (HTTP status, exit code).

use std::fmt;

/// What kind of failure: decides the HTTP status at the server edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed input (a bad option value, contradictory options).
    BadRequest,
    /// An unknown layer, indicator, district, period or region.
    NotFound,
    /// Well-formed input that cannot be used (too few values to classify, nothing to draw).
    Unprocessable,
    /// Input larger than the limits allow.
    TooLarge,
    /// Something that existed and was removed for good (a deleted uploaded dataset).
    Gone,
    /// Stopped on the caller's request: its client went away or its deadline passed.
    Cancelled,
    /// A failure on our side (encoding, writing); the caller did nothing wrong.
    Internal,
}

/// An error of a map operation.
#[derive(Debug)]
pub struct MapError {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl MapError {
    fn new(kind: ErrorKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        MapError {
            kind,
            message: message.into(),
            hint: Some(hint.into()),
            source: None,
        }
    }
    /// Malformed input, with a hint of what is valid.
    pub fn bad_request(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message, hint)
    }
    /// Unknown id, with the valid ids in the hint.
    pub fn not_found(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message, hint)
    }
    /// Well-formed but unusable input.
    pub fn unprocessable(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, message, hint)
    }
    /// A removed resource (a deleted dataset), with a hint of what to use instead.
    pub fn gone(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::Gone, message, hint)
    }
    /// Work stopped because the caller asked (its client went away or its deadline passed).
    pub fn cancelled(what: &str) -> Self {
        Self::new(
            ErrorKind::Cancelled,
            format!(
                "{what} was stopped before it finished: the request was cancelled or ran out of time"
            ),
            "try again when the server is less busy, or ask for less (a smaller size or extent)",
        )
    }
    /// Input beyond a limit.
    pub fn too_large(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message, hint)
    }
    /// A failure on our side, keeping its cause.
    pub fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        MapError {
            kind: ErrorKind::Internal,
            message: context.into(),
            hint: None,
            source: Some(source.into()),
        }
    }
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message without the hint.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// What would work instead (none for internal errors).
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    /// The error of a computation shared between callers (a cache's `try_get_with`): the
    /// original when this caller holds the last reference, else a copy (an internal cause kept
    /// as text).
    pub fn from_shared(shared: std::sync::Arc<MapError>) -> MapError {
        match std::sync::Arc::try_unwrap(shared) {
            Ok(e) => e,
            Err(shared) => MapError {
                kind: shared.kind,
                message: shared.message.clone(),
                hint: shared.hint.clone(),
                source: shared
                    .source
                    .as_ref()
                    .map(|s| Box::<dyn std::error::Error + Send + Sync>::from(s.to_string())),
            },
        }
    }
    /// Takes the cause of an internal error out (for an edge that keeps it in its own error).
    pub fn into_source(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        self.source
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.source) {
            (ErrorKind::Internal, Some(s)) => write!(f, "{}: {s}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for MapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<analysis::query::QueryError> for MapError {
    fn from(e: analysis::query::QueryError) -> Self {
        use analysis::query::ErrorKind as K;
        let hint = e.hint();
        match e.kind() {
            K::BadRequest => MapError::bad_request(e.to_string(), hint),
            K::NotFound => MapError::not_found(e.to_string(), hint),
            K::Unprocessable => MapError::unprocessable(e.to_string(), hint),
            K::Cancelled => MapError::cancelled("the analysis"),
            K::Internal => MapError::internal("analysis", e),
        }
    }
}

/// Lists ids for a hint: `valid layers: lad19, lad21`.
pub fn valid_ids<'a>(what: &str, ids: impl IntoIterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.into_iter().collect();
    format!("valid {what}: {}", ids.join(", "))
}
