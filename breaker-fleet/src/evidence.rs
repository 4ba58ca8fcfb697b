//! What this replica publishes, made from its breaker's [`Snapshot`]: its verdict and its
//! recent evidence, with nothing read but the snapshot's counts and state.
//!
//! Pure: it takes the snapshot, the monotonic time and the wall clock's milliseconds as
//! arguments.

use std::time::Duration;

use breaker::{Reason, Snapshot, State};

use crate::view::{PeerState, ProbeReport, View};

/// What the fleet reads of its own breaker at one moment: the few fields of a [`Snapshot`] it
/// decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    /// The state.
    pub state: State,
    /// Why it is Open, while it is.
    pub opened_by: Option<Reason>,
    /// While Open, the time left.
    pub remaining: Option<Duration>,
    /// Consecutive failures, as the breaker counts them.
    pub consecutive_failures: u32,
    /// Failed calls since the breaker was built.
    pub failed_calls: u64,
    /// Calls in the sliding window, when a rate policy keeps one.
    pub window_calls: Option<u32>,
    /// The failure rate over the window, in percent.
    pub failure_rate: Option<f64>,
    /// Probes running now.
    pub probes_in_flight: u32,
}

impl Local {
    /// The fields of `snapshot` the fleet reads.
    pub fn of(snapshot: &Snapshot) -> Self {
        Self {
            state: snapshot.state,
            opened_by: snapshot.opened_by,
            remaining: snapshot.remaining,
            consecutive_failures: snapshot.consecutive_failures,
            failed_calls: snapshot.calls.failed,
            window_calls: snapshot.window_calls,
            failure_rate: snapshot.failure_rate,
            probes_in_flight: snapshot.probes_in_flight,
        }
    }

    /// Open by its own evidence: a trip policy, a failed probe or one that never answered.
    pub fn own_trip(&self) -> bool {
        self.state == State::Open && self.opened_by.is_some_and(is_own_trip)
    }

    /// Open because the fleet opened it: the reason to name when the fleet closes it. (The
    /// breaker gives `opened_by` only while Open.)
    pub(crate) fn fleet_hold(&self) -> Option<Reason> {
        match self.opened_by {
            Some(reason @ Reason::Fleet(_)) => Some(reason),
            _ => None,
        }
    }

    /// Failures in the sliding window, from its calls and rate.
    fn window_failures(&self) -> u32 {
        match (self.window_calls, self.failure_rate) {
            (Some(calls), Some(rate)) => {
                // The rate is failures * 100 / calls: this gives the count back exactly.
                let failures = (f64::from(calls) * rate / 100.0).round();
                (failures as u32).min(calls)
            }
            _ => 0,
        }
    }
}

/// Whether `reason` is the breaker's own evidence that the backend is down.
fn is_own_trip(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::ConsecutiveFailures(_)
            | Reason::FailureRate { .. }
            | Reason::SlowCallRate { .. }
            | Reason::FailuresWithin { .. }
            | Reason::ProbeFailed
            | Reason::ProbeTimedOut(_)
    )
}

/// This replica's record of its own evidence between heartbeats: when it last saw a call fail,
/// and the generation of its last view.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    failed_seen: u64,
    /// Monotonic milliseconds when the failed calls last grew.
    grew_at: Option<u64>,
    generation: u64,
}

impl Evidence {
    /// The view to publish now: `local` at monotonic `now_ms`, wall clock `wall_ms`, with the
    /// failures that came within `window`.
    pub(crate) fn view(
        &mut self,
        id: &str,
        local: &Local,
        probe: Option<ProbeReport>,
        window: Duration,
        now_ms: u64,
        wall_ms: u64,
    ) -> View {
        if local.failed_calls > self.failed_seen {
            self.grew_at = Some(now_ms);
        }
        self.failed_seen = local.failed_calls;
        let count = local.consecutive_failures;
        let recent = self
            .grew_at
            .is_some_and(|at| now_ms.saturating_sub(at) < window.as_millis() as u64);
        self.generation = wall_ms.max(self.generation + 1);
        View {
            id: id.to_owned(),
            generation: self.generation,
            state: PeerState::from(local.state),
            own_trip: local.own_trip(),
            // The breaker gives the time left and the reason only while Open.
            open_ms: local.remaining.map_or(0, |left| {
                u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
            }),
            reason: local
                .opened_by
                .map(|reason| View::cut_reason(&reason.to_string())),
            failures: if recent { count } else { 0 },
            window_calls: local.window_calls.unwrap_or(0),
            window_failures: local.window_failures(),
            probe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::closed;
    use breaker::FleetReason;

    const WINDOW: Duration = Duration::from_secs(10);

    #[test]
    fn failures_count_while_the_last_came_within_the_window() {
        let mut evidence = Evidence::default();
        let failing = Local {
            consecutive_failures: 2,
            failed_calls: 2,
            ..closed()
        };
        assert_eq!(
            evidence
                .view("a", &failing, None, WINDOW, 1_000, 1)
                .failures,
            2
        );
        assert_eq!(
            evidence
                .view("a", &failing, None, WINDOW, 10_999, 2)
                .failures,
            2,
            "9.999 s after it grew"
        );
        assert_eq!(
            evidence
                .view("a", &failing, None, WINDOW, 11_000, 3)
                .failures,
            0,
            "10 s: too old"
        );
        let more = Local {
            consecutive_failures: 3,
            failed_calls: 3,
            ..closed()
        };
        assert_eq!(
            evidence.view("a", &more, None, WINDOW, 12_000, 4).failures,
            3
        );
        assert_eq!(
            evidence
                .view("a", &closed(), None, WINDOW, 12_001, 5)
                .failures,
            0
        );
        // A success and a new failure between two heartbeats: the count fell, yet a call failed.
        let again = Local {
            consecutive_failures: 1,
            failed_calls: 4,
            ..closed()
        };
        assert_eq!(
            evidence.view("a", &again, None, WINDOW, 30_000, 6).failures,
            1
        );
    }

    #[test]
    fn the_generation_follows_the_wall_clock_and_always_grows() {
        let mut evidence = Evidence::default();
        assert_eq!(
            evidence
                .view("a", &closed(), None, WINDOW, 0, 500)
                .generation,
            500
        );
        assert_eq!(
            evidence
                .view("a", &closed(), None, WINDOW, 0, 400)
                .generation,
            501
        );
        assert_eq!(
            evidence
                .view("a", &closed(), None, WINDOW, 0, 900)
                .generation,
            900
        );
    }

    #[test]
    fn an_open_breaker_publishes_its_time_left_and_whether_its_own_evidence_opened_it() {
        let mut evidence = Evidence::default();
        let own = Local {
            state: State::Open,
            opened_by: Some(Reason::ConsecutiveFailures(3)),
            remaining: Some(Duration::from_millis(8_400)),
            consecutive_failures: 3,
            ..closed()
        };
        let view = evidence.view("a", &own, None, WINDOW, 0, 1);
        assert_eq!(view.state, PeerState::Open);
        assert!(view.own_trip);
        assert_eq!(view.open_ms, 8_400);
        assert_eq!(view.reason.as_deref(), Some("3 consecutive failures"));
        let held = Local {
            opened_by: Some(Reason::Fleet(FleetReason::ProbeElsewhere)),
            ..own.clone()
        };
        assert!(!evidence.view("a", &held, None, WINDOW, 0, 2).own_trip);
        assert_eq!(
            held.fleet_hold(),
            Some(Reason::Fleet(FleetReason::ProbeElsewhere))
        );
        let forced = Local {
            opened_by: Some(Reason::ForcedOpenFor(Duration::from_secs(1))),
            ..own
        };
        assert!(!forced.own_trip());
        assert_eq!(forced.fleet_hold(), None);
    }

    #[test]
    fn the_windows_failures_come_back_from_its_calls_and_rate() {
        let mut evidence = Evidence::default();
        let window = Local {
            window_calls: Some(8),
            failure_rate: Some(62.5),
            ..closed()
        };
        let view = evidence.view("a", &window, None, WINDOW, 0, 1);
        assert_eq!((view.window_calls, view.window_failures), (8, 5));
        let third = Local {
            window_calls: Some(3),
            failure_rate: Some(100.0 / 3.0),
            ..closed()
        };
        assert_eq!(third.window_failures(), 1);
        assert_eq!(closed().window_failures(), 0);
    }
}
