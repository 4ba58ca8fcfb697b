//! The breaker in the path: opening, rejecting, probing, closing; and how it is observed.
//!
//! Time is A's `ManualClock`: the recovery timeout passes when a test advances it.

mod support;

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;
use support::{OPEN_UNTIL, ServiceA, ServiceB, get_text};

const RECOVERY: Duration = Duration::from_secs(10);

/// Three failing calls: the article's threshold.
async fn open_the_circuit(a: &ServiceA) {
    for _ in 0..3 {
        a.error_message("/call?fail=true").await;
    }
}

fn failure_text(b: &ServiceB, query: &str) -> String {
    format!("500 Internal Server Error for url: {}/api{query}", b.base())
}

#[tokio::test]
async fn after_three_failures_the_fourth_call_is_rejected_at_once_in_the_python_format() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    open_the_circuit(&a).await;

    // At once: B's call count below proves the rejection did not wait on B.
    let message = a.error_message("/call?fail=true").await;
    assert_eq!(
        message,
        format!(
            "Circuit \"call_service_b\" OPEN until {OPEN_UNTIL} (3 failures, 10 sec remaining) \
             (last_failure: {})",
            failure_text(&b, "?fail=true")
        )
    );
    assert_eq!(b.api_calls().await, 3, "the rejected call never reached B");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_failures_while_closed_all_reach_b_then_every_call_is_rejected() {
    // Long enough that all twenty are admitted before the first failure is recorded.
    let b = ServiceB::with_fail_delay(Duration::from_millis(300)).await;
    let a = ServiceA::start(&b).await;
    let client = Client::new();

    let calls: Vec<_> = (0..20)
        .map(|_| {
            let (client, url) = (client.clone(), a.url("/call?fail=true"));
            tokio::spawn(async move { get_text(&client, &url).await })
        })
        .collect();
    for call in calls {
        let (status, body) = call.await.expect("no panic");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert!(
            body.contains("500 Internal Server Error for url:"),
            "{body}"
        );
    }
    assert_eq!(b.api_calls().await, 20, "while Closed every call reaches B");
    let breaker = a.breaker().await;
    assert_eq!(breaker["state"], "open");
    assert_eq!(breaker["calls"]["failed"], 20);

    for _ in 0..5 {
        let message = a.error_message("/call").await;
        assert!(
            message.starts_with("Circuit \"call_service_b\" OPEN until "),
            "{message}"
        );
    }
    assert_eq!(b.api_calls().await, 20, "no rejected call waited on B");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn half_open_lets_one_probe_through_and_its_success_closes_the_circuit() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    open_the_circuit(&a).await;
    a.clock.advance(RECOVERY);
    assert_eq!(a.breaker().await["state"], "half_open");

    // B holds the probe long enough for other calls to arrive meanwhile.
    b.set_mode(r#"{"mode":"slow","delay":"400ms"}"#).await;
    let url = a.url("/call");
    let probe = tokio::spawn(async move { get_text(&Client::new(), &url).await });
    b.wait_for_api_calls(4).await;

    let client = Client::new();
    let others: Vec<_> = (0..5)
        .map(|_| {
            let (client, url) = (client.clone(), a.url("/call"));
            tokio::spawn(async move { get_text(&client, &url).await })
        })
        .collect();
    let expected = format!(
        "Circuit \"call_service_b\" HALF_OPEN: 1 probe(s) already testing the backend, call \
         rejected (3 failures) (last_failure: {})",
        failure_text(&b, "?fail=true")
    );
    for other in others {
        let (status, body) = other.await.expect("no panic");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).expect("JSON"),
            json!({"status": "error", "message": expected})
        );
    }
    assert_eq!(b.api_calls().await, 4, "only the probe reached B");

    let (status, body) = probe.await.expect("no panic");
    assert_eq!(status, StatusCode::OK, "{body}");
    let breaker = a.breaker().await;
    assert_eq!(breaker["state"], "closed");
    assert_eq!(breaker["failure_count"], 0);
    assert_eq!(breaker["transitions"], 3);
    assert_eq!(a.get("/call").await.0, StatusCode::OK);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_failed_probe_reopens_the_circuit_with_four_failures() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    open_the_circuit(&a).await;
    b.set_mode(r#"{"mode":"fail","delay":"10ms"}"#).await;
    a.clock.advance(RECOVERY);

    assert_eq!(a.error_message("/call").await, failure_text(&b, ""));
    let breaker = a.breaker().await;
    assert_eq!(breaker["state"], "open");
    assert_eq!(breaker["failure_count"], 4);

    assert_eq!(
        a.error_message("/call").await,
        format!(
            "Circuit \"call_service_b\" OPEN until 2026-11-26 16:56:55.622681+00:00 \
             (4 failures, 10 sec remaining) (last_failure: {})",
            failure_text(&b, "")
        )
    );
    assert_eq!(b.api_calls().await, 4);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_breaker_endpoint_shows_the_snapshot() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    assert_eq!(a.breaker().await["state"], "closed");

    open_the_circuit(&a).await;
    a.error_message("/call").await;
    a.clock.advance(Duration::from_millis(2_500));

    assert_eq!(
        a.breaker().await,
        json!({
            "name": "call_service_b",
            "state": "open",
            "failure_count": 3,
            "probe_successes": 0,
            "open_until": OPEN_UNTIL,
            "remaining_seconds": 7.5,
            "calls": {"successful": 0, "failed": 3, "slow": 0, "ignored": 0, "rejected": 1},
            "failure_rate": 100.0,
            "transitions": 1,
            "last_failure": failure_text(&b, "?fail=true"),
            "window": null,
            "rejection_probability": null,
            "config": {
                "failure_threshold": 3,
                "recovery_timeout_ms": 10000,
                "request_timeout_ms": 3000,
                "half_open_max_calls": 1,
                "success_threshold": 1,
                "failure_rate_threshold": null,
                "slow_call_threshold_ms": null,
                "slow_call_rate_threshold": null,
                "sliding_window_ms": null,
                "minimum_calls": null,
                "adaptive_throttle": null
            },
            "profile": "article",
            "layers": {
                "deadline": null,
                "retry": {
                    "attempts": 1, "backoff_ms": 50, "backoff_multiplier": 2,
                    "backoff_max_ms": 1000, "jitter": "full", "budget_percent": 20,
                    "retries": 0, "refused_by_budget": 0, "skipped_for_retry_after": 0
                },
                "bulkhead": null,
                "attempt": {
                    "request_timeout_ms": 3000,
                    "max_response_bytes": 1048576,
                    "follows_redirects": false
                }
            }
        })
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn metrics_expose_state_calls_failures_transitions_and_time_to_half_open() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    assert_eq!(a.get("/call").await.0, StatusCode::OK);
    open_the_circuit(&a).await;
    a.error_message("/call").await;
    a.clock.advance(Duration::from_secs(4));

    let response = Client::new()
        .get(a.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.expect("body");
    let label = r#"name="call_service_b""#;
    for line in [
        "# TYPE circuit_breaker_state gauge".to_owned(),
        format!(r#"circuit_breaker_state{{{label},state="open"}} 1"#),
        format!(r#"circuit_breaker_state{{{label},state="closed"}} 0"#),
        format!(r#"circuit_breaker_state{{{label},state="half_open"}} 0"#),
        "# TYPE circuit_breaker_calls_total counter".to_owned(),
        format!(r#"circuit_breaker_calls_total{{{label},outcome="successful"}} 1"#),
        format!(r#"circuit_breaker_calls_total{{{label},outcome="failed"}} 3"#),
        format!(r#"circuit_breaker_calls_total{{{label},outcome="rejected"}} 1"#),
        format!(r#"circuit_breaker_calls_total{{{label},outcome="ignored"}} 0"#),
        format!(r#"circuit_breaker_consecutive_failures{{{label}}} 3"#),
        format!(r#"circuit_breaker_transitions_total{{{label},from="closed",to="open"}} 1"#),
        format!(r#"circuit_breaker_seconds_until_half_open{{{label}}} 6.0"#),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    a.stop().await;
    b.stop().await;
}
