//! The JSON of each `/events` event: what [`super`] documents as the contract.

use std::time::SystemTime;

use breaker::{Snapshot, Transition};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::snapshot::{CallsView, WindowView, failure_rate, remaining_seconds};

/// `event: transition`: one change of state.
///
/// ```json
/// {"from":"closed","to":"open","reason":"3 consecutive failures","at":"2026-11-26T16:56:35.622Z"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionEvent {
    /// The state before, as [`State::as_str`](breaker::State::as_str) names it.
    pub from: &'static str,
    /// The state after.
    pub to: &'static str,
    /// Why, in the breaker's words ([`Reason`](breaker::Reason)'s `Display`).
    pub reason: String,
    /// When service A saw it, RFC 3339 in UTC with milliseconds.
    pub at: String,
}

impl TransitionEvent {
    /// `transition`, seen now.
    pub fn new(transition: &Transition) -> Self {
        Self::at(transition, SystemTime::now())
    }

    /// `transition`, seen at `time`.
    pub fn at(transition: &Transition, time: SystemTime) -> Self {
        Self {
            from: transition.from.as_str(),
            to: transition.to.as_str(),
            reason: transition.reason.to_string(),
            at: DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

/// `event: snapshot`: where the breaker stands, sent when a stream opens, every second, and
/// after a `lagged` event.
///
/// ```json
/// {"state":"open","failure_count":3,"remaining_seconds":1.42,
///  "calls":{"successful":1,"failed":3,"slow":0,"ignored":0,"rejected":5},
///  "failure_rate":75.0,"window":null,"transitions":1,
///  "last_failure":"500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true"}
/// ```
///
/// The fields mean what they mean in `GET /breaker` ([`BreakerView`](crate::BreakerView)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotEvent {
    /// `closed`, `open`, `half_open`, `forced_open` or `disabled`.
    pub state: &'static str,
    /// Consecutive failures.
    pub failure_count: u32,
    /// While open: seconds until a probe may pass; `null` otherwise (forced open included).
    pub remaining_seconds: Option<f64>,
    /// Calls by outcome since start.
    pub calls: CallsView,
    /// Percentage of the counted calls that failed, since start; `null` before the first.
    pub failure_rate: Option<f64>,
    /// The rate policies' sliding window; `null` when none is on.
    pub window: Option<WindowView>,
    /// State changes since start.
    pub transitions: u64,
    /// The last failure's text.
    pub last_failure: Option<String>,
}

impl From<&Snapshot> for SnapshotEvent {
    fn from(snapshot: &Snapshot) -> Self {
        let calls = snapshot.calls;
        Self {
            state: snapshot.state.as_str(),
            failure_count: snapshot.consecutive_failures,
            remaining_seconds: remaining_seconds(snapshot),
            calls: CallsView::from(calls),
            failure_rate: failure_rate(calls),
            window: WindowView::of(snapshot),
            transitions: snapshot.transitions,
            last_failure: snapshot.last_failure.clone(),
        }
    }
}

/// `event: lagged`: this stream was too slow and skipped `missed` transitions; a snapshot
/// follows.
///
/// ```json
/// {"missed":12}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LaggedEvent {
    /// Transitions skipped.
    pub missed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::{CircuitBreaker, ManualClock, Reason, State};
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn a_transition_uses_the_breakers_names_and_words() {
        let transition = Transition {
            from: State::HalfOpen,
            to: State::Closed,
            reason: Reason::ProbesSucceeded(1),
        };
        let time = SystemTime::UNIX_EPOCH + Duration::from_micros(1_795_712_195_622_681);
        assert_eq!(
            serde_json::to_value(TransitionEvent::at(&transition, time)).expect("serializes"),
            json!({
                "from": "half_open",
                "to": "closed",
                "reason": "half-open probe succeeded",
                "at": "2026-11-26T16:56:35.622Z"
            })
        );
    }

    #[test]
    fn a_snapshot_of_an_open_breaker_counts_down() {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(2))
            .clock(clock.clone())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").failure("HTTP 500");
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_millis(500));

        assert_eq!(
            serde_json::to_value(SnapshotEvent::from(&cb.snapshot())).expect("serializes"),
            json!({
                "state": "open",
                "failure_count": 1,
                "remaining_seconds": 1.5,
                "calls": {"successful": 1, "failed": 1, "slow": 0, "ignored": 0, "rejected": 1},
                "failure_rate": 50.0,
                "window": null,
                "transitions": 1,
                "last_failure": "HTTP 500"
            })
        );
    }
}
