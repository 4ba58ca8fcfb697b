//! The production profile's layers over real HTTP: real service B, real service A, on loopback.
//!
//! A's backoffs have no jitter here (a retry follows at once), so no test waits on chance; the
//! backoff schedule itself is tested on a paused clock in `src/upstream/stack.rs`.

mod support;

use reqwest::{Client, StatusCode};
use serde_json::json;
use support::fake_b::{Answer, FakeB};
use support::{ServiceA, ServiceB, config_with, get_text};

const PRODUCTION: &[&str] = &["--profile", "production"];

fn flags<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    PRODUCTION
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

async fn production_a(b: &ServiceB, extra: &[&str]) -> ServiceA {
    ServiceA::with_config(config_with(&b.base(), &flags(extra))).await
}

#[tokio::test]
async fn a_503_is_retried_and_every_attempt_reaches_b() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"flaky","failure_rate":1}"#).await;
    let a = production_a(&b, &[]).await;

    assert_eq!(
        a.error_message("/call").await,
        format!("503 Service Unavailable for url: {}/api", b.base())
    );
    assert_eq!(b.api_calls().await, 3, "--retry-attempts 3: three attempts");
    let breaker = a.breaker().await;
    assert_eq!(breaker["layers"]["retry"]["retries"], 2);
    assert_eq!(
        breaker["calls"]["failed"], 3,
        "the breaker saw every attempt"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn two_transient_503s_are_retried_into_a_success() {
    let fake = FakeB::start(Answer::FailFirst {
        failures: 2,
        status: 503,
    })
    .await;
    let a = ServiceA::with_config(config_with(&fake.base(), PRODUCTION)).await;
    assert_eq!(
        a.get("/call").await,
        (
            StatusCode::OK,
            json!({"status": "success", "data": "fake B: ok"})
        )
    );
    assert_eq!(fake.requests(), 3);
    let breaker = a.breaker().await;
    assert_eq!(breaker["calls"]["failed"], 2);
    assert_eq!(breaker["calls"]["successful"], 1);
    a.stop().await;
}

#[tokio::test]
async fn bs_deterministic_500_and_a_4xx_are_not_retried() {
    let b = ServiceB::start().await;
    let a = production_a(&b, &[]).await;
    a.error_message("/call?fail=true").await;
    assert_eq!(b.api_calls().await, 1, "a 500 is not retried");

    let fake = FakeB::start(Answer::Status(400)).await;
    let a4 = ServiceA::with_config(config_with(&fake.base(), PRODUCTION)).await;
    assert_eq!(
        a4.error_message("/call").await,
        format!("400 Bad Request for url: {}/api", fake.base())
    );
    assert_eq!(fake.requests(), 1, "a 4xx is not retried");
    assert_eq!(a.breaker().await["layers"]["retry"]["retries"], 0);
    a.stop().await;
    a4.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_rejection_is_not_retried_and_retries_stop_when_the_circuit_opens() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"flaky","failure_rate":1}"#).await;
    // The article's breaker (3 consecutive failures) with the production retries.
    let a = ServiceA::with_config(config_with(&b.base(), &["--retry-attempts", "3"])).await;

    a.error_message("/call").await;
    assert_eq!(b.api_calls().await, 3);
    assert_eq!(a.breaker().await["state"], "open");

    let message = a.error_message("/call").await;
    assert!(
        message.starts_with("Circuit \"call_service_b\" OPEN until "),
        "{message}"
    );
    assert_eq!(b.api_calls().await, 3, "the rejection reached no one");
    assert_eq!(a.breaker().await["layers"]["retry"]["retries"], 2);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_unreachable_b_is_retried_naming_the_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let a =
        ServiceA::with_config(config_with(&format!("http://127.0.0.1:{port}"), PRODUCTION)).await;
    let message = a.error_message("/call").await;
    // The innermost cause, not reqwest's "error sending request", which repeats the URL.
    assert!(
        message.starts_with(&format!(
            "could not connect to http://127.0.0.1:{port}/api: "
        )) && message.ends_with("Connection refused (os error 111)"),
        "{message}"
    );
    let breaker = a.breaker().await;
    assert_eq!(breaker["layers"]["retry"]["retries"], 2);
    assert_eq!(breaker["calls"]["failed"], 3);
    a.stop().await;
}

#[tokio::test]
async fn each_attempt_times_out_on_its_own_and_is_retried() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"1s"}"#).await;
    let a = production_a(&b, &["--request-timeout", "200ms"]).await;

    assert_eq!(
        a.error_message("/call").await,
        format!("timed out after 200ms calling {}/api", b.base())
    );
    assert_eq!(b.api_calls().await, 3);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_deadline_ends_the_call_whatever_the_attempts_still_allow() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"2s"}"#).await;
    let a = production_a(
        &b,
        &["--request-timeout", "300ms", "--call-deadline", "500ms"],
    )
    .await;

    // The first attempt times out at 300 ms; the second is cut by the deadline at 500 ms.
    assert_eq!(
        a.error_message("/call").await,
        format!("call deadline of 500ms exceeded calling {}/api", b.base())
    );
    assert_eq!(b.api_calls().await, 2);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_call_beyond_the_bulkhead_is_refused_with_a_503_without_reaching_b() {
    let b = ServiceB::start().await;
    // Long enough that the third call surely comes while the first two are with B.
    b.set_mode(r#"{"mode":"slow","delay":"1s"}"#).await;
    let a = production_a(&b, &["--max-concurrent", "2"]).await;

    let client = Client::new();
    let admitted: Vec<_> = (0..2)
        .map(|_| {
            let (client, url) = (client.clone(), a.url("/call"));
            tokio::spawn(async move { get_text(&client, &url).await })
        })
        .collect();
    b.wait_for_in_flight(2).await;

    assert_eq!(
        a.get("/call").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "error",
                "message": "bulkhead full: 2 calls to service B already in flight"
            })
        )
    );
    assert_eq!(a.breaker().await["layers"]["bulkhead"]["in_flight"], 2);
    for call in admitted {
        let (status, body) = call.await.expect("no panic");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(b.api_calls().await, 2, "the refused call never reached B");
    let breaker = a.breaker().await;
    assert_eq!(breaker["calls"]["ignored"], 1, "says nothing about B");
    assert_eq!(breaker["calls"]["successful"], 2);
    assert_eq!(breaker["layers"]["bulkhead"]["rejected"], 1);
    assert_eq!(breaker["layers"]["bulkhead"]["in_flight"], 0);
    assert_eq!(breaker["layers"]["retry"]["retries"], 0, "not retried");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_slow_b_opens_the_circuit_through_the_slow_call_rate() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"150ms"}"#).await;
    // The breaker measures calls on the real clock here; 150 ms is over the 50 ms threshold
    // however the machine is loaded.
    let config = config_with(
        &b.base(),
        &flags(&["--slow-call-threshold", "50ms", "--minimum-calls", "4"]),
    );
    let a = ServiceA::with_real_clock(config).await;

    for _ in 0..4 {
        assert_eq!(a.get("/call").await.0, StatusCode::OK, "slow, but answered");
    }
    let breaker = a.breaker().await;
    assert_eq!(breaker["state"], "open", "{breaker}");
    assert_eq!(breaker["calls"]["slow"], 4);
    assert_eq!(breaker["calls"]["failed"], 0);

    let message = a.error_message("/call").await;
    assert!(
        message.starts_with("Circuit \"call_service_b\" OPEN until "),
        "{message}"
    );
    assert_eq!(b.api_calls().await, 4);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_breaker_endpoint_shows_the_production_profile() {
    let b = ServiceB::start().await;
    let a = production_a(&b, &[]).await;
    let breaker = a.breaker().await;
    assert_eq!(breaker["profile"], "production");
    assert_eq!(breaker["config"]["failure_threshold"], json!(null));
    assert_eq!(breaker["config"]["failure_rate_threshold"], 50.0);
    assert_eq!(breaker["layers"]["deadline"]["call_deadline_ms"], 5000);
    assert_eq!(breaker["layers"]["bulkhead"]["max_concurrent"], 32);
    assert_eq!(breaker["layers"]["attempt"]["request_timeout_ms"], 3000);
    a.stop().await;
    b.stop().await;
}
