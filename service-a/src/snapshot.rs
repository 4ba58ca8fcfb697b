//! The JSON body of `GET /breaker`: the breaker's [`Snapshot`] in the article's words.

use std::time::{Duration, SystemTime};

use breaker::{CallCounts, Snapshot};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// `GET /breaker`.
///
/// ```json
/// {"name":"call_service_b","state":"open","failure_count":3,
///  "open_until":"2026-11-26 16:56:45.622681+00:00","remaining_seconds":9.5,
///  "calls":{"successful":0,"failed":3,"slow":0,"ignored":0,"rejected":1},
///  "failure_rate":100.0,"transitions":1,"last_failure":"500 Internal Server Error for url: ...",
///  "config":{"failure_threshold":3,"recovery_timeout_ms":10000,"request_timeout_ms":3000,
///            "half_open_max_calls":1,"success_threshold":1}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerView {
    /// The breaker's name, `call_service_b`.
    pub name: String,
    /// `closed`, `open`, `half_open`, `forced_open` or `disabled`.
    pub state: &'static str,
    /// Consecutive failures, counted as the Python library does (a failed probe adds one).
    pub failure_count: u32,
    /// While open: when a probe may pass, in the Python library's UTC format.
    pub open_until: Option<String>,
    /// While open: seconds until then.
    pub remaining_seconds: Option<f64>,
    /// Calls by outcome since start.
    pub calls: CallsView,
    /// Percentage of the calls that counted (successful + failed) that failed, since start;
    /// `null` before the first. (The breaker's own windowed rate exists only with a rate
    /// policy, which this service does not configure.)
    pub failure_rate: Option<f64>,
    /// State changes since start.
    pub transitions: u64,
    /// The last failure's text, as the breaker recorded it.
    pub last_failure: Option<String>,
    /// The settings in force.
    pub config: ConfigView,
}

/// Calls by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallsView {
    /// B answered well.
    pub successful: u64,
    /// B failed, timed out or could not be reached.
    pub failed: u64,
    /// Calls over the breaker's slow-call duration (none is configured here, so 0).
    pub slow: u64,
    /// B answered 4xx: the request's fault, not B's.
    pub ignored: u64,
    /// Refused by the breaker without calling B.
    pub rejected: u64,
}

/// The settings in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConfigView {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: Option<u32>,
    /// How long the circuit stays open, in milliseconds.
    pub recovery_timeout_ms: u64,
    /// The request timeout for calls to B, in milliseconds.
    pub request_timeout_ms: u64,
    /// Probes that may run at the same time while half-open.
    pub half_open_max_calls: u32,
    /// Successful probes that close the circuit.
    pub success_threshold: u32,
}

impl BreakerView {
    /// The view of `snapshot`, with the request timeout the breaker does not know about.
    pub fn new(snapshot: &Snapshot, request_timeout: Duration) -> Self {
        let calls = snapshot.calls;
        Self {
            name: snapshot.name.clone(),
            state: snapshot.state.as_str(),
            failure_count: snapshot.consecutive_failures,
            open_until: snapshot.open_until.map(python_utc),
            // Whole milliseconds: the clock behind it ticks in milliseconds, and JSON readers
            // should not see float noise such as 1.9199999970000001.
            remaining_seconds: snapshot
                .remaining
                .map(|left| left.as_millis() as f64 / 1000.0),
            calls: CallsView::from(calls),
            failure_rate: failure_rate(calls),
            transitions: snapshot.transitions,
            last_failure: snapshot.last_failure.clone(),
            config: ConfigView {
                failure_threshold: snapshot.config.failure_threshold(),
                recovery_timeout_ms: millis(snapshot.config.recovery_timeout()),
                request_timeout_ms: millis(request_timeout),
                half_open_max_calls: snapshot.config.half_open_max_calls(),
                success_threshold: snapshot.config.success_threshold(),
            },
        }
    }
}

impl From<CallCounts> for CallsView {
    fn from(calls: CallCounts) -> Self {
        Self {
            successful: calls.successful,
            failed: calls.failed,
            slow: calls.slow,
            ignored: calls.ignored,
            rejected: calls.rejected,
        }
    }
}

/// A wall-clock time as the Python `circuitbreaker` library prints it:
/// `2026-11-26 16:56:45.622681+00:00`.
pub fn python_utc(time: SystemTime) -> String {
    DateTime::<Utc>::from(time)
        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
        .to_string()
}

fn failure_rate(calls: CallCounts) -> Option<f64> {
    let counted = calls.successful + calls.failed;
    // Counts far below 2^53 convert to f64 exactly.
    (counted > 0).then(|| 100.0 * calls.failed as f64 / counted as f64)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::{CircuitBreaker, ManualClock};
    use serde_json::json;

    /// 2026-11-26 16:56:35.622681 UTC.
    fn origin() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_712_195_622_681)
    }

    #[test]
    fn times_print_like_the_python_library() {
        assert_eq!(python_utc(origin()), "2026-11-26 16:56:35.622681+00:00");
    }

    #[test]
    fn a_closed_breaker_has_no_deadline_and_no_rate_before_calls() {
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(3)
            .build()
            .expect("valid");
        let view = serde_json::to_value(BreakerView::new(&cb.snapshot(), Duration::from_secs(3)))
            .expect("serializes");
        assert_eq!(
            view,
            json!({
                "name": "call_service_b",
                "state": "closed",
                "failure_count": 0,
                "open_until": null,
                "remaining_seconds": null,
                "calls": {"successful": 0, "failed": 0, "slow": 0, "ignored": 0, "rejected": 0},
                "failure_rate": null,
                "transitions": 0,
                "last_failure": null,
                "config": {
                    "failure_threshold": 3,
                    "recovery_timeout_ms": 30000,
                    "request_timeout_ms": 3000,
                    "half_open_max_calls": 1,
                    "success_threshold": 1
                }
            })
        );
    }

    #[test]
    fn an_open_breaker_shows_until_when_and_why() {
        let clock = ManualClock::with_wall_origin(origin());
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").failure("HTTP 500");
        clock.advance(Duration::from_millis(2_500));

        let view = BreakerView::new(&cb.snapshot(), Duration::from_millis(250));
        assert_eq!(view.state, "open");
        assert_eq!(view.failure_count, 1);
        assert_eq!(
            view.open_until.as_deref(),
            Some("2026-11-26 16:56:45.622681+00:00")
        );
        assert_eq!(view.remaining_seconds, Some(7.5));
        assert_eq!(view.failure_rate, Some(50.0));
        assert_eq!(view.transitions, 1);
        assert_eq!(view.last_failure.as_deref(), Some("HTTP 500"));
        assert_eq!(view.config.request_timeout_ms, 250);
    }
}
