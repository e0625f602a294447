//! Typed options from the query string: [`Options`](crate::extract::Options) reads any [`OptionSet`](maps::options::OptionSet) of the `maps` crate,
//! so an unknown option or a bad value is a 400 in the one JSON error shape, listing the valid
//! options, and handlers receive checked values.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use maps::options::{OptionSet, read_options};

use crate::error::ApiError;

/// Options of type `T` read from the query string.
pub struct Options<T>(pub T);

impl<S: Send + Sync, T: OptionSet> FromRequestParts<S> for Options<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Query(pairs) =
            Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map_err(|e| {
                ApiError::bad_request(e.body_text(), "a query string of name=value pairs")
            })?;
        Ok(Options(read_options(&pairs)?))
    }
}
