//! One thread's share of a breaker: its call counters and its buckets of the time window,
//! which only that thread writes and every reader adds up ([`Threads`](super::threads::Threads)
//! keeps one slot a thread; the [front cache](super::front) finds the current thread's).

use super::sync::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release, fence, spin_loop,
};
use crate::config::SlidingWindow;
use crate::metrics::CallCounts;
use crate::trip_policy::Tally;

/// One thread's counts and time-window buckets. Only that thread writes them.
#[derive(Debug)]
pub(crate) struct Slot {
    successful: AtomicU64,
    failed: AtomicU64,
    slow: AtomicU64,
    ignored: AtomicU64,
    rejected: AtomicU64,
    window: Option<ThreadWindow>,
}

impl Slot {
    pub(super) fn new(geometry: Option<TimeGeometry>) -> Self {
        Self {
            successful: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            slow: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            window: geometry.map(ThreadWindow::new),
        }
    }

    #[inline]
    pub(crate) fn successful(&self) {
        bump(&self.successful);
    }

    #[inline]
    pub(crate) fn failed(&self) {
        bump(&self.failed);
    }

    #[inline]
    pub(crate) fn slow(&self) {
        bump(&self.slow);
    }

    #[inline]
    pub(crate) fn ignored(&self) {
        bump(&self.ignored);
    }

    #[inline]
    pub(crate) fn rejected(&self) {
        bump(&self.rejected);
    }

    /// `total` with this slot's counts added.
    pub(super) fn add_to(&self, total: CallCounts) -> CallCounts {
        CallCounts {
            successful: total.successful + self.successful.load(Relaxed),
            failed: total.failed + self.failed.load(Relaxed),
            slow: total.slow + self.slow.load(Relaxed),
            ignored: total.ignored + self.ignored.load(Relaxed),
            rejected: total.rejected + self.rejected.load(Relaxed),
        }
    }

    /// This thread's share of the time window, when the breaker keeps one.
    #[inline]
    pub(crate) fn window(&self) -> Option<&ThreadWindow> {
        self.window.as_ref()
    }
}

/// Adds one to a counter only the current thread writes. Readers on other threads may see the
/// old value for a moment, never a torn or lost one.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// The shape of a time window: `len` buckets of `width` nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeGeometry {
    width: u64,
    len: u64,
}

impl TimeGeometry {
    /// The shape of `window`; a count window has none.
    pub(crate) fn of(window: SlidingWindow) -> Option<Self> {
        match window {
            SlidingWindow::Time { buckets, .. } => Some(Self {
                width: window.bucket_nanos()?,
                len: u64::from(buckets.max(1)),
            }),
            SlidingWindow::Count { .. } => None,
        }
    }
}

/// One bucket: the calls one thread recorded in one time slice of one generation.
///
/// Only its thread writes it, but readers on other threads must see each call whole, never its
/// count without its failure: a reading that did would understate the failure rate, and the
/// rate policies treat a reading as exact. So a write is a seqlock's: `version` is odd while the
/// fields change, and a reader retries until it sees the same even version on both sides.
#[derive(Debug, Default)]
struct Bucket {
    version: AtomicU64,
    generation: AtomicU64,
    epoch: AtomicU64,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
}

/// What one bucket held at one moment.
#[derive(Debug, Clone, Copy)]
struct BucketReading {
    generation: u64,
    epoch: u64,
    tally: Tally,
}

impl Bucket {
    /// Reads the bucket whole. A reader that keeps meeting a write retries up to `ATTEMPTS`
    /// times; a write is a handful of stores, so that is never reached outside a model
    /// checker, and the last reading is kept if it is.
    fn read(&self) -> BucketReading {
        const ATTEMPTS: u32 = 1_000;
        let mut reading;
        let mut attempt = 0;
        loop {
            let before = self.version.load(Acquire);
            reading = BucketReading {
                generation: self.generation.load(Relaxed),
                epoch: self.epoch.load(Relaxed),
                tally: Tally {
                    calls: self.calls.load(Relaxed),
                    failures: self.failures.load(Relaxed),
                    slow: self.slow.load(Relaxed),
                },
            };
            fence(Acquire);
            attempt += 1;
            if (before.is_multiple_of(2) && self.version.load(Relaxed) == before)
                || attempt == ATTEMPTS
            {
                return reading;
            }
            spin_loop();
        }
    }
}

/// One thread's share of a time window.
///
/// A time window is split by thread as well as by time: each thread records only into its own
/// buckets, so recording a call takes no lock and writes no cache line another thread writes.
/// Reading the window adds up every thread's buckets that belong to the generation asked about
/// and to the last `len` slices. Buckets are tagged with the breaker's generation, so a
/// transition empties the window without touching any of them.
#[derive(Debug)]
pub(crate) struct ThreadWindow {
    geometry: TimeGeometry,
    buckets: Box<[Bucket]>,
    /// The slice last written and where it ends, so that most calls skip the division.
    epoch: AtomicU64,
    epoch_end: AtomicU64,
}

impl ThreadWindow {
    fn new(geometry: TimeGeometry) -> Self {
        Self {
            geometry,
            buckets: (0..geometry.len).map(|_| Bucket::default()).collect(),
            epoch: AtomicU64::new(0),
            epoch_end: AtomicU64::new(0),
        }
    }

    /// Records one call at `now` and returns its epoch (the number of its time slice). Only the
    /// thread that owns this window calls it.
    #[inline]
    pub(crate) fn record(&self, generation: u64, now: u64, failed: bool, slow: bool) -> u64 {
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
            return epoch;
        }
        let version = bucket.version.load(Relaxed);
        bucket.version.store(version.wrapping_add(1), Relaxed);
        fence(Release);
        if bucket_epoch != epoch || bucket_generation != generation {
            bucket.calls.store(0, Relaxed);
            bucket.failures.store(0, Relaxed);
            bucket.slow.store(0, Relaxed);
            bucket.generation.store(generation, Relaxed);
            bucket.epoch.store(epoch, Relaxed);
        }
        bump_if(&bucket.calls, true);
        bump_if(&bucket.failures, failed);
        bump_if(&bucket.slow, slow);
        bucket.version.store(version.wrapping_add(2), Release);
        epoch
    }

    /// Adds this thread's calls of `generation` within the window ending at `now` to `total`.
    pub(super) fn add_to(&self, total: &mut Tally, generation: u64, now: u64) {
        let current = now / self.geometry.width;
        for bucket in self.buckets.iter() {
            let reading = bucket.read();
            let live = reading.epoch <= current && current - reading.epoch < self.geometry.len;
            if live && reading.generation == generation {
                total.add(reading.tally);
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
