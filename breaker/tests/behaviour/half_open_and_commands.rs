//! A probe that never answers cannot wedge HalfOpen (`half_open_max_wait`), and the manual
//! commands that open the circuit for a while (`force_open_for`, `open_for`) or close an open
//! period that waited on something outside the breaker (`close_if_opened_by`).

use crate::support::{SECOND, fail, is_rejected, on_manual_clock, succeed};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, FleetReason, Reason, State};

const RECOVERY: Duration = Duration::from_secs(10);
const MAX_WAIT: Duration = Duration::from_secs(5);

fn waiting() -> (CircuitBreaker, trip_breaker::ManualClock) {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("hung")
            .failure_threshold(1)
            .recovery_timeout(RECOVERY)
            .half_open_max_wait(MAX_WAIT),
    );
    fail(&cb, "down");
    clock.advance(RECOVERY);
    (cb, clock)
}

#[test]
fn a_probe_out_for_half_open_max_wait_opens_the_circuit_again() {
    let (cb, clock) = waiting();
    let hung = cb.try_acquire().expect("the probe");
    clock.advance(MAX_WAIT - Duration::from_nanos(1));
    assert!(is_rejected(&cb), "the probe still holds the slot");
    assert_eq!(cb.state(), State::HalfOpen);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(cb.state(), State::Open);
    let rejected = cb.try_acquire().expect_err("open again");
    assert_eq!(rejected.reason(), Some(Reason::ProbeTimedOut(MAX_WAIT)));
    assert_eq!(
        rejected.remaining(),
        Some(RECOVERY),
        "a new recovery timeout"
    );
    assert!(
        rejected
            .to_string()
            .contains("(no probe answered within 5s, 10 sec remaining)"),
        "{rejected}"
    );
    hung.success();
    assert_eq!(cb.state(), State::Open, "the late outcome is ignored");
    clock.advance(RECOVERY);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed, "the next probe closes it");
}

#[test]
fn half_open_with_no_probe_out_waits_for_one_however_long() {
    let (cb, clock) = waiting();
    clock.advance(MAX_WAIT * 100);
    assert_eq!(cb.state(), State::HalfOpen);
    let probe = cb.try_acquire().expect("a late first probe");
    clock.advance(MAX_WAIT - Duration::from_nanos(1));
    assert_eq!(
        cb.state(),
        State::HalfOpen,
        "its wait starts when it is admitted"
    );
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

/// The wait is for an answer, any answer: while probes keep answering, the ones still out are
/// waited for afresh; once none has answered for the whole wait, the circuit opens again.
#[test]
fn the_wait_runs_from_the_last_answer_while_probes_are_out() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("several")
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(3)
            .recovery_timeout(RECOVERY)
            .half_open_max_wait(MAX_WAIT),
    );
    fail(&cb, "down");
    clock.advance(RECOVERY);
    let first = cb.try_acquire().expect("probe");
    clock.advance(MAX_WAIT - SECOND);
    cb.try_acquire().expect("probe").success();
    clock.advance(MAX_WAIT - SECOND);
    assert_eq!(
        cb.state(),
        State::HalfOpen,
        "an answer 4 s ago: the first is waited for afresh"
    );
    clock.advance(SECOND);
    assert_eq!(cb.state(), State::Open, "5 s without an answer");
    first.success();
    assert_eq!(cb.state(), State::Open, "its late answer is ignored");
}

/// Nobody looks at the breaker while the probe is out: its late answer is still too late.
#[test]
fn a_late_probe_is_ignored_even_when_nobody_looked_in_between() {
    let (cb, clock) = waiting();
    let late = cb.try_acquire().expect("the probe");
    clock.advance(MAX_WAIT + SECOND);
    late.success();
    assert_eq!(
        cb.state(),
        State::Open,
        "the wait ran out before the answer"
    );
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(rejected.reason(), Some(Reason::ProbeTimedOut(MAX_WAIT)));
    let (cb, clock) = waiting();
    let dropped = cb.try_acquire().expect("the probe");
    clock.advance(MAX_WAIT + SECOND);
    drop(dropped);
    assert_eq!(
        cb.state(),
        State::Open,
        "a probe given up late opens it too"
    );
}

#[test]
fn without_half_open_max_wait_a_probe_may_take_as_long_as_it_takes() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("patient")
            .failure_threshold(1)
            .recovery_timeout(RECOVERY),
    );
    fail(&cb, "down");
    clock.advance(RECOVERY);
    let probe = cb.try_acquire().expect("the probe");
    clock.advance(Duration::from_secs(3_600));
    assert_eq!(cb.state(), State::HalfOpen);
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn force_open_for_rejects_everything_for_the_duration_then_half_opens() {
    let (cb, clock) = on_manual_clock(CircuitBreaker::builder("maintenance").failure_threshold(3));
    let lasting = Duration::from_secs(60);
    cb.force_open_for(lasting);
    assert_eq!(cb.state(), State::Open);
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(rejected.reason(), Some(Reason::ForcedOpenFor(lasting)));
    assert_eq!(rejected.remaining(), Some(lasting));
    assert_eq!(
        rejected.to_string().split_once(" (").map(|(_, rest)| rest),
        Some("forced open for 60s, 60 sec remaining)"),
        "no failure to quote"
    );
    clock.advance(lasting - SECOND);
    assert!(is_rejected(&cb));
    clock.advance(SECOND);
    assert_eq!(cb.state(), State::HalfOpen);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn force_open_for_replaces_a_running_open_period() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("shorter")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(600)),
    );
    fail(&cb, "down");
    cb.force_open_for(SECOND);
    clock.advance(SECOND);
    assert_eq!(cb.state(), State::HalfOpen);
}

// ----- Commands from outside the breaker: open for a while with a reason, close when it ends --

fn fleet_open(open: u32) -> Reason {
    Reason::Fleet(FleetReason::ReplicasOpen { open, replicas: 5 })
}

#[test]
fn open_for_opens_with_its_reason_and_says_so_in_the_rejection() {
    let (cb, clock) = on_manual_clock(CircuitBreaker::builder("fleet").failure_threshold(3));
    assert!(cb.open_for(Duration::from_secs(4), fleet_open(2)));
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(rejected.reason(), Some(fleet_open(2)));
    assert_eq!(rejected.remaining(), Some(Duration::from_secs(4)));
    assert_eq!(
        rejected.to_string().split_once(" (").map(|(_, rest)| rest),
        Some("fleet: 2 of 5 replicas open, 4 sec remaining)"),
        "no failure of its own to quote"
    );
    assert_eq!(cb.snapshot().opened_by, Some(fleet_open(2)));
    clock.advance(Duration::from_secs(4));
    assert_eq!(cb.state(), State::HalfOpen);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn open_for_only_makes_the_breaker_stricter() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("own evidence")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10)),
    );
    fail(&cb, "down");
    assert!(
        !cb.open_for(Duration::from_secs(4), fleet_open(2)),
        "shorter"
    );
    assert_eq!(
        cb.try_acquire().expect_err("open").reason(),
        Some(Reason::ConsecutiveFailures(1))
    );
    assert!(
        cb.open_for(Duration::from_secs(12), fleet_open(2)),
        "longer"
    );
    clock.advance(Duration::from_secs(10));
    assert!(is_rejected(&cb), "held open past its own recovery timeout");
    clock.advance(Duration::from_secs(2));
    let probe = cb.try_acquire().expect("the probe");
    assert!(
        !cb.open_for(Duration::from_secs(4), fleet_open(2)),
        "a probe is out"
    );
    probe.success();
    assert_eq!(cb.state(), State::Closed);
    cb.force_open();
    assert!(!cb.open_for(Duration::from_secs(4), fleet_open(2)));
    assert_eq!(cb.state(), State::ForcedOpen, "an admin's state stays");
}

#[test]
fn close_if_opened_by_ends_only_the_open_period_it_names() {
    let (cb, _clock) = on_manual_clock(CircuitBreaker::builder("waiting").failure_threshold(1));
    let waiting = Reason::Fleet(FleetReason::ProbeElsewhere);
    let succeeded = Reason::Fleet(FleetReason::ProbeSucceeded);
    fail(&cb, "down");
    assert!(!cb.close_if_opened_by(waiting, succeeded), "its own trip");
    assert_eq!(cb.state(), State::Open);
    assert!(cb.open_for(Duration::from_secs(60), waiting));
    assert!(cb.close_if_opened_by(waiting, succeeded));
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().consecutive_failures, 0, "closed afresh");
    assert!(!cb.close_if_opened_by(waiting, succeeded), "already closed");
}
