//! The registry and the metrics snapshot, through the public API.

use std::time::Duration;
use trip_breaker::{CircuitBreaker, ManualClock, Registry, SlidingWindow, State};

use crate::support::{fail, on_manual_clock, succeed};

#[test]
fn the_registry_gets_or_creates_by_name_and_lists_snapshots_sorted() {
    let registry =
        Registry::new(CircuitBreaker::builder("template").failure_threshold(2)).expect("valid");
    let b = registry.get_or_create("b");
    let a = registry.get_or_create("a");
    b.try_acquire().expect("closed").failure("x");
    b.try_acquire().expect("closed").failure("x");
    assert_eq!(
        registry.get_or_create("b").state(),
        State::Open,
        "same breaker"
    );
    assert_eq!(a.config().failure_threshold(), Some(2), "from the template");
    let names: Vec<_> = registry
        .snapshots()
        .into_iter()
        .map(|s| (s.name, s.state))
        .collect();
    assert_eq!(
        names,
        [("a".into(), State::Closed), ("b".into(), State::Open)]
    );
    assert!(registry.get("c").is_none());
    assert_eq!(registry.get("b").map(|cb| cb.state()), Some(State::Open));
    let breakers: Vec<_> = registry
        .breakers()
        .iter()
        .map(|cb| cb.name().to_owned())
        .collect();
    assert_eq!(breakers, ["a", "b"]);
}

#[test]
fn a_breaker_built_elsewhere_joins_the_registry_and_replaces_its_namesake() {
    let registry = Registry::new(CircuitBreaker::builder("template")).expect("valid");
    let from_template = registry.get_or_create("payments");
    let own = CircuitBreaker::builder("payments")
        .failure_threshold(9)
        .build()
        .expect("valid");
    registry.insert(own);
    let found = registry.get("payments").expect("inserted");
    assert_eq!(
        found.config().failure_threshold(),
        Some(9),
        "its own settings"
    );
    assert_eq!(from_template.config().failure_threshold(), Some(5));
    assert_eq!(registry.snapshots().len(), 1);
}

#[test]
fn remove_hands_the_breaker_back_and_the_next_get_or_create_starts_afresh() {
    let registry =
        Registry::new(CircuitBreaker::builder("template").failure_threshold(1)).expect("valid");
    let held = registry.get_or_create("payments");
    fail(&held, "timeout");
    assert_eq!(held.state(), State::Open);
    let removed = registry.remove("payments").expect("it was there");
    assert_eq!(
        removed.state(),
        State::Open,
        "the same breaker, handed back"
    );
    assert!(registry.get("payments").is_none());
    assert!(registry.remove("payments").is_none(), "removed once");
    assert!(registry.snapshots().is_empty());
    assert_eq!(
        held.state(),
        State::Open,
        "a clone held elsewhere keeps working"
    );
    assert_eq!(
        registry.get_or_create("payments").state(),
        State::Closed,
        "a fresh breaker from the template"
    );
}

#[test]
fn replace_swaps_only_a_breaker_that_is_there() {
    let registry = Registry::new(CircuitBreaker::builder("template")).expect("valid");
    let own = |threshold| {
        CircuitBreaker::builder("payments")
            .failure_threshold(threshold)
            .build()
            .expect("valid")
    };
    assert!(registry.replace(own(7)).is_none(), "nothing to replace");
    assert!(registry.get("payments").is_none(), "and nothing added");
    registry.get_or_create("payments");
    let replaced = registry.replace(own(9)).expect("there was one");
    assert_eq!(
        replaced.config().failure_threshold(),
        Some(5),
        "the template's"
    );
    let found = registry.get("payments").expect("still there");
    assert_eq!(found.config().failure_threshold(), Some(9));
    assert_eq!(registry.breakers().len(), 1);
}

#[test]
fn an_invalid_template_is_refused_once_up_front() {
    let error =
        Registry::new(CircuitBreaker::builder("t").success_threshold(0)).expect_err("invalid");
    assert_eq!(error.field(), "success_threshold");
}

#[test]
fn a_snapshot_counts_every_transition() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("counted")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(1)),
    );
    assert_eq!(cb.snapshot().transitions, 0);
    cb.try_acquire().expect("closed").failure("down");
    clock.advance(Duration::from_secs(1));
    cb.try_acquire().expect("probe").failure("still down");
    clock.advance(Duration::from_secs(1));
    cb.try_acquire().expect("probe").success();
    assert_eq!(
        cb.snapshot().transitions,
        5,
        "open, half-open, open, half-open, closed"
    );
}

#[test]
fn a_snapshot_reports_counts_rates_and_the_open_deadline() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("observed")
        .failure_threshold(3)
        .failure_rate_threshold(90.0)
        .slow_call_duration(Duration::from_millis(100))
        .sliding_window(SlidingWindow::time(Duration::from_secs(10), 10))
        .minimum_calls(5)
        .recovery_timeout(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .expect("valid");
    let slow = cb.try_acquire().expect("closed");
    clock.advance(Duration::from_millis(150));
    slow.success();
    cb.try_acquire().expect("closed").failure("first");
    cb.try_acquire().expect("closed").ignore();

    let snapshot = cb.snapshot();
    assert_eq!(snapshot.state, State::Closed);
    assert_eq!(snapshot.calls.successful, 1);
    assert_eq!(snapshot.calls.failed, 1);
    assert_eq!(snapshot.calls.slow, 1);
    assert_eq!(snapshot.calls.ignored, 1);
    assert_eq!(snapshot.window_calls, Some(2));
    assert_eq!(snapshot.failure_rate, Some(50.0));
    assert_eq!(snapshot.slow_call_rate, Some(50.0));
    assert_eq!(snapshot.consecutive_failures, 1);
    assert_eq!(snapshot.open_until, None);

    cb.try_acquire().expect("closed").failure("second");
    cb.try_acquire().expect("closed").failure("third");
    clock.advance(Duration::from_secs(4));
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.state, State::Open);
    assert_eq!(snapshot.remaining, Some(Duration::from_secs(6)));
    assert_eq!(snapshot.last_failure.as_deref(), Some("third"));
    assert_eq!(snapshot.transitions, 1);
    assert_eq!(
        snapshot.window_calls,
        Some(0),
        "the window restarts on a trip"
    );
}

#[test]
fn state_reports_half_open_as_soon_as_the_timeout_passes_without_a_call() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("lazy")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_millis(250))
        .clock(clock.clone())
        .build()
        .expect("valid");
    cb.try_acquire().expect("closed").failure("down");
    clock.advance(Duration::from_millis(249));
    assert_eq!(cb.state(), State::Open);
    clock.advance(Duration::from_millis(1));
    assert_eq!(cb.state(), State::HalfOpen);
}

#[test]
fn the_open_duration_backs_off_on_repeated_trips() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("backing-off")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_millis(500))
        .backoff(trip_breaker::Backoff::exponential(
            2.0,
            Duration::from_secs(4),
        ))
        .clock(clock.clone())
        .build()
        .expect("valid");
    let mut waits = Vec::new();
    for _ in 0..5 {
        cb.try_acquire().expect("closed or probe").failure("down");
        let remaining = cb
            .try_acquire()
            .expect_err("open")
            .remaining()
            .expect("open");
        waits.push(remaining);
        clock.advance(remaining);
    }
    let expected: Vec<_> = [500, 1000, 2000, 4000, 4000]
        .map(Duration::from_millis)
        .into();
    assert_eq!(waits, expected);
}

#[test]
fn manual_states_are_sticky_until_reset() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("manual")
        .clock(clock.clone())
        .build()
        .expect("valid");
    cb.force_open();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(cb.state(), State::ForcedOpen);
    cb.disable();
    for _ in 0..100 {
        cb.try_acquire()
            .expect("disabled lets everything through")
            .failure("x");
    }
    assert_eq!(cb.state(), State::Disabled);
    cb.reset();
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().consecutive_failures, 0);
}

#[test]
fn reset_while_closed_empties_a_time_window() {
    let cb = CircuitBreaker::builder("reset-window")
        .without_failure_threshold()
        .failure_rate_threshold(50.0)
        .sliding_window(SlidingWindow::time(Duration::from_secs(60), 6))
        .minimum_calls(4)
        .build()
        .expect("valid");
    for _ in 0..3 {
        cb.try_acquire().expect("closed").failure("down");
    }
    assert_eq!(cb.snapshot().window_calls, Some(3));
    cb.reset();
    assert_eq!(cb.snapshot().window_calls, Some(0));
    cb.try_acquire().expect("closed").failure("down");
    assert_eq!(
        cb.state(),
        State::Closed,
        "1 call after the reset, below minimum_calls"
    );
}

#[test]
fn after_a_reset_successes_count_again_towards_minimum_calls() {
    // Before the reset the window held minimum_calls, so plain successes were settled without
    // the lock; after it the window is empty, and the successes must count again, or the rate
    // below would be judged on the failures alone, short of minimum_calls, and never trip.
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("reset-quiet")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .sliding_window(SlidingWindow::time(Duration::from_secs(60), 6))
            .minimum_calls(4),
    );
    for _ in 0..4 {
        succeed(&cb);
    }
    cb.reset();
    for _ in 0..3 {
        succeed(&cb);
    }
    for _ in 0..2 {
        fail(&cb, "down");
    }
    assert_eq!(cb.state(), State::Closed, "2 failures of 5 calls: 40 %");
    fail(&cb, "down");
    assert_eq!(
        cb.state(),
        State::Open,
        "3 failures of 6 calls since the reset: 50 %"
    );
}
