//! A circuit breaker: stop calling a backend that keeps failing, give it time to recover, then
//! test it with a few probes before letting traffic back.
//!
//! # The states
//!
//! | state        | calls                                                                   |
//! |--------------|-------------------------------------------------------------------------|
//! | `Closed`     | flow; outcomes are recorded and a trip policy may open the circuit      |
//! | `Open`       | are rejected without touching the backend, for `recovery_timeout` (optionally growing with [`Backoff`]); the [`Rejected`] error says why and until when |
//! | `HalfOpen`   | up to `half_open_max_calls` probes may run at once, the rest are rejected; `success_threshold` successful probes close the circuit, one failed probe opens it again |
//! | `ForcedOpen` | are all rejected, until [`CircuitBreaker::reset`]                       |
//! | `Disabled`   | all flow and nothing is recorded or trips, until [`CircuitBreaker::reset`] |
//!
//! ```text
//!                  trip policy fires
//!        ┌────────┐ ───────────────────────────────▶ ┌────────┐
//!        │ Closed │                                   │  Open  │ ◀──┐
//!        └────────┘ ◀──────────┐                      └────────┘    │ a probe fails
//!                              │                          │         │ (or stays out for
//!              success_threshold probes succeed           │ recovery_timeout    half_open_max_wait)
//!                              │                          ▼ passes  │
//!                              │                     ┌──────────┐   │
//!                              └──────────────────── │ HalfOpen │ ──┘
//!                                                    └──────────┘
//!   force_open() ─▶ ForcedOpen   force_open_for(d) ─▶ Open for d   disable() ─▶ Disabled
//!   reset() ─▶ Closed, from anywhere
//!   open_for(d, reason) ─▶ Open for d, only where stricter   close_if_opened_by(r, ..) ─▶ Closed
//! ```
//!
//! Trip policies combine; the first to fire opens the circuit:
//!
//! * **consecutive failures** (`failure_threshold`, the article's policy): a success resets
//!   the count;
//! * **failures within a period** (`failures_within(5, 30 s)`, the article's "5 failures in 30
//!   seconds"): successes do not reset it;
//! * **failure rate** and **slow-call rate** over a sliding window of the last N calls or the
//!   last T seconds ([`SlidingWindow`]), judged on every call once the window holds
//!   `minimum_calls`.
//!
//! Every policy costs O(1) per call and constant memory. Outcomes are three-way ([`Outcome`]):
//! success, failure, or ignored (a client error says nothing about the backend).
//!
//! Beside them, or instead of them, an [`AdaptiveThrottle`] (`throttle.rs`, Google SRE's
//! client-side throttling) rejects calls at random while Closed, so that a backend that serves
//! only a share of the load is sent about K times that share rather than all or nothing; its
//! docs have the formula and an example. The shell asks it before admitting a Closed call;
//! the state machine knows nothing of it.
//!
//! # Example: the article's breaker
//!
//! Three failures open the circuit for ten seconds. A [`ManualClock`] stands in for time.
//!
//! ```
//! use trip_breaker::{CircuitBreaker, Error, ManualClock, State};
//! use std::time::Duration;
//!
//! # futures::executor::block_on(async {
//! let clock = ManualClock::new();
//! let cb = CircuitBreaker::builder("call_service_b")
//!     .failure_threshold(3)
//!     .recovery_timeout(Duration::from_secs(10))
//!     .clock(clock.clone())
//!     .build()?;
//!
//! for _ in 0..3 {
//!     let result = cb.call(|| async { Err::<(), _>("500 Internal Server Error") }).await;
//!     assert!(matches!(result, Err(Error::Inner(_))));
//! }
//! assert_eq!(cb.state(), State::Open);
//!
//! // Rejected at once: the closure is not even called.
//! let Err(Error::Rejected(rejected)) = cb.call(|| async { Ok::<_, &str>("never runs") }).await
//! else { panic!("the circuit is open") };
//! assert!(rejected.to_string().starts_with("Circuit \"call_service_b\" OPEN until "));
//! assert!(rejected.to_string().ends_with(
//!     "(3 failures, 10 sec remaining) (last_failure: 500 Internal Server Error)"));
//!
//! // Ten seconds later one probe may pass; its success closes the circuit.
//! clock.advance(Duration::from_secs(10));
//! assert_eq!(cb.state(), State::HalfOpen);
//! let permit = cb.try_acquire()?;
//! assert!(cb.try_acquire().is_err(), "one probe at a time");
//! permit.success();
//! assert_eq!(cb.state(), State::Closed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # The floors
//!
//! Each file imports only from the files listed before it in this table, so the crate reads
//! bottom up without a forward reference (`scripts/check-layers.sh` checks that no import goes
//! round):
//!
//! | floor | files | what they hold |
//! |---|---|---|
//! | 1. vocabulary | `vocabulary.rs`, `counted.rs` | [`State`], [`Reason`] (with [`FleetReason`]), [`Transition`], [`Outcome`] and the names they print; failure texts and breaker names; the shared record a rejection carries, its handles paid for in advance |
//! | 2. time | `clock.rs` | [`Clock`], [`MonotonicClock`] (with its reader of the OS clock), [`ManualClock`] |
//! | 3. settings, errors, events | `error.rs`, `throttle.rs`, `config.rs`, `metrics.rs` | [`ConfigError`], [`Rejected`]; [`AdaptiveThrottle`] and its window; [`Config`] and its validation; [`CallCounts`], [`Snapshot`], [`Event`] and the transition log |
//! | 4. the rules | `trip_policy.rs`, `state_machine.rs` | when a Closed circuit opens; every rule of the diagram above, pure: **start reading here** |
//! | 4. beside the rules | `concurrency_limit/` | [`AdaptiveLimit`], [`ConcurrencyLimiter`], [`LimitPermit`]: an adaptive concurrency limit learned from latency (Vegas), which needs only the clock and the errors |
//! | 5. the shell | `fast_path/`, `shell.rs` | what exists only for speed; the lock, the commands, the snapshot, the announcements |
//! | 6. handles | `permit.rs`, `breaker.rs`, `registry.rs`, `middleware.rs`, `serde_format.rs` | [`Permit`], [`OwnedPermit`]; [`CircuitBreaker`] and its [`Builder`]; [`Registry`]; the tower `Layer`; the JSON of a [`Snapshot`] and a [`Config`] (feature `serde`) |
//!
//! `fast_path/` and `counted.rs` change how fast the breaker decides, never what it decides: a
//! reader learning the pattern can skip them. `state_machine/tests.rs` has a test for each rule.
//!
//! # Following one call
//!
//! A successful call while Closed, the common case, runs code in six files, in this order:
//!
//! 1. `breaker.rs`: [`CircuitBreaker::call`] asks the shell for a [`Permit`];
//! 2. `shell.rs` asks `fast_path/mod.rs`, which grants it from what the machine last published
//!    (one atomic word), without a lock, and the shell hands back a [`Permit`] (`permit.rs`);
//! 3. `breaker.rs` runs `f` and classifies the result into an [`Outcome`] (`vocabulary.rs`);
//! 4. `permit.rs` settles the permit once with it, through `shell.rs`;
//! 5. `fast_path/threads.rs` counts the success in the calling thread's own slot.
//!
//! Imports never point up a floor; at run time the shell builds the caller's permit through a
//! closure the handle passes down, so that a rejection is written once, into the caller's slot.
//!
//! A call the fast path cannot settle alone (a failure, a probe, the first success after a
//! failure) goes on from `shell.rs`, under the lock, to the rules: `state_machine.rs` (the
//! machine, handed the time from `clock.rs`) and `trip_policy.rs` (while Closed, whether to
//! open); the shell then publishes the machine's new state through `fast_path/mod.rs` and
//! announces a transition through `metrics.rs`. A failure that opens the circuit thus runs
//! code in ten files: `breaker.rs`, `permit.rs`, `vocabulary.rs`, `shell.rs`,
//! `fast_path/mod.rs`, `fast_path/threads.rs`, `clock.rs`, `state_machine.rs`,
//! `trip_policy.rs`, `metrics.rs` (and `fast_path/bounds.rs` too with a time window). A learner
//! reads five of them: `breaker.rs`, `shell.rs`, `state_machine.rs`, `trip_policy.rs` and
//! `vocabulary.rs` for the words.
//!
//! # Speed
//!
//! While Closed, a successful call is two atomic loads and a counter in the calling thread's own
//! slot, whichever way it is made (`try_acquire` and a permit, [`CircuitBreaker::call`],
//! [`CircuitBreaker::call_with`], the tower middleware): no lock, no locked instruction, no
//! allocation. (A breaker with an [`AdaptiveThrottle`] also takes the throttle's lock, once to
//! admit and once to settle; one without pays nothing for it.) While Open, a rejection adds one
//! read of the coarse monotonic clock and a handle to a record of the trip that only the calling
//! thread's rejections share, paid for in advance in batches (`counted.rs`): no lock, no
//! allocation, and one locked instruction, when the rejection is dropped. `BENCHMARKS.md`
//! compares it with `failsafe`, `recloser`, WyattAu's `breaker` and `tower-resilience`, in
//! instructions and in time, on the same machine and in the same run.

#![deny(missing_docs)]

// The floors, bottom up: a module imports only from the floors listed before it (see "The
// floors" above); `scripts/check-layers.sh` checks that no import goes round.
// 1. The vocabulary: states, reasons, outcomes, texts and names.
mod vocabulary;
// (a shared value whose owner hands out handles paid for in advance: what a rejection carries)
mod counted;
// 2. Time, with its reader of the operating system's clock.
mod clock;
// 3. Errors, settings, and what a breaker tells the world.
mod error;
// (the adaptive throttle's settings and window, which the settings hold)
mod throttle;
// (settings name their faults with `ConfigError`)
mod config;
// (counts, snapshot, events)
mod metrics;
// 4. The trip policies, then the pure machine that asks them.
mod trip_policy;
// (the machine)
mod state_machine;
// (beside the breaker: an adaptive concurrency limit, from the clock and the errors alone)
mod concurrency_limit;
// 5. What exists only for speed, then the shell that asks it.
mod fast_path;
// (the shell)
mod shell;
// 6. The permits, then the handle and its builder, the registry, the tower middleware.
mod permit;
// (the handle and its builder)
mod breaker;
#[cfg(feature = "tower")]
pub mod middleware;
mod registry;
// (the JSON of a snapshot and a configuration, with the `serde` feature)
#[cfg(feature = "serde")]
mod serde_format;

pub use breaker::{Builder, CircuitBreaker};
pub use clock::{Clock, ManualClock, MonotonicClock};
pub use concurrency_limit::{AdaptiveLimit, ConcurrencyLimiter, LimitPermit};
pub use config::{Backoff, Config, SlidingWindow};
pub use error::{ConfigError, Error, Rejected};
pub use metrics::{CallCounts, Event, EventKind, Snapshot};
pub use permit::{OwnedPermit, Permit};
pub use registry::Registry;
pub use throttle::AdaptiveThrottle;
pub use vocabulary::{FleetReason, Outcome, Reason, State, Transition, default_classifier};

// The README's example is compiled and run with the doc tests, so that what crates.io shows works.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
