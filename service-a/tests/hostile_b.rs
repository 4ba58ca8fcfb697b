//! A backend that misbehaves: answers too big, redirects, "too many requests", and clients that
//! hang up during a half-open probe. Service A must hold up and keep its promises.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::fake_b::{Answer, FakeB};
use support::{PATIENCE, ServiceA, ServiceB, config_for, config_with};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap_and_never_cached() {
    let fake = FakeB::start(Answer::Stream(64 * MIB)).await;
    let a = ServiceA::with_config(config_for(&fake.base())).await;

    assert_eq!(
        a.error_message("/call").await,
        "response from service B exceeds 1048576 bytes"
    );
    assert_eq!(
        a.get("/call-fallback").await,
        (
            StatusCode::OK,
            json!({"status": "degraded", "data": "cached_data"})
        ),
        "the fallback never serves a body over the cap"
    );
    // A stopped reading and hung up: what the fake got out is the cap plus what the kernel's
    // socket buffers held, far from the 64 MiB it had to send (twice, for the two calls).
    let sent = wait_for_the_fake_to_stop(&fake).await;
    assert!(sent < 32 * MIB, "B got {sent} bytes out");
    let breaker = a.breaker().await;
    assert_eq!(
        breaker["calls"]["failed"], 2,
        "an answer too big is a failure"
    );
    assert_eq!(
        breaker["last_failure"],
        "response from service B exceeds 1048576 bytes"
    );
    a.stop().await;
}

#[tokio::test]
async fn the_cap_is_the_flag_and_a_declared_length_over_it_fails_before_reading() {
    let fake = FakeB::start(Answer::Declares(2 * MIB)).await;
    let a =
        ServiceA::with_config(config_with(&fake.base(), &["--max-response-bytes", "1000"])).await;
    assert_eq!(
        a.error_message("/call").await,
        "response from service B exceeds 1000 bytes"
    );
    assert_eq!(fake.body_bytes_sent(), 0);

    let streaming = FakeB::start(Answer::Stream(1001)).await;
    let a2 = ServiceA::with_config(config_with(
        &streaming.base(),
        &["--max-response-bytes", "1000"],
    ))
    .await;
    assert_eq!(
        a2.error_message("/call").await,
        "response from service B exceeds 1000 bytes",
        "one byte over"
    );
    a.stop().await;
    a2.stop().await;
}

#[tokio::test]
async fn a_body_at_the_cap_is_an_answer_whether_its_length_is_declared_or_not() {
    for answer in [Answer::Stream(1000), Answer::Sized(1000)] {
        let fake = FakeB::start(answer.clone()).await;
        let a = ServiceA::with_config(config_with(&fake.base(), &["--max-response-bytes", "1000"]))
            .await;
        let (status, body) = a.get("/call").await;
        assert_eq!(status, StatusCode::OK, "{answer:?}");
        assert_eq!(
            body["data"].as_str().map(str::len),
            Some(1000),
            "{answer:?}"
        );
        a.stop().await;
    }
}

#[tokio::test]
async fn a_redirect_loop_costs_one_request_to_b_and_fails_naming_the_status() {
    let fake = FakeB::start(Answer::Redirect("/api".to_owned())).await;
    let a = ServiceA::with_config(config_for(&fake.base())).await;

    assert_eq!(
        a.error_message("/call").await,
        format!("302 Found for url: {}/api", fake.base())
    );
    assert_eq!(fake.requests(), 1, "one client request, one request to B");
    assert_eq!(a.breaker().await["calls"]["failed"], 1);
    a.stop().await;
}

#[tokio::test]
async fn a_redirect_to_a_itself_is_not_followed() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let fake = FakeB::start(Answer::Redirect(format!("{}/health", a.base()))).await;
    let a2 = ServiceA::with_config(config_for(&fake.base())).await;

    let (status, message) = a2.error("/call").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(message, format!("302 Found for url: {}/api", fake.base()));
    assert_eq!(fake.requests(), 1);
    a.stop().await;
    a2.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn too_many_requests_opens_the_circuit() {
    let fake = FakeB::start(Answer::Status(429)).await;
    let a = ServiceA::with_config(config_for(&fake.base())).await;
    for _ in 0..3 {
        assert_eq!(
            a.error_message("/call").await,
            format!("429 Too Many Requests for url: {}/api", fake.base())
        );
    }
    assert_eq!(a.breaker().await["state"], "open");
    let message = a.error_message("/call").await;
    assert!(
        message.starts_with("Circuit \"call_service_b\" OPEN until "),
        "{message}"
    );
    assert_eq!(fake.requests(), 3);
    a.stop().await;
}

#[tokio::test]
async fn a_request_timeout_from_b_counts_against_it_but_other_4xx_do_not() {
    let fake = FakeB::start(Answer::Status(408)).await;
    let a = ServiceA::with_config(config_for(&fake.base())).await;
    a.error_message("/call").await;
    assert_eq!(a.breaker().await["calls"]["failed"], 1);

    let conflict = FakeB::start(Answer::Status(409)).await;
    let a2 = ServiceA::with_config(config_for(&conflict.base())).await;
    a2.error_message("/call").await;
    let calls = a2.breaker().await["calls"].clone();
    assert_eq!(
        (calls["failed"].clone(), calls["ignored"].clone()),
        (json!(0), json!(1))
    );
    a.stop().await;
    a2.stop().await;
}

#[tokio::test]
async fn ten_clients_hanging_up_in_one_half_open_episode_send_one_probe_to_b() {
    let b = ServiceB::start().await;
    // A's attempt timeout well beyond B's delay, B's delay well beyond ten clients' 1 s.
    let a = ServiceA::with_config(config_with(
        &b.base(),
        &["--half-open-max-calls", "1", "--request-timeout", "6s"],
    ))
    .await;
    for _ in 0..3 {
        a.error_message("/call?fail=true").await;
    }
    b.set_mode(r#"{"mode":"slow","delay":"3s"}"#).await;
    a.clock.advance(Duration::from_secs(10));
    assert_eq!(a.breaker().await["state"], "half_open");
    let before = b.api_calls().await;

    // One after the other, each client sends /call and hangs up 100 ms later, all while the
    // first one's probe is still with B.
    for _ in 0..10 {
        let mut client = TcpStream::connect(a.address()).await.expect("connect");
        client
            .write_all(b"GET /call HTTP/1.1\r\nhost: a\r\n\r\n")
            .await
            .expect("send");
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(client);
    }
    b.wait_until_idle().await;

    assert_eq!(b.api_calls().await - before, 1, "one probe reached B");
    assert_eq!(b.stat("max_in_flight").await, 1);
    let breaker = a.breaker().await;
    assert_eq!(breaker["calls"]["rejected"], 9);
    assert_eq!(
        breaker["state"], "closed",
        "the probe ran to its end though its client was gone, and its success closed the circuit"
    );
    a.stop().await;
    b.stop().await;
}

/// Clients that ask and hang up in a loop leave their calls to B running; as many may run as A
/// serves connections at once, and the next is refused at once, as a full bulkhead is.
#[tokio::test]
async fn calls_left_running_by_clients_that_hung_up_are_bounded_by_the_connection_cap() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"3s"}"#).await;
    let a = ServiceA::with_config(config_with(
        &b.base(),
        &["--max-connections", "1", "--request-timeout", "6s"],
    ))
    .await;
    let mut client = TcpStream::connect(a.address()).await.expect("connect");
    client
        .write_all(b"GET /call HTTP/1.1\r\nhost: a\r\n\r\n")
        .await
        .expect("send");
    b.wait_for_in_flight(1).await;
    drop(client);

    let (status, body) = a.get("/call").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["message"], "bulkhead full: 1 call to service B already in flight",
        "{body}"
    );
    assert_eq!(
        b.stat("max_in_flight").await,
        1,
        "B never saw the second call"
    );
    b.wait_until_idle().await;
    let (status, _) = a.get("/call").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the place is free once B has answered"
    );
    a.stop().await;
    b.stop().await;
}

/// Waits (bounded) until the fake's count of bytes sent stops growing; returns it.
async fn wait_for_the_fake_to_stop(fake: &FakeB) -> u64 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = fake.body_bytes_sent();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = fake.body_bytes_sent();
        if now == last {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "B kept sending");
        last = now;
    }
}
