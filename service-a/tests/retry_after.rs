//! B's `Retry-After` in the production profile (three attempts, a 5 s call deadline), against
//! a fake B on loopback: a wait that would pass the deadline means no retry at all; a shorter
//! one is waited out, then retried.

mod support;

use reqwest::StatusCode;
use support::fake_b::{Answer, FakeB};
use support::{ServiceA, config_with};

const PRODUCTION: &[&str] = &["--profile", "production"];

#[tokio::test]
async fn retry_after_an_hour_under_a_5s_deadline_is_one_call_to_b_not_three() {
    let fake = FakeB::start(Answer::Throttled {
        failures: u64::MAX,
        status: 503,
        retry_after: "3600",
    })
    .await;
    let a = ServiceA::with_config(config_with(&fake.base(), PRODUCTION)).await;
    let (status, message) = a.error("/call").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        message,
        format!(
            "503 Service Unavailable for url: {}/api (Retry-After: 1h)",
            fake.base()
        )
    );
    assert_eq!(fake.requests(), 1);
    let breaker = a.breaker().await;
    let retry = &breaker["layers"]["retry"];
    assert_eq!(retry["retries"], 0, "{retry}");
    assert_eq!(retry["skipped_for_retry_after"], 1, "{retry}");
    // The breaker still counts B's refusal as a failure.
    assert_eq!(breaker["failure_count"], 1, "{breaker}");
    a.stop().await;
}

#[tokio::test]
async fn a_429_with_a_retry_after_within_the_deadline_is_waited_out_and_retried() {
    let fake = FakeB::start(Answer::Throttled {
        failures: 1,
        status: 429,
        retry_after: "1",
    })
    .await;
    let a = ServiceA::with_config(config_with(&fake.base(), PRODUCTION)).await;
    let (status, body) = a.get("/call").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], "fake B: ok");
    assert_eq!(fake.requests(), 2);
    let retry = &a.breaker().await["layers"]["retry"];
    assert_eq!(retry["retries"], 1, "{retry}");
    assert_eq!(retry["skipped_for_retry_after"], 0, "{retry}");
    a.stop().await;
}
