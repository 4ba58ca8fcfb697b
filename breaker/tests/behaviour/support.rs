//! What the behaviour tests share: a breaker on a manual clock, and one-line calls.

use std::time::Duration;
use trip_breaker::{Builder, CircuitBreaker, ManualClock};

/// `builder` built on a fresh [`ManualClock`], returned with the clock.
pub(crate) fn on_manual_clock(builder: Builder) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let cb = builder
        .clock(clock.clone())
        .build()
        .expect("valid test config");
    (cb, clock)
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
