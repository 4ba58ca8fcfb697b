//! An adaptive concurrency limit: how many calls a backend may have in flight, learned from
//! their latency instead of fixed in advance.
//!
//! A fixed limit (a bulkhead's 32) is a guess: too low and it refuses calls the backend could
//! serve, too high and the backend queues them, every call gets slower, and timeouts follow. An
//! adaptive limit watches each call's round trip: while it stays at its floor (the round trip
//! of a call that did not queue) the backend has room and the limit grows; when it rises the
//! backend is queueing and the limit shrinks, to about the calls the backend serves at once
//! plus a short queue. A call over the limit is refused at once, without touching the backend.
//!
//! # The algorithm: Vegas
//!
//! Netflix's concurrency-limits offers Vegas and Gradient2; Envoy's adaptive-concurrency filter
//! is gradient-based. This is Vegas (TCP Vegas's rule, in `vegas.rs`), for three reasons:
//!
//! * it estimates the backend's queue in **calls**, `limit × (1 - floor / rtt)`, and holds the
//!   limit while that queue is 3 to 6 calls: the limit settles at what the backend serves at
//!   once plus a few, a figure one can check against the backend's own concurrency;
//! * Gradient2 compares the latest round trip with a long-term *average* of round trips; under
//!   sustained overload that average climbs to the queued latency, the gradient returns to 1,
//!   and the limit grows again by its queue allowance each time, while Vegas's floor is a
//!   minimum that queueing cannot raise;
//! * Vegas cuts the limit on a dropped call (a timeout, a refusal by an overloaded backend);
//!   Gradient2 ignores drops, though a backend that refuses fast is the clearest overload sign.
//!
//! The floor is measured again every `floor_interval` as Envoy does it, by pinning the limit to
//! `min_limit` for a few calls, rather than Netflix's way of taking one call's round trip as the
//! new floor, which under sustained load can be a queued one (see `vegas.rs`).
//!
//! # Example
//!
//! ```
//! use trip_breaker::{AdaptiveLimit, ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let limiter = AdaptiveLimit::vegas()
//!     .min_limit(2)
//!     .max_limit(100)
//!     .initial_limit(4)
//!     .clock(clock.clone())
//!     .build()?;
//!
//! // Four calls in flight fill the limit; the fifth is refused at once.
//! let permits: Vec<_> = (0..4).map(|_| limiter.try_acquire().expect("room")).collect();
//! assert!(limiter.try_acquire().is_none());
//! assert_eq!(limiter.in_flight(), 4);
//!
//! // They all take 20 ms, the backend's floor: no queue, so the limit grows.
//! clock.advance(Duration::from_millis(20));
//! for permit in permits {
//!     permit.success();
//! }
//! assert!(limiter.limit() > 4);
//! assert_eq!(limiter.in_flight(), 0);
//! # Ok::<(), trip_breaker::ConfigError>(())
//! ```
//!
//! # Cost
//!
//! [`ConcurrencyLimiter::try_acquire`] is an atomic load and a compare-and-swap, no lock. A
//! call's end takes one uncontended-in-practice `Mutex` around a few words for the estimate
//! (no `.await` is held under it, so a std `Mutex` is right), then stores the new limit in an
//! atomic. Memory is constant whatever the traffic.

// Bottom up: the pure rule, the shared limiter around it, the settings that build it.
mod vegas;
// (the limiter and its permits)
mod limiter;
// (the settings)
mod config;

pub use config::AdaptiveLimit;
pub use limiter::{ConcurrencyLimiter, LimitPermit};
