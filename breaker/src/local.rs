//! What each thread keeps for a breaker: its call counters and its share of the time window.
//!
//! Counting every call must not make threads fight over one cache line: each thread writes only
//! its own slot (`thread_local::ThreadLocal`), so an increment is a plain load and store, no
//! locked instruction. Readers (snapshots, the trip decision) add the slots up.

use crate::CallCounts;
use crate::window::{Tally, ThreadWindow, TimeGeometry};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use thread_local::ThreadLocal;

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
    slots: ThreadLocal<Slot>,
    geometry: Option<TimeGeometry>,
}

impl Locals {
    /// `geometry` is the time window's shape, when the breaker keeps a time window.
    pub(crate) fn new(geometry: Option<TimeGeometry>) -> Self {
        Self {
            slots: ThreadLocal::new(),
            geometry,
        }
    }

    /// The calling thread's slot, created on its first call.
    #[inline]
    pub(crate) fn slot(&self) -> &Slot {
        self.slots.get_or(|| Slot::new(self.geometry))
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
        for window in self.slots.iter().filter_map(Slot::window) {
            window.add_to(&mut total, generation, now);
        }
        total
    }
}
