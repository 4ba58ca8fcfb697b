//! What the client stack's layers count as they work: retries, retries the budget refused, and
//! bulkhead refusals. The layers hold one shared [`ClientCounters`]; `/breaker` (and any exporter)
//! reads a [`ClientCounts`] snapshot, so nothing is counted in the handlers.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters since start, shared (in an `Arc`) by the layers that bump them.
///
/// Relaxed atomics: each counter is independent, and a reader only needs every increment to show
/// up eventually. No lock on any path.
#[derive(Debug, Default)]
pub struct ClientCounters {
    retries: AtomicU64,
    retries_refused_by_budget: AtomicU64,
    retries_skipped_for_retry_after: AtomicU64,
    bulkhead_rejected: AtomicU64,
}

impl ClientCounters {
    /// The retry policy scheduled another attempt.
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// The retry budget refused a retry the policy would have made.
    pub(crate) fn retry_refused_by_budget(&self) {
        self.retries_refused_by_budget
            .fetch_add(1, Ordering::Relaxed);
    }

    /// A retry was not made because B's `Retry-After` would pass the call's deadline.
    pub(crate) fn retry_skipped_for_retry_after(&self) {
        self.retries_skipped_for_retry_after
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The bulkhead refused a call.
    pub(crate) fn bulkhead_rejected(&self) {
        self.bulkhead_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now; `bulkhead_in_flight` and `bulkhead_limit` are read from the bulkhead by
    /// the caller.
    pub fn snapshot(&self) -> ClientCounts {
        ClientCounts {
            retries: self.retries.load(Ordering::Relaxed),
            retries_refused_by_budget: self.retries_refused_by_budget.load(Ordering::Relaxed),
            retries_skipped_for_retry_after: self
                .retries_skipped_for_retry_after
                .load(Ordering::Relaxed),
            bulkhead_rejected: self.bulkhead_rejected.load(Ordering::Relaxed),
            bulkhead_in_flight: None,
            bulkhead_limit: None,
        }
    }
}

/// The client stack's counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClientCounts {
    /// Attempts made after a first one failed.
    pub retries: u64,
    /// Retries the budget refused.
    pub retries_refused_by_budget: u64,
    /// Retries not made because B's `Retry-After` would pass the call's deadline.
    pub retries_skipped_for_retry_after: u64,
    /// Calls the bulkhead refused without calling B.
    pub bulkhead_rejected: u64,
    /// Calls in flight through the bulkhead now; `None` without a bulkhead.
    pub bulkhead_in_flight: Option<u64>,
    /// The bulkhead's limit now (its `max_concurrent`, or the adaptive limit's current value);
    /// `None` without a bulkhead.
    pub bulkhead_limit: Option<u64>,
}

impl ClientCounts {
    /// The bulkhead's limit now, or `max_concurrent`, the limit it is configured with, when it
    /// reported none.
    pub fn bulkhead_limit_or(&self, max_concurrent: usize) -> u64 {
        self.bulkhead_limit.unwrap_or(max_concurrent as u64)
    }
}
