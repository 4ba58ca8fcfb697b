//! What a rejection carries and how it reads, through the public API.

use std::time::{Duration, SystemTime};
use trip_breaker::{CircuitBreaker, ManualClock, State};

/// 2025-05-15 08:40:11.758729 UTC, so that ten seconds later reads as in the article.
fn article_wall_origin() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_micros(1_747_298_411_758_729)
}

fn article_breaker(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::builder("call_service_b")
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .expect("valid")
}

fn fail(cb: &CircuitBreaker, cause: &str) {
    cb.try_acquire().expect("admitted").failure(cause);
}

#[test]
fn the_open_message_is_the_python_librarys_with_a_live_countdown() {
    let clock = ManualClock::with_wall_origin(article_wall_origin());
    let cb = article_breaker(&clock);
    let cause =
        "500 Server Error: INTERNAL SERVER ERROR for url: http://127.0.0.1:5001/api?fail=true";
    for _ in 0..3 {
        fail(&cb, cause);
    }
    let rejected = cb.try_acquire().expect_err("open");
    assert_eq!(
        rejected.to_string(),
        format!(
            "Circuit \"call_service_b\" OPEN until 2025-05-15 08:40:21.758729+00:00 \
             (3 failures, 10 sec remaining) (last_failure: {cause})"
        )
    );
    clock.advance(Duration::from_millis(1_500));
    let rejected = cb.try_acquire().expect_err("still open");
    assert!(
        rejected
            .to_string()
            .contains("(3 failures, 9 sec remaining)"),
        "8.5 s rounds up to 9"
    );
    assert_eq!(rejected.remaining(), Some(Duration::from_millis(8_500)));
    assert_eq!(rejected.state(), State::Open);
    assert_eq!(rejected.name(), "call_service_b");
    assert_eq!(rejected.failure_count(), 3);
    assert_eq!(rejected.last_failure(), Some(cause));
    assert_eq!(
        rejected.retry_at(),
        Some(article_wall_origin() + Duration::from_secs(10))
    );
}

#[test]
fn a_failed_probe_shows_four_failures_and_the_new_cause() {
    let clock = ManualClock::new();
    let cb = article_breaker(&clock);
    for _ in 0..3 {
        fail(&cb, "first outage");
    }
    clock.advance(Duration::from_secs(10));
    fail(&cb, "still down");
    let rejected = cb.try_acquire().expect_err("open again");
    assert_eq!(rejected.failure_count(), 4);
    assert_eq!(rejected.last_failure(), Some("still down"));
    assert!(
        rejected
            .to_string()
            .contains("(4 failures, 10 sec remaining) (last_failure: still down)")
    );
}

#[test]
fn half_open_and_forced_open_rejections_have_their_own_text() {
    let clock = ManualClock::new();
    let cb = article_breaker(&clock);
    for _ in 0..3 {
        fail(&cb, "down");
    }
    clock.advance(Duration::from_secs(10));
    let probe = cb.try_acquire().expect("the probe");
    let rejected = cb.try_acquire().expect_err("the probe slot is taken");
    assert_eq!(rejected.state(), State::HalfOpen);
    assert_eq!(rejected.remaining(), None);
    assert!(
        rejected
            .to_string()
            .contains("HALF_OPEN: 1 probe(s) already testing the backend")
    );
    drop(probe);

    cb.force_open();
    let rejected = cb.try_acquire().expect_err("forced open");
    assert_eq!(rejected.state(), State::ForcedOpen);
    assert!(rejected.to_string().contains("FORCED_OPEN"));
}

/// A failure's text is quoted in every rejection until the next failure, so it is bounded: a
/// long one (a URL carrying a client's query, a verbose error) keeps its first 256 bytes, or
/// fewer where byte 256 falls inside a character.
#[test]
fn a_long_failure_text_is_cut_to_256_bytes_on_a_character_boundary() {
    let url = "500 for url: http://b/api?fail=";
    // 'é' is two bytes, and `url` 31: byte 256 falls inside the 113th 'é'.
    for (cause, kept_bytes) in [
        (format!("{url}{}", "x".repeat(10_000)), 256),
        (format!("{url}{}", "é".repeat(200)), 255),
    ] {
        let clock = ManualClock::new();
        let cb = article_breaker(&clock);
        for _ in 0..3 {
            fail(&cb, &cause);
        }
        let rejected = cb.try_acquire().expect_err("open");
        let kept = rejected.last_failure().expect("a failure");
        assert_eq!(kept, format!("{}…", &cause[..kept_bytes]));
        assert!(
            rejected
                .to_string()
                .ends_with(&format!("(last_failure: {kept})"))
        );
        assert_eq!(cb.snapshot().last_failure.as_deref(), Some(kept));
    }
}

#[test]
fn a_rejection_debugs_as_its_parts() {
    let clock = ManualClock::with_wall_origin(article_wall_origin());
    let cb = article_breaker(&clock);
    for _ in 0..3 {
        fail(&cb, "HTTP 503");
    }
    let shown = format!("{:?}", cb.try_acquire().expect_err("open"));
    assert!(
        shown.starts_with(r#"Rejected { name: "call_service_b", state: Open,"#),
        "{shown}"
    );
    assert!(
        shown.contains(r#"last_failure: Some("HTTP 503")"#),
        "{shown}"
    );
}

#[test]
fn a_rejection_keeps_the_breakers_name_and_trip_after_the_breaker_is_dropped() {
    let clock = ManualClock::with_wall_origin(article_wall_origin());
    let cb = article_breaker(&clock);
    for _ in 0..3 {
        fail(&cb, "HTTP 500");
    }
    let first = cb.try_acquire().expect_err("open");
    clock.advance(Duration::from_secs(4));
    let later = cb.try_acquire().expect_err("still open");
    drop(cb);
    assert_eq!(first.name(), "call_service_b");
    assert_eq!(later.name(), "call_service_b");
    assert_eq!(later.failure_count(), 3);
    assert_eq!(later.last_failure(), Some("HTTP 500"));
    assert_eq!(first.retry_at(), later.retry_at(), "one trip, one deadline");
    assert_eq!(first.remaining(), Some(Duration::from_secs(10)));
    assert_eq!(
        later.remaining(),
        Some(Duration::from_secs(6)),
        "each its own countdown"
    );
    assert!(later.to_string().contains("(3 failures, 6 sec remaining)"));
}
