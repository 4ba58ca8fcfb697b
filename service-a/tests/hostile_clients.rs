//! Service A against hostile clients, over real sockets on loopback: an admin body
//! declared far over its cap, a request without `Host`, and a `fail` value too long to forward.

mod support;

use reqwest::StatusCode;
use service_kit::test_support::answer_to;
use support::{ServiceA, ServiceB, config_with};

const TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";

#[tokio::test]
async fn an_admin_body_declared_over_the_cap_is_refused_413_before_any_is_sent() {
    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(&b.base(), &["--admin-token", TOKEN])).await;
    // No body follows the head: an answer proves A did not wait to read it.
    let (status, body) = answer_to(
        a.address(),
        &format!(
            "POST /breaker HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Length: 1000000\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(body["message"], "the body is over 1024 bytes");
    // Without the token, the same request is a 401: the token is checked first.
    let (status, _) = answer_to(
        a.address(),
        "POST /breaker HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_refused_400_json() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let (status, body) = answer_to(
        a.address(),
        "GET /call HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["message"], service_kit::server::MISSING_HOST);
    assert_eq!(b.api_calls().await, 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_fail_value_over_256_bytes_is_refused_400_without_calling_b() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    for route in ["/call", "/call-fallback"] {
        let (status, message) = a
            .error(&format!("{route}?fail={}", "%21".repeat(257)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}");
        assert_eq!(
            message,
            "`fail` is passed on to service B and must be at most 256 bytes (got 257)"
        );
    }
    assert_eq!(b.api_calls().await, 0);
    // 256 bytes is forwarded: B answers, as it does to any value but `true`.
    let (status, body) = a.get(&format!("/call?fail={}", "%21".repeat(256))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(b.api_calls().await, 1);
    a.stop().await;
    b.stop().await;
}
