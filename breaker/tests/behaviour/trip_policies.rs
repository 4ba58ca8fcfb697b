//! The trip policies, each on its own and together: consecutive failures, failures within a
//! period, and the failure and slow-call rates over count and time windows.

use crate::support::{SECOND, fail, on_manual_clock, succeed, succeed_after};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, Reason, SlidingWindow, State};

fn within(failures: u32, period: Duration) -> (CircuitBreaker, trip_breaker::ManualClock) {
    on_manual_clock(
        CircuitBreaker::builder("within")
            .without_failure_threshold()
            .failures_within(failures, period)
            .recovery_timeout(Duration::from_secs(10)),
    )
}

#[test]
fn failures_within_opens_on_the_failure_that_makes_n_within_the_period() {
    let (cb, clock) = within(5, Duration::from_secs(30));
    for _ in 0..4 {
        fail(&cb, "HTTP 503");
        succeed(&cb);
        clock.advance(Duration::from_secs(7));
    }
    assert_eq!(cb.state(), State::Closed, "4 failures, successes between");
    fail(&cb, "HTTP 503");
    assert_eq!(cb.state(), State::Open, "the 5th, 28 s after the 1st");
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(
        rejected.reason(),
        Some(Reason::FailuresWithin {
            failures: 5,
            within: Duration::from_secs(30)
        })
    );
    assert!(
        rejected
            .to_string()
            .ends_with("(5 failures within 30s, 10 sec remaining) (last_failure: HTTP 503)"),
        "{rejected}"
    );
}

#[test]
fn failures_within_forgets_a_failure_exactly_the_period_old() {
    let (cb, clock) = within(3, Duration::from_secs(10));
    fail(&cb, "first");
    clock.advance(Duration::from_secs(5));
    fail(&cb, "second");
    clock.advance(Duration::from_secs(5));
    fail(&cb, "third, 10 s after the first");
    assert_eq!(cb.state(), State::Closed, "the first is exactly 10 s old");
    clock.advance(Duration::from_secs(4));
    fail(&cb, "fourth");
    assert_eq!(cb.state(), State::Open, "second to fourth span 9 s");
}

#[test]
fn failures_within_starts_afresh_after_the_circuit_closes() {
    let (cb, clock) = within(2, Duration::from_secs(30));
    fail(&cb, "one");
    fail(&cb, "two");
    assert_eq!(cb.state(), State::Open);
    clock.advance(Duration::from_secs(10));
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    fail(&cb, "one failure after closing");
    assert_eq!(
        cb.state(),
        State::Closed,
        "the failures before the trip are gone"
    );
}

#[test]
fn failures_within_combines_with_the_consecutive_policy_and_the_first_to_fire_opens() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("both")
            .failure_threshold(3)
            .failures_within(4, Duration::from_secs(60)),
    );
    fail(&cb, "boom");
    fail(&cb, "boom");
    fail(&cb, "boom");
    assert_eq!(
        cb.try_acquire().expect_err("open").reason(),
        Some(Reason::ConsecutiveFailures(3))
    );
    cb.reset();
    for _ in 0..3 {
        fail(&cb, "boom");
        succeed(&cb);
        clock.advance(SECOND);
    }
    fail(&cb, "boom");
    assert_eq!(
        cb.try_acquire().expect_err("open").reason(),
        Some(Reason::FailuresWithin {
            failures: 4,
            within: Duration::from_secs(60)
        }),
        "never 3 in a row, but 4 within a minute"
    );
}

fn rates(window: SlidingWindow, minimum_calls: u32) -> (CircuitBreaker, trip_breaker::ManualClock) {
    on_manual_clock(
        CircuitBreaker::builder("rates")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .minimum_calls(minimum_calls)
            .sliding_window(window),
    )
}

#[test]
fn a_failure_rate_trips_only_once_the_window_holds_minimum_calls() {
    for window in [
        SlidingWindow::count(20),
        SlidingWindow::time(Duration::from_secs(10), 10),
    ] {
        let (cb, _clock) = rates(window, 10);
        for _ in 0..9 {
            fail(&cb, "boom");
        }
        assert_eq!(cb.state(), State::Closed, "{window:?}: 9 calls, all failed");
        fail(&cb, "boom");
        assert_eq!(cb.state(), State::Open, "{window:?}");
    }
}

#[test]
fn a_failure_rate_below_the_threshold_never_trips() {
    for window in [
        SlidingWindow::count(10),
        SlidingWindow::time(Duration::from_secs(10), 10),
    ] {
        let (cb, _clock) = rates(window, 10);
        for _ in 0..50 {
            fail(&cb, "boom");
            succeed(&cb);
            succeed(&cb);
        }
        assert_eq!(
            cb.state(),
            State::Closed,
            "{window:?}: at most 40 % of any 10 calls"
        );
    }
}

#[test]
fn a_count_window_forgets_the_oldest_call_when_full() {
    let (cb, _clock) = rates(SlidingWindow::count(4), 4);
    fail(&cb, "boom");
    succeed(&cb);
    succeed(&cb);
    succeed(&cb);
    assert_eq!(cb.snapshot().failure_rate, Some(25.0));
    succeed(&cb);
    assert_eq!(
        cb.snapshot().failure_rate,
        Some(0.0),
        "the failure slid out"
    );
    fail(&cb, "boom");
    fail(&cb, "boom");
    assert_eq!(cb.state(), State::Open, "2 of the last 4");
}

#[test]
fn a_count_window_forgets_the_oldest_slow_call_when_full() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("slow-ring")
            .without_failure_threshold()
            .slow_call_duration(SECOND)
            .slow_call_rate_threshold(50.0)
            .minimum_calls(4)
            .sliding_window(SlidingWindow::count(4)),
    );
    succeed_after(&cb, &clock, SECOND);
    for _ in 0..3 {
        succeed(&cb);
    }
    assert_eq!(cb.snapshot().slow_call_rate, Some(25.0));
    succeed(&cb);
    assert_eq!(
        cb.snapshot().slow_call_rate,
        Some(0.0),
        "the slow call slid out"
    );
    succeed_after(&cb, &clock, SECOND);
    succeed_after(&cb, &clock, SECOND);
    assert_eq!(cb.state(), State::Open, "2 of the last 4 slow");
}

#[test]
fn a_time_window_forgets_failures_older_than_its_length() {
    let (cb, clock) = rates(SlidingWindow::time(Duration::from_secs(10), 10), 4);
    fail(&cb, "boom");
    fail(&cb, "boom");
    fail(&cb, "boom");
    clock.advance(Duration::from_secs(11));
    assert_eq!(cb.snapshot().window_calls, Some(0));
    succeed(&cb);
    fail(&cb, "boom");
    succeed(&cb);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed, "1 of 4 in the window");
}

/// A time window judges again when a bucket slides out, even on a success the threads would
/// otherwise count alone: the successes that kept the rate low are gone. (The times fall
/// mid-bucket on purpose: a reading taken between bucket edges must still date itself by its
/// bucket.)
#[test]
fn a_success_after_old_successes_slid_out_opens_a_time_window() {
    let (cb, clock) = rates(SlidingWindow::time(Duration::from_secs(10), 10), 4);
    clock.advance(Duration::from_millis(300));
    for _ in 0..4 {
        succeed(&cb);
    }
    clock.advance(Duration::from_millis(5_000));
    for _ in 0..3 {
        fail(&cb, "boom");
    }
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed, "3 of 8");
    // 10 s and 5 ns: 5 ns into bucket 10, where the last reading was in bucket 5. A window
    // must tell a bucket's number from the time into it.
    clock.advance(Duration::from_millis(4_700) + Duration::from_nanos(5));
    succeed(&cb);
    assert_eq!(
        cb.state(),
        State::Open,
        "3 failures and two successes: 60 %"
    );
}

/// Many successes the threads count alone, then failures: the circuit opens exactly when the
/// failures reach half the window, no sooner and no later.
#[test]
fn a_time_window_opens_exactly_at_the_threshold_after_many_quiet_successes() {
    let (cb, _clock) = rates(SlidingWindow::time(Duration::from_secs(60), 6), 5);
    for _ in 0..100 {
        succeed(&cb);
    }
    for failure in 1..100 {
        fail(&cb, "boom");
        assert_eq!(
            cb.state(),
            State::Closed,
            "{failure} failures of {}",
            100 + failure
        );
    }
    fail(&cb, "the 100th");
    assert_eq!(cb.state(), State::Open);
    assert_eq!(
        cb.try_acquire().expect_err("open").reason(),
        Some(Reason::FailureRate {
            rate: 50.0,
            threshold: 50.0
        })
    );
}

#[test]
fn a_slow_call_rate_trips_even_when_every_call_succeeds() {
    for window in [
        SlidingWindow::count(10),
        SlidingWindow::time(Duration::from_secs(60), 6),
    ] {
        let (cb, clock) = on_manual_clock(
            CircuitBreaker::builder("slow")
                .without_failure_threshold()
                .slow_call_duration(SECOND)
                .slow_call_rate_threshold(50.0)
                .minimum_calls(4)
                .sliding_window(window),
        );
        succeed(&cb);
        succeed_after(&cb, &clock, SECOND);
        succeed(&cb);
        assert_eq!(cb.state(), State::Closed, "{window:?}");
        succeed_after(&cb, &clock, 3 * SECOND);
        assert_eq!(cb.state(), State::Open, "{window:?}: 2 of 4 at least 1 s");
    }
}

#[test]
fn without_a_window_policy_the_snapshot_shows_no_window() {
    let (cb, _clock) = on_manual_clock(CircuitBreaker::builder("plain").failure_threshold(3));
    fail(&cb, "boom");
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.window_calls, None);
    assert_eq!(snapshot.failure_rate, None);
}

/// The buckets' edges, exactly: a call at a bucket's first instant belongs to that bucket, and
/// a bucket is gone the instant the window has slid a whole length past it.
#[test]
fn a_time_window_counts_a_call_in_its_bucket_until_exactly_one_length_later() {
    let (cb, clock) = rates(SlidingWindow::time(Duration::from_secs(10), 10), 100);
    clock.advance(Duration::from_millis(500));
    succeed(&cb);
    clock.advance(Duration::from_millis(500));
    fail(&cb, "at 1 s sharp: the second bucket");
    clock.advance(Duration::from_millis(8_999));
    assert_eq!(
        cb.snapshot().window_calls,
        Some(2),
        "at 9.999 s both are in"
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        cb.snapshot().window_calls,
        Some(1),
        "at 10 s the first bucket is out"
    );
    assert_eq!(cb.snapshot().failure_rate, Some(100.0));
    clock.advance(Duration::from_millis(999));
    assert_eq!(
        cb.snapshot().window_calls,
        Some(1),
        "at 10.999 s the second is still in"
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(cb.snapshot().window_calls, Some(0), "at 11 s it is out too");
}

/// Slow successes in a window already holding `minimum_calls` (where plain successes are
/// counted without the machine) are still judged: they can open the circuit on their own.
#[test]
fn slow_successes_in_a_warm_time_window_open_it() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("slow-warm")
            .without_failure_threshold()
            .slow_call_duration(SECOND)
            .slow_call_rate_threshold(50.0)
            .minimum_calls(4)
            .sliding_window(SlidingWindow::time(Duration::from_secs(60), 6)),
    );
    for _ in 0..4 {
        succeed(&cb);
    }
    for slow in 1..4 {
        succeed_after(&cb, &clock, SECOND);
        assert_eq!(cb.state(), State::Closed, "{slow} slow of {}", 4 + slow);
    }
    succeed_after(&cb, &clock, SECOND);
    assert_eq!(cb.state(), State::Open, "4 slow of 8");
}

/// A call admitted before the circuit opened and closed again ends in the same time slice as
/// calls of the new generation, on the same thread: its late outcome must not wipe them.
#[test]
fn a_late_outcome_leaves_the_new_generations_calls_in_a_shared_bucket() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("late")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .minimum_calls(2)
            .sliding_window(SlidingWindow::time(Duration::from_secs(100), 10))
            .recovery_timeout(SECOND),
    );
    let straggler = cb.try_acquire().expect("closed");
    fail(&cb, "down");
    fail(&cb, "down");
    assert_eq!(cb.state(), State::Open);
    clock.advance(SECOND);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    succeed(&cb);
    succeed(&cb);
    assert_eq!(cb.snapshot().window_calls, Some(2));
    straggler.success();
    assert_eq!(
        cb.snapshot().window_calls,
        Some(2),
        "the straggler wiped nothing"
    );
}
