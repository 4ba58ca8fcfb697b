//! The JSON body of every error answer both services give: `{"status":"error","message":...}`.
//!
//! Each service keeps its own error enum for its own failures and turns it into this body with
//! [`error_response`] (or [`refusal`], for a client's mistake).
//!
//! ```
//! use axum::http::StatusCode;
//! use service_kit::error_body::{ErrorBody, error_response};
//!
//! let response = error_response(StatusCode::BAD_REQUEST, "`fail` given twice");
//! assert_eq!(response.status(), StatusCode::BAD_REQUEST);
//! assert_eq!(
//!     serde_json::to_string(&ErrorBody::new("`fail` given twice"))?,
//!     r#"{"status":"error","message":"`fail` given twice"}"#
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tracing::debug;

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

/// `status` with an [`ErrorBody`] holding `message`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(message))).into_response()
}

/// [`error_response`] for a request refused as the client's mistake, logged at debug: a
/// refusal is the client's problem, not the service's.
pub fn refusal(status: StatusCode, message: String) -> Response {
    // Logged as `reason`: `message` is tracing's name for the event's own text.
    debug!(%status, reason = %message, "request refused");
    error_response(status, message)
}
