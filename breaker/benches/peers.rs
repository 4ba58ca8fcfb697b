//! What one circuit-breaker decision costs in time: `breaker` side by side with failsafe,
//! recloser, WyattAu's `breaker` and tower-resilience-circuitbreaker, each configured for the
//! same work, through every entry point (`subjects/` has them behind one trait, shared with the
//! instruction counts of `instructions.rs`).
//!
//! Run with `cargo bench -p trip-breaker --bench peers`; BENCHMARKS.md holds the figures and
//! says what each peer can and cannot express. After criterion's groups the bench prints each
//! row's median against the fastest peer's of the same entry point, then runs the
//! `closed_success` and `open_rejection` calls again in a plain loop that interleaves the rows
//! in rounds, and prints the same ratios. Both run the same compiled loop, [`calls`], of
//! `Subject::call`, which hands the whole answer to `black_box`.
//!
//! The groups:
//!
//! - `closed_success`: a successful synchronous call while Closed, one function per entry
//!   point (`breaker.try_acquire`, `breaker.call`, `breaker.call_with`, `breaker.tower`) and
//!   per peer's (`failsafe.call`, `failsafe.async`, `recloser.call`, `recloser.async`,
//!   `wyatt-breaker.call`, `wyatt-breaker.tower`, `tower-resilience.tower`).
//! - `open_rejection`: the same calls, rejected while Open (tripped by real failures, 60 s
//!   recovery).
//! - `time_window_success`: a successful call under a 50 % failure-rate policy over a 10 s
//!   window with at least 100 calls, or the closest policy the crate has.
//! - `two_threads_success`: two threads calling one shared breaker; the figure is wall time per
//!   call with the calls of both threads counted (elapsed / (2 * iters)).
//! - `primitives`: what the building blocks (an atomic load, a locked instruction, a
//!   per-thread counter, the two clocks) cost on the machine.
//!
//! Each breaker is set up right before its function by the same functions the instruction
//! counts use, which `tests/bench_subjects.rs` checks leave it in the state the group names.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

#[path = "peers/report.rs"]
mod report;
#[path = "subjects/mod.rs"]
#[allow(dead_code)]
// the scenarios only the instruction counts run (a probe, the throttle, the limit)
mod subjects;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use report::{Kind, Loop, Row};
use subjects::ours::{Call, CallWith, Permit, Tower};
use subjects::peers::{failsafe_peer, recloser_peer, tower_resilience_peer, wyatt_peer};
use subjects::{Subject, TimeWindow, WINDOW};

/// Something done with every entry point, each its own type, so that nothing is called
/// through a pointer inside a measured loop.
trait EachEntryPoint {
    fn visit<S: Subject + Send + 'static>(&mut self, row: Row);
}

/// Every entry point of `breaker` and each peer's nearest, in the reports' order.
fn entry_points(each: &mut impl EachEntryPoint) {
    each.visit::<Permit>(Row::ours("breaker.try_acquire", Kind::Sync));
    each.visit::<Call>(Row::ours("breaker.call", Kind::Async));
    each.visit::<CallWith>(Row::ours("breaker.call_with", Kind::Async));
    each.visit::<Tower>(Row::ours("breaker.tower", Kind::Tower));
    each.visit::<failsafe_peer::Sync>(Row::peer("failsafe.call", Kind::Sync));
    each.visit::<recloser_peer::Sync>(Row::peer("recloser.call", Kind::Sync));
    each.visit::<failsafe_peer::Async>(Row::peer("failsafe.async", Kind::Async));
    each.visit::<recloser_peer::Async>(Row::peer("recloser.async", Kind::Async));
    each.visit::<wyatt_peer::Call>(Row::peer("wyatt-breaker.call", Kind::Async));
    each.visit::<wyatt_peer::Tower>(Row::peer("wyatt-breaker.tower", Kind::Tower));
    each.visit::<tower_resilience_peer::Tower>(Row::peer("tower-resilience.tower", Kind::Tower));
}

/// A successful call (`open: false`, on a Closed breaker) or a rejected one (on an Open
/// breaker), as a criterion function per entry point.
struct CriterionGroup<'a, 'b> {
    group: &'a mut BenchmarkGroup<'b, WallTime>,
    open: bool,
}

impl EachEntryPoint for CriterionGroup<'_, '_> {
    fn visit<S: Subject + Send + 'static>(&mut self, row: Row) {
        let (mut subject, expected) = setup::<S>(self.open);
        self.group.bench_function(row.name, |b| {
            b.iter_custom(|iters| calls(&mut subject, iters))
        });
        assert_eq!(subject.call(true), expected, "{} left its state", row.name);
    }
}

/// The same calls as plain loops, for `report::interleaved`.
struct PlainLoops {
    open: bool,
    loops: Vec<(Row, Loop)>,
}

impl EachEntryPoint for PlainLoops {
    fn visit<S: Subject + Send + 'static>(&mut self, row: Row) {
        let (mut subject, _) = setup::<S>(self.open);
        self.loops
            .push((row, Box::new(move |n| calls(&mut subject, n))));
    }
}

/// `n` calls of `subject`, each answer through `black_box`, timed. Criterion's functions and
/// the interleaved rounds both run this one compiled loop (one copy per subject, never inlined
/// into either), so the two time the same machine code and differ only in how they sample it.
#[inline(never)]
fn calls<S: Subject>(subject: &mut S, n: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        black_box(subject.call(true));
    }
    start.elapsed()
}

/// A Closed breaker that admits the call, or an Open one that rejects it, and what the call
/// returns on it.
fn setup<S: Subject>(open: bool) -> (S, bool) {
    if open {
        (subjects::open::<S>(), false)
    } else {
        (subjects::closed::<S>(), true)
    }
}

/// Two threads each calling their own handle to one breaker, `iters` calls each.
struct TwoThreads<'a, 'b> {
    group: &'a mut BenchmarkGroup<'b, WallTime>,
}

impl EachEntryPoint for TwoThreads<'_, '_> {
    fn visit<S: Subject + Send + 'static>(&mut self, row: Row) {
        // Its async lock may make a contended call wait, which the single poll of the
        // subjects cannot: it has no row here.
        if row.name == "tower-resilience.tower" {
            return;
        }
        let subject = subjects::closed::<S>();
        self.group.bench_function(row.name, |b| {
            b.iter_custom(|iters| two_threads(iters, || subject.handle()))
        });
    }
}

/// Runs `iters` calls on each of two threads, each with its own handle to one shared breaker,
/// and returns the wall time divided by two: criterion divides by `iters`, so the figure is
/// nanoseconds per call with the calls of both threads counted.
fn two_threads<S: Subject + Send>(iters: u64, handle: impl Fn() -> S) -> Duration {
    let barrier = Barrier::new(2);
    let slowest = thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut handle = handle();
                let barrier = &barrier;
                scope.spawn(move || {
                    // Start the clocks together so neither thread runs alone for a while.
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        assert!(handle.call(true), "a Closed breaker admits every call");
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("bench thread panicked"))
            .max()
            .expect("two workers")
    });
    slowest / 2
}

fn time_window<S: TimeWindow>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let mut subject = subjects::window_full::<S>();
    group.bench_function(name, |b| b.iter(|| subject.succeed()));
    assert!(subject.succeed(), "{name} stayed Closed");
}

fn criterion_groups(c: &mut Criterion) {
    for (name, open) in [("closed_success", false), ("open_rejection", true)] {
        let mut group = c.benchmark_group(name);
        entry_points(&mut CriterionGroup {
            group: &mut group,
            open,
        });
        group.finish();
    }

    let mut group = c.benchmark_group("time_window_success");
    // Warm up past the 10 s window so every crate is measured with a full window: a per-call
    // record list (tower-resilience) grows for the first 10 s and only then holds steady.
    group.warm_up_time(WINDOW + Duration::from_secs(2));
    time_window::<Permit>(&mut group, "breaker.try_acquire");
    time_window::<failsafe_peer::RateOverTime>(&mut group, "failsafe.call");
    time_window::<tower_resilience_peer::Tower>(&mut group, "tower-resilience.tower");
    group.finish();

    let mut group = c.benchmark_group("two_threads_success");
    entry_points(&mut TwoThreads { group: &mut group });
    group.finish();
}

/// What the building blocks cost on the machine the bench runs on: the figures the fast path's
/// design rests on (`breaker/src/fast_path/mod.rs`).
fn primitives(c: &mut Criterion) {
    use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Relaxed};
    use trip_breaker::{Clock, MonotonicClock};
    let mut group = c.benchmark_group("primitives");
    let word = AtomicU64::new(0);
    group.bench_function("atomic load (acquire)", |b| {
        b.iter(|| black_box(&word).load(Acquire))
    });
    group.bench_function("atomic fetch_add (a locked instruction)", |b| {
        b.iter(|| black_box(&word).fetch_add(1, Relaxed))
    });
    let slots = thread_local::ThreadLocal::<AtomicU64>::new();
    group.bench_function("per-thread counter: lookup, load, store", |b| {
        b.iter(|| {
            let slot = black_box(&slots).get_or(|| AtomicU64::new(0));
            slot.store(slot.load(Relaxed) + 1, Relaxed);
        })
    });
    let clock = MonotonicClock::new();
    group.bench_function("coarse clock (MonotonicClock::now)", |b| {
        b.iter(|| black_box(&clock).now())
    });
    group.bench_function("precise clock (MonotonicClock::now_precise)", |b| {
        b.iter(|| black_box(&clock).now_precise())
    });
    group.bench_function("std::time::Instant::now", |b| b.iter(Instant::now));
    group.finish();
}

fn main() {
    let started = std::time::SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    primitives(&mut criterion);
    criterion_groups(&mut criterion);
    criterion.final_summary();
    let mut rows = Vec::new();
    entry_points(&mut report::Rows(&mut rows));
    report::criterion_ratios(
        &["closed_success", "open_rejection", "two_threads_success"],
        &rows,
        started,
    );
    report::criterion_ratios(
        &["time_window_success"],
        &[
            Row::ours("breaker.try_acquire", Kind::Sync),
            Row::peer("failsafe.call", Kind::Sync),
            Row::peer("tower-resilience.tower", Kind::Sync),
        ],
        started,
    );
    for (scenario, open) in [("closed_success", false), ("open_rejection", true)] {
        let mut plain = PlainLoops {
            open,
            loops: Vec::new(),
        };
        entry_points(&mut plain);
        report::interleaved(scenario, plain.loops);
    }
}

impl EachEntryPoint for report::Rows<'_> {
    fn visit<S: Subject + Send + 'static>(&mut self, row: Row) {
        self.0.push(row);
    }
}
