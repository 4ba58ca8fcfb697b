//! [`Fleet`] and its task: the shell that drives a [`Replica`] with its breaker's snapshots
//! and Redis, and does what it decides.
//!
//! The task wakes at each heartbeat, at once on each transition of the breaker (its
//! [`listener`](Fleet::listener) rings), and when the lease is due. Each time it reads the
//! breaker's snapshot, publishes and reads the fleet in one round trip, and applies the
//! verdict with [`CircuitBreaker::open_for`] or [`CircuitBreaker::close_if_opened_by`]. No
//! call through the breaker waits on it: admission and outcomes are the breaker's alone.
//!
//! When Redis fails or is slow the replica runs on its own breaker; the log says so once per
//! episode, and once when Redis answers again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use breaker::{CircuitBreaker, Event, EventKind, FleetReason, Reason, Transition};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::{ConfigError, FleetBuilder, FleetConfig, ReplicaId};
use crate::evidence::Local;
use crate::probe::Command;
use crate::replica::{Decision, Replica};
use crate::status::FleetStatus;
use crate::store::{LIVE_FOR_HEARTBEATS, Store, StoreError};
use crate::view::Garbage;

/// Transitions kept for the task between two of its wake-ups; more are dropped (the oldest),
/// which only delays a lease's release until it runs out.
const TRANSITIONS_KEPT: usize = 64;
/// The least time between two heartbeats that transitions set off.
const MIN_GAP: Duration = Duration::from_millis(5);

/// A replica of a fleet, configured and not yet running. See the [crate docs](crate).
pub struct Fleet {
    config: FleetConfig,
    ring: Arc<Ring>,
    warn_gate: Option<WarnGate>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("config", &self.config)
            .field("limit_warnings", &self.warn_gate.is_some())
            .finish_non_exhaustive()
    }
}

/// What the breaker's listener hands the task: its transitions, and a bell.
#[derive(Debug, Default)]
struct Ring {
    transitions: Mutex<VecDeque<Transition>>,
    bell: Notify,
}

/// Lets a WARN about garbage through, or not: a rate limit from the caller.
type WarnGate = Arc<dyn Fn() -> bool + Send + Sync>;

impl FleetBuilder {
    /// Checks every setting. No connection is made: the first heartbeat connects.
    ///
    /// # Errors
    ///
    /// The first invalid setting, as a [`ConfigError`].
    pub fn build(self) -> Result<Fleet, ConfigError> {
        self.validate().map(Fleet::new)
    }
}

impl Fleet {
    /// Starts configuring the replica `id` of a fleet sharing through the Redis at
    /// `redis_url` (`redis://[:password@]host:port[/db]`).
    pub fn builder(redis_url: &str, id: &str) -> FleetBuilder {
        FleetBuilder::new(redis_url, id)
    }

    pub(crate) fn new(config: FleetConfig) -> Self {
        Self {
            config,
            ring: Arc::default(),
            warn_gate: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// The same replica under another id, its listener unchanged: for an id known only once
    /// the service listens (a port the kernel chose, say).
    #[must_use]
    pub fn with_id(mut self, id: ReplicaId) -> Self {
        self.config.id = id;
        self
    }

    /// A rate limit on the WARN lines about garbage under the fleet's keys, beside the fleet's
    /// own (one line per key each time it turns to garbage): the line is written only when
    /// `admit` says so. Service A passes its log limiter's `admit`.
    #[must_use]
    pub fn limit_warnings(mut self, admit: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        self.warn_gate = Some(Arc::new(admit));
        self
    }

    /// The listener to give the breaker's builder
    /// ([`on_transition`](breaker::Builder::on_transition)): it keeps each transition for the
    /// task and wakes it, so the fleet hears of a transition at once. It takes a lock for a
    /// push and never waits on Redis.
    pub fn listener(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static + use<> {
        let ring = Arc::clone(&self.ring);
        move |event| {
            if let EventKind::StateChanged(transition) = event.kind {
                let mut kept = ring
                    .transitions
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if kept.len() == TRANSITIONS_KEPT {
                    kept.pop_front();
                }
                kept.push_back(transition);
                drop(kept);
                ring.bell.notify_one();
            }
        }
    }

    /// Runs the replica's task for `breaker` (built with [`listener`](Self::listener)) on the
    /// current tokio runtime, until the handle is dropped. No Redis is needed to start: the
    /// first heartbeat connects.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn start(self, breaker: CircuitBreaker) -> FleetHandle {
        let replica = Replica::new(&self.config, &breaker.config());
        let (status, watching) = watch::channel(replica.status().clone());
        let task = Task {
            store: Store::new(&self.config, breaker.name()),
            breaker,
            replica,
            ring: self.ring,
            status,
            warn_gate: self.warn_gate,
            heartbeat: self.config.heartbeat,
            redis_shown: self.config.redis.redacted().to_owned(),
            connected: None,
            garbage_keys: Vec::new(),
            capped_said: false,
            started: Instant::now(),
        };
        FleetHandle {
            status: watching,
            task: tokio::spawn(task.run()),
        }
    }
}

/// A running replica: its status, and its task, stopped when the handle is dropped.
#[derive(Debug)]
pub struct FleetHandle {
    status: watch::Receiver<FleetStatus>,
    task: JoinHandle<()>,
}

impl FleetHandle {
    /// What this replica knows of its fleet now.
    pub fn status(&self) -> FleetStatus {
        self.status.borrow().clone()
    }
}

impl Drop for FleetHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Task {
    store: Store,
    breaker: CircuitBreaker,
    replica: Replica,
    ring: Arc<Ring>,
    status: watch::Sender<FleetStatus>,
    warn_gate: Option<WarnGate>,
    heartbeat: Duration,
    redis_shown: String,
    /// Whether Redis answered the last operation; `None` before the first.
    connected: Option<bool>,
    /// The keys that held garbage at the last heartbeat, so that each is said once.
    garbage_keys: Vec<String>,
    capped_said: bool,
    started: Instant,
}

impl Task {
    async fn run(mut self) {
        loop {
            let local = Local::of(&self.breaker.snapshot());
            let next_beat = Instant::now() + self.heartbeat;
            let wake_at = match self.replica.lease_due_in(&local, self.now_ms()) {
                Some(due) => next_beat.min(Instant::now() + due),
                None => next_beat,
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake_at) => {}
                () = self.ring.bell.notified() => {
                    // A storm of transitions makes a heartbeat at most every few milliseconds.
                    tokio::time::sleep(MIN_GAP).await;
                }
            }
            let releases = self.ended_probes();
            // Published before the lease is released, so the result is there when it is free.
            self.beat().await;
            for value in releases {
                let released = self.store.release(&value).await;
                self.answered(released.map(drop));
            }
            self.lease_if_due().await;
            self.status.send_replace(self.replica.status().clone());
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn wall_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
    }

    /// The transitions heard since the last wake-up, told to the replica: the leases of the
    /// probes for the fleet that ended, to release.
    fn ended_probes(&mut self) -> Vec<String> {
        let heard: Vec<Transition> = self
            .ring
            .transitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        let now_ms = self.now_ms();
        heard
            .iter()
            .filter_map(|transition| self.replica.transition(transition, now_ms))
            .collect()
    }

    /// Publishes this replica's view and reads the fleet's; does what the reading asks.
    async fn beat(&mut self) {
        let local = Local::of(&self.breaker.snapshot());
        let view = self.replica.view(&local, self.now_ms(), Self::wall_ms());
        let ttl = self.heartbeat * LIVE_FOR_HEARTBEATS;
        match self.store.beat(&view, ttl).await {
            Ok(board) => {
                self.answered(Ok(()));
                let decision =
                    self.replica
                        .read(&view, board, &local, self.now_ms(), Self::wall_ms());
                self.report(&decision);
                if let Some(command) = decision.command {
                    self.apply(command);
                }
            }
            Err(err) => self.answered(Err(err)),
        }
    }

    async fn lease_if_due(&mut self) {
        let local = Local::of(&self.breaker.snapshot());
        if self.replica.lease_due_in(&local, self.now_ms()) != Some(Duration::ZERO) {
            return;
        }
        match self.store.take_lease(self.replica.lease_ttl()).await {
            Ok(answer) => {
                self.answered(Ok(()));
                if let Some(command) = self.replica.leased(answer, self.now_ms()) {
                    self.apply(command);
                }
            }
            Err(err) => self.answered(Err(err)),
        }
    }

    fn apply(&self, command: Command) {
        match command {
            Command::Open { lasting, reason } => {
                self.breaker.open_for(lasting, reason);
            }
            Command::Close { opened_by } => {
                self.breaker
                    .close_if_opened_by(opened_by, Reason::Fleet(FleetReason::ProbeSucceeded));
            }
        }
    }

    /// Logs the loss of Redis once per episode, and its return once.
    fn answered(&mut self, result: Result<(), StoreError>) {
        match result {
            Ok(()) => {
                if self.connected != Some(true) {
                    info!(target: "breaker_fleet", redis = %self.redis_shown,
                        "fleet: sharing with the other replicas through {}", self.redis_shown);
                }
                self.connected = Some(true);
            }
            Err(err) => {
                if self.connected != Some(false) {
                    warn!(target: "breaker_fleet", redis = %self.redis_shown, error = %err,
                        "fleet: Redis lost ({err}); this replica runs on its own breaker until it answers");
                }
                self.connected = Some(false);
                self.replica.lost_redis();
            }
        }
    }

    /// Garbage under the fleet's keys: one WARN per key each time it turns to garbage, within
    /// the caller's rate limit; a fleet larger than the cap, said once.
    fn report(&mut self, decision: &Decision) {
        let keys: Vec<String> = decision.garbage.iter().map(|(id, _)| id.clone()).collect();
        for (id, why) in &decision.garbage {
            if !self.garbage_keys.contains(id)
                && self.warn_gate.as_ref().is_none_or(|admit| admit())
            {
                warn_garbage(id, why);
            }
        }
        self.garbage_keys = keys;
        if decision.capped && !self.capped_said {
            warn!(target: "breaker_fleet",
                "fleet: more live replicas than max_replicas; only the first are read");
        }
        self.capped_said = decision.capped;
    }
}

fn warn_garbage(id: &str, why: &Garbage) {
    warn!(target: "breaker_fleet", replica = id, %why,
        "fleet: ignoring what is stored for replica {id}: {why}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_shows_its_settings_without_the_password() {
        let fleet = Fleet::builder("redis://:s3cret@127.0.0.1:6379", "a-1")
            .build()
            .expect("valid");
        let shown = format!("{fleet:?}");
        assert!(
            shown.starts_with("Fleet { config: FleetConfig {"),
            "{shown}"
        );
        assert!(shown.contains("redis://:***@127.0.0.1:6379"), "{shown}");
        assert!(shown.contains("limit_warnings: false"), "{shown}");
        assert!(!shown.contains("s3cret"));
        let limited = fleet.limit_warnings(|| true);
        assert!(format!("{limited:?}").contains("limit_warnings: true"));
    }

    #[test]
    fn the_listener_keeps_transitions_only_and_at_most_a_bound_of_them() {
        let fleet = Fleet::builder("redis://127.0.0.1", "a-1")
            .build()
            .expect("valid");
        let listener = fleet.listener();
        let breaker = CircuitBreaker::builder("listened")
            .failure_threshold(1)
            .on_event(listener)
            .build()
            .expect("valid");
        breaker.try_acquire().expect("closed").success();
        assert!(
            fleet.ring.transitions.lock().unwrap().is_empty(),
            "a success is no transition"
        );
        for _ in 0..TRANSITIONS_KEPT + 10 {
            breaker.force_open();
            breaker.reset();
        }
        let kept = fleet.ring.transitions.lock().unwrap();
        assert_eq!(kept.len(), TRANSITIONS_KEPT);
        assert_eq!(kept.back().map(|t| t.to), Some(breaker::State::Closed));
    }
}
