//! `/metrics` after a scripted scenario, real A and B on loopback: every metric tells the story
//! the scenario wrote, and the ones counted in two places (the breaker's calls, the timing
//! layer's histogram) agree.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use support::{ServiceA, ServiceB, config_with};

/// One scrape, as `series -> value`: `name{labels}` exactly as A writes it.
struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    async fn of(a: &ServiceA) -> Self {
        let (status, text) = a.get_text("/metrics").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let series = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (series, value) = line
                    .rsplit_once(' ')
                    .unwrap_or_else(|| panic!("not a sample: {line:?}"));
                let value = value
                    .parse()
                    .unwrap_or_else(|err| panic!("{line:?}: {err}"));
                (series.to_owned(), value)
            })
            .collect();
        Self(series)
    }

    /// The value of `series`; the test fails if A does not write it.
    fn value(&self, series: &str) -> f64 {
        *self
            .0
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in\n{:#?}", self.0.keys().collect::<Vec<_>>()))
    }

    fn has(&self, metric: &str) -> bool {
        self.0.keys().any(|series| series.starts_with(metric))
    }
}

const NAME: &str = r#"name="call_service_b""#;

fn transitions(from: &str, to: &str) -> String {
    format!(r#"circuit_breaker_transitions_total{{{NAME},from="{from}",to="{to}"}}"#)
}

fn calls(outcome: &str) -> String {
    format!(r#"circuit_breaker_calls_total{{{NAME},outcome="{outcome}"}}"#)
}

fn timed(outcome: &str, part: &str) -> String {
    format!(r#"circuit_breaker_calls_seconds_{part}{{{NAME},outcome="{outcome}"}}"#)
}

fn requests(route: &str, status: u16) -> String {
    format!(
        r#"http_server_request_duration_seconds_count{{method="GET",route="{route}",status="{status}"}}"#
    )
}

/// Each outcome's histogram counts what the breaker counted.
fn assert_histogram_matches_calls(scrape: &Scrape) {
    for outcome in ["successful", "failed", "ignored", "rejected"] {
        assert_eq!(
            scrape.value(&timed(outcome, "count")),
            scrape.value(&calls(outcome)),
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn the_article_scenario_shows_in_transitions_durations_and_http_metrics() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    assert_eq!(a.get("/call").await.0, StatusCode::OK);
    for _ in 0..3 {
        a.error_message("/call?fail=true").await;
    }
    for _ in 0..2 {
        a.error_message("/call").await; // rejected while Open
    }
    assert_eq!(a.get("/call?fail=%zz").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(a.get("/no-such-page").await.0, StatusCode::NOT_FOUND);
    a.clock.advance(Duration::from_secs(10));
    assert_eq!(a.get("/call").await.0, StatusCode::OK); // the probe closes the circuit

    let scrape = Scrape::of(&a).await;
    for (from, to, count) in [
        ("closed", "open", 1.0),
        ("open", "half_open", 1.0),
        ("half_open", "closed", 1.0),
        ("half_open", "open", 0.0),
        ("closed", "forced_open", 0.0),
    ] {
        assert_eq!(
            scrape.value(&transitions(from, to)),
            count,
            "{from} -> {to}"
        );
    }
    assert_eq!(
        scrape.value(&format!(
            r#"circuit_breaker_state{{{NAME},state="closed"}}"#
        )),
        1.0
    );
    for (outcome, count) in [
        ("successful", 2.0),
        ("failed", 3.0),
        ("rejected", 2.0),
        ("ignored", 0.0),
    ] {
        assert_eq!(scrape.value(&calls(outcome)), count, "{outcome}");
    }
    assert_histogram_matches_calls(&scrape);
    // B waits 100 ms before each failure: none of the three can be in a bucket below that.
    assert_eq!(
        scrape.value(&format!(
            r#"circuit_breaker_calls_seconds_bucket{{{NAME},outcome="failed",le="0.05"}}"#
        )),
        0.0
    );

    for (route, status, count) in [
        ("/call", 200, 2.0),
        ("/call", 500, 5.0),
        ("/call", 400, 1.0),
        ("unmatched", 404, 1.0),
    ] {
        assert_eq!(
            scrape.value(&requests(route, status)),
            count,
            "{route} {status}"
        );
    }
    // The scrape itself is counted once answered, so the next scrape shows it.
    assert_eq!(Scrape::of(&a).await.value(&requests("/metrics", 200)), 1.0);
    assert!(
        !scrape.0.keys().any(|series| series.contains("fail=")),
        "a raw URI leaked into a label"
    );
    // The article profile has no retries, no bulkhead and no sliding window.
    for absent in ["retry_", "bulkhead_", "circuit_breaker_failure_rate"] {
        assert!(!scrape.has(absent), "{absent}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn the_production_stack_shows_its_rates_retries_and_bulkhead() {
    let b = ServiceB::start().await;
    let config = config_with(
        &b.base(),
        &["--profile", "production", "--minimum-calls", "4"],
    );
    let a = ServiceA::with_config(config).await;

    for _ in 0..2 {
        assert_eq!(a.get("/call").await.0, StatusCode::OK);
    }
    let scrape = Scrape::of(&a).await;
    assert_eq!(
        scrape.value(&format!("circuit_breaker_failure_rate{{{NAME}}}")),
        0.0
    );
    assert_eq!(
        scrape.value(&format!("circuit_breaker_window_calls{{{NAME}}}")),
        2.0
    );

    // Every call now fails with a 503, which is retried: the first attempt makes the window
    // 1 failure in 3 calls, the first retry 2 in 4 (50 %: Open), and the second retry is
    // rejected, which is never retried.
    b.set_mode(r#"{"mode":"flaky","failure_rate":1.0}"#).await;
    a.error_message("/call").await;

    let scrape = Scrape::of(&a).await;
    assert_eq!(scrape.value(&transitions("closed", "open")), 1.0);
    for (outcome, count) in [("successful", 2.0), ("failed", 2.0), ("rejected", 1.0)] {
        assert_eq!(scrape.value(&calls(outcome)), count, "{outcome}");
    }
    assert_histogram_matches_calls(&scrape);
    assert!(
        !scrape.has("circuit_breaker_failure_rate"),
        "a trip empties the window: no rate to show"
    );
    for (series, value) in [
        ("retry_attempts_total", 2.0),
        ("retry_budget_refused_total", 0.0),
        ("bulkhead_in_flight", 0.0),
        ("bulkhead_max_concurrent", 32.0),
        ("bulkhead_limit", 32.0),
        ("bulkhead_rejected_total", 0.0),
    ] {
        assert_eq!(
            scrape.value(&format!("{series}{{{NAME}}}")),
            value,
            "{series}"
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn http_labels_stay_bounded_whatever_clients_send() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let client = reqwest::Client::new();
    let send = |method: &str, path: String| {
        let request = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("a method token"),
            a.url(&path),
        );
        async move {
            tokio::time::timeout(support::PATIENCE, request.send())
                .await
                .expect("answered in time")
                .expect("sent")
                .status()
        }
    };
    for n in 0..20 {
        assert_eq!(
            send("GET", format!("/page-{n}")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(send("GET", format!("/health?n={n}")).await, StatusCode::OK);
    }
    assert_eq!(
        send("DELETE", "/call".to_owned()).await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        send("BREW", "/health".to_owned()).await,
        StatusCode::METHOD_NOT_ALLOWED
    );

    let scrape = Scrape::of(&a).await;
    let http: Vec<_> = scrape
        .0
        .keys()
        .filter(|series| series.starts_with("http_server_request_duration_seconds_count"))
        .collect();
    assert_eq!(
        http,
        [
            r#"http_server_request_duration_seconds_count{method="DELETE",route="/call",status="405"}"#,
            r#"http_server_request_duration_seconds_count{method="GET",route="/health",status="200"}"#,
            r#"http_server_request_duration_seconds_count{method="GET",route="unmatched",status="404"}"#,
            r#"http_server_request_duration_seconds_count{method="other",route="/health",status="405"}"#,
        ]
    );
    assert_eq!(scrape.value(&requests("unmatched", 404)), 20.0);
    assert_eq!(scrape.value(&requests("/health", 200)), 20.0);
    a.stop().await;
    b.stop().await;
}
