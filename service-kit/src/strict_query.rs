//! [`StrictQuery`]: axum's `Query`, but refusing broken percent-escapes, with JSON rejections.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error_body::refusal;
use crate::query::{MalformedQuery, check_encoding};

/// Like [`axum::extract::Query`], but a broken percent-escape (`fail=%zz`) is refused (see
/// [`check_encoding`]) instead of being passed on literally, and every rejection is a 400 with
/// an [`ErrorBody`](crate::error_body::ErrorBody).
///
/// ```
/// use axum::{Router, routing::get};
/// use serde::Deserialize;
/// use service_kit::strict_query::StrictQuery;
///
/// #[derive(Deserialize)]
/// struct Params {
///     fail: Option<String>,
/// }
///
/// async fn api(StrictQuery(params): StrictQuery<Params>) -> String {
///     params.fail.unwrap_or_default()
/// }
///
/// let app: Router = Router::new().route("/api", get(api));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StrictQuery<T>(pub T);

/// Why [`StrictQuery`] refused a query string.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A broken percent-escape, or escapes that are not UTF-8.
    #[error(transparent)]
    Malformed(#[from] MalformedQuery),
    /// axum could not deserialize it (e.g. `fail` given twice).
    #[error("{}", .0.body_text())]
    Unreadable(#[from] QueryRejection),
}

impl QueryError {
    /// The status of the answer: 400, or axum's own for a query it could not read.
    pub fn status(&self) -> StatusCode {
        match self {
            QueryError::Malformed(_) => StatusCode::BAD_REQUEST,
            QueryError::Unreadable(rejection) => rejection.status(),
        }
    }
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        refusal(self.status(), self.to_string())
    }
}

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = QueryError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        check_encoding(parts.uri.query().unwrap_or_default())?;
        let Query(value) = Query::try_from_uri(&parts.uri)?;
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Params {
        #[allow(dead_code)] // read only through Debug
        fail: Option<String>,
    }

    async fn extract(uri: &'static str) -> Result<StrictQuery<Params>, QueryError> {
        let (mut parts, ()) = axum::http::Request::builder()
            .uri(Uri::from_static(uri))
            .body(())
            .expect("request")
            .into_parts();
        StrictQuery::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn a_broken_escape_and_a_repeated_field_are_400s_naming_the_problem() {
        let err = extract("/api?fail=%zz").await.expect_err("broken escape");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            err.to_string(),
            r#"malformed query string: bad percent-escape "%zz" at byte 5"#
        );
        let err = extract("/api?fail=a&fail=b").await.expect_err("twice");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.to_string().contains("duplicate field `fail`"), "{err}");
    }

    #[tokio::test]
    async fn a_well_formed_query_is_decoded() {
        let StrictQuery(params) = extract("/api?fail=true%26x%3D1").await.expect("valid");
        assert_eq!(params.fail.as_deref(), Some("true&x=1"));
    }
}
