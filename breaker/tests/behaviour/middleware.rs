//! The tower middleware: shared across clones, rejections are `Rejected`, cancellation is safe.

use std::convert::Infallible;
use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt, service_fn};
use trip_breaker::middleware::CircuitBreakerLayer;
use trip_breaker::{CircuitBreaker, ManualClock, Outcome, Rejected, State};

fn breaker(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::builder("tower")
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .expect("valid")
}

#[tokio::test]
async fn clones_of_the_service_share_one_breaker_and_rejections_skip_the_inner_service() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let inner = service_fn(move |fail: bool| {
        counted.fetch_add(1, Ordering::SeqCst);
        async move { if fail { Err("boom") } else { Ok("fine") } }
    });
    let service = CircuitBreakerLayer::new(breaker(&clock)).layer(inner);

    for _ in 0..2 {
        let error = service.clone().oneshot(true).await.expect_err("fails");
        assert!(!error.is::<Rejected>());
    }
    let error = service.clone().oneshot(false).await.expect_err("rejected");
    let rejected = error.downcast_ref::<Rejected>().expect("a rejection");
    assert_eq!(rejected.state(), State::Open);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the rejected request never reached the inner service"
    );
    assert_eq!(service.breaker().state(), State::Open);
}

#[tokio::test]
async fn a_classifier_turns_ok_server_errors_into_failures() {
    let clock = ManualClock::new();
    let layer = CircuitBreakerLayer::new(breaker(&clock)).with_classifier(
        |result: &Result<u16, Infallible>| match result {
            Ok(status) if *status >= 500 => Outcome::failure(format_args!("HTTP {status}")),
            Ok(status) if *status >= 400 => Outcome::ignored(),
            _ => Outcome::success(),
        },
    );
    let mut service = layer.layer(service_fn(|status: u16| async move { Ok(status) }));
    for status in [404, 500, 404, 502] {
        let answer = service.ready().await.expect("ready").call(status).await;
        assert_eq!(answer.expect("passed through"), status);
    }
    assert_eq!(service.breaker().state(), State::Open);
    assert_eq!(
        service.breaker().snapshot().last_failure.as_deref(),
        Some("HTTP 502")
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_response_future_frees_the_probe_slot() {
    let clock = ManualClock::new();
    let cb = breaker(&clock);
    let hanging = service_fn(|_: ()| pending::<Result<(), Infallible>>());
    let service = CircuitBreakerLayer::new(cb.clone()).layer(hanging);
    for _ in 0..2 {
        cb.try_acquire().expect("closed").failure("down");
    }
    clock.advance(Duration::from_secs(1));
    let timed_out =
        tokio::time::timeout(Duration::from_millis(50), service.clone().oneshot(())).await;
    assert!(timed_out.is_err());
    assert_eq!(cb.snapshot().probes_in_flight, 0);
    assert!(cb.try_acquire().expect("slot free").is_probe());
}

/// Readiness is the inner service's: a busy inner service makes the guarded one wait too.
#[tokio::test]
async fn the_guarded_service_is_ready_only_when_the_inner_one_is() {
    let clock = ManualClock::new();
    let inner = tower::limit::ConcurrencyLimit::new(
        service_fn(|_: ()| async { Ok::<_, Infallible>(()) }),
        1,
    );
    let mut first = CircuitBreakerLayer::new(breaker(&clock)).layer(inner);
    let mut second = first.clone();
    std::future::poll_fn(|cx| first.poll_ready(cx))
        .await
        .expect("the one slot");
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(
        second.poll_ready(&mut cx).is_pending(),
        "the limit's only slot is taken"
    );
    drop(first);
    assert!(second.poll_ready(&mut cx).is_ready(), "and now it is free");
}
