//! What each thread keeps for a breaker: its [slot](super::slot) (call counters and its share of
//! the time window) and what its rejections need to say.
//!
//! Counting every call must not make threads fight over one cache line: each thread writes only
//! its own slot, with a plain load and store and no locked instruction, so that no cache line
//! moves between threads. Alone, the slot's lookup, load and store cost a sixth of one locked
//! instruction on an Intel Xeon, Emerald Rapids (1.6 against 10.0 ns), and about one on an AMD
//! EPYC, Zen 4 (2.0 against 2.7 ns) (`breaker/BENCHMARKS.md`, the building blocks). Readers
//! (snapshots, the time window's readings) add every thread's slot up.

use super::front;
use super::slot::{Slot, TimeGeometry};
use crate::counted::{Counted, Reserve};
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
    pub(crate) fn reject(&self, generation: u64) -> Option<Counted<Refusal>> {
        match front::reject(self.id, generation) {
            Some(refusal) => Some(refusal),
            None => self.reject_uncached(generation),
        }
    }

    /// [`reject`](Self::reject) when the front cache does not hold the record: from the
    /// breaker's own per-thread record, which then goes into the front cache.
    #[cold]
    fn reject_uncached(&self, generation: u64) -> Option<Counted<Refusal>> {
        let mut cache = self.trip();
        if cache.generation != generation {
            return None;
        }
        let refusal = cache.refusal.as_mut()?;
        let slot = self.slot();
        front::fill(self.id, slot, Some((generation, refusal.as_ptr())));
        slot.rejected();
        Some(refusal.handle())
    }

    /// Keeps `refusal` as this thread's record of trip `generation`.
    pub(crate) fn remember_trip(&self, generation: u64, refusal: Reserve<Refusal>) {
        let mut cache = self.trip();
        cache.generation = generation;
        let refusal = cache.refusal.insert(refusal).as_ptr();
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
            .fold(CallCounts::default(), |total, slot| slot.add_to(total))
    }

    /// The time window's calls of `generation` up to `now`, from every thread.
    pub(crate) fn time_tally(&self, generation: u64, now: u64) -> Tally {
        let mut total = Tally::default();
        for window in self.slots.iter().filter_map(|slot| slot.window()) {
            window.add_to(&mut total, generation, now);
        }
        total
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

/// What a rejection says, kept per thread for the generation it belongs to, so that rejections
/// while Open take no lock. It cannot go stale: while a generation lasts, nothing changes the
/// failure count, the reason the circuit opened, the deadline or the last failure.
///
/// Each thread keeps a record of its own, built by its first rejection of the trip, as a
/// [`Reserve`] that hands out the rejections' handles paid for in advance; only this thread's
/// rejections (and whoever they are sent to) share it.
#[derive(Debug)]
pub(crate) struct TripCache {
    /// The generation `refusal` belongs to.
    generation: u64,
    /// What this thread's rejections of that generation say, and the handles it hands them.
    refusal: Option<Reserve<Refusal>>,
}
