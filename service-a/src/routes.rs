//! The router: which path goes to which handler, plus the small handlers themselves.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use service_kit::fallback::{method_not_allowed, not_found};

use crate::admin;
use crate::call;
use crate::dashboard;
use crate::error::AppError;
use crate::fleet::FleetMember;
use crate::metrics;
use crate::snapshot::BreakerView;
use crate::state::AppState;

/// Service A's routes, ready to serve.
///
/// | Route                | Answer |
/// |----------------------|--------|
/// | `GET /call`          | 200 `{"status":"success","data":"<B's body>"}`; a failure or a breaker rejection: 500 `{"status":"error","message":"<why>"}`; a full bulkhead: 503, same body |
/// | `GET /call-fallback` | as `/call` on success; otherwise 200 `{"status":"degraded","data":"<last good body or cached_data>"}` |
/// | `GET /`              | the live dashboard (see [`dashboard`]); its files under `GET /dashboard/{file}` |
/// | `GET /events`        | the dashboard's server-sent events; 404 with `--no-breaker`, 503 over `--max-event-streams` |
/// | `GET /breaker`       | the breaker's [`BreakerView`] (with `"fleet"` given `--fleet-redis`); 404 with `--no-breaker` |
/// | `POST /breaker`      | an admin action, given `--admin-token` (see [`admin`]) |
/// | `GET /metrics`       | Prometheus text (see [`metrics`]); no `circuit_breaker_*` series with `--no-breaker` |
/// | `GET /health`        | 200 `{"status":"ok"}` |
///
/// Every other error, including unknown paths and methods and malformed queries, is a 4xx
/// with an [`ErrorBody`](service_kit::error_body::ErrorBody).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/dashboard/{file}", get(dashboard::file))
        .route("/events", get(dashboard::events))
        .route("/call", get(call::call))
        .route("/call-fallback", get(call::call_fallback))
        .route("/breaker", get(breaker).merge(admin::post_breaker()))
        .route("/metrics", get(scrape))
        .route("/health", get(health))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(state.metrics().http().layer())
        .with_state(state)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn breaker(State(state): State<AppState>) -> Result<Json<BreakerView>, AppError> {
    let cb = state.breaker().ok_or(AppError::BreakerOff)?;
    let fleet = state.fleet().map(FleetMember::status);
    Ok(Json(
        BreakerView::new(cb.snapshot(), state.service_b()).with_fleet(fleet),
    ))
}

async fn scrape(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let text = state.metrics().render()?;
    Ok(([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text))
}
