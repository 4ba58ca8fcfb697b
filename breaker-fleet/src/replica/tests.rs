//! Several replicas deciding together through a fake Redis: real breakers on manual clocks,
//! the fleet's pure decisions, and an in-memory stand-in for the three scripts (views with a
//! time to live, the lease with `NX`). No runtime, no Redis: every step is made by hand, so
//! each quorum and generation rule is shown exactly.

use std::collections::BTreeMap;
use std::time::Duration;

use breaker::{CircuitBreaker, FleetReason, ManualClock, Reason, State, Transition};

use super::*;
use crate::probe::LeaseAnswer;
use crate::roster::Read;
use crate::store::Board;

const BEAT: Duration = Duration::from_millis(300);
const RECOVERY: Duration = Duration::from_secs(4);
const THRESHOLD: u32 = 3;

/// The fake Redis: each replica's last view and when it was written, and the lease.
#[derive(Default)]
struct FakeRedis {
    now_ms: u64,
    views: BTreeMap<String, (u64, View)>,
    lease: Option<(String, u64)>,
    /// Served instead of a replica's own last view, once: a late or replayed write.
    replay: Option<View>,
}

impl FakeRedis {
    fn beat(&mut self, view: &View) -> Board {
        let ttl = millis(BEAT) * 3;
        self.views
            .insert(view.id.clone(), (self.now_ms, view.clone()));
        if let Some(old) = self.replay.take() {
            self.views.insert(old.id.clone(), (self.now_ms, old));
        }
        let now = self.now_ms;
        self.views.retain(|_, (at, _)| now - *at < ttl);
        Board {
            redis_ms: now,
            live: self.views.len() as u64,
            replaced_live_key: false,
            lease: self.lease().map(|(value, _)| value.clone()),
            reads: self
                .views
                .values()
                .map(|(at, view)| Read {
                    view: view.clone(),
                    age_ms: now - at,
                })
                .collect(),
            garbage: Vec::new(),
        }
    }

    fn lease(&self) -> Option<&(String, u64)> {
        self.lease
            .as_ref()
            .filter(|(_, until)| self.now_ms < *until)
    }

    fn take(&mut self, id: &str, ttl: Duration) -> LeaseAnswer {
        if let Some((value, until)) = self.lease() {
            return LeaseAnswer::Lost {
                holder: split_lease(value).expect("a lease").1.to_owned(),
                left: Duration::from_millis(until - self.now_ms),
            };
        }
        // Redis's clock in microseconds, as the script takes it.
        let token = self.now_ms * 1_000;
        let value = format!("{token}:{id}");
        self.lease = Some((value.clone(), self.now_ms + millis(ttl)));
        LeaseAnswer::Won { token, value }
    }

    fn release(&mut self, value: &str) {
        if self.lease.as_ref().is_some_and(|(held, _)| held == value) {
            self.lease = None;
        }
    }
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// One replica: its breaker, the fleet's decisions, and the transitions its listener heard.
struct Node {
    breaker: CircuitBreaker,
    replica: Replica,
    heard: std::sync::Arc<std::sync::Mutex<Vec<Transition>>>,
    /// Milliseconds into the run of its heartbeats: replicas beat out of step.
    phase: u64,
    /// Its own path to the backend is broken.
    broken: bool,
}

/// `n` replicas with `quorum`, on one clock, heartbeats spread over the period.
fn fleet(n: usize, quorum: u32) -> (Vec<Node>, ManualClock) {
    let clock = ManualClock::new();
    let nodes = (0..n)
        .map(|i| {
            let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let listening = std::sync::Arc::clone(&heard);
            let breaker = CircuitBreaker::builder(format!("b{i}"))
                .failure_threshold(THRESHOLD)
                .recovery_timeout(RECOVERY)
                .clock(clock.clone())
                .on_transition(move |event| {
                    if let breaker::EventKind::StateChanged(t) = event.kind {
                        listening.lock().expect("lock").push(t);
                    }
                })
                .build()
                .expect("valid");
            let config = crate::Fleet::builder("redis://127.0.0.1", &format!("r{i}"))
                .quorum(quorum)
                .heartbeat(BEAT)
                .probe_lease(Duration::from_secs(2))
                .build()
                .expect("valid")
                .config()
                .clone();
            Node {
                replica: Replica::new(&config, &breaker.config()),
                breaker,
                heard,
                phase: (i as u64 * millis(BEAT)) / n as u64,
                broken: false,
            }
        })
        .collect();
    (nodes, clock)
}

impl Node {
    /// One heartbeat at `now_ms`, as the task makes it: the transitions heard, the view
    /// published and the fleet read, the command applied, the lease asked for when due.
    fn beat(&mut self, redis: &mut FakeRedis, now_ms: u64) {
        let heard: Vec<Transition> = self.heard.lock().expect("lock").drain(..).collect();
        let releases: Vec<String> = heard
            .iter()
            .filter_map(|t| self.replica.transition(t, now_ms))
            .collect();
        let local = Local::of(&self.breaker.snapshot());
        let view = self.replica.view(&local, now_ms, now_ms);
        let board = redis.beat(&view);
        let decision = self.replica.read(&view, board, &local, now_ms, now_ms);
        if let Some(command) = decision.command {
            self.apply(command);
        }
        for value in releases {
            redis.release(&value);
        }
        self.lease_if_due(redis, now_ms);
    }

    /// Asks for the lease if it is due, as the task does on its timer between heartbeats.
    fn lease_if_due(&mut self, redis: &mut FakeRedis, now_ms: u64) {
        let local = Local::of(&self.breaker.snapshot());
        if self.replica.lease_due_in(&local, now_ms) == Some(Duration::ZERO) {
            let answer = redis.take(&self.replica.id, self.replica.lease_ttl());
            if let Some(command) = self.replica.leased(answer, now_ms) {
                self.apply(command);
            }
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
}

/// The run: every 10 ms each replica whose heartbeat falls due beats, and the others ask for
/// the lease if it is due; every `call_every` a call
/// goes to the next replica in turn (round robin) and, if admitted, ends failed when the
/// backend is down (or the replica's path is broken) and succeeded otherwise. Returns the
/// calls that reached the backend, failed and probes alike, by millisecond.
struct Run {
    nodes: Vec<Node>,
    clock: ManualClock,
    redis: FakeRedis,
    now_ms: u64,
    next: usize,
    reached: Vec<(u64, usize, bool)>,
}

impl Run {
    fn new(n: usize, quorum: u32) -> Self {
        let (nodes, clock) = fleet(n, quorum);
        Self {
            nodes,
            clock,
            redis: FakeRedis::default(),
            now_ms: 0,
            next: 0,
            reached: Vec::new(),
        }
    }

    /// Runs for `ms`, a call every `call_every` ms, the backend `down` or not.
    fn run(&mut self, ms: u64, call_every: u64, down: bool) {
        let end = self.now_ms + ms;
        while self.now_ms < end {
            self.now_ms += 10;
            self.clock.advance(Duration::from_millis(10));
            self.redis.now_ms = self.now_ms;
            let beat = millis(BEAT);
            for node in &mut self.nodes {
                if (self.now_ms + node.phase).is_multiple_of(beat) {
                    node.beat(&mut self.redis, self.now_ms);
                } else {
                    node.lease_if_due(&mut self.redis, self.now_ms);
                }
            }
            if self.now_ms.is_multiple_of(call_every) {
                self.call(down);
            }
        }
    }

    fn call(&mut self, down: bool) {
        let i = self.next;
        self.next = (self.next + 1) % self.nodes.len();
        let node = &self.nodes[i];
        if let Ok(permit) = node.breaker.try_acquire() {
            let fails = down || node.broken;
            self.reached.push((self.now_ms, i, fails));
            if fails {
                permit.failure("HTTP 500");
            } else {
                permit.success();
            }
        }
    }

    fn states(&self) -> Vec<State> {
        self.nodes.iter().map(|n| n.breaker.state()).collect()
    }

    fn all_reject(&self) -> bool {
        self.nodes.iter().all(|n| n.breaker.try_acquire().is_err())
    }
}

#[test]
fn with_quorum_1_five_replicas_let_at_most_threshold_plus_replicas_failures_through() {
    let mut run = Run::new(5, 1);
    run.run(3_000, 100, true);
    assert!(run.all_reject(), "{:?}", run.states());
    let reached = run.reached.len() as u32;
    assert!(
        reached <= THRESHOLD + 5,
        "{reached} calls reached the backend before every replica rejected"
    );
    assert!(reached >= THRESHOLD);
    let opened_by_fleet = run
        .nodes
        .iter()
        .filter(|n| matches!(n.breaker.snapshot().opened_by, Some(Reason::Fleet(_))))
        .count();
    assert!(
        opened_by_fleet >= 3,
        "most were opened by the fleet, not by their own failures"
    );
}

#[test]
fn without_sharing_each_replica_pays_its_own_threshold() {
    // A quorum larger than the fleet: nothing shared opens anyone, and each replica trips on
    // its own third failure.
    let mut run = Run::new(5, 6);
    run.run(3_000, 100, true);
    assert_eq!(run.reached.len(), 15);
}

#[test]
fn exactly_one_probe_reaches_the_backend_per_recovery_period_fleet_wide() {
    let mut run = Run::new(5, 1);
    run.run(3_000, 100, true);
    assert!(run.all_reject());
    let opened = run.reached.len();
    run.run(millis(RECOVERY) * 3 + millis(RECOVERY) / 2, 50, true);
    let probes: Vec<u64> = run.reached[opened..].iter().map(|(at, _, _)| *at).collect();
    assert!(
        probes.len() >= 3,
        "a probe a period: {:?}",
        &run.reached[opened..]
    );
    for pair in probes.windows(2) {
        assert!(
            pair[1] - pair[0] >= millis(RECOVERY),
            "a period apart: {probes:?}"
        );
    }
    // The backend is back: the one probe that succeeds closes every replica.
    run.run(millis(RECOVERY) + 1_000, 50, false);
    assert_eq!(run.states(), vec![State::Closed; 5]);
    let closed_by_fleet = run
        .nodes
        .iter()
        .filter(|n| n.breaker.snapshot().transitions > 0)
        .count();
    assert_eq!(closed_by_fleet, 5);
}

#[test]
fn with_quorum_2_a_replica_whose_own_path_is_broken_opens_alone() {
    let mut run = Run::new(5, 2);
    run.nodes[2].broken = true;
    run.run(5_000, 100, false);
    let states = run.states();
    assert_eq!(states[2], State::Open, "{states:?}");
    for (i, state) in states.iter().enumerate().filter(|(i, _)| *i != 2) {
        assert_eq!(*state, State::Closed, "replica {i}");
    }
}

#[test]
fn with_quorum_1_the_broken_replica_opens_every_one() {
    let mut run = Run::new(5, 1);
    run.nodes[2].broken = true;
    run.run(5_000, 100, false);
    assert!(run.all_reject(), "{:?}", run.states());
}

#[test]
fn a_replayed_open_verdict_reopens_no_one() {
    let mut run = Run::new(3, 1);
    run.run(3_000, 100, true);
    assert!(run.all_reject());
    // Keep one replica's view of its Open circuit, then let the fleet recover.
    let stale = run
        .redis
        .views
        .values()
        .map(|(_, v)| v.clone())
        .find(|v| v.state == PeerState::Open);
    let mut stale = stale.expect("an open view");
    stale.own_trip = true;
    stale.open_ms = 60_000;
    run.run(millis(RECOVERY) * 2 + 1_000, 50, false);
    assert_eq!(run.states(), vec![State::Closed; 3]);
    // Written again, late: its generation is below what every reader has accepted.
    run.redis.replay = Some(stale);
    run.run(1_000, 50, false);
    assert_eq!(run.states(), vec![State::Closed; 3]);
}

#[test]
fn a_replayed_probe_success_closes_no_one() {
    let mut run = Run::new(3, 1);
    run.run(3_000, 100, true);
    run.run(millis(RECOVERY) + 500, 50, true);
    let with_report = run
        .redis
        .views
        .values()
        .map(|(_, v)| v.clone())
        .find(|v| v.probe.is_some())
        .expect("the holder published its probe's result");
    let mut replayed = with_report;
    replayed.probe = replayed
        .probe
        .map(|p| crate::view::ProbeReport { ok: true, ..p });
    replayed.generation += 1_000_000;
    run.redis.replay = Some(replayed);
    run.run(600, 50, true);
    assert!(
        run.all_reject(),
        "a success for a lease acted on closes no one: {:?}",
        run.states()
    );
}

#[test]
fn a_holder_that_dies_is_replaced_when_its_lease_runs_out() {
    let mut run = Run::new(3, 1);
    run.run(3_000, 100, true);
    // Before anyone asks, a replica that is gone holds the lease.
    run.redis.lease = Some(("1:gone".to_owned(), run.now_ms + millis(RECOVERY) + 2_000));
    let before = run.reached.len();
    run.run(millis(RECOVERY) + 600, 50, true);
    assert_eq!(
        run.reached.len(),
        before,
        "no probe while the dead holder's lease lasts"
    );
    run.run(2_500, 50, true);
    assert_eq!(run.reached.len(), before + 1, "then one replica probes");
}

#[test]
fn the_status_says_what_the_replica_knows_of_its_fleet() {
    let mut run = Run::new(3, 1);
    run.run(600, 1_000, false);
    let status = run.nodes[0].replica.status().clone();
    assert!(status.connected);
    assert_eq!((status.replicas_live, status.replicas_open), (3, 0));
    assert_eq!((status.id.as_str(), status.quorum), ("r0", 1));
    run.run(3_000, 100, true);
    let status = run.nodes[0].replica.status().clone();
    assert_eq!((status.replicas_live, status.replicas_open), (3, 3));
    run.nodes[0].replica.lost_redis();
    let status = run.nodes[0].replica.status().clone();
    assert!(!status.connected);
    assert_eq!(
        (status.replicas_live, status.replicas_open),
        (1, 1),
        "only itself"
    );
    assert_eq!(status.probe_holder, None);
}

#[test]
fn a_fleet_larger_than_max_replicas_is_said_to_be_capped() {
    let config = crate::Fleet::builder("redis://127.0.0.1", "me")
        .max_replicas(2)
        .build()
        .expect("valid")
        .config()
        .clone();
    let breaker = CircuitBreaker::builder("capped").build().expect("valid");
    let mut replica = Replica::new(&config, &breaker.config());
    let local = Local::of(&breaker.snapshot());
    let me = replica.view(&local, 0, 1);
    let board = |live| Board {
        redis_ms: 1,
        live,
        replaced_live_key: false,
        lease: None,
        reads: Vec::new(),
        garbage: Vec::new(),
    };
    assert!(!replica.read(&me, board(2), &local, 0, 1).capped);
    assert!(replica.read(&me, board(3), &local, 0, 1).capped);
}
