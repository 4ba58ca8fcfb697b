//! Sliding windows over recent outcomes: O(1) per call, constant memory.
//!
//! Both kinds keep running totals, so recording a call and reading the rates never walks the
//! window. They are plain data: the breaker keeps its window behind the lock of its core.

use crate::SlidingWindow;

/// What a window holds: how many calls, and how many of them failed or were slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Tally {
    fn add(&mut self, other: Tally) {
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

/// A sliding window of either kind.
#[derive(Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    pub(crate) fn new(kind: SlidingWindow) -> Self {
        match kind {
            SlidingWindow::Count { size } => Window::Count(CountWindow::new(size)),
            SlidingWindow::Time { length, buckets } => {
                let width = u64::try_from((length / buckets).as_nanos()).unwrap_or(u64::MAX);
                Window::Time(TimeWindow::new(width.max(1), buckets))
            }
        }
    }

    /// Records one call at `now` (nanoseconds on the breaker's clock).
    pub(crate) fn record(&mut self, now: u64, failed: bool, slow: bool) {
        match self {
            Window::Count(window) => window.record(failed, slow),
            Window::Time(window) => window.record(now, failed, slow),
        }
    }

    /// What the window holds at `now`.
    pub(crate) fn tally(&mut self, now: u64) -> Tally {
        match self {
            Window::Count(window) => window.total,
            Window::Time(window) => {
                window.roll(now);
                window.total
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            Window::Count(window) => window.clear(),
            Window::Time(window) => window.clear(),
        }
    }
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// The last `size` calls, one byte each, in a ring.
#[derive(Debug)]
pub(crate) struct CountWindow {
    ring: Box<[u8]>,
    next: usize,
    len: usize,
    total: Tally,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        Self {
            ring: vec![0; size as usize].into_boxed_slice(),
            next: 0,
            len: 0,
            total: Tally::default(),
        }
    }

    fn record(&mut self, failed: bool, slow: bool) {
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

    fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.total = Tally::default();
    }
}

/// The calls of the last `buckets × width` nanoseconds, in a ring of buckets.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    buckets: Box<[Tally]>,
    width: u64,
    /// The absolute number (`now / width`) of the newest bucket.
    head: u64,
    total: Tally,
}

impl TimeWindow {
    fn new(width: u64, buckets: u32) -> Self {
        Self {
            buckets: vec![Tally::default(); buckets as usize].into_boxed_slice(),
            width,
            head: 0,
            total: Tally::default(),
        }
    }

    fn record(&mut self, now: u64, failed: bool, slow: bool) {
        let slot = self.roll(now);
        let call = Tally::one(failed, slow);
        self.buckets[slot].add(call);
        self.total.add(call);
    }

    /// Drops the buckets that have slid out of the window by `now` and returns the slot of the
    /// current one. Each bucket is cleared at most once per pass of the ring, so this is O(1)
    /// amortised and never more than `buckets` steps.
    fn roll(&mut self, now: u64) -> usize {
        let len = self.buckets.len() as u64;
        let current = now / self.width;
        if current > self.head {
            let stale = (current - self.head).min(len);
            for step in 1..=stale {
                let slot = ((self.head + step) % len) as usize;
                let dropped = std::mem::take(&mut self.buckets[slot]);
                self.total.remove(dropped);
            }
            self.head = current;
        }
        // A reading from before the head (never from a monotonic clock) lands in the head.
        (self.head % len) as usize
    }

    fn clear(&mut self) {
        self.buckets.fill(Tally::default());
        self.total = Tally::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_count_window_forgets_the_oldest_call_when_full() {
        let mut window = Window::new(SlidingWindow::count(3));
        window.record(0, true, false);
        window.record(0, false, true);
        window.record(0, false, false);
        assert_eq!(
            window.tally(0),
            Tally {
                calls: 3,
                failures: 1,
                slow: 1
            }
        );
        window.record(0, false, false);
        assert_eq!(
            window.tally(0),
            Tally {
                calls: 3,
                failures: 0,
                slow: 1
            }
        );
    }

    #[test]
    fn a_time_window_drops_whole_buckets_as_time_passes() {
        // 1 s in 10 buckets of 100 ms.
        let mut window = Window::new(SlidingWindow::time(Duration::from_secs(1), 10));
        window.record(50 * MS, true, false);
        window.record(150 * MS, false, false);
        assert_eq!(window.tally(999 * MS).calls, 2);
        // At 1.05 s the first bucket (0-100 ms) has slid out, the second has not.
        let tally = window.tally(1_050 * MS);
        assert_eq!((tally.calls, tally.failures), (1, 0));
        // After a long silence everything is gone, in at most `buckets` steps.
        assert_eq!(window.tally(3_600_000 * MS), Tally::default());
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

    #[test]
    fn clearing_empties_both_kinds() {
        for kind in [
            SlidingWindow::count(5),
            SlidingWindow::time(Duration::from_secs(1), 5),
        ] {
            let mut window = Window::new(kind);
            window.record(MS, true, true);
            window.clear();
            assert_eq!(window.tally(MS), Tally::default());
        }
    }
}
