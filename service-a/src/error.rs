//! Service A's own errors, each answered with the shared JSON body.
//!
//! Refusals both services share (a malformed query, an unknown path or method) are
//! `service_kit`'s: [`QueryError`](service_kit::strict_query::QueryError) and
//! [`RouteError`](service_kit::fallback::RouteError).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::error_body::error_response;
use tracing::{debug, error, warn};

use crate::caller::CallFailure;

/// Everything a handler can answer with an error. Implements [`IntoResponse`] so handlers can
/// use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The call to B failed or the breaker refused it: the article's 500.
    #[error(transparent)]
    Call(#[from] CallFailure),
    /// `/breaker` was asked for while the breaker is off.
    #[error("the circuit breaker is off (--no-breaker)")]
    BreakerOff,
    /// Encoding the metrics failed (it cannot when writing to a `String`).
    #[error("could not encode the metrics")]
    Metrics(#[from] std::fmt::Error),
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Call(_) | AppError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::BreakerOff => StatusCode::NOT_FOUND,
        }
    }

    fn log(&self, status: StatusCode, reason: &str) {
        match self {
            // B is unwell: worth seeing at the default level.
            AppError::Call(CallFailure::ServiceB(_)) => {
                warn!(%status, %reason, "call to service B failed")
            }
            // The breaker already logged its opening; one line per refused call would drown it.
            AppError::Call(CallFailure::Rejected(_)) => {
                debug!(%status, %reason, "call rejected by the circuit breaker")
            }
            AppError::Metrics(_) => error!(%status, %reason, "metrics encoding failed"),
            // The client's problem, not ours.
            AppError::BreakerOff => debug!(%status, %reason, "request refused"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        // Logged as `reason`: `message` is tracing's name for the event's own text.
        self.log(status, &message);
        error_response(status, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call_error::CallError;
    use reqwest::Url;

    #[test]
    fn a_failed_call_is_a_500_whose_message_is_the_failure() {
        let err = AppError::from(CallFailure::ServiceB(CallError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            url: Url::parse("http://127.0.0.1:5001/api?fail=true").expect("URL"),
        }));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            err.to_string(),
            "500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true"
        );
    }

    #[test]
    fn asking_for_the_breaker_when_it_is_off_is_a_404() {
        assert_eq!(AppError::BreakerOff.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            AppError::BreakerOff.to_string(),
            "the circuit breaker is off (--no-breaker)"
        );
    }
}
