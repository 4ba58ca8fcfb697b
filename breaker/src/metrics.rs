//! What a breaker reports: call counts by outcome and the snapshot.

use crate::{Config, State};
use std::time::{Duration, SystemTime};

/// Calls counted by outcome since the breaker was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Calls that succeeded.
    pub successful: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls (successful or failed) that took at least `slow_call_duration`.
    pub slow: u64,
    /// Calls whose outcome counted as neither success nor failure.
    pub ignored: u64,
    /// Calls rejected without running.
    pub rejected: u64,
}

/// A breaker's state and counts at one moment: what `/breaker` endpoints, dashboards and the
/// [`Registry`](crate::Registry) show.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The breaker's name.
    pub name: String,
    /// The state (HalfOpen as soon as the open duration has passed).
    pub state: State,
    /// Consecutive failures, counted as the Python library does.
    pub consecutive_failures: u32,
    /// Calls by outcome since the breaker was built.
    pub calls: CallCounts,
    /// Calls held by the sliding window, when a rate policy keeps one.
    pub window_calls: Option<u32>,
    /// Failure percentage over the sliding window, when a rate policy keeps one and it holds a
    /// call.
    pub failure_rate: Option<f64>,
    /// Slow-call percentage over the sliding window, likewise.
    pub slow_call_rate: Option<f64>,
    /// State changes since the breaker was built.
    pub transitions: u64,
    /// Probes running now (HalfOpen only).
    pub probes_in_flight: u32,
    /// When the Open circuit will let a probe through, as wall-clock time.
    pub open_until: Option<SystemTime>,
    /// How long until then.
    pub remaining: Option<Duration>,
    /// The last failure's text.
    pub last_failure: Option<String>,
    /// The configuration.
    pub config: Config,
}
