//! The crates under comparison, each behind one small [`Subject`] so that every scenario is
//! written once and run the same way for all of them: `breaker` through each entry point a user
//! has (`try_acquire` and a permit, the async `call` and `call_with`, the tower middleware), and
//! each peer through its nearest equivalent.
//!
//! Shared by `benches/instructions.rs` (the instruction counts) and `tests/bench_subjects.rs`,
//! which checks that every setup leaves its breaker in the state the scenario names and that
//! every measured call does what the scenario says (admitted, rejected, a probe that closes).

use std::hint::black_box;
use std::io;
use std::thread;
use std::time::Duration;

pub(crate) mod ours;
pub(crate) mod peers;

/// Consecutive failures that open every breaker (recloser: a ring of this many calls at a 100 %
/// failure rate, its nearest equivalent).
pub(crate) const FAILURES_TO_OPEN: u32 = 5;
/// Long enough that a tripped breaker stays Open for the whole measurement, however slowly a
/// loaded machine runs it (criterion's 8 s per function have taken over a minute here).
pub(crate) const RECOVERY: Duration = Duration::from_secs(600);
/// The open duration of a breaker made due for a probe: short, so that setup waits little, and
/// long enough that the calls which trip it and see it Open run inside it under callgrind, which
/// runs code some fifty times slower.
pub(crate) const PROBE_RECOVERY: Duration = Duration::from_millis(300);
/// The time-window policy: a 50 % failure rate over the last 10 s, at least 100 calls.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);
pub(crate) const WINDOW_BUCKETS: u32 = 10;
pub(crate) const FAILURE_RATE: f64 = 0.5;
pub(crate) const MINIMUM_CALLS: u32 = 100;
/// Calls made before a measurement, so that what a thread creates on its first call (its
/// counter slots, a peer's epoch record) is not what gets measured.
pub(crate) const WARM_UP: u32 = 3;
/// Calls made before a time-window measurement: the window then holds `MINIMUM_CALLS`.
pub(crate) const WINDOW_WARM_UP: u32 = 2 * MINIMUM_CALLS;

/// One crate through one entry point, configured for the scenarios' policy.
pub(crate) trait Subject: Sized {
    /// A breaker that trips on `FAILURES_TO_OPEN` consecutive failures and stays Open for
    /// `recovery`.
    fn consecutive(recovery: Duration) -> Self;

    /// One call whose work succeeds (`succeed`) or fails; true when the breaker let it run.
    /// The whole answer goes through `black_box`, as a caller that uses it would.
    fn call(&mut self, succeed: bool) -> bool;

    /// Another handle to the same breaker, for another thread.
    fn handle(&self) -> Self;
}

/// A subject with a failure-rate policy over a time window.
pub(crate) trait TimeWindow: Sized {
    /// A breaker with the time-window policy above (or the crate's nearest).
    fn time_window() -> Self;

    /// One successful call; true when it ran.
    fn succeed(&mut self) -> bool;
}

/// The guarded work: ready at once, succeeding or failing with an error that does not allocate.
pub(crate) fn work(succeed: bool) -> io::Result<u64> {
    if succeed {
        Ok(black_box(1))
    } else {
        Err(io::Error::from(io::ErrorKind::ConnectionRefused))
    }
}

/// No breaker at all: the work alone, its answer through `black_box` as every subject's is. Its
/// count is the floor every row stands on (the benchmark's own call and the work), which the
/// instruction report takes off each row to give what the breaker itself costs.
#[derive(Debug)]
pub(crate) struct NoBreaker;

impl Subject for NoBreaker {
    fn consecutive(_recovery: Duration) -> Self {
        NoBreaker
    }

    fn call(&mut self, succeed: bool) -> bool {
        // The answer dropped by hand, so that its drop is inlined here as every subject's is
        // in its own call: the compiler calls the drop glue of a bare `let _ =` out of line in
        // some builds, which moved the floor by 13 instructions.
        if let Err(error) = black_box(work(succeed)) {
            drop(error);
        }
        true
    }

    fn handle(&self) -> Self {
        NoBreaker
    }
}

/// Closed, warmed up.
pub(crate) fn closed<S: Subject>() -> S {
    let mut subject = S::consecutive(RECOVERY);
    for _ in 0..WARM_UP {
        assert!(subject.call(true), "a Closed breaker admits a call");
    }
    subject
}

/// Opens `subject` by failing calls until one is rejected; panics if none is.
fn trip<S: Subject>(subject: &mut S) {
    // recloser's ring reports a rate only once full: its sixth failure opens it.
    for _ in 0..=FAILURES_TO_OPEN {
        if !subject.call(false) {
            return;
        }
    }
    assert!(
        !subject.call(false),
        "{} did not open",
        std::any::type_name::<S>()
    );
}

/// Open, tripped by real failures, its first rejection made (which is when `breaker` fills the
/// calling thread's record of the trip): the state of every later rejection.
pub(crate) fn open<S: Subject>() -> S {
    let mut subject = closed::<S>();
    trip(&mut subject);
    subject
}

/// Open, with its open duration passed: the next call is admitted as a probe.
pub(crate) fn due_for_probe<S: Subject>() -> S {
    let mut subject = S::consecutive(PROBE_RECOVERY);
    for _ in 0..WARM_UP {
        assert!(subject.call(true), "a Closed breaker admits a call");
    }
    trip(&mut subject);
    thread::sleep(PROBE_RECOVERY * 2);
    subject
}

/// A time-window breaker whose window holds `WINDOW_WARM_UP` successes.
pub(crate) fn window_full<S: TimeWindow>() -> S {
    let mut subject = S::time_window();
    for _ in 0..WINDOW_WARM_UP {
        assert!(subject.succeed(), "a Closed breaker admits a call");
    }
    subject
}
