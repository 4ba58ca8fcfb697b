//! What each thread keeps for a breaker: its call counters, its share of the time window, and
//! what a rejection needs to say.
//!
//! Counting every call must not make threads fight over one cache line: each thread writes only
//! its own slot, so an increment is a plain load and store, no locked instruction. Readers
//! (snapshots, the trip decision) add the slots up through a registry of every thread's slot.
//! One `thread_local::ThreadLocal` lookup finds everything the calling thread keeps.

use crate::CallCounts;
use crate::text::Text;
use crate::window::{Tally, ThreadWindow, TimeGeometry};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use thread_local::ThreadLocal;

/// What a rejection needs from the core, cached per thread for the generation it belongs to,
/// so rejections while Open take no lock. It cannot go stale: while a generation lasts, no
/// outcome changes the failure count or the last failure.
#[derive(Debug)]
pub(crate) struct TripCache {
    /// `u64::MAX` until filled: no generation ever reaches it.
    pub(crate) generation: u64,
    pub(crate) failures: u32,
    pub(crate) last_failure: Option<Text>,
}

impl Default for TripCache {
    fn default() -> Self {
        Self {
            generation: u64::MAX,
            failures: 0,
            last_failure: None,
        }
    }
}

/// Everything one thread keeps for one breaker.
#[derive(Debug)]
pub(crate) struct Local {
    /// Shared with the registry, which other threads read.
    pub(crate) slot: Arc<Slot>,
    /// Read and written by this thread only.
    pub(crate) trip: RefCell<TripCache>,
}

/// One thread's counts and time-window buckets.
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

/// Adds one to a counter that only the current thread writes. Readers on other threads may see
/// the old value for a moment, never a torn or lost one.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// Every thread's slot for one breaker.
#[derive(Debug)]
pub(crate) struct Locals {
    locals: ThreadLocal<Local>,
    /// Every slot ever made, for the readers. A thread that exits leaves its counts here; a new
    /// thread that reuses its id reuses its `Local`, so this grows only with the most threads
    /// ever alive at once.
    slots: Mutex<Vec<Arc<Slot>>>,
    geometry: Option<TimeGeometry>,
}

impl Locals {
    /// `geometry` is the time window's shape, when the breaker keeps a time window.
    pub(crate) fn new(geometry: Option<TimeGeometry>) -> Self {
        Self {
            locals: ThreadLocal::new(),
            slots: Mutex::new(Vec::new()),
            geometry,
        }
    }

    /// What the calling thread keeps, created on its first call.
    #[inline]
    pub(crate) fn local(&self) -> &Local {
        self.locals.get_or(|| self.create())
    }

    /// The calling thread's slot.
    #[inline]
    pub(crate) fn slot(&self) -> &Slot {
        &self.local().slot
    }

    #[cold]
    fn create(&self) -> Local {
        let slot = Arc::new(Slot::new(self.geometry));
        self.all().push(slot.clone());
        Local {
            slot,
            trip: RefCell::default(),
        }
    }

    fn all(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Slot>>> {
        // Nothing panics while this lock is held.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn counts(&self) -> CallCounts {
        self.all()
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
        for window in self.all().iter().filter_map(|slot| slot.window()) {
            window.add_to(&mut total, generation, now);
        }
        total
    }
}
