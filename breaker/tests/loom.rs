//! The lock-free fast path, model-checked: loom runs each scenario under every interleaving of
//! the breaker's atomics and locks (bounded in preemptions), where the barrier-started thread
//! tests elsewhere sample a few.
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 \
//!     cargo test -p trip-breaker --release --test loom --target-dir target/loom -- --nocapture
//! ```
//!
//! Everything goes through the public API on a [`ManualClock`], so these check what callers
//! rely on: exact counts, no more probes than allowed, late outcomes that steer nothing, and
//! rejections that describe one trip, never a mix of two.

#![cfg(loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicU32, Ordering};
use loom::thread;
use std::time::Duration;
use trip_breaker::{CircuitBreaker, ManualClock, Reason, SlidingWindow, State};

const RECOVERY: Duration = Duration::from_secs(10);

fn breaker(clock: &ManualClock, failure_threshold: u32) -> CircuitBreaker {
    CircuitBreaker::builder("loom")
        .failure_threshold(failure_threshold)
        .recovery_timeout(RECOVERY)
        .clock(clock.clone())
        .build()
        .expect("valid")
}

/// Loom's default settings, with the preemption bound from `LOOM_MAX_PREEMPTIONS` (4 when
/// unset), so a run finishes in minutes. Prints how many interleavings it explored.
#[track_caller]
fn model(scenario: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(4);
    }
    let explored = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = explored.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        scenario();
    });
    eprintln!(
        "{}: {} interleavings explored",
        std::panic::Location::caller(),
        explored.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// One thread's failure trips the circuit while another's call is admitted and succeeds, or
/// is rejected: every call is counted exactly once and the circuit ends Open. (Both calls run
/// on spawned threads, so that loom also tries the one that rejects first.)
#[test]
fn concurrent_acquire_and_settle_across_a_trip() {
    model(|| {
        let clock = ManualClock::new();
        let cb = breaker(&clock, 1);
        let tripping = {
            let cb = cb.clone();
            thread::spawn(move || cb.try_acquire().expect("closed").failure("down"))
        };
        let calling = {
            let cb = cb.clone();
            thread::spawn(move || match cb.try_acquire() {
                Ok(permit) => {
                    permit.success();
                    true
                }
                Err(rejected) => {
                    assert_eq!(rejected.state(), State::Open);
                    assert_eq!(rejected.failure_count(), 1);
                    assert_eq!(rejected.last_failure(), Some("down"));
                    false
                }
            })
        };
        tripping.join().expect("no panic");
        let ran = calling.join().expect("no panic");
        let snapshot = cb.snapshot();
        assert_eq!(snapshot.state, State::Open);
        assert_eq!(snapshot.calls.failed, 1);
        assert_eq!(snapshot.calls.successful, u64::from(ran));
        assert_eq!(snapshot.calls.rejected, u64::from(!ran));
        assert_eq!(snapshot.transitions, 1);
        assert!(cb.try_acquire().is_err(), "the published word says Open");
    });
}

/// A call admitted while Closed ends after the circuit has opened and half-opened: its failure
/// must not steer the machine, whatever the probe is doing at that moment.
#[test]
fn a_late_outcome_from_an_old_generation_steers_nothing() {
    model(|| {
        let clock = ManualClock::new();
        let cb = breaker(&clock, 1);
        let straggler = cb.try_acquire_owned().expect("closed");
        cb.try_acquire().expect("closed").failure("down");
        clock.advance(RECOVERY);
        let late = thread::spawn(move || straggler.failure("late"));
        let probing = {
            let cb = cb.clone();
            thread::spawn(move || cb.try_acquire().expect("the probe").success())
        };
        late.join().expect("no panic");
        probing.join().expect("no panic");
        let snapshot = cb.snapshot();
        assert_eq!(snapshot.state, State::Closed, "only the probe counts");
        assert_eq!(
            snapshot.calls.failed, 2,
            "the late failure is still counted"
        );
        assert_eq!(snapshot.calls.successful, 1);
    });
}

/// Two threads race for the one probe slot; one gives its probe up (a cancelled call). Never
/// are two probes out at once, and the slot is never left held.
#[test]
fn probe_slots_hold_with_a_cancelled_probe() {
    model(|| {
        let clock = ManualClock::new();
        let cb = breaker(&clock, 1);
        cb.try_acquire().expect("closed").failure("down");
        clock.advance(RECOVERY);
        let out = Arc::new(AtomicU32::new(0));
        let cancelling = {
            let (cb, out) = (cb.clone(), out.clone());
            thread::spawn(move || {
                if let Ok(probe) = cb.try_acquire() {
                    assert_eq!(out.fetch_add(1, Ordering::SeqCst), 0, "two probes out");
                    out.fetch_sub(1, Ordering::SeqCst);
                    drop(probe);
                }
            })
        };
        let succeeding = {
            let (cb, out) = (cb.clone(), out.clone());
            thread::spawn(move || match cb.try_acquire() {
                Ok(probe) => {
                    assert_eq!(out.fetch_add(1, Ordering::SeqCst), 0, "two probes out");
                    out.fetch_sub(1, Ordering::SeqCst);
                    probe.success();
                    true
                }
                Err(rejected) => {
                    assert_eq!(rejected.state(), State::HalfOpen);
                    false
                }
            })
        };
        cancelling.join().expect("no panic");
        let succeeded = succeeding.join().expect("no panic");
        let snapshot = cb.snapshot();
        assert_eq!(snapshot.probes_in_flight, 0, "no slot left held");
        let expected = if succeeded {
            State::Closed
        } else {
            State::HalfOpen
        };
        assert_eq!(snapshot.state, expected);
        assert!(cb.try_acquire().is_ok(), "a fresh call is admitted");
    });
}

/// A thread that cached the first trip's data for its rejections while another thread's failed
/// probe opens the circuit again: every rejection describes one trip, never a mix of two.
#[test]
fn a_rejection_describes_one_trip_even_as_the_cache_changes_generation() {
    model(|| {
        let clock = ManualClock::new();
        let cb = breaker(&clock, 1);
        cb.try_acquire().expect("closed").failure("first");
        let rejecting = {
            let cb = cb.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    match cb.try_acquire() {
                        Err(rejected) => match (rejected.state(), rejected.reason()) {
                            (State::Open, Some(Reason::ConsecutiveFailures(1))) => {
                                assert_eq!(rejected.failure_count(), 1);
                                assert_eq!(rejected.last_failure(), Some("first"));
                            }
                            (State::Open, Some(Reason::ProbeFailed)) => {
                                assert_eq!(rejected.failure_count(), 2);
                                assert_eq!(rejected.last_failure(), Some("second"));
                            }
                            (State::HalfOpen, None) => {
                                assert_eq!(rejected.last_failure(), Some("first"));
                            }
                            other => panic!("a rejection mixing trips: {other:?}"),
                        },
                        // Admitted as the probe: give it up, so the other thread can probe.
                        Ok(probe) => drop(probe),
                    }
                }
            })
        };
        let probing = {
            let cb = cb.clone();
            thread::spawn(move || {
                clock.advance(RECOVERY);
                if let Ok(probe) = cb.try_acquire() {
                    probe.failure("second");
                }
            })
        };
        rejecting.join().expect("no panic");
        probing.join().expect("no panic");
        assert_eq!(cb.snapshot().probes_in_flight, 0);
    });
}

/// A time window kept per thread: one thread's failure and another's success, in any order,
/// bring the window to its two minimum calls at 50 % failed, and whichever outcome comes last
/// (the success included, though the machine may not see every success) must open it.
#[test]
fn a_time_window_split_across_threads_opens_on_whichever_call_completes_it() {
    model(|| {
        let cb = CircuitBreaker::builder("window")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .minimum_calls(2)
            .sliding_window(SlidingWindow::time(Duration::from_secs(10), 10))
            .clock(ManualClock::new())
            .build()
            .expect("valid");
        let failing = {
            let cb = cb.clone();
            thread::spawn(move || cb.try_acquire().expect("closed").failure("down"))
        };
        let succeeding = {
            let cb = cb.clone();
            thread::spawn(move || cb.try_acquire().expect("closed").success())
        };
        failing.join().expect("no panic");
        succeeding.join().expect("no panic");
        let rejected = cb.try_acquire().expect_err("1 failure in 2 calls opens it");
        assert_eq!(
            rejected.reason(),
            Some(Reason::FailureRate {
                rate: 50.0,
                threshold: 50.0
            })
        );
    });
}

/// Rejections handed out from one thread's record of the trip, paid for in advance, read and
/// dropped on two other threads while the breaker (and the record's reserve with it) is dropped
/// on a fourth: in every interleaving each reads the whole record. (Loom does not track the
/// record's memory, so a free too early shows here only as a wrong read; `counted.rs`'s own
/// tests count the frees.)
#[test]
fn rejections_outlive_their_breaker_on_other_threads() {
    model(|| {
        let cb = breaker(&ManualClock::new(), 1);
        cb.try_acquire().expect("closed").failure("down");
        // The first rejection builds the record; the next two are handed out from it.
        drop(cb.try_acquire().expect_err("open"));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let rejected = cb.try_acquire().expect_err("open");
                thread::spawn(move || {
                    assert_eq!(rejected.last_failure(), Some("down"));
                    assert_eq!(rejected.name(), "loom");
                })
            })
            .collect();
        let dropping = thread::spawn(move || drop(cb));
        for reader in readers {
            reader.join().expect("no panic");
        }
        dropping.join().expect("no panic");
    });
}
