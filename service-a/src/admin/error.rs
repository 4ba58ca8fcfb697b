//! Every refusal of `POST /breaker`, each a 4xx with the shared JSON body.

use axum::extract::rejection::BytesRejection;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use service_kit::error_body::error_response;

use super::MAX_BODY_BYTES;
use super::token::Refusal;

/// Why an admin request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 404: no `--admin-token` was given, so there are no admin actions.
    #[error("admin actions are off: start service A with --admin-token or SERVICE_A_ADMIN_TOKEN")]
    Off,
    /// 401: no `Authorization: Bearer` header.
    #[error("admin actions need the header `Authorization: Bearer <token>`")]
    MissingToken,
    /// 401: a bearer token that is not the admin token.
    #[error("wrong admin token")]
    WrongToken,
    /// 404: `--no-breaker`, so there is no breaker to act on.
    #[error("the circuit breaker is off (--no-breaker)")]
    BreakerOff,
    /// 413: the request declares a body over [`MAX_BODY_BYTES`]; none of it was read.
    #[error("the body is over {MAX_BODY_BYTES} bytes")]
    DeclaredTooLarge,
    /// The body could not be read: over [`MAX_BODY_BYTES`] (413), or broken off. (A body that
    /// arrives too slowly is answered 408 by `service_kit::server` whatever this says.)
    #[error("{}", body_message(.0))]
    Body(#[from] BytesRejection),
    /// 400: a body that is not a known action.
    #[error("{0}")]
    Action(String),
}

impl From<Refusal> for AdminError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Missing => AdminError::MissingToken,
            Refusal::Wrong => AdminError::WrongToken,
        }
    }
}

impl AdminError {
    /// The status this refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Off | AdminError::BreakerOff => StatusCode::NOT_FOUND,
            AdminError::MissingToken | AdminError::WrongToken => StatusCode::UNAUTHORIZED,
            AdminError::DeclaredTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AdminError::Body(rejection) => rejection.status(),
            AdminError::Action(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The `WWW-Authenticate` challenge a 401 carries (RFC 6750, 3).
    fn challenge(&self) -> Option<&'static str> {
        match self {
            AdminError::MissingToken => Some(r#"Bearer realm="service-a""#),
            AdminError::WrongToken => Some(r#"Bearer realm="service-a", error="invalid_token""#),
            _ => None,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let mut response = error_response(self.status(), self.to_string());
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
