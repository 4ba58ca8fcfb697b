//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use crate::stats::{Stats, StatsSnapshot};
use crate::switch::ModeSwitch;

/// Shared state of one Service B instance.
///
/// Cloning is cheap and shares everything (it holds an `Arc`): every clone sees the same mode
/// and counts into the same [`Stats`]. Build a new one with [`AppState::new`] for a fresh server.
#[derive(Debug, Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    fail_delay: Duration,
    mode: ModeSwitch,
    stats: Stats,
}

impl AppState {
    /// A healthy service whose `/api?fail=true` waits `fail_delay` before answering 500.
    pub fn new(fail_delay: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                fail_delay,
                mode: ModeSwitch::default(),
                stats: Stats::default(),
            }),
        }
    }

    /// How long `/api?fail=true` waits; also the default delay of the outage modes.
    pub fn fail_delay(&self) -> Duration {
        self.shared.fail_delay
    }

    /// The outage mode.
    pub fn mode(&self) -> &ModeSwitch {
        &self.shared.mode
    }

    /// The `/api` counters.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Shorthand for `self.stats().snapshot()`.
    pub fn stats_snapshot(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }
}
