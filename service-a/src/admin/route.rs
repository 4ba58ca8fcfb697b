//! `POST /breaker`: the token first, then the body, then the action; every outcome logged with
//! who asked, what they asked for and what came of it, never with the token, the refusals at
//! most a few a second.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use service_kit::log_limit::LogLimiter;
use tracing::{info, warn};

use super::action::{Action, MAX_BODY_BYTES};
use crate::error::AppError;
use crate::snapshot::BreakerView;
use crate::state::AppState;

/// At most five "admin action refused" lines a second, as for failed calls: a client guessing
/// tokens, or posting to a service without admin actions, would otherwise write one line per
/// request.
static REFUSED: LogLimiter = LogLimiter::new("admin action refused", 5);

/// The handler: answers the breaker's view after the action, as `GET /breaker` would.
pub async fn perform(State(state): State<AppState>, request: Request) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |ConnectInfo(peer)| peer.to_string(),
        );
    match checked(&state, request).await {
        Ok((action, view)) => {
            info!(%client, %action, state = view.snapshot.state.as_str(), "admin action done");
            Json(view).into_response()
        }
        Err(err) => {
            let status = err.status();
            if REFUSED.admit() {
                match err {
                    // Not an admin request at all: the service has no admin actions.
                    AppError::AdminOff => {
                        info!(%client, %status, result = %err, "admin action refused")
                    }
                    _ => warn!(%client, %status, result = %err, "admin action refused"),
                }
            }
            err.into_response()
        }
    }
}

/// The token is checked before the body is read: a request without it costs no more than its
/// head.
async fn checked(state: &AppState, request: Request) -> Result<(Action, BreakerView), AppError> {
    let token = state.admin_token().ok_or(AppError::AdminOff)?;
    token.authorize(request.headers())?;
    let breaker = state.breaker().ok_or(AppError::BreakerOff)?;
    if service_kit::body_limit::declared_over(request.headers(), MAX_BODY_BYTES).is_some() {
        return Err(AppError::DeclaredTooLarge);
    }
    // Bounded by the route's `DefaultBodyLimit`.
    let body = Bytes::from_request(request, &()).await?;
    let action = Action::parse(&body).map_err(AppError::Action)?;
    action.apply(breaker);
    Ok((
        action,
        BreakerView::new(breaker.snapshot(), state.service_b()),
    ))
}
