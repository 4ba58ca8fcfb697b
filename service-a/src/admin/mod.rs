//! Admin actions on the breaker, guarded by a token: `POST /breaker`.
//!
//! | body | does |
//! |---|---|
//! | `{"action":"force_open"}` | [`force_open`](breaker::CircuitBreaker::force_open): every call rejected until `reset` |
//! | `{"action":"force_open_for","duration":"30s"}` | [`force_open_for`](breaker::CircuitBreaker::force_open_for): open for that long (1 ms to one day), then probes as after a trip |
//! | `{"action":"disable"}` | [`disable`](breaker::CircuitBreaker::disable): every call flows, nothing trips, until `reset` |
//! | `{"action":"reset"}` | [`reset`](breaker::CircuitBreaker::reset): closed, every count forgotten |
//!
//! The answer is the breaker after the action, the same JSON as `GET /breaker`
//! ([`BreakerView`](crate::BreakerView)). Refusals, each `{"status":"error","message":...}`:
//!
//! | status | when |
//! |---|---|
//! | 404 | no `--admin-token` (nor `SERVICE_A_ADMIN_TOKEN`) was given; or `--no-breaker` |
//! | 401 | no `Authorization: Bearer <token>` header, or the wrong token; with `WWW-Authenticate: Bearer realm="service-a"` (and `error="invalid_token"` for a wrong one) |
//! | 400 | a body that is not one of the actions above, or a bad duration |
//! | 413 | a body over [`MAX_BODY_BYTES`], refused before reading it when its `Content-Length` says so |
//!
//! Any content type is read as JSON: the bearer token is what a cross-site form cannot send, so
//! it, not the content type, is the guard. Every request is logged with the client's address,
//! the action and its result, the refusals at most five a second (as failed calls are); the
//! token never is (see `token.rs` for how it is kept and compared).

pub(crate) mod action;
mod route;
pub(crate) mod token;

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, post};

pub use action::{Action, MAX_BODY_BYTES};
pub use route::perform;
pub use token::{AdminFlags, AdminToken, MAX_TOKEN_CHARS, MIN_TOKEN_CHARS, Refusal, TokenError};

use crate::state::AppState;

/// `POST /breaker`, with its body bound.
pub fn post_breaker() -> MethodRouter<AppState> {
    post(perform).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
