//! Each thread's front cache: for the last breakers it used, where its slot is and what its
//! rejections of the current trip say, found in a few instructions. One of the crate's two
//! modules with `unsafe` code (the other is `counted.rs`), fenced here.
//!
//! A breaker keeps each thread's slot and trip record in a `thread_local::ThreadLocal`, whose
//! lookup (the thread's id, then its bucket, then the entry) costs about twenty instructions,
//! as much as all the rest of a successful call. This cache sits in front of it: a
//! `std::thread_local!` table of [`WAYS`] entries, each keyed by a breaker's id, which is
//! unique and never reused, so an entry can only ever match the breaker that wrote it. A breaker
//! takes the entry its id picks (id modulo `WAYS`: breakers built one after another take
//! different entries); on a miss it finds its slot the slow way and takes the entry over.
//!
//! An entry holds plain pointers to what the breaker's own per-thread storage owns: its slot
//! (an `Arc<Slot>` in the breaker's `ThreadLocal`) and its record of the trip (the
//! [`Reserve`](crate::counted::Reserve) in its trip cache, which hands out the rejections'
//! handles). Plain pointers, not reference-counted handles, because a table with handles needs
//! dropping, and a `thread_local!` that needs dropping checks on every access whether it has
//! been initialised or destroyed; with the borrow check of a `RefCell` around it, a lookup cost
//! 27 instructions, more than the lookup it fronts (measured with callgrind on the
//! closed-success benchmark). Plain pointers cost 8, and the entries own nothing, so a
//! breaker's name and memory go with the breaker.
//!
//! Why the pointers are always valid when used, the invariant every `unsafe` block below rests
//! on:
//!
//! 1. only the breaker with id `breaker` writes an entry keyed `breaker`, and only on the thread
//!    that owns the table, with pointers into that thread's share of the breaker's storage;
//! 2. a lookup is made by a live breaker (through `&self`) with its own id, so a matching entry
//!    was written by that same breaker, which is still alive;
//! 3. a breaker's share of a thread is never freed nor moved while the breaker lives: the
//!    `ThreadLocal` never drops an entry before it is dropped itself (a thread that exits leaves
//!    its entry to the next thread given its id, whose table starts empty), and the `Arc<Slot>`
//!    in it is never replaced;
//! 4. the trip record a pointer names is replaced only by this thread, in
//!    [`Threads::remember_trip`](super::threads::Threads::remember_trip), which writes the entry
//!    in the same call, before anything can read it; so a matching entry's record is the one
//!    the trip cache holds;
//! 5. the breaker's share named by an entry is this thread's alone: `ThreadLocal` hands a
//!    thread's id, and its entries, to another thread once the exiting thread's id guard (a
//!    thread-local of the `thread_local` crate) is destroyed, and a thread-local destructor that
//!    runs after that one may still call a breaker. So the table is emptied by a destructor of
//!    its own, [`EmptiedOnExit`], which runs before the id guard's (destructors run in the
//!    reverse order of their first use, and an entry is filled only after the thread's share
//!    was found, which takes the id), and nothing is filled once it has run. (A destructor
//!    that calls a breaker after the id guard's then finds no entry and asks `ThreadLocal`,
//!    which panics there, as any thread-local read after its destruction does.)
//!
//! `tests/loom.rs` runs the breaker's concurrent scenarios through this cache (under loom, with
//! loom's per-thread storage); `tests/behaviour/many_breakers.rs` has breakers that share an
//! entry, dropped and rebuilt, and threads that exit; the test below, a table emptied at exit.
#![allow(unsafe_code)]

use super::slot::Slot;
use crate::counted::{Counted, ReservePtr};
use crate::error::Refusal;
use std::cell::Cell;
use std::ptr;
use std::sync::Arc;

/// Entries per thread. A thread that keeps more breakers than this busy in turn misses now and
/// then and pays the slow lookup; a power of two, so that picking an entry is a mask.
const WAYS: usize = 8;

/// Where the shares of this thread's last breakers are, as it last saw them: entry `i` of each
/// array belongs to the breaker `breakers[i]`. (Arrays of fields rather than an array of
/// entries, so that each field is read at the thread-local's address plus `i` words.)
struct Front {
    /// The breakers' ids; 0 for none (ids start at 1).
    breakers: [Cell<u64>; WAYS],
    /// Their slots, owned by the breakers' `ThreadLocal`s.
    slots: [Cell<*const Slot>; WAYS],
    /// The generation of the trip each record belongs to.
    generations: [Cell<u64>; WAYS],
    /// Their records of a trip, the reserves their trip caches hold; `None` without one.
    refusals: [Cell<Option<ReservePtr<Refusal>>>; WAYS],
}

#[cfg(not(loom))]
std::thread_local! {
    static FRONT: Front = const {
        Front {
            breakers: [const { Cell::new(0) }; WAYS],
            slots: [const { Cell::new(ptr::null()) }; WAYS],
            generations: [const { Cell::new(0) }; WAYS],
            refusals: [const { Cell::new(None) }; WAYS],
        }
    };
}

// Under loom, whose model threads share one OS thread, a thread-local per model thread.
#[cfg(loom)]
loom::thread_local! {
    static FRONT: Front = Front {
        breakers: [const { Cell::new(0) }; WAYS],
        slots: [const { Cell::new(ptr::null()) }; WAYS],
        generations: [const { Cell::new(0) }; WAYS],
        refusals: [const { Cell::new(None) }; WAYS],
    };
}

/// Empties this thread's table when the thread exits, before `thread_local` can give the
/// thread's id to another thread (invariant 5).
struct EmptiedOnExit;

impl Drop for EmptiedOnExit {
    fn drop(&mut self) {
        // The table itself has no destructor, so it is there until the thread is gone.
        let _ = FRONT.try_with(|front| {
            for breaker in &front.breakers {
                breaker.set(0);
            }
        });
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static ON_EXIT: EmptiedOnExit = const { EmptiedOnExit };
}

/// Whether this thread's table may take entries: its [`EmptiedOnExit`] is registered, and has
/// not run. (Loom's model threads keep their tables in loom's own thread-locals, which go with
/// the model thread.)
fn armed() -> bool {
    #[cfg(not(loom))]
    return ON_EXIT.try_with(|_| ()).is_ok();
    #[cfg(loom)]
    return true;
}

/// Runs `with` on this thread's table and the entry `breaker` picks.
#[inline]
fn entry<R>(breaker: u64, with: impl FnOnce(&Front, usize) -> R) -> R {
    FRONT.with(|front| with(front, breaker as usize % WAYS))
}

/// Runs `hit` on this thread's slot of `breaker` when the cache holds it; `None` otherwise.
#[inline]
pub(super) fn with_slot<R>(breaker: u64, hit: impl FnOnce(&Slot) -> R) -> Option<R> {
    entry(breaker, |front, i| {
        (front.breakers[i].get() == breaker).then(|| {
            // SAFETY: the entry is `breaker`'s (1), whose slot for this thread lives as long as
            // the breaker (3), which lives while the caller borrows it (2).
            hit(unsafe { &*front.slots[i].get() })
        })
    })
}

/// Counts a rejection in this thread's slot of `breaker` and returns its record of trip
/// `generation`, when the cache holds both; `None`, counting nothing, otherwise.
#[inline]
pub(super) fn reject(breaker: u64, generation: u64) -> Option<Counted<Refusal>> {
    entry(breaker, |front, i| {
        if front.breakers[i].get() != breaker || front.generations[i].get() != generation {
            return None;
        }
        let refusal = front.refusals[i].get()?;
        // SAFETY: as in `with_slot`.
        unsafe { &*front.slots[i].get() }.rejected();
        // SAFETY: the reserve is the one `breaker`'s trip cache holds for this thread (4),
        // alive while the breaker lives (3), and this is its thread, in no other use of it.
        Some(unsafe { refusal.handle() })
    })
}

/// Makes `breaker`'s entry name `slot` (this thread's, in the breaker's `ThreadLocal`) and,
/// when given, its record of a trip (the one its trip cache holds), taking the entry over from
/// whichever breaker held it; nothing once the thread is exiting (invariant 5).
pub(super) fn fill(breaker: u64, slot: &Arc<Slot>, trip: Option<(u64, ReservePtr<Refusal>)>) {
    if !armed() {
        return;
    }
    entry(breaker, |front, i| {
        if front.breakers[i].get() != breaker {
            front.breakers[i].set(breaker);
            front.slots[i].set(Arc::as_ptr(slot));
            front.refusals[i].set(None);
        }
        if let Some((generation, refusal)) = trip {
            front.generations[i].set(generation);
            front.refusals[i].set(Some(refusal));
        }
    });
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::mpsc;

    /// The ids in this thread's table.
    fn ids() -> Vec<u64> {
        FRONT.with(|front| front.breakers.iter().map(Cell::get).collect())
    }

    /// A thread-local first used before the table's own destructor is registered, so destroyed
    /// after it: it reports the ids it finds, then those after it tries to fill an entry.
    struct Inspect(mpsc::Sender<(Vec<u64>, Vec<u64>)>);

    impl Drop for Inspect {
        fn drop(&mut self) {
            let at_exit = ids();
            // The slot is dropped at once: an entry that named it would never be read here.
            fill(7, &Arc::new(Slot::new(None)), None);
            let _ = self.0.send((at_exit, ids()));
        }
    }

    std::thread_local! {
        static INSPECT: RefCell<Option<Inspect>> = const { RefCell::new(None) };
    }

    #[test]
    fn a_threads_table_is_emptied_when_it_exits_and_takes_no_entry_after() {
        let (report, seen) = mpsc::channel();
        let ran = std::thread::spawn(move || {
            INSPECT.with(|inspect| *inspect.borrow_mut() = Some(Inspect(report)));
            let slot = Arc::new(Slot::new(None));
            fill(5, &slot, None);
            assert!(
                with_slot(5, |_| ()).is_some(),
                "a live thread's table takes the entry"
            );
        })
        .join();
        assert!(ran.is_ok(), "the thread and its destructors ran");
        let (at_exit, after) = seen.recv().expect("the late destructor reported");
        assert_eq!(at_exit, [0; WAYS], "emptied at exit");
        assert_eq!(after, [0; WAYS], "no entry after");
    }
}
