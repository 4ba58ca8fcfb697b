//! What one circuit-breaker decision costs, in instructions: `breaker` beside failsafe, recloser,
//! WyattAu's `breaker` and tower-resilience, counted by callgrind (through gungraun), so that
//! the count does not move with the machine's load and a change of a few percent shows.
//!
//! Run it with `scripts/bench-instructions.sh`, which installs valgrind and gungraun's runner
//! when missing, prints the table (instructions per operation, and each row's ratio to the
//! best peer of its kind) and compares `breaker`'s rows with the committed baseline.
//!
//! Each benchmark is one call, made by a function that gungraun runs once under callgrind in a
//! process of its own; the setup (building the breaker, warming it up, tripping it) runs
//! before and is not counted, and the breaker is returned so that dropping it is not either.
//! A scenario is one function with a `#[bench]` per crate and entry point (its id: `breaker_permit`,
//! `failsafe_sync`...), so that every row of a scenario runs the same code around its call.
//! `subjects/` has the crates behind one trait, and `tests/bench_subjects.rs` checks that every
//! setup and call does what its scenario says.
//!
//! The scenarios:
//!
//! - `closed_success`: a successful call while Closed;
//! - `closed_failure`: a failed call while Closed, below the threshold (the first failure);
//! - `open_rejection`: a call rejected while Open (tripped by real failures, 60 s recovery);
//! - `half_open_probe`: the first call after the open duration, admitted as a probe, succeeding;
//! - `time_window_success`: a successful call under a 50 % failure rate over 10 s;
//! - `throttle_admission` and `limit_acquire_release`: `breaker` alone, as no peer has an
//!   adaptive throttle or concurrency limit.
//!
//! `closed_success` also runs the work with no breaker at all (`no_breaker`): the floor every
//! row stands on, which the report takes off each row to give what the breakers themselves
//! cost.

use gungraun::{library_benchmark, library_benchmark_group, main};
use std::hint::black_box;

#[path = "subjects/mod.rs"]
#[allow(dead_code)] // `handle`, for the two-thread group of the timed bench
mod subjects;

use subjects::ours::{Call, CallWith, Limiter, Permit, Throttled, Tower};
use subjects::peers::{failsafe_peer, recloser_peer, tower_resilience_peer, wyatt_peer};
use subjects::{NoBreaker, Subject, TimeWindow, closed, due_for_probe, open, window_full};

/// A subject as the benchmark functions take it: each function measures one scenario for
/// every subject (one `#[bench]` each), so the subject's type is behind a pointer. The call
/// through it costs the same few instructions for every row.
trait Measured {
    fn call(&mut self, succeed: bool) -> bool;
}

impl<S: Subject> Measured for S {
    fn call(&mut self, succeed: bool) -> bool {
        Subject::call(self, succeed)
    }
}

/// A window subject, likewise.
trait MeasuredWindow {
    fn succeed(&mut self) -> bool;
}

impl<S: TimeWindow> MeasuredWindow for S {
    fn succeed(&mut self) -> bool {
        TimeWindow::succeed(self)
    }
}

type Boxed = Box<dyn Measured>;

fn closed_boxed<S: Subject + 'static>() -> Boxed {
    Box::new(closed::<S>())
}

fn open_boxed<S: Subject + 'static>() -> Boxed {
    Box::new(open::<S>())
}

fn due_boxed<S: Subject + 'static>() -> Boxed {
    Box::new(due_for_probe::<S>())
}

fn window_boxed<S: TimeWindow + 'static>() -> Box<dyn MeasuredWindow> {
    Box::new(window_full::<S>())
}

// Each scenario below is one function with a `#[bench]` per subject, which gungraun reports as
// `instructions::breaker_and_peers::<scenario>` with the subject as its id. The subject is
// returned, so that dropping it is not counted. (Written out: gungraun's attribute does not
// expand inside a `macro_rules!`.)

#[library_benchmark]
#[bench::no_breaker(setup = closed_boxed::<NoBreaker>)]
#[bench::breaker_permit(setup = closed_boxed::<Permit>)]
#[bench::breaker_call(setup = closed_boxed::<Call>)]
#[bench::breaker_call_with(setup = closed_boxed::<CallWith>)]
#[bench::breaker_tower(setup = closed_boxed::<Tower>)]
#[bench::failsafe_sync(setup = closed_boxed::<failsafe_peer::Sync>)]
#[bench::failsafe_async(setup = closed_boxed::<failsafe_peer::Async>)]
#[bench::recloser_sync(setup = closed_boxed::<recloser_peer::Sync>)]
#[bench::recloser_async(setup = closed_boxed::<recloser_peer::Async>)]
#[bench::wyatt_breaker_call(setup = closed_boxed::<wyatt_peer::Call>)]
#[bench::wyatt_breaker_tower(setup = closed_boxed::<wyatt_peer::Tower>)]
#[bench::tower_resilience_tower(setup = closed_boxed::<tower_resilience_peer::Tower>)]
fn closed_success(mut subject: Boxed) -> Boxed {
    black_box(subject.call(true));
    subject
}

#[library_benchmark]
#[bench::breaker_permit(setup = closed_boxed::<Permit>)]
#[bench::breaker_call(setup = closed_boxed::<Call>)]
#[bench::breaker_call_with(setup = closed_boxed::<CallWith>)]
#[bench::breaker_tower(setup = closed_boxed::<Tower>)]
#[bench::failsafe_sync(setup = closed_boxed::<failsafe_peer::Sync>)]
#[bench::failsafe_async(setup = closed_boxed::<failsafe_peer::Async>)]
#[bench::recloser_sync(setup = closed_boxed::<recloser_peer::Sync>)]
#[bench::recloser_async(setup = closed_boxed::<recloser_peer::Async>)]
#[bench::wyatt_breaker_call(setup = closed_boxed::<wyatt_peer::Call>)]
#[bench::wyatt_breaker_tower(setup = closed_boxed::<wyatt_peer::Tower>)]
#[bench::tower_resilience_tower(setup = closed_boxed::<tower_resilience_peer::Tower>)]
fn closed_failure(mut subject: Boxed) -> Boxed {
    black_box(subject.call(false));
    subject
}

#[library_benchmark]
#[bench::breaker_permit(setup = open_boxed::<Permit>)]
#[bench::breaker_call(setup = open_boxed::<Call>)]
#[bench::breaker_call_with(setup = open_boxed::<CallWith>)]
#[bench::breaker_tower(setup = open_boxed::<Tower>)]
#[bench::failsafe_sync(setup = open_boxed::<failsafe_peer::Sync>)]
#[bench::failsafe_async(setup = open_boxed::<failsafe_peer::Async>)]
#[bench::recloser_sync(setup = open_boxed::<recloser_peer::Sync>)]
#[bench::recloser_async(setup = open_boxed::<recloser_peer::Async>)]
#[bench::wyatt_breaker_call(setup = open_boxed::<wyatt_peer::Call>)]
#[bench::wyatt_breaker_tower(setup = open_boxed::<wyatt_peer::Tower>)]
#[bench::tower_resilience_tower(setup = open_boxed::<tower_resilience_peer::Tower>)]
fn open_rejection(mut subject: Boxed) -> Boxed {
    black_box(subject.call(true));
    subject
}

#[library_benchmark]
#[bench::breaker_permit(setup = due_boxed::<Permit>)]
#[bench::breaker_call(setup = due_boxed::<Call>)]
#[bench::breaker_call_with(setup = due_boxed::<CallWith>)]
#[bench::breaker_tower(setup = due_boxed::<Tower>)]
#[bench::failsafe_sync(setup = due_boxed::<failsafe_peer::Sync>)]
#[bench::failsafe_async(setup = due_boxed::<failsafe_peer::Async>)]
#[bench::recloser_sync(setup = due_boxed::<recloser_peer::Sync>)]
#[bench::recloser_async(setup = due_boxed::<recloser_peer::Async>)]
#[bench::wyatt_breaker_call(setup = due_boxed::<wyatt_peer::Call>)]
#[bench::wyatt_breaker_tower(setup = due_boxed::<wyatt_peer::Tower>)]
#[bench::tower_resilience_tower(setup = due_boxed::<tower_resilience_peer::Tower>)]
fn half_open_probe(mut subject: Boxed) -> Boxed {
    black_box(subject.call(true));
    subject
}

#[library_benchmark]
#[bench::breaker_permit(setup = window_boxed::<Permit>)]
#[bench::failsafe_sync(setup = window_boxed::<failsafe_peer::RateOverTime>)]
#[bench::tower_resilience_tower(setup = window_boxed::<tower_resilience_peer::Tower>)]
fn time_window_success(mut subject: Box<dyn MeasuredWindow>) -> Box<dyn MeasuredWindow> {
    black_box(subject.succeed());
    subject
}

#[library_benchmark]
#[bench::breaker_permit(setup = closed_boxed::<Throttled>)]
fn throttle_admission(mut subject: Boxed) -> Boxed {
    black_box(subject.call(true));
    subject
}

fn warm_limiter() -> Limiter {
    let mut limiter = Limiter::new();
    for _ in 0..subjects::WARM_UP {
        assert!(limiter.acquire_release(), "an idle limiter grants a permit");
    }
    limiter
}

#[library_benchmark]
#[bench::breaker_permit(setup = warm_limiter)]
fn limit_acquire_release(mut limiter: Limiter) -> Limiter {
    black_box(limiter.acquire_release());
    limiter
}

library_benchmark_group!(
    name = breaker_and_peers,
    benchmarks = [
        closed_success,
        closed_failure,
        open_rejection,
        half_open_probe,
        time_window_success,
        throttle_admission,
        limit_acquire_release
    ]
);

main!(library_benchmark_groups = breaker_and_peers);
