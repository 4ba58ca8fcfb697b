//! Service A's own errors, each answered with the shared JSON body: the calls', `/breaker`'s,
//! the dashboard's and the admin actions' refusals alike.
//!
//! Refusals both services share (a malformed query, an unknown path or method) are
//! `service_kit`'s: [`QueryError`](service_kit::strict_query::QueryError) and
//! [`RouteError`](service_kit::fallback::RouteError).

use axum::extract::rejection::BytesRejection;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use service_kit::error_body::error_response;
use service_kit::log_limit::LogLimiter;
use tracing::{debug, error, warn};

use crate::admin::action::MAX_BODY_BYTES;
use crate::admin::token::Refusal;
use crate::dashboard::hub::StreamsFull;
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
    /// 404: `/breaker`, `/events` or an admin action was asked for while the breaker is off.
    #[error("the circuit breaker is off (--no-breaker)")]
    BreakerOff,
    /// 503: every event stream slot is taken.
    #[error(transparent)]
    StreamsFull(#[from] StreamsFull),
    /// Encoding the metrics failed (it cannot when writing to a `String`).
    #[error("could not encode the metrics")]
    Metrics(#[from] std::fmt::Error),
    /// 404: no `--admin-token` was given, so there are no admin actions.
    #[error("admin actions are off: start service A with --admin-token or SERVICE_A_ADMIN_TOKEN")]
    AdminOff,
    /// 401: no `Authorization: Bearer` header.
    #[error("admin actions need the header `Authorization: Bearer <token>`")]
    MissingToken,
    /// 401: a bearer token that is not the admin token.
    #[error("wrong admin token")]
    WrongToken,
    /// 413: an admin request declares a body over [`MAX_BODY_BYTES`]; none of it was read.
    #[error("the body is over {MAX_BODY_BYTES} bytes")]
    DeclaredTooLarge,
    /// An admin body that could not be read: over [`MAX_BODY_BYTES`] (413), or broken off
    /// (400). A body that arrives too slowly is answered 408 by `service_kit::server` before
    /// this sees it.
    #[error("{}", body_message(.0))]
    Body(#[from] BytesRejection),
    /// 400: an admin body that is not a known action.
    #[error("{0}")]
    Action(String),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Missing => AppError::MissingToken,
            Refusal::Wrong => AppError::WrongToken,
        }
    }
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            // Service A itself is at capacity, and says so: the client may try again later.
            AppError::Call(err) if err.is_bulkhead_full() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::StreamsFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Call(_) | AppError::Metrics(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::BreakerOff | AppError::AdminOff => StatusCode::NOT_FOUND,
            AppError::MissingToken | AppError::WrongToken => StatusCode::UNAUTHORIZED,
            AppError::DeclaredTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Body(rejection) => rejection.status(),
            AppError::Action(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The `WWW-Authenticate` challenge a 401 carries (RFC 6750, 3).
    fn challenge(&self) -> Option<&'static str> {
        match self {
            AppError::MissingToken => Some(r#"Bearer realm="service-a""#),
            AppError::WrongToken => Some(r#"Bearer realm="service-a", error="invalid_token""#),
            _ => None,
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
            AppError::StreamsFull(_) => warn!(%status, %reason, "event stream refused"),
            AppError::Metrics(_) => error!(%status, %reason, "metrics encoding failed"),
            // The client's problem, not ours; the admin route logs its refusals with the client.
            _ => debug!(%status, %reason, "request refused"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        // Logged as `reason`: `message` is tracing's name for the event's own text.
        self.log(status, &message);
        let mut response = error_response(status, message);
        if let Some(challenge) = self.challenge() {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

fn body_message(rejection: &BytesRejection) -> String {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        format!("the body is over {MAX_BODY_BYTES} bytes")
    } else {
        rejection.body_text()
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
