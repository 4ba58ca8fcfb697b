//! What each thread keeps for a breaker: its call counters, its share of the time window, and
//! what its rejections need to say.
//!
//! Counting every call must not make threads fight over one cache line: each thread writes only
//! its own slot, with a plain load and store and no locked instruction: the slot's lookup, load
//! and store cost about half of one locked instruction on an idle Zen 4 EPYC, and no cache line
//! moves between threads (`breaker/BENCHMARKS.md`, the building blocks). Readers (snapshots, the
//! time window's readings) add every thread's slot up.

use super::front;
use super::sync::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release, fence, spin_loop,
};
use crate::config::SlidingWindow;
use crate::error::Refusal;
use crate::metrics::CallCounts;
use crate::trip_policy::Tally;
use std::ops::DerefMut;
use std::sync::Arc;

#[cfg(not(loom))]
use std::cell::RefCell as TripCell;
#[cfg(not(loom))]
use thread_local::ThreadLocal as PerThread;

#[cfg(loom)]
use loom_threads::{PerThread, TripCell};

/// Every thread's share of one breaker.
#[derive(Debug)]
pub(crate) struct Threads {
    /// This breaker's key in every thread's front cache (`front.rs`): unique, never reused.
    id: u64,
    slots: PerThread<Arc<Slot>>,
    trips: PerThread<TripCell<TripCache>>,
    geometry: Option<TimeGeometry>,
}

/// The next breaker's id. (The standard library's atomic even under loom: ids need only be
/// unique, and are no part of what loom explores.)
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Threads {
    /// `geometry` is the time window's shape, when the breaker keeps a time window.
    pub(crate) fn new(geometry: Option<TimeGeometry>) -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            slots: PerThread::new(),
            trips: PerThread::new(),
            geometry,
        }
    }

    /// The calling thread's slot, created on its first call. A thread that exits leaves its
    /// slot and counts behind; the next thread given its id takes them over.
    pub(crate) fn slot(&self) -> &Arc<Slot> {
        match self.slots.get() {
            Some(slot) => slot,
            None => self.new_slot(),
        }
    }

    /// A thread's first call: out of line, so that every later one finds its slot in a few
    /// instructions.
    #[cold]
    fn new_slot(&self) -> &Arc<Slot> {
        self.slots.get_or(|| Arc::new(Slot::new(self.geometry)))
    }

    /// Counts a success in the calling thread's slot, found through its front cache.
    #[inline]
    pub(crate) fn successful(&self) {
        if front::with_slot(self.id, Slot::successful).is_none() {
            self.cache_slot().successful();
        }
    }

    /// The calling thread's slot, put in its front cache.
    #[cold]
    fn cache_slot(&self) -> &Arc<Slot> {
        let slot = self.slot();
        front::fill(self.id, slot, None);
        slot
    }

    /// Counts a rejection of trip `generation` and returns what it says, from this thread's
    /// record of that trip; `None`, counting nothing, when this thread has no record of it.
    #[inline]
    pub(crate) fn reject(&self, generation: u64) -> Option<Arc<Refusal>> {
        match front::reject(self.id, generation) {
            Some(refusal) => Some(refusal),
            None => self.reject_uncached(generation),
        }
    }

    /// [`reject`](Self::reject) when the front cache does not hold the record: from the
    /// breaker's own per-thread record, which then goes into the front cache.
    #[cold]
    fn reject_uncached(&self, generation: u64) -> Option<Arc<Refusal>> {
        let cache = self.trip();
        let refusal = cache
            .refusal
            .as_ref()
            .filter(|_| cache.generation == generation)?;
        let slot = self.slot();
        front::fill(self.id, slot, Some((generation, refusal)));
        slot.rejected();
        Some(Arc::clone(refusal))
    }

    /// Keeps `refusal` as this thread's record of trip `generation`.
    pub(crate) fn remember_trip(&self, generation: u64, refusal: &Arc<Refusal>) {
        let mut cache = self.trip();
        cache.generation = generation;
        cache.refusal = Some(Arc::clone(refusal));
        front::fill(self.id, self.slot(), Some((generation, refusal)));
    }

    /// The calling thread's trip record, to read and fill. Only this thread ever touches it.
    fn trip(&self) -> impl DerefMut<Target = TripCache> + '_ {
        borrow(self.trips.get_or(|| {
            TripCell::new(TripCache {
                generation: 0,
                refusal: None,
            })
        }))
    }

    pub(crate) fn counts(&self) -> CallCounts {
        self.slots
            .iter()
            .fold(CallCounts::default(), |total, slot| CallCounts {
                successful: total.successful + slot.successful.load(Relaxed),
                failed: total.failed + slot.failed.load(Relaxed),
                slow: total.slow + slot.slow.load(Relaxed),
                ignored: total.ignored + slot.ignored.load(Relaxed),
                rejected: total.rejected + slot.rejected.load(Relaxed),
            })
    }

    /// The time window's calls of `generation` up to `now`, from every thread.
    pub(crate) fn time_tally(&self, generation: u64, now: u64) -> Tally {
        let mut total = Tally::default();
        for window in self.slots.iter().filter_map(|slot| slot.window.as_ref()) {
            window.add_to(&mut total, generation, now);
        }
        total
    }
}

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
    fn new(geometry: Option<TimeGeometry>) -> Self {
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

    /// This thread's share of the time window, when the breaker keeps one.
    #[inline]
    pub(crate) fn window(&self) -> Option<&ThreadWindow> {
        self.window.as_ref()
    }
}

#[cfg(not(loom))]
#[inline]
fn borrow(cell: &TripCell<TripCache>) -> impl DerefMut<Target = TripCache> + '_ {
    cell.borrow_mut()
}

#[cfg(loom)]
fn borrow(cell: &TripCell<TripCache>) -> impl DerefMut<Target = TripCache> + '_ {
    cell.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What `thread_local::ThreadLocal` and `RefCell` do, for loom's model threads, which all run
/// on one OS thread: a slot per model thread, found by its id and published to readers with a
/// release store, as `ThreadLocal` publishes a new thread's entry; and a trip cache behind
/// loom's own lock (uncontended, as only its thread touches it).
#[cfg(loom)]
mod loom_threads {
    use loom::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    pub(crate) type TripCell<T> = loom::sync::Mutex<T>;

    /// The most model threads a loom test may run.
    const THREADS: usize = 8;

    #[derive(Debug)]
    pub(crate) struct PerThread<T> {
        slots: [OnceLock<(loom::thread::ThreadId, T)>; THREADS],
        published: [AtomicBool; THREADS],
    }

    impl<T> PerThread<T> {
        pub(crate) fn new() -> Self {
            Self {
                slots: std::array::from_fn(|_| OnceLock::new()),
                published: std::array::from_fn(|_| AtomicBool::new(false)),
            }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            let me = loom::thread::current().id();
            self.slots
                .iter()
                .filter_map(OnceLock::get)
                .find(|(owner, _)| *owner == me)
                .map(|(_, value)| value)
        }

        pub(crate) fn get_or(&self, create: impl FnOnce() -> T) -> &T {
            let me = loom::thread::current().id();
            let mut create = Some(create);
            for (slot, published) in self.slots.iter().zip(&self.published) {
                let mut made = false;
                let (owner, value) = slot.get_or_init(|| {
                    made = true;
                    let create = create.take().expect("created once");
                    (me, create())
                });
                if made {
                    published.store(true, Ordering::Release);
                }
                if *owner == me {
                    return value;
                }
            }
            panic!("a loom test ran more than {THREADS} threads on one breaker")
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
            self.slots
                .iter()
                .zip(&self.published)
                .filter(|(_, published)| published.load(Ordering::Acquire))
                .filter_map(|(slot, _)| slot.get().map(|(_, value)| value))
        }
    }
}

/// Adds one to a counter only the current thread writes. Readers on other threads may see the
/// old value for a moment, never a torn or lost one.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// What a rejection says, kept per thread for the generation it belongs to, so that rejections
/// while Open take no lock. It cannot go stale: while a generation lasts, nothing changes the
/// failure count, the reason the circuit opened, the deadline or the last failure.
///
/// Each thread keeps a record of its own, built by its first rejection of the trip, so that the
/// reference count every rejection increments sits on a cache line no other thread writes.
#[derive(Debug)]
pub(crate) struct TripCache {
    /// The generation `refusal` belongs to.
    generation: u64,
    refusal: Option<Arc<Refusal>>,
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
    fn add_to(&self, total: &mut Tally, generation: u64, now: u64) {
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
