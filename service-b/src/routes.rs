//! The router: which path goes to which handler, plus the small handlers themselves.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::{Value, json};
use service_kit::body_limit::limited;
use service_kit::fallback::{method_not_allowed, not_found};
use tokio::time::Instant;

use crate::api;
use crate::error::AppError;
use crate::mode::ModeSnapshot;
use crate::mode_request::ModeRequest;
use crate::state::AppState;
use crate::stats::StatsSnapshot;

/// The longest `POST /mode` body accepted; a longer one is refused with 413, at once when its
/// `Content-Length` says so.
pub const MAX_MODE_BODY: usize = 1024;

/// Service B's routes, ready to serve or to drive with `tower::ServiceExt::oneshot`.
///
/// | Route         | Answer                                                              |
/// |---------------|---------------------------------------------------------------------|
/// | `GET /api`    | `fail=true`: waits, then 500 `Service B: Internal Error`; otherwise 200 `Service B: Success` (bent by the mode) |
/// | `GET /health` | 200 `{"status":"ok"}`                                                |
/// | `GET /mode`   | the current [`ModeSnapshot`]                                         |
/// | `POST /mode`  | sets the mode from a [`ModeRequest`], answers the new snapshot       |
/// | `GET /stats`  | [`StatsSnapshot`]                                                    |
///
/// Every refusal, including unknown paths and methods, is a 4xx with an
/// [`ErrorBody`](service_kit::error_body::ErrorBody).
pub fn app(state: AppState) -> Router {
    // route_layer on the method router counts only the GET itself, not a 405 fallback.
    let api = get(api::api).route_layer(middleware::from_fn_with_state(
        state.clone(),
        count_api_calls,
    ));
    Router::new()
        .route("/api", api)
        .route("/health", get(health))
        // A mode request is a few dozen bytes; anything much longer is refused before parsing.
        .route(
            "/mode",
            limited(get(get_mode).post(set_mode), MAX_MODE_BODY),
        )
        .route("/stats", get(get_stats))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn get_mode(State(state): State<AppState>) -> Json<ModeSnapshot> {
    Json(state.mode().snapshot(Instant::now()))
}

async fn set_mode(
    State(state): State<AppState>,
    body: Result<Json<ModeRequest>, JsonRejection>,
) -> Result<Json<ModeSnapshot>, AppError> {
    let Json(request) = body?;
    let setting = request.validate(state.fail_delay())?;
    Ok(Json(state.mode().set(setting, Instant::now())))
}

async fn get_stats(State(state): State<AppState>) -> Json<StatsSnapshot> {
    Json(state.stats_snapshot())
}

/// Middleware around `/api`: counting here, rather than in the handler, also counts requests
/// whose query string is refused before the handler runs.
pub(crate) async fn count_api_calls(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let stats = state.stats();
    let _in_flight = stats.enter();
    let response = next.run(request).await;
    if response.status().is_server_error() {
        stats.record_failure();
    }
    response
}
