//! Many threads, one breaker: exact counts, and never more probes than allowed.

use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use trip_breaker::{CircuitBreaker, ManualClock, State};

const THREADS: u64 = 4;
const CALLS: u64 = 25_000;
/// Rounds of the HalfOpen test, each ending at a barrier.
const ROUNDS: u64 = 2_000;

#[test]
fn four_threads_are_counted_exactly() {
    let cb = CircuitBreaker::builder("shared")
        .failure_threshold(u32::MAX)
        .build()
        .expect("valid");
    // Every thread starts at the barrier, so all four are alive at once and each counts in a
    // slot of its own (a thread that has ended could hand its slot on to the next).
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (cb, start) = (cb.clone(), &start);
            scope.spawn(move || {
                start.wait();
                for call in 0..CALLS {
                    let permit = cb.try_acquire().expect("closed");
                    match (call + thread) % 4 {
                        0 => permit.failure("boom"),
                        1 => permit.ignore(),
                        2 => drop(permit),
                        _ => permit.success(),
                    }
                }
            });
        }
    });
    let calls = cb.snapshot().calls;
    assert_eq!(calls.failed, THREADS * CALLS / 4);
    assert_eq!(calls.ignored, THREADS * CALLS / 4);
    assert_eq!(calls.successful, THREADS * CALLS / 4);
    assert_eq!(calls.rejected, 0);

    cb.force_open();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..CALLS {
                    assert!(cb.try_acquire().is_err());
                }
            });
        }
    });
    assert_eq!(cb.snapshot().calls.rejected, THREADS * CALLS);
}

#[test]
fn half_open_never_admits_more_probes_than_the_limit() {
    const LIMIT: u32 = 2;
    let clock = ManualClock::new();
    let cb = CircuitBreaker::builder("probed")
        .failure_threshold(1)
        .recovery_timeout(Duration::from_secs(1))
        .half_open_max_calls(LIMIT)
        .clock(clock.clone())
        .build()
        .expect("valid");
    cb.try_acquire().expect("closed").failure("down");
    clock.advance(Duration::from_secs(1));
    assert_eq!(cb.state(), State::HalfOpen);

    let in_flight = AtomicU32::new(0);
    let most = AtomicU32::new(0);
    let admitted = AtomicU64::new(0);
    // Each round, every thread tries for a probe and holds what it got until all four have
    // tried: the probes overlap for certain, so a breaker that admitted too many would show it.
    let tried = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ROUNDS {
                    let probe = cb.try_acquire().ok();
                    if probe.is_some() {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                    tried.wait();
                    if let Some(probe) = probe {
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        // Ignored probes keep the circuit HalfOpen for the whole test.
                        probe.ignore();
                    }
                    tried.wait();
                }
            });
        }
    });
    assert_eq!(
        most.load(Ordering::SeqCst),
        LIMIT,
        "the probes overlapped, and never more than {LIMIT} ran at once"
    );
    assert_eq!(admitted.load(Ordering::Relaxed), ROUNDS * u64::from(LIMIT));
    assert_eq!(cb.state(), State::HalfOpen);
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.probes_in_flight, 0);
    assert_eq!(
        snapshot.calls.ignored + snapshot.calls.rejected,
        THREADS * ROUNDS,
        "every attempt was either a probe or a rejection"
    );
}

#[test]
fn concurrent_failures_open_the_circuit_once() {
    let transitions = std::sync::Arc::new(AtomicU32::new(0));
    let seen = transitions.clone();
    let cb = CircuitBreaker::builder("stampede")
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(60))
        .on_event(move |event| {
            if matches!(event.kind, trip_breaker::EventKind::StateChanged(_)) {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .expect("valid");
    // Every thread is admitted while Closed, then all fail: only one transition may result.
    let permits: Vec<_> = (0..20)
        .map(|_| cb.try_acquire_owned().expect("closed"))
        .collect();
    std::thread::scope(|scope| {
        for permit in permits {
            scope.spawn(move || permit.failure("down"));
        }
    });
    assert_eq!(cb.state(), State::Open);
    assert_eq!(transitions.load(Ordering::SeqCst), 1);
    assert!(cb.try_acquire().is_err());
}

#[test]
fn a_time_window_kept_per_thread_adds_up_exactly() {
    let cb = CircuitBreaker::builder("windowed")
        .without_failure_threshold()
        .failure_rate_threshold(100.0)
        .sliding_window(trip_breaker::SlidingWindow::time(
            Duration::from_secs(3600),
            60,
        ))
        .minimum_calls(1_000_000)
        .build()
        .expect("valid");
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for call in 0..CALLS {
                    let permit = cb.try_acquire().expect("never trips");
                    if call % 5 == 0 {
                        permit.failure("boom")
                    } else {
                        permit.success()
                    }
                }
            });
        }
    });
    let snapshot = cb.snapshot();
    assert_eq!(snapshot.window_calls, Some((THREADS * CALLS) as u32));
    assert_eq!(snapshot.failure_rate, Some(20.0));
}

#[test]
fn failures_on_several_threads_trip_a_time_window_together() {
    let cb = CircuitBreaker::builder("windowed")
        .without_failure_threshold()
        .failure_rate_threshold(50.0)
        .sliding_window(trip_breaker::SlidingWindow::time(
            Duration::from_secs(3600),
            60,
        ))
        .minimum_calls(40)
        .recovery_timeout(Duration::from_secs(3600))
        .build()
        .expect("valid");
    // Ten failures on each of four threads: no thread alone reaches minimum_calls.
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for _ in 0..10 {
                    if let Ok(permit) = cb.try_acquire() {
                        permit.failure("down");
                    }
                }
            });
        }
    });
    assert_eq!(cb.state(), State::Open);
}
