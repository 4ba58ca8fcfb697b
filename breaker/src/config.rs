//! The settings of a breaker, their defaults, and their validation.

use crate::error::ConfigError;
use crate::throttle::AdaptiveThrottle;
use std::time::Duration;

/// Which recent calls the failure-rate and slow-call-rate policies look at.
///
/// Both kinds cost O(1) per call and constant memory: the count window is a ring of one byte per
/// call with running totals; the time window is `buckets` counters per thread that calls the
/// breaker, recorded without a lock and added up when a failure or slow call is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlidingWindow {
    /// The last `size` calls.
    Count {
        /// How many calls the window holds.
        size: u32,
    },
    /// The calls of the last `length`, kept in `buckets` equal slices; the oldest slice is
    /// dropped as a whole, so the window spans between `length - length/buckets` and `length`.
    Time {
        /// How far back the window looks.
        length: Duration,
        /// How many slices the window is cut into.
        buckets: u32,
    },
}

impl SlidingWindow {
    /// The width of a time window's buckets in nanoseconds, at least one; `None` for a count
    /// window.
    pub(crate) fn bucket_nanos(self) -> Option<u64> {
        match self {
            SlidingWindow::Time { length, buckets } => {
                Some(crate::clock::nanos(length / buckets.max(1)).max(1))
            }
            SlidingWindow::Count { .. } => None,
        }
    }

    /// A window over the last `size` calls.
    pub const fn count(size: u32) -> Self {
        SlidingWindow::Count { size }
    }

    /// A window over the calls of the last `length`, in `buckets` slices.
    pub const fn time(length: Duration, buckets: u32) -> Self {
        SlidingWindow::Time { length, buckets }
    }
}

/// A validated configuration. Build one with [`CircuitBreaker::builder`](crate::CircuitBreaker::builder);
/// read it back from [`CircuitBreaker::config`](crate::CircuitBreaker::config).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `failure_threshold` | 5 | consecutive failures that open the circuit (`None`: other policies only) |
/// | `failures_within` | none | `(n, t)`: n failures within the last t open the circuit |
/// | `recovery_timeout` | 30 s | how long the circuit stays Open before a probe may pass |
/// | `backoff` | none | growth of the open duration on repeated trips |
/// | `half_open_max_calls` | 1 | probes that may run at the same time while HalfOpen |
/// | `success_threshold` | 1 | successful probes that close the circuit |
/// | `half_open_max_wait` | none | a probe out this long without an answer opens the circuit again |
/// | `failure_rate_threshold` | none | failure percentage over the window that opens it |
/// | `slow_call_duration` | none | calls at least this long count as slow |
/// | `slow_call_rate_threshold` | none | slow-call percentage over the window that opens it |
/// | `sliding_window` | last 100 calls | the window both rates are computed over |
/// | `minimum_calls` | 10 | calls the window must hold before a rate may trip |
/// | `adaptive_throttle` | none | while Closed, reject calls at random so the backend is sent about K times what it accepts ([`AdaptiveThrottle`]) |
///
/// The defaults of the first two are those of the Python `circuitbreaker` library.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) failures_within: Option<(u32, Duration)>,
    pub(crate) recovery_timeout: Duration,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) half_open_max_calls: u32,
    pub(crate) success_threshold: u32,
    pub(crate) half_open_max_wait: Option<Duration>,
    pub(crate) failure_rate_threshold: Option<f64>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) slow_call_rate_threshold: Option<f64>,
    pub(crate) sliding_window: SlidingWindow,
    pub(crate) minimum_calls: u32,
    pub(crate) adaptive_throttle: Option<AdaptiveThrottle>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            failure_threshold: Some(5),
            failures_within: None,
            recovery_timeout: Duration::from_secs(30),
            backoff: None,
            half_open_max_calls: 1,
            success_threshold: 1,
            half_open_max_wait: None,
            failure_rate_threshold: None,
            slow_call_duration: None,
            slow_call_rate_threshold: None,
            sliding_window: SlidingWindow::count(100),
            minimum_calls: 10,
            adaptive_throttle: None,
        }
    }
}

impl Config {
    /// Consecutive failures that open the circuit, if that policy is on.
    pub fn failure_threshold(&self) -> Option<u32> {
        self.failure_threshold
    }

    /// `(n, t)`: n failures within the last t open the circuit, if that policy is on.
    pub fn failures_within(&self) -> Option<(u32, Duration)> {
        self.failures_within
    }

    /// How long the circuit stays Open on its first trip.
    pub fn recovery_timeout(&self) -> Duration {
        self.recovery_timeout
    }

    /// Growth of the open duration on repeated trips, if any.
    pub fn backoff(&self) -> Option<Backoff> {
        self.backoff
    }

    /// Probes that may run at the same time while HalfOpen.
    pub fn half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls
    }

    /// Successful probes that close the circuit.
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }

    /// How long a probe may stay out without an answer before the circuit opens again, if set.
    pub fn half_open_max_wait(&self) -> Option<Duration> {
        self.half_open_max_wait
    }

    /// Failure percentage over the window that opens the circuit, if that policy is on.
    pub fn failure_rate_threshold(&self) -> Option<f64> {
        self.failure_rate_threshold
    }

    /// Calls at least this long count as slow, if slow calls are measured.
    pub fn slow_call_duration(&self) -> Option<Duration> {
        self.slow_call_duration
    }

    /// Slow-call percentage over the window that opens the circuit, if that policy is on.
    pub fn slow_call_rate_threshold(&self) -> Option<f64> {
        self.slow_call_rate_threshold
    }

    /// The window both rates are computed over.
    pub fn sliding_window(&self) -> SlidingWindow {
        self.sliding_window
    }

    /// Calls the window must hold before a rate may trip the circuit.
    pub fn minimum_calls(&self) -> u32 {
        self.minimum_calls
    }

    /// The adaptive throttle, if one rejects calls while Closed.
    pub fn adaptive_throttle(&self) -> Option<AdaptiveThrottle> {
        self.adaptive_throttle
    }

    /// Checks every setting once, so the state machine never meets a value it cannot handle.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(threshold) = self.failure_threshold {
            at_least_one("failure_threshold", threshold)?;
        }
        let rates =
            self.failure_rate_threshold.is_some() || self.slow_call_rate_threshold.is_some();
        // A throttle alone protects the backend too: a breaker that only throttles is valid.
        let protects = rates || self.adaptive_throttle.is_some();
        if self.failure_threshold.is_none() && self.failures_within.is_none() && !protects {
            return Err(ConfigError::new(
                "failure_threshold",
                "no trip policy left: keep the consecutive-failure threshold or set \
                 failures_within, failure_rate_threshold, slow_call_rate_threshold or \
                 adaptive_throttle",
            ));
        }
        if let Some(throttle) = self.adaptive_throttle {
            throttle.validate()?;
        }
        if let Some((failures, within)) = self.failures_within {
            if !(1..=MAX_FAILURES_WITHIN).contains(&failures) {
                return Err(ConfigError::new(
                    "failures_within",
                    format!("counts 1 to {MAX_FAILURES_WITHIN} failures (got {failures})"),
                ));
            }
            non_zero("failures_within", within)?;
        }
        non_zero("recovery_timeout", self.recovery_timeout)?;
        at_least_one("half_open_max_calls", self.half_open_max_calls)?;
        at_least_one("success_threshold", self.success_threshold)?;
        if let Some(wait) = self.half_open_max_wait {
            non_zero("half_open_max_wait", wait)?;
        }
        if let Some(rate) = self.failure_rate_threshold {
            percentage("failure_rate_threshold", rate)?;
        }
        if let Some(rate) = self.slow_call_rate_threshold {
            percentage("slow_call_rate_threshold", rate)?;
            if self.slow_call_duration.is_none() {
                return Err(ConfigError::new(
                    "slow_call_duration",
                    "required when slow_call_rate_threshold is set: it says which calls are slow",
                ));
            }
        }
        if let Some(duration) = self.slow_call_duration {
            non_zero("slow_call_duration", duration)?;
        }
        at_least_one("minimum_calls", self.minimum_calls)?;
        self.validate_window()?;
        if let Some(backoff) = self.backoff {
            self.validate_backoff(backoff)?;
        }
        Ok(())
    }

    fn validate_window(&self) -> Result<(), ConfigError> {
        match self.sliding_window {
            SlidingWindow::Count { size } => {
                if !(1..=MAX_COUNT_WINDOW).contains(&size) {
                    return Err(ConfigError::new(
                        "sliding_window",
                        format!("a count window holds 1 to {MAX_COUNT_WINDOW} calls (got {size})"),
                    ));
                }
                if self.minimum_calls > size {
                    return Err(ConfigError::new(
                        "minimum_calls",
                        format!(
                            "{} exceeds the count window's size {size}: no rate could ever be \
                             evaluated",
                            self.minimum_calls
                        ),
                    ));
                }
            }
            SlidingWindow::Time { length, buckets } => {
                if !(1..=MAX_BUCKETS).contains(&buckets) {
                    return Err(ConfigError::new(
                        "sliding_window",
                        format!("a time window has 1 to {MAX_BUCKETS} buckets (got {buckets})"),
                    ));
                }
                if length / buckets < MIN_BUCKET {
                    return Err(ConfigError::new(
                        "sliding_window",
                        format!(
                            "each of the {buckets} buckets of a {length:?} window would be \
                             shorter than {MIN_BUCKET:?}, below the clock's resolution"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_backoff(&self, backoff: Backoff) -> Result<(), ConfigError> {
        if !(backoff.multiplier.is_finite() && backoff.multiplier >= 1.0) {
            return Err(ConfigError::new(
                "backoff.multiplier",
                format!(
                    "must be a finite number of at least 1 (got {})",
                    backoff.multiplier
                ),
            ));
        }
        if backoff.max < self.recovery_timeout {
            return Err(ConfigError::new(
                "backoff.max",
                format!(
                    "{:?} is shorter than recovery_timeout {:?}",
                    backoff.max, self.recovery_timeout
                ),
            ));
        }
        if !(0.0..1.0).contains(&backoff.jitter) {
            return Err(ConfigError::new(
                "backoff.jitter",
                format!("must be a fraction in [0, 1) (got {})", backoff.jitter),
            ));
        }
        Ok(())
    }
}

/// The most failures `failures_within` may count: it keeps the time of each, 8 bytes apiece.
const MAX_FAILURES_WITHIN: u32 = 10_000;
/// The largest count window: one byte per call, so 1 MB at most.
const MAX_COUNT_WINDOW: u32 = 1_000_000;
/// The most buckets a time window may have. Recording is O(1) whatever this is; judging a
/// failure reads `threads × buckets`, and each thread keeps its own buckets.
const MAX_BUCKETS: u32 = 100;
/// The narrowest bucket: the default clock moves in kernel ticks (see `MonotonicClock`).
const MIN_BUCKET: Duration = Duration::from_millis(10);

fn at_least_one(field: &'static str, value: u32) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(field, "must be at least 1 (got 0)"));
    }
    Ok(())
}

fn non_zero(field: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        return Err(ConfigError::new(field, "must be longer than zero"));
    }
    Ok(())
}

fn percentage(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if !(value > 0.0 && value <= 100.0) {
        return Err(ConfigError::new(
            field,
            format!("must be a percentage in (0, 100] (got {value})"),
        ));
    }
    Ok(())
}

/// Growth of the open duration on repeated trips, reset when the circuit closes again.
///
/// The n-th trip in a row (a failed probe reopens the circuit, counting as the next trip) stays
/// Open for `recovery_timeout × multiplier^(n-1)`, spread by `± jitter` (a fraction) so that
/// many clients do not probe a recovering backend in lockstep, and never longer than `max`: at
/// the cap the spread only shortens it.
///
/// ```
/// use trip_breaker::{Backoff, CircuitBreaker};
/// use std::time::Duration;
///
/// let cb = CircuitBreaker::builder("inventory")
///     .recovery_timeout(Duration::from_millis(500))
///     .backoff(Backoff::exponential(2.0, Duration::from_secs(30)).with_jitter(0.1))
///     .build()?;
/// # Ok::<(), trip_breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub(crate) multiplier: f64,
    pub(crate) max: Duration,
    pub(crate) jitter: f64,
}

impl Backoff {
    /// Multiply the open duration by `multiplier` (at least 1) on each trip in a row, up to `max`.
    pub fn exponential(multiplier: f64, max: Duration) -> Self {
        Self {
            multiplier,
            max,
            jitter: 0.0,
        }
    }

    /// Spread each open duration uniformly by `± fraction` of itself (`0 <= fraction < 1`).
    pub fn with_jitter(self, fraction: f64) -> Self {
        Self {
            jitter: fraction,
            ..self
        }
    }

    /// The multiplier applied per trip.
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The longest open duration.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The jitter fraction.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// The open duration of trip number `trips` (1 for the first), given `unit`, a random number
    /// in `[0, 1)`. Pure, so tests pick the random number.
    pub(crate) fn open_duration(&self, base: Duration, trips: u32, unit: f64) -> Duration {
        let exponent = i32::try_from(trips.saturating_sub(1)).unwrap_or(i32::MAX);
        let max = self.max.as_secs_f64();
        let grown = base.as_secs_f64() * self.multiplier.powi(exponent);
        let spread = grown.min(max) * (1.0 + self.jitter * (2.0 * unit - 1.0));
        // `try_from_secs_f64` rather than `from_secs_f64`: an overflowing or NaN figure must
        // fall back to the cap, never panic.
        Duration::try_from_secs_f64(spread.min(max))
            .unwrap_or(self.max)
            .max(Duration::from_nanos(1))
    }
}

#[cfg(test)]
mod tests;
