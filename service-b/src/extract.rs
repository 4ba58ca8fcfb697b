//! A stricter `Query` extractor whose rejection is an [`AppError`].

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub use service_kit::query::{MalformedQuery, check_encoding};

/// Like [`axum::extract::Query`], but a broken percent-escape (`fail=%zz`) is refused instead
/// of being passed through literally, and every rejection becomes a JSON [`AppError`].
///
/// axum's `Query` decodes leniently, so `fail=%zz` would arrive as the text `%zz`; refusing it
/// tells the caller their URL encoding is wrong rather than quietly answering success.
#[derive(Debug, Clone, Copy, Default)]
pub struct StrictQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        check_encoding(parts.uri.query().unwrap_or_default())?;
        let Query(value) = Query::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}
