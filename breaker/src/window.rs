//! Sliding windows over recent outcomes: O(1) per call, constant memory.
//!
//! The count window keeps a running total behind the core's lock. The time window is kept per
//! thread and lock-free (see [`ThreadWindow`]); reading it walks `threads × buckets`, which
//! happens when a failure or slow call is judged and for a snapshot, never on a plain success.

use crate::SlidingWindow;
use crate::clock::saturating_nanos;
use std::sync::atomic::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

/// What a window holds: how many calls, and how many of them failed or were slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Tally {
    pub(crate) fn add(&mut self, other: Tally) {
        self.calls = self.calls.saturating_add(other.calls);
        self.failures = self.failures.saturating_add(other.failures);
        self.slow = self.slow.saturating_add(other.slow);
    }

    fn remove(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }

    fn one(failed: bool, slow: bool) -> Tally {
        Tally {
            calls: 1,
            failures: u32::from(failed),
            slow: u32::from(slow),
        }
    }

    /// Failure percentage, or `None` while the window is empty.
    pub(crate) fn failure_rate(&self) -> Option<f64> {
        percent(self.failures, self.calls)
    }

    /// Slow-call percentage, or `None` while the window is empty.
    pub(crate) fn slow_rate(&self) -> Option<f64> {
        percent(self.slow, self.calls)
    }
}

fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// The last `size` calls, one byte each, in a ring. Global order matters here, so it lives
/// behind the core's lock.
#[derive(Debug)]
pub(crate) struct CountWindow {
    ring: Box<[u8]>,
    next: usize,
    len: usize,
    total: Tally,
}

impl CountWindow {
    pub(crate) fn new(size: u32) -> Self {
        Self {
            ring: vec![0; size as usize].into_boxed_slice(),
            next: 0,
            len: 0,
            total: Tally::default(),
        }
    }

    pub(crate) fn record(&mut self, failed: bool, slow: bool) {
        if self.len == self.ring.len() {
            let old = self.ring[self.next];
            self.total
                .remove(Tally::one(old & FAILED != 0, old & SLOW != 0));
        } else {
            self.len += 1;
        }
        self.ring[self.next] = if failed { FAILED } else { 0 } | if slow { SLOW } else { 0 };
        self.total.add(Tally::one(failed, slow));
        self.next = (self.next + 1) % self.ring.len();
    }

    pub(crate) fn total(&self) -> Tally {
        self.total
    }

    pub(crate) fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.total = Tally::default();
    }
}

/// The shape of a time window: `len` buckets of `width` nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeGeometry {
    width: u64,
    len: u64,
}

impl TimeGeometry {
    pub(crate) fn of(window: SlidingWindow) -> Option<Self> {
        match window {
            SlidingWindow::Time { length, buckets } => Some(Self {
                width: saturating_nanos(length / buckets).max(1),
                len: u64::from(buckets.max(1)),
            }),
            SlidingWindow::Count { .. } => None,
        }
    }
}

/// One bucket: the calls one thread recorded in one time slice of one generation.
#[derive(Debug, Default)]
struct Bucket {
    generation: AtomicU64,
    epoch: AtomicU64,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
}

/// One thread's share of a time window.
///
/// A time window is split by thread as well as by time: each thread records only into its own
/// buckets, with plain loads and stores (only that thread ever writes them), so recording a
/// call takes no lock and writes no cache line another thread writes. Reading the window
/// (when a failure must be judged, or for a snapshot) adds up every thread's buckets that
/// belong to the current generation and the last `len` slices. Buckets are tagged with the
/// breaker's generation, so a transition empties the window without touching any of them.
#[derive(Debug)]
pub(crate) struct ThreadWindow {
    geometry: TimeGeometry,
    buckets: Box<[Bucket]>,
    /// The slice last written and where it ends, so that most calls skip the division.
    epoch: AtomicU64,
    epoch_end: AtomicU64,
}

impl ThreadWindow {
    pub(crate) fn new(geometry: TimeGeometry) -> Self {
        Self {
            geometry,
            buckets: (0..geometry.len).map(|_| Bucket::default()).collect(),
            epoch: AtomicU64::new(0),
            epoch_end: AtomicU64::new(0),
        }
    }

    /// Records one call at `now`. Must only be called by the thread that owns this window.
    #[inline]
    pub(crate) fn record(&self, generation: u64, now: u64, failed: bool, slow: bool) {
        let epoch = if now < self.epoch_end.load(Relaxed) {
            self.epoch.load(Relaxed)
        } else {
            let epoch = now / self.geometry.width;
            self.epoch.store(epoch, Relaxed);
            self.epoch_end
                .store((epoch + 1).saturating_mul(self.geometry.width), Relaxed);
            epoch
        };
        let bucket = &self.buckets[(epoch % self.geometry.len) as usize];
        let (bucket_epoch, bucket_generation) =
            (bucket.epoch.load(Relaxed), bucket.generation.load(Relaxed));
        if bucket_epoch == epoch && bucket_generation > generation {
            // A late outcome of a call admitted before the last transition: it must not wipe
            // what this thread recorded for the current generation.
            return;
        }
        if bucket_epoch != epoch || bucket_generation != generation {
            bucket.calls.store(0, Relaxed);
            bucket.failures.store(0, Relaxed);
            bucket.slow.store(0, Relaxed);
            bucket.generation.store(generation, Relaxed);
            bucket.epoch.store(epoch, Release);
        }
        bump_if(&bucket.calls, true);
        bump_if(&bucket.failures, failed);
        bump_if(&bucket.slow, slow);
    }

    /// Adds this thread's calls of `generation` within the window ending at `now` to `total`.
    /// A bucket being rewritten at this very moment may be read half old, half new: the
    /// window is a statistic, and the next read is exact again.
    pub(crate) fn add_to(&self, total: &mut Tally, generation: u64, now: u64) {
        let current = now / self.geometry.width;
        for bucket in self.buckets.iter() {
            let epoch = bucket.epoch.load(Acquire);
            let live = epoch <= current && current - epoch < self.geometry.len;
            if live && bucket.generation.load(Relaxed) == generation {
                total.add(Tally {
                    calls: bucket.calls.load(Relaxed),
                    failures: bucket.failures.load(Relaxed),
                    slow: bucket.slow.load(Relaxed),
                });
            }
        }
    }
}

#[inline]
fn bump_if(counter: &AtomicU32, by_one: bool) {
    if by_one {
        counter.store(counter.load(Relaxed).saturating_add(1), Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MS: u64 = 1_000_000;

    fn tally(window: &ThreadWindow, generation: u64, now: u64) -> Tally {
        let mut total = Tally::default();
        window.add_to(&mut total, generation, now);
        total
    }

    #[test]
    fn a_count_window_forgets_the_oldest_call_when_full() {
        let mut window = CountWindow::new(3);
        window.record(true, false);
        window.record(false, true);
        window.record(false, false);
        assert_eq!(
            window.total(),
            Tally {
                calls: 3,
                failures: 1,
                slow: 1
            }
        );
        window.record(false, false);
        assert_eq!(
            window.total(),
            Tally {
                calls: 3,
                failures: 0,
                slow: 1
            }
        );
        window.clear();
        assert_eq!(window.total(), Tally::default());
    }

    fn one_second_in_ten() -> ThreadWindow {
        let geometry = TimeGeometry::of(SlidingWindow::time(Duration::from_secs(1), 10));
        ThreadWindow::new(geometry.expect("a time window"))
    }

    #[test]
    fn a_time_window_drops_whole_buckets_as_time_passes() {
        let window = one_second_in_ten();
        window.record(0, 50 * MS, true, false);
        window.record(0, 150 * MS, false, true);
        assert_eq!(
            tally(&window, 0, 999 * MS),
            Tally {
                calls: 2,
                failures: 1,
                slow: 1
            }
        );
        // At 1.05 s the first bucket (0-100 ms) has slid out, the second has not.
        let later = tally(&window, 0, 1_050 * MS);
        assert_eq!((later.calls, later.failures), (1, 0));
        assert_eq!(tally(&window, 0, 3_600_000 * MS), Tally::default());
    }

    #[test]
    fn a_reused_bucket_starts_from_zero() {
        let window = one_second_in_ten();
        window.record(0, 50 * MS, true, false);
        // 1.05 s lands in the same slot one lap later: the old call must not be counted.
        window.record(0, 1_050 * MS, false, false);
        assert_eq!(
            tally(&window, 0, 1_050 * MS),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn a_new_generation_sees_an_empty_window() {
        let window = one_second_in_ten();
        window.record(4, 10 * MS, true, false);
        assert_eq!(tally(&window, 5, 10 * MS), Tally::default());
        window.record(5, 20 * MS, false, false);
        assert_eq!(tally(&window, 5, 20 * MS).calls, 1);
    }

    #[test]
    fn a_late_outcome_of_an_earlier_generation_leaves_the_current_bucket_alone() {
        let window = one_second_in_ten();
        window.record(6, 10 * MS, true, false);
        window.record(5, 20 * MS, false, false);
        assert_eq!(
            tally(&window, 6, 20 * MS),
            Tally {
                calls: 1,
                failures: 1,
                slow: 0
            }
        );
    }

    #[test]
    fn rates_are_percentages_of_the_calls_held() {
        let tally = Tally {
            calls: 8,
            failures: 2,
            slow: 6,
        };
        assert_eq!(tally.failure_rate(), Some(25.0));
        assert_eq!(tally.slow_rate(), Some(75.0));
        assert_eq!(Tally::default().failure_rate(), None);
    }
}
