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
//! `subjects/` has the crates behind one trait, and `tests/bench_subjects.rs` checks that every
//! setup and call does what its scenario says.
//!
//! The scenarios, each a group of one function per scenario and crate:
//!
//! - `closed_success`: a successful call while Closed;
//! - `closed_failure`: a failed call while Closed, below the threshold (the first failure);
//! - `open_rejection`: a call rejected while Open (tripped by real failures, 60 s recovery);
//! - `half_open_probe`: the first call after the open duration, admitted as a probe, succeeding;
//! - `time_window_success`: a successful call under a 50 % failure rate over 10 s;
//! - `throttle_admission` and `limit_acquire_release`: `breaker` alone, as no peer has an
//!   adaptive throttle or concurrency limit.

use gungraun::{library_benchmark, library_benchmark_group, main};
use std::hint::black_box;

#[path = "subjects/mod.rs"]
mod subjects;

use subjects::ours::{Call, CallWith, Limiter, Permit, Throttled, Tower};
use subjects::peers::{failsafe_peer, recloser_peer, tower_resilience_peer, wyatt_peer};
use subjects::{Subject, TimeWindow, closed, due_for_probe, open, window_full};

/// The four scenarios every subject runs, as functions of a module named after the subject:
/// gungraun reports each as `instructions::<module>::<scenario>`.
macro_rules! scenarios {
    ($module:ident, $subject:ty) => {
        mod $module {
            use super::*;

            #[library_benchmark]
            #[bench::call(setup = closed::<$subject>)]
            pub(crate) fn closed_success(mut subject: $subject) -> $subject {
                black_box(subject.call(true));
                subject
            }

            #[library_benchmark]
            #[bench::call(setup = closed::<$subject>)]
            pub(crate) fn closed_failure(mut subject: $subject) -> $subject {
                black_box(subject.call(false));
                subject
            }

            #[library_benchmark]
            #[bench::call(setup = open::<$subject>)]
            pub(crate) fn open_rejection(mut subject: $subject) -> $subject {
                black_box(subject.call(true));
                subject
            }

            #[library_benchmark]
            #[bench::call(setup = due_for_probe::<$subject>)]
            pub(crate) fn half_open_probe(mut subject: $subject) -> $subject {
                black_box(subject.call(true));
                subject
            }

            library_benchmark_group!(
                name = $module,
                benchmarks = [closed_success, closed_failure, open_rejection, half_open_probe]
            );
        }
    };
}

/// The time-window scenario, for the subjects that have a time window (or its nearest).
macro_rules! time_window {
    ($module:ident, $subject:ty) => {
        mod $module {
            use super::*;

            #[library_benchmark]
            #[bench::call(setup = window_full::<$subject>)]
            pub(crate) fn time_window_success(mut subject: $subject) -> $subject {
                black_box(subject.succeed());
                subject
            }

            library_benchmark_group!(name = $module, benchmarks = [time_window_success]);
        }
    };
}

scenarios!(breaker_permit, Permit);
scenarios!(breaker_call, Call);
scenarios!(breaker_call_with, CallWith);
scenarios!(breaker_tower, Tower);
scenarios!(failsafe_sync, failsafe_peer::Sync);
scenarios!(failsafe_async, failsafe_peer::Async);
scenarios!(recloser_sync, recloser_peer::Sync);
scenarios!(recloser_async, recloser_peer::Async);
scenarios!(wyatt_breaker_call, wyatt_peer::Call);
scenarios!(wyatt_breaker_tower, wyatt_peer::Tower);
scenarios!(tower_resilience_tower, tower_resilience_peer::Tower);

time_window!(breaker_permit_window, Permit);
time_window!(failsafe_sync_window, failsafe_peer::RateOverTime);
time_window!(tower_resilience_tower_window, tower_resilience_peer::Tower);

mod breaker_alone {
    use super::*;

    #[library_benchmark]
    #[bench::call(setup = closed::<Throttled>)]
    pub(crate) fn throttle_admission(mut subject: Throttled) -> Throttled {
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
    #[bench::call(setup = warm_limiter)]
    pub(crate) fn limit_acquire_release(mut limiter: Limiter) -> Limiter {
        black_box(limiter.acquire_release());
        limiter
    }

    library_benchmark_group!(
        name = breaker_alone,
        benchmarks = [throttle_admission, limit_acquire_release]
    );
}

main!(
    library_benchmark_groups = breaker_permit::breaker_permit,
    breaker_call::breaker_call,
    breaker_call_with::breaker_call_with,
    breaker_tower::breaker_tower,
    failsafe_sync::failsafe_sync,
    failsafe_async::failsafe_async,
    recloser_sync::recloser_sync,
    recloser_async::recloser_async,
    wyatt_breaker_call::wyatt_breaker_call,
    wyatt_breaker_tower::wyatt_breaker_tower,
    tower_resilience_tower::tower_resilience_tower,
    breaker_permit_window::breaker_permit_window,
    failsafe_sync_window::failsafe_sync_window,
    tower_resilience_tower_window::tower_resilience_tower_window,
    breaker_alone::breaker_alone
);
