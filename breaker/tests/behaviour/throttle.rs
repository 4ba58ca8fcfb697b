//! The adaptive throttle through the public API: it acts while Closed, beside the trip
//! policies or alone, counts its rejections as every rejection is counted, and keeps its counts
//! exact under many threads.

use crate::support::{SECOND, on_manual_clock, on_threads_at_once};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use trip_breaker::{AdaptiveThrottle, CircuitBreaker, EventKind, Reason, State};

/// A throttle that rejects from the first failure on, at most 9 calls in 10, seeded.
fn eager() -> AdaptiveThrottle {
    AdaptiveThrottle::new()
        .k(1.5)
        .minimum_requests(1)
        .max_rejection(0.9)
        .seed(7)
}

/// Asks for `calls` calls, failing every one admitted; returns how many were throttled.
fn fail_all(cb: &CircuitBreaker, calls: u32) -> u32 {
    let mut throttled = 0;
    for _ in 0..calls {
        match cb.try_acquire() {
            Ok(permit) => permit.failure("HTTP 503"),
            Err(rejected) => {
                assert_eq!(rejected.state(), State::Closed);
                assert!(
                    matches!(rejected.reason(), Some(Reason::Throttled { .. })),
                    "{rejected}"
                );
                throttled += 1;
            }
        }
    }
    throttled
}

#[test]
fn a_throttle_without_any_trip_policy_is_valid_and_never_opens_the_circuit() {
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(eager()),
    );
    let throttled = fail_all(&cb, 1_000);
    assert!((850..=930).contains(&throttled), "{throttled}");
    assert_eq!(cb.state(), State::Closed);
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.calls.rejected, u64::from(throttled));
    assert_eq!(snapshot.calls.failed, 1_000 - u64::from(throttled));
    assert_eq!(snapshot.rejection_probability, Some(0.9));
    assert_eq!(cb.config().adaptive_throttle(), Some(eager()));
}

#[test]
fn without_a_throttle_or_a_trip_policy_the_builder_names_the_missing_policy() {
    let err = CircuitBreaker::builder("b")
        .without_failure_threshold()
        .build()
        .expect_err("nothing would protect the backend");
    assert_eq!(err.field(), "failure_threshold");
    assert!(err.reason().contains("adaptive_throttle"), "{err}");
}

#[test]
fn invalid_throttle_settings_are_refused_at_build_naming_the_field() {
    let err = CircuitBreaker::builder("b")
        .adaptive_throttle(AdaptiveThrottle::new().max_rejection(1.0))
        .build()
        .expect_err("a probability of 1 would never see the backend recover");
    assert_eq!(err.field(), "adaptive_throttle.max_rejection");
    assert_eq!(
        err.to_string(),
        "invalid circuit breaker setting `adaptive_throttle.max_rejection`: must be a \
         probability in [0, 1) (got 1)"
    );
}

#[test]
fn a_breaker_without_a_throttle_has_no_rejection_probability() {
    let (cb, _clock) = on_manual_clock(CircuitBreaker::builder("b"));
    assert_eq!(cb.snapshot().rejection_probability, None);
    assert_eq!(cb.config().adaptive_throttle(), None);
}

#[test]
fn a_trip_policy_still_opens_the_circuit_and_probes_are_not_throttled() {
    let (cb, clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .failure_threshold(5)
            .recovery_timeout(5 * SECOND)
            .adaptive_throttle(eager()),
    );
    while cb.state() == State::Closed {
        if let Ok(permit) = cb.try_acquire() {
            permit.failure("HTTP 503");
        }
    }
    assert_eq!(cb.state(), State::Open);
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(rejected.reason(), Some(Reason::ConsecutiveFailures(5)));
    clock.advance(5 * SECOND);
    // The 10 s window still holds the failures, yet the probe passes: the throttle acts while
    // Closed only.
    assert!(cb.snapshot().rejection_probability > Some(0.5));
    let probe = cb.try_acquire().expect("a probe");
    assert!(probe.is_probe());
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn a_throttled_call_is_counted_and_announced_as_a_rejection_while_closed() {
    let rejections = Arc::new(AtomicU64::new(0));
    let heard = Arc::clone(&rejections);
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(eager())
            .on_event(move |event| {
                if let EventKind::Rejected { state } = event.kind {
                    assert_eq!(state, State::Closed);
                    heard.fetch_add(1, Ordering::Relaxed);
                }
            }),
    );
    let throttled = fail_all(&cb, 200);
    assert!(throttled > 0);
    assert_eq!(rejections.load(Ordering::Relaxed), u64::from(throttled));
    assert_eq!(cb.snapshot().calls.rejected, u64::from(throttled));
}

#[test]
fn a_throttled_rejection_says_the_probability_and_the_windows_counts() {
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(eager()),
    );
    fail_all(&cb, 100);
    let rejected = std::iter::repeat_with(|| cb.try_acquire())
        .take(100)
        .find_map(Result::err)
        .expect("some call is throttled");
    let Some(Reason::Throttled {
        probability,
        requests,
        accepts,
        window,
    }) = rejected.reason()
    else {
        panic!("{rejected}")
    };
    assert_eq!((probability, accepts, window), (0.9, 0, 10 * SECOND));
    assert!(requests >= 100, "{requests}");
    assert_eq!(
        rejected.to_string(),
        format!(
            "Circuit \"b\" CLOSED: throttled, rejection probability 0.90 ({requests} requests, \
             0 accepted within 10s)"
        )
    );
}

#[test]
fn a_permit_dropped_without_an_outcome_counts_as_nothing_to_the_throttle() {
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(eager()),
    );
    for _ in 0..10 {
        cb.try_acquire().expect("nothing to throttle yet").success();
    }
    for _ in 0..100 {
        // A call cancelled before it ended: a timeout above it, a caller that went away.
        drop(cb.try_acquire().expect("cancelled calls are not failures"));
    }
    assert_eq!(cb.snapshot().rejection_probability, Some(0.0));
}

#[test]
fn reset_forgets_the_throttles_window() {
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("b")
            .without_failure_threshold()
            .adaptive_throttle(eager()),
    );
    fail_all(&cb, 100);
    assert_eq!(cb.snapshot().rejection_probability, Some(0.9));
    cb.reset();
    assert_eq!(cb.snapshot().rejection_probability, Some(0.0));
}

#[test]
fn every_success_counts_towards_the_window_under_four_threads() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 10_000;
    let (cb, _clock) = on_manual_clock(
        CircuitBreaker::builder("shared")
            .without_failure_threshold()
            .adaptive_throttle(eager().k(1.0)),
    );
    on_threads_at_once(THREADS, |thread| {
        for call in 0..CALLS {
            if let Ok(permit) = cb.try_acquire() {
                // One failure in four: with K = 1 the throttle rejects about a quarter.
                if (call + thread) % 4 == 0 {
                    permit.failure("HTTP 503");
                } else {
                    permit.success();
                }
            }
        }
    });
    let snapshot = cb.snapshot();
    let calls = snapshot.calls;
    assert_eq!(
        calls.successful + calls.failed + calls.rejected,
        THREADS * CALLS,
        "{calls:?}"
    );
    assert!(calls.rejected > 0, "{calls:?}");
    // The window holds every request and every success (the clock stands still): the next
    // rejection's counts say so.
    let rejected = std::iter::repeat_with(|| cb.try_acquire())
        .take(10_000)
        .find_map(Result::err)
        .expect("some call is throttled");
    let Some(Reason::Throttled {
        requests, accepts, ..
    }) = rejected.reason()
    else {
        panic!("{rejected}")
    };
    assert_eq!(accepts, calls.successful);
    assert!(requests >= THREADS * CALLS, "{requests}");
    assert!(snapshot.rejection_probability > Some(0.0));
}
