//! Counters of `/api` traffic, so tests and scripts can tell how many calls reached Service B
//! and how many it was serving at once.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::gate::{CapacityCounters, CapacityStats};

/// Running totals since start, and the calls being served now.
///
/// Independent relaxed atomics: a reader may see a call counted whose outcome is not yet, which
/// is the truth while that call waits out its delay. No lock is taken on `/api`.
#[derive(Debug, Default)]
pub struct Stats {
    api_calls: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    capacity: CapacityCounters,
}

impl Stats {
    /// The totals right now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            api_calls: self.api_calls.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            capacity: self.capacity.snapshot(),
        }
    }

    /// The `capacity` mode's counters.
    pub(crate) fn capacity(&self) -> &CapacityCounters {
        &self.capacity
    }

    /// Counts a call in, until the returned guard is dropped: when the call is answered, or when
    /// its client hangs up and the server drops the call.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlight { stats: self }
    }

    /// Counts a call answered 5xx.
    pub(crate) fn record_failure(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// One `/api` call being served.
pub(crate) struct InFlight<'a> {
    stats: &'a Stats,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The body of `GET /stats`: `{"api_calls":7,"failed":3,"in_flight":1,"max_in_flight":4,
/// "capacity":{"served":0,"queued":0,"refused":0,"waiting":0}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// `/api` requests received, counted on arrival (before any delay), whatever their outcome.
    pub api_calls: u64,
    /// `/api` requests answered 5xx (500, or 503 in `flaky`). A call whose client hung up during
    /// the delay is never answered, so it is not counted here.
    pub failed: u64,
    /// `/api` requests being served now (waiting out a delay, mostly).
    pub in_flight: u64,
    /// The most `/api` requests served at the same time since start.
    pub max_in_flight: u64,
    /// What the `capacity` mode did with the calls it saw: served, queued, refused, and
    /// waiting now.
    #[serde(default)]
    pub capacity: CapacityStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_follows_the_guards_and_the_peak_stays() {
        let stats = Stats::default();
        let first = stats.enter();
        let second = stats.enter();
        assert_eq!(stats.snapshot().in_flight, 2);
        drop(first);
        let third = stats.enter();
        drop(second);
        drop(third);
        assert_eq!(
            stats.snapshot(),
            StatsSnapshot {
                api_calls: 3,
                failed: 0,
                in_flight: 0,
                max_in_flight: 2,
                capacity: CapacityStats::default(),
            }
        );
    }
}
