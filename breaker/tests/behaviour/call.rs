//! The async `call` wrappers: classification, rejection without running, cancellation.

use std::future::pending;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, Error, ManualClock, Outcome, State};

fn breaker(clock: &ManualClock, threshold: u32) -> CircuitBreaker {
    CircuitBreaker::builder("backend")
        .failure_threshold(threshold)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .expect("valid")
}

#[tokio::test]
async fn a_rejected_call_never_invokes_the_closure() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = cb.call(|| async { Err::<(), _>("down") }).await;
    let invoked = AtomicU32::new(0);
    let result = cb
        .call(|| {
            invoked.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, &str>(()) }
        })
        .await;
    assert!(matches!(result, Err(Error::Rejected(_))));
    assert_eq!(invoked.load(Ordering::SeqCst), 0);
    assert_eq!(cb.snapshot().calls.rejected, 1);
}

#[tokio::test]
async fn a_classifier_can_ignore_client_errors_and_fail_server_errors_inside_ok() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 2);
    let classify = |result: &Result<u16, String>| match result {
        Ok(status) if *status >= 500 => Outcome::failure(format_args!("HTTP {status}")),
        Ok(status) if *status >= 400 => Outcome::ignored(),
        Ok(_) => Outcome::success(),
        Err(error) => Outcome::failure(error),
    };
    for status in [404, 404, 503, 404] {
        let result = cb.call_with(classify, || async move { Ok(status) }).await;
        assert_eq!(
            result.ok(),
            Some(status),
            "the result is returned unchanged"
        );
    }
    assert_eq!(
        cb.state(),
        State::Closed,
        "one failure; the 404s count as nothing"
    );
    let _ = cb.call_with(classify, || async { Ok(500) }).await;
    assert_eq!(cb.state(), State::Open);
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.last_failure.as_deref(), Some("HTTP 500"));
    assert_eq!((snapshot.calls.ignored, snapshot.calls.failed), (3, 2));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_probe_releases_its_slot() {
    let clock = ManualClock::new();
    let cb = breaker(&clock, 1);
    let _ = cb.call(|| async { Err::<(), _>("down") }).await;
    clock.advance(Duration::from_secs(1));

    // The probe hangs; the caller's timeout drops the future mid-call.
    let hung = tokio::time::timeout(
        Duration::from_millis(100),
        cb.call(pending::<Result<(), &str>>),
    )
    .await;
    assert!(hung.is_err(), "timed out");
    assert_eq!(cb.state(), State::HalfOpen);
    assert_eq!(cb.snapshot().probes_in_flight, 0, "the slot was freed");

    let result = cb.call(|| async { Ok::<_, &str>("recovered") }).await;
    assert_eq!(result.ok(), Some("recovered"), "the next probe is admitted");
    assert_eq!(cb.state(), State::Closed);
}

#[tokio::test]
async fn a_spawned_call_can_hold_an_owned_permit() {
    let cb = CircuitBreaker::builder("spawned").build().expect("valid");
    let permit = cb.try_acquire_owned().expect("closed");
    tokio::spawn(async move { permit.failure("from a task") })
        .await
        .expect("task ran");
    assert_eq!(cb.snapshot().calls.failed, 1);
}

#[test]
fn an_owned_permit_settles_like_a_borrowed_one() {
    let (cb, clock) = crate::support::on_manual_clock(
        CircuitBreaker::builder("owned")
            .failure_threshold(2)
            .half_open_max_calls(2)
            .success_threshold(2)
            .recovery_timeout(Duration::from_secs(1)),
    );
    let first = cb.try_acquire_owned().expect("closed");
    assert!(!first.is_probe());
    first.failure("down");
    cb.try_acquire_owned().expect("closed").success();
    assert_eq!(
        cb.snapshot().consecutive_failures,
        0,
        "the owned success reset it"
    );
    cb.try_acquire_owned().expect("closed").ignore();
    let calls = cb.snapshot().calls;
    assert_eq!((calls.failed, calls.successful, calls.ignored), (1, 1, 1));

    cb.try_acquire().expect("closed").failure("down");
    cb.try_acquire().expect("closed").failure("down");
    clock.advance(Duration::from_secs(1));
    let probe = cb.try_acquire_owned().expect("half-open");
    assert!(probe.is_probe());
    let other = cb.try_acquire_owned().expect("a second probe slot");
    probe.ignore();
    assert_eq!(
        cb.snapshot().probes_in_flight,
        1,
        "the ignored probe freed its slot"
    );
    other.success();
    assert_eq!(cb.state(), State::HalfOpen, "one success of two");
    cb.try_acquire_owned().expect("a probe").success();
    assert_eq!(cb.state(), State::Closed);
}
