//! The JSON of each `/events` event: what [`super`] documents as the contract.

use std::time::SystemTime;

use breaker::{Snapshot, Transition};
use breaker_fleet::FleetStatus;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::upstream::ServiceB;

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
/// after a `lagged` event: the breaker's [`Snapshot`] as it serializes, the same fields as the
/// top of `GET /breaker` ([`BreakerView`](crate::BreakerView)), and the bulkhead's limit and
/// calls in flight now (`null` without a bulkhead); with `--fleet-redis`, `fleet` as in
/// `GET /breaker`.
///
/// ```json
/// {"name":"call_service_b","state":"open","failure_count":3,"probe_successes":0,
///  "open_until":"2026-11-26 16:56:45.622681+00:00","remaining_seconds":1.42,
///  "calls":{"successful":1,"failed":3,"slow":0,"ignored":0,"rejected":5},
///  "failure_rate":75.0,"window":null,"rejection_probability":null,"transitions":1,
///  "last_failure":"500 Internal Server Error for url: http://127.0.0.1:5001/api?fail=true",
///  "bulkhead":{"limit":11,"in_flight":9,"adaptive":true}}
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotEvent {
    /// The breaker's snapshot, its fields at the top level.
    #[serde(flatten)]
    pub breaker: Snapshot,
    /// The bulkhead now; `None` without one.
    pub bulkhead: Option<BulkheadNow>,
    /// With `--fleet-redis`, the fleet as `GET /breaker` shows it; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetStatus>,
}

/// The bulkhead in a snapshot event: what `GET /breaker`'s `layers.bulkhead` says live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BulkheadNow {
    /// The limit now: `max_concurrent`, or the adaptive limit's value.
    pub limit: u64,
    /// Calls in flight now.
    pub in_flight: u64,
    /// Whether the limit is learned (`--max-concurrent adaptive`).
    pub adaptive: bool,
}

impl SnapshotEvent {
    /// `breaker`'s snapshot, with `service_b`'s bulkhead now.
    pub fn new(breaker: Snapshot, service_b: &ServiceB) -> Self {
        let counts = service_b.counts();
        let adaptive = service_b
            .settings()
            .bulkhead
            .is_some_and(|bulkhead| bulkhead.adaptive.is_some());
        let bulkhead =
            counts
                .bulkhead_limit
                .zip(counts.bulkhead_in_flight)
                .map(|(limit, in_flight)| BulkheadNow {
                    limit,
                    in_flight,
                    adaptive,
                });
        Self {
            breaker,
            bulkhead,
            fleet: None,
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
    use breaker::{Reason, State};
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
}
