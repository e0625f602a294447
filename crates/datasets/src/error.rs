//! Errors of the dataset pipeline. Each says what was wrong with the upload (file, line,
//! column where one applies) and what to do about it, so the edges can answer 4xx with a hint.

/// What kind of failure, so an edge can pick a status without parsing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The upload cannot be read or understood (400/422).
    BadInput,
    /// Over a configured limit (413).
    TooLarge,
    /// No dataset with this id (404).
    NotFound,
    /// The dataset was deleted (410).
    Gone,
    /// The id is taken or the dataset limit is reached (409).
    Conflict,
    /// The database failed (500: not the client's fault).
    Storage,
}

/// A failure with a hint for the user.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DatasetError {
    /// Which HTTP status class it maps to.
    pub kind: ErrorKind,
    /// What was wrong, naming the file, line, cell or option.
    pub message: String,
    /// How to put it right.
    pub hint: String,
}

impl DatasetError {
    /// An error of `kind` with its message and hint.
    pub fn new(kind: ErrorKind, message: impl Into<String>, hint: impl Into<String>) -> Self {
        DatasetError {
            kind,
            message: message.into(),
            hint: hint.into(),
        }
    }
    /// Unreadable or unusable input.
    pub fn bad(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadInput, message, hint)
    }
    /// Over a limit.
    pub fn too_large(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message, hint)
    }
}

impl From<rusqlite::Error> for DatasetError {
    fn from(e: rusqlite::Error) -> Self {
        DatasetError::new(
            ErrorKind::Storage,
            format!("dataset database: {e}"),
            "check the state directory (disk space, permissions); the server log has details",
        )
    }
}

/// Result of the dataset pipeline.
pub type Result<T> = std::result::Result<T, DatasetError>;
