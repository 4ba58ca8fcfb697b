//! The settings of a breaker, their defaults, and their validation.

use crate::{Backoff, ConfigError};
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
/// | `failure_threshold` | 5 | consecutive failures that open the circuit (`None`: rates only) |
/// | `recovery_timeout` | 30 s | how long the circuit stays Open before a probe may pass |
/// | `backoff` | none | growth of the open duration on repeated trips |
/// | `half_open_max_calls` | 1 | probes that may run at the same time while HalfOpen |
/// | `success_threshold` | 1 | successful probes that close the circuit |
/// | `failure_rate_threshold` | none | failure percentage over the window that opens it |
/// | `slow_call_duration` | none | calls at least this long count as slow |
/// | `slow_call_rate_threshold` | none | slow-call percentage over the window that opens it |
/// | `sliding_window` | last 100 calls | the window both rates are computed over |
/// | `minimum_calls` | 10 | calls the window must hold before a rate may trip |
///
/// The defaults of the first two are those of the Python `circuitbreaker` library.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) failure_threshold: Option<u32>,
    pub(crate) recovery_timeout: Duration,
    pub(crate) backoff: Option<Backoff>,
    pub(crate) half_open_max_calls: u32,
    pub(crate) success_threshold: u32,
    pub(crate) failure_rate_threshold: Option<f64>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) slow_call_rate_threshold: Option<f64>,
    pub(crate) sliding_window: SlidingWindow,
    pub(crate) minimum_calls: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            failure_threshold: Some(5),
            recovery_timeout: Duration::from_secs(30),
            backoff: None,
            half_open_max_calls: 1,
            success_threshold: 1,
            failure_rate_threshold: None,
            slow_call_duration: None,
            slow_call_rate_threshold: None,
            sliding_window: SlidingWindow::count(100),
            minimum_calls: 10,
        }
    }
}

impl Config {
    /// Consecutive failures that open the circuit, if that policy is on.
    pub fn failure_threshold(&self) -> Option<u32> {
        self.failure_threshold
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

    /// Whether outcomes have to be recorded in a sliding window.
    pub(crate) fn uses_window(&self) -> bool {
        self.failure_rate_threshold.is_some() || self.slow_call_rate_threshold.is_some()
    }

    /// Checks every setting once, so the state machine never meets a value it cannot handle.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(threshold) = self.failure_threshold {
            at_least_one("failure_threshold", threshold)?;
        }
        if self.failure_threshold.is_none() && !self.uses_window() {
            return Err(ConfigError::new(
                "failure_threshold",
                "no trip policy left: keep the consecutive-failure threshold or set \
                 failure_rate_threshold or slow_call_rate_threshold",
            ));
        }
        non_zero("recovery_timeout", self.recovery_timeout)?;
        at_least_one("half_open_max_calls", self.half_open_max_calls)?;
        at_least_one("success_threshold", self.success_threshold)?;
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

/// The largest count window: one byte per call, so 1 MB at most.
const MAX_COUNT_WINDOW: u32 = 1_000_000;
/// The most buckets a time window may have. Recording is O(1) whatever this is; judging a
/// failure reads `threads × buckets`, and each thread keeps its own buckets.
const MAX_BUCKETS: u32 = 100;
/// The narrowest bucket: the default clock's resolution is a kernel tick of 1 to 4 ms.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(config: Config) -> &'static str {
        config.validate().expect_err("invalid").field()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn every_invalid_value_names_its_field() {
        let base = Config::default;
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    failure_threshold: Some(0),
                    ..base()
                },
                "failure_threshold",
            ),
            (
                Config {
                    failure_threshold: None,
                    ..base()
                },
                "failure_threshold",
            ),
            (
                Config {
                    recovery_timeout: Duration::ZERO,
                    ..base()
                },
                "recovery_timeout",
            ),
            (
                Config {
                    half_open_max_calls: 0,
                    ..base()
                },
                "half_open_max_calls",
            ),
            (
                Config {
                    success_threshold: 0,
                    ..base()
                },
                "success_threshold",
            ),
            (
                Config {
                    failure_rate_threshold: Some(0.0),
                    ..base()
                },
                "failure_rate_threshold",
            ),
            (
                Config {
                    failure_rate_threshold: Some(100.5),
                    ..base()
                },
                "failure_rate_threshold",
            ),
            (
                Config {
                    failure_rate_threshold: Some(f64::NAN),
                    ..base()
                },
                "failure_rate_threshold",
            ),
            (
                Config {
                    slow_call_rate_threshold: Some(50.0),
                    ..base()
                },
                "slow_call_duration",
            ),
            (
                Config {
                    slow_call_duration: Some(Duration::ZERO),
                    ..base()
                },
                "slow_call_duration",
            ),
            (
                Config {
                    minimum_calls: 0,
                    ..base()
                },
                "minimum_calls",
            ),
            (
                Config {
                    minimum_calls: 101,
                    ..base()
                },
                "minimum_calls",
            ),
            (
                Config {
                    sliding_window: SlidingWindow::count(0),
                    ..base()
                },
                "sliding_window",
            ),
            (
                Config {
                    sliding_window: SlidingWindow::time(Duration::ZERO, 10),
                    ..base()
                },
                "sliding_window",
            ),
            (
                Config {
                    sliding_window: SlidingWindow::time(Duration::from_secs(1), 0),
                    ..base()
                },
                "sliding_window",
            ),
            (
                Config {
                    backoff: Some(Backoff::exponential(0.5, Duration::from_secs(60))),
                    ..base()
                },
                "backoff.multiplier",
            ),
            (
                Config {
                    backoff: Some(Backoff::exponential(2.0, Duration::from_secs(1))),
                    ..base()
                },
                "backoff.max",
            ),
            (
                Config {
                    backoff: Some(
                        Backoff::exponential(2.0, Duration::from_secs(60)).with_jitter(1.0),
                    ),
                    ..base()
                },
                "backoff.jitter",
            ),
        ];
        for (config, field) in cases {
            assert_eq!(field_of(config.clone()), field, "{config:?}");
        }
    }

    #[test]
    fn the_error_message_names_the_field_and_the_reason() {
        let config = Config {
            failure_threshold: Some(0),
            ..Config::default()
        };
        assert_eq!(
            config.validate().expect_err("invalid").to_string(),
            "invalid circuit breaker setting `failure_threshold`: must be at least 1 (got 0)"
        );
    }

    #[test]
    fn rates_alone_are_a_valid_trip_policy() {
        let config = Config {
            failure_threshold: None,
            failure_rate_threshold: Some(50.0),
            ..Config::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }
}
