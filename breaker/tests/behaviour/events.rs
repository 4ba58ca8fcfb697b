//! Listeners hear every transition and outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, EventKind, ManualClock, Reason, State};

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

    cb.try_acquire().expect("closed").ignore();
    cb.try_acquire().expect("closed").failure("down");
    // However a rejection is decided, the machine's lock taken or not, it is heard.
    for _ in 0..3 {
        cb.try_acquire().expect_err("open");
    }
    clock.advance(Duration::from_secs(1));
    cb.try_acquire().expect("probe").success();

    assert_eq!(
        *heard.lock().expect("not poisoned"),
        [
            "ignored",
            "failure: down",
            "CLOSED -> OPEN (1 consecutive failures)",
            "rejected while OPEN",
            "rejected while OPEN",
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

#[test]
fn rate_trips_name_the_rate_in_the_reason() {
    let reasons: Arc<Mutex<Vec<Reason>>> = Arc::default();
    let log = reasons.clone();
    let cb = CircuitBreaker::builder("rated")
        .without_failure_threshold()
        .failure_rate_threshold(50.0)
        .sliding_window(trip_breaker::SlidingWindow::count(10))
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

#[test]
fn a_panicking_listener_cannot_leave_a_probe_slot_held() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("panicky")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .on_event(|_| panic!("a listener bug"))
        .build()
        .expect("valid");
    cb.try_acquire().expect("closed").failure("down");
    assert_eq!(cb.state(), State::Open, "the failure was recorded");
    clock.advance(Duration::from_secs(1));
    let probe = cb
        .try_acquire()
        .expect("the probe is admitted despite the listener");
    probe.ignore();
    assert_eq!(cb.snapshot().probes_in_flight, 0);
    cb.try_acquire().expect("the slot was freed").success();
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn a_transition_listener_hears_transitions_and_nothing_else() {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let log = heard.clone();
    let (cb, clock) = crate::support::on_manual_clock(
        CircuitBreaker::builder("transitions-only")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(1))
            .on_transition(move |event| {
                assert_eq!(event.breaker, "transitions-only");
                match event.kind {
                    EventKind::StateChanged(transition) => {
                        log.lock()
                            .expect("not poisoned")
                            .push(transition.to_string());
                    }
                    other => panic!("a transition listener heard {other:?}"),
                }
            }),
    );
    cb.try_acquire().expect("closed").success();
    cb.try_acquire().expect("closed").ignore();
    cb.try_acquire().expect("closed").failure("down");
    assert!(cb.try_acquire().is_err());
    clock.advance(Duration::from_secs(1));
    cb.try_acquire().expect("probe").success();
    assert_eq!(
        *heard.lock().expect("not poisoned"),
        [
            "CLOSED -> OPEN (1 consecutive failures)",
            "OPEN -> HALF_OPEN (recovery timeout elapsed)",
            "HALF_OPEN -> CLOSED (half-open probe succeeded)",
        ]
    );
}
