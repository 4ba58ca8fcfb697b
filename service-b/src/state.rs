//! What every handler shares.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::capacity::Capacity;
use crate::gate::{CapacityGate, CapacityGates};
use crate::stats::{Stats, StatsSnapshot};
use crate::switch::ModeSwitch;

/// Shared state of one Service B instance.
///
/// Cloning is cheap and shares everything (it holds an `Arc`): every clone sees the same mode,
/// counts into the same [`Stats`] and draws from the same random sequence. Build a new one with
/// [`AppState::new`] for a fresh server.
#[derive(Debug, Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    fail_delay: Duration,
    mode: ModeSwitch,
    stats: Stats,
    gates: CapacityGates,
    /// The `flaky` mode's dice. A std `Mutex` is fine: no `.await` happens while it is held,
    /// and a draw is a few arithmetic operations.
    rng: Mutex<fastrand::Rng>,
}

impl AppState {
    /// A healthy service whose `/api?fail=true` waits `fail_delay` before answering 500; the
    /// `flaky` mode draws from a randomly seeded generator.
    pub fn new(fail_delay: Duration) -> Self {
        Self::with_rng(fail_delay, fastrand::Rng::new())
    }

    /// [`AppState::new`] whose `flaky` draws are the sequence `seed` gives, so a test can know
    /// which calls fail.
    pub fn with_seed(fail_delay: Duration, seed: u64) -> Self {
        Self::with_rng(fail_delay, fastrand::Rng::with_seed(seed))
    }

    fn with_rng(fail_delay: Duration, rng: fastrand::Rng) -> Self {
        Self {
            shared: Arc::new(Shared {
                fail_delay,
                mode: ModeSwitch::default(),
                stats: Stats::default(),
                gates: CapacityGates::default(),
                rng: Mutex::new(rng),
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

    /// The gate of the `capacity` mode with these limits.
    pub fn capacity_gate(&self, capacity: Capacity) -> Arc<CapacityGate> {
        self.shared.gates.gate(capacity)
    }

    /// Shorthand for `self.stats().snapshot()`.
    pub fn stats_snapshot(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// The next random number in [0, 1).
    pub fn random_fraction(&self) -> f64 {
        // The generator's state is advanced in one step, so a panic elsewhere cannot leave it
        // half-written: a poisoned lock is still safe to use.
        self.shared
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_sequence_in_0_1() {
        let a = AppState::with_seed(Duration::ZERO, 7);
        let b = AppState::with_seed(Duration::ZERO, 7);
        for _ in 0..100 {
            let draw = a.random_fraction();
            assert!((0.0..1.0).contains(&draw), "{draw}");
            assert_eq!(draw, b.random_fraction());
        }
    }
}
