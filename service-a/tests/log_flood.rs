//! A flood of calls cannot flood the log: a `fail` value too long to forward is refused before
//! B is called, and failed calls to B are logged at WARN a few times a second.
//!
//! A binary of its own: it installs the process-wide `tracing` subscriber that captures the
//! log, which no other test may share.

mod support;

use reqwest::StatusCode;
use service_kit::test_support::Captured;
use support::fake_b::{Answer, FakeB};
use support::{ServiceA, config_with};
use tokio::task::JoinSet;

/// `requests` GETs of `path_and_query` on A, `clients` at a time; their statuses.
async fn flood(a: &ServiceA, path_and_query: &str, requests: usize, clients: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let url = a.url(path_and_query);
    let mut running = JoinSet::new();
    let mut statuses = Vec::with_capacity(requests);
    for _ in 0..requests {
        if running.len() == clients
            && let Some(done) = running.join_next().await
        {
            statuses.push(done.expect("no panic"));
        }
        let client = client.clone();
        let url = url.clone();
        running.spawn(async move {
            let response = client.get(url).send().await.expect("answered");
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        });
    }
    statuses.extend(running.join_all().await);
    statuses
}

#[tokio::test]
async fn long_fail_values_never_reach_b_and_failed_calls_are_logged_a_few_times_a_second() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(log.clone())
        .init();
    let fake = FakeB::start(Answer::Status(500)).await;
    let a = ServiceA::with_config(config_with(&fake.base(), &["--no-breaker"])).await;

    // The attack: 3,000 calls with a 15,000-character `fail`, which A would forward as a 45 KB
    // URL.
    let (status, message) = a.error(&format!("/call?fail={}", "!".repeat(15_000))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message,
        "`fail` is passed on to service B and must be at most 256 bytes (got 15000)"
    );
    log.clear();
    let long = format!("/call?fail={}", "!".repeat(15_000));
    let statuses = flood(&a, &long, 3_000, 8).await;
    assert!(statuses.iter().all(|status| *status == 400), "{statuses:?}");
    assert_eq!(fake.requests(), 0, "no long value reaches B");
    let written = log.text().len();
    assert!(written < 1_000_000, "{written} bytes of log");

    // Failed calls: B answers every one 500, and no breaker stops them.
    log.clear();
    let statuses = flood(&a, "/call?fail=true", 300, 8).await;
    assert!(statuses.iter().all(|status| *status == 500), "{statuses:?}");
    assert_eq!(fake.requests(), 300);
    let text = log.text();
    let warned = text
        .lines()
        .filter(|line| line.contains(" WARN ") && line.contains("call to service B failed"))
        .count();
    // At most 5 a second, so far fewer than one per call: 300 warnings would need the flood to
    // last a minute. (The rate itself, on a paused clock, and how the limiter reports what it
    // held back are `service_kit::log_limit`'s to test.)
    assert!((1..300).contains(&warned), "{warned} warnings in\n{text}");
    a.stop().await;
}
