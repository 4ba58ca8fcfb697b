//! The dashboard over real HTTP on loopback: the page and its policy, the event stream's
//! contract, and its bounds (a client that never reads, the cap on streams, a disconnect,
//! shutdown).

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use service_a::dashboard::{BUFFER, CONTENT_SECURITY_POLICY_VALUE};
use support::events::Events;
use support::{PATIENCE, ServiceA, ServiceB, config_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

#[tokio::test]
async fn the_page_and_its_files_are_served_under_a_strict_content_security_policy() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let client = reqwest::Client::new();
    let page = client.get(a.url("/")).send().await.expect("answered");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY_VALUE
    );
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.expect("body");
    assert!(html.contains(r#"<script type="module" src="/dashboard/main.js">"#));
    assert!(!html.contains("<script>"), "no inline script");
    for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(
            !html.contains(remote),
            "the page loads nothing from elsewhere"
        );
    }

    for (file, content_type) in [
        ("main.js", "text/javascript; charset=utf-8"),
        ("state.js", "text/javascript; charset=utf-8"),
        ("chart.js", "text/javascript; charset=utf-8"),
        ("timeline.js", "text/javascript; charset=utf-8"),
        ("calls.js", "text/javascript; charset=utf-8"),
        ("admin.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let answer = client
            .get(a.url(&format!("/dashboard/{file}")))
            .send()
            .await
            .expect("answered");
        assert_eq!(answer.status(), StatusCode::OK, "{file}");
        assert_eq!(answer.headers()["content-type"], content_type, "{file}");
        assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    }
    let (status, message) = a.error("/dashboard/secrets.txt").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{message}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_stream_replays_the_transitions_then_follows_the_circuit_through_the_article() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    for _ in 0..3 {
        a.error_message("/call?fail=true").await;
    }

    // Opened late: the opening is replayed, then a snapshot says where the circuit stands.
    let mut events = Events::open(&a.url("/events")).await;
    let opened = events.next_named("transition").await;
    assert_eq!(opened["from"], "closed");
    assert_eq!(opened["to"], "open");
    assert_eq!(opened["reason"], "3 consecutive failures");
    assert!(opened["at"].as_str().is_some_and(|at| at.ends_with('Z')));
    let snapshot = events.next_named("snapshot").await;
    assert_eq!(snapshot["state"], "open");
    assert_eq!(snapshot["remaining_seconds"], 10.0);
    assert_eq!(
        snapshot["calls"],
        json!({"successful": 0, "failed": 3, "slow": 0, "ignored": 0, "rejected": 0})
    );
    assert_eq!(snapshot["failure_rate"], 100.0);
    assert_eq!(snapshot["failure_count"], 3);
    assert_eq!(snapshot["transitions"], 1);

    // The recovery timeout passes: the next snapshot sees HalfOpen, and the transition comes.
    a.clock.advance(Duration::from_secs(10));
    assert_eq!(
        events.next_named("transition").await["reason"],
        "recovery timeout elapsed"
    );
    a.get("/call").await;
    let closed = events.next_named("transition").await;
    assert_eq!(
        (
            closed["from"].clone(),
            closed["to"].clone(),
            closed["reason"].clone()
        ),
        (
            json!("half_open"),
            json!("closed"),
            json!("half-open probe succeeded")
        )
    );
    let snapshot = events.snapshot_in("closed").await;
    assert_eq!(snapshot["remaining_seconds"], json!(null));
    assert_eq!(snapshot["calls"]["successful"], 1);
    a.stop().await;
    b.stop().await;
}

/// The client never reads: the server stops writing to it when the socket is full, the shared
/// channel stays at its bound while the breaker changes state 200,000 times, and when the client
/// reads at last every transition is accounted for: sent to it, or counted in a `lagged` event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_costs_the_bounded_buffer_and_later_learns_what_it_missed() {
    const TRANSITIONS: u64 = 200_000;
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let hub = a.state.events().clone();
    let breaker = a.state.breaker().expect("on").clone();

    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small buffer");
    let mut stalled = socket.connect(a.address()).await.expect("connects");
    stalled
        .write_all(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("sends");
    wait_until("the stream is open", || hub.open_streams() == 1).await;

    let flood = tokio::task::spawn_blocking(move || {
        for _ in 0..TRANSITIONS / 2 {
            breaker.force_open();
            breaker.reset();
        }
    });
    tokio::time::timeout(PATIENCE * 6, flood)
        .await
        .expect("200,000 transitions in time")
        .expect("no panic");
    assert!(hub.queued() <= BUFFER, "{} queued", hub.queued());
    assert_eq!(hub.open_streams(), 1);

    let tally = read_until_accounted(&mut stalled, TRANSITIONS).await;
    println!("of {TRANSITIONS} transitions: {tally:?}");
    assert!(tally.missed > 0, "{tally:?}");
    assert!(
        tally.snapshot_after_lag,
        "a snapshot follows a lag: {tally:?}"
    );
    assert_eq!(
        hub.lagged(),
        tally.missed,
        "the hub counts what the stream skipped"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn streams_are_capped_and_a_client_that_leaves_frees_its_slot() {
    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(&b.base(), &["--max-event-streams", "2"])).await;
    let mut first = Events::open(&a.url("/events")).await;
    let mut second = Events::open(&a.url("/events")).await;
    first.next_named("snapshot").await;
    second.next_named("snapshot").await;

    let (status, message) = a.error("/events").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        message,
        "too many event streams: at most 2 at once; close a dashboard tab and try again"
    );

    drop(first);
    // The server notices when it next writes to the closed connection: a snapshot a second.
    let hub = a.state.events().clone();
    wait_until("the slot is freed", || hub.open_streams() == 1).await;
    let mut third = Events::open(&a.url("/events")).await;
    assert_eq!(third.next_named("snapshot").await["state"], "closed");
    a.stop().await;
    b.stop().await;
}

/// Without ending its streams, the server would wait out the minute of shutdown grace and the
/// stop would fail its bounded wait.
#[tokio::test]
async fn shutdown_ends_every_stream() {
    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(&b.base(), &["--shutdown-grace", "1m"])).await;
    let mut events = Events::open(&a.url("/events")).await;
    events.next_named("snapshot").await;
    a.stop().await;
    while let Some(event) = events.next().await {
        assert_eq!(event.name, "snapshot", "{event:?}");
    }
    b.stop().await;
}

#[tokio::test]
async fn without_a_breaker_there_is_no_stream() {
    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(&b.base(), &["--no-breaker"])).await;
    let (status, message) = a.error("/events").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(message, "the circuit breaker is off (--no-breaker)");
    a.stop().await;
    b.stop().await;
}

/// Polls `condition` until it holds, for at most the patience.
async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// What a raw event stream delivered.
#[derive(Debug, Default)]
struct Tally {
    /// `transition` events received.
    delivered: u64,
    /// The sum of the `lagged` events' `missed`.
    missed: u64,
    /// Whether a snapshot came after a `lagged` event.
    snapshot_after_lag: bool,
}

/// Reads the raw stream (HTTP head, chunk sizes and all) until `transitions` are accounted for,
/// within six times the patience and 64 MiB.
async fn read_until_accounted(stream: &mut tokio::net::TcpStream, transitions: u64) -> Tally {
    let mut tally = Tally::default();
    let mut pending = String::new();
    let mut buffer = vec![0; 64 * 1024];
    let mut total = 0;
    let mut lagged_last = false;
    let deadline = tokio::time::Instant::now() + PATIENCE * 6;
    while tally.delivered + tally.missed < transitions {
        let read = tokio::time::timeout_at(deadline, stream.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("not every transition accounted for in time: {tally:?}"))
            .expect("reads");
        assert!(read > 0, "the stream ended: {tally:?}");
        total += read;
        assert!(total < 64 << 20, "64 MiB read: {tally:?}");
        pending.push_str(std::str::from_utf8(&buffer[..read]).expect("UTF-8"));
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            if block.contains("event: transition\n") {
                tally.delivered += 1;
            } else if block.contains("event: snapshot\n") {
                tally.snapshot_after_lag |= lagged_last;
            } else if let Some(data) = block.split("event: lagged\ndata: ").nth(1) {
                let data: serde_json::Value = serde_json::from_str(data.trim_end()).expect("JSON");
                tally.missed += data["missed"].as_u64().expect("a count");
            }
            lagged_last = block.contains("event: lagged\n");
        }
    }
    tally
}
