//! The one error type of the HTTP boundary: every refusal becomes a 4xx with a JSON body.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::extract::MalformedQuery;
use crate::mode::ModeError;

/// Everything a handler can refuse. Implements [`IntoResponse`] so handlers can use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query string with broken percent-escapes.
    #[error(transparent)]
    MalformedQuery(#[from] MalformedQuery),
    /// axum could not deserialize the query string (e.g. `fail` given twice).
    #[error("{}", .0.body_text())]
    Query(#[from] QueryRejection),
    /// axum could not read the JSON body: wrong content type, bad syntax, or wrong shape.
    #[error("{}", .0.body_text())]
    Json(#[from] JsonRejection),
    /// A well-formed `/mode` body with values that make no sense.
    #[error(transparent)]
    Mode(#[from] ModeError),
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
    /// The status this error is answered with; always a 4xx.
    pub fn status(&self) -> StatusCode {
        match self {
            // axum's own statuses are precise (415 for a missing content type, 422 for JSON of
            // the wrong shape), so they are kept.
            AppError::Query(rejection) => rejection.status(),
            AppError::Json(rejection) => rejection.status(),
            AppError::MalformedQuery(_) | AppError::Mode(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// Every error body: `{"status":"error","message":"..."}`, the shape Service A's errors use too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    /// What was wrong, naming the field or parameter.
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        // A refused request is the client's problem, not ours: debug, not warn.
        debug!(%status, reason = %message, "request refused");
        (
            status,
            Json(ErrorBody {
                status: "error".to_owned(),
                message,
            }),
        )
            .into_response()
    }
}
