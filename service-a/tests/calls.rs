//! The call contract over real HTTP: real service B, real service A, on loopback.

mod support;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use support::{PATIENCE, ServiceA, ServiceB, config_for, get_text};

#[tokio::test]
async fn a_healthy_call_returns_b_body_as_success() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    for path in ["/call", "/call?fail=false"] {
        assert_eq!(
            a.get(path).await,
            (
                StatusCode::OK,
                json!({"status": "success", "data": "Service B: Success"})
            ),
            "{path}"
        );
    }
    assert_eq!(b.api_calls().await, 2);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_failing_call_names_the_status_and_the_url_and_is_the_recorded_failure() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    let message = a.error_message("/call?fail=true").await;
    let expected = format!(
        "500 Internal Server Error for url: {}/api?fail=true",
        b.base()
    );
    assert_eq!(message, expected);

    let breaker = a.breaker().await;
    assert_eq!(breaker["last_failure"], expected.as_str());
    assert_eq!(breaker["failure_count"], 1);
    assert_eq!(breaker["state"], "closed");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_unreachable_b_fails_fast_naming_the_connection_error() {
    // A port nobody listens on: bound, read, released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let a = ServiceA::with_config(config_for(&format!("http://127.0.0.1:{port}"))).await;

    // A refused connection is a failure at once; the message proves no timeout was waited.
    let message = a.error_message("/call").await;
    let prefix = format!("could not connect to http://127.0.0.1:{port}/api: ");
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.len() > prefix.len(), "names a reason: {message}");

    let breaker = a.breaker().await;
    assert_eq!(breaker["calls"]["failed"], 1);
    assert_eq!(breaker["last_failure"], message.as_str());
    a.stop().await;
}

#[tokio::test]
async fn a_b_slower_than_the_request_timeout_is_a_timeout_failure() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"1s"}"#).await;
    let mut config = config_for(&b.base());
    config.client.request_timeout = Some(Duration::from_millis(300));
    let a = ServiceA::with_config(config).await;

    assert_eq!(
        a.error_message("/call").await,
        format!("timed out after 300ms calling {}/api", b.base())
    );
    assert_eq!(a.breaker().await["calls"]["failed"], 1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn fail_reaches_b_as_one_encoded_value() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    // `true&x=1`, one value: B's `fail == "true"` test must not see `true`.
    assert_eq!(
        a.get("/call?fail=true%26x%3D1").await,
        (
            StatusCode::OK,
            json!({"status": "success", "data": "Service B: Success"})
        )
    );
    assert_eq!((b.api_calls().await, b.stat("failed").await), (1, 0));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_b_client_error_is_reported_but_says_nothing_about_b_health() {
    let b = ServiceB::start().await;
    // B has no `/nowhere/api`, so every call gets B's 404.
    let a = ServiceA::with_config(config_for(&format!("{}/nowhere", b.base()))).await;

    for _ in 0..4 {
        assert_eq!(
            a.error_message("/call").await,
            format!("404 Not Found for url: {}/nowhere/api", b.base())
        );
    }
    let breaker = a.breaker().await;
    assert_eq!(breaker["state"], "closed");
    assert_eq!(breaker["calls"]["ignored"], 4);
    assert_eq!(breaker["calls"]["failed"], 0);
    assert_eq!(breaker["last_failure"], json!(null));
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_malformed_query_is_a_400_json_error_and_the_service_keeps_serving() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    for path in [
        "/call?fail=%zz",
        "/call?fail=a&fail=b",
        "/call-fallback?fail=%zz",
    ] {
        let (status, body) = a.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["status"], "error", "{path}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    let (_, body) = a.get("/call?fail=%zz").await;
    assert_eq!(
        body["message"],
        r#"malformed query string: bad percent-escape "%zz" at byte 5"#
    );

    assert_eq!(a.get("/call").await.0, StatusCode::OK);
    assert_eq!(b.api_calls().await, 1, "no malformed request reached B");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn health_unknown_paths_and_wrong_methods_answer_json() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    assert_eq!(
        a.get("/health").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        a.get("/nope").await,
        (
            StatusCode::NOT_FOUND,
            json!({"status": "error", "message": "no route for /nope"})
        )
    );
    assert_eq!(
        a.send(Method::POST, "/call").await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"status": "error", "message": "method POST not allowed for /call"})
        )
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn fallback_serves_cached_data_before_any_success_and_the_last_good_body_after() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let degraded = |data: &str| (StatusCode::OK, json!({"status": "degraded", "data": data}));

    assert_eq!(
        a.get("/call-fallback?fail=true").await,
        degraded("cached_data")
    );
    assert_eq!(
        a.get("/call-fallback").await,
        (
            StatusCode::OK,
            json!({"status": "success", "data": "Service B: Success"})
        )
    );
    // Three failures open the circuit; each is answered from the cache.
    for _ in 0..3 {
        assert_eq!(
            a.get("/call-fallback?fail=true").await,
            degraded("Service B: Success")
        );
    }
    // A rejection too, without reaching B.
    let calls = b.api_calls().await;
    assert_eq!(
        a.get("/call-fallback").await,
        degraded("Service B: Success")
    );
    assert_eq!(b.api_calls().await, calls);
    assert_eq!(a.breaker().await["calls"]["rejected"], 1);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_last_good_body_is_shared_by_both_routes() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    assert_eq!(a.get("/call").await.0, StatusCode::OK);
    assert_eq!(
        a.get("/call-fallback?fail=true").await,
        (
            StatusCode::OK,
            json!({"status": "degraded", "data": "Service B: Success"})
        )
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn without_the_breaker_every_call_reaches_b_and_none_is_rejected() {
    let b = ServiceB::start().await;
    let mut config = config_for(&b.base());
    config.client.no_breaker = true;
    let a = ServiceA::with_config(config).await;

    let expected = format!(
        "500 Internal Server Error for url: {}/api?fail=true",
        b.base()
    );
    for _ in 0..5 {
        assert_eq!(a.error_message("/call?fail=true").await, expected);
    }
    assert_eq!((b.api_calls().await, b.stat("failed").await), (5, 5));
    assert_eq!(a.get("/call").await.0, StatusCode::OK);

    assert_eq!(
        a.get("/breaker").await,
        (
            StatusCode::NOT_FOUND,
            json!({"status": "error", "message": "the circuit breaker is off (--no-breaker)"})
        )
    );
    // No breaker, no breaker metrics; A's own HTTP traffic is still measured.
    let (status, metrics) = a.get_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!metrics.contains("circuit_breaker_"), "{metrics}");
    assert!(
        metrics.contains(
            r#"http_server_request_duration_seconds_count{method="GET",route="/call",status="500"} 5"#
        ),
        "{metrics}"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_call_in_flight_and_ends_run() {
    let b = ServiceB::start().await;
    b.set_mode(r#"{"mode":"slow","delay":"300ms"}"#).await;
    let a = ServiceA::start(&b).await;

    let url = a.url("/call");
    let in_flight = tokio::spawn(async move { get_text(&Client::new(), &url).await });
    b.wait_for_api_calls(1).await;

    // `stop` signals shutdown and waits (bounded) for `run` to return.
    a.stop().await;
    let (status, body) = tokio::time::timeout(PATIENCE, in_flight)
        .await
        .expect("the call in flight is answered")
        .expect("no panic");
    assert_eq!(status, StatusCode::OK, "{body}");
    b.stop().await;
}
