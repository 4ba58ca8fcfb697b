//! Listeners hear every transition and outcome; the log names from, to and reason.

use breaker::{CircuitBreaker, EventKind, ManualClock, Reason, State};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn listeners_hear_outcomes_rejections_and_transitions_in_order() {
    let clock = ManualClock::new();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = heard.clone();
    let cb = CircuitBreaker::builder("listened")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .on_event(move |event| {
            assert_eq!(event.breaker, "listened");
            let line = match event.kind {
                EventKind::StateChanged(transition) => transition.to_string(),
                EventKind::Succeeded { .. } => "success".into(),
                EventKind::Failed { cause, .. } => format!("failure: {cause}"),
                EventKind::Ignored => "ignored".into(),
                EventKind::Rejected { state } => format!("rejected while {state}"),
            };
            log.lock().expect("not poisoned").push(line);
        })
        .build()
        .expect("valid");

    cb.try_acquire().expect("closed").failure("down");
    let _ = cb.try_acquire();
    clock.advance(Duration::from_secs(1));
    cb.try_acquire().expect("probe").success();

    assert_eq!(
        *heard.lock().expect("not poisoned"),
        [
            "failure: down",
            "CLOSED -> OPEN (1 consecutive failures)",
            "rejected while OPEN",
            "OPEN -> HALF_OPEN (recovery timeout elapsed)",
            "success",
            "HALF_OPEN -> CLOSED (half-open probe succeeded)",
        ]
    );
}

#[test]
fn a_listener_may_call_back_into_the_breaker() {
    let slot: Arc<Mutex<Option<CircuitBreaker>>> = Arc::default();
    let seen: Arc<Mutex<Vec<State>>> = Arc::default();
    let (inner, log) = (slot.clone(), seen.clone());
    let cb = CircuitBreaker::builder("reentrant")
        .failure_threshold(1)
        .on_event(move |event| {
            if let EventKind::StateChanged(_) = event.kind
                && let Some(cb) = inner.lock().expect("not poisoned").as_ref()
            {
                log.lock().expect("not poisoned").push(cb.snapshot().state);
            }
        })
        .build()
        .expect("valid");
    *slot.lock().expect("not poisoned") = Some(cb.clone());
    cb.try_acquire().expect("closed").failure("down");
    assert_eq!(*seen.lock().expect("not poisoned"), [State::Open]);
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_transition_is_logged_with_from_to_and_reason() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(3)
            .build()
            .expect("valid");
        for _ in 0..3 {
            cb.try_acquire().expect("closed").failure("down");
        }
        cb.reset();
    });
    let log = String::from_utf8(buffer.0.lock().expect("not poisoned").clone()).expect("utf-8");
    assert!(
        log.contains("circuit call_service_b: CLOSED -> OPEN (3 consecutive failures)"),
        "{log}"
    );
    assert!(
        log.contains("circuit call_service_b: OPEN -> CLOSED (reset)"),
        "{log}"
    );
}

#[test]
fn rate_trips_name_the_rate_in_the_reason() {
    let reasons: Arc<Mutex<Vec<Reason>>> = Arc::default();
    let log = reasons.clone();
    let cb = CircuitBreaker::builder("rated")
        .without_failure_threshold()
        .failure_rate_threshold(50.0)
        .sliding_window(breaker::SlidingWindow::count(10))
        .minimum_calls(4)
        .on_event(move |event| {
            if let EventKind::StateChanged(transition) = event.kind {
                log.lock().expect("not poisoned").push(transition.reason);
            }
        })
        .build()
        .expect("valid");
    for ok in [true, false, true, false] {
        let permit = cb.try_acquire().expect("closed");
        if ok {
            permit.success()
        } else {
            permit.failure("down")
        }
    }
    assert_eq!(
        *reasons.lock().expect("not poisoned"),
        [Reason::FailureRate {
            rate: 50.0,
            threshold: 50.0
        }]
    );
}
