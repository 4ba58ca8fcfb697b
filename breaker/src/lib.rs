//! A circuit breaker: stop calling a backend that keeps failing, give it time to recover, then
//! test it with a few probes before letting traffic back.
//!
//! # The states
//!
//! * **Closed**: calls flow. Outcomes are recorded; a trip policy may open the circuit.
//! * **Open**: calls are rejected without touching the backend, for `recovery_timeout`
//!   (optionally growing with [`Backoff`]). The [`Rejected`] error says until when.
//! * **HalfOpen**: up to `half_open_max_calls` probes may run at the same time; other calls are
//!   rejected while they are in flight. `success_threshold` successful probes close the
//!   circuit; one failed probe opens it again.
//! * **ForcedOpen** and **Disabled**: manual and sticky, until [`CircuitBreaker::reset`].
//!
//! ```text
//!                  trip policy fires
//!        ┌────────┐ ───────────────────────────────▶ ┌────────┐
//!        │ Closed │                                   │  Open  │ ◀──┐
//!        └────────┘ ◀──────────┐                      └────────┘    │
//!                              │                          │         │ a probe
//!              success_threshold probes succeed           │ recovery_timeout
//!                              │                          ▼ passes  │ fails
//!                              │                     ┌──────────┐   │
//!                              └──────────────────── │ HalfOpen │ ──┘
//!                                                    └──────────┘
//!   force_open() ─▶ ForcedOpen    disable() ─▶ Disabled    reset() ─▶ Closed, from anywhere
//! ```
//!
//! Trip policies can be combined: **consecutive failures** (`failure_threshold`, the article's
//! policy; a success resets the count), **failure rate** and **slow-call rate** over a sliding
//! window of the last N calls or the last T seconds ([`SlidingWindow`]), evaluated once the
//! window holds `minimum_calls`. Outcomes are three-way ([`Outcome`]): success, failure, or
//! ignored (a client error says nothing about the backend).
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
//! # The modules
//!
//! | module | what it holds |
//! |---|---|
//! | `breaker` | [`CircuitBreaker`], the handle: acquire, state, snapshot, manual commands |
//! | `builder`, `config`, `backoff` | settings, defaults, validation ([`ConfigError`]) |
//! | `core` | the state machine: decisions from (state, event, now), no I/O, no atomics |
//! | `shared` | the lock-free fast path in front of the core: admit, settle, snapshot |
//! | `window` | count and time sliding windows, O(1) per call |
//! | `permit`, `outcome`, `call` | settling one call; the async `call` wrappers |
//! | `rejected`, `error`, `text` | [`Rejected`], [`Error`], failure texts cheap to copy |
//! | `events`, `transition` | listeners, transitions and the `tracing` log |
//! | `name` | breaker names, interned so a rejection carries them for free |
//! | `local` | what each thread keeps: call counters, its share of a time window, trip cache |
//! | `metrics`, `registry` | [`CallCounts`], [`Snapshot`], the named [`Registry`] |
//! | [`middleware`] | the tower `Layer` and `Service` |
//! | `clock` | [`Clock`], [`MonotonicClock`], [`ManualClock`] |
//!
//! # Speed
//!
//! While Closed, a successful call is one atomic load to acquire and a per-thread counter store
//! to settle: no lock, no allocation, no shared cache line written. While Open, a rejection adds
//! one read of the coarse monotonic clock. `breaker/BENCHMARKS.md` compares it with `failsafe`,
//! `recloser` and `tower-resilience`.

#![deny(missing_docs)]

mod backoff;
mod breaker;
mod builder;
mod call;
mod clock;
mod config;
mod core;
mod error;
mod events;
mod local;
mod metrics;
#[cfg(feature = "tower")]
pub mod middleware;
mod name;
mod outcome;
mod permit;
mod registry;
mod rejected;
mod shared;
mod state;
mod text;
mod transition;
mod window;

pub use backoff::Backoff;
pub use breaker::CircuitBreaker;
pub use builder::Builder;
pub use call::default_classifier;
pub use clock::{Clock, ManualClock, MonotonicClock};
pub use config::{Config, SlidingWindow};
pub use error::{ConfigError, Error};
pub use events::{Event, EventKind};
pub use metrics::{CallCounts, Snapshot};
pub use outcome::Outcome;
pub use permit::{OwnedPermit, Permit};
pub use registry::Registry;
pub use rejected::Rejected;
pub use state::State;
pub use transition::{Reason, Transition};
