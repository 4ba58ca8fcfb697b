//! The `layers` of `GET /breaker`: every layer of the client stack around the breaker, outermost
//! first, with its settings and what it has counted.
//!
//! ```json
//! "layers": {
//!   "deadline": {"call_deadline_ms": 5000},
//!   "retry": {"attempts": 3, "backoff_ms": 50, "backoff_multiplier": 2, "backoff_max_ms": 1000,
//!             "jitter": "full", "budget_percent": 20, "retries": 4, "refused_by_budget": 0,
//!             "skipped_for_retry_after": 0},
//!   "bulkhead": {"max_concurrent": 32, "wait_ms": 0, "limit": 32, "in_flight": 3, "rejected": 0},
//!   "attempt": {"request_timeout_ms": 2000, "max_response_bytes": 1048576,
//!               "follows_redirects": false}
//! }
//! ```
//!
//! With `--max-concurrent adaptive` the bulkhead's `limit` is the adaptive limit's value now,
//! `max_concurrent` the most it may grow to, and it shows its other bounds:
//!
//! ```json
//! "bulkhead": {"max_concurrent": 200, "wait_ms": 0, "adaptive": {"min_limit": 2,
//!              "initial_limit": 20}, "limit": 11, "in_flight": 9, "rejected": 412}
//! ```
//!
//! The breaker sits between `retry` and `bulkhead`; its settings are the view's `config`. A layer
//! that is off is `null` (`deadline`, `bulkhead`), or shows it (`"attempts": 1`).

use serde::Serialize;

use crate::upstream::{BulkheadSettings, RetrySettings, ServiceB, millis};

/// See the [module](self) docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayersView {
    /// The whole call's deadline; `null`: none.
    pub deadline: Option<DeadlineView>,
    /// Retries.
    pub retry: RetryView,
    /// The bulkhead; `null`: no limit.
    pub bulkhead: Option<BulkheadView>,
    /// One attempt.
    pub attempt: AttemptView,
}

/// The deadline layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeadlineView {
    /// The longest a whole call may take, in milliseconds.
    pub call_deadline_ms: u64,
}

/// The retry layer: its settings, how the backoff grows, and its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryView {
    /// The settings.
    #[serde(flatten)]
    pub settings: RetrySettings,
    /// How each ceiling grows from the last: 2.
    pub backoff_multiplier: u32,
    /// How a wait is drawn below its ceiling: `full`, uniformly from zero.
    pub jitter: &'static str,
    /// Retries made since start.
    pub retries: u64,
    /// Retries the budget refused since start.
    pub refused_by_budget: u64,
    /// Retries not made since start because B's `Retry-After` would pass the call deadline.
    pub skipped_for_retry_after: u64,
}

/// The bulkhead layer: its settings and its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BulkheadView {
    /// The settings.
    #[serde(flatten)]
    pub settings: BulkheadSettings,
    /// The limit now: `max_concurrent`, or the adaptive limit's value.
    pub limit: u64,
    /// Calls in flight now.
    pub in_flight: u64,
    /// Calls refused since start.
    pub rejected: u64,
}

/// One attempt: the per-attempt timeout and the HTTP call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttemptView {
    /// The per-attempt timeout, in milliseconds.
    pub request_timeout_ms: u64,
    /// The largest body accepted from B.
    pub max_response_bytes: u64,
    /// Always `false`: a 3xx is a failure.
    pub follows_redirects: bool,
}

impl LayersView {
    /// The layers of `service_b` now.
    pub fn new(service_b: &ServiceB) -> Self {
        let settings = service_b.settings();
        let counts = service_b.counts();
        Self {
            deadline: settings.call_deadline.map(|deadline| DeadlineView {
                call_deadline_ms: millis(deadline),
            }),
            retry: RetryView {
                settings: settings.retry,
                backoff_multiplier: 2,
                jitter: "full",
                retries: counts.retries,
                refused_by_budget: counts.retries_refused_by_budget,
                skipped_for_retry_after: counts.retries_skipped_for_retry_after,
            },
            bulkhead: settings.bulkhead.map(|settings| BulkheadView {
                settings,
                limit: counts.bulkhead_limit_or(settings.max_concurrent),
                in_flight: counts.bulkhead_in_flight.unwrap_or(0),
                rejected: counts.bulkhead_rejected,
            }),
            attempt: AttemptView {
                request_timeout_ms: millis(settings.request_timeout),
                max_response_bytes: settings.max_response_bytes,
                follows_redirects: false,
            },
        }
    }
}
