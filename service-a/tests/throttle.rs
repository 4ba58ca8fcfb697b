//! The adaptive throttle in the path: a throttle-enabled A against a B that fails every call
//! sends B only a share of the calls, and says so in `/call`, `/breaker` and `/metrics`.
//!
//! Time is A's `ManualClock`, standing still: every call falls in one bucket of the window.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::{ServiceA, ServiceB, config_with};

const CALLS: u64 = 100;

#[tokio::test]
async fn a_throttled_a_sends_a_failing_b_about_one_call_in_ten_once_the_window_holds_enough() {
    let b = ServiceB::with_fail_delay(Duration::ZERO).await;
    let flags = [
        "--failure-threshold",
        "none",
        "--adaptive-throttle",
        "1.5",
        "--throttle-minimum-requests",
        "10",
    ];
    let a = ServiceA::with_config(config_with(&b.base(), &flags)).await;

    let mut throttled = 0;
    for _ in 0..CALLS {
        let (status, message) = a.error("/call?fail=true").await;
        // A throttled call answers as every breaker rejection does.
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{message}");
        if message.starts_with("Circuit \"call_service_b\" CLOSED: throttled") {
            assert!(
                message.contains("requests, 0 accepted within 10s"),
                "{message}"
            );
            throttled += 1;
        } else {
            assert!(message.contains("500 Internal Server Error"), "{message}");
        }
    }
    // The first 10 reach B; of the other 90, about 9 in 10 are throttled.
    assert!((60..=88).contains(&throttled), "{throttled} throttled");
    assert_eq!(
        b.api_calls().await,
        CALLS - throttled,
        "a throttled call never reached B"
    );

    let breaker = a.breaker().await;
    assert_eq!(
        breaker["state"], "closed",
        "no trip policy: the throttle alone acts"
    );
    assert_eq!(breaker["rejection_probability"], json!(0.9));
    assert_eq!(breaker["calls"]["rejected"], throttled);
    assert_eq!(
        breaker["config"]["adaptive_throttle"],
        json!({"k": 1.5, "window_ms": 10000, "minimum_requests": 10, "max_rejection": 0.9})
    );
    let (status, metrics) = a.get_text("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("circuit_breaker_rejection_probability{name=\"call_service_b\"} 0.9"),
        "{metrics}"
    );
    a.stop().await;
    b.stop().await;
}
