//! The public handle: cheap to clone, every clone the same breaker.

use crate::permit::{OwnedPermit, Permit};
use crate::shared::Shared;
use crate::{Builder, Config, Rejected, Snapshot, State};
use std::fmt;
use std::sync::Arc;

/// A circuit breaker. `Clone + Send + Sync`; clones share one breaker (an `Arc` inside), so a
/// clone per task, per request or per tower service all count together.
///
/// Build one with [`CircuitBreaker::builder`]; see the [crate docs](crate) for the states and a
/// full example.
#[derive(Clone)]
pub struct CircuitBreaker {
    shared: Arc<Shared>,
}

impl CircuitBreaker {
    /// Starts configuring a breaker called `name`. The defaults are those of the Python
    /// `circuitbreaker` library: 5 consecutive failures open the circuit for 30 s.
    pub fn builder(name: impl AsRef<str>) -> Builder {
        Builder::new(name.as_ref())
    }

    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Asks leave to make one call.
    ///
    /// While Closed this is one atomic load; while Open, one load and one clock read; neither
    /// takes a lock or allocates. The rejection says when to come back.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let admitted = self.shared.acquire()?;
        Ok(Permit::new(&self.shared, admitted))
    }

    /// [`try_acquire`](Self::try_acquire) for a permit that owns a handle to the breaker, so it
    /// can move into a `'static` future. Costs one reference-count increment more.
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        let admitted = self.shared.acquire()?;
        Ok(OwnedPermit::new(self.clone(), admitted))
    }

    /// The breaker's name.
    pub fn name(&self) -> &'static str {
        self.shared.name
    }

    /// The current state. Reports HalfOpen as soon as the open duration has passed, with no call
    /// needed (the transition is made and announced then).
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// The configuration it was built with.
    pub fn config(&self) -> Config {
        self.shared.config()
    }

    /// State, counts, rates and the last failure, at this moment.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Opens the circuit until [`reset`](Self::reset): every call is rejected. For maintenance
    /// windows and kill switches.
    pub fn force_open(&self) {
        self.shared.with_core(|core| core.force_open());
    }

    /// Lets every call through and trips on nothing until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.shared.with_core(|core| core.disable());
    }

    /// Back to Closed with every count, window and backoff forgotten.
    pub fn reset(&self) {
        self.shared.with_core(|core| core.reset());
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name())
            .field("state", &self.shared.published_state())
            .finish()
    }
}
