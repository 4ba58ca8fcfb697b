//! What the behaviour tests share: a breaker or an adaptive limiter on a manual clock, and
//! one-line calls.

use std::time::Duration;
use trip_breaker::{AdaptiveLimit, Builder, CircuitBreaker, ConcurrencyLimiter, ManualClock};

/// `builder` built on a fresh [`ManualClock`], returned with the clock.
pub(crate) fn on_manual_clock(builder: Builder) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let cb = builder
        .clock(clock.clone())
        .build()
        .expect("valid test config");
    (cb, clock)
}

/// `limit` built on a fresh [`ManualClock`], returned with the clock.
pub(crate) fn limiter_on_manual_clock(limit: AdaptiveLimit) -> (ConcurrencyLimiter, ManualClock) {
    let clock = ManualClock::new();
    let limiter = limit
        .clock(clock.clone())
        .build()
        .expect("valid test config");
    (limiter, clock)
}

/// A call that succeeds at once.
pub(crate) fn succeed(cb: &CircuitBreaker) {
    cb.try_acquire().expect("admitted").success();
}

/// A call that fails at once with `cause`.
pub(crate) fn fail(cb: &CircuitBreaker, cause: &str) {
    cb.try_acquire().expect("admitted").failure(cause);
}

/// A call that succeeds after `took` on `clock`.
pub(crate) fn succeed_after(cb: &CircuitBreaker, clock: &ManualClock, took: Duration) {
    let permit = cb.try_acquire().expect("admitted");
    clock.advance(took);
    permit.success();
}

/// A call that the breaker refuses.
pub(crate) fn is_rejected(cb: &CircuitBreaker) -> bool {
    cb.try_acquire().is_err()
}

pub(crate) const SECOND: Duration = Duration::from_secs(1);

/// Runs `calls(thread)` on `threads` threads that start together at a barrier, so that all are
/// alive at once and each counts in a slot of its own (a thread that has ended could hand its
/// slot on to the next); returns when every one has ended.
pub(crate) fn on_threads_at_once(threads: u64, calls: impl Fn(u64) + Sync) {
    let start = std::sync::Barrier::new(threads as usize);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let (calls, start) = (&calls, &start);
            scope.spawn(move || {
                start.wait();
                calls(thread);
            });
        }
    });
}
