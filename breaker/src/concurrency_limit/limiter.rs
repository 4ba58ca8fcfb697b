//! [`ConcurrencyLimiter`] and its [`LimitPermit`]: the limit in force and the places taken,
//! shared by every clone, and the estimate behind a lock, fed by each call's end.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::vegas::{Bounds, Sample, Vegas};
use crate::clock::ClockSource;

/// An adaptive concurrency limit, shared: clones share one limit and one count of calls in
/// flight (an `Arc`), so every clone limits the same backend. Made by
/// [`AdaptiveLimit::build`](crate::AdaptiveLimit::build).
#[derive(Clone)]
pub struct ConcurrencyLimiter {
    shared: Arc<Shared>,
}

/// What every clone and every permit hold.
struct Shared {
    /// The limit in force, as the estimate last published it: read without a lock.
    limit: AtomicU32,
    in_flight: AtomicU32,
    bounds: Bounds,
    vegas: Mutex<Vegas>,
    clock: ClockSource,
}

impl ConcurrencyLimiter {
    pub(super) fn new(bounds: Bounds, initial: u32, clock: ClockSource) -> Self {
        let now = clock.now_precise_nanos();
        Self {
            shared: Arc::new(Shared {
                limit: AtomicU32::new(initial),
                in_flight: AtomicU32::new(0),
                bounds,
                vegas: Mutex::new(Vegas::new(bounds, initial, now)),
                clock,
            }),
        }
    }

    /// A place for one call, or `None` at once when the calls in flight already fill the limit.
    pub fn try_acquire(&self) -> Option<LimitPermit> {
        let shared = &self.shared;
        let limit = shared.limit.load(Ordering::Acquire);
        let before = shared
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_flight| {
                (in_flight < limit).then_some(in_flight + 1)
            })
            .ok()?;
        Some(LimitPermit {
            shared: self.shared.clone(),
            started: shared.clock.now_precise_nanos(),
            in_flight: before + 1,
            holds_place: true,
            settled: false,
        })
    }

    /// The limit in force now.
    pub fn limit(&self) -> u32 {
        self.shared.limit.load(Ordering::Acquire)
    }

    /// Calls holding a place now.
    pub fn in_flight(&self) -> u32 {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// The lowest the limit goes.
    pub fn min_limit(&self) -> u32 {
        self.shared.bounds.min_limit
    }

    /// The highest the limit goes.
    pub fn max_limit(&self) -> u32 {
        self.shared.bounds.max_limit
    }

    /// The shortest round trip seen (the floor the queue is judged from); `None` before the
    /// first call ends.
    pub fn floor(&self) -> Option<Duration> {
        self.shared.lock().floor().map(Duration::from_nanos)
    }
}

impl fmt::Debug for ConcurrencyLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyLimiter")
            .field("limit", &self.limit())
            .field("in_flight", &self.in_flight())
            .field("min_limit", &self.min_limit())
            .field("max_limit", &self.max_limit())
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vegas> {
        // The estimate is a few numbers updated in place and never left half-written by a
        // panic in this module, so a poisoned lock holds a usable estimate.
        self.vegas.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Frees a place (unless the call freed it already) and, with a verdict, learns from the
    /// call.
    fn finish(&self, started: u64, in_flight: u32, holds_place: bool, verdict: Option<bool>) {
        if holds_place {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        let Some(dropped) = verdict else { return };
        let now = self.clock.now_precise_nanos();
        let sample = Sample {
            rtt: now.saturating_sub(started),
            in_flight,
            dropped,
        };
        let mut vegas = self.lock();
        let limit = vegas.on_sample(now, sample);
        // Stored under the lock, so that limits are published in the order they were decided.
        self.limit.store(limit, Ordering::Release);
    }
}

/// A place for one call, from [`ConcurrencyLimiter::try_acquire`]; it owns a handle to the
/// limiter, so it can move into a `'static` future.
///
/// Settle it with [`success`](LimitPermit::success) (the round trip teaches the limit),
/// [`dropped`](LimitPermit::dropped) (the call timed out or the backend refused it for
/// overload: the limit is cut) or [`ignore`](LimitPermit::ignore) (the call says nothing about
/// the backend's load, e.g. a client error). Dropping it unsettled (a cancelled call) frees
/// its place and teaches nothing. A call known to be waiting on something other than the
/// backend's queue may [`free_place`](LimitPermit::free_place) before it is settled.
#[must_use = "settle the permit with success(), dropped() or ignore(); dropping it teaches nothing"]
pub struct LimitPermit {
    shared: Arc<Shared>,
    /// When the call started, on the limiter's clock, in nanoseconds.
    started: u64,
    /// Calls in flight when it started, itself included.
    in_flight: u32,
    /// Whether it still counts among the calls in flight.
    holds_place: bool,
    settled: bool,
}

impl LimitPermit {
    /// The call ended well: its round trip teaches the limit.
    pub fn success(mut self) {
        self.settle(Some(false));
    }

    /// The call was dropped (it timed out, or the backend refused it for overload): the limit
    /// is cut.
    pub fn dropped(mut self) {
        self.settle(Some(true));
    }

    /// The call says nothing about the backend's load: its place is freed, nothing is learned.
    pub fn ignore(mut self) {
        self.settle(None);
    }

    /// The call goes on, but no longer counts among the calls in flight: its place is free
    /// for another call, and the calls that start from now on do not count it. Settle the
    /// permit when the call ends, as any other: its round trip, or its drop, still teaches the
    /// limit. Freeing a place a second time does nothing.
    ///
    /// For a call that waits on something other than the backend's queue, which the limit
    /// must not read as load: a caller that has seen calls started after it answered while it
    /// still waits knows the backend is serving, not queueing, and that this call waits for a
    /// reason of its own (a deliberate delay, a slow resource of its own).
    pub fn free_place(&mut self) {
        if std::mem::replace(&mut self.holds_place, false) {
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn settle(&mut self, verdict: Option<bool>) {
        self.settled = true;
        self.shared
            .finish(self.started, self.in_flight, self.holds_place, verdict);
    }
}

impl Drop for LimitPermit {
    fn drop(&mut self) {
        if !self.settled {
            self.shared
                .finish(self.started, self.in_flight, self.holds_place, None);
        }
    }
}

impl fmt::Debug for LimitPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimitPermit")
            .field("in_flight_at_start", &self.in_flight)
            .finish()
    }
}
