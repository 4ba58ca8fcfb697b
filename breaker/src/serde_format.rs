//! How a [`Snapshot`] and a [`Config`] serialize (feature `serde`): the JSON of service A's
//! `GET /breaker`, in the Python `circuitbreaker` library's words where it has them.
//!
//! A snapshot:
//!
//! ```json
//! {"name":"call_service_b","state":"open","failure_count":3,"probe_successes":0,
//!  "open_until":"2026-11-26 16:56:45.622681+00:00","remaining_seconds":9.5,
//!  "calls":{"successful":0,"failed":3,"slow":0,"ignored":0,"rejected":1},
//!  "failure_rate":100.0,"window":null,"rejection_probability":null,"transitions":1,
//!  "last_failure":"HTTP 500"}
//! ```
//!
//! - `failure_count` is [`Snapshot::consecutive_failures`]; `probe_successes` counts this
//!   HalfOpen episode's successful probes, towards `success_threshold`; `failure_rate` is the
//!   percentage of the calls that counted (successful + failed) since start that failed, `null`
//!   before the first; `window` is the sliding window's calls and rates, `null` without a rate
//!   policy; `rejection_probability` is the adaptive throttle's, 0 to 1, `null` without one.
//! - `open_until` is UTC in the Python library's format; `remaining_seconds` is in whole
//!   milliseconds, so readers see `1.92`, not float noise.
//! - The configuration is not in it: a snapshot is sent often and the configuration never
//!   changes, so [`Config`] serializes on its own:
//!
//! ```json
//! {"failure_threshold":3,"recovery_timeout_ms":10000,"half_open_max_calls":1,
//!  "success_threshold":1,"failure_rate_threshold":null,"slow_call_threshold_ms":null,
//!  "slow_call_rate_threshold":null,"sliding_window_ms":null,"minimum_calls":null,
//!  "adaptive_throttle":null}
//! ```
//!
//! `sliding_window_ms` and `minimum_calls` are `null` where no rate policy reads them; a count
//! window has no length in time and shows `0`. `adaptive_throttle` is
//! `{"k":1.5,"window_ms":10000,"minimum_requests":20,"max_rejection":0.9}` with a throttle.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::{CallCounts, Config, SlidingWindow, Snapshot, State};

#[derive(Serialize)]
struct SnapshotFormat<'a> {
    name: &'a str,
    state: State,
    failure_count: u32,
    probe_successes: u32,
    open_until: Option<String>,
    remaining_seconds: Option<f64>,
    calls: CallCounts,
    failure_rate: Option<f64>,
    window: Option<WindowFormat>,
    rejection_probability: Option<f64>,
    transitions: u64,
    last_failure: Option<&'a str>,
}

#[derive(Serialize)]
struct WindowFormat {
    calls: u32,
    failure_rate: Option<f64>,
    slow_call_rate: Option<f64>,
}

#[derive(Serialize)]
struct ConfigFormat {
    failure_threshold: Option<u32>,
    recovery_timeout_ms: u64,
    half_open_max_calls: u32,
    success_threshold: u32,
    failure_rate_threshold: Option<f64>,
    slow_call_threshold_ms: Option<u64>,
    slow_call_rate_threshold: Option<f64>,
    sliding_window_ms: Option<u64>,
    minimum_calls: Option<u32>,
    adaptive_throttle: Option<ThrottleFormat>,
}

#[derive(Serialize)]
struct ThrottleFormat {
    k: f64,
    window_ms: u64,
    minimum_requests: u32,
    max_rejection: f64,
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SnapshotFormat {
            name: &self.name,
            state: self.state,
            failure_count: self.consecutive_failures,
            probe_successes: self.probe_successes,
            open_until: self.open_until.map(python_utc),
            remaining_seconds: self.remaining.map(|left| millis(left) as f64 / 1000.0),
            calls: self.calls,
            failure_rate: failure_rate(self.calls),
            window: self.window_calls.map(|calls| WindowFormat {
                calls,
                failure_rate: self.failure_rate,
                slow_call_rate: self.slow_call_rate,
            }),
            rejection_probability: self.rejection_probability,
            transitions: self.transitions,
            last_failure: self.last_failure.as_deref(),
        }
        .serialize(serializer)
    }
}

impl Serialize for Config {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rates_on =
            self.failure_rate_threshold.is_some() || self.slow_call_rate_threshold.is_some();
        let window = match self.sliding_window {
            SlidingWindow::Time { length, .. } => millis(length),
            SlidingWindow::Count { .. } => 0,
        };
        ConfigFormat {
            failure_threshold: self.failure_threshold,
            recovery_timeout_ms: millis(self.recovery_timeout),
            half_open_max_calls: self.half_open_max_calls,
            success_threshold: self.success_threshold,
            failure_rate_threshold: self.failure_rate_threshold,
            slow_call_threshold_ms: self.slow_call_duration.map(millis),
            slow_call_rate_threshold: self.slow_call_rate_threshold,
            sliding_window_ms: rates_on.then_some(window),
            minimum_calls: rates_on.then_some(self.minimum_calls),
            adaptive_throttle: self.adaptive_throttle.map(|throttle| ThrottleFormat {
                k: throttle.k,
                window_ms: millis(throttle.window),
                minimum_requests: throttle.minimum_requests,
                max_rejection: throttle.max_rejection,
            }),
        }
        .serialize(serializer)
    }
}

/// `2026-11-26 16:56:45.622681+00:00`, as the Python library prints a time.
fn python_utc(time: SystemTime) -> String {
    DateTime::<Utc>::from(time)
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string()
}

/// The failed share of the calls that counted, in percent; `None` before the first.
fn failure_rate(calls: CallCounts) -> Option<f64> {
    let counted = calls.successful + calls.failed;
    // Counts far below 2^53 convert to f64 exactly.
    (counted > 0).then(|| 100.0 * calls.failed as f64 / counted as f64)
}

/// Whole milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use crate::{CircuitBreaker, ManualClock, SlidingWindow};
    use serde_json::json;
    use std::time::{Duration, SystemTime};

    #[test]
    fn an_open_snapshot_says_until_when_in_the_python_librarys_words() {
        // 2026-11-26 16:56:35.622681 UTC.
        let origin = SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_712_195_622_681);
        let clock = ManualClock::with_wall_origin(origin);
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").failure("HTTP 500");
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_millis(2_500));
        assert_eq!(
            serde_json::to_value(cb.snapshot()).expect("serializes"),
            json!({
                "name": "call_service_b",
                "state": "open",
                "failure_count": 1,
                "probe_successes": 0,
                "open_until": "2026-11-26 16:56:45.622681+00:00",
                "remaining_seconds": 7.5,
                "calls": {"successful": 1, "failed": 1, "slow": 0, "ignored": 0, "rejected": 1},
                "failure_rate": 50.0,
                "window": null,
                "rejection_probability": null,
                "transitions": 1,
                "last_failure": "HTTP 500"
            })
        );
    }

    #[test]
    fn a_half_open_snapshot_counts_the_episodes_successful_probes() {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("b")
            .failure_threshold(1)
            .success_threshold(2)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").failure("HTTP 500");
        clock.advance(Duration::from_secs(10));
        cb.try_acquire().expect("a probe").success();
        let json = serde_json::to_value(cb.snapshot()).expect("serializes");
        assert_eq!(json["state"], "half_open");
        assert_eq!(json["probe_successes"], 1);
    }

    #[test]
    fn a_rate_breaker_shows_its_window_and_the_settings_rates_read() {
        let cb = CircuitBreaker::builder("b")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .slow_call_duration(Duration::from_secs(1))
            .slow_call_rate_threshold(50.0)
            .sliding_window(SlidingWindow::time(Duration::from_secs(30), 30))
            .minimum_calls(20)
            .recovery_timeout(Duration::from_secs(10))
            .clock(ManualClock::new())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").failure("HTTP 503");
        let snapshot = serde_json::to_value(cb.snapshot()).expect("serializes");
        assert_eq!(
            snapshot["window"],
            json!({"calls": 1, "failure_rate": 100.0, "slow_call_rate": 0.0})
        );
        assert_eq!(snapshot["state"], "closed");
        assert_eq!(
            serde_json::to_value(cb.config()).expect("serializes"),
            json!({
                "failure_threshold": null,
                "recovery_timeout_ms": 10000,
                "half_open_max_calls": 1,
                "success_threshold": 1,
                "failure_rate_threshold": 50.0,
                "slow_call_threshold_ms": 1000,
                "slow_call_rate_threshold": 50.0,
                "sliding_window_ms": 30000,
                "minimum_calls": 20,
                "adaptive_throttle": null
            })
        );
    }

    #[test]
    fn a_throttled_breaker_shows_its_rejection_probability_and_settings() {
        let cb = CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(
                crate::AdaptiveThrottle::new()
                    .k(1.5)
                    .minimum_requests(0)
                    .max_rejection(0.5),
            )
            .clock(ManualClock::new())
            .build()
            .expect("valid");
        assert_eq!(
            serde_json::to_value(cb.snapshot()).expect("serializes")["rejection_probability"],
            json!(0.0)
        );
        // Counted as a request whether the throttle admits it or not.
        if let Ok(permit) = cb.try_acquire() {
            permit.failure("HTTP 503");
        }
        assert_eq!(
            serde_json::to_value(cb.snapshot()).expect("serializes")["rejection_probability"],
            json!(0.5)
        );
        assert_eq!(
            serde_json::to_value(cb.config()).expect("serializes")["adaptive_throttle"],
            json!({"k": 1.5, "window_ms": 10000, "minimum_requests": 0, "max_rejection": 0.5})
        );
    }

    #[test]
    fn states_serialize_as_their_lower_case_names() {
        for state in [
            crate::State::Closed,
            crate::State::Open,
            crate::State::HalfOpen,
            crate::State::ForcedOpen,
            crate::State::Disabled,
        ] {
            assert_eq!(
                serde_json::to_value(state).expect("serializes"),
                state.as_str()
            );
        }
    }

    #[test]
    fn a_consecutive_failure_breaker_shows_no_rate_settings_and_no_rate_before_a_counted_call() {
        let cb = CircuitBreaker::builder("b")
            .failure_threshold(3)
            .recovery_timeout(Duration::from_secs(10))
            .build()
            .expect("valid");
        let config = serde_json::to_value(cb.config()).expect("serializes");
        assert_eq!(config["failure_threshold"], 3);
        // A rejection counts as neither success nor failure: 0 of 0 calls is no rate.
        cb.force_open();
        assert!(cb.try_acquire().is_err());
        let snapshot = serde_json::to_value(cb.snapshot()).expect("serializes");
        assert_eq!(snapshot["calls"]["rejected"], 1);
        assert_eq!(snapshot["failure_rate"], json!(null));
        assert_eq!(snapshot["state"], "forced_open");
        assert_eq!(config["sliding_window_ms"], json!(null));
        assert_eq!(config["minimum_calls"], json!(null));
    }

    #[test]
    fn the_failure_rate_is_the_failed_share_of_the_counted_calls_and_none_before_the_first() {
        let calls = |successful, failed| crate::CallCounts {
            successful,
            failed,
            ..crate::CallCounts::default()
        };
        assert_eq!(super::failure_rate(calls(1, 3)), Some(75.0));
        // Not NaN, which serde_json would write as null too, but another format might not.
        assert_eq!(super::failure_rate(calls(0, 0)), None);
    }

    #[test]
    fn either_rate_alone_shows_the_window_and_the_minimum_calls_it_reads() {
        let failure_rate = CircuitBreaker::builder("b").failure_rate_threshold(50.0);
        let slow_call_rate = CircuitBreaker::builder("b")
            .slow_call_duration(Duration::from_secs(1))
            .slow_call_rate_threshold(50.0);
        for builder in [failure_rate, slow_call_rate] {
            let cb = builder
                .sliding_window(SlidingWindow::time(Duration::from_secs(30), 30))
                .minimum_calls(20)
                .build()
                .expect("valid");
            let config = serde_json::to_value(cb.config()).expect("serializes");
            assert_eq!(config["sliding_window_ms"], 30000, "{config}");
            assert_eq!(config["minimum_calls"], 20, "{config}");
        }
    }
}
