//! Many breakers, one thread: each thread keeps a small cache in front of every breaker's
//! per-thread counts and trip record (`fast_path/front.rs`), keyed by breaker and shared by all
//! of them. Whatever the order breakers are used, dropped and rebuilt in, and however threads
//! come and go, each breaker counts only its own calls and its rejections say only its own trip.

use super::support::{SECOND, fail, on_manual_clock, succeed};
use trip_breaker::{CircuitBreaker, ManualClock};

/// More breakers than the cache has entries, so that several share each entry.
const BREAKERS: usize = 20;

fn breaker(name: &str) -> (CircuitBreaker, ManualClock) {
    on_manual_clock(
        CircuitBreaker::builder(name)
            .failure_threshold(1)
            .recovery_timeout(10 * SECOND),
    )
}

#[test]
fn breakers_used_in_turn_on_one_thread_each_count_only_their_own_calls() {
    let breakers: Vec<_> = (0..BREAKERS).map(|i| breaker(&format!("b{i}")).0).collect();
    // Breaker i succeeds i + 1 times, in rounds that visit every breaker in turn, then in
    // reverse, so that each call finds another breaker in its entry.
    for round in 0..BREAKERS {
        let order: Box<dyn Iterator<Item = usize>> = if round % 2 == 0 {
            Box::new(0..BREAKERS)
        } else {
            Box::new((0..BREAKERS).rev())
        };
        for i in order.filter(|&i| i >= round) {
            succeed(&breakers[i]);
        }
    }
    for (i, cb) in breakers.iter().enumerate() {
        assert_eq!(
            cb.snapshot().calls.successful,
            i as u64 + 1,
            "{}",
            cb.name()
        );
    }
}

#[test]
fn rejections_of_breakers_sharing_an_entry_say_their_own_trip() {
    let breakers: Vec<_> = (0..BREAKERS).map(|i| breaker(&format!("b{i}")).0).collect();
    for (i, cb) in breakers.iter().enumerate() {
        fail(cb, &format!("cause {i}"));
    }
    for round in 0..3 {
        for (i, cb) in breakers.iter().enumerate() {
            let rejected = cb.try_acquire().expect_err("open");
            assert_eq!(rejected.name(), format!("b{i}"));
            assert_eq!(rejected.last_failure(), Some(format!("cause {i}").as_str()));
            assert_eq!(cb.snapshot().calls.rejected, round + 1);
        }
    }
}

#[test]
fn a_breaker_built_after_another_is_dropped_starts_from_nothing() {
    for i in 0..BREAKERS {
        let (cb, _clock) = breaker(&format!("short-lived {i}"));
        assert_eq!(cb.snapshot().calls.successful, 0);
        assert_eq!(cb.snapshot().calls.rejected, 0);
        succeed(&cb);
        fail(&cb, &format!("cause {i}"));
        let rejected = cb.try_acquire().expect_err("open");
        assert_eq!(rejected.name(), format!("short-lived {i}"));
        assert_eq!(rejected.last_failure(), Some(format!("cause {i}").as_str()));
        let calls = cb.snapshot().calls;
        assert_eq!((calls.successful, calls.failed, calls.rejected), (1, 1, 1));
    }
}

#[test]
fn a_new_trip_replaces_what_the_threads_rejections_say() {
    let (cb, clock) = breaker("retripped");
    fail(&cb, "first");
    assert_eq!(
        cb.try_acquire().expect_err("open").last_failure(),
        Some("first")
    );
    clock.advance(10 * SECOND);
    let probe = cb.try_acquire().expect("a probe");
    probe.failure("second");
    for _ in 0..2 {
        let rejected = cb.try_acquire().expect_err("open again");
        assert_eq!(rejected.last_failure(), Some("second"));
        assert_eq!(rejected.failure_count(), 2);
    }
}

#[test]
fn threads_that_come_and_go_are_counted_with_those_that_stay() {
    let (cb, _clock) = breaker("threads");
    fail(&cb, "down");
    for _ in 0..3 {
        cb.try_acquire().expect_err("open");
    }
    for _ in 0..8 {
        // Each short-lived thread may be given the id, and so the slot, of one that ended.
        let cb = cb.clone();
        std::thread::spawn(move || {
            let rejected = cb.try_acquire().expect_err("open");
            assert_eq!(rejected.last_failure(), Some("down"));
            cb.try_acquire().expect_err("still open");
        })
        .join()
        .expect("the thread ran");
    }
    assert_eq!(cb.try_acquire().expect_err("open").name(), "threads");
    assert_eq!(cb.snapshot().calls.rejected, 3 + 8 * 2 + 1);
}
