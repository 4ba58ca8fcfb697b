//! How long the circuit stays Open: `recovery_timeout`, optionally growing on repeated trips.

use std::time::Duration;

/// Growth of the open duration on repeated trips, reset when the circuit closes again.
///
/// The n-th trip in a row (a failed probe reopens the circuit, counting as the next trip) stays
/// Open for `recovery_timeout × multiplier^(n-1)`, capped at `max`, then spread by `± jitter`
/// (a fraction) so that many clients do not probe a recovering backend in lockstep.
///
/// ```
/// use breaker::{Backoff, CircuitBreaker};
/// use std::time::Duration;
///
/// let cb = CircuitBreaker::builder("inventory")
///     .recovery_timeout(Duration::from_millis(500))
///     .backoff(Backoff::exponential(2.0, Duration::from_secs(30)).with_jitter(0.1))
///     .build()?;
/// # Ok::<(), breaker::ConfigError>(())
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
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn open_duration_grows_by_the_multiplier_on_each_trip_up_to_the_cap() {
        let backoff = Backoff::exponential(2.0, Duration::from_secs(5));
        let durations: Vec<_> = (1..=5)
            .map(|trip| backoff.open_duration(SECOND, trip, 0.5))
            .collect();
        assert_eq!(
            durations,
            [1, 2, 4, 5, 5].map(Duration::from_secs).to_vec(),
            "1 s, doubled per trip, capped at 5 s"
        );
    }

    #[test]
    fn sub_second_open_durations_are_allowed() {
        let backoff = Backoff::exponential(1.5, Duration::from_millis(900));
        let first = backoff.open_duration(Duration::from_millis(200), 1, 0.5);
        let second = backoff.open_duration(Duration::from_millis(200), 2, 0.5);
        assert_eq!(first, Duration::from_millis(200));
        assert!((second.as_secs_f64() - 0.3).abs() < 1e-9);
    }

    #[test]
    fn jitter_spreads_within_the_fraction_and_never_beyond_the_cap() {
        let backoff = Backoff::exponential(1.0, Duration::from_secs(10)).with_jitter(0.2);
        let low = backoff.open_duration(Duration::from_secs(10), 1, 0.0);
        let high = backoff.open_duration(Duration::from_secs(10), 1, 0.999_999);
        assert_eq!(low, Duration::from_secs(8));
        assert_eq!(high, Duration::from_secs(10), "capped at max");
        let middle = backoff.open_duration(Duration::from_secs(5), 1, 0.25);
        assert_eq!(middle, Duration::from_millis(4500));
    }

    #[test]
    fn an_enormous_trip_count_saturates_at_the_cap() {
        let backoff = Backoff::exponential(10.0, Duration::from_secs(60));
        assert_eq!(
            backoff.open_duration(SECOND, u32::MAX, 0.5),
            Duration::from_secs(60)
        );
    }
}
