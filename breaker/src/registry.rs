//! The registry: every named breaker with its snapshot, what the Python library's
//! `CircuitBreakerMonitor` and Resilience4j's registry do.

use crate::breaker::{Builder, CircuitBreaker};
use crate::error::ConfigError;
use crate::metrics::Snapshot;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A set of breakers by name, created on first use from a template.
///
/// A breaker stays in the registry until [`remove`](Registry::remove)d; its memory, name
/// included, is freed once the registry and every clone of it let go. Breakers named after data
/// (a tenant, a host) must be removed when done with: the registry has no bound of its own.
///
/// ```
/// use trip_breaker::{CircuitBreaker, Registry};
///
/// let registry = Registry::new(CircuitBreaker::builder("template").failure_threshold(3))?;
/// let payments = registry.get_or_create("payments");
/// assert_eq!(payments.name(), "payments");
/// // The same name gives the same breaker.
/// payments.force_open();
/// assert_eq!(registry.get_or_create("payments").state(), trip_breaker::State::ForcedOpen);
/// assert_eq!(registry.snapshots().len(), 1);
/// // Removed, it is handed back; the next get_or_create builds a fresh one.
/// let removed = registry.remove("payments").expect("it was there");
/// assert_eq!(removed.state(), trip_breaker::State::ForcedOpen);
/// assert_eq!(registry.get_or_create("payments").state(), trip_breaker::State::Closed);
/// # Ok::<(), trip_breaker::ConfigError>(())
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

    /// Takes the breaker called `name` out of the registry and hands it back, if there is one
    /// (Resilience4j's `remove`). Clones held elsewhere keep working; the next
    /// [`get_or_create`](Self::get_or_create) of the name builds a fresh breaker.
    pub fn remove(&self, name: &str) -> Option<CircuitBreaker> {
        self.lock().remove(name)
    }

    /// Puts `breaker` in the place of the breaker of the same name and hands that one back;
    /// does nothing and returns `None` when there is none (Resilience4j's `replace`, where
    /// [`insert`](Self::insert) adds in any case).
    pub fn replace(&self, breaker: CircuitBreaker) -> Option<CircuitBreaker> {
        let mut breakers = self.lock();
        let held = breakers.get_mut(breaker.name())?;
        Some(std::mem::replace(held, breaker))
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
