//! Service B over real HTTP: `run` on `127.0.0.1:0`, called with reqwest.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use service_b::{Config, FAILURE_BODY, SUCCESS_BODY};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Short enough to keep the suite fast, long enough to measure.
const FAIL_DELAY: Duration = Duration::from_millis(100);
/// Upper bound on anything a test waits for, so a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(5);

struct Server {
    base: String,
    client: Client,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<service_b::Stopped>>,
}

impl Server {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address: SocketAddr = listener.local_addr().expect("local address");
        let config = Config {
            listen: address,
            fail_delay: FAIL_DELAY,
            ..Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(service_b::run(listener, config, async {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{address}"),
            client: Client::new(),
            stop,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let (status, body) = self.get(path).await;
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}")),
        )
    }

    async fn post_mode(&self, body: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/mode"))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let body = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|err| panic!("{err}: {body}")),
        )
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let result = tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("run ends after shutdown")
            .expect("run did not panic");
        result.expect("run ends cleanly");
    }
}

/// `/stats` after `api_calls` calls made one at a time, `failed` of them answered 500, and
/// none through the capacity mode.
fn stats_one_at_a_time(api_calls: u64, failed: u64) -> Value {
    json!({
        "api_calls": api_calls, "failed": failed,
        "in_flight": 0,
        "max_in_flight": 1,
        "capacity": { "served": 0, "queued": 0, "refused": 0, "waiting": 0 }
    })
}

#[tokio::test]
async fn answers_the_article_contract_over_http() {
    let server = Server::start().await;

    assert_eq!(
        server.get("/api").await,
        (StatusCode::OK, SUCCESS_BODY.to_owned())
    );
    assert_eq!(
        server.get("/api?fail=false").await,
        (StatusCode::OK, SUCCESS_BODY.to_owned())
    );

    let started = Instant::now();
    let response = server
        .client
        .get(server.url("/api"))
        .query(&[("fail", "true")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(response.text().await.expect("body"), FAILURE_BODY);
    assert!(
        started.elapsed() >= FAIL_DELAY,
        "answered after {:?}",
        started.elapsed()
    );

    assert_eq!(
        server.get_json("/health").await,
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    assert_eq!(
        server.get_json("/stats").await,
        (StatusCode::OK, stats_one_at_a_time(3, 1))
    );
    server.stop().await;
}

#[tokio::test]
async fn mode_switches_the_outcome_without_changing_the_url() {
    let server = Server::start().await;

    let (status, body) = server
        .post_mode(r#"{"mode":"fail","delay":"10ms","for":"1m"}"#)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["mode"], "fail");
    assert_eq!(body["delay_ms"], 10);
    assert!(
        body["remaining_ms"].as_u64().is_some_and(|ms| ms > 50_000),
        "{body}"
    );

    assert_eq!(
        server.get("/api?fail=false").await,
        (StatusCode::INTERNAL_SERVER_ERROR, FAILURE_BODY.to_owned())
    );
    let (_, mode) = server.get_json("/mode").await;
    assert_eq!(mode["mode"], "fail");

    let (status, body) = server.post_mode(r#"{"mode":"healthy"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "mode": "healthy", "delay_ms": null, "remaining_ms": null })
    );
    assert_eq!(
        server.get("/api?fail=false").await,
        (StatusCode::OK, SUCCESS_BODY.to_owned())
    );

    assert_eq!(server.get_json("/stats").await.1, stats_one_at_a_time(2, 1));
    server.stop().await;
}

#[tokio::test]
async fn keeps_serving_after_bad_requests() {
    let server = Server::start().await;

    let (status, body) = server.get_json("/api?fail=%zz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("%zz")),
        "{body}"
    );

    let (status, body) = server.post_mode(r#"{"mode":"sideways"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("`mode`")),
        "{body}"
    );

    let (status, body) = server.post_mode("not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");

    let (status, body) = server.post_mode(r#"{"mode":"slow","delay":"fast"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("`delay`")),
        "{body}"
    );

    assert_eq!(
        server.get("/api").await,
        (StatusCode::OK, SUCCESS_BODY.to_owned())
    );
    assert_eq!(server.get_json("/mode").await.1["mode"], "healthy");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_finishes_the_call_in_flight_then_ends_run() {
    let server = Server::start().await;

    let in_flight = {
        let request = server.client.get(server.url("/api?fail=true")).send();
        tokio::spawn(async move {
            let response = request.await.expect("answered despite shutdown");
            (response.status(), response.text().await.expect("body"))
        })
    };
    // Shut down only once the call has reached the server and is waiting out its delay.
    tokio::time::timeout(PATIENCE, async {
        while server.get_json("/stats").await.1["api_calls"] != 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the call reaches the server");

    let base = server.base.clone();
    server.stop().await;
    assert_eq!(
        in_flight.await.expect("task"),
        (StatusCode::INTERNAL_SERVER_ERROR, FAILURE_BODY.to_owned())
    );
    assert!(
        Client::new()
            .get(format!("{base}/health"))
            .send()
            .await
            .is_err(),
        "still listening"
    );
}
