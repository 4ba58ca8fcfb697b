//! A shared value with a count of its handles, as `Arc` is, whose owner can hand out handles
//! without a locked instruction: what a rejection while Open carries. A learner can skip this
//! module: it changes how fast a rejection is made, never what it says. With `front.rs`, the
//! crate's only `unsafe` code.
//!
//! A rejection shares its thread's record of the trip ([`Refusal`](crate::error::Refusal)),
//! and a shared record needs a count of its handles, so that it lives as long as the last
//! rejection that quotes it and no longer. With `Arc`, a rejection costs two locked
//! instructions: the increment that makes its handle and the decrement that drops it. The
//! thread that keeps the record holds it as a [`Reserve`], which pays for [`BATCH`] handles with
//! one locked instruction and then hands them out one at a time with a plain load and store;
//! a rejection then costs the one locked instruction of its drop, and one rejection in 1,024
//! another that pays for the next batch. What that buys on a 2-core Intel Xeon (Emerald
//! Rapids, a KVM guest), where a locked instruction costs 10 ns (`BENCHMARKS.md`, the building
//! blocks): criterion timed a rejection through `try_acquire` at 23.0 to 26.5 ns with
//! an `Arc` in the reserve's place and 14.9 to 15.4 ns with the reserve, through `call` at 21.6
//! to 22.5 ns and 15.6 to 19.2 ns, in the same instruction count (131 and 143). On an AMD EPYC
//! (Zen 4), where a locked instruction costs 2.7 ns, it buys less; the two were not timed
//! there side by side.
//!
//! The count is always: the handles alive, plus one for the reserve while it lives, plus the
//! reserve's spare handles, paid for and not handed out. The reserve gives its one and its
//! spares back when it is dropped; whoever brings the count to zero frees the value. Every
//! `unsafe` block below rests on that sum never reaching zero while a handle or the reserve
//! can still reach the value, and on only the reserve's own thread touching its spare count.
#![allow(unsafe_code)]

use std::fmt;
use std::ops::Deref;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::ptr::NonNull;

// Loom's, under `--cfg loom`, so that its model checker also sees the spare count's accesses.
#[cfg(loom)]
use loom::{
    cell::Cell,
    sync::atomic::{AtomicUsize, Ordering, fence},
};
#[cfg(not(loom))]
use std::{
    cell::Cell,
    sync::atomic::{AtomicUsize, Ordering, fence},
};

/// Handles a reserve pays for at once: one locked instruction per this many rejections.
pub(crate) const BATCH: usize = 1024;

/// The most the count may reach: as `Arc`, a count near overflow aborts the process rather
/// than wrap and free a value still in use.
const MAX_COUNT: usize = isize::MAX as usize;

/// What the handles and the reserve point to, on the heap.
struct Inner<T> {
    /// Handles alive, plus one for the reserve while it lives, plus its spare handles.
    count: AtomicUsize,
    /// Handles the reserve has paid for and not handed out. Only the thread that holds the
    /// reserve reads or writes it (the reserve is not `Sync`, and the front cache hands out
    /// through it only on that thread, `fast_path/front.rs`), and whoever drops the reserve,
    /// after every other use of it; so it is a plain cell.
    spare: Cell<usize>,
    /// The shared value, never changed.
    value: T,
}

/// One counted handle to a shared value, as an `Arc` is: cloned with an increment, dropped with
/// a decrement, the value freed with the last one.
pub(crate) struct Counted<T>(NonNull<Inner<T>>);

/// The first handle to a value, kept by one thread, which hands out [`Counted`] handles it has
/// paid for in advance.
pub(crate) struct Reserve<T>(NonNull<Inner<T>>);

/// A reserve as a plain pointer, for the front cache (`fast_path/front.rs`), whose entries own
/// nothing.
pub(crate) struct ReservePtr<T>(NonNull<Inner<T>>);

// Written out: a derive would ask `T: Copy`, and a pointer is copied whatever it points to.
impl<T> Clone for ReservePtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ReservePtr<T> {}

/// `value` on the heap with a count of one.
fn allocate<T>(value: T) -> NonNull<Inner<T>> {
    NonNull::from(Box::leak(Box::new(Inner {
        count: AtomicUsize::new(1),
        spare: Cell::new(0),
        value,
    })))
}

/// Takes `n` from the count of `inner`, freeing it when that leaves nothing.
///
/// # Safety
/// The caller gives up `n` counts it holds, and does not touch `inner` afterwards.
#[inline]
unsafe fn release<T>(inner: NonNull<Inner<T>>, n: usize) {
    // SAFETY: the caller's `n` counts keep the value alive until the subtraction.
    let count = unsafe { &(*inner.as_ptr()).count };
    // Release, then Acquire before freeing, as `Arc` does: every use of the value through any
    // handle happens before it is freed.
    if count.fetch_sub(n, Ordering::Release) == n {
        // SAFETY: the count is zero: no handle and no reserve is left to reach it.
        unsafe { free(inner) };
    }
}

/// Frees `inner`. Out of line, as `Arc`'s `drop_slow`: a drop that is not the last is only
/// its subtraction.
///
/// # Safety
/// The count of `inner` has reached zero.
#[cold]
#[inline(never)]
unsafe fn free<T>(inner: NonNull<Inner<T>>) {
    fence(Ordering::Acquire);
    // SAFETY: the caller's word: nothing is left to reach it.
    drop(unsafe { Box::from_raw(inner.as_ptr()) });
}

/// Adds `n` to the count of `inner`.
///
/// # Safety
/// The caller holds a count of `inner`.
unsafe fn acquire<T>(inner: NonNull<Inner<T>>, n: usize) {
    // SAFETY: the caller's count keeps the value alive. Relaxed, as `Arc`'s clone: a new
    // handle is made from one the caller holds, which orders everything before it.
    let old = unsafe { &(*inner.as_ptr()).count }.fetch_add(n, Ordering::Relaxed);
    if old > MAX_COUNT - n {
        std::process::abort();
    }
}

impl<T> Counted<T> {
    /// A value with its one handle.
    pub(crate) fn new(value: T) -> Self {
        Self(allocate(value))
    }
}

impl<T> Clone for Counted<T> {
    fn clone(&self) -> Self {
        // SAFETY: `self` holds a count.
        unsafe { acquire(self.0, 1) };
        Self(self.0)
    }
}

impl<T> Drop for Counted<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `self` holds one count, given up here.
        unsafe { release(self.0, 1) }
    }
}

impl<T> Deref for Counted<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `self` holds a count, so the value lives; only its field is borrowed, never
        // the reserve's spare count beside it.
        unsafe { &(*self.0.as_ptr()).value }
    }
}

impl<T: PartialEq> PartialEq for Counted<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for Counted<T> {}

impl<T: fmt::Debug> fmt::Debug for Counted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

// SAFETY: a handle only reads the value and changes the atomic count, as `Arc<T>` does, so it
// may go wherever an `Arc<T>` may.
unsafe impl<T: Send + Sync> Send for Counted<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Counted<T> {}

// As `Arc<T>`: a handle never touches the reserve's spare count (the `Cell` that would deny
// these), only the value and the atomic count, so a panic cannot leave what it sees half-changed.
impl<T: RefUnwindSafe> UnwindSafe for Counted<T> {}
impl<T: RefUnwindSafe> RefUnwindSafe for Counted<T> {}

impl<T> Reserve<T> {
    /// A value held by the calling thread's reserve, with no handle yet.
    pub(crate) fn new(value: T) -> Self {
        Self(allocate(value))
    }

    /// A handle to the value: one of the spares, or, when none is left, one of [`BATCH`] more
    /// paid for with one locked instruction.
    pub(crate) fn handle(&mut self) -> Counted<T> {
        // SAFETY: `&mut self` is the reserve itself, on its own thread.
        unsafe { self.as_ptr().handle() }
    }

    /// The reserve as a plain pointer, which owns nothing.
    pub(crate) fn as_ptr(&self) -> ReservePtr<T> {
        ReservePtr(self.0)
    }
}

impl<T> ReservePtr<T> {
    /// [`Reserve::handle`] through the pointer.
    ///
    /// # Safety
    /// The reserve is alive, the caller runs on the thread that holds it, and no other hand-out
    /// or drop of it is in progress.
    #[inline]
    pub(crate) unsafe fn handle(self) -> Counted<T> {
        // SAFETY: the reserve is alive (the caller's word) and holds a count; only its own
        // thread, this one, touches `spare`.
        let spare = unsafe { &(*self.0.as_ptr()).spare };
        let left = match spare.get() {
            // SAFETY: the reserve holds a count.
            0 => unsafe { self.pay() },
            left => left,
        };
        spare.set(left - 1);
        Counted(self.0)
    }

    /// Pays for [`BATCH`] more handles; out of line, as it runs once a batch.
    ///
    /// # Safety
    /// As [`handle`](Self::handle).
    #[cold]
    #[inline(never)]
    unsafe fn pay(self) -> usize {
        // SAFETY: the reserve holds a count.
        unsafe { acquire(self.0, BATCH) };
        BATCH
    }
}

impl<T> Drop for Reserve<T> {
    fn drop(&mut self) {
        // SAFETY: the reserve holds its own count and its spares, given up here. It is being
        // dropped, so every hand-out through it, on its own thread, happened before (its owner
        // dropped it there, or dropped the breaker that kept it, which orders every use before
        // the last drop).
        unsafe {
            let spare = (*self.0.as_ptr()).spare.get();
            release(self.0, 1 + spare);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Reserve<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the reserve holds a count.
        unsafe { &(*self.0.as_ptr()).value }.fmt(f)
    }
}

// SAFETY: a reserve may move to another thread with its value, as an `Arc<T>` may. It is not
// `Sync`, and the front cache's plain pointers to it are used only on its thread (their own
// invariants, `fast_path/front.rs`), so its spare count is only ever touched by the one thread
// that holds it.
unsafe impl<T: Send + Sync> Send for Reserve<T> {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize as Drops;

    /// A value that counts how many times it was dropped.
    #[derive(Debug)]
    struct Tracked(Arc<Drops>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn tracked() -> (Tracked, Arc<Drops>) {
        let drops = Arc::new(Drops::new(0));
        (Tracked(Arc::clone(&drops)), drops)
    }

    /// The count of the value `handle` points to.
    fn count<T>(handle: &Counted<T>) -> usize {
        // SAFETY: the handle holds a count.
        unsafe { &(*handle.0.as_ptr()).count }.load(Ordering::SeqCst)
    }

    #[test]
    fn the_value_is_freed_with_the_last_handle_once_the_reserve_is_gone() {
        let (value, drops) = tracked();
        let mut reserve = Reserve::new(value);
        let first = reserve.handle();
        let second = first.clone();
        drop(reserve);
        drop(first);
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a handle is still alive");
        drop(second);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_value_is_freed_with_the_reserve_when_its_handles_went_first() {
        let (value, drops) = tracked();
        let mut reserve = Reserve::new(value);
        drop((0..3).map(|_| reserve.handle()).collect::<Vec<_>>());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "the reserve still holds it"
        );
        drop(reserve);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_reserve_pays_once_for_a_batch_and_again_when_it_is_spent() {
        let mut reserve = Reserve::new(7);
        let first = reserve.handle();
        // The reserve's one, the batch's handles (one of them `first`).
        assert_eq!(count(&first), 1 + BATCH);
        let rest: Vec<_> = (1..BATCH).map(|_| reserve.handle()).collect();
        assert_eq!(
            count(&first),
            1 + BATCH,
            "the batch paid for every one of them"
        );
        let next = reserve.handle();
        assert_eq!(count(&first), 1 + 2 * BATCH);
        drop((rest, next));
        // The reserve's one, `first`, the second batch's spares.
        assert_eq!(
            count(&first),
            1 + 1 + (BATCH - 1),
            "a drop gives its count back"
        );
        assert_eq!(*first, 7);
    }

    #[test]
    fn a_reserve_never_used_frees_its_value() {
        let (value, drops) = tracked();
        drop(Reserve::new(value));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        let (value, drops) = tracked();
        drop(Counted::new(value));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn handles_compare_and_print_as_their_values() {
        let mut reserve = Reserve::new("trip");
        assert_eq!(reserve.handle(), Counted::new("trip"));
        assert_ne!(reserve.handle(), Counted::new("other"));
        assert_eq!(format!("{:?}", reserve.handle()), "\"trip\"");
        assert_eq!(format!("{reserve:?}"), "\"trip\"");
    }

    /// Handles handed out by one thread and dropped on others, while the reserve goes on
    /// handing out: the value is freed exactly once, after the last of them.
    #[test]
    fn handles_dropped_on_other_threads_free_the_value_once() {
        let (value, drops) = tracked();
        let mut reserve = Reserve::new(value);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                let handles: Vec<_> = (0..BATCH / 2 + 1).map(|_| reserve.handle()).collect();
                scope.spawn(move || {
                    let copies: Vec<_> = handles.iter().map(Counted::clone).collect();
                    drop(handles);
                    drop(copies);
                });
            }
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "the reserve still holds it"
        );
        let last = reserve.handle();
        drop(reserve);
        let joined = std::thread::spawn(move || drop(last)).join();
        assert!(joined.is_ok());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
