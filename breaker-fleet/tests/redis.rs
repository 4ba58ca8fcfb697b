//! The fleet against a real `redis-server` (Debian's), started by each test on a free loopback
//! port: sharing, the quorum, the one probe, Redis paused and killed, garbage under the keys,
//! and a password never shown. Behind the `redis-tests` feature, which `.ci/run` turns on after
//! installing Redis; with it on, a missing `redis-server` fails the tests.

#![cfg(feature = "redis-tests")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use breaker::{CircuitBreaker, FleetReason, Reason, State};
use breaker_fleet::{Fleet, FleetBuilder};
use support::{RedisServer, Replica, all_in, eventually, eventually_in, replica};

const RECOVERY: Duration = Duration::from_secs(2);

fn fail(replica: &Replica) {
    if let Ok(permit) = replica.breaker.try_acquire() {
        permit.failure("HTTP 500");
    }
}

/// A call tried on every replica: each admitted is a probe, and fails. Returns how many were.
fn probes_failing(replicas: &[Replica]) -> usize {
    let mut probes = 0;
    for r in replicas {
        if let Ok(permit) = r.breaker.try_acquire() {
            permit.failure("HTTP 500");
            probes += 1;
        }
    }
    probes
}

fn fleet_of(redis: &RedisServer, n: usize, quorum: u32, prefix: &str) -> Vec<Replica> {
    (0..n)
        .map(|i| replica(&redis.url(), &format!("r{i}"), quorum, RECOVERY, prefix))
        .collect()
}

/// `n` replicas at quorum 1, each with the tests' settings changed by `change`.
fn fleet_with(
    redis: &RedisServer,
    n: usize,
    prefix: &str,
    change: impl Fn(FleetBuilder) -> FleetBuilder,
) -> Vec<Replica> {
    (0..n)
        .map(|i| {
            let settings = support::settings(&redis.url(), &format!("r{i}"), 1, prefix);
            support::replica_of(change(settings), RECOVERY, prefix)
        })
        .collect()
}

/// A Redis of its own and `n` replicas at `quorum` sharing through it, once every one sees every
/// other.
async fn live_fleet(n: usize, quorum: u32, prefix: &str) -> (RedisServer, Vec<Replica>) {
    let redis = RedisServer::start();
    let replicas = fleet_of(&redis, n, quorum, prefix);
    all_live(&replicas).await;
    (redis, replicas)
}

async fn all_live(replicas: &[Replica]) {
    let n = replicas.len() as u32;
    eventually("every replica sees every other", || {
        replicas
            .iter()
            .all(|r| r.fleet.status().connected && r.fleet.status().replicas_live == n)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_on_three_replicas_open_all_five_at_quorum_1() {
    let (_redis, replicas) = live_fleet(5, 1, "evidence").await;
    for r in &replicas[..3] {
        fail(r);
    }
    eventually("every replica opens", || all_in(&replicas, State::Open)).await;
    let rejected = replicas[4].breaker.try_acquire().expect_err("open");
    assert!(
        rejected
            .to_string()
            .contains("fleet: 3 failures from 3 of 5 replicas within 10s"),
        "{rejected}"
    );
    assert_eq!(
        replicas[0].breaker.snapshot().consecutive_failures,
        1,
        "none tripped alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_quorum_2_one_replicas_failures_open_only_itself() {
    let (_redis, replicas) = live_fleet(3, 2, "quorum").await;
    for _ in 0..3 {
        fail(&replicas[0]);
    }
    assert_eq!(replicas[0].breaker.state(), State::Open);
    eventually("the others see it open", || {
        replicas[1].fleet.status().replicas_open == 1
    })
    .await;
    // Several heartbeats more: still Closed.
    tokio::time::sleep(support::HEARTBEAT * 6).await;
    assert_eq!(replicas[1].breaker.state(), State::Closed);
    assert_eq!(replicas[2].breaker.state(), State::Closed);
    // A second replica failing makes the quorum.
    fail(&replicas[1]);
    eventually_in(
        &replicas[2],
        State::Open,
        "the third opens once two replicas failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_probe_per_recovery_period_and_its_success_closes_everyone() {
    let (_redis, replicas) = live_fleet(3, 1, "probe").await;
    for r in &replicas {
        fail(r);
    }
    eventually("all open", || all_in(&replicas, State::Open)).await;
    // Each replica keeps trying; count the probes admitted until one of them is.
    let admitted = Arc::new(Mutex::new(Vec::new()));
    eventually("one replica is admitted a probe", || {
        for (i, r) in replicas.iter().enumerate() {
            if let Ok(permit) = r.breaker.try_acquire() {
                admitted.lock().unwrap().push(i);
                permit.success();
            }
        }
        !admitted.lock().unwrap().is_empty()
    })
    .await;
    eventually("its success closes every replica", || {
        for r in &replicas {
            if r.breaker.state() != State::Closed
                && let Ok(permit) = r.breaker.try_acquire()
            {
                admitted.lock().unwrap().push(99);
                permit.success();
            }
        }
        replicas.iter().all(|r| r.breaker.state() == State::Closed)
    })
    .await;
    let admitted = admitted.lock().unwrap().clone();
    assert_eq!(
        admitted.len(),
        1,
        "one probe, then every replica closed: {admitted:?}"
    );
    let closed_by_fleet = replicas
        .iter()
        .filter(|r| r.breaker.snapshot().transitions >= 2)
        .count();
    assert_eq!(closed_by_fleet, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_probe_frees_the_lease_for_the_next_one_at_once() {
    // A lease far longer than any wait here: the next probe can only come from its release.
    const LEASE: Duration = Duration::from_secs(600);
    let redis = RedisServer::start();
    let replicas = fleet_with(&redis, 2, "release", |settings| settings.probe_lease(LEASE));
    all_live(&replicas).await;
    for _ in 0..3 {
        fail(&replicas[0]);
    }
    eventually("both open", || all_in(&replicas, State::Open)).await;
    let mut probes = 0;
    eventually("a first probe, which fails", || {
        probes += probes_failing(&replicas);
        probes >= 1
    })
    .await;
    eventually("a second probe, a recovery period later", || {
        probes += probes_failing(&replicas);
        probes >= 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_older_than_the_failure_window_no_longer_count() {
    const WINDOW: Duration = Duration::from_millis(400);
    let redis = RedisServer::start();
    let replicas = fleet_with(&redis, 2, "window", |settings| {
        settings.failure_window(WINDOW)
    });
    all_live(&replicas).await;
    fail(&replicas[0]);
    fail(&replicas[0]);
    // Long past the window, with many heartbeats between: the two failures have aged out.
    tokio::time::sleep(WINDOW * 5).await;
    fail(&replicas[1]);
    // Three failures in all, but not within the window: several heartbeats later, no trip.
    tokio::time::sleep(support::HEARTBEAT * 6).await;
    assert!(replicas.iter().all(|r| r.breaker.state() == State::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_redis_leaves_each_replica_on_its_own_breaker_and_sharing_resumes() {
    let (redis, replicas) = live_fleet(2, 1, "paused").await;
    redis.pause();
    eventually("both see Redis lost", || {
        replicas.iter().all(|r| !r.fleet.status().connected)
    })
    .await;
    // The breakers go on alone: a call is admitted and recorded at once.
    for _ in 0..100 {
        replicas[0].breaker.try_acquire().expect("closed").success();
    }
    redis.resume();
    all_live(&replicas).await;
    fail(&replicas[0]);
    fail(&replicas[0]);
    fail(&replicas[1]);
    eventually("sharing works again", || all_in(&replicas, State::Open)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_started_again_is_found_again() {
    let (mut redis, replicas) = live_fleet(2, 1, "killed").await;
    redis.kill();
    eventually("Redis lost", || !replicas[0].fleet.status().connected).await;
    // Alone: its own three failures open it, as without a fleet.
    for _ in 0..3 {
        fail(&replicas[1]);
    }
    assert_eq!(replicas[1].breaker.state(), State::Open);
    assert_eq!(replicas[0].breaker.state(), State::Closed);
    redis.restart();
    all_live(&replicas).await;
    eventually_in(&replicas[0], State::Open, "the other learns it is open").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_under_the_fleets_keys_is_ignored() {
    let (redis, replicas) = live_fleet(2, 1, "garbage").await;
    let live = "garbage:call_garbage:live";
    redis.command(&["ZADD", live, "99999999999999", "intruder"]);
    redis.command(&["SET", "garbage:call_garbage:view:intruder", "{not json"]);
    redis.command(&["ZADD", live, "99999999999999", "listy"]);
    redis.command(&["RPUSH", "garbage:call_garbage:view:listy", "a"]);
    redis.command(&["ZADD", live, "99999999999999", &"x".repeat(100)]);
    tokio::time::sleep(support::HEARTBEAT * 4).await;
    assert!(replicas.iter().all(|r| r.fleet.status().connected));
    // The live set replaced by a string: the next heartbeat puts a set back.
    redis.command(&["SET", live, "nonsense"]);
    redis.command(&["SET", "garbage:call_garbage:probe", "no lease here"]);
    tokio::time::sleep(support::HEARTBEAT * 4).await;
    all_live(&replicas).await;
    for _ in 0..3 {
        fail(&replicas[0]);
    }
    eventually_in(&replicas[1], State::Open, "sharing still works").await;
    let rejected = replicas[1].breaker.try_acquire().expect_err("open");
    assert!(matches!(
        rejected.reason(),
        Some(Reason::Fleet(
            FleetReason::ReplicasOpen { .. } | FleetReason::Failures { .. }
        ))
    ));
}

/// This thread's log lines, captured as plain text until the guard is dropped.
fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

// One thread: the fleet's task then runs where the test's log subscriber is set.
#[tokio::test(flavor = "current_thread")]
async fn the_password_is_never_shown() {
    const SECRET: &str = "fleet-s3cret-passw0rd";
    let redis = RedisServer::with_password(SECRET);
    let (captured, _default) = capture_logs();
    // The right password: it works. A wrong one: every line says so without either. The good
    // replica waits longer for Redis, so that a busy machine gives it no episode of its own.
    const GOOD_HEARTBEAT: Duration = Duration::from_millis(200);
    let patient = support::settings(&redis.url(), "good", 1, "secret")
        .heartbeat(GOOD_HEARTBEAT)
        .redis_timeout(Duration::from_millis(150));
    let good = support::replica_of(patient, RECOVERY, "secret");
    eventually("connected with the password", || {
        good.fleet.status().connected
    })
    .await;
    let wrong_url = redis.url().replace(SECRET, "wr0ng-s3cret");
    let wrong = replica(&wrong_url, "wrong", 1, RECOVERY, "secret");
    // Garbage under the good replica's keys, read at every heartbeat, said once.
    redis.command(&[
        "ZADD",
        "secret:call_secret:live",
        "99999999999999",
        "intruder",
    ]);
    redis.command(&["SET", "secret:call_secret:view:intruder", "{not json"]);
    tokio::time::sleep(GOOD_HEARTBEAT * 4).await;
    assert!(!wrong.fleet.status().connected);
    let log = captured.text();
    assert_eq!(
        log.matches("Redis lost").count(),
        1,
        "once an episode: {log}"
    );
    assert_eq!(
        log.matches("ignoring what is stored for replica intruder")
            .count(),
        1,
        "once while it stays garbage: {log}"
    );
    assert_eq!(
        log.matches("fleet: sharing with the other replicas")
            .count(),
        1,
        "the good replica connected once: {log}"
    );
    assert!(log.contains(":***@127.0.0.1"), "{log}");
    assert!(
        !log.contains(SECRET) && !log.contains("wr0ng-s3cret"),
        "{log}"
    );
    let status = serde_json::to_string(&wrong.fleet.status()).expect("serializes");
    assert!(!status.contains("s3cret"));
    drop(redis);
}

// One thread, for the log subscriber, as above.
#[tokio::test(flavor = "current_thread")]
async fn more_live_replicas_than_max_replicas_is_said_once() {
    const CAPPED: &str = "fleet: more live replicas than max_replicas";
    let redis = RedisServer::start();
    let (captured, _default) = capture_logs();
    let fleet = Fleet::builder(&redis.url(), "only")
        .heartbeat(support::HEARTBEAT)
        .redis_timeout(Duration::from_millis(40))
        .max_replicas(1)
        .key_prefix("capped")
        .build()
        .expect("valid fleet settings");
    let breaker = CircuitBreaker::builder("call_capped")
        .on_transition(fleet.listener())
        .build()
        .expect("valid breaker settings");
    let handle = fleet.start(breaker);
    eventually("connected", || handle.status().connected).await;
    tokio::time::sleep(support::HEARTBEAT * 4).await;
    let log = captured.text();
    assert_eq!(log.matches(CAPPED).count(), 0, "one replica of one: {log}");
    // A second live id, forever: two live replicas, one read, at every heartbeat.
    redis.command(&["ZADD", "capped:call_capped:live", "99999999999999", "other"]);
    tokio::time::sleep(support::HEARTBEAT * 6).await;
    let log = captured.text();
    assert_eq!(log.matches(CAPPED).count(), 1, "said once: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_task_stops_is_no_longer_live() {
    let redis = RedisServer::start();
    let mut replicas = fleet_of(&redis, 3, 1, "stopping");
    all_live(&replicas).await;
    drop(replicas.pop());
    eventually("the others count two live replicas", || {
        replicas.iter().all(|r| r.fleet.status().replicas_live == 2)
    })
    .await;
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
