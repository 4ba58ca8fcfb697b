//! `POST /breaker` over real HTTP: each action, and every refusal (no token configured, a
//! missing or wrong token, a bad or big body).

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use service_a::admin::Action;
use support::{ServiceA, ServiceB, config_with};

const TOKEN: &str = "7f3c9a1e5b2d8c4f6a0e9b3d7c1f5a2e";

/// A with the admin token.
async fn guarded(b: &ServiceB) -> ServiceA {
    ServiceA::with_config(config_with(&b.base(), &["--admin-token", TOKEN])).await
}

/// `POST /breaker` with `body` and, if given, `Authorization: <authorization>`; the status,
/// the `WWW-Authenticate` header and the JSON body.
async fn post(
    a: &ServiceA,
    authorization: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(a.url("/breaker"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    let response = tokio::time::timeout(support::PATIENCE, request.send())
        .await
        .expect("answered in time")
        .expect("sent");
    let status = response.status();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|value| value.to_str().expect("ASCII").to_owned());
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
    (status, challenge, json)
}

async fn act(a: &ServiceA, body: &str) -> Value {
    let (status, _, view) = post(a, Some(&format!("Bearer {TOKEN}")), body).await;
    assert_eq!(status, StatusCode::OK, "{body}: {view}");
    view
}

#[tokio::test]
async fn every_action_answers_the_breaker_as_it_stands_after_it() {
    let b = ServiceB::start().await;
    let a = guarded(&b).await;

    let view = act(&a, r#"{"action":"force_open"}"#).await;
    assert_eq!(view["state"], "forced_open");
    assert_eq!(view, a.breaker().await, "the same JSON as GET /breaker");
    assert!(a.error_message("/call").await.contains("FORCED_OPEN"));

    assert_eq!(
        act(&a, r#"{"action":"disable"}"#).await["state"],
        "disabled"
    );
    assert_eq!(a.get("/call").await.0, StatusCode::OK);

    let view = act(&a, r#"{"action":"reset"}"#).await;
    assert_eq!(view["state"], "closed");
    assert_eq!(view["failure_count"], 0);

    let view = act(&a, r#"{"action":"force_open_for","duration":"30s"}"#).await;
    assert_eq!(view["state"], "open");
    assert_eq!(view["remaining_seconds"], 30.0);
    a.clock.advance(Duration::from_secs(30));
    assert_eq!(a.breaker().await["state"], "half_open");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn without_an_admin_token_there_are_no_admin_actions() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let (status, challenge, body) = post(
        &a,
        Some(&format!("Bearer {TOKEN}")),
        r#"{"action":"force_open"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(challenge, None);
    assert_eq!(
        body,
        json!({
            "status": "error",
            "message": "admin actions are off: start service A with --admin-token or SERVICE_A_ADMIN_TOKEN"
        })
    );
    assert_eq!(a.breaker().await["state"], "closed");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_a_401_with_a_bearer_challenge() {
    let b = ServiceB::start().await;
    let a = guarded(&b).await;
    let force_open = r#"{"action":"force_open"}"#;
    let missing = (
        Some(r#"Bearer realm="service-a""#.to_owned()),
        json!({"status": "error", "message": "admin actions need the header `Authorization: Bearer <token>`"}),
    );
    let wrong = (
        Some(r#"Bearer realm="service-a", error="invalid_token""#.to_owned()),
        json!({"status": "error", "message": "wrong admin token"}),
    );
    for (authorization, expected) in [
        (None, &missing),
        (Some(format!("Basic {TOKEN}")), &missing),
        (Some(TOKEN.to_owned()), &missing),
        (Some("Bearer ".to_owned()), &missing),
        (Some(format!("Bearer {TOKEN}x")), &wrong),
        (Some(format!("Bearer {}", &TOKEN[1..])), &wrong),
        (
            Some("Bearer 7f3c9a1e5b2d8c4f6a0e9b3d7c1f5a2f".to_owned()),
            &wrong,
        ),
    ] {
        let (status, challenge, body) = post(&a, authorization.as_deref(), force_open).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!((challenge, body), expected.clone(), "{authorization:?}");
    }
    // The token is checked before the body is read: no token, a body too big, still a 401.
    let (status, _, _) = post(&a, None, &"x".repeat(4096)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.breaker().await["state"], "closed", "nothing was done");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_bad_body_is_a_400_and_a_big_one_a_413() {
    let b = ServiceB::start().await;
    let a = guarded(&b).await;
    let bearer = format!("Bearer {TOKEN}");
    // One body of each kind the parser refuses; what each refusal says is the parser's, and
    // is tested beside it.
    for body in [
        "not json",
        "",
        r#"{"action":"explode"}"#,
        r#"{"action":"force_open_for"}"#,
        r#"{"action":"force_open_for","duration":"0s"}"#,
        r#"{"action":"force_open_for","duration":"2 days"}"#,
        r#"{"action":"reset","why":"because"}"#,
    ] {
        let refused = Action::parse(body.as_bytes()).expect_err(body);
        let (status, _, answer) = post(&a, Some(&bearer), body).await;
        assert_eq!(
            (status, answer),
            (
                StatusCode::BAD_REQUEST,
                json!({"status": "error", "message": refused})
            ),
            "{body}"
        );
    }
    let (status, _, answer) = post(&a, Some(&bearer), &" ".repeat(1025)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer,
        json!({"status": "error", "message": "the body is over 1024 bytes"})
    );
    assert_eq!(a.breaker().await["state"], "closed", "nothing was done");
    // A body just under the bound is read.
    let padded = format!("{:<1024}", r#"{"action":"force_open"}"#);
    assert_eq!(act(&a, &padded).await["state"], "forced_open");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn with_no_breaker_an_admin_action_is_a_404() {
    let b = ServiceB::start().await;
    let a = ServiceA::with_config(config_with(
        &b.base(),
        &["--no-breaker", "--admin-token", TOKEN],
    ))
    .await;
    let (status, _, body) = post(
        &a,
        Some(&format!("Bearer {TOKEN}")),
        r#"{"action":"reset"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "the circuit breaker is off (--no-breaker)");
    a.stop().await;
    b.stop().await;
}
