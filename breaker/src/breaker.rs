//! The handle and one call through it: [`CircuitBreaker`] asks leave to call, a [`Permit`] says
//! how the call went, with an [`Outcome`]; [`CircuitBreaker::call`] does all three around an
//! async closure. Then the [`Builder`] that makes a breaker (beside it, since each names the
//! other).

use crate::clock::{Clock, ClockSource, MonotonicClock};
use crate::config::{Backoff, Config, SlidingWindow};
use crate::error::{ConfigError, Error, Rejected};
use crate::metrics::{Event, Listener, Listeners, Snapshot};
use crate::permit::{OwnedPermit, Permit};
use crate::shell::Shared;
use crate::throttle::AdaptiveThrottle;
use crate::vocabulary::{Name, Outcome, Reason, State, default_classifier};
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
    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Asks leave to make one call: a [`Permit`] to settle when the call ends, or the
    /// [`Rejected`] error saying why not and when to come back.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        self.shared
            .acquire(|stamp| Permit::new(&self.shared, stamp))
    }

    /// [`try_acquire`](Self::try_acquire) for a permit that owns a handle to the breaker, so it
    /// can move into a `'static` future. Costs one reference-count increment more.
    #[inline]
    pub fn try_acquire_owned(&self) -> Result<OwnedPermit, Rejected> {
        self.shared
            .acquire(|stamp| OwnedPermit::new(Arc::clone(&self.shared), stamp))
    }

    /// Runs `f` if the breaker admits it; `Err` counts as a failure, `Ok` as a success.
    ///
    /// When the call is rejected `f` is not even invoked. If the returned future is dropped
    /// before it finishes (a timeout, a client that went away), the call counts as nothing and
    /// any probe slot it held is freed.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use trip_breaker::{CircuitBreaker, Error};
    ///
    /// let cb = CircuitBreaker::builder("inventory").failure_threshold(1).build()?;
    /// let failed: Result<(), Error<&str>> = cb.call(|| async { Err("timeout") }).await;
    /// assert!(matches!(failed, Err(Error::Inner("timeout"))));
    ///
    /// let rejected = cb.call(|| async { Ok::<_, &str>(()) }).await;
    /// assert!(matches!(rejected, Err(Error::Rejected(_))));
    /// # Ok::<(), trip_breaker::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub fn call<F, Fut, T, E>(&self, f: F) -> impl Future<Output = Result<T, Error<E>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display,
    {
        // `call_with`'s future itself, not one that awaits it: one state machine, not two.
        self.call_with(default_classifier, f)
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
        // A success settled where it is inlined, the rest out of line (`Permit::record`).
        let outcome = classify(&result);
        if outcome.is_success() {
            permit.success();
        } else {
            permit.record(outcome);
        }
        result.map_err(Error::Inner)
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
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

    /// Opens the circuit for `duration` with `reason`, as a trip would, where that makes the
    /// breaker stricter and nothing else: from Closed; from HalfOpen while no probe is out;
    /// from Open when the period would end later than the running one (whose reason it then
    /// replaces). While a probe is out, ForcedOpen or Disabled, it does nothing: a verdict
    /// from outside (another replica's, say) never cuts a probe short nor overrides an admin.
    /// After `duration`, probes test the backend as after a trip. Returns whether it opened
    /// the circuit, or lengthened its open period.
    ///
    /// ```
    /// use trip_breaker::{CircuitBreaker, FleetReason, ManualClock, Reason, State};
    /// use std::time::Duration;
    ///
    /// let cb = CircuitBreaker::builder("inventory").clock(ManualClock::new()).build()?;
    /// let fleet = Reason::Fleet(FleetReason::ReplicasOpen { open: 2, replicas: 5 });
    /// assert!(cb.open_for(Duration::from_secs(10), fleet));
    /// let rejected = cb.try_acquire().unwrap_err();
    /// assert_eq!(rejected.reason(), Some(fleet));
    /// assert!(rejected.to_string().contains("(fleet: 2 of 5 replicas open, 10 sec remaining)"));
    /// assert!(!cb.open_for(Duration::from_secs(5), fleet), "never shortened");
    /// # Ok::<(), trip_breaker::ConfigError>(())
    /// ```
    pub fn open_for(&self, duration: Duration, reason: Reason) -> bool {
        let (_, opened) = self
            .shared
            .command(|machine, now| machine.open_for(duration, reason, now));
        opened.is_some()
    }

    /// Closes the circuit, with `reason`, if it is Open and `opened_by` is what opened it (an
    /// [`open_for`](Self::open_for) with that reason, say): the end of an open period that
    /// waited on something outside the breaker, once it has come. In any other state, or
    /// Open for another reason, it does nothing. Returns whether it closed the circuit.
    ///
    /// ```
    /// use trip_breaker::{CircuitBreaker, FleetReason, ManualClock, Reason, State};
    /// use std::time::Duration;
    ///
    /// let cb = CircuitBreaker::builder("inventory").clock(ManualClock::new()).build()?;
    /// let waiting = Reason::Fleet(FleetReason::ProbeElsewhere);
    /// let succeeded = Reason::Fleet(FleetReason::ProbeSucceeded);
    /// cb.open_for(Duration::from_secs(10), waiting);
    /// assert!(cb.close_if_opened_by(waiting, succeeded));
    /// assert_eq!(cb.state(), State::Closed);
    /// # Ok::<(), trip_breaker::ConfigError>(())
    /// ```
    pub fn close_if_opened_by(&self, opened_by: Reason, reason: Reason) -> bool {
        let (_, closed) = self
            .shared
            .command(|machine, _| machine.close_if_opened_by(opened_by, reason));
        closed.is_some()
    }

    /// Lets every call through and trips on nothing until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.shared.command(|machine, _| machine.disable());
    }

    /// Back to Closed with every count, window, backoff and the last failure forgotten, the
    /// throttle's window too.
    pub fn reset(&self) {
        self.shared.reset();
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

// ----- The builder: documented defaults, one validation, a typed error naming the field -----

impl CircuitBreaker {
    /// Starts configuring a breaker called `name`. The defaults are those of the Python
    /// `circuitbreaker` library: 5 consecutive failures open the circuit for 30 s.
    ///
    /// The name lives as long as the breaker and the rejections that carry it, and no longer,
    /// so breakers may be named after data (a tenant, a host) and dropped when done with.
    pub fn builder(name: impl AsRef<str>) -> Builder {
        Builder::new(name.as_ref())
    }
}

/// Configures a [`CircuitBreaker`]; from [`CircuitBreaker::builder`]. Nothing is checked until
/// [`build`](Builder::build), which names the first invalid field.
///
/// The table of settings and defaults is on [`Config`].
#[derive(Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct Builder {
    name: Name,
    config: Config,
    clock: Option<ClockSource>,
    listeners: Vec<Listener>,
    transition_listeners: Vec<Listener>,
}

impl Builder {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: Name::new(name),
            config: Config::default(),
            clock: None,
            listeners: Vec::new(),
            transition_listeners: Vec::new(),
        }
    }

    /// Consecutive failures that open the circuit (the article's policy). A success resets the
    /// count. Default 5.
    pub fn failure_threshold(mut self, failures: u32) -> Self {
        self.config.failure_threshold = Some(failures);
        self
    }

    /// Opens the circuit on the failure that makes `failures` failures within the last
    /// `within`, successes in between or not: the article's "5 failures in 30 seconds" (Java's
    /// Failsafe calls it a thresholding period). A failure exactly `within` old no longer counts.
    /// Combines with every other policy; off by default.
    ///
    /// ```
    /// use trip_breaker::{CircuitBreaker, ManualClock, Reason, State};
    /// use std::time::Duration;
    ///
    /// let clock = ManualClock::new();
    /// let cb = CircuitBreaker::builder("inventory")
    ///     .without_failure_threshold()
    ///     .failures_within(3, Duration::from_secs(30))
    ///     .clock(clock.clone())
    ///     .build()?;
    /// for _ in 0..3 {
    ///     cb.try_acquire()?.success(); // successes do not reset the count
    ///     cb.try_acquire()?.failure("timeout");
    ///     clock.advance(Duration::from_secs(10));
    /// }
    /// assert_eq!(cb.state(), State::Open, "the third failure came 20 s after the first");
    /// let rejected = cb.try_acquire().unwrap_err();
    /// assert_eq!(rejected.reason(), Some(Reason::FailuresWithin {
    ///     failures: 3,
    ///     within: Duration::from_secs(30),
    /// }));
    /// assert!(rejected.to_string().contains("(3 failures within 30s, 20 sec remaining)"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn failures_within(mut self, failures: u32, within: Duration) -> Self {
        self.config.failures_within = Some((failures, within));
        self
    }

    /// Turns the consecutive-failure policy off, so only the other policies trip the circuit.
    pub fn without_failure_threshold(mut self) -> Self {
        self.config.failure_threshold = None;
        self
    }

    /// How long the circuit stays Open before a probe may pass. Default 30 s.
    pub fn recovery_timeout(mut self, timeout: Duration) -> Self {
        self.config.recovery_timeout = timeout;
        self
    }

    /// Lets the open duration grow on repeated trips. Default: none.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = Some(backoff);
        self
    }

    /// Probes that may run at the same time while HalfOpen. Default 1.
    pub fn half_open_max_calls(mut self, probes: u32) -> Self {
        self.config.half_open_max_calls = probes;
        self
    }

    /// Successful probes that close the circuit. Default 1.
    pub fn success_threshold(mut self, successes: u32) -> Self {
        self.config.success_threshold = successes;
        self
    }

    /// Opens the circuit again when probes have been out this long with none answering (from
    /// the first probe admitted while none was out, or from the last answer), so that a probe
    /// that never answers cannot hold HalfOpen forever; its late outcome is then ignored.
    /// Resilience4j's `maxWaitDurationInHalfOpenState`. Default: none, wait as long as the
    /// probe takes.
    pub fn half_open_max_wait(mut self, wait: Duration) -> Self {
        self.config.half_open_max_wait = Some(wait);
        self
    }

    /// Opens the circuit when at least this percentage of the calls in the sliding window
    /// failed, once it holds `minimum_calls`. In (0, 100].
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.config.failure_rate_threshold = Some(percent);
        self
    }

    /// Calls that take at least this long count as slow (and are counted in the metrics).
    pub fn slow_call_duration(mut self, duration: Duration) -> Self {
        self.config.slow_call_duration = Some(duration);
        self
    }

    /// Opens the circuit when at least this percentage of the calls in the sliding window were
    /// slow, once it holds `minimum_calls`. In (0, 100]; needs `slow_call_duration`.
    pub fn slow_call_rate_threshold(mut self, percent: f64) -> Self {
        self.config.slow_call_rate_threshold = Some(percent);
        self
    }

    /// The window both rates are computed over. Default: the last 100 calls.
    pub fn sliding_window(mut self, window: SlidingWindow) -> Self {
        self.config.sliding_window = window;
        self
    }

    /// Calls the sliding window must hold before a rate may trip the circuit. Default 10.
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.config.minimum_calls = calls;
        self
    }

    /// Adds client-side adaptive throttling: while Closed, each call is rejected with a
    /// probability that makes the breaker send the backend about K times what it accepts
    /// ([`AdaptiveThrottle`] has the formula, the settings and an example). A rejected call is
    /// a [`Rejected`] whose [`reason`](Rejected::reason) is
    /// [`Reason::Throttled`](crate::Reason::Throttled). It combines with every trip policy,
    /// which still opens the circuit, and may stand alone (with
    /// [`without_failure_threshold`](Self::without_failure_threshold)). Off by default.
    pub fn adaptive_throttle(mut self, throttle: AdaptiveThrottle) -> Self {
        self.config.adaptive_throttle = Some(throttle);
        self
    }

    /// Replaces every setting with `config` (the name, clock and listeners stay).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The clock to read; default [`MonotonicClock`]. Tests pass a
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(ClockSource::Other(Arc::new(clock)));
        self
    }

    /// Calls `listener` for every transition, outcome and rejection. Listeners run on the
    /// caller's thread after the breaker's lock is released, so they may call back into the
    /// breaker; keep them quick (forward to a channel for anything slow). For the same reason,
    /// two transitions made by different threads a moment apart may reach a listener in either
    /// order; [`Snapshot::transitions`](crate::Snapshot::transitions) counts them exactly.
    pub fn on_event(mut self, listener: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Self {
        self.listeners.push(Arc::new(listener));
        self
    }

    /// Calls `listener` for every transition only (its events are all
    /// [`EventKind::StateChanged`](crate::EventKind::StateChanged)), on the same terms as
    /// [`on_event`](Self::on_event). Prefer it when transitions are all a listener wants: a
    /// listener of every event makes each success tell it, where without one a success while
    /// Closed is counted with no event built at all.
    pub fn on_transition(mut self, listener: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Self {
        self.transition_listeners.push(Arc::new(listener));
        self
    }

    /// Checks every setting and builds the breaker.
    pub fn build(self) -> Result<CircuitBreaker, ConfigError> {
        self.config.validate()?;
        Ok(self.build_validated())
    }

    /// Builds from settings already validated (the registry validates its template once).
    pub(crate) fn build_validated(self) -> CircuitBreaker {
        let clock = self
            .clock
            .unwrap_or_else(|| ClockSource::Monotonic(MonotonicClock::new()));
        CircuitBreaker::from_shared(Shared::new(
            self.name,
            self.config,
            clock,
            Listeners::new(self.listeners, self.transition_listeners),
        ))
    }

    /// The same settings for a breaker with another name.
    pub(crate) fn renamed(&self, name: &str) -> Self {
        Self {
            name: Name::new(name),
            ..self.clone()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("listeners", &self.listeners.len())
            .field("transition_listeners", &self.transition_listeners.len())
            .finish()
    }
}
