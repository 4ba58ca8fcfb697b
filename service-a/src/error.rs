//! The one error type of the HTTP boundary: every error answer is a JSON body.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::{debug, error, warn};

use crate::extract::MalformedQuery;
use crate::upstream::CallError;

/// Everything a handler can answer with an error. Implements [`IntoResponse`] so handlers can
/// use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query string with broken percent-escapes.
    #[error(transparent)]
    MalformedQuery(#[from] MalformedQuery),
    /// axum could not deserialize the query string (e.g. `fail` given twice).
    #[error("{}", .0.body_text())]
    Query(#[from] QueryRejection),
    /// The call to B failed or the breaker refused it: the article's 500; or the bulkhead
    /// refused it: 503.
    #[error(transparent)]
    Call(#[from] CallError),
    /// `/breaker` was asked for while the breaker is off.
    #[error("the circuit breaker is off (--no-breaker)")]
    BreakerOff,
    /// Encoding the metrics failed (it cannot when writing to a `String`).
    #[error("could not encode the metrics")]
    Metrics(#[from] std::fmt::Error),
    /// No route for this path.
    #[error("no route for {0}")]
    NotFound(String),
    /// The path exists but not for this method.
    #[error("method {method} not allowed for {path}")]
    MethodNotAllowed {
        /// The method as sent.
        method: String,
        /// The path as sent.
        path: String,
    },
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::MalformedQuery(_) => StatusCode::BAD_REQUEST,
            // axum's own status is precise (400 for a query that does not deserialize).
            AppError::Query(rejection) => rejection.status(),
            // Service A itself is at capacity, and says so: the client may try again later.
            AppError::Call(err) if err.is_bulkhead_full() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Call(_) | AppError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::BreakerOff | AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn log(&self, status: StatusCode, reason: &str) {
        match self {
            // The breaker already logged its opening, and a full bulkhead is load, not a fault:
            // one line per refused call would drown both.
            AppError::Call(CallError::Rejected(_) | CallError::BulkheadFull(_)) => {
                debug!(%status, %reason, "call to service B refused")
            }
            // B is unwell: worth seeing at the default level.
            AppError::Call(_) => warn!(%status, %reason, "call to service B failed"),
            AppError::Metrics(_) => error!(%status, %reason, "metrics encoding failed"),
            // The client's problem, not ours.
            _ => debug!(%status, %reason, "request refused"),
        }
    }
}

/// Every error body: `{"status":"error","message":"..."}`, as in the article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    /// What went wrong.
    pub message: String,
}

impl ErrorBody {
    /// An error body with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: "error".to_owned(),
            message: message.into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        // Logged as `reason`: `message` is tracing's name for the event's own text.
        self.log(status, &message);
        (status, Json(ErrorBody::new(message))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::BulkheadFull;
    use reqwest::Url;
    use std::time::Duration;

    #[test]
    fn a_failed_call_is_a_500_whose_message_is_the_failure() {
        let err = AppError::from(CallError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            url: Url::parse("http://127.0.0.1:5001/api?fail=true").expect("URL"),
        });
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            err.to_string(),
            "500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true"
        );
    }

    #[test]
    fn a_full_bulkhead_is_a_503() {
        let err = AppError::from(CallError::BulkheadFull(BulkheadFull::new(
            32,
            Duration::ZERO,
        )));
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(err.to_string().starts_with("bulkhead full: "), "{err}");
    }

    #[test]
    fn client_mistakes_are_4xx() {
        let malformed = AppError::from(MalformedQuery::NotUtf8);
        assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
        assert_eq!(AppError::BreakerOff.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            AppError::BreakerOff.to_string(),
            "the circuit breaker is off (--no-breaker)"
        );
    }
}
