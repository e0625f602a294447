//! One error shape for every route, mapped to HTTP in one `IntoResponse` impl (axum's
//! error-handling example): the client sees a safe message and a hint, the log sees the cause.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: 400.
    #[error("{message}")]
    BadRequest {
        /// What was wrong, naming the input.
        message: String,
        /// How to put it right (valid values, an example).
        hint: Option<String>,
    },
    /// Unknown layer, indicator, district...: 404 with the valid ids in the hint.
    #[error("{message}")]
    NotFound {
        /// What was wrong, naming the input.
        message: String,
        /// How to put it right (valid values, an example).
        hint: Option<String>,
    },
    /// A deleted dataset: 410.
    #[error("{message}")]
    Gone {
        /// What is gone, naming it.
        message: String,
        /// What to use instead.
        hint: Option<String>,
    },
    /// Body too large: 413.
    #[error("{message}")]
    TooLarge {
        /// What was wrong, naming the input.
        message: String,
        /// How to put it right (valid values, an example).
        hint: Option<String>,
    },
    /// Well-formed but unusable input (e.g. too few values for a statistic): 422.
    #[error("{message}")]
    Unprocessable {
        /// What was wrong, naming the input.
        message: String,
        /// How to put it right (valid values, an example).
        hint: Option<String>,
    },
    /// Busy, or the work was stopped: 503 with `Retry-After` when given.
    #[error("{message}")]
    Unavailable {
        /// What is busy or what stopped.
        message: String,
        /// What to do (wait, ask for less).
        hint: Option<String>,
        /// Seconds to wait before retrying.
        retry_after: Option<u64>,
    },
    /// A failure on our side: 500; the cause is logged, not shown.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<maps::MapError> for ApiError {
    fn from(e: maps::MapError) -> Self {
        use maps::ErrorKind as K;
        let hint = e.hint().map(str::to_string);
        let message = e.message().to_string();
        match e.kind() {
            K::BadRequest => ApiError::BadRequest { message, hint },
            K::NotFound => ApiError::NotFound { message, hint },
            K::Unprocessable => ApiError::Unprocessable { message, hint },
            K::TooLarge => ApiError::TooLarge { message, hint },
            K::Gone => ApiError::Gone { message, hint },
            K::Cancelled => ApiError::Unavailable {
                message,
                hint,
                retry_after: Some(1),
            },
            K::Internal => ApiError::Internal(Box::new(e)),
        }
    }
}

impl From<crate::admission::Refused> for ApiError {
    fn from(e: crate::admission::Refused) -> Self {
        match e {
            crate::admission::Refused::Busy { .. } => ApiError::Unavailable {
                message: e.to_string(),
                hint: Some(e.hint().to_string()),
                retry_after: e.retry_after(),
            },
            crate::admission::Refused::Failed { .. } => ApiError::internal(e),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    /// 400 with a hint.
    pub fn bad_request(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    /// 404 with a hint.
    pub fn not_found(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::NotFound {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    /// 422 with a hint.
    pub fn unprocessable(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    /// 500 keeping its cause (an error, or text saying what failed).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(cause.into())
    }
    /// 413 with a hint.
    pub fn too_large(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ApiError::TooLarge {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The hint shown to the client (none for internal errors).
    pub fn hint(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { hint, .. }
            | ApiError::NotFound { hint, .. }
            | ApiError::TooLarge { hint, .. }
            | ApiError::Gone { hint, .. }
            | ApiError::Unprocessable { hint, .. }
            | ApiError::Unavailable { hint, .. } => hint.as_deref(),
            ApiError::Internal(_) => None,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Longest error message answered, in characters: messages quote the input they refuse, and a
/// 2 MB CSV header must not come back whole.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// `text` cut to at most `max` characters, ending with `…` when cut (for input quoted in
/// errors).
///
/// ```
/// use tile_server::error::clip;
/// assert_eq!(clip("lon,lat", 200), "lon,lat");
/// assert_eq!(clip(&"x".repeat(300), 200).chars().count(), 201);
/// assert!(clip(&"x".repeat(300), 200).ends_with('…'));
/// ```
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((at, _)) => format!("{}…", &text[..at]).into(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, hint) = match &self {
            ApiError::BadRequest { message, hint }
            | ApiError::NotFound { message, hint }
            | ApiError::TooLarge { message, hint }
            | ApiError::Gone { message, hint }
            | ApiError::Unprocessable { message, hint }
            | ApiError::Unavailable { message, hint, .. } => (message.as_str(), hint.as_deref()),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    "internal error",
                    Some("this is a bug in placemap; the server log has the cause"),
                )
            }
        };
        if status.is_client_error() {
            tracing::debug!(%status, message, "client error");
        }
        let mut res = (
            status,
            Json(ErrorBody {
                error: &clip(message, MAX_MESSAGE_CHARS),
                hint,
            }),
        )
            .into_response();
        if let ApiError::Unavailable {
            retry_after: Some(s),
            ..
        } = &self
        {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*s).into());
        }
        res
    }
}

pub use maps::error::valid_ids;
