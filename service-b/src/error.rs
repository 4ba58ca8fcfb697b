//! Service B's own refusals, each a 4xx with the shared JSON body.
//!
//! Refusals both services share (a malformed query, an unknown path or method) are
//! `service_kit`'s: [`QueryError`](service_kit::strict_query::QueryError) and
//! [`RouteError`](service_kit::fallback::RouteError).

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::error_body::refusal;

use crate::mode::ModeError;

/// Everything `POST /mode` can refuse. Implements [`IntoResponse`] so handlers can use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// axum could not read the JSON body: wrong content type, bad syntax, wrong shape, too
    /// large, or broken off (a body too slow is answered 408 by `service_kit::server` instead).
    #[error("{}", .0.body_text())]
    Json(#[from] JsonRejection),
    /// A well-formed `/mode` body with values that make no sense.
    #[error(transparent)]
    Mode(#[from] ModeError),
}

impl AppError {
    /// The status this error is answered with; always a 4xx.
    pub fn status(&self) -> StatusCode {
        match self {
            // axum's own statuses are precise (415 for a missing content type, 422 for JSON of
            // the wrong shape), so they are kept.
            AppError::Json(rejection) => rejection.status(),
            AppError::Mode(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        refusal(self.status(), self.to_string())
    }
}
