//! Scenarios from the test suites of Resilience4j, pybreaker and the Python `circuitbreaker`,
//! ported to this API, where the breaker must behave as those libraries promise.

use crate::support::{SECOND, fail, is_rejected, on_manual_clock, succeed, succeed_after};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, Reason, SlidingWindow, State};

fn rate_breaker(window: SlidingWindow) -> (CircuitBreaker, trip_breaker::ManualClock) {
    on_manual_clock(
        CircuitBreaker::builder("rates")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .slow_call_duration(SECOND)
            .slow_call_rate_threshold(50.0)
            .minimum_calls(5)
            .sliding_window(window)
            .recovery_timeout(Duration::from_secs(10)),
    )
}

fn windows() -> [SlidingWindow; 2] {
    [
        SlidingWindow::count(10),
        SlidingWindow::time(Duration::from_secs(10), 10),
    ]
}

/// Resilience4j: fail, fail, fail, succeed, succeed with a 50 % threshold and 5 minimum calls.
/// The fifth call brings the window to 5 calls, 60 % failed: the circuit opens on that call,
/// although it is a success. (Judging rates only on failures left such a breaker Closed for
/// good: five more successes and a failure bring the rate below the threshold.)
#[test]
fn the_success_that_brings_the_window_to_minimum_calls_opens_it_at_a_60_percent_failure_rate() {
    for window in windows() {
        let (cb, _clock) = rate_breaker(window);
        for _ in 0..3 {
            fail(&cb, "HTTP 503");
        }
        succeed(&cb);
        assert_eq!(
            cb.state(),
            State::Closed,
            "{window:?}: 4 calls, below minimum"
        );
        succeed(&cb);
        assert_eq!(cb.state(), State::Open, "{window:?}");
        let rejected = cb.try_acquire().expect_err("open");
        assert_eq!(
            rejected.reason(),
            Some(Reason::FailureRate {
                rate: 60.0,
                threshold: 50.0
            }),
            "{window:?}"
        );
    }
}

/// The same with slow calls: three slow successes and two fast ones open the circuit on the
/// fifth, through the slow-call rate.
#[test]
fn the_fast_success_that_brings_the_window_to_minimum_calls_opens_it_at_a_60_percent_slow_rate() {
    for window in windows() {
        let (cb, clock) = rate_breaker(window);
        for _ in 0..3 {
            succeed_after(&cb, &clock, 2 * SECOND);
        }
        succeed(&cb);
        assert_eq!(cb.state(), State::Closed, "{window:?}");
        succeed(&cb);
        assert_eq!(cb.state(), State::Open, "{window:?}");
        assert_eq!(
            cb.try_acquire().expect_err("open").reason(),
            Some(Reason::SlowCallRate {
                rate: 60.0,
                threshold: 50.0
            }),
            "{window:?}"
        );
    }
}

/// A disabled breaker records nothing in its window, whatever the window's kind.
#[test]
fn a_disabled_breaker_records_nothing_in_either_kind_of_window() {
    for window in windows() {
        let (cb, _clock) = rate_breaker(window);
        cb.disable();
        for _ in 0..5 {
            fail(&cb, "HTTP 503");
        }
        let snapshot = cb.snapshot();
        assert_eq!(snapshot.window_calls, Some(0), "{window:?}");
        assert_eq!(snapshot.failure_rate, None, "{window:?}");
        assert_eq!(snapshot.calls.failed, 5, "{window:?}: still counted");
        cb.reset();
        assert_eq!(cb.snapshot().window_calls, Some(0), "{window:?}");
    }
}

/// HalfOpen probes are judged by the probe rules, not the window, for both kinds: the window is
/// empty during HalfOpen and after the probes close the circuit.
#[test]
fn half_open_probes_reach_neither_kind_of_window() {
    for window in windows() {
        let (cb, clock) = on_manual_clock(
            CircuitBreaker::builder("probes")
                .without_failure_threshold()
                .failure_rate_threshold(50.0)
                .minimum_calls(2)
                .sliding_window(window)
                .success_threshold(2)
                .recovery_timeout(SECOND),
        );
        fail(&cb, "HTTP 503");
        fail(&cb, "HTTP 503");
        assert_eq!(cb.state(), State::Open, "{window:?}");
        clock.advance(SECOND);
        succeed(&cb);
        assert_eq!(cb.state(), State::HalfOpen, "{window:?}: one probe of two");
        assert_eq!(cb.snapshot().window_calls, Some(0), "{window:?}");
        succeed(&cb);
        assert_eq!(cb.state(), State::Closed, "{window:?}");
        assert_eq!(cb.snapshot().window_calls, Some(0), "{window:?}");
    }
}

/// After a slow-call-rate trip the rejection says why: the rate and threshold, not a failure
/// count of 0 and an old, unrelated failure.
#[test]
fn a_slow_call_rate_trip_is_reported_by_its_rate_not_by_an_old_failure() {
    let (cb, clock) = rate_breaker(SlidingWindow::count(10));
    fail(&cb, "an old failure");
    for _ in 0..9 {
        succeed(&cb);
    }
    for _ in 0..10 {
        succeed_after(&cb, &clock, 2 * SECOND);
        if cb.state() == State::Open {
            break;
        }
    }
    let rejected = cb.try_acquire().expect_err("open");
    let text = rejected.to_string();
    assert!(
        text.contains("(slow-call rate 50.0% >= 50%, 10 sec remaining)"),
        "{text}"
    );
    assert!(!text.contains("an old failure"), "{text}");
    assert!(!text.contains("0 failures"), "{text}");
}

/// A failure-rate trip names the rate and quotes the failure that belongs to it.
#[test]
fn a_failure_rate_trip_names_the_rate_and_its_last_failure() {
    let (cb, _clock) = rate_breaker(SlidingWindow::count(10));
    fail(&cb, "HTTP 502");
    succeed(&cb);
    succeed(&cb);
    fail(&cb, "HTTP 503");
    fail(&cb, "HTTP 504");
    let text = cb.try_acquire().expect_err("open").to_string();
    assert!(
        text.ends_with("(failure rate 60.0% >= 50%, 10 sec remaining) (last_failure: HTTP 504)"),
        "{text}"
    );
}

/// pybreaker's `fail_max` and the Python `circuitbreaker`'s `failure_threshold`: the count of
/// failures in a row opens the circuit, and the text is the Python library's, word for word.
#[test]
fn the_consecutive_failure_policy_keeps_the_python_librarys_text() {
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("call_service_b")
            .failure_threshold(3)
            .recovery_timeout(Duration::from_secs(10)),
    );
    for cause in ["one", "two", "three"] {
        fail(&cb, cause);
    }
    let text = cb.try_acquire().expect_err("open").to_string();
    assert!(
        text.ends_with("(3 failures, 10 sec remaining) (last_failure: three)"),
        "{text}"
    );
}

/// pybreaker: a call that fails while HalfOpen opens the circuit again at once; one that
/// succeeds closes it and lets every call through.
#[test]
fn half_open_closes_on_a_success_and_reopens_on_a_failure() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("pybreaker")
            .failure_threshold(1)
            .recovery_timeout(SECOND),
    );
    fail(&cb, "down");
    clock.advance(SECOND);
    fail(&cb, "still down");
    assert_eq!(cb.state(), State::Open);
    assert!(is_rejected(&cb));
    clock.advance(SECOND);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    succeed(&cb);
    succeed(&cb);
}

/// pybreaker's `success_threshold`: HalfOpen needs that many successes in a row to close.
#[test]
fn success_threshold_successes_are_needed_to_close() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("pybreaker")
            .failure_threshold(1)
            .success_threshold(3)
            .recovery_timeout(SECOND),
    );
    fail(&cb, "down");
    clock.advance(SECOND);
    succeed(&cb);
    succeed(&cb);
    assert_eq!(cb.state(), State::HalfOpen);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
}

/// A breaker that half-opens with room for 4 probes, 4 of which must succeed to close it, as
/// Resilience4j's state-machine tests set it up (`permittedNumberOfCallsInHalfOpenState(4)`).
fn half_open_with_four_probes() -> CircuitBreaker {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("resilience4j")
            .half_open_max_calls(4)
            .success_threshold(4),
    );
    // Resilience4j's `transitionToOpenState()` then `transitionToHalfOpenState()`.
    cb.force_open_for(SECOND);
    clock.advance(SECOND);
    assert_eq!(cb.state(), State::HalfOpen);
    cb
}

/// Resilience4j's `shouldIgnoreExceptionsAndThenTransitionToClosed`: an ignored probe counts
/// for nothing, and the probes that succeed are counted until enough close the circuit.
#[test]
fn ignored_probes_count_for_nothing_and_successful_ones_close_the_circuit() {
    let cb = half_open_with_four_probes();
    cb.try_acquire().expect("a probe").ignore();
    assert_eq!(cb.state(), State::HalfOpen);
    let snapshot = cb.snapshot();
    assert_eq!(
        (snapshot.probe_successes, snapshot.probes_in_flight),
        (0, 0)
    );
    assert_eq!(snapshot.calls.ignored, 1);
    for succeeded in 1..4 {
        succeed(&cb);
        assert_eq!(cb.state(), State::HalfOpen);
        assert_eq!(cb.snapshot().probe_successes, succeeded);
    }
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.snapshot().probe_successes, 0, "0 outside HalfOpen");
}

/// Resilience4j's `shouldReleasePermissionWhenExceptionIgnored`: with every probe slot taken a
/// call is refused; an ignored outcome gives its slot back, for exactly one more probe.
#[test]
fn an_ignored_probe_gives_its_slot_back() {
    let cb = half_open_with_four_probes();
    let mut probes: Vec<_> = (0..4).map(|_| cb.try_acquire().expect("a probe")).collect();
    assert!(is_rejected(&cb), "every slot taken");
    probes.pop().expect("four probes").ignore();
    let fifth = cb.try_acquire().expect("the slot given back");
    assert!(is_rejected(&cb));
    let snapshot = cb.snapshot();
    assert_eq!(
        (snapshot.probes_in_flight, snapshot.probe_successes),
        (4, 0)
    );
    assert_eq!(snapshot.calls.ignored, 1);
    fifth.success();
    assert_eq!(cb.snapshot().probe_successes, 1);
    for probe in probes {
        probe.success();
    }
    assert_eq!(cb.state(), State::Closed);
}

/// A new HalfOpen episode starts its count of successful probes from nothing.
#[test]
fn probe_successes_start_afresh_in_each_half_open_episode() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("episodes")
            .failure_threshold(1)
            .success_threshold(3)
            .recovery_timeout(SECOND),
    );
    assert_eq!(cb.snapshot().probe_successes, 0);
    fail(&cb, "down");
    clock.advance(SECOND);
    succeed(&cb);
    succeed(&cb);
    assert_eq!(cb.snapshot().probe_successes, 2);
    fail(&cb, "down again");
    assert_eq!(cb.snapshot().probe_successes, 0, "Open");
    clock.advance(SECOND);
    succeed(&cb);
    assert_eq!(cb.snapshot().probe_successes, 1);
}
