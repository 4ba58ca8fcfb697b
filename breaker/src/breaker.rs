//! The handle and one call through it: [`CircuitBreaker`] asks leave to call, a [`Permit`] says
//! how the call went, with an [`Outcome`]; [`CircuitBreaker::call`] does all three around an
//! async closure.

use crate::config::Config;
use crate::error::{Error, Rejected};
use crate::fast_path::Stamp;
use crate::metrics::Snapshot;
use crate::shell::Shared;
use crate::vocabulary::{Outcome, State, default_classifier};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

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
    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Asks leave to make one call: a [`Permit`] to settle when the call ends, or the
    /// [`Rejected`] error saying why not and when to come back.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let stamp = self.shared.acquire()?;
        Ok(Permit(Held::new(&*self.shared, stamp)))
    }

    /// [`try_acquire`](Self::try_acquire) for a permit that owns a handle to the breaker, so it
    /// can move into a `'static` future. Costs one reference-count increment more.
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        let stamp = self.shared.acquire()?;
        Ok(OwnedPermit(Held::new(Arc::clone(&self.shared), stamp)))
    }

    /// Runs `f` if the breaker admits it; `Err` counts as a failure, `Ok` as a success.
    ///
    /// When the call is rejected `f` is not even invoked. If the returned future is dropped
    /// before it finishes (a timeout, a client that went away), the call counts as nothing and
    /// any probe slot it held is freed.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use breaker::{CircuitBreaker, Error};
    ///
    /// let cb = CircuitBreaker::builder("inventory").failure_threshold(1).build()?;
    /// let failed: Result<(), Error<&str>> = cb.call(|| async { Err("timeout") }).await;
    /// assert!(matches!(failed, Err(Error::Inner("timeout"))));
    ///
    /// let rejected = cb.call(|| async { Ok::<_, &str>(()) }).await;
    /// assert!(matches!(rejected, Err(Error::Rejected(_))));
    /// # Ok::<(), breaker::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub async fn call<F, Fut, T, E>(&self, f: F) -> Result<T, Error<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display,
    {
        self.call_with(default_classifier, f).await
    }

    /// Like [`call`](Self::call), with a classifier deciding what the result means: for
    /// example an `Ok` HTTP 503 is a failure and an `Err` "not found" is ignored. The result
    /// itself is returned unchanged.
    pub async fn call_with<C, F, Fut, T, E>(&self, classify: C, f: F) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let result = f().await;
        permit.record(classify(&result));
        result.map_err(Error::Inner)
    }

    /// The breaker's name.
    pub fn name(&self) -> &'static str {
        self.shared.name.as_str()
    }

    /// The current state. Reports HalfOpen as soon as the open duration has passed, with no
    /// call needed (the transition is made and announced then).
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
        self.shared.command(|machine, _| machine.force_open());
    }

    /// Opens the circuit for `duration`, rejecting every call, then lets probes test the
    /// backend as after a trip (Resilience4j's `transitionToOpenStateFor`).
    pub fn force_open_for(&self, duration: Duration) {
        self.shared
            .command(|machine, now| Some(machine.force_open_for(duration, now)));
    }

    /// Lets every call through and trips on nothing until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.shared.command(|machine, _| machine.disable());
    }

    /// Back to Closed with every count, window, backoff and the last failure forgotten.
    pub fn reset(&self) {
        self.shared.command(|machine, _| machine.reset());
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

/// Leave to make one call, from [`CircuitBreaker::try_acquire`].
///
/// Settle it with [`success`](Permit::success), [`failure`](Permit::failure),
/// [`ignore`](Permit::ignore) or [`record`](Permit::record). Dropping it unsettled (the call was
/// cancelled, the future dropped) releases any probe slot it held and counts as nothing, so a
/// cancelled call can never leave the breaker stuck in HalfOpen.
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct Permit<'a>(Held<&'a Shared>);

/// A [`Permit`] that owns a handle to its breaker, for futures that must be `'static`
/// (the tower middleware, spawned tasks). From [`CircuitBreaker::try_acquire_owned`].
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct OwnedPermit(Held<Arc<Shared>>);

/// What both permits are: a breaker, borrowed or owned, and the stamp of the admission.
struct Held<S: Deref<Target = Shared>> {
    shared: S,
    /// Keeps its probe slot only until settled, so that `Drop` frees only what is still held.
    stamp: Stamp,
}

impl<S: Deref<Target = Shared>> Held<S> {
    #[inline]
    fn new(shared: S, stamp: Stamp) -> Self {
        Self { shared, stamp }
    }

    #[inline]
    fn success(&mut self) {
        self.shared.succeed(self.stamp);
        self.stamp = self.stamp.settled();
    }

    fn record(&mut self, outcome: Outcome) {
        self.shared.settle(self.stamp, outcome);
        self.stamp = self.stamp.settled();
    }

    fn debug(&self, f: &mut fmt::Formatter<'_>, kind: &str) -> fmt::Result {
        f.debug_struct(kind)
            .field("breaker", &self.shared.name.as_str())
            .field("probe", &self.stamp.is_probe())
            .finish()
    }
}

impl<S: Deref<Target = Shared>> Drop for Held<S> {
    #[inline]
    fn drop(&mut self) {
        self.shared.abandon(self.stamp);
    }
}

/// The one API of [`Permit`] and [`OwnedPermit`], written once for both.
macro_rules! settle_api {
    ($permit:ty) => {
        impl $permit {
            /// The call succeeded.
            #[inline]
            pub fn success(mut self) {
                self.0.success();
            }

            /// The call failed; `cause` becomes the breaker's last failure.
            pub fn failure(self, cause: impl fmt::Display) {
                self.record(Outcome::failure(cause));
            }

            /// The call counts as neither success nor failure; a probe slot is freed.
            pub fn ignore(self) {
                self.record(Outcome::ignored());
            }

            /// Settles with a classifier's [`Outcome`].
            pub fn record(mut self, outcome: Outcome) {
                self.0.record(outcome);
            }

            /// Whether this call is a HalfOpen probe.
            pub fn is_probe(&self) -> bool {
                self.0.stamp.is_probe()
            }
        }
    };
}

settle_api!(Permit<'_>);
settle_api!(OwnedPermit);

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f, "Permit")
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f, "OwnedPermit")
    }
}
