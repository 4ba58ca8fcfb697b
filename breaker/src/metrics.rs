//! Call counters and the snapshot a breaker reports.
//!
//! Counting every call must not make threads fight over one cache line: each thread counts in
//! its own slot (`thread_local::ThreadLocal`), and only that thread ever writes the slot, so an
//! increment is a plain load and store, no locked instruction. A snapshot adds the slots up.

use crate::{Config, State};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime};
use thread_local::ThreadLocal;

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

/// One thread's counts.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    successful: AtomicU64,
    failed: AtomicU64,
    slow: AtomicU64,
    ignored: AtomicU64,
    rejected: AtomicU64,
}

impl Slot {
    pub(crate) fn successful(&self) {
        bump(&self.successful);
    }

    pub(crate) fn failed(&self) {
        bump(&self.failed);
    }

    pub(crate) fn slow(&self) {
        bump(&self.slow);
    }

    pub(crate) fn ignored(&self) {
        bump(&self.ignored);
    }

    pub(crate) fn rejected(&self) {
        bump(&self.rejected);
    }
}

/// Adds one to a counter that only the current thread writes. Readers on other threads may see
/// the old value for a moment, never a torn or lost one.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// Per-thread call counters.
#[derive(Debug, Default)]
pub(crate) struct Counters(ThreadLocal<Slot>);

impl Counters {
    /// The calling thread's slot.
    #[inline]
    pub(crate) fn local(&self) -> &Slot {
        self.0.get_or(Slot::default)
    }

    pub(crate) fn sum(&self) -> CallCounts {
        self.0
            .iter()
            .fold(CallCounts::default(), |total, slot| CallCounts {
                successful: total.successful + slot.successful.load(Relaxed),
                failed: total.failed + slot.failed.load(Relaxed),
                slow: total.slow + slot.slow.load(Relaxed),
                ignored: total.ignored + slot.ignored.load(Relaxed),
                rejected: total.rejected + slot.rejected.load(Relaxed),
            })
    }
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
