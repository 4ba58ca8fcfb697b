//! Every admin request is logged (who, what, the result) and the token never is, at any level;
//! a failed call to B is a warning, an admin request to a service without admin actions is not.
//!
//! A binary of its own: it installs the process-wide `tracing` subscriber that captures the
//! log, which no other test may share.

mod support;

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use service_kit::test_support::Captured;
use support::{ServiceA, ServiceB, config_with};

const TOKEN: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const WRONG: &str = "deadbeefdeadbeefdeadbeefdeadbeef";

#[tokio::test]
async fn admin_requests_are_logged_without_the_token() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(log.clone())
        .init();

    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(&b.base(), &["--admin-token", TOKEN])).await;
    let client = reqwest::Client::new();
    for (token, body, status) in [
        (Some(TOKEN), r#"{"action":"force_open"}"#, StatusCode::OK),
        (
            Some(WRONG),
            r#"{"action":"reset"}"#,
            StatusCode::UNAUTHORIZED,
        ),
        (None, r#"{"action":"reset"}"#, StatusCode::UNAUTHORIZED),
        (
            Some(TOKEN),
            r#"{"action":"explode"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (
            Some(TOKEN),
            r#"{"action":"force_open_for","duration":"30s"}"#,
            StatusCode::OK,
        ),
    ] {
        let mut request = client.post(a.url("/breaker")).body(body);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let answer = request.send().await.expect("answered");
        assert_eq!(answer.status(), status, "{body}");
        assert!(!answer.text().await.expect("body").contains(TOKEN));
    }
    // B's deterministic failure is worth a warning; so is a refused admin request, unless the
    // service has no admin actions at all (nothing was tried, nothing is wrong).
    let plain = ServiceA::start(&b).await;
    assert_eq!(
        plain.get("/call?fail=true").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let answer = client
        .post(plain.url("/breaker"))
        .body(r#"{"action":"reset"}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    plain.stop().await;
    a.stop().await;
    b.stop().await;

    let text = log.text();
    for expected in [
        [" WARN ", "call to service B failed", "status=500"],
        [" INFO ", "admin action refused", "status=404 Not Found"],
    ] {
        assert!(
            text.lines()
                .any(|line| expected.iter().all(|part| line.contains(part))),
            "no line with all of {expected:?} in\n{text}"
        );
    }
    let client = "client=127.0.0.1:";
    for expected in [
        "admin action done",
        "action=force_open state=\"forced_open\"",
        "action=force_open_for 30s state=\"open\"",
        "admin action refused",
        "status=401 Unauthorized result=wrong admin token",
        "status=401 Unauthorized result=admin actions need the header",
        "status=400 Bad Request result=unknown action \"explode\"",
    ] {
        assert!(
            text.lines()
                .any(|line| line.contains(expected) && line.contains(client)),
            "no line with {expected:?} and {client:?} in\n{text}"
        );
    }
    assert!(!text.contains(TOKEN), "the token was logged:\n{text}");
    assert!(!text.contains(WRONG), "a wrong token was logged:\n{text}");
}
