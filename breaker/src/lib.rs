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
//! # Example: the article's breaker
//!
//! Three failures open the circuit for ten seconds. A [`ManualClock`] stands in for time.
//!
//! ```
//! use breaker::{CircuitBreaker, Error, ManualClock, State};
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
//! # Following one call
//!
//! `cb.call(f)` crosses five files, in this order:
//!
//! 1. `breaker.rs`: [`CircuitBreaker::call`] asks for a [`Permit`], runs `f`, classifies the
//!    result into an [`Outcome`] and settles the permit with it.
//! 2. `fast_path/calls.rs`: the permit is granted or refused from what the state machine last
//!    published, without a lock when it can be; the outcome is counted the same way.
//! 3. `state_machine.rs`: everything else is decided here, under a lock: **start reading
//!    here**. It holds every rule of the diagram above, with no atomics, clocks or threads.
//! 4. `trip_policy.rs`: while Closed, the machine asks the trip policies whether to open.
//! 5. `metrics.rs`: a transition is logged and told to the listeners.
//!
//! The rest: `builder.rs` and `config.rs` (settings, defaults, validation), `error.rs` (the
//! errors a caller sees), `metrics.rs` (also counts, snapshots, the registry), `clock.rs` (time
//! is injected), `middleware.rs` (the tower `Layer`). `fast_path/` holds everything that is
//! there only for speed and can be skipped by a reader learning the pattern.
//!
//! # Speed
//!
//! While Closed, a successful call is two atomic loads and a counter in the calling thread's own
//! slot: no lock, no locked instruction, no allocation. While Open, a rejection adds one read of
//! the coarse monotonic clock. `breaker/BENCHMARKS.md` compares it with `failsafe`, `recloser`
//! and `tower-resilience` on the same machine, in the same run.

#![deny(missing_docs)]

// The floors, bottom up: a module imports only from the floors listed before it (see "The
// floors" above); `scripts/check-layers.sh` checks that no import goes round.
// 1. The vocabulary: texts and names, then the words written with them.
mod text;
mod vocabulary;
// 2. Time, with its reader of the operating system's clock.
mod clock;
// 3. Errors, settings, and what a breaker tells the world.
mod error;
// (settings name their faults with `ConfigError`)
mod config;
// (counts, snapshot, events)
mod metrics;
// 4. The trip policies, then the pure machine that asks them.
mod trip_policy;
// (the machine)
mod state_machine;
// 5. What exists only for speed, then the shell that asks it.
mod fast_path;
// (the shell)
mod shell;
// 6. The handle and its permits, the builder, the registry, the tower middleware.
mod breaker;
mod builder;
#[cfg(feature = "tower")]
pub mod middleware;
mod registry;

pub use breaker::{CircuitBreaker, OwnedPermit, Permit};
pub use builder::Builder;
pub use clock::{Clock, ManualClock, MonotonicClock};
pub use config::{Backoff, Config, SlidingWindow};
pub use error::{ConfigError, Error, Rejected};
pub use metrics::{CallCounts, Event, EventKind, Snapshot};
pub use registry::Registry;
pub use vocabulary::{Outcome, Reason, State, Transition, default_classifier};
