//! The handle and one call through it: [`CircuitBreaker`] asks leave to call, a [`Permit`] says
//! how the call went, with an [`Outcome`]; [`CircuitBreaker::call`] does all three around an
//! async closure.

use crate::fast_path::{Shared, Stamp, Text};
use crate::{Builder, Config, Error, Rejected, Snapshot, State};
use std::fmt;
use std::future::Future;
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
    /// Starts configuring a breaker called `name`. The defaults are those of the Python
    /// `circuitbreaker` library: 5 consecutive failures open the circuit for 30 s.
    ///
    /// The name is kept once for the life of the process, so that every rejection can carry it
    /// for free: name breakers after backends, a bounded set.
    pub fn builder(name: impl AsRef<str>) -> Builder {
        Builder::new(name.as_ref())
    }

    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Asks leave to make one call: a [`Permit`] to settle when the call ends, or the
    /// [`Rejected`] error saying why not and when to come back.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        self.shared.acquire()
    }

    /// [`try_acquire`](Self::try_acquire) for a permit that owns a handle to the breaker, so it
    /// can move into a `'static` future. Costs one reference-count increment more.
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        let permit = self.shared.acquire()?;
        let stamp = permit.stamp;
        // The permit's duty to settle moves to the owned one.
        std::mem::forget(permit);
        Ok(OwnedPermit {
            breaker: self.clone(),
            stamp,
        })
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
pub struct Permit<'a> {
    shared: &'a Shared,
    /// Keeps its probe slot only until settled, so that `Drop` frees only what is still held.
    stamp: Stamp,
}

impl<'a> Permit<'a> {
    pub(crate) fn new(shared: &'a Shared, stamp: Stamp) -> Self {
        Self { shared, stamp }
    }

    /// The call succeeded.
    #[inline]
    pub fn success(mut self) {
        self.shared.succeed(self.stamp);
        self.stamp = self.stamp.settled();
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
        self.shared.settle(self.stamp, outcome);
        self.stamp = self.stamp.settled();
    }

    /// Whether this call is a HalfOpen probe.
    pub fn is_probe(&self) -> bool {
        self.stamp.is_probe()
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.shared.abandon(self.stamp);
    }
}

/// A [`Permit`] that owns a handle to its breaker, for futures that must be `'static`
/// (the tower middleware, spawned tasks). From [`CircuitBreaker::try_acquire_owned`].
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct OwnedPermit {
    breaker: CircuitBreaker,
    stamp: Stamp,
}

impl OwnedPermit {
    /// The call succeeded.
    pub fn success(mut self) {
        self.breaker.shared.succeed(self.stamp);
        self.stamp = self.stamp.settled();
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
        self.breaker.shared.settle(self.stamp, outcome);
        self.stamp = self.stamp.settled();
    }

    /// Whether this call is a HalfOpen probe.
    pub fn is_probe(&self) -> bool {
        self.stamp.is_probe()
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.breaker.shared.abandon(self.stamp);
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.shared.name.as_str())
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("breaker", &self.breaker.name())
            .field("probe", &self.is_probe())
            .finish()
    }
}

/// How a finished call ended: a success, a failure with its text, or neither. A classifier
/// gives one to [`CircuitBreaker::call_with`], the tower middleware or [`Permit::record`].
///
/// ```
/// use breaker::Outcome;
///
/// // An HTTP client error says nothing about the backend's health: ignore it.
/// fn classify(status: u16) -> Outcome {
///     match status {
///         500.. => Outcome::failure(format_args!("HTTP {status}")),
///         400..=499 => Outcome::ignored(),
///         _ => Outcome::success(),
///     }
/// }
/// assert!(classify(503).is_failure());
/// assert_eq!(classify(503).cause(), Some("HTTP 503"));
/// assert!(classify(404).is_ignored());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(Ended);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    Success,
    Failure(Text),
    Ignored,
}

impl Outcome {
    /// The call succeeded.
    pub fn success() -> Self {
        Outcome(Ended::Success)
    }

    /// The call failed; `cause` becomes the breaker's last failure. Texts up to 23 bytes are
    /// stored inline, without allocating; texts over 256 bytes are cut on a character boundary
    /// and end in `…`, since the last failure is quoted in every rejection.
    pub fn failure(cause: impl fmt::Display) -> Self {
        Outcome(Ended::Failure(Text::display(cause)))
    }

    /// The call counts as neither success nor failure (a client error says nothing about the
    /// backend); a probe slot it held is freed.
    pub fn ignored() -> Self {
        Outcome(Ended::Ignored)
    }

    /// Whether this is a success.
    pub fn is_success(&self) -> bool {
        matches!(self.0, Ended::Success)
    }

    /// Whether this is a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self.0, Ended::Failure(_))
    }

    /// Whether this is ignored.
    pub fn is_ignored(&self) -> bool {
        matches!(self.0, Ended::Ignored)
    }

    /// The failure's text, if this is a failure.
    pub fn cause(&self) -> Option<&str> {
        self.failure_text().map(Text::as_str)
    }

    pub(crate) fn failure_text(&self) -> Option<&Text> {
        match &self.0 {
            Ended::Failure(cause) => Some(cause),
            _ => None,
        }
    }
}

/// The classifier [`CircuitBreaker::call`] uses: `Ok` is a success, `Err` a failure described
/// by its `Display`. The tower middleware's default classifier, `ErrorIsFailure`, applies it.
pub fn default_classifier<T, E: fmt::Display>(result: &Result<T, E>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(error) => Outcome::failure(error),
    }
}
