//! The instruction benchmarks measure what they say: every setup leaves its breaker in the
//! state its scenario names, and the call each measures is admitted, rejected or probes as
//! the scenario says, for `breaker` through each entry point and for every peer.

// Under `--cfg loom` only tests/loom.rs runs; the rest needs dev-dependencies it leaves out.
#![cfg(not(loom))]

#[path = "../benches/subjects/mod.rs"]
#[allow(dead_code)]
mod subjects;

use subjects::ours::{Call, CallWith, Limiter, Permit, Throttled, Tower};
use subjects::peers::{failsafe_peer, recloser_peer, tower_resilience_peer, wyatt_peer};
use subjects::{Subject, TimeWindow, closed, due_for_probe, open, window_full};

/// Every scenario of one subject: Closed admits a success and a failure below the threshold,
/// Open rejects, and the first call after the open duration is admitted.
fn scenarios_hold<S: Subject>() {
    assert!(closed::<S>().call(true), "Closed admits a success");
    assert!(
        closed::<S>().call(false),
        "Closed admits a failure below the threshold"
    );
    assert!(!open::<S>().call(true), "Open rejects");
    let mut due = due_for_probe::<S>();
    assert!(
        due.call(true),
        "the first call after the open duration is a probe"
    );
}

#[test]
fn every_subject_does_what_its_scenarios_say() {
    scenarios_hold::<Permit>();
    scenarios_hold::<Call>();
    scenarios_hold::<CallWith>();
    scenarios_hold::<Tower>();
    scenarios_hold::<Throttled>();
    scenarios_hold::<failsafe_peer::Sync>();
    scenarios_hold::<failsafe_peer::Async>();
    scenarios_hold::<recloser_peer::Sync>();
    scenarios_hold::<recloser_peer::Async>();
    scenarios_hold::<wyatt_peer::Call>();
    scenarios_hold::<wyatt_peer::Tower>();
    scenarios_hold::<tower_resilience_peer::Tower>();
}

#[test]
fn breakers_probe_closes_the_circuit_and_its_rejection_comes_from_the_trip() {
    let mut due = due_for_probe::<Permit>();
    assert!(due.call(true));
    assert_eq!(due.0.state(), trip_breaker::State::Closed);
    let open = open::<Permit>();
    let rejected = open.0.try_acquire().expect_err("Open rejects");
    assert_eq!(rejected.failure_count(), subjects::FAILURES_TO_OPEN);
    assert_eq!(rejected.last_failure(), Some("connection refused"));
}

fn window_holds<S: TimeWindow>() {
    assert!(
        window_full::<S>().succeed(),
        "a full window admits a success"
    );
}

#[test]
fn time_window_subjects_admit_with_a_full_window() {
    window_holds::<Permit>();
    window_holds::<failsafe_peer::RateOverTime>();
    window_holds::<tower_resilience_peer::Tower>();
    let window = window_full::<Permit>();
    assert_eq!(
        window.0.snapshot().window_calls,
        Some(subjects::WINDOW_WARM_UP)
    );
}

#[test]
fn the_limiter_grants_and_takes_back_a_permit() {
    let mut limiter = Limiter::new();
    assert!(limiter.acquire_release());
    assert_eq!(limiter.0.in_flight(), 0);
}
