//! What a breaker reports: call counts by outcome, the snapshot, and the registry that lists
//! every named breaker with its snapshot (what the Python library's `CircuitBreakerMonitor` and
//! Resilience4j's registry do).

use crate::{Builder, CircuitBreaker, Config, ConfigError, State};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
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
/// [`Registry`] show.
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

/// A set of breakers by name, created on first use from a template.
///
/// ```
/// use breaker::{CircuitBreaker, Registry};
///
/// let registry = Registry::new(CircuitBreaker::builder("template").failure_threshold(3))?;
/// let payments = registry.get_or_create("payments");
/// assert_eq!(payments.name(), "payments");
/// // The same name gives the same breaker.
/// payments.force_open();
/// assert_eq!(registry.get_or_create("payments").state(), breaker::State::ForcedOpen);
/// assert_eq!(registry.snapshots().len(), 1);
/// # Ok::<(), breaker::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Registry {
    template: Builder,
    breakers: Mutex<BTreeMap<String, CircuitBreaker>>,
}

impl Registry {
    /// A registry whose breakers take `template`'s settings, clock and listeners (not its
    /// name). The template is validated here, once.
    pub fn new(template: Builder) -> Result<Self, ConfigError> {
        template.validate()?;
        Ok(Self {
            template,
            breakers: Mutex::new(BTreeMap::new()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, CircuitBreaker>> {
        // Nothing panics while this lock is held; a poisoned map is still a valid map.
        self.breakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The breaker called `name`, created from the template if it does not exist yet.
    pub fn get_or_create(&self, name: &str) -> CircuitBreaker {
        let mut breakers = self.lock();
        if let Some(breaker) = breakers.get(name) {
            return breaker.clone();
        }
        let breaker = self.template.renamed(name).build_validated();
        breakers.insert(name.to_owned(), breaker.clone());
        breaker
    }

    /// Adds a breaker built elsewhere (with its own settings), replacing any of the same name.
    pub fn insert(&self, breaker: CircuitBreaker) {
        self.lock().insert(breaker.name().to_owned(), breaker);
    }

    /// The breaker called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<CircuitBreaker> {
        self.lock().get(name).cloned()
    }

    /// Every breaker, sorted by name.
    pub fn breakers(&self) -> Vec<CircuitBreaker> {
        self.lock().values().cloned().collect()
    }

    /// A snapshot of every breaker, sorted by name. The registry's lock is not held while the
    /// snapshots are taken.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        self.breakers()
            .iter()
            .map(CircuitBreaker::snapshot)
            .collect()
    }
}
