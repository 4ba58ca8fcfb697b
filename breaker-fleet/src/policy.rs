//! When the fleet opens a replica that has not tripped on its own: a pure function of the live
//! replicas' views, this replica's own rules and the quorum.
//!
//! Two rules, the first to hold opens the replica:
//!
//! * **evidence**: the failures summed over the live replicas reach this breaker's own rule (its
//!   `failure_threshold`, from each replica's consecutive failures within the failure window;
//!   or its `failure_rate_threshold` over the calls summed from their sliding windows, once
//!   they hold `minimum_calls`), **and** at least `quorum` distinct replicas contributed
//!   failures. The replica opens for its recovery timeout.
//! * **verdicts**: at least `quorum` live replicas report Open by their own evidence (not by
//!   the fleet, nor by an admin: a fleet-opened replica counting would keep the fleet open on
//!   its own say-so). The replica opens for the longest time they have left.
//!
//! With quorum 1 the fleet is one big breaker; with quorum 2 or more, a replica whose own path
//! to the backend is broken cannot open the others. Slow-call rates and `failures_within` are
//! not shared: each replica judges those alone.

use std::time::Duration;

use breaker::{Config, FleetReason};

use crate::view::View;

/// The rules of this replica's breaker that the fleet applies to the summed evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Consecutive failures that open the circuit, if that policy is on.
    pub failure_threshold: Option<u32>,
    /// The failure rate in percent that opens the circuit, and the calls it needs first.
    pub failure_rate: Option<(f64, u32)>,
    /// How long the circuit stays Open after a trip.
    pub recovery_timeout: Duration,
    /// How far back a replica's consecutive failures count.
    pub failure_window: Duration,
    /// Distinct replicas it takes.
    pub quorum: u32,
}

impl Rules {
    /// The rules of a breaker configured with `config`.
    pub fn of(config: &Config, failure_window: Duration, quorum: u32) -> Self {
        Self {
            failure_threshold: config.failure_threshold(),
            failure_rate: config
                .failure_rate_threshold()
                .map(|threshold| (threshold, config.minimum_calls())),
            recovery_timeout: config.recovery_timeout(),
            failure_window,
            quorum,
        }
    }
}

/// Opens this replica: for how long, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// How long the replica stays Open.
    pub lasting: Duration,
    /// Why, in the words of [`FleetReason`].
    pub reason: FleetReason,
}

/// Whether the fleet opens this replica, from `me` (its own view, fresh) and `others` (the
/// other live replicas' views). Called only while this replica is Closed.
pub fn judge(rules: &Rules, me: &View, others: &[View]) -> Option<Verdict> {
    let all = || std::iter::once(me).chain(others);
    let replicas = count(all());
    verdicts(rules, all(), replicas)
        .or_else(|| consecutive(rules, all(), replicas))
        .or_else(|| rate(rules, all(), replicas))
}

fn count<'a>(views: impl Iterator<Item = &'a View>) -> u32 {
    u32::try_from(views.count()).unwrap_or(u32::MAX)
}

/// `quorum` replicas Open by their own evidence.
fn verdicts<'a>(
    rules: &Rules,
    all: impl Iterator<Item = &'a View>,
    replicas: u32,
) -> Option<Verdict> {
    let open: Vec<u64> = all
        .filter(|view| view.own_trip && view.open_ms > 0)
        .map(|view| view.open_ms)
        .collect();
    let count = count_of(&open);
    (count >= rules.quorum).then(|| Verdict {
        lasting: Duration::from_millis(open.iter().copied().max().unwrap_or(0)),
        reason: FleetReason::ReplicasOpen {
            open: count,
            replicas,
        },
    })
}

/// The consecutive failures summed reach the threshold, from `quorum` replicas.
fn consecutive<'a>(
    rules: &Rules,
    all: impl Iterator<Item = &'a View>,
    replicas: u32,
) -> Option<Verdict> {
    let threshold = rules.failure_threshold?;
    let (failures, failing) = all
        .filter(|view| view.failures > 0)
        .fold((0_u32, 0_u32), |(sum, n), view| {
            (sum.saturating_add(view.failures), n + 1)
        });
    (failures >= threshold && failing >= rules.quorum).then_some(Verdict {
        lasting: rules.recovery_timeout,
        reason: FleetReason::Failures {
            failures,
            replicas_failing: failing,
            replicas,
            within: rules.failure_window,
        },
    })
}

/// The failure rate over the windows summed reaches the threshold, once they hold the minimum
/// calls, with failures from `quorum` replicas.
fn rate<'a>(rules: &Rules, all: impl Iterator<Item = &'a View>, replicas: u32) -> Option<Verdict> {
    let (threshold, minimum) = rules.failure_rate?;
    let (calls, failures, failing) =
        all.fold((0_u64, 0_u64, 0_u32), |(calls, failures, n), view| {
            (
                calls + u64::from(view.window_calls),
                failures + u64::from(view.window_failures),
                n + u32::from(view.window_failures > 0),
            )
        });
    // The breaker holds minimum_calls to at least 1, so no rate is computed over no call.
    if calls < u64::from(minimum.max(1)) || failing < rules.quorum {
        return None;
    }
    let measured = failures as f64 * 100.0 / calls as f64;
    (measured >= threshold).then_some(Verdict {
        lasting: rules.recovery_timeout,
        reason: FleetReason::FailureRate {
            rate: measured,
            threshold,
            replicas_failing: failing,
            replicas,
        },
    })
}

fn count_of<T>(items: &[T]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::closed_view;
    use crate::view::PeerState;

    const RECOVERY: Duration = Duration::from_secs(10);
    const WINDOW: Duration = Duration::from_secs(10);

    fn article(quorum: u32) -> Rules {
        Rules {
            failure_threshold: Some(3),
            failure_rate: None,
            recovery_timeout: RECOVERY,
            failure_window: WINDOW,
            quorum,
        }
    }

    fn failing(id: &str, failures: u32) -> View {
        View {
            failures,
            ..closed_view(id, 1)
        }
    }

    fn open(id: &str, own_trip: bool, open_ms: u64) -> View {
        View {
            state: PeerState::Open,
            own_trip,
            open_ms,
            ..closed_view(id, 1)
        }
    }

    fn window(id: &str, calls: u32, failures: u32) -> View {
        View {
            window_calls: calls,
            window_failures: failures,
            ..closed_view(id, 1)
        }
    }

    #[test]
    fn failures_summed_over_the_replicas_open_at_the_threshold() {
        let me = failing("me", 1);
        let others = [failing("b", 1), closed_view("c", 1), failing("d", 1)];
        assert_eq!(
            judge(&article(1), &me, &others),
            Some(Verdict {
                lasting: RECOVERY,
                reason: FleetReason::Failures {
                    failures: 3,
                    replicas_failing: 3,
                    replicas: 4,
                    within: WINDOW,
                },
            })
        );
        assert_eq!(judge(&article(1), &me, &others[..2]), None, "2 of 3");
    }

    #[test]
    fn failures_from_fewer_replicas_than_the_quorum_open_no_one() {
        let broken = failing("broken", 3);
        let healthy = [closed_view("b", 1), closed_view("c", 1)];
        assert_eq!(
            judge(
                &article(2),
                &closed_view("me", 1),
                std::slice::from_ref(&broken)
            ),
            None
        );
        let mut all = healthy.to_vec();
        all.push(broken);
        assert_eq!(judge(&article(2), &closed_view("me", 1), &all), None);
        let two = [failing("a", 2), failing("b", 1)];
        assert!(
            judge(&article(2), &closed_view("me", 1), &two).is_some(),
            "two replicas, three failures"
        );
    }

    #[test]
    fn quorum_replicas_open_on_their_own_evidence_open_the_rest_for_their_longest_time_left() {
        let others = [
            open("a", true, 4_000),
            open("b", true, 9_000),
            closed_view("c", 1),
        ];
        assert_eq!(
            judge(&article(2), &closed_view("me", 1), &others),
            Some(Verdict {
                lasting: Duration::from_millis(9_000),
                reason: FleetReason::ReplicasOpen {
                    open: 2,
                    replicas: 4
                },
            })
        );
        assert_eq!(judge(&article(3), &closed_view("me", 1), &others), None);
    }

    #[test]
    fn replicas_the_fleet_opened_or_whose_time_is_up_do_not_count_as_open() {
        let others = [open("a", false, 9_000), open("b", true, 0)];
        assert_eq!(judge(&article(1), &closed_view("me", 1), &others), None);
    }

    #[test]
    fn the_failure_rate_over_the_summed_windows_opens_once_they_hold_the_minimum() {
        let rules = Rules {
            failure_threshold: None,
            failure_rate: Some((50.0, 20)),
            ..article(2)
        };
        let me = window("me", 8, 5);
        let others = [window("b", 8, 4), window("c", 3, 0)];
        assert_eq!(judge(&rules, &me, &others), None, "9 of 19 failed: 47.4%");
        let others = [window("b", 9, 5), window("c", 3, 0)];
        let verdict = judge(&rules, &me, &others).expect("10 of 20");
        assert_eq!(
            verdict.reason,
            FleetReason::FailureRate {
                rate: 50.0,
                threshold: 50.0,
                replicas_failing: 2,
                replicas: 3,
            }
        );
        assert_eq!(
            judge(&rules, &me, &[window("b", 3, 3)]),
            None,
            "8 of 11 failed, but 11 calls is under 20"
        );
        let alone = [window("b", 0, 0)];
        assert_eq!(
            judge(&rules, &window("me", 20, 15), &alone),
            None,
            "75 % failed on one replica: quorum 2 is not reached"
        );
        let quorum_1 = Rules { quorum: 1, ..rules };
        assert!(judge(&quorum_1, &window("me", 20, 15), &alone).is_some());
        assert!(
            judge(&quorum_1, &me, &others).is_some(),
            "more replicas failing than the quorum asks"
        );
    }

    #[test]
    fn without_the_policy_its_evidence_is_not_judged() {
        let rules = Rules {
            failure_threshold: None,
            ..article(1)
        };
        assert_eq!(judge(&rules, &failing("me", 50), &[]), None);
        let rules = Rules::of(
            &breaker::CircuitBreaker::builder("x")
                .failure_threshold(4)
                .build()
                .expect("valid")
                .config(),
            WINDOW,
            2,
        );
        assert_eq!(rules.failure_threshold, Some(4));
        assert_eq!(rules.failure_rate, None);
        assert_eq!(rules.quorum, 2);
    }
}
