//! Time, as a breaker sees it.
//!
//! The state machine never asks the operating system for the time: it reads the [`Clock`] the
//! breaker was built with. Production code uses [`MonotonicClock`]; tests hand the breaker a
//! [`ManualClock`] and move time forward with [`ManualClock::advance`], so every timing rule is
//! tested without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A source of monotonic time for a breaker.
///
/// Readings are durations since the clock's own origin. [`Clock::now`] sits on the hot path (it
/// is read by every rejection while Open and by every call recorded in a time window), so it
/// should be cheap; millisecond resolution is enough for it. [`Clock::now_precise`] times calls
/// for the slow-call policy and is read only when that policy is configured.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic time elapsed since this clock's origin. Must never go backwards.
    fn now(&self) -> Duration;

    /// [`Clock::now`] in whole nanoseconds, saturating. The breaker reads time through this;
    /// override it when the clock can skip the conversion through [`Duration`].
    fn now_nanos(&self) -> u64 {
        nanos(self.now())
    }

    /// A precise reading on the same timeline as [`Clock::now`]. Defaults to [`Clock::now`].
    fn now_precise(&self) -> Duration {
        self.now()
    }

    /// The wall-clock time at this clock's origin, used to show *when* an Open circuit will
    /// admit a probe (`OPEN until 2025-05-15 08:40:21.758729+00:00`).
    fn wall_origin(&self) -> SystemTime;
}

/// The default clock: the operating system's monotonic clock.
///
/// On Linux, [`Clock::now`] reads `CLOCK_MONOTONIC_COARSE` through the vDSO, three and a half
/// times cheaper than `CLOCK_MONOTONIC` on an Intel Xeon (Emerald Rapids) and four and a half on
/// an AMD EPYC (Zen 4) (`breaker/BENCHMARKS.md`, the building blocks), at the price of moving
/// only once per kernel tick (4 ms on both, as `clock_getres` reports, and later when the tick
/// is late): an Open circuit half-opens that much after its recovery timeout, far below any
/// sensible recovery timeout. `tests/behaviour/real_clock.rs` checks it against real time.
/// [`Clock::now_precise`] reads the full-resolution clock, so slow calls are timed exactly.
/// Elsewhere both read [`std::time::Instant`].
#[derive(Debug, Clone)]
pub struct MonotonicClock {
    origin: Origin,
    wall_origin: SystemTime,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Origin::now(),
            wall_origin: SystemTime::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    #[inline]
    fn now_nanos(&self) -> u64 {
        self.origin.elapsed_coarse_nanos()
    }

    fn now_precise(&self) -> Duration {
        Duration::from_nanos(self.origin.elapsed_precise_nanos())
    }

    fn wall_origin(&self) -> SystemTime {
        self.wall_origin
    }
}

// ----- The operating system's clock -------------------------------------------------------------

/// The operating system's monotonic clock, read two ways on one timeline: coarse (the kernel's
/// last tick, through the vDSO, for deadlines and time windows) and precise (for timing slow
/// calls). Elsewhere than Linux both read [`std::time::Instant`]. One set of functions with the
/// platforms inside them, so that what the tests exercise on Linux is the code there is.
#[derive(Debug, Clone, Copy)]
struct Origin(
    #[cfg(target_os = "linux")] u64,
    #[cfg(not(target_os = "linux"))] std::time::Instant,
);

impl Origin {
    fn now() -> Self {
        #[cfg(target_os = "linux")]
        return Self(read(rustix::time::ClockId::Monotonic));
        #[cfg(not(target_os = "linux"))]
        return Self(std::time::Instant::now());
    }

    #[inline]
    fn elapsed_coarse_nanos(&self) -> u64 {
        // The coarse clock lags the precise one by up to a tick, so right after the origin was
        // taken it may read before it: saturate instead of underflowing.
        #[cfg(target_os = "linux")]
        return read(rustix::time::ClockId::MonotonicCoarse).saturating_sub(self.0);
        #[cfg(not(target_os = "linux"))]
        return self.elapsed_precise_nanos();
    }

    fn elapsed_precise_nanos(&self) -> u64 {
        #[cfg(target_os = "linux")]
        return read(rustix::time::ClockId::Monotonic).saturating_sub(self.0);
        #[cfg(not(target_os = "linux"))]
        return nanos(self.0.elapsed());
    }
}

#[cfg(target_os = "linux")]
#[inline]
fn read(id: rustix::time::ClockId) -> u64 {
    let rustix::time::Timespec { tv_sec, tv_nsec } = rustix::time::clock_gettime(id);
    // Both fields are non-negative for the monotonic clocks (time since boot).
    (tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(tv_nsec as u64)
}

/// The clock a breaker reads: the default one called directly (it sits on the rejection path,
/// where a virtual call is a measurable share of the cost), any other through `dyn`.
#[derive(Debug, Clone)]
pub(crate) enum ClockSource {
    Monotonic(MonotonicClock),
    Other(Arc<dyn Clock>),
}

impl ClockSource {
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        match self {
            ClockSource::Monotonic(clock) => clock.now_nanos(),
            ClockSource::Other(clock) => clock.now_nanos(),
        }
    }

    pub(crate) fn now_precise_nanos(&self) -> u64 {
        match self {
            ClockSource::Monotonic(clock) => clock.origin.elapsed_precise_nanos(),
            ClockSource::Other(clock) => nanos(clock.now_precise()),
        }
    }

    pub(crate) fn wall_origin(&self) -> SystemTime {
        match self {
            ClockSource::Monotonic(clock) => clock.wall_origin(),
            ClockSource::Other(clock) => clock.wall_origin(),
        }
    }
}

/// A clock that moves only when told to: for tests, simulations and doc examples.
///
/// Clones share one time, so a test keeps a clone and advances it while the breaker reads it:
///
/// ```
/// use trip_breaker::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let shared = clock.clone();
/// clock.advance(Duration::from_millis(200));
/// assert_eq!(shared.now(), Duration::from_millis(200));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
    wall_origin: SystemTime,
}

impl ManualClock {
    /// A clock stopped at zero; its wall-clock origin is the real time of this call.
    pub fn new() -> Self {
        Self::with_wall_origin(SystemTime::now())
    }

    /// A clock stopped at zero whose origin shows as `wall_origin`, for exact expected messages.
    pub fn with_wall_origin(wall_origin: SystemTime) -> Self {
        Self {
            nanos: Arc::new(AtomicU64::new(0)),
            wall_origin,
        }
    }

    /// Moves time forward by `by` for every clone of this clock.
    pub fn advance(&self, by: Duration) {
        let by = nanos(by);
        // fetch_update rather than fetch_add so that an absurd advance saturates instead of
        // wrapping time backwards.
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(by))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }

    fn wall_origin(&self) -> SystemTime {
        self.wall_origin
    }
}

/// `duration` in whole nanoseconds, saturating at `u64::MAX` (584 years): how the breaker
/// keeps time internally.
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
