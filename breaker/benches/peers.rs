//! What one circuit-breaker decision costs: `breaker` side by side with failsafe, recloser and
//! tower-resilience-circuitbreaker, each configured for the same work.
//!
//! Run with `cargo bench -p trip-breaker --bench peers`; BENCHMARKS.md holds the figures and says what
//! each peer can and cannot express. After criterion's groups the bench prints each group's
//! median against the fastest peer's, then runs the `closed_success` and `open_rejection` calls
//! again in a plain loop that interleaves the crates in rounds, and prints the same ratios.
//!
//! Every group has one function per crate (`breaker`, `failsafe`, `recloser`, `tower-resilience`):
//!
//! - `closed_success`: a successful synchronous call while Closed.
//! - `open_rejection`: a call rejected while Open (tripped by real failures, 60 s recovery).
//! - `time_window_success`: a successful call under a 50 % failure-rate policy over a 10 s window
//!   with at least 100 calls, or the closest policy the crate has.
//! - `two_threads_success`: two threads calling one shared breaker; the figure is wall time per
//!   call with the calls of both threads counted (elapsed / (2 * iters)).
//!
//! and two groups for `breaker` alone: `closed_success_async` and `open_rejection_async`, the
//! same calls made through the async `call`, driven by `now_or_never`; and `primitives`, what
//! the building blocks (an atomic load, a locked instruction, a per-thread counter, the two
//! clocks) cost on the machine.
//!
//! Each breaker is built right before its function and its state is asserted after it, so a
//! figure is never the cost of some other state than the one the group names.

use std::hint::black_box;
use std::io;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

#[path = "peers/report.rs"]
mod report;
use report::{Loop, timed};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};

/// Consecutive failures that open the breaker in the Closed and Open groups.
const FAILURES_TO_OPEN: u32 = 5;
/// Long enough that a tripped breaker stays Open for the whole group.
const RECOVERY: Duration = Duration::from_secs(60);
/// The time-window policy of `time_window_success`.
const WINDOW: Duration = Duration::from_secs(10);
const WINDOW_BUCKETS: u32 = 10;
const FAILURE_RATE: f64 = 0.5;
const MINIMUM_CALLS: u32 = 100;

/// The guarded work: synchronous and successful; `black_box` keeps it from being folded away.
fn work() -> io::Result<u64> {
    Ok(black_box(1))
}

/// The failure used to trip breakers before a rejection is measured.
fn boom() -> io::Result<u64> {
    Err(io::Error::other("boom"))
}

/// Runs `iters` calls on each of two threads, each with its own handle to one shared breaker,
/// and returns the wall time divided by two: criterion divides by `iters`, so the figure is
/// nanoseconds per call with the calls of both threads counted.
fn two_threads<H: Send>(
    iters: u64,
    handle: impl Fn() -> H,
    call: impl Fn(&mut H) + Sync,
) -> Duration {
    let barrier = Barrier::new(2);
    let slowest = thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut handle = handle();
                let (barrier, call) = (&barrier, &call);
                scope.spawn(move || {
                    // Start the clocks together so neither thread runs alone for a while.
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        call(&mut handle);
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

mod ours {
    //! `breaker` through the same calls as the peers: `try_acquire` and an explicit outcome.

    use super::*;
    use trip_breaker::{CircuitBreaker, Rejected, SlidingWindow, State};
    use futures::FutureExt;

    fn consecutive() -> CircuitBreaker {
        CircuitBreaker::builder("bench")
            .failure_threshold(FAILURES_TO_OPEN)
            .recovery_timeout(RECOVERY)
            .build()
            .expect("valid config")
    }

    fn time_window() -> CircuitBreaker {
        CircuitBreaker::builder("bench")
            .without_failure_threshold()
            .failure_rate_threshold(FAILURE_RATE * 100.0)
            .sliding_window(SlidingWindow::time(WINDOW, WINDOW_BUCKETS))
            .minimum_calls(MINIMUM_CALLS)
            .recovery_timeout(RECOVERY)
            .build()
            .expect("valid config")
    }

    /// The synchronous guard a caller writes around `work`: the same steps as the peers' `call`.
    fn guarded(
        cb: &CircuitBreaker,
        work: impl FnOnce() -> io::Result<u64>,
    ) -> Result<io::Result<u64>, Rejected> {
        let permit = cb.try_acquire()?;
        let result = work();
        match &result {
            Ok(_) => permit.success(),
            Err(error) => permit.failure(error),
        }
        Ok(result)
    }

    fn tripped() -> CircuitBreaker {
        let cb = consecutive();
        for _ in 0..FAILURES_TO_OPEN {
            let _ = guarded(&cb, boom);
        }
        assert_eq!(cb.state(), State::Open);
        cb
    }

    pub(crate) fn closed_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("breaker", |b| b.iter(|| guarded(&cb, work)));
        assert_eq!(cb.state(), State::Closed);
    }

    pub(crate) fn open_rejection(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = tripped();
        group.bench_function("breaker", |b| b.iter(|| guarded(&cb, work)));
        assert_eq!(cb.state(), State::Open);
    }

    pub(crate) fn time_window_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = time_window();
        group.bench_function("breaker", |b| b.iter(|| guarded(&cb, work)));
        assert_eq!(cb.state(), State::Closed);
    }

    pub(crate) fn two_threads_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("breaker", |b| {
            b.iter_custom(|iters| {
                two_threads(
                    iters,
                    || &cb,
                    |cb| {
                        let _ = black_box(guarded(cb, work));
                    },
                )
            })
        });
        assert_eq!(cb.state(), State::Closed);
    }

    pub(crate) fn plain_closed() -> Loop {
        let cb = consecutive();
        timed(move || guarded(&cb, work).is_ok())
    }

    pub(crate) fn plain_open() -> Loop {
        let cb = tripped();
        timed(move || guarded(&cb, work).is_ok())
    }

    /// The async `call`: a ready future, so one poll finishes it and no executor is measured.
    fn call_async(cb: &CircuitBreaker) -> Result<u64, trip_breaker::Error<io::Error>> {
        cb.call(|| async { work() })
            .now_or_never()
            .expect("ready work completes on the first poll")
    }

    pub(crate) fn closed_success_async(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("breaker", |b| b.iter(|| call_async(&cb)));
        assert_eq!(cb.state(), State::Closed);
    }

    pub(crate) fn open_rejection_async(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = tripped();
        group.bench_function("breaker", |b| b.iter(|| call_async(&cb)));
        assert_eq!(cb.state(), State::Open);
    }
}

mod failsafe_peer {
    //! failsafe 1.3: a `parking_lot::Mutex` around the state and the policy; `call` takes it
    //! once to ask and once to record.

    use super::*;
    use failsafe::failure_policy::{self, ConsecutiveFailures, SuccessRateOverTimeWindow};
    use failsafe::{CircuitBreaker as _, Config, Error, StateMachine, backoff};

    type Consecutive = StateMachine<ConsecutiveFailures<backoff::Constant>, ()>;
    type RateOverTime = StateMachine<SuccessRateOverTimeWindow<backoff::Constant>, ()>;

    fn consecutive() -> Consecutive {
        let policy =
            failure_policy::consecutive_failures(FAILURES_TO_OPEN, backoff::constant(RECOVERY));
        Config::new().failure_policy(policy).build()
    }

    /// failsafe has no bucketed failure-rate window: its closest policy is an exponentially
    /// weighted success rate whose time constant is the window, with the minimum counted in a
    /// 5-slice windowed adder. A required success rate of 0.5 trips when it falls *below* 50 %.
    fn rate_over_time() -> RateOverTime {
        let policy = failure_policy::success_rate_over_time_window(
            1.0 - FAILURE_RATE,
            MINIMUM_CALLS,
            WINDOW,
            backoff::constant(RECOVERY),
        );
        Config::new().failure_policy(policy).build()
    }

    pub(crate) fn closed_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("failsafe", |b| b.iter(|| cb.call(work)));
        assert!(cb.is_call_permitted());
    }

    pub(crate) fn open_rejection(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        for _ in 0..FAILURES_TO_OPEN {
            let _ = cb.call(boom);
        }
        assert!(matches!(cb.call(work), Err(Error::Rejected)));
        group.bench_function("failsafe", |b| b.iter(|| cb.call(work)));
        assert!(matches!(cb.call(work), Err(Error::Rejected)));
    }

    pub(crate) fn plain_closed() -> Loop {
        let cb = consecutive();
        timed(move || cb.call(work).is_ok())
    }

    pub(crate) fn plain_open() -> Loop {
        let cb = consecutive();
        for _ in 0..FAILURES_TO_OPEN {
            let _ = cb.call(boom);
        }
        timed(move || cb.call(work).is_ok())
    }

    pub(crate) fn time_window_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = rate_over_time();
        group.bench_function("failsafe", |b| b.iter(|| cb.call(work)));
        assert!(cb.is_call_permitted());
    }

    pub(crate) fn two_threads_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("failsafe", |b| {
            b.iter_custom(|iters| {
                two_threads(
                    iters,
                    || &cb,
                    |cb| {
                        let _ = black_box(cb.call(work));
                    },
                )
            })
        });
        assert!(cb.is_call_permitted());
    }
}

mod recloser_peer {
    //! recloser 1.4: lock-free state behind a crossbeam-epoch pointer; Closed keeps a ring of
    //! the last `closed_len` outcomes behind a spin lock. It has no consecutive-failure policy and
    //! no time window: a ring of 5 with a 100 % error rate is "5 failures in a row", but the ring
    //! reports a rate only once full, so the 6th failure opens it.

    use super::*;
    use recloser::{Error, Recloser};

    fn consecutive() -> Recloser {
        Recloser::custom()
            .closed_len(FAILURES_TO_OPEN as usize)
            .error_rate(1.0)
            .open_wait(RECOVERY)
            .build()
    }

    /// The closest to the time window: the last 100 calls, which also acts as the minimum.
    fn last_hundred_calls() -> Recloser {
        Recloser::custom()
            .closed_len(MINIMUM_CALLS as usize)
            .error_rate(FAILURE_RATE as f32)
            .open_wait(RECOVERY)
            .build()
    }

    fn is_open(cb: &Recloser) -> bool {
        matches!(cb.call(work), Err(Error::Rejected))
    }

    pub(crate) fn closed_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("recloser", |b| b.iter(|| cb.call(work)));
        assert!(!is_open(&cb));
    }

    pub(crate) fn open_rejection(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        for _ in 0..=FAILURES_TO_OPEN {
            let _ = cb.call(boom);
        }
        assert!(is_open(&cb));
        group.bench_function("recloser", |b| b.iter(|| cb.call(work)));
        assert!(is_open(&cb));
    }

    pub(crate) fn plain_closed() -> Loop {
        let cb = consecutive();
        timed(move || cb.call(work).is_ok())
    }

    pub(crate) fn plain_open() -> Loop {
        let cb = consecutive();
        for _ in 0..=FAILURES_TO_OPEN {
            let _ = cb.call(boom);
        }
        timed(move || cb.call(work).is_ok())
    }

    pub(crate) fn time_window_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = last_hundred_calls();
        group.bench_function("recloser", |b| b.iter(|| cb.call(work)));
        assert!(!is_open(&cb));
    }

    pub(crate) fn two_threads_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let cb = consecutive();
        group.bench_function("recloser", |b| {
            b.iter_custom(|iters| {
                two_threads(
                    iters,
                    || &cb,
                    |cb| {
                        let _ = black_box(cb.call(work));
                    },
                )
            })
        });
        assert!(!is_open(&cb));
    }
}

mod tower_peer {
    //! tower-resilience-circuitbreaker 0.14: a tower `Service` over an always-ready backend.
    //! Each call boxes its future and takes a `tokio::sync::Mutex` to ask and again to record.

    use super::*;
    use futures::FutureExt;
    use futures::future::{Ready, ready};
    use std::task::{Context, Poll};
    use tower::{Layer, Service, ServiceExt};
    use tower_resilience_circuitbreaker::{
        CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer, CircuitState, DefaultClassifier,
        SlidingWindowType,
    };

    /// What the backend should answer; the request carries it so one service can trip and serve.
    #[derive(Clone, Copy, Debug)]
    enum Outcome {
        Success,
        Failure,
    }

    /// A backend that is always ready and answers at once, so the breaker is all that is measured.
    #[derive(Clone, Copy, Debug)]
    struct Backend;

    impl Service<Outcome> for Backend {
        type Response = u64;
        type Error = io::Error;
        type Future = Ready<io::Result<u64>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, outcome: Outcome) -> Self::Future {
            ready(match outcome {
                Outcome::Success => work(),
                Outcome::Failure => boom(),
            })
        }
    }

    type Breaker = CircuitBreaker<Backend, DefaultClassifier>;
    type Reply = Result<u64, CircuitBreakerError<io::Error>>;

    fn consecutive() -> Breaker {
        CircuitBreakerLayer::builder()
            .name("bench")
            .consecutive_failures(FAILURES_TO_OPEN as usize)
            .wait_duration_in_open(RECOVERY)
            .build()
            .expect("valid config")
            .layer(Backend)
    }

    /// A time-based window keeps one record per call for the window's length (no buckets).
    fn time_window() -> Breaker {
        CircuitBreakerLayer::builder()
            .name("bench")
            .failure_rate_threshold(FAILURE_RATE)
            .sliding_window_type(SlidingWindowType::TimeBased)
            .sliding_window_duration(WINDOW)
            .minimum_number_of_calls(MINIMUM_CALLS as usize)
            .wait_duration_in_open(RECOVERY)
            .build()
            .expect("valid config")
            .layer(Backend)
    }

    /// `ready().await` then `call().await`, as tower callers do. The backend is ready and the
    /// breaker's lock uncontended on one thread, so each future completes on its first poll.
    fn call_now(cb: &mut Breaker, outcome: Outcome) -> Reply {
        let ready = ServiceExt::<Outcome>::ready(cb)
            .now_or_never()
            .expect("ready on the first poll")?;
        ready
            .call(outcome)
            .now_or_never()
            .expect("completes on the first poll")
    }

    /// With two threads the breaker's async lock can be contended and return Pending, so this
    /// needs an executor: `block_on` parks the thread until the lock's wake-up.
    fn call_blocking(cb: &mut Breaker) -> Reply {
        futures::executor::block_on(async { cb.ready().await?.call(Outcome::Success).await })
    }

    pub(crate) fn closed_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let mut cb = consecutive();
        group.bench_function("tower-resilience", |b| {
            b.iter(|| call_now(&mut cb, Outcome::Success))
        });
        assert_eq!(cb.state_sync(), CircuitState::Closed);
    }

    pub(crate) fn open_rejection(group: &mut BenchmarkGroup<'_, WallTime>) {
        let mut cb = consecutive();
        for _ in 0..FAILURES_TO_OPEN {
            let _ = call_now(&mut cb, Outcome::Failure);
        }
        assert_eq!(cb.state_sync(), CircuitState::Open);
        group.bench_function("tower-resilience", |b| {
            b.iter(|| call_now(&mut cb, Outcome::Success))
        });
        assert_eq!(cb.state_sync(), CircuitState::Open);
    }

    pub(crate) fn plain_closed() -> Loop {
        let mut cb = consecutive();
        timed(move || call_now(&mut cb, Outcome::Success).is_ok())
    }

    pub(crate) fn plain_open() -> Loop {
        let mut cb = consecutive();
        for _ in 0..FAILURES_TO_OPEN {
            let _ = call_now(&mut cb, Outcome::Failure);
        }
        timed(move || call_now(&mut cb, Outcome::Success).is_ok())
    }

    pub(crate) fn time_window_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        let mut cb = time_window();
        group.bench_function("tower-resilience", |b| {
            b.iter(|| call_now(&mut cb, Outcome::Success))
        });
        assert_eq!(cb.state_sync(), CircuitState::Closed);
    }

    pub(crate) fn two_threads_success(group: &mut BenchmarkGroup<'_, WallTime>) {
        // Clones share one circuit; each thread needs its own because `call` takes `&mut self`.
        let cb = consecutive();
        group.bench_function("tower-resilience", |b| {
            b.iter_custom(|iters| {
                two_threads(
                    iters,
                    || cb.clone(),
                    |cb| {
                        let _ = black_box(call_blocking(cb));
                    },
                )
            })
        });
        assert_eq!(cb.state_sync(), CircuitState::Closed);
    }
}

fn closed_success(c: &mut Criterion) {
    let mut group = c.benchmark_group("closed_success");
    ours::closed_success(&mut group);
    failsafe_peer::closed_success(&mut group);
    recloser_peer::closed_success(&mut group);
    tower_peer::closed_success(&mut group);
    group.finish();
}

fn open_rejection(c: &mut Criterion) {
    let mut group = c.benchmark_group("open_rejection");
    ours::open_rejection(&mut group);
    failsafe_peer::open_rejection(&mut group);
    recloser_peer::open_rejection(&mut group);
    tower_peer::open_rejection(&mut group);
    group.finish();
}

fn time_window_success(c: &mut Criterion) {
    let mut group = c.benchmark_group("time_window_success");
    // Warm up past the 10 s window so every crate is measured with a full window: a per-call
    // record list (tower-resilience) grows for the first 10 s and only then holds steady.
    group.warm_up_time(WINDOW + Duration::from_secs(2));
    ours::time_window_success(&mut group);
    failsafe_peer::time_window_success(&mut group);
    recloser_peer::time_window_success(&mut group);
    tower_peer::time_window_success(&mut group);
    group.finish();
}

fn two_threads_success(c: &mut Criterion) {
    let mut group = c.benchmark_group("two_threads_success");
    ours::two_threads_success(&mut group);
    failsafe_peer::two_threads_success(&mut group);
    recloser_peer::two_threads_success(&mut group);
    tower_peer::two_threads_success(&mut group);
    group.finish();
}

fn breaker_async(c: &mut Criterion) {
    let mut group = c.benchmark_group("closed_success_async");
    ours::closed_success_async(&mut group);
    group.finish();
    let mut group = c.benchmark_group("open_rejection_async");
    ours::open_rejection_async(&mut group);
    group.finish();
}

/// What the building blocks cost on the machine the bench runs on: the figures the fast path's
/// design rests on (`breaker/src/fast_path/mod.rs`).
fn primitives(c: &mut Criterion) {
    use trip_breaker::{Clock, MonotonicClock};
    use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Relaxed};
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
    closed_success(&mut criterion);
    open_rejection(&mut criterion);
    time_window_success(&mut criterion);
    two_threads_success(&mut criterion);
    breaker_async(&mut criterion);
    criterion.final_summary();
    report::criterion_ratios(
        &[
            "closed_success",
            "open_rejection",
            "time_window_success",
            "two_threads_success",
        ],
        started,
    );
    report::interleaved(
        "closed_success",
        vec![
            ("breaker", ours::plain_closed()),
            ("failsafe", failsafe_peer::plain_closed()),
            ("recloser", recloser_peer::plain_closed()),
            ("tower-resilience", tower_peer::plain_closed()),
        ],
    );
    report::interleaved(
        "open_rejection",
        vec![
            ("breaker", ours::plain_open()),
            ("failsafe", failsafe_peer::plain_open()),
            ("recloser", recloser_peer::plain_open()),
            ("tower-resilience", tower_peer::plain_open()),
        ],
    );
}
