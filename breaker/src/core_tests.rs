//! One test per rule of the state machine, driven with explicit times.

use super::*;
use crate::window::{Tally, ThreadWindow, TimeGeometry};
use crate::{Backoff, SlidingWindow};

const SEC: u64 = 1_000_000_000;

fn core(config: Config) -> Core {
    config.validate().expect("valid test config");
    Core::new(config)
}

fn article() -> Core {
    core(Config {
        failure_threshold: Some(3),
        recovery_timeout: Duration::from_secs(10),
        ..Config::default()
    })
}

/// The tally of a time window for configs that keep none.
fn no_time(_generation: u64) -> Tally {
    Tally::default()
}

fn admit(core: &mut Core, now: u64) -> Ticket {
    core.acquire(now).0.expect("admitted")
}

fn fail(core: &mut Core, now: u64) -> Option<Transition> {
    let ticket = admit(core, now);
    core.record(
        ticket,
        Verdict::Failure,
        false,
        Some("boom".into()),
        now,
        no_time,
    )
}

/// Three failures: the article's breaker opens.
fn trip(core: &mut Core) {
    for _ in 0..3 {
        fail(core, 0);
    }
}

fn succeed(core: &mut Core, now: u64) -> Option<Transition> {
    let ticket = admit(core, now);
    core.record(ticket, Verdict::Success, false, None, now, no_time)
}

#[test]
fn opens_after_three_consecutive_failures() {
    let mut core = article();
    assert_eq!(fail(&mut core, 0), None);
    assert_eq!(fail(&mut core, 0), None);
    let transition = fail(&mut core, 0).expect("third failure opens");
    assert_eq!(
        transition.to_string(),
        "CLOSED -> OPEN (3 consecutive failures)"
    );
    assert_eq!(core.state(), State::Open);
    assert_eq!(core.consecutive_failures(), 3);
    assert_eq!(core.last_failure().map(|text| text.as_str()), Some("boom"));
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let mut core = article();
    fail(&mut core, 0);
    fail(&mut core, 0);
    succeed(&mut core, 0);
    assert_eq!(core.consecutive_failures(), 0);
    assert_eq!(fail(&mut core, 0), None, "the count started again");
    assert_eq!(core.state(), State::Closed);
}

#[test]
fn open_rejects_until_the_recovery_timeout_then_half_opens() {
    let mut core = article();
    trip(&mut core);
    assert_eq!(core.acquire(10 * SEC - 1).0, None);
    assert_eq!(core.observe(10 * SEC - 1), None);
    let transition = core.observe(10 * SEC).expect("half-opens at the deadline");
    assert_eq!(transition.reason, Reason::RecoveryTimeoutElapsed);
    assert_eq!(core.state(), State::HalfOpen);
}

#[test]
fn half_open_admits_one_probe_at_a_time() {
    let mut core = article();
    trip(&mut core);
    let (probe, transition) = core.acquire(10 * SEC);
    let probe = probe.expect("one probe");
    assert!(probe.probe);
    assert_eq!(transition.map(|t| t.to), Some(State::HalfOpen));
    assert_eq!(core.acquire(10 * SEC).0, None, "a second caller waits");
    core.record(probe, Verdict::Ignored, false, None, 10 * SEC, no_time);
    assert!(
        core.acquire(10 * SEC).0.is_some(),
        "an ignored probe frees its slot"
    );
}

#[test]
fn a_successful_probe_closes_the_circuit_and_resets_the_count() {
    let mut core = article();
    trip(&mut core);
    let transition = succeed(&mut core, 10 * SEC).expect("closes");
    assert_eq!(
        transition.to_string(),
        "HALF_OPEN -> CLOSED (half-open probe succeeded)"
    );
    assert_eq!(core.consecutive_failures(), 0);
}

#[test]
fn a_failed_probe_reopens_and_counts_as_a_fourth_failure() {
    let mut core = article();
    trip(&mut core);
    let transition = fail(&mut core, 10 * SEC).expect("reopens");
    assert_eq!(
        transition.to_string(),
        "HALF_OPEN -> OPEN (half-open probe failed)"
    );
    assert_eq!(core.consecutive_failures(), 4);
    assert_eq!(core.open_until(), 20 * SEC);
}

#[test]
fn success_threshold_probes_are_needed_to_close() {
    let mut core = core(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(1),
        half_open_max_calls: 2,
        success_threshold: 3,
        ..Config::default()
    });
    fail(&mut core, 0);
    let first = admit(&mut core, SEC);
    let second = admit(&mut core, SEC);
    assert_eq!(core.acquire(SEC).0, None, "two probes at most");
    assert_eq!(
        core.record(first, Verdict::Success, false, None, SEC, no_time),
        None
    );
    assert_eq!(
        core.record(second, Verdict::Success, false, None, SEC, no_time),
        None
    );
    let transition = succeed(&mut core, SEC).expect("the third success closes");
    assert_eq!(transition.reason, Reason::ProbesSucceeded(3));
}

#[test]
fn an_abandoned_probe_frees_its_slot_and_counts_as_nothing() {
    let mut core = article();
    trip(&mut core);
    let probe = admit(&mut core, 10 * SEC);
    core.abandon(probe);
    assert_eq!(core.state(), State::HalfOpen);
    assert_eq!(core.consecutive_failures(), 3);
    assert!(core.acquire(10 * SEC).0.is_some());
}

#[test]
fn an_outcome_from_an_earlier_generation_is_ignored() {
    let mut core = article();
    let slow_call = admit(&mut core, 0);
    trip(&mut core);
    let late = core.record(slow_call, Verdict::Success, false, None, SEC, no_time);
    assert_eq!(late, None);
    assert_eq!(core.state(), State::Open);
    assert_eq!(
        core.consecutive_failures(),
        3,
        "a late success does not reset the count"
    );
}

#[test]
fn ignored_outcomes_count_as_neither_success_nor_failure() {
    let mut core = article();
    fail(&mut core, 0);
    fail(&mut core, 0);
    let ticket = admit(&mut core, 0);
    core.record(ticket, Verdict::Ignored, false, None, 0, no_time);
    assert_eq!(core.consecutive_failures(), 2);
    assert!(
        fail(&mut core, 0).is_some(),
        "the next failure is still the third"
    );
}

#[test]
fn failure_rate_trips_only_after_minimum_calls() {
    let mut core = core(Config {
        failure_threshold: None,
        failure_rate_threshold: Some(50.0),
        sliding_window: SlidingWindow::count(10),
        minimum_calls: 4,
        ..Config::default()
    });
    assert_eq!(fail(&mut core, 0), None);
    assert_eq!(fail(&mut core, 0), None);
    assert_eq!(fail(&mut core, 0), None, "3 calls < minimum_calls 4");
    assert_eq!(
        succeed(&mut core, 0),
        None,
        "4 calls, 75% failed, but a success is never the reason to open"
    );
    let transition = fail(&mut core, 0).expect("4 of 5 failed: 80% >= 50%");
    assert_eq!(
        transition.reason,
        Reason::FailureRate {
            rate: 80.0,
            threshold: 50.0
        }
    );
}

#[test]
fn failure_rate_below_the_threshold_does_not_trip() {
    let mut core = core(Config {
        failure_threshold: None,
        failure_rate_threshold: Some(50.0),
        sliding_window: SlidingWindow::count(4),
        minimum_calls: 4,
        ..Config::default()
    });
    for _ in 0..10 {
        assert_eq!(fail(&mut core, 0), None);
        for _ in 0..3 {
            assert_eq!(succeed(&mut core, 0), None, "25% < 50%");
        }
    }
    assert_eq!(
        core.tally(no_time).and_then(|tally| tally.failure_rate()),
        Some(25.0)
    );
}

#[test]
fn a_time_window_forgets_old_failures() {
    let config = Config {
        failure_threshold: None,
        failure_rate_threshold: Some(50.0),
        sliding_window: SlidingWindow::time(Duration::from_secs(10), 10),
        minimum_calls: 2,
        ..Config::default()
    };
    let window = ThreadWindow::new(TimeGeometry::of(config.sliding_window).expect("time"));
    let mut core = core(config);
    let fail_at = |core: &mut Core, now: u64| {
        let ticket = admit(core, now);
        window.record(ticket.generation, now, true, false);
        core.record(ticket, Verdict::Failure, false, None, now, |generation| {
            let mut tally = Tally::default();
            window.add_to(&mut tally, generation, now);
            tally
        })
    };
    assert_eq!(fail_at(&mut core, 0), None);
    // 11 s later the first failure has left the window: 1 call, below minimum_calls.
    assert_eq!(fail_at(&mut core, 11 * SEC), None);
    assert!(
        fail_at(&mut core, 12 * SEC).is_some(),
        "2 failures within 10 s"
    );
}

#[test]
fn slow_call_rate_trips_even_when_calls_succeed() {
    let mut core = core(Config {
        failure_threshold: Some(5),
        slow_call_duration: Some(Duration::from_millis(100)),
        slow_call_rate_threshold: Some(50.0),
        minimum_calls: 2,
        ..Config::default()
    });
    let first = admit(&mut core, 0);
    assert_eq!(
        core.record(first, Verdict::Success, true, None, 0, no_time),
        None
    );
    let second = admit(&mut core, 0);
    let transition = core
        .record(second, Verdict::Success, true, None, 0, no_time)
        .expect("100% slow");
    assert!(matches!(transition.reason, Reason::SlowCallRate { .. }));
}

#[test]
fn a_slow_probe_reopens_while_a_slow_call_policy_is_on() {
    let mut core = core(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(1),
        slow_call_duration: Some(Duration::from_millis(100)),
        slow_call_rate_threshold: Some(50.0),
        minimum_calls: 1,
        ..Config::default()
    });
    fail(&mut core, 0);
    let probe = admit(&mut core, SEC);
    let transition = core.record(probe, Verdict::Success, true, None, SEC, no_time);
    assert_eq!(transition.map(|t| t.reason), Some(Reason::ProbeFailed));
    assert_eq!(
        core.last_failure().map(|text| text.as_str()),
        Some("probe slower than 100ms")
    );
}

#[test]
fn the_open_duration_grows_on_repeated_trips_and_resets_on_close() {
    let mut core = core(Config {
        failure_threshold: Some(1),
        recovery_timeout: Duration::from_secs(1),
        backoff: Some(Backoff::exponential(2.0, Duration::from_secs(3))),
        ..Config::default()
    });
    fail(&mut core, 0);
    assert_eq!(core.open_until(), SEC);
    fail(&mut core, SEC);
    assert_eq!(core.open_until(), 3 * SEC, "second trip: 2 s");
    fail(&mut core, 3 * SEC);
    assert_eq!(core.open_until(), 6 * SEC, "third trip: 4 s capped at 3 s");
    succeed(&mut core, 6 * SEC);
    fail(&mut core, 7 * SEC);
    assert_eq!(core.open_until(), 8 * SEC, "closing reset the backoff");
}

#[test]
fn forced_open_and_disabled_are_sticky_until_reset() {
    let mut core = article();
    core.force_open();
    assert_eq!(core.acquire(1_000 * SEC).0, None);
    assert_eq!(
        core.observe(1_000 * SEC),
        None,
        "no timeout leaves ForcedOpen"
    );
    core.disable();
    for _ in 0..10 {
        fail(&mut core, 0);
    }
    assert_eq!(
        core.state(),
        State::Disabled,
        "nothing trips while disabled"
    );
    let transition = core.reset().expect("reset closes");
    assert_eq!(transition.to, State::Closed);
    assert_eq!(core.consecutive_failures(), 0);
}

#[test]
fn every_transition_bumps_the_generation_and_frees_probe_slots() {
    let mut core = article();
    trip(&mut core);
    let probe = admit(&mut core, 10 * SEC);
    let generation = core.generation();
    core.force_open();
    assert_eq!(core.generation(), generation + 1);
    assert_eq!(core.probes_in_flight(), 0);
    core.abandon(probe);
    assert_eq!(
        core.probes_in_flight(),
        0,
        "a stale abandon cannot underflow"
    );
    assert_eq!(core.transitions(), 3);
}
