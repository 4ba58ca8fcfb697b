//! One test per rule of the diagram in the crate docs, driving the pure [`Machine`] with the
//! time in hand: no runtime, no clock object, no fast path. Each call is made as the shell
//! makes it: observe the time, ask to be admitted, then record how the call ended.

use super::{Admission, Machine, Moved};
use crate::config::{Backoff, Config, SlidingWindow};
use crate::trip_policy::Tally;
use crate::vocabulary::{Outcome, Reason, State, Transition};
use std::time::Duration;

const SECOND: u64 = 1_000_000_000;

fn machine(config: Config) -> Machine {
    config.validate().expect("a valid configuration");
    Machine::new(config)
}

/// The article's breaker: 3 failures in a row open it for 10 s.
fn article() -> Machine {
    machine(Config {
        failure_threshold: Some(3),
        recovery_timeout: Duration::from_secs(10),
        ..Config::default()
    })
}

/// Rates only, over a window of `window`, judged from 4 calls on.
fn rates(window: SlidingWindow) -> Config {
    Config {
        failure_threshold: None,
        failure_rate_threshold: Some(50.0),
        slow_call_duration: Some(Duration::from_secs(1)),
        slow_call_rate_threshold: Some(50.0),
        sliding_window: window,
        minimum_calls: 4,
        ..Config::default()
    }
}

/// The test's own record of a time window: the threads keep it outside the machine, and the
/// shell hands the machine what it holds.
#[derive(Default)]
struct TimeWindow(Tally);

/// A count window is kept by the machine: it never asks for a time window's reading.
fn no_time_window() -> Option<Tally> {
    unreachable!("only a time window is read from outside the machine")
}

/// Lets the machine observe `now`, then asks it to admit a call.
fn admit(m: &mut Machine, now: u64) -> (Admission, Option<Transition>) {
    let observed = m.observe(now).map(|moved| moved.transition);
    (m.admit(now), observed)
}

/// One call admitted and ended at `now`; returns the transition it caused, if any.
fn call(m: &mut Machine, now: u64, outcome: Outcome) -> Option<Transition> {
    call_timed(m, now, outcome, false)
}

fn call_timed(m: &mut Machine, now: u64, outcome: Outcome, slow: bool) -> Option<Transition> {
    let (admission, observed) = admit(m, now);
    assert_ne!(admission, Admission::Rejected, "in {:?}", m.state());
    let probe = admission == Admission::Probe;
    let recorded = m.record(m.generation(), probe, &outcome, slow, now, no_time_window);
    recorded.or(observed)
}

/// One call in a time window: the test's window holds it before the machine judges.
fn call_in(m: &mut Machine, window: &mut TimeWindow, now: u64, failed: bool, slow: bool) {
    let (admission, _) = admit(m, now);
    assert_eq!(admission, Admission::Call);
    let outcome = if failed {
        Outcome::failure("HTTP 500")
    } else {
        Outcome::success()
    };
    window.0.add(Tally::one(failed, slow));
    let reading = window.0;
    m.record(m.generation(), false, &outcome, slow, now, || Some(reading));
}

fn failure() -> Outcome {
    Outcome::failure("HTTP 500")
}

/// Trips the article's breaker at `now` and lets it half-open 10 s later.
fn half_open(m: &mut Machine, now: u64) -> u64 {
    for _ in 0..3 {
        call(m, now, failure());
    }
    assert_eq!(m.state(), State::Open);
    let later = now + 10 * SECOND;
    m.observe(later);
    assert_eq!(m.state(), State::HalfOpen);
    later
}

// ----- Closed: the trip policies ------------------------------------------------------------

#[test]
fn closed_admits_every_call() {
    let mut m = article();
    for _ in 0..100 {
        assert_eq!(admit(&mut m, 0).0, Admission::Call);
    }
    assert_eq!(m.probes_in_flight(), 0);
}

#[test]
fn consecutive_failures_open_the_circuit_for_the_recovery_timeout() {
    let mut m = article();
    assert_eq!(call(&mut m, 0, failure()), None);
    assert_eq!(call(&mut m, SECOND, failure()), None);
    let opened = call(&mut m, 2 * SECOND, failure());
    assert_eq!(
        opened,
        Some(Transition {
            from: State::Closed,
            to: State::Open,
            reason: Reason::ConsecutiveFailures(3),
        })
    );
    assert_eq!(m.open_until(), Some(12 * SECOND));
    assert_eq!(m.opened_by(), Some(Reason::ConsecutiveFailures(3)));
    assert_eq!(m.failure_count(), 3);
    assert_eq!(m.last_failure().map(|text| text.as_str()), Some("HTTP 500"));
}

#[test]
fn a_success_resets_the_consecutive_failure_count() {
    let mut m = article();
    call(&mut m, 0, failure());
    call(&mut m, 0, failure());
    call(&mut m, 0, Outcome::success());
    assert_eq!(m.failure_count(), 0);
    call(&mut m, 0, failure());
    call(&mut m, 0, failure());
    assert_eq!(m.state(), State::Closed);
}

#[test]
fn an_ignored_outcome_neither_resets_nor_adds_to_the_failure_count() {
    let mut m = article();
    call(&mut m, 0, failure());
    call(&mut m, 0, failure());
    call(&mut m, 0, Outcome::ignored());
    assert_eq!(m.failure_count(), 2);
    assert!(
        call(&mut m, 0, failure()).is_some(),
        "the third failure trips"
    );
}

#[test]
fn failures_within_a_period_open_the_circuit_whatever_succeeds_between() {
    let mut m = machine(Config {
        failure_threshold: None,
        failures_within: Some((3, Duration::from_secs(30))),
        ..Config::default()
    });
    call(&mut m, 0, failure());
    call(&mut m, SECOND, Outcome::success());
    call(&mut m, 10 * SECOND, failure());
    call(&mut m, 11 * SECOND, Outcome::success());
    let opened = call(&mut m, 29 * SECOND, failure()).expect("3 failures within 30 s");
    assert_eq!(
        opened.reason,
        Reason::FailuresWithin {
            failures: 3,
            within: Duration::from_secs(30)
        }
    );
}

#[test]
fn a_failure_exactly_the_period_old_no_longer_counts() {
    let mut m = machine(Config {
        failure_threshold: None,
        failures_within: Some((3, Duration::from_secs(30))),
        ..Config::default()
    });
    call(&mut m, 0, failure());
    call(&mut m, 10 * SECOND, failure());
    assert_eq!(call(&mut m, 30 * SECOND, failure()), None);
    assert!(
        call(&mut m, 31 * SECOND, failure()).is_some(),
        "10 s, 30 s and 31 s fall within 30 s"
    );
}

#[test]
fn the_failure_rate_over_a_count_window_trips_once_it_holds_minimum_calls() {
    let mut m = machine(rates(SlidingWindow::count(10)));
    call(&mut m, 0, failure());
    call(&mut m, 0, failure());
    assert_eq!(call(&mut m, 0, failure()), None, "3 calls: short of 4");
    let opened = call(&mut m, 0, Outcome::success()).expect("3 of 4 failed");
    assert_eq!(
        opened.reason,
        Reason::FailureRate {
            rate: 75.0,
            threshold: 50.0
        }
    );
}

#[test]
fn a_count_window_forgets_its_oldest_call() {
    let mut m = machine(rates(SlidingWindow::count(4)));
    call(&mut m, 0, failure());
    for _ in 0..3 {
        call(&mut m, 0, Outcome::success());
    }
    assert_eq!(m.state(), State::Closed, "1 failure in 4: 25 %");
    assert_eq!(
        call(&mut m, 0, failure()),
        None,
        "the first failure slid out"
    );
    let window = m
        .window(|| unreachable!("a count window"))
        .expect("a window");
    assert_eq!((window.calls, window.failures), (4, 1));
    assert!(
        call(&mut m, 0, failure()).is_some(),
        "2 failures in 4: 50 %"
    );
}

#[test]
fn the_slow_call_rate_over_a_count_window_trips_on_slow_successes() {
    let mut m = machine(rates(SlidingWindow::count(10)));
    call_timed(&mut m, 0, Outcome::success(), true);
    call_timed(&mut m, 0, Outcome::success(), true);
    call_timed(&mut m, 0, Outcome::success(), false);
    let opened = call_timed(&mut m, 0, Outcome::success(), false).expect("2 of 4 slow");
    assert_eq!(
        opened.reason,
        Reason::SlowCallRate {
            rate: 50.0,
            threshold: 50.0
        }
    );
}

#[test]
fn the_failure_rate_over_a_time_window_is_judged_on_the_reading_handed_in() {
    let window = SlidingWindow::time(Duration::from_secs(10), 10);
    let mut m = machine(rates(window));
    let mut kept = TimeWindow::default();
    call_in(&mut m, &mut kept, 0, true, false);
    call_in(&mut m, &mut kept, 0, false, false);
    call_in(&mut m, &mut kept, 0, true, false);
    assert_eq!(m.state(), State::Closed, "3 calls: short of 4");
    call_in(&mut m, &mut kept, 0, false, false);
    assert_eq!(
        m.opened_by(),
        Some(Reason::FailureRate {
            rate: 50.0,
            threshold: 50.0
        })
    );
}

#[test]
fn the_slow_call_rate_over_a_time_window_trips_too() {
    let mut m = machine(rates(SlidingWindow::time(Duration::from_secs(10), 10)));
    let mut kept = TimeWindow::default();
    for slow in [true, false, true, false] {
        call_in(&mut m, &mut kept, 0, false, slow);
    }
    assert_eq!(
        m.opened_by(),
        Some(Reason::SlowCallRate {
            rate: 50.0,
            threshold: 50.0
        })
    );
}

#[test]
fn no_reading_of_a_time_window_means_no_rate_can_fire() {
    let mut m = machine(rates(SlidingWindow::time(Duration::from_secs(10), 10)));
    for _ in 0..10 {
        m.record(m.generation(), false, &failure(), false, 0, || None);
    }
    assert_eq!(m.state(), State::Closed);
    assert_eq!(
        m.failure_count(),
        10,
        "the failures were counted all the same"
    );
}

// ----- Open, then HalfOpen --------------------------------------------------------------------

#[test]
fn open_rejects_every_call_until_the_recovery_timeout_passes_then_half_opens() {
    let mut m = article();
    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    assert_eq!(admit(&mut m, 10 * SECOND - 1), (Admission::Rejected, None));
    let (admission, observed) = admit(&mut m, 10 * SECOND);
    assert_eq!(
        observed,
        Some(Transition {
            from: State::Open,
            to: State::HalfOpen,
            reason: Reason::RecoveryTimeoutElapsed,
        })
    );
    assert_eq!(admission, Admission::Probe);
}

#[test]
fn a_move_that_time_causes_says_when_it_fell_due_not_when_it_was_seen() {
    let mut m = machine(Config {
        failure_threshold: Some(3),
        recovery_timeout: Duration::from_secs(10),
        half_open_max_wait: Some(Duration::from_secs(5)),
        ..Config::default()
    });
    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    let half_opened = m.observe(13 * SECOND).expect("Open for 10 s");
    assert_eq!(half_opened.transition.to, State::HalfOpen);
    assert_eq!(half_opened.due, Some(10 * SECOND));
    assert_eq!(m.admit(13 * SECOND), Admission::Probe);
    let reopened = m.observe(30 * SECOND).expect("the probe is out 17 s");
    assert_eq!(reopened.transition.to, State::Open);
    assert_eq!(reopened.due, Some(18 * SECOND), "5 s after the probe left");
    let closed = call(&mut m, 40 * SECOND, Outcome::success()).map(Moved::from);
    assert_eq!(
        closed.and_then(|moved| moved.due),
        None,
        "a call's move is made when due"
    );
}

#[test]
fn half_open_admits_up_to_half_open_max_calls_probes_at_a_time() {
    let mut m = machine(Config {
        failure_threshold: Some(1),
        half_open_max_calls: 2,
        success_threshold: 3,
        ..Config::default()
    });
    call(&mut m, 0, failure());
    let now = 30 * SECOND;
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    assert_eq!(admit(&mut m, now).0, Admission::Rejected);
    assert_eq!(m.probes_in_flight(), 2);
    m.record(
        m.generation(),
        true,
        &Outcome::success(),
        false,
        now,
        no_time_window,
    );
    assert_eq!(
        admit(&mut m, now).0,
        Admission::Probe,
        "an answer frees a slot"
    );
}

#[test]
fn success_threshold_successful_probes_close_the_circuit() {
    let mut m = machine(Config {
        failure_threshold: Some(1),
        success_threshold: 3,
        ..Config::default()
    });
    call(&mut m, 0, failure());
    let now = 30 * SECOND;
    assert_eq!(
        m.observe(now).map(|moved| moved.transition.to),
        Some(State::HalfOpen)
    );
    for succeeded in 1..3 {
        assert_eq!(call(&mut m, now, Outcome::success()), None);
        assert_eq!(m.probe_successes(), succeeded);
    }
    let closed = call(&mut m, now, Outcome::success()).expect("the third success");
    assert_eq!(
        closed,
        Transition {
            from: State::HalfOpen,
            to: State::Closed,
            reason: Reason::ProbesSucceeded(3),
        }
    );
    assert_eq!(m.probe_successes(), 0, "0 outside HalfOpen");
}

#[test]
fn a_failed_probe_opens_the_circuit_again_and_adds_to_the_failure_count() {
    let mut m = article();
    let now = half_open(&mut m, 0);
    let reopened = call(&mut m, now, Outcome::failure("still down")).expect("a failed probe");
    assert_eq!(
        (reopened.from, reopened.to, reopened.reason),
        (State::HalfOpen, State::Open, Reason::ProbeFailed)
    );
    assert_eq!(
        m.failure_count(),
        4,
        "3 failures opened it, the probe makes 4"
    );
    assert_eq!(m.open_until(), Some(now + 10 * SECOND));
    assert_eq!(
        m.last_failure().map(|text| text.as_str()),
        Some("still down")
    );
}

#[test]
fn a_slow_probe_fails_only_while_a_slow_call_policy_is_on() {
    let mut with_policy = machine(Config {
        failure_threshold: Some(1),
        ..rates(SlidingWindow::count(10))
    });
    call(&mut with_policy, 0, failure());
    let now = 30 * SECOND;
    let reopened = call_timed(&mut with_policy, now, Outcome::success(), true);
    assert_eq!(reopened.map(|t| t.reason), Some(Reason::ProbeFailed));
    assert_eq!(
        with_policy.last_failure().map(|text| text.as_str()),
        Some("probe slower than 1s")
    );

    let mut without = machine(Config {
        failure_threshold: Some(1),
        slow_call_duration: Some(Duration::from_secs(1)),
        ..Config::default()
    });
    call(&mut without, 0, failure());
    let closed = call_timed(&mut without, now, Outcome::success(), true);
    assert_eq!(closed.map(|t| t.to), Some(State::Closed));
}

#[test]
fn an_ignored_probe_frees_its_slot_and_counts_nothing() {
    let mut m = article();
    let now = half_open(&mut m, 0);
    assert_eq!(call(&mut m, now, Outcome::ignored()), None);
    assert_eq!(m.state(), State::HalfOpen);
    assert_eq!((m.probes_in_flight(), m.probe_successes()), (0, 0));
    assert_eq!(m.failure_count(), 3);
}

#[test]
fn an_abandoned_probe_frees_its_slot() {
    let mut m = article();
    let now = half_open(&mut m, 0);
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    assert_eq!(admit(&mut m, now).0, Admission::Rejected);
    m.abandon(m.generation(), true);
    assert_eq!(m.probes_in_flight(), 0);
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
}

#[test]
fn a_probe_out_for_half_open_max_wait_opens_the_circuit_again() {
    let mut m = machine(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(10),
        half_open_max_wait: Some(Duration::from_secs(5)),
        ..Config::default()
    });
    call(&mut m, 0, failure());
    let now = 10 * SECOND;
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    assert_eq!(m.observe(now + 5 * SECOND - 1), None);
    let timed_out = m
        .observe(now + 5 * SECOND)
        .expect("no answer in 5 s")
        .transition;
    assert_eq!(
        (timed_out.to, timed_out.reason),
        (State::Open, Reason::ProbeTimedOut(Duration::from_secs(5)))
    );
}

#[test]
fn an_answer_restarts_the_wait_for_the_probes_still_out() {
    let mut m = machine(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(10),
        half_open_max_calls: 2,
        success_threshold: 2,
        half_open_max_wait: Some(Duration::from_secs(5)),
        ..Config::default()
    });
    call(&mut m, 0, failure());
    let now = 10 * SECOND;
    admit(&mut m, now);
    admit(&mut m, now);
    let answered = now + 4 * SECOND;
    m.record(
        m.generation(),
        true,
        &Outcome::success(),
        false,
        answered,
        no_time_window,
    );
    assert_eq!(m.observe(answered + 5 * SECOND - 1), None);
    assert!(m.observe(answered + 5 * SECOND).is_some());
}

#[test]
fn without_half_open_max_wait_a_probe_may_take_as_long_as_it_takes() {
    let mut m = article();
    let now = half_open(&mut m, 0);
    admit(&mut m, now);
    assert_eq!(m.observe(now + 3_600 * SECOND), None);
    assert_eq!(m.state(), State::HalfOpen);
}

// ----- Manual commands ----------------------------------------------------------------------

#[test]
fn force_open_rejects_every_call_until_reset() {
    let mut m = article();
    let forced = m.force_open().expect("from Closed");
    assert_eq!(
        (forced.to, forced.reason),
        (State::ForcedOpen, Reason::ForcedOpen)
    );
    assert_eq!(m.force_open(), None, "already forced open");
    assert_eq!(admit(&mut m, 1_000_000 * SECOND).0, Admission::Rejected);
    let reset = m.reset().expect("from ForcedOpen");
    assert_eq!((reset.to, reset.reason), (State::Closed, Reason::Reset));
    assert_eq!(admit(&mut m, 0).0, Admission::Call);
}

#[test]
fn force_open_for_opens_for_that_long_then_half_opens() {
    let mut m = article();
    let opened = m.force_open_for(Duration::from_secs(60), 5 * SECOND);
    assert_eq!(
        (opened.to, opened.reason),
        (State::Open, Reason::ForcedOpenFor(Duration::from_secs(60)))
    );
    assert_eq!(m.open_until(), Some(65 * SECOND));
    assert_eq!(admit(&mut m, 65 * SECOND - 1).0, Admission::Rejected);
    assert_eq!(admit(&mut m, 65 * SECOND).0, Admission::Probe);
}

fn fleet(open: u32) -> Reason {
    Reason::Fleet(crate::vocabulary::FleetReason::ReplicasOpen { open, replicas: 5 })
}

#[test]
fn open_for_opens_a_closed_circuit_with_its_reason_then_half_opens() {
    let mut m = article();
    let opened = m
        .open_for(Duration::from_secs(4), fleet(2), 5 * SECOND)
        .expect("from Closed");
    assert_eq!(
        (opened.from, opened.to, opened.reason),
        (State::Closed, State::Open, fleet(2))
    );
    assert_eq!(m.opened_by(), Some(fleet(2)));
    assert_eq!(m.open_until(), Some(9 * SECOND));
    assert_eq!(admit(&mut m, 9 * SECOND - 1).0, Admission::Rejected);
    assert_eq!(admit(&mut m, 9 * SECOND).0, Admission::Probe);
}

#[test]
fn open_for_lengthens_an_open_period_but_never_shortens_it() {
    let mut m = article();
    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    assert_eq!(m.open_until(), Some(10 * SECOND));
    assert_eq!(
        m.open_for(Duration::from_secs(4), fleet(2), 5 * SECOND),
        None,
        "9 s is sooner than 10 s"
    );
    assert_eq!(
        m.open_for(Duration::from_secs(5), fleet(2), 5 * SECOND),
        None
    );
    assert_eq!(m.opened_by(), Some(Reason::ConsecutiveFailures(3)));
    let longer = m
        .open_for(Duration::from_secs(6), fleet(2), 5 * SECOND)
        .expect("11 s is later");
    assert_eq!((longer.from, longer.to), (State::Open, State::Open));
    assert_eq!(m.open_until(), Some(11 * SECOND));
    assert_eq!(m.opened_by(), Some(fleet(2)));
    assert_eq!(m.failure_count(), 3, "the count goes on");
}

#[test]
fn open_for_never_cuts_a_probe_short_nor_overrides_a_manual_state() {
    let mut m = article();
    let now = half_open(&mut m, 0);
    assert_eq!(
        m.open_for(Duration::from_secs(4), fleet(2), now)
            .map(|t| t.to),
        Some(State::Open),
        "HalfOpen with no probe out"
    );
    let now = now + 4 * SECOND;
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    assert_eq!(m.open_for(Duration::from_secs(4), fleet(2), now), None);
    assert_eq!(m.state(), State::HalfOpen, "the probe decides");
    m.force_open();
    assert_eq!(m.open_for(Duration::from_secs(4), fleet(2), now), None);
    assert_eq!(m.state(), State::ForcedOpen);
    m.disable();
    assert_eq!(m.open_for(Duration::from_secs(4), fleet(2), now), None);
    assert_eq!(m.state(), State::Disabled);
}

#[test]
fn close_if_opened_by_closes_only_the_open_period_that_reason_began() {
    let mut m = article();
    let probed = Reason::Fleet(crate::vocabulary::FleetReason::ProbeSucceeded);
    m.open_for(Duration::from_secs(4), fleet(2), 0);
    assert_eq!(
        m.close_if_opened_by(fleet(3), probed),
        None,
        "another reason"
    );
    let closed = m.close_if_opened_by(fleet(2), probed).expect("its own");
    assert_eq!(
        (closed.from, closed.to, closed.reason),
        (State::Open, State::Closed, probed)
    );
    assert_eq!(
        m.close_if_opened_by(fleet(2), probed),
        None,
        "closed already"
    );
    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    assert_eq!(
        m.close_if_opened_by(fleet(2), probed),
        None,
        "opened by its own failures"
    );
    m.open_for(Duration::from_secs(60), fleet(2), 0);
    m.observe(60 * SECOND);
    assert_eq!(m.state(), State::HalfOpen);
    assert_eq!(
        m.close_if_opened_by(fleet(2), probed),
        None,
        "no longer Open"
    );
}

#[test]
fn disabled_admits_every_call_and_records_nothing_until_reset() {
    let mut m = article();
    assert_eq!(m.disable().map(|t| t.to), Some(State::Disabled));
    assert_eq!(m.disable(), None, "already disabled");
    for _ in 0..10 {
        assert_eq!(call(&mut m, 0, failure()), None);
    }
    assert_eq!((m.state(), m.failure_count()), (State::Disabled, 0));
    assert_eq!(m.last_failure(), None);
    assert_eq!(m.reset().map(|t| t.to), Some(State::Closed));
}

#[test]
fn reset_closes_from_anywhere_and_forgets_counts_windows_and_the_last_failure() {
    let mut m = machine(Config {
        failure_threshold: Some(3),
        ..rates(SlidingWindow::count(10))
    });
    call(&mut m, 0, failure());
    call(&mut m, 0, failure());
    let generation = m.generation();
    assert_eq!(m.reset(), None, "already Closed: no transition");
    assert_eq!(m.generation(), generation + 1, "but a new generation");
    assert_eq!(m.failure_count(), 0);
    assert_eq!(m.last_failure(), None);
    assert_eq!(
        m.window(|| unreachable!("a count window")).map(|w| w.calls),
        Some(0)
    );

    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    assert_eq!(m.state(), State::Open);
    assert_eq!(
        m.reset().map(|t| (t.from, t.to)),
        Some((State::Open, State::Closed))
    );
    assert_eq!(m.failure_count(), 0);
}

// ----- Backoff and generations --------------------------------------------------------------

#[test]
fn backoff_doubles_the_open_duration_on_each_trip_in_a_row_and_resets_on_close() {
    let mut m = machine(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(10),
        backoff: Some(Backoff::exponential(2.0, Duration::from_secs(60))),
        ..Config::default()
    });
    call(&mut m, 0, failure());
    assert_eq!(
        m.open_until(),
        Some(10 * SECOND),
        "first trip: the recovery timeout"
    );
    call(&mut m, 10 * SECOND, failure());
    assert_eq!(m.open_until(), Some(30 * SECOND), "a failed probe: 20 s");
    call(&mut m, 30 * SECOND, failure());
    assert_eq!(m.open_until(), Some(70 * SECOND), "then 40 s");
    call(&mut m, 70 * SECOND, failure());
    assert_eq!(m.open_until(), Some(130 * SECOND), "then the 60 s cap");
    call(&mut m, 130 * SECOND, Outcome::success());
    assert_eq!(m.state(), State::Closed);
    call(&mut m, 200 * SECOND, failure());
    assert_eq!(
        m.open_until(),
        Some(210 * SECOND),
        "closing forgot the trips"
    );
}

#[test]
fn an_outcome_admitted_before_the_last_transition_changes_nothing() {
    let mut m = article();
    let (admission, _) = admit(&mut m, 0);
    assert_eq!(admission, Admission::Call);
    let old = m.generation();
    for _ in 0..3 {
        call(&mut m, 0, failure());
    }
    assert_eq!(m.state(), State::Open);
    assert_eq!(
        m.record(old, false, &Outcome::success(), false, 0, no_time_window),
        None
    );
    assert_eq!(m.failure_count(), 3, "the late success reset nothing");

    let now = 10 * SECOND;
    assert_eq!(admit(&mut m, now).0, Admission::Probe);
    let probing = m.generation();
    m.force_open_for(Duration::from_secs(1), now);
    m.observe(now + SECOND);
    assert_eq!(admit(&mut m, now + SECOND).0, Admission::Probe);
    m.abandon(probing, true);
    m.record(
        probing,
        true,
        &failure(),
        false,
        now + SECOND,
        no_time_window,
    );
    assert_eq!(
        m.state(),
        State::HalfOpen,
        "the old probe's failure is ignored"
    );
    assert_eq!(
        m.probes_in_flight(),
        1,
        "and its abandonment frees nothing now"
    );
}

#[test]
fn every_transition_is_counted_and_starts_a_new_generation() {
    let mut m = article();
    let before = (m.transitions(), m.generation());
    half_open(&mut m, 0);
    assert_eq!(m.transitions(), before.0 + 2);
    assert_eq!(m.generation(), before.1 + 2);
}
