//! The JSON body of `GET /breaker`: the breaker's [`Snapshot`] in the article's words, with the
//! profile and the settings of every layer around it.

use std::time::{Duration, SystemTime};

use breaker::{CallCounts, SlidingWindow, Snapshot};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::layers_view::LayersView;
use crate::profile::Profile;
use crate::upstream::ServiceB;

/// `GET /breaker`.
///
/// ```json
/// {"name":"call_service_b","state":"open","failure_count":3,
///  "open_until":"2026-11-26 16:56:45.622681+00:00","remaining_seconds":9.5,
///  "calls":{"successful":0,"failed":3,"slow":0,"ignored":0,"rejected":1},
///  "failure_rate":100.0,"window":null,"transitions":1,
///  "last_failure":"500 Internal Server Error for url: ...",
///  "config":{"failure_threshold":3,"recovery_timeout_ms":10000,"request_timeout_ms":3000,
///            "half_open_max_calls":1,"success_threshold":1,"failure_rate_threshold":null,
///            "slow_call_threshold_ms":null,"slow_call_rate_threshold":null,
///            "sliding_window_ms":null,"minimum_calls":null},
///  "profile":"article",
///  "layers":{"deadline":null,"retry":{"attempts":1,...},"bulkhead":null,"attempt":{...}}}
/// ```
///
/// `layers` is described on [`LayersView`].
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
    /// `null` before the first.
    pub failure_rate: Option<f64>,
    /// The sliding window the rate policies judge, when one is on; `null` otherwise.
    pub window: Option<WindowView>,
    /// State changes since start.
    pub transitions: u64,
    /// The last failure's text, as the breaker recorded it.
    pub last_failure: Option<String>,
    /// The breaker's settings, and the request timeout.
    pub config: ConfigView,
    /// `article` or `production`: the defaults the flags not given took.
    pub profile: Profile,
    /// Every layer of the client stack, outermost first.
    pub layers: LayersView,
}

/// Calls by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallsView {
    /// B answered well.
    pub successful: u64,
    /// B failed, timed out, answered too much or could not be reached.
    pub failed: u64,
    /// Calls (successful or failed) over `--slow-call-threshold`.
    pub slow: u64,
    /// Neither: B answered a 4xx other than 408 and 429, or the bulkhead was full.
    pub ignored: u64,
    /// Refused by the breaker without calling B.
    pub rejected: u64,
}

/// The rates the breaker judges now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowView {
    /// Calls in the window.
    pub calls: u32,
    /// Percentage of them that failed; `null` while empty.
    pub failure_rate: Option<f64>,
    /// Percentage of them that were slow; `null` while empty.
    pub slow_call_rate: Option<f64>,
}

impl WindowView {
    /// The snapshot's window, when a rate policy keeps one.
    pub(crate) fn of(snapshot: &Snapshot) -> Option<Self> {
        snapshot.window_calls.map(|calls| WindowView {
            calls,
            failure_rate: snapshot.failure_rate,
            slow_call_rate: snapshot.slow_call_rate,
        })
    }
}

/// The breaker's settings in force.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfigView {
    /// Consecutive failures that open the circuit; `null`: that policy is off.
    pub failure_threshold: Option<u32>,
    /// How long the circuit stays open, in milliseconds.
    pub recovery_timeout_ms: u64,
    /// The per-attempt timeout for calls to B, in milliseconds.
    pub request_timeout_ms: u64,
    /// Probes that may run at the same time while half-open.
    pub half_open_max_calls: u32,
    /// Successful probes that close the circuit.
    pub success_threshold: u32,
    /// Failure percentage over the window that opens the circuit; `null`: off.
    pub failure_rate_threshold: Option<f64>,
    /// Calls at least this long are slow, in milliseconds; `null`: none is.
    pub slow_call_threshold_ms: Option<u64>,
    /// Slow-call percentage over the window that opens the circuit; `null`: off.
    pub slow_call_rate_threshold: Option<f64>,
    /// How far back the rates look, in milliseconds; `null` without a rate policy.
    pub sliding_window_ms: Option<u64>,
    /// Calls the window must hold before a rate may open the circuit; `null` without a rate
    /// policy.
    pub minimum_calls: Option<u32>,
}

impl BreakerView {
    /// The view of `snapshot`, with the layers of `service_b` around the breaker.
    pub fn new(snapshot: &Snapshot, service_b: &ServiceB) -> Self {
        let calls = snapshot.calls;
        let settings = service_b.settings();
        Self {
            name: snapshot.name.clone(),
            state: snapshot.state.as_str(),
            failure_count: snapshot.consecutive_failures,
            open_until: snapshot.open_until.map(python_utc),
            remaining_seconds: remaining_seconds(snapshot),
            calls: CallsView::from(calls),
            failure_rate: failure_rate(calls),
            window: WindowView::of(snapshot),
            transitions: snapshot.transitions,
            last_failure: snapshot.last_failure.clone(),
            config: ConfigView::new(&snapshot.config, settings.request_timeout),
            profile: settings.profile,
            layers: LayersView::new(service_b),
        }
    }
}

impl ConfigView {
    fn new(config: &breaker::Config, request_timeout: Duration) -> Self {
        let rates_on = config.failure_rate_threshold().is_some()
            || config.slow_call_rate_threshold().is_some();
        let window = match config.sliding_window() {
            SlidingWindow::Time { length, .. } => millis(length),
            // A count window is not configured by service A; its size has no duration.
            SlidingWindow::Count { .. } => 0,
        };
        Self {
            failure_threshold: config.failure_threshold(),
            recovery_timeout_ms: millis(config.recovery_timeout()),
            request_timeout_ms: millis(request_timeout),
            half_open_max_calls: config.half_open_max_calls(),
            success_threshold: config.success_threshold(),
            failure_rate_threshold: config.failure_rate_threshold(),
            slow_call_threshold_ms: config.slow_call_duration().map(millis),
            slow_call_rate_threshold: config.slow_call_rate_threshold(),
            sliding_window_ms: rates_on.then_some(window),
            minimum_calls: rates_on.then_some(config.minimum_calls()),
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

/// While open, the seconds until a probe may pass, in whole milliseconds: the clock behind it
/// ticks in milliseconds, and JSON readers should not see float noise such as
/// 1.9199999970000001.
pub(crate) fn remaining_seconds(snapshot: &Snapshot) -> Option<f64> {
    snapshot
        .remaining
        .map(|left| left.as_millis() as f64 / 1000.0)
}

pub(crate) fn failure_rate(calls: CallCounts) -> Option<f64> {
    let counted = calls.successful + calls.failed;
    // Counts far below 2^53 convert to f64 exactly.
    (counted > 0).then(|| 100.0 * calls.failed as f64 / counted as f64)
}

/// Whole milliseconds, saturating (durations are at most a day anyway).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::upstream::Jitter;
    use breaker::{CircuitBreaker, ManualClock};
    use reqwest::Url;
    use serde_json::json;

    /// 2026-11-26 16:56:35.622681 UTC.
    fn origin() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_712_195_622_681)
    }

    /// Service A's client with `args`, its breaker on `clock`.
    fn client(args: &[&str], clock: &ManualClock) -> (ServiceB, CircuitBreaker) {
        let config = Config::try_parse_checked_from(
            std::iter::once("service-a").chain(args.iter().copied()),
        )
        .expect("valid flags");
        let settings = config.client_settings().expect("valid");
        let cb = settings
            .breaker
            .expect("on")
            .builder()
            .clock(clock.clone())
            .build()
            .expect("valid");
        let base = Url::parse("http://127.0.0.1:5001").expect("URL");
        let service_b =
            ServiceB::new(&base, settings, Some(cb.clone()), Jitter::fixed(0.0)).expect("builds");
        (service_b, cb)
    }

    #[test]
    fn the_failure_rate_counts_successes_and_failures_only_and_is_none_without_them() {
        let ignored = CallCounts {
            ignored: 3,
            rejected: 2,
            ..CallCounts::default()
        };
        assert_eq!(failure_rate(ignored), None, "a rate of 0 / 0 is no rate");
        let calls = CallCounts {
            successful: 3,
            failed: 1,
            ..ignored
        };
        assert_eq!(failure_rate(calls), Some(25.0));
    }

    #[test]
    fn times_print_like_the_python_library() {
        assert_eq!(python_utc(origin()), "2026-11-26 16:56:35.622681+00:00");
    }

    #[test]
    fn a_closed_article_breaker_has_no_deadline_no_rate_and_only_its_own_layer() {
        let (service_b, cb) = client(&[], &ManualClock::new());
        let view =
            serde_json::to_value(BreakerView::new(&cb.snapshot(), &service_b)).expect("serializes");
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
                "window": null,
                "transitions": 0,
                "last_failure": null,
                "config": {
                    "failure_threshold": 3,
                    "recovery_timeout_ms": 10000,
                    "request_timeout_ms": 3000,
                    "half_open_max_calls": 1,
                    "success_threshold": 1,
                    "failure_rate_threshold": null,
                    "slow_call_threshold_ms": null,
                    "slow_call_rate_threshold": null,
                    "sliding_window_ms": null,
                    "minimum_calls": null
                },
                "profile": "article",
                "layers": {
                    "deadline": null,
                    "retry": {
                        "attempts": 1, "backoff_ms": 50, "backoff_multiplier": 2,
                        "backoff_max_ms": 1000, "jitter": "full", "budget_percent": 20,
                        "retries": 0, "refused_by_budget": 0, "skipped_for_retry_after": 0
                    },
                    "bulkhead": null,
                    "attempt": {
                        "request_timeout_ms": 3000,
                        "max_response_bytes": 1048576,
                        "follows_redirects": false
                    }
                }
            })
        );
    }

    #[test]
    fn the_production_profile_shows_every_layer_and_the_window() {
        let (service_b, cb) = client(&["--profile", "production"], &ManualClock::new());
        cb.try_acquire().expect("closed").failure("HTTP 503");
        let view =
            serde_json::to_value(BreakerView::new(&cb.snapshot(), &service_b)).expect("serializes");
        assert_eq!(view["profile"], "production");
        assert_eq!(
            view["config"],
            json!({
                "failure_threshold": null,
                "recovery_timeout_ms": 10000,
                "request_timeout_ms": 2000,
                "half_open_max_calls": 1,
                "success_threshold": 1,
                "failure_rate_threshold": 50.0,
                "slow_call_threshold_ms": 1000,
                "slow_call_rate_threshold": 50.0,
                "sliding_window_ms": 30000,
                "minimum_calls": 20
            })
        );
        assert_eq!(
            view["window"],
            json!({"calls": 1, "failure_rate": 100.0, "slow_call_rate": 0.0})
        );
        assert_eq!(
            view["layers"],
            json!({
                "deadline": {"call_deadline_ms": 5000},
                "retry": {
                    "attempts": 3, "backoff_ms": 50, "backoff_multiplier": 2,
                    "backoff_max_ms": 1000, "jitter": "full", "budget_percent": 20,
                    "retries": 0, "refused_by_budget": 0, "skipped_for_retry_after": 0
                },
                "bulkhead": {"max_concurrent": 32, "wait_ms": 0, "in_flight": 0, "rejected": 0},
                "attempt": {
                    "request_timeout_ms": 2000,
                    "max_response_bytes": 1048576,
                    "follows_redirects": false
                }
            })
        );
    }

    #[test]
    fn an_open_breaker_shows_until_when_and_why() {
        let clock = ManualClock::with_wall_origin(origin());
        let (service_b, cb) = client(
            &["--failure-threshold", "1", "--request-timeout", "250ms"],
            &clock,
        );
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").failure("HTTP 500");
        clock.advance(Duration::from_millis(2_500));

        let view = BreakerView::new(&cb.snapshot(), &service_b);
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
