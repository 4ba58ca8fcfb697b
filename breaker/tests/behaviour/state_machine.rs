//! One test per rule of the state machine (the diagram in the crate docs), through the public
//! API, with a manual clock.

use crate::support::{SECOND, fail, is_rejected, on_manual_clock, succeed, succeed_after};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, Event, EventKind, Outcome, Reason, State, Transition};

const RECOVERY: Duration = Duration::from_secs(10);

/// The article's breaker: three failures in a row open it for ten seconds.
fn article() -> (CircuitBreaker, trip_breaker::ManualClock) {
    on_manual_clock(
        CircuitBreaker::builder("article")
            .failure_threshold(3)
            .recovery_timeout(RECOVERY),
    )
}

fn trip(cb: &CircuitBreaker) {
    for _ in 0..3 {
        fail(cb, "boom");
    }
    assert_eq!(cb.state(), State::Open);
}

/// Every transition the breaker announces, in order.
fn transitions(
    builder: trip_breaker::Builder,
) -> (
    CircuitBreaker,
    trip_breaker::ManualClock,
    Arc<Mutex<Vec<Transition>>>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let (cb, clock) = on_manual_clock(builder.on_event(move |event: &Event<'_>| {
        if let EventKind::StateChanged(transition) = event.kind {
            sink.lock().expect("test lock").push(transition);
        }
    }));
    (cb, clock, seen)
}

#[test]
fn closed_opens_after_three_consecutive_failures() {
    let (cb, _clock) = article();
    fail(&cb, "one");
    fail(&cb, "two");
    assert_eq!(cb.state(), State::Closed);
    fail(&cb, "three");
    assert_eq!(cb.state(), State::Open);
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.consecutive_failures, 3);
    assert_eq!(snapshot.last_failure.as_deref(), Some("three"));
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let (cb, _clock) = article();
    fail(&cb, "boom");
    fail(&cb, "boom");
    succeed(&cb);
    assert_eq!(cb.snapshot().consecutive_failures, 0);
    fail(&cb, "boom");
    fail(&cb, "boom");
    assert_eq!(cb.state(), State::Closed, "the count started again");
}

#[test]
fn open_rejects_until_the_recovery_timeout_then_half_opens() {
    let (cb, clock) = article();
    trip(&cb);
    clock.advance(RECOVERY - Duration::from_nanos(1));
    assert!(is_rejected(&cb));
    assert_eq!(cb.state(), State::Open);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(cb.state(), State::HalfOpen);
}

#[test]
fn a_call_after_the_recovery_timeout_is_admitted_as_a_probe() {
    let (cb, clock) = article();
    trip(&cb);
    assert!(is_rejected(&cb), "rejected while Open, without the lock");
    clock.advance(RECOVERY + SECOND);
    let probe = cb
        .try_acquire()
        .expect("admitted once the deadline has passed");
    assert!(probe.is_probe());
}

#[test]
fn half_open_admits_one_probe_at_a_time() {
    let (cb, clock) = article();
    trip(&cb);
    clock.advance(RECOVERY);
    let probe = cb.try_acquire().expect("the probe");
    assert!(probe.is_probe());
    let rejected = cb.try_acquire().expect_err("one probe at a time");
    assert_eq!(rejected.state(), State::HalfOpen);
    probe.ignore();
    let second = cb.try_acquire().expect("an ignored probe frees its slot");
    assert!(second.is_probe());
}

#[test]
fn half_open_admits_up_to_half_open_max_calls_probes() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("wide")
            .failure_threshold(1)
            .half_open_max_calls(3)
            .recovery_timeout(SECOND),
    );
    fail(&cb, "boom");
    clock.advance(SECOND);
    let probes: Vec<_> = (0..3).map(|_| cb.try_acquire().expect("a probe")).collect();
    assert!(is_rejected(&cb), "a fourth is refused");
    assert_eq!(cb.snapshot().probes_in_flight, 3);
    drop(probes);
    assert_eq!(cb.snapshot().probes_in_flight, 0);
}

/// A settled probe has given its slot back; dropping its permit afterwards must not give it
/// back twice, which would let one probe too many through.
#[test]
fn a_settled_probe_frees_its_slot_exactly_once() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("twice")
            .failure_threshold(1)
            .half_open_max_calls(2)
            .success_threshold(3)
            .recovery_timeout(SECOND),
    );
    fail(&cb, "down");
    clock.advance(SECOND);
    let held = cb.try_acquire().expect("probe");
    cb.try_acquire().expect("probe").ignore();
    cb.try_acquire().expect("probe").success();
    assert_eq!(cb.snapshot().probes_in_flight, 1, "only the held one");
    let second = cb.try_acquire().expect("one slot is free");
    assert!(is_rejected(&cb), "two probes out: the limit");
    drop((held, second));
}

#[test]
fn a_successful_probe_closes_the_circuit_and_resets_the_count() {
    let (cb, clock, seen) = transitions(
        CircuitBreaker::builder("article")
            .failure_threshold(3)
            .recovery_timeout(RECOVERY),
    );
    trip(&cb);
    clock.advance(RECOVERY);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().consecutive_failures, 0);
    let seen = seen.lock().expect("test lock");
    assert_eq!(
        seen.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "CLOSED -> OPEN (3 consecutive failures)",
            "OPEN -> HALF_OPEN (recovery timeout elapsed)",
            "HALF_OPEN -> CLOSED (half-open probe succeeded)",
        ]
    );
}

#[test]
fn a_failed_probe_reopens_for_a_new_recovery_timeout_and_counts_as_a_fourth_failure() {
    let (cb, clock) = article();
    trip(&cb);
    clock.advance(RECOVERY);
    fail(&cb, "still down");
    assert_eq!(cb.state(), State::Open);
    let rejected = cb.try_acquire().expect_err("open again");
    assert_eq!(rejected.failure_count(), 4);
    assert_eq!(rejected.reason(), Some(Reason::ProbeFailed));
    assert_eq!(rejected.remaining(), Some(RECOVERY));
    assert_eq!(rejected.last_failure(), Some("still down"));
}

#[test]
fn an_abandoned_probe_frees_its_slot_and_counts_as_nothing() {
    let (cb, clock) = article();
    trip(&cb);
    clock.advance(RECOVERY);
    drop(cb.try_acquire().expect("the probe"));
    assert_eq!(cb.state(), State::HalfOpen);
    let calls = cb.snapshot().calls;
    assert_eq!((calls.successful, calls.failed, calls.ignored), (0, 3, 0));
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn an_outcome_from_an_earlier_generation_is_ignored() {
    let (cb, clock) = article();
    let straggler = cb.try_acquire().expect("closed");
    trip(&cb);
    clock.advance(RECOVERY);
    let probe = cb.try_acquire().expect("the probe");
    straggler.success();
    assert_eq!(
        cb.state(),
        State::HalfOpen,
        "admitted while Closed: says nothing now"
    );
    probe.failure("down");
    assert_eq!(cb.state(), State::Open);
    assert_eq!(cb.snapshot().calls.successful, 1, "but still counted");
}

#[test]
fn ignored_outcomes_count_as_neither_success_nor_failure() {
    let (cb, _clock) = article();
    fail(&cb, "boom");
    fail(&cb, "boom");
    cb.try_acquire().expect("closed").record(Outcome::ignored());
    assert_eq!(cb.snapshot().consecutive_failures, 2, "not reset");
    fail(&cb, "boom");
    assert_eq!(cb.state(), State::Open);
    assert_eq!(cb.snapshot().calls.ignored, 1);
}

#[test]
fn a_slow_probe_reopens_while_a_slow_call_policy_is_on() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("slow")
            .failure_threshold(1)
            .slow_call_duration(SECOND)
            .slow_call_rate_threshold(100.0)
            .minimum_calls(1)
            .recovery_timeout(RECOVERY),
    );
    fail(&cb, "boom");
    clock.advance(RECOVERY);
    succeed_after(&cb, &clock, 2 * SECOND);
    assert_eq!(cb.state(), State::Open);
    assert_eq!(
        cb.try_acquire().expect_err("open").last_failure(),
        Some("probe slower than 1s")
    );
}

#[test]
fn a_slow_probe_closes_when_no_slow_call_policy_is_on() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("timed")
            .failure_threshold(1)
            .slow_call_duration(SECOND)
            .recovery_timeout(RECOVERY),
    );
    fail(&cb, "boom");
    clock.advance(RECOVERY);
    succeed_after(&cb, &clock, 2 * SECOND);
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().calls.slow, 1, "counted as slow all the same");
}

#[test]
fn forced_open_rejects_everything_until_reset() {
    let (cb, clock) = article();
    cb.force_open();
    clock.advance(RECOVERY * 100);
    assert_eq!(cb.state(), State::ForcedOpen);
    let rejected = cb.try_acquire().expect_err("forced open");
    assert_eq!(rejected.state(), State::ForcedOpen);
    assert_eq!(rejected.remaining(), None);
    cb.reset();
    succeed(&cb);
}

#[test]
fn disabled_lets_everything_through_and_never_trips_until_reset() {
    let (cb, _clock) = article();
    cb.disable();
    for _ in 0..10 {
        fail(&cb, "boom");
    }
    assert_eq!(cb.state(), State::Disabled);
    assert_eq!(cb.snapshot().calls.failed, 10);
    cb.reset();
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().consecutive_failures, 0);
}

#[test]
fn reset_closes_and_forgets_counts_and_the_last_failure_from_any_state() {
    let (cb, clock) = article();
    fail(&cb, "boom");
    cb.reset();
    assert_eq!(cb.snapshot().consecutive_failures, 0);
    assert_eq!(cb.snapshot().last_failure, None);
    trip(&cb);
    cb.reset();
    assert_eq!(cb.state(), State::Closed);
    trip(&cb);
    clock.advance(RECOVERY);
    cb.reset();
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().probes_in_flight, 0);
}

#[test]
fn a_transition_frees_every_probe_slot_and_makes_old_permits_count_for_nothing() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("slots")
            .failure_threshold(1)
            .half_open_max_calls(2)
            .recovery_timeout(RECOVERY),
    );
    fail(&cb, "boom");
    clock.advance(RECOVERY);
    let first = cb.try_acquire().expect("probe");
    let second = cb.try_acquire().expect("probe");
    cb.force_open();
    cb.reset();
    trip_once(&cb);
    clock.advance(RECOVERY);
    first.failure("late");
    second.success();
    assert_eq!(
        cb.state(),
        State::HalfOpen,
        "neither late outcome steers the machine"
    );
    assert_eq!(cb.snapshot().probes_in_flight, 0);
    assert!(cb.try_acquire().expect("a fresh probe").is_probe());
}

fn trip_once(cb: &CircuitBreaker) {
    fail(cb, "boom");
    assert_eq!(cb.state(), State::Open);
}

#[test]
fn the_open_duration_grows_on_repeated_trips_and_resets_when_the_circuit_closes() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("backoff")
            .failure_threshold(1)
            .recovery_timeout(SECOND)
            .backoff(trip_breaker::Backoff::exponential(
                2.0,
                Duration::from_secs(5),
            )),
    );
    let mut open_for = Vec::new();
    fail(&cb, "boom");
    for _ in 0..4 {
        let remaining = cb.try_acquire().expect_err("open").remaining();
        open_for.push(remaining.expect("open has a deadline"));
        clock.advance(remaining.expect("deadline"));
        fail(&cb, "probe fails");
    }
    assert_eq!(open_for, [1, 2, 4, 5].map(Duration::from_secs));
    let remaining = cb.try_acquire().expect_err("open").remaining();
    clock.advance(remaining.expect("deadline"));
    succeed(&cb);
    fail(&cb, "boom");
    assert_eq!(
        cb.try_acquire().expect_err("open").remaining(),
        Some(SECOND),
        "closing resets the backoff"
    );
}

#[test]
fn jitter_spreads_the_open_duration_within_its_fraction_and_never_beyond_the_cap() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("jitter")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .backoff(
                trip_breaker::Backoff::exponential(1.0, Duration::from_secs(11)).with_jitter(0.2),
            ),
    );
    let mut seen = Vec::new();
    for _ in 0..50 {
        fail(&cb, "boom");
        let remaining = cb
            .try_acquire()
            .expect_err("open")
            .remaining()
            .expect("open");
        assert!(remaining >= Duration::from_secs(8), "{remaining:?}");
        assert!(remaining <= Duration::from_secs(11), "{remaining:?}");
        seen.push(remaining);
        cb.reset();
        clock.advance(SECOND);
    }
    seen.sort();
    assert!(
        seen[0] < seen[49],
        "fifty open durations are not all the same"
    );
}
