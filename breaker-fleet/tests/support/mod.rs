//! A real `redis-server` on a free loopback port, stopped with the test; replicas of a fleet
//! around it; and waiting, bounded, for what the test expects.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use breaker::{CircuitBreaker, State};
use breaker_fleet::{Fleet, FleetBuilder, FleetHandle};

/// The longest any wait in these tests may last before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Debian's `redis-server`, started on a port of its own, killed when dropped.
pub(crate) struct RedisServer {
    child: Option<Child>,
    pub(crate) port: u16,
    password: Option<String>,
}

impl RedisServer {
    /// A fresh server. Panics (the test fails) when `redis-server` is missing: with the
    /// `redis-tests` feature on, a missing Redis is a failure, never a skip.
    pub(crate) fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// A fresh server that asks for `password`.
    pub(crate) fn with_password(password: &str) -> Self {
        Self::start_on(free_port(), Some(password.to_owned()))
    }

    fn start_on(port: u16, password: Option<String>) -> Self {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &password {
            command.args(["--requirepass", password]);
        }
        let child = command.spawn().unwrap_or_else(|err| {
            panic!(
                "redis-server could not start ({err}): install it (apt-get install redis-server); \
                 the redis-tests feature needs it"
            )
        });
        let server = Self {
            child: Some(child),
            port,
            password,
        };
        server.wait_answering();
        server
    }

    /// `redis://127.0.0.1:PORT`, with the password when there is one.
    pub(crate) fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let mut command = Command::new("redis-cli");
        command.args(["-p", &self.port.to_string(), "--no-auth-warning"]);
        if let Some(password) = &self.password {
            command.args(["-a", password]);
        }
        let output = command.args(args).output().expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Runs a command with `redis-cli`, for the tests' own writes.
    pub(crate) fn command(&self, args: &[&str]) -> String {
        self.cli(args)
    }

    fn wait_answering(&self) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while self.cli(&["PING"]) != "PONG" {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server never answered PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP: the server keeps its connections and answers nothing.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT.
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Kills the server, then starts a fresh one on the same port.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let fresh = Self::start_on(self.port, self.password.clone());
        self.child = fresh.take();
    }

    /// Kills the server.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn take(mut self) -> Option<Child> {
        self.child.take()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server would not die of SIGTERM; SIGKILL works on it, and SIGCONT
            // first lets nothing run.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// One replica: a breaker with the article's rules on a short recovery timeout, and its fleet.
pub(crate) struct Replica {
    pub(crate) breaker: CircuitBreaker,
    pub(crate) fleet: FleetHandle,
}

/// Heartbeat of the tests' fleets: short, so the tests are quick.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(50);

/// The tests' fleet settings for replica `id` on `url`: `quorum`, a short heartbeat and Redis
/// timeout, a lease of 2 s, keys under `prefix`.
pub(crate) fn settings(url: &str, id: &str, quorum: u32, prefix: &str) -> FleetBuilder {
    Fleet::builder(url, id)
        .quorum(quorum)
        .heartbeat(HEARTBEAT)
        .redis_timeout(Duration::from_millis(40))
        .probe_lease(Duration::from_secs(2))
        .key_prefix(prefix)
}

/// Replica `id` on `url`, with `quorum`, a failure threshold of 3 and `recovery`.
pub(crate) fn replica(
    url: &str,
    id: &str,
    quorum: u32,
    recovery: Duration,
    prefix: &str,
) -> Replica {
    replica_of(settings(url, id, quorum, prefix), recovery, prefix)
}

/// A replica of `settings` (keys under `prefix`), with a failure threshold of 3 and `recovery`.
pub(crate) fn replica_of(settings: FleetBuilder, recovery: Duration, prefix: &str) -> Replica {
    let fleet = settings.build().expect("valid fleet settings");
    let breaker = CircuitBreaker::builder(format!("call_{prefix}"))
        .failure_threshold(3)
        .recovery_timeout(recovery)
        .on_transition(fleet.listener())
        .build()
        .expect("valid breaker settings");
    let fleet = fleet.start(breaker.clone());
    Replica { breaker, fleet }
}

/// Waits, at most `PATIENCE`, until `replica`'s breaker is in `state`; `what` names the wait.
pub(crate) async fn eventually_in(replica: &Replica, state: State, what: &str) {
    eventually(what, || replica.breaker.state() == state).await;
}

/// Whether every replica's breaker is in `state`.
pub(crate) fn all_in(replicas: &[Replica], state: State) -> bool {
    replicas.iter().all(|r| r.breaker.state() == state)
}

/// Waits, a few milliseconds at a time and at most [`PATIENCE`], until `condition` holds;
/// fails naming `what` otherwise.
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
