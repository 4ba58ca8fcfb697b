//! A fleet that learns together: the replicas of a service share what their [`breaker`]s
//! learned through Redis, never on the healthy path.
//!
//! Each replica's breaker learns on its own: with N replicas behind a load balancer, about N
//! times the failure threshold of failing calls reach a dead backend before every circuit is
//! open, and N probes reach it each recovery period. A fleet shares three things:
//!
//! * **evidence**: on a heartbeat (and at once on each transition) each replica publishes its
//!   recent failures and calls beside its verdict (state, time left open, why, a
//!   generation). Summed over the live replicas, failures that reach the breaker's own rule
//!   open every replica, provided at least `quorum` distinct replicas contributed; so do
//!   `quorum` replicas Open on their own evidence. With quorum 1 the fleet is one big breaker;
//!   with 2 or more, one replica whose own path to the backend is broken cannot open the rest.
//! * **one probe**: shortly before its open period ends, a replica asks for a lease (`SET NX
//!   PX`); only the holder lets its probe through, the others stay Open until its result is
//!   published: a success closes them, a failure keeps them Open another period.
//! * **nothing else**: admission and outcome recording stay the breaker's, with no Redis call
//!   and not one instruction more; the fleet reads the breaker's snapshot and transitions, and
//!   moves it only through [`CircuitBreaker::open_for`](breaker::CircuitBreaker::open_for)
//!   (which only ever makes it stricter) and
//!   [`CircuitBreaker::close_if_opened_by`](breaker::CircuitBreaker::close_if_opened_by) (which
//!   only ends an Open the fleet began).
//!
//! **What it does not promise.** Redis is a helper, not a source of truth: when it is slow or
//! gone (every operation has a short timeout) each replica runs on its own breaker, as
//! without a fleet, and sharing resumes at the first heartbeat Redis answers. There is no
//! consensus: replicas decide from what they read a heartbeat apart, so a few calls more than
//! the threshold reach the backend, and a replica whose clock runs more than a minute ahead
//! is ignored. Only the consecutive-failure and failure-rate policies are shared.
//!
//! # Example
//!
//! What the fleet decides is a pure function of the replicas' views; [`judge`] shows it without
//! Redis. Five replicas of the article's breaker (three failures), each having seen one
//! failure or none:
//!
//! ```
//! use breaker::FleetReason;
//! use breaker_fleet::{PeerState, Rules, View, judge};
//! use std::time::Duration;
//!
//! let view = |id: &str, failures| View {
//!     id: id.to_owned(),
//!     generation: 1,
//!     state: PeerState::Closed,
//!     own_trip: false,
//!     open_ms: 0,
//!     reason: None,
//!     failures,
//!     window_calls: 0,
//!     window_failures: 0,
//!     probe: None,
//! };
//! let rules = |quorum| Rules {
//!     failure_threshold: Some(3),
//!     failure_rate: None,
//!     recovery_timeout: Duration::from_secs(10),
//!     failure_window: Duration::from_secs(10),
//!     quorum,
//! };
//! let me = view("a-1", 1);
//! let others = [view("a-2", 1), view("a-3", 1), view("a-4", 0), view("a-5", 0)];
//!
//! // Three failures from three replicas: every replica opens, none having tripped alone.
//! let verdict = judge(&rules(1), &me, &others).expect("the fleet trips");
//! assert_eq!(verdict.lasting, Duration::from_secs(10));
//! assert_eq!(
//!     breaker::Reason::Fleet(verdict.reason).to_string(),
//!     "fleet: 3 failures from 3 of 5 replicas within 10s"
//! );
//!
//! // One replica's broken path alone opens no one at quorum 2.
//! let broken = [view("a-2", 3), view("a-3", 0), view("a-4", 0), view("a-5", 0)];
//! assert_eq!(judge(&rules(2), &view("a-1", 0), &broken), None);
//! ```
//!
//! In a service, with a tokio runtime (service A's `fleet` module does this):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use breaker::CircuitBreaker;
//! use breaker_fleet::Fleet;
//!
//! let fleet = Fleet::builder("redis://127.0.0.1:6379", "a-1:5000").quorum(2).build()?;
//! let cb = CircuitBreaker::builder("call_service_b")
//!     .failure_threshold(3)
//!     .on_transition(fleet.listener())
//!     .build()?;
//! let handle = fleet.start(cb.clone()); // no Redis needed yet: the first heartbeat connects
//! println!("{:?}", handle.status());
//! # Ok(())
//! # }
//! ```
//!
//! # The modules
//!
//! Bottom up; the pure ones first, then the shell:
//!
//! | file | what it holds |
//! |---|---|
//! | `config.rs` | [`FleetBuilder`], [`FleetConfig`], [`ReplicaId`], [`ConfigError`] |
//! | `redis_url.rs` | the Redis URL, shown without its password everywhere |
//! | `view.rs` | [`View`]: what a replica publishes, its JSON, bounded and checked |
//! | `evidence.rs` | [`Local`]: what the fleet reads of its breaker; this replica's view |
//! | `roster.rs` | the others' views at one heartbeat, fenced by generation |
//! | `policy.rs` | [`judge`]: when the fleet opens a replica (**start reading here**) |
//! | `probe.rs` | the lease of the one probe, and what its result does to the others |
//! | `status.rs` | [`FleetStatus`]: what `/breaker` shows |
//! | `replica.rs` | one replica's decisions, all of the above in one pure state machine |
//! | `store.rs` | Redis: three Lua scripts, each one round trip under a timeout |
//! | `fleet.rs` | [`Fleet`], [`FleetHandle`]: the task that drives the replica |

#![deny(missing_docs)]

mod config;
mod evidence;
mod fleet;
mod policy;
mod probe;
mod redis_url;
mod replica;
mod roster;
mod status;
mod store;
mod view;

#[cfg(test)]
mod testing;

pub use config::{
    ConfigError, DEFAULT_FAILURE_WINDOW, DEFAULT_HEARTBEAT, DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_REPLICAS, DEFAULT_PROBE_LEASE, DEFAULT_REDIS_TIMEOUT, FleetBuilder, FleetConfig,
    MAX_ID_BYTES, MAX_REPLICAS, ReplicaId,
};
pub use evidence::Local;
pub use fleet::{Fleet, FleetHandle};
pub use policy::{Rules, Verdict, judge};
pub use probe::{Command, LeaseAnswer};
pub use roster::{MAX_CLOCK_AHEAD_MS, Read};
pub use status::FleetStatus;
pub use store::StoreError;
pub use view::{Garbage, MAX_VIEW_BYTES, PeerState, ProbeReport, View};
