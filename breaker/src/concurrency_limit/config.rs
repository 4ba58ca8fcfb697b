//! [`AdaptiveLimit`]: the adaptive limit's settings, with their defaults, checked once by
//! [`AdaptiveLimit::build`].

use std::sync::Arc;
use std::time::Duration;

use super::limiter::ConcurrencyLimiter;
use super::vegas::Bounds;
use crate::clock::{Clock, ClockSource, MonotonicClock};
use crate::error::ConfigError;

/// The most calls a limit may allow at once; far above any backend's concurrency, and small
/// enough that the estimate's arithmetic stays exact.
const MAX_LIMIT: u32 = 1_000_000;

/// The settings of an adaptive concurrency limit; [`AdaptiveLimit::build`] checks them and
/// makes the [`ConcurrencyLimiter`].
///
/// | setting | default | what it is |
/// |---|---|---|
/// | `min_limit` | 1 | the limit never goes lower; also the limit while the floor is measured again |
/// | `max_limit` | 1000 | the limit never goes higher (Netflix's default) |
/// | `initial_limit` | 20 | the limit before any call has ended (Netflix's default) |
/// | `floor_interval` | 60 s | how often the floor (the round trip of a call that did not queue) is measured again (Envoy's default) |
/// | `floor_samples` | 20 | calls with at most `min_limit` in flight that measure it |
/// | `clock` | [`MonotonicClock`] | what times the calls |
#[derive(Debug, Clone)]
#[must_use = "an AdaptiveLimit does nothing until `build` makes the limiter"]
pub struct AdaptiveLimit {
    min_limit: u32,
    max_limit: u32,
    initial_limit: u32,
    floor_interval: Duration,
    floor_samples: u32,
    clock: ClockSource,
}

impl AdaptiveLimit {
    /// Vegas, as Netflix's concurrency-limits has it (the module docs say why this one), with
    /// the defaults in the table above.
    pub fn vegas() -> Self {
        Self {
            min_limit: 1,
            max_limit: 1000,
            initial_limit: 20,
            floor_interval: Duration::from_secs(60),
            floor_samples: 20,
            clock: ClockSource::Monotonic(MonotonicClock::new()),
        }
    }

    /// The lowest the limit goes, and the limit while the floor is measured again.
    pub fn min_limit(mut self, min_limit: u32) -> Self {
        self.min_limit = min_limit;
        self
    }

    /// The highest the limit goes.
    pub fn max_limit(mut self, max_limit: u32) -> Self {
        self.max_limit = max_limit;
        self
    }

    /// The limit before any call has ended.
    pub fn initial_limit(mut self, initial_limit: u32) -> Self {
        self.initial_limit = initial_limit;
        self
    }

    /// How often the floor is measured again, so that a backend that got slower for good is
    /// not taken for a queue forever.
    pub fn floor_interval(mut self, floor_interval: Duration) -> Self {
        self.floor_interval = floor_interval;
        self
    }

    /// How many calls, each started with at most `min_limit` in flight, measure the floor.
    pub fn floor_samples(mut self, floor_samples: u32) -> Self {
        self.floor_samples = floor_samples;
        self
    }

    /// The clock that times each call; [`ManualClock`](crate::ManualClock) in tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = ClockSource::Other(Arc::new(clock));
        self
    }

    /// The limiter, or the first setting that cannot work.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the field: a limit of 0 or above 1,000,000, a `max_limit` below
    /// `min_limit`, an `initial_limit` outside them, a zero `floor_interval` or `floor_samples`.
    pub fn build(self) -> Result<ConcurrencyLimiter, ConfigError> {
        let bounds = self.validate()?;
        Ok(ConcurrencyLimiter::new(
            bounds,
            self.initial_limit,
            self.clock,
        ))
    }

    fn validate(&self) -> Result<Bounds, ConfigError> {
        for (field, value) in [
            ("min_limit", self.min_limit),
            ("max_limit", self.max_limit),
            ("initial_limit", self.initial_limit),
        ] {
            if !(1..=MAX_LIMIT).contains(&value) {
                return Err(ConfigError::new(
                    field,
                    format!("must be between 1 and {MAX_LIMIT} (got {value})"),
                ));
            }
        }
        if self.max_limit < self.min_limit {
            return Err(ConfigError::new(
                "max_limit",
                format!(
                    "must be at least min_limit {} (got {})",
                    self.min_limit, self.max_limit
                ),
            ));
        }
        if !(self.min_limit..=self.max_limit).contains(&self.initial_limit) {
            return Err(ConfigError::new(
                "initial_limit",
                format!(
                    "must be between min_limit {} and max_limit {} (got {})",
                    self.min_limit, self.max_limit, self.initial_limit
                ),
            ));
        }
        if self.floor_interval.is_zero() {
            return Err(ConfigError::new(
                "floor_interval",
                "must be longer than zero",
            ));
        }
        if self.floor_samples == 0 {
            return Err(ConfigError::new(
                "floor_samples",
                "must be at least 1 (got 0)",
            ));
        }
        Ok(Bounds {
            min_limit: self.min_limit,
            max_limit: self.max_limit,
            floor_interval: self.floor_interval,
            floor_samples: self.floor_samples,
        })
    }
}

impl Default for AdaptiveLimit {
    fn default() -> Self {
        Self::vegas()
    }
}
