//! One probe per fleet per recovery period: the lease, and what the replicas do with its
//! holder's result. Pure: every step takes the time and the breaker's state as arguments.
//!
//! Shortly before its open period ends (`lead` before: the time one Redis operation may take,
//! twice), an Open replica asks for the lease (`SET key value NX PX`):
//!
//! * **won**: its breaker goes HalfOpen on its own and lets its probe through; when the probe
//!   ends (a transition out of HalfOpen) the replica publishes the result at once, with the
//!   lease's token, and releases the lease (compare-and-delete);
//! * **lost**: it stays Open ([`FleetReason::ProbeElsewhere`]) for as long as the lease has
//!   left, and a heartbeat more to read the result; then it asks again, so a holder that died
//!   is replaced when its lease runs out;
//! * **no answer** (Redis slow or gone): nothing; the breaker probes on its own, as without
//!   a fleet.
//!
//! A result newer than any acted on (by its token, Redis's clock when the lease was taken) and
//! fresh (taken within a lease's time) moves the others: a success closes a replica the fleet
//! holds Open ([`FleetReason::ProbeSucceeded`]); a failure keeps every Open replica Open for
//! another recovery period ([`FleetReason::ProbeFailed`]). A stale or replayed result moves no
//! one.

use std::time::Duration;

use breaker::{FleetReason, Reason, State, Transition};

use crate::evidence::Local;
use crate::view::{ProbeReport, View};

/// What the lease's `SET NX` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAnswer {
    /// This replica holds the lease; `value` releases it.
    Won {
        /// The lease's token: Redis's clock, in microseconds, when it was taken.
        token: u64,
        /// The value stored under the lease's key, `TOKEN:ID`.
        value: String,
    },
    /// Another replica holds it, for `left` more.
    Lost {
        /// Its holder's id.
        holder: String,
        /// How long the lease has left.
        left: Duration,
    },
}

/// What the fleet asks of this replica's breaker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// [`CircuitBreaker::open_for`](breaker::CircuitBreaker::open_for).
    Open {
        /// For how long.
        lasting: Duration,
        /// Why.
        reason: Reason,
    },
    /// [`CircuitBreaker::close_if_opened_by`](breaker::CircuitBreaker::close_if_opened_by),
    /// with [`FleetReason::ProbeSucceeded`].
    Close {
        /// The fleet's reason the breaker must still be Open for.
        opened_by: Reason,
    },
}

/// A lease this replica holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held {
    token: u64,
    /// What releases it: the value stored under the lease's key.
    pub(crate) value: String,
    /// Monotonic milliseconds when it runs out.
    expires_at: u64,
}

/// This replica's side of the lease.
#[derive(Debug)]
pub(crate) struct ProbeDesk {
    /// Asked this long before the open period ends.
    lead: Duration,
    /// How long a lease lasts from the moment it is asked for.
    lease: Duration,
    heartbeat: Duration,
    held: Option<Held>,
    /// The newest result acted on.
    acted: u64,
    /// The result of this replica's last probe for the fleet, published in its views.
    report: Option<ProbeReport>,
}

impl ProbeDesk {
    pub(crate) fn new(lead: Duration, probe_lease: Duration, heartbeat: Duration) -> Self {
        Self {
            lead,
            lease: lead + probe_lease,
            heartbeat,
            held: None,
            acted: 0,
            report: None,
        }
    }

    /// The lease's time to live, asked with `SET NX PX`.
    pub(crate) fn lease_ttl(&self) -> Duration {
        self.lease
    }

    /// The result to publish.
    pub(crate) fn report(&self) -> Option<ProbeReport> {
        self.report
    }

    /// The lease held now, at monotonic `now_ms`.
    pub(crate) fn held(&self, now_ms: u64) -> Option<&Held> {
        self.held.as_ref().filter(|held| now_ms < held.expires_at)
    }

    /// How long until this replica should ask for the lease: `Some(ZERO)` now; `None` while it
    /// is not Open, or holds a lease.
    pub(crate) fn due_in(&self, local: &Local, now_ms: u64) -> Option<Duration> {
        if self.held(now_ms).is_some() {
            return None;
        }
        match local.state {
            State::Open => Some(local.remaining?.saturating_sub(self.lead)),
            // Its open period ended before the lease was asked for (a late heartbeat): ask
            // now, while no probe is out.
            State::HalfOpen if local.probes_in_flight == 0 => Some(Duration::ZERO),
            _ => None,
        }
    }

    /// What to do with the lease's answer, at monotonic `now_ms`.
    pub(crate) fn answered(&mut self, answer: LeaseAnswer, now_ms: u64) -> Option<Command> {
        match answer {
            LeaseAnswer::Won { token, value } => {
                self.held = Some(Held {
                    token,
                    value,
                    expires_at: now_ms.saturating_add(millis(self.lease)),
                });
                None
            }
            LeaseAnswer::Lost { left, .. } => Some(Command::Open {
                lasting: left + self.heartbeat,
                reason: Reason::Fleet(FleetReason::ProbeElsewhere),
            }),
        }
    }

    /// A transition of this replica's breaker: a probe sent under a lease it holds has ended.
    /// Returns the lease's value to release, once the result is kept for publishing.
    pub(crate) fn transition(&mut self, transition: &Transition, now_ms: u64) -> Option<String> {
        if transition.from != State::HalfOpen {
            return None;
        }
        let held = self.held(now_ms)?.clone();
        self.held = None;
        self.report = Some(ProbeReport {
            token: held.token,
            ok: transition.to == State::Closed,
        });
        Some(held.value)
    }

    /// What another replica's newest probe result asks of this one: `others` as read at Redis
    /// time `redis_us`, `local` this replica's breaker now.
    pub(crate) fn results(
        &mut self,
        others: &[View],
        local: &Local,
        recovery: Duration,
        redis_us: u64,
    ) -> Option<Command> {
        let fresh_from = redis_us.saturating_sub(micros(self.lease + self.heartbeat * 3));
        let newest = others
            .iter()
            .filter_map(|view| view.probe)
            .filter(|report| report.token > self.acted && report.token >= fresh_from)
            .max_by_key(|report| report.token)?;
        self.acted = newest.token;
        if newest.ok {
            return local
                .fleet_hold()
                .map(|opened_by| Command::Close { opened_by });
        }
        let waiting = local.state == State::Open
            || (local.state == State::HalfOpen && local.probes_in_flight == 0);
        waiting.then_some(Command::Open {
            lasting: recovery,
            reason: Reason::Fleet(FleetReason::ProbeFailed),
        })
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{closed, closed_view};

    const LEAD: Duration = Duration::from_millis(200);
    const LEASE: Duration = Duration::from_secs(5);
    const BEAT: Duration = Duration::from_millis(300);
    const RECOVERY: Duration = Duration::from_secs(10);

    fn desk() -> ProbeDesk {
        ProbeDesk::new(LEAD, LEASE, BEAT)
    }

    fn open(reason: Reason, left: Duration) -> Local {
        Local {
            state: State::Open,
            opened_by: Some(reason),
            remaining: Some(left),
            ..closed()
        }
    }

    fn reporting(token: u64, ok: bool) -> View {
        View {
            probe: Some(ProbeReport { token, ok }),
            ..closed_view("holder", 1)
        }
    }

    const HELD: Reason = Reason::Fleet(FleetReason::ProbeElsewhere);

    #[test]
    fn an_open_replica_asks_for_the_lease_just_before_its_period_ends() {
        let desk = desk();
        let local = open(Reason::ConsecutiveFailures(3), Duration::from_secs(3));
        assert_eq!(desk.due_in(&local, 0), Some(Duration::from_millis(2_800)));
        let ending = open(Reason::ConsecutiveFailures(3), Duration::from_millis(150));
        assert_eq!(desk.due_in(&ending, 0), Some(Duration::ZERO));
        assert_eq!(desk.due_in(&closed(), 0), None);
        let half_open = Local {
            state: State::HalfOpen,
            ..closed()
        };
        assert_eq!(desk.due_in(&half_open, 0), Some(Duration::ZERO), "late");
        let probing = Local {
            probes_in_flight: 1,
            ..half_open
        };
        assert_eq!(desk.due_in(&probing, 0), None, "a probe is out already");
    }

    #[test]
    fn the_winner_asks_no_more_and_publishes_its_probes_result_then_releases() {
        let mut desk = desk();
        let won = LeaseAnswer::Won {
            token: 77,
            value: "77:me".to_owned(),
        };
        assert_eq!(desk.answered(won, 1_000), None);
        let local = open(Reason::ConsecutiveFailures(3), Duration::from_millis(100));
        assert_eq!(desk.due_in(&local, 1_000), None, "it holds the lease");
        let to_half_open = Transition {
            from: State::Open,
            to: State::HalfOpen,
            reason: Reason::RecoveryTimeoutElapsed,
        };
        assert_eq!(desk.transition(&to_half_open, 1_100), None);
        let closed_again = Transition {
            from: State::HalfOpen,
            to: State::Closed,
            reason: Reason::ProbesSucceeded(1),
        };
        assert_eq!(
            desk.transition(&closed_again, 1_200).as_deref(),
            Some("77:me")
        );
        assert_eq!(
            desk.report(),
            Some(ProbeReport {
                token: 77,
                ok: true
            })
        );
        assert_eq!(desk.transition(&closed_again, 1_300), None, "released once");
    }

    #[test]
    fn a_lease_that_ran_out_is_no_longer_held() {
        let mut desk = desk();
        let won = LeaseAnswer::Won {
            token: 5,
            value: "5:me".to_owned(),
        };
        desk.answered(won, 0);
        let expiry = millis(LEAD + LEASE);
        assert!(desk.held(expiry - 1).is_some());
        assert!(desk.held(expiry).is_none());
        let failed = Transition {
            from: State::HalfOpen,
            to: State::Open,
            reason: Reason::ProbeFailed,
        };
        assert_eq!(desk.transition(&failed, expiry), None, "nothing to release");
        assert_eq!(desk.report(), None);
    }

    #[test]
    fn the_loser_stays_open_while_the_lease_lasts_and_a_heartbeat_more() {
        let mut desk = desk();
        let lost = LeaseAnswer::Lost {
            holder: "other".to_owned(),
            left: Duration::from_millis(4_000),
        };
        assert_eq!(
            desk.answered(lost, 0),
            Some(Command::Open {
                lasting: Duration::from_millis(4_300),
                reason: HELD,
            })
        );
    }

    #[test]
    fn a_success_closes_only_a_replica_the_fleet_holds_open() {
        let now = 1_000_000_000;
        let mut desk = desk();
        let held = open(HELD, Duration::from_secs(2));
        assert_eq!(
            desk.results(&[reporting(now - 1, true)], &held, RECOVERY, now),
            Some(Command::Close { opened_by: HELD })
        );
        let mut desk = super::tests::desk();
        let own = open(Reason::ConsecutiveFailures(3), Duration::from_secs(2));
        assert_eq!(
            desk.results(&[reporting(now, true)], &own, RECOVERY, now),
            None
        );
        let mut desk = super::tests::desk();
        assert_eq!(
            desk.results(&[reporting(now, true)], &closed(), RECOVERY, now),
            None
        );
    }

    #[test]
    fn a_failure_keeps_every_open_replica_open_for_another_recovery_period() {
        let now = 1_000_000_000;
        let failed = Some(Command::Open {
            lasting: RECOVERY,
            reason: Reason::Fleet(FleetReason::ProbeFailed),
        });
        for local in [
            open(HELD, Duration::from_secs(2)),
            open(Reason::ConsecutiveFailures(3), Duration::from_secs(2)),
            Local {
                state: State::HalfOpen,
                ..closed()
            },
        ] {
            let mut desk = desk();
            assert_eq!(
                desk.results(&[reporting(now, false)], &local, RECOVERY, now),
                failed,
                "{local:?}"
            );
        }
        let mut desk = desk();
        assert_eq!(
            desk.results(&[reporting(now, false)], &closed(), RECOVERY, now),
            None,
            "a Closed replica is the quorum's to open"
        );
    }

    #[test]
    fn a_result_acted_on_replayed_or_stale_moves_no_one() {
        let now = 1_000_000_000;
        let held = open(HELD, Duration::from_secs(2));
        let mut desk = desk();
        assert!(
            desk.results(&[reporting(now, false)], &held, RECOVERY, now)
                .is_some()
        );
        assert_eq!(
            desk.results(&[reporting(now, false)], &held, RECOVERY, now),
            None,
            "acted on already"
        );
        assert_eq!(
            desk.results(&[reporting(now - 5, true)], &held, RECOVERY, now),
            None,
            "older than the one acted on"
        );
        let stale = now - micros(LEAD + LEASE + BEAT * 3) - 1;
        let mut desk = super::tests::desk();
        assert_eq!(
            desk.results(&[reporting(stale, true)], &held, RECOVERY, now),
            None,
            "from a lease long gone"
        );
        assert_eq!(
            desk.results(&[reporting(stale + 1, true)], &held, RECOVERY, now),
            Some(Command::Close { opened_by: HELD })
        );
    }

    #[test]
    fn the_newest_of_several_results_decides() {
        let now = 1_000_000_000;
        let held = open(HELD, Duration::from_secs(2));
        let mut desk = desk();
        let views = [reporting(now - 10, false), reporting(now - 5, true)];
        assert_eq!(
            desk.results(&views, &held, RECOVERY, now),
            Some(Command::Close { opened_by: HELD })
        );
    }
}
