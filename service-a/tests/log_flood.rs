//! A flood of calls cannot flood the log: a `fail` value too long to forward is refused before
//! B is called, and failed calls to B and refused admin requests are logged a few times a
//! second.
//!
//! A binary of its own: it installs the process-wide `tracing` subscriber that captures the
//! log, which no other test may share.

mod support;

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use service_kit::test_support::Captured;
use support::fake_b::{Answer, FakeB};
use support::{ServiceA, config_with};
use tokio::task::JoinSet;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const WRONG_TOKEN: &str = "fedcba9876543210fedcba9876543210";

/// `requests` GETs of `path_and_query` on A, `clients` at a time; their statuses.
async fn flood(a: &ServiceA, path_and_query: &str, requests: usize, clients: usize) -> Vec<u16> {
    let url = a.url(path_and_query);
    flood_with(requests, clients, move |client| client.get(&url)).await
}

/// `requests` requests made by `request`, `clients` at a time; their statuses.
async fn flood_with(
    requests: usize,
    clients: usize,
    request: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) -> Vec<u16> {
    let client = reqwest::Client::new();
    let mut running = JoinSet::new();
    let mut statuses = Vec::with_capacity(requests);
    for _ in 0..requests {
        if running.len() == clients
            && let Some(done) = running.join_next().await
        {
            statuses.push(done.expect("no panic"));
        }
        let request = request(&client);
        running.spawn(async move {
            let response = request.send().await.expect("answered");
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        });
    }
    statuses.extend(running.join_all().await);
    statuses
}

/// How many lines of `text` are at `level` (` WARN `, ` INFO `) and say `what`.
fn lines(text: &str, level: &str, what: &str) -> usize {
    text.lines()
        .filter(|line| line.contains(level) && line.contains(what))
        .count()
}

/// One test, in three floods: the subscriber that captures the log is the process's, and the
/// floods must not mix their lines.
#[tokio::test]
async fn floods_of_requests_write_a_few_lines_a_second() {
    let log = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(log.clone())
        .init();
    let fake = FakeB::start(Answer::Status(500)).await;
    let a = ServiceA::with_config(config_with(
        &fake.base(),
        &["--no-breaker", "--admin-token", TOKEN],
    ))
    .await;
    long_fail_values_never_reach_b(&a, &fake, &log).await;
    failed_calls_are_warned_a_few_times_a_second(&a, &fake, &log).await;
    refused_admin_requests_are_logged_a_few_times_a_second(&a, &fake, &log).await;
    a.stop().await;
}

async fn long_fail_values_never_reach_b(a: &ServiceA, fake: &FakeB, log: &Captured) {
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
    let statuses = flood(a, &long, 3_000, 8).await;
    assert!(statuses.iter().all(|status| *status == 400), "{statuses:?}");
    assert_eq!(fake.requests(), 0, "no long value reaches B");
    let written = log.text().len();
    assert!(written < 1_000_000, "{written} bytes of log");
}

/// B answers every call 500, and no breaker stops them.
async fn failed_calls_are_warned_a_few_times_a_second(a: &ServiceA, fake: &FakeB, log: &Captured) {
    log.clear();
    let statuses = flood(a, "/call?fail=true", 300, 8).await;
    assert!(statuses.iter().all(|status| *status == 500), "{statuses:?}");
    assert_eq!(fake.requests(), 300);
    let text = log.text();
    let warned = lines(&text, " WARN ", "call to service B failed");
    // At most 5 a second, so far fewer than one per call: 300 warnings would need the flood to
    // last a minute. (The rate itself, on a paused clock, and how the limiter reports what it
    // held back are `service_kit::log_limit`'s to test.)
    assert!((1..300).contains(&warned), "{warned} warnings in\n{text}");
}

/// A client guessing tokens: 300 wrong ones, each a 401 and a WARN line, at most 5 of them a
/// second as for failed calls; and a service without admin actions posted to 300 times, each a
/// 404 and an INFO line, within the same limit.
async fn refused_admin_requests_are_logged_a_few_times_a_second(
    a: &ServiceA,
    fake: &FakeB,
    log: &Captured,
) {
    log.clear();
    let breaker = a.url("/breaker");
    let statuses = flood_with(300, 8, |client| {
        client
            .post(&breaker)
            .header(AUTHORIZATION, format!("Bearer {WRONG_TOKEN}"))
            .body(r#"{"action":"reset"}"#)
    })
    .await;
    assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
    let text = log.text();
    let warned = lines(&text, " WARN ", "admin action refused");
    assert!((1..300).contains(&warned), "{warned} warnings in\n{text}");

    log.clear();
    let plain = ServiceA::with_config(config_with(&fake.base(), &["--no-breaker"])).await;
    let breaker = plain.url("/breaker");
    let statuses = flood_with(300, 8, |client| client.post(&breaker).body("{}")).await;
    assert!(statuses.iter().all(|status| *status == 404), "{statuses:?}");
    let text = log.text();
    let refused = lines(&text, " INFO ", "admin action refused");
    // The same limiter as the 401s': its second may still be full, so none need be written.
    // (`admin_log.rs` sees the line written when there is room.)
    assert!(refused < 300, "{refused} lines in\n{text}");
    plain.stop().await;
}
