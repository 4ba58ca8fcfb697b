//! Counters of `/api` traffic, so tests and scripts can tell how many calls reached Service B.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// Running totals since start.
///
/// Two independent relaxed atomics: a reader may see a call counted whose outcome is not yet,
/// which is the truth while that call waits out its delay. No lock is taken on `/api`.
#[derive(Debug, Default)]
pub struct Stats {
    api_calls: AtomicU64,
    failed: AtomicU64,
}

impl Stats {
    /// The totals right now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            api_calls: self.api_calls.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    fn record_call(&self) {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
    }

    fn record_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// The body of `GET /stats`: `{"api_calls": 7, "failed": 3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// `/api` requests received, counted on arrival (before any delay), whatever their outcome.
    pub api_calls: u64,
    /// `/api` requests answered 500. A call whose client hung up during the delay is never
    /// answered, so it is not counted here.
    pub failed: u64,
}

/// Middleware around `/api`: counting here, rather than in the handler, also counts requests
/// whose query string is refused before the handler runs.
pub(crate) async fn count_api_calls(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let stats = state.stats();
    stats.record_call();
    let response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        stats.record_failure();
    }
    response
}
