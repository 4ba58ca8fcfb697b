//! The client stack's settings, resolved from the flags and the profile's defaults.

use std::time::Duration;

use breaker::{
    AdaptiveLimit, AdaptiveThrottle, CircuitBreaker, ConcurrencyLimiter, ConfigError, SlidingWindow,
};
use serde::{Serialize, Serializer};

use crate::flag_value::{Decimal, Percent};
use crate::profile::Profile;

/// The breaker's name, as the article's decorated function is called.
pub const BREAKER_NAME: &str = "call_service_b";

/// Every layer's settings, outermost first; built by
/// [`ClientFlags::resolve`](crate::client_flags::ClientFlags::resolve), which has checked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The profile whose defaults filled the flags not given.
    pub profile: Profile,
    /// The longest a whole call may take, retries and waits included; `None`: no deadline.
    pub call_deadline: Option<Duration>,
    /// Retries.
    pub retry: RetrySettings,
    /// The breaker; `None` with `--no-breaker`.
    pub breaker: Option<BreakerSettings>,
    /// The bulkhead; `None`: no limit on calls in flight.
    pub bulkhead: Option<BulkheadSettings>,
    /// The longest one attempt may take, from connecting to the last byte of the body.
    pub request_timeout: Duration,
    /// The largest body accepted from B.
    pub max_response_bytes: u64,
}

/// How failed attempts are retried. Serialized as in `/breaker`'s `layers.retry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetrySettings {
    /// Attempts in all, the first included; 1 turns retries off.
    pub attempts: u32,
    /// The first backoff's ceiling; each further one doubles it.
    #[serde(rename = "backoff_ms", serialize_with = "as_millis")]
    pub backoff: Duration,
    /// The largest backoff ceiling.
    #[serde(rename = "backoff_max_ms", serialize_with = "as_millis")]
    pub backoff_max: Duration,
    /// Retries allowed as a share of recent calls; `None`: no budget.
    #[serde(rename = "budget_percent")]
    pub budget: Option<Percent>,
}

impl RetrySettings {
    /// Whether any attempt may be retried.
    pub fn is_on(&self) -> bool {
        self.attempts > 1
    }
}

/// The circuit breaker's trip policies and recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open the circuit; `None`: that policy is off.
    pub failure_threshold: Option<u32>,
    /// Failure rate over the window that opens the circuit; `None`: that policy is off.
    pub failure_rate_threshold: Option<Percent>,
    /// Calls at least this long are slow; `None`: no call is slow.
    pub slow_call_threshold: Option<Duration>,
    /// Slow-call rate over the window that opens the circuit, when slow calls are measured.
    pub slow_call_rate_threshold: Option<Percent>,
    /// How far back the rates look.
    pub sliding_window: Duration,
    /// Calls the window must hold before a rate may open the circuit.
    pub minimum_calls: u32,
    /// How long the circuit stays open before a probe may pass.
    pub recovery_timeout: Duration,
    /// Probes that may run at the same time while half-open.
    pub half_open_max_calls: u32,
    /// Client-side adaptive throttling while closed; `None`: off.
    pub throttle: Option<ThrottleSettings>,
}

/// Client-side adaptive throttling (`breaker::AdaptiveThrottle`, whose docs give the formula):
/// while closed, a call is rejected with a probability that makes A send B about K times what B
/// accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// The multiplier K.
    pub k: Decimal,
    /// How far back requests and accepts are counted.
    pub window: Duration,
    /// The highest rejection probability, below 1.
    pub max_rejection: Decimal,
    /// No throttling while the window holds fewer requests.
    pub minimum_requests: u32,
}

/// The throttle's window unless `--throttle-window` says otherwise: go-zero's.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(10);
/// The throttle's highest rejection probability unless `--throttle-max-rejection` says otherwise.
pub const THROTTLE_MAX_REJECTION: Decimal = match Decimal::new(0.9) {
    Some(probability) => probability,
    None => panic!("0.9 is finite"),
};
/// Requests the throttle's window must hold before it rejects, unless
/// `--throttle-minimum-requests` says otherwise.
pub const THROTTLE_MINIMUM_REQUESTS: u32 = 20;

const fn percent(value: u8) -> Option<Percent> {
    match Percent::new(value) {
        Some(percent) => Some(percent),
        None => panic!("a percentage is at most 100"),
    }
}

/// The article's breaker: three failures in a row open it for 10 s, then one probe. The
/// rate settings are those `--failure-rate-threshold` and `--slow-call-threshold` start from.
const ARTICLE_BREAKER: BreakerSettings = BreakerSettings {
    failure_threshold: Some(3),
    failure_rate_threshold: None,
    slow_call_threshold: None,
    slow_call_rate_threshold: percent(50),
    sliding_window: Duration::from_secs(30),
    minimum_calls: 20,
    recovery_timeout: Duration::from_secs(10),
    half_open_max_calls: 1,
    throttle: None,
};

/// How long a call waits for a place in a full bulkhead unless `--bulkhead-wait` says otherwise:
/// not at all.
pub const BULKHEAD_WAIT: Duration = Duration::ZERO;

impl ClientSettings {
    /// The article's `requests.get(..., timeout=3)`, `FAILURE_THRESHOLD = 3` and
    /// `RECOVERY_TIMEOUT = 10`: the breaker alone.
    pub const ARTICLE: Self = Self {
        profile: Profile::Article,
        call_deadline: None,
        retry: RetrySettings {
            attempts: 1,
            backoff: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            budget: percent(20),
        },
        breaker: Some(ARTICLE_BREAKER),
        bulkhead: None,
        request_timeout: Duration::from_secs(3),
        max_response_bytes: 1024 * 1024,
    };

    /// The article's best practices with the thresholds it suggests ("based on SLA"): a rate
    /// over 30 s rather than a run of failures, timeouts shorter than the breaker's, a bulkhead.
    /// Why the attempt timeout is 3 s here too is in [`crate::profile`].
    pub const PRODUCTION: Self = Self {
        profile: Profile::Production,
        call_deadline: Some(Duration::from_secs(5)),
        retry: RetrySettings {
            attempts: 3,
            ..Self::ARTICLE.retry
        },
        breaker: Some(BreakerSettings {
            failure_threshold: None,
            failure_rate_threshold: percent(50),
            slow_call_threshold: Some(Duration::from_secs(1)),
            ..ARTICLE_BREAKER
        }),
        bulkhead: Some(BulkheadSettings {
            max_concurrent: 32,
            wait: BULKHEAD_WAIT,
            adaptive: None,
        }),
        ..Self::ARTICLE
    };

    /// Production's layers with the two that adapt to B's capacity: client-side throttling
    /// while Closed, and a concurrency limit learned from B's latency in place of the fixed 32.
    /// Why K is 1.5 here rather than the SRE book's 2 is in [`crate::profile`].
    pub const ADAPTIVE: Self = Self {
        profile: Profile::Adaptive,
        breaker: match Self::PRODUCTION.breaker {
            Some(breaker) => Some(BreakerSettings {
                throttle: Some(ThrottleSettings {
                    k: match Decimal::new(1.5) {
                        Some(k) => k,
                        None => panic!("1.5 is finite"),
                    },
                    window: THROTTLE_WINDOW,
                    max_rejection: THROTTLE_MAX_REJECTION,
                    minimum_requests: THROTTLE_MINIMUM_REQUESTS,
                }),
                ..breaker
            }),
            None => None,
        },
        bulkhead: Some(BulkheadSettings {
            max_concurrent: ADAPTIVE_MAX_LIMIT,
            wait: BULKHEAD_WAIT,
            adaptive: Some(ADAPTIVE_LIMIT),
        }),
        ..Self::PRODUCTION
    };

    /// The settings `profile` starts from.
    pub const fn of(profile: Profile) -> Self {
        match profile {
            Profile::Article => Self::ARTICLE,
            Profile::Production => Self::PRODUCTION,
            Profile::Adaptive => Self::ADAPTIVE,
        }
    }
}

/// The finest slice of the time window: a rate is judged over between `window - slice` and
/// `window`, and the breaker refuses slices under 10 ms.
const WINDOW_SLICE: Duration = Duration::from_millis(100);
/// The most slices: judging a rate reads every slice of every thread that called.
const MAX_WINDOW_SLICES: u32 = 30;

impl BreakerSettings {
    /// A breaker builder with these settings and the default clock.
    pub fn builder(&self) -> breaker::Builder {
        let mut builder = CircuitBreaker::builder(BREAKER_NAME)
            .recovery_timeout(self.recovery_timeout)
            .half_open_max_calls(self.half_open_max_calls)
            .sliding_window(self.window())
            .minimum_calls(self.minimum_calls);
        builder = match self.failure_threshold {
            Some(failures) => builder.failure_threshold(failures),
            None => builder.without_failure_threshold(),
        };
        if let Some(rate) = self.failure_rate_threshold {
            builder = builder.failure_rate_threshold(rate.as_f64());
        }
        if let Some(threshold) = self.slow_call_threshold {
            builder = builder.slow_call_duration(threshold);
            if let Some(rate) = self.slow_call_rate_threshold {
                builder = builder.slow_call_rate_threshold(rate.as_f64());
            }
        }
        if let Some(throttle) = self.throttle {
            builder = builder.adaptive_throttle(
                AdaptiveThrottle::new()
                    .k(throttle.k.get())
                    .window(throttle.window)
                    .max_rejection(throttle.max_rejection.get())
                    .minimum_requests(throttle.minimum_requests),
            );
        }
        builder
    }

    /// The time window: 30 slices of a second for the default 30 s, fewer for a short window.
    fn window(&self) -> SlidingWindow {
        let slices = self.sliding_window.as_millis() / WINDOW_SLICE.as_millis();
        let slices = u32::try_from(slices)
            .unwrap_or(MAX_WINDOW_SLICES)
            .clamp(1, MAX_WINDOW_SLICES);
        SlidingWindow::time(self.sliding_window, slices)
    }
}

/// How many calls may be in flight to B, and how long the excess waits for a place.
/// Serialized as in `/breaker`'s `layers.bulkhead`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BulkheadSettings {
    /// Calls to B in flight at most: the limit, or with `adaptive` the most the limit may grow to.
    pub max_concurrent: usize,
    /// How long a call waits for a place before it is refused; zero refuses at once.
    #[serde(rename = "wait_ms", serialize_with = "as_millis")]
    pub wait: Duration,
    /// With `--max-concurrent adaptive`: the limit is learned from B's latency, between
    /// `min_limit` and `max_concurrent`; `None`: the limit is `max_concurrent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveLimitSettings>,
}

/// The adaptive limit's lowest and first values (its highest is the bulkhead's
/// `max_concurrent`). Serialized as in `/breaker`'s `layers.bulkhead.adaptive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AdaptiveLimitSettings {
    /// The lowest the limit goes, and the limit while the floor of B's latency is measured
    /// again (every [`ADAPTIVE_FLOOR_INTERVAL`]).
    pub min_limit: u32,
    /// The limit before any call has ended.
    pub initial_limit: u32,
}

/// The adaptive limit's bounds unless flags say otherwise: between 2 and 200 calls, from 20.
///
/// The minimum is at or under the concurrency of a degraded B (service B's `capacity` mode at
/// a quarter of 8), so that the pinned limit while the floor is measured lets B's queue drain,
/// and two calls keep flowing however far the limit falls. 20 and 200 are Netflix's defaults
/// for the first limit and Gradient2's maximum: far above B's concurrency, so the limit, not
/// the maximum, decides.
pub const ADAPTIVE_LIMIT: AdaptiveLimitSettings = AdaptiveLimitSettings {
    min_limit: 2,
    initial_limit: 20,
};

/// The adaptive limit's highest value unless `--adaptive-max-limit` says otherwise (see
/// [`ADAPTIVE_LIMIT`]).
pub const ADAPTIVE_MAX_LIMIT: usize = 200;

/// How often the adaptive limit measures the floor of B's latency again, pinned to its minimum
/// for [`ADAPTIVE_FLOOR_SAMPLES`] calls. Vegas reads every round trip above the floor as calls
/// queued in B; when B's own service time grows (a slowdown, not a queue), a floor measured
/// before it makes the limit settle under what B can serve until the floor is measured again.
/// The library's default, Envoy's 60 s, would outlast a 20 s slowdown (measured in
/// `docs/production.md`, "An adaptive limit"); each re-measurement is a dip of about a second.
pub const ADAPTIVE_FLOOR_INTERVAL: Duration = Duration::from_secs(10);

/// Calls the floor is measured on, each with at most the minimum limit in flight: at a
/// degraded B's 80 ms and 2 at once, 0.4 s.
pub const ADAPTIVE_FLOOR_SAMPLES: u32 = 10;

impl BulkheadSettings {
    /// The adaptive limiter these settings describe; `None` for a fixed limit.
    pub fn adaptive_limiter(&self) -> Option<Result<ConcurrencyLimiter, ConfigError>> {
        let adaptive = self.adaptive?;
        let max_limit = u32::try_from(self.max_concurrent).unwrap_or(u32::MAX);
        Some(
            AdaptiveLimit::vegas()
                .min_limit(adaptive.min_limit)
                .initial_limit(adaptive.initial_limit)
                .max_limit(max_limit)
                .floor_interval(ADAPTIVE_FLOOR_INTERVAL)
                .floor_samples(ADAPTIVE_FLOOR_SAMPLES)
                .build(),
        )
    }
}

/// Whole milliseconds, saturating (durations are at most a day anyway).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn as_millis<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(millis(*duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The production profile's breaker over `window`.
    fn settings(window: Duration) -> BreakerSettings {
        BreakerSettings {
            sliding_window: window,
            ..ClientSettings::PRODUCTION.breaker.expect("a breaker")
        }
    }

    #[test]
    fn the_production_breaker_judges_rates_over_30_one_second_slices() {
        let cb = settings(Duration::from_secs(30))
            .builder()
            .build()
            .expect("valid");
        let config = cb.config();
        assert_eq!(config.failure_threshold(), None);
        assert_eq!(config.failure_rate_threshold(), Some(50.0));
        assert_eq!(config.slow_call_duration(), Some(Duration::from_secs(1)));
        assert_eq!(config.slow_call_rate_threshold(), Some(50.0));
        assert_eq!(
            config.sliding_window(),
            SlidingWindow::time(Duration::from_secs(30), 30)
        );
        assert_eq!(config.minimum_calls(), 20);
    }

    #[test]
    fn a_short_window_has_fewer_slices_the_breaker_accepts() {
        for (window, slices) in [(Duration::from_millis(50), 1), (Duration::from_secs(2), 20)] {
            let cb = settings(window).builder().build().expect("valid");
            assert_eq!(
                cb.config().sliding_window(),
                SlidingWindow::time(window, slices)
            );
        }
    }

    #[test]
    fn without_a_slow_call_threshold_no_call_is_slow() {
        let mut no_slow = settings(Duration::from_secs(30));
        no_slow.slow_call_threshold = None;
        let config = no_slow.builder().build().expect("valid").config();
        assert_eq!(config.slow_call_duration(), None);
        assert_eq!(config.slow_call_rate_threshold(), None);
    }
}
