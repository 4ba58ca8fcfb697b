//! Real service B and real service A on `127.0.0.1:0`, and a client for both.
//!
//! A's breaker reads a [`ManualClock`] whose wall-clock origin is fixed, so rejection texts are
//! exact and the recovery timeout passes when a test says so, never by sleeping.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different part of this module

pub mod events;
pub mod fake_b;

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use breaker::{Clock, ManualClock, MonotonicClock};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::Value;
use service_a::upstream::Jitter;
use service_a::{AppState, Config, Settings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long B's `/api?fail=true` waits before its 500: short for a fast suite, long enough that
/// concurrent calls overlap.
pub const FAIL_DELAY: Duration = Duration::from_millis(100);
/// Upper bound on anything a test waits for, so a bug fails the test instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(5);
/// A's breaker's clock starts at 2026-11-26 16:56:35.622681 UTC...
pub const WALL_ORIGIN_MICROS: u64 = 1_795_712_195_622_681;
/// ...so a circuit opened at once stays open until this, with the default 10 s recovery.
pub const OPEN_UNTIL: &str = "2026-11-26 16:56:45.622681+00:00";

/// A server started by `run` on loopback, stoppable.
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<service_kit::server::Stopped>>,
}

/// What stops a server: the sender's message, or its drop.
type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Running {
    /// Spawns `serve`, listening on `address`, until [`Running::stop`].
    fn spawn<F>(address: SocketAddr, serve: impl FnOnce(Shutdown) -> F) -> Self
    where
        F: Future<Output = std::io::Result<service_kit::server::Stopped>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = Box::pin(async {
            let _ = stopped.await;
        });
        Self {
            address,
            stop,
            task: tokio::spawn(serve(shutdown)),
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("run ends after shutdown")
            .expect("run did not panic")
            .expect("run ends cleanly");
    }
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("local address");
    (listener, address)
}

/// Real service B.
pub struct ServiceB {
    running: Running,
    client: Client,
}

impl ServiceB {
    /// B whose `/api?fail=true` answers 500 after [`FAIL_DELAY`].
    pub async fn start() -> Self {
        Self::with_fail_delay(FAIL_DELAY).await
    }

    /// B whose `/api?fail=true` answers 500 after `fail_delay`.
    pub async fn with_fail_delay(fail_delay: Duration) -> Self {
        let (listener, address) = bind().await;
        let config = service_b::Config {
            listen: address,
            fail_delay,
            ..service_b::Config::default()
        };
        Self {
            running: Running::spawn(address, |shutdown| {
                service_b::run(listener, config, shutdown)
            }),
            client: Client::new(),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.running.address)
    }

    /// How many `/api` calls B received so far.
    pub async fn api_calls(&self) -> u64 {
        self.stat("api_calls").await
    }

    /// One number of B's `/stats`.
    pub async fn stat(&self, name: &str) -> u64 {
        let stats = self.stats().await;
        stats[name]
            .as_u64()
            .unwrap_or_else(|| panic!("no {name} in {stats}"))
    }

    /// Waits (bounded) until B is serving no `/api` call.
    pub async fn wait_until_idle(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.stat("in_flight").await > 0 {
            assert!(tokio::time::Instant::now() < deadline, "B never went idle");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits (bounded) until B is serving `calls` `/api` calls at once.
    pub async fn wait_for_in_flight(&self, calls: u64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.stat("in_flight").await < calls {
            assert!(
                tokio::time::Instant::now() < deadline,
                "B never had {calls} calls in flight"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// B's `GET /stats`.
    pub async fn stats(&self) -> Value {
        let response = self
            .client
            .get(format!("{}/stats", self.base()))
            .send()
            .await
            .expect("B answers /stats");
        let body = response.text().await.expect("stats body");
        serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}"))
    }

    /// B's `POST /mode` with `body`, e.g. `{"mode":"slow","delay":"1s"}`.
    pub async fn set_mode(&self, body: &str) {
        let response = self
            .client
            .post(format!("{}/mode", self.base()))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("B answers /mode");
        assert_eq!(response.status(), StatusCode::OK, "mode {body}");
    }

    /// Waits (bounded) until B has received `calls` `/api` calls in all.
    pub async fn wait_for_api_calls(&self, calls: u64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.api_calls().await < calls {
            assert!(
                tokio::time::Instant::now() < deadline,
                "B never received {calls} calls"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// A configuration of A calling `service_b_url`, with the article's breaker settings.
pub fn config_for(service_b_url: &str) -> Config {
    config_with(service_b_url, &[])
}

/// A configuration of A calling `service_b_url`, with `flags`. Tests may change it before
/// [`checked`] checks it, as the command line is.
pub fn config_with(service_b_url: &str, flags: &[&str]) -> Config {
    let args = ["service-a", "--service-b-url", service_b_url]
        .into_iter()
        .chain(flags.iter().copied());
    let settings = Config::try_parse_checked_from(args)
        .unwrap_or_else(|err| panic!("invalid test configuration {flags:?}: {err}"));
    settings.config().clone()
}

/// `config` checked as the command line is.
pub fn checked(config: Config) -> Settings {
    Settings::check(config).unwrap_or_else(|err| panic!("invalid test configuration: {err}"))
}

/// Real service A, its breaker on a [`ManualClock`].
pub struct ServiceA {
    running: Running,
    client: Client,
    /// The breaker's clock: advance it to let the recovery timeout pass.
    pub clock: ManualClock,
    /// The state A serves, for looking at the breaker directly.
    pub state: AppState,
}

impl ServiceA {
    /// A calling `b` with the article's settings.
    pub async fn start(b: &ServiceB) -> Self {
        Self::with_config(config_for(&b.base())).await
    }

    /// A with `config` (its `listen` is ignored: A binds `127.0.0.1:0`).
    pub async fn with_config(config: Config) -> Self {
        let clock = ManualClock::with_wall_origin(
            SystemTime::UNIX_EPOCH + Duration::from_micros(WALL_ORIGIN_MICROS),
        );
        Self::serve(&checked(config), clock.clone(), clock).await
    }

    /// A with `config` whose breaker reads the real monotonic clock, for slow calls (the
    /// `clock` field is then unused).
    pub async fn with_real_clock(config: Config) -> Self {
        Self::serve(&checked(config), MonotonicClock::new(), ManualClock::new()).await
    }

    async fn serve(settings: &Settings, breaker_clock: impl Clock, clock: ManualClock) -> Self {
        // No jitter: a retry follows at once, so tests wait on nothing random.
        let state = AppState::with_parts(settings, breaker_clock, Jitter::fixed(0.0))
            .expect("state builds");
        let (listener, address) = bind().await;
        let running = Running::spawn(address, |shutdown| {
            service_a::run(listener, state.clone(), settings.config().server, shutdown)
        });
        Self {
            running,
            client: Client::new(),
            clock,
            state,
        }
    }

    /// `http://127.0.0.1:<port><path_and_query>`, the query sent exactly as written.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.running.address)
    }

    /// `GET` and the raw answer.
    pub async fn get_text(&self, path_and_query: &str) -> (StatusCode, String) {
        get_text(&self.client, &self.url(path_and_query)).await
    }

    /// `GET` and the JSON answer.
    pub async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path_and_query).await
    }

    /// A request with `method` and no body, and the JSON answer.
    pub async fn send(&self, method: Method, path_and_query: &str) -> (StatusCode, Value) {
        let url = self.url(path_and_query);
        let (status, body) = answer_text(self.client.request(method, &url), &url).await;
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("{path_and_query}: {err}: {body}"));
        (status, json)
    }

    /// `GET` and the `message` of a 500 error answer.
    pub async fn error_message(&self, path_and_query: &str) -> String {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["status"], "error", "{body}");
        body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {body}"))
            .to_owned()
    }

    /// `GET` and the status and `message` of an error answer.
    pub async fn error(&self, path_and_query: &str) -> (StatusCode, String) {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(body["status"], "error", "{body}");
        let message = body["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {body}"));
        (status, message.to_owned())
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.running.address)
    }

    /// The address A listens on.
    pub fn address(&self) -> SocketAddr {
        self.running.address
    }

    /// `GET /breaker`.
    pub async fn breaker(&self) -> Value {
        let (status, body) = self.get("/breaker").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// `GET url` with `client`, answered within [`PATIENCE`].
pub async fn get_text(client: &Client, url: &str) -> (StatusCode, String) {
    answer_text(client.get(url), url).await
}

/// The answer to `request` for `url`, within [`PATIENCE`].
async fn answer_text(request: RequestBuilder, url: &str) -> (StatusCode, String) {
    let response = tokio::time::timeout(PATIENCE, request.send())
        .await
        .unwrap_or_else(|_| panic!("{url} unanswered after {PATIENCE:?}"))
        .expect("request sent");
    let status = response.status();
    (status, response.text().await.expect("body"))
}
