//! Service A's own errors, each answered with the shared JSON body.
//!
//! Refusals both services share (a malformed query, an unknown path or method) are
//! `service_kit`'s: [`QueryError`](service_kit::strict_query::QueryError) and
//! [`RouteError`](service_kit::fallback::RouteError).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use service_kit::error_body::error_response;
use service_kit::log_limit::LogLimiter;
use tracing::{debug, error, warn};

use crate::upstream::CallError;

/// At most five WARN lines a second for failed calls: B failing every call of a flood would
/// otherwise write one line per call.
static FAILED_CALLS: LogLimiter = LogLimiter::new("call to service B failed", 5);

/// Everything a handler can answer with an error. Implements [`IntoResponse`] so handlers can
/// use `?`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            // Service A itself is at capacity, and says so: the client may try again later.
            AppError::Call(err) if err.is_bulkhead_full() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Call(_) | AppError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::BreakerOff => StatusCode::NOT_FOUND,
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
            AppError::Call(_) => {
                if FAILED_CALLS.admit() {
                    warn!(%status, %reason, "call to service B failed");
                }
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
    fn asking_for_the_breaker_when_it_is_off_is_a_404() {
        assert_eq!(AppError::BreakerOff.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            AppError::BreakerOff.to_string(),
            "the circuit breaker is off (--no-breaker)"
        );
    }
}
