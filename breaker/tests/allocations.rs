//! The hot path does not touch the heap, and a breaker that opens and closes forever does not
//! grow it.
//!
//! A counting global allocator sees every allocation in this test binary. Tests run in parallel
//! threads of one process, so the counters are per thread and only count while a [`Counter`] is
//! alive on that thread: no other test, and no harness thread, can add to a figure. Each case
//! warms up on the same thread first, because the first call on a thread may allocate its
//! thread-local storage.

// Under `--cfg loom` only tests/loom.rs runs; the rest needs dev-dependencies it leaves out.
#![cfg(not(loom))]
// The counting allocator is the only unsafe code in the crate: `GlobalAlloc` has no safe form.
// It forwards to `System` unchanged and only adds bookkeeping in thread-local cells.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use trip_breaker::{CircuitBreaker, ManualClock, SlidingWindow, State};

struct CountingAllocator;

thread_local! {
    // Const-initialised and without destructors: reading them from inside the allocator never
    // allocates, registers a destructor, or fails during thread teardown.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counting
// touches only thread-local `Cell`s, which neither allocate nor unwind.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.get() {
            ALLOCATIONS.set(ALLOCATIONS.get() + 1);
            LIVE_BYTES.set(LIVE_BYTES.get() + layout.size() as i64);
        }
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.get() {
            LIVE_BYTES.set(LIVE_BYTES.get() - layout.size() as i64);
        }
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    // `realloc` and `alloc_zeroed` keep their default bodies, which go through `alloc` and
    // `dealloc` above, so a growing buffer counts as an allocation too.
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Counts this thread's allocations and live bytes from `start` until dropped.
struct Counter;

impl Counter {
    fn start() -> Counter {
        ALLOCATIONS.set(0);
        LIVE_BYTES.set(0);
        COUNTING.set(true);
        Counter
    }

    fn allocations(&self) -> u64 {
        ALLOCATIONS.get()
    }

    /// Bytes allocated minus bytes freed on this thread since `start`; negative when memory
    /// from before `start` was freed.
    fn live_bytes(&self) -> i64 {
        LIVE_BYTES.get()
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        COUNTING.set(false);
    }
}

const WARM_UP_CALLS: u32 = 1_000;
const COUNTED_CALLS: u32 = 10_000;

/// Heap allocations made on this thread by `COUNTED_CALLS` runs of `call`, after a warm-up.
fn allocations_per_run(mut call: impl FnMut()) -> u64 {
    for _ in 0..WARM_UP_CALLS {
        call();
    }
    let counter = Counter::start();
    for _ in 0..COUNTED_CALLS {
        call();
    }
    counter.allocations()
}

fn consecutive_failures(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::builder("allocations")
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .expect("valid config")
}

/// Trips on the failure rate alone: 50 % over 10 s in 10 buckets, once 100 calls are in.
fn time_window(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::builder("allocations")
        .without_failure_threshold()
        .failure_rate_threshold(50.0)
        .sliding_window(SlidingWindow::time(Duration::from_secs(10), 10))
        .minimum_calls(100)
        .recovery_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .expect("valid config")
}

fn succeed(cb: &CircuitBreaker) {
    cb.try_acquire().expect("Closed admits the call").success();
}

fn fail(cb: &CircuitBreaker) {
    cb.try_acquire()
        .expect("Closed admits the call")
        .failure("boom");
}

#[test]
fn a_success_while_closed_does_not_allocate() {
    let clock = ManualClock::new();
    let cb = consecutive_failures(&clock);

    let allocations = allocations_per_run(|| succeed(&cb));

    assert_eq!(cb.state(), State::Closed);
    assert_eq!(
        allocations, 0,
        "allocations in {COUNTED_CALLS} successful calls"
    );
}

#[test]
fn a_rejection_while_open_does_not_allocate() {
    let clock = ManualClock::new();
    let cb = consecutive_failures(&clock);
    for _ in 0..3 {
        fail(&cb);
    }
    assert_eq!(cb.state(), State::Open);

    // The rejection is built and dropped, as a caller that only checks for it would.
    let allocations = allocations_per_run(|| assert!(cb.try_acquire().is_err()));

    assert_eq!(cb.state(), State::Open);
    assert_eq!(allocations, 0, "allocations in {COUNTED_CALLS} rejections");
}

#[test]
fn a_success_under_the_time_window_policy_does_not_allocate() {
    let clock = ManualClock::new();
    let cb = time_window(&clock);

    // A millisecond per call: the counted calls span the whole 10 s window, so every bucket
    // is rotated out and reused while counting.
    let allocations = allocations_per_run(|| {
        clock.advance(Duration::from_millis(1));
        succeed(&cb);
    });

    assert_eq!(cb.state(), State::Closed);
    assert_eq!(
        allocations, 0,
        "allocations in {COUNTED_CALLS} successful calls"
    );
}

#[test]
fn live_heap_stays_flat_across_a_million_open_close_cycles() {
    const CYCLES: u32 = 1_000_000;
    const BASELINE_CYCLES: u32 = 1_000;
    const ALLOWED_GROWTH: i64 = 4 * 1024;

    let clock = ManualClock::new();
    let cb = consecutive_failures(&clock);
    // One cycle: three failures open it, the recovery timeout passes, one probe closes it.
    let cycle = |checked: bool| {
        for _ in 0..3 {
            fail(&cb);
        }
        if checked {
            assert_eq!(cb.state(), State::Open);
        }
        clock.advance(Duration::from_secs(1));
        cb.try_acquire()
            .expect("HalfOpen admits one probe")
            .success();
        if checked {
            assert_eq!(cb.state(), State::Closed);
        }
    };

    let counter = Counter::start();
    for i in 0..BASELINE_CYCLES {
        cycle(i % 100 == 0);
    }
    let baseline = counter.live_bytes();
    for i in BASELINE_CYCLES..CYCLES {
        cycle(i % 1_000 == 0);
    }
    let growth = counter.live_bytes() - baseline;
    drop(counter);

    assert!(
        growth < ALLOWED_GROWTH,
        "live heap grew by {growth} bytes from cycle {BASELINE_CYCLES} to cycle {CYCLES}"
    );
}
