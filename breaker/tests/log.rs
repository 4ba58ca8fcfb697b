//! Every transition is logged with `tracing`: a warning when the circuit opens, information
//! otherwise, with the breaker, from, to and reason as fields of their own, and for a move that
//! time alone caused, when it fell due, whatever level the subscriber keeps.
//!
//! Alone in its own test binary on purpose: `tracing` caches, per call site, whether anyone
//! listens. A test on another thread that trips a breaker while no subscriber is set can cache
//! "nobody" for the transition's call site just as this test installs its subscriber, and the
//! line is lost. With one test in the binary there is no other thread.

// Under `--cfg loom` only tests/loom.rs runs; the rest needs dev-dependencies it leaves out.
#![cfg(not(loom))]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tracing::Level;
use trip_breaker::{CircuitBreaker, ManualClock};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `scenario` logs to a subscriber that keeps `level` and above.
fn log_of(level: Level, scenario: impl FnOnce()) -> String {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(level)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, scenario);
    let log = buffer.0.lock().expect("not poisoned").clone();
    String::from_utf8(log).expect("utf-8")
}

/// The line of `log` that contains `needle`.
fn line<'a>(log: &'a str, needle: &str) -> &'a str {
    log.lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{log}"))
}

/// A clock whose wall time is 2026-12-01T16:06:53.316194Z at its start.
fn clock() -> ManualClock {
    ManualClock::with_wall_origin(UNIX_EPOCH + Duration::from_micros(1_796_141_213_316_194))
}

/// The binary's one test (see the module's doc): each rule in turn, on this thread.
#[test]
fn transitions_are_logged() {
    every_transition_is_logged_with_from_to_and_reason();
    a_subscriber_that_keeps_only_warnings_gets_the_due_of_a_reopening_that_time_caused();
}

fn every_transition_is_logged_with_from_to_and_reason() {
    let clock = clock();
    let log = log_of(Level::INFO, || {
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(3)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        for _ in 0..3 {
            cb.try_acquire().expect("closed").failure("down");
        }
        // Nobody looks until 13 s later: the probe's arrival half-opens the circuit.
        clock.advance(Duration::from_secs(13));
        cb.try_acquire().expect("a probe").failure("still down");
        cb.reset();
    });
    let line = |needle: &str| line(&log, needle);
    let opened = line("circuit call_service_b: CLOSED -> OPEN (3 consecutive failures)");
    assert!(opened.contains(" WARN "), "opening is a warning: {opened}");
    assert!(
        opened.ends_with(
            "breaker=\"call_service_b\" from=\"closed\" to=\"open\" reason=3 consecutive failures"
        ),
        "with its fields: {opened}"
    );
    let half_open = line(
        "circuit call_service_b: OPEN -> HALF_OPEN (recovery timeout elapsed at 2026-12-01T16:07:03.316194Z)",
    );
    assert!(
        half_open.ends_with(
            "to=\"half_open\" reason=recovery timeout elapsed due=\"2026-12-01T16:07:03.316194Z\""
        ),
        "the time the recovery timeout ran out, 10 s after the trip, not the probe's 13 s: {half_open}"
    );
    let reopened = line("circuit call_service_b: HALF_OPEN -> OPEN (half-open probe failed)");
    assert!(
        !reopened.contains("due"),
        "a call's move is made when due: {reopened}"
    );
    let reset = line("circuit call_service_b: OPEN -> CLOSED (reset)");
    assert!(reset.contains(" INFO "), "closing is information: {reset}");
    assert!(reset.contains("to=\"closed\" reason=reset"), "{reset}");
}

fn a_subscriber_that_keeps_only_warnings_gets_the_due_of_a_reopening_that_time_caused() {
    let clock = clock();
    let log = log_of(Level::WARN, || {
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(10))
            .half_open_max_wait(Duration::from_secs(5))
            .clock(clock.clone())
            .build()
            .expect("valid");
        cb.try_acquire().expect("closed").failure("down");
        clock.advance(Duration::from_secs(10));
        let _probe = cb.try_acquire().expect("a probe");
        // Nobody looks until the probe has been out 7 s: it timed out after 5.
        clock.advance(Duration::from_secs(7));
        cb.try_acquire().expect_err("open again");
    });
    let reopened = line(&log, "circuit call_service_b: HALF_OPEN -> OPEN");
    assert!(
        reopened.ends_with("due=\"2026-12-01T16:07:08.316194Z\""),
        "5 s after the probe left, not when it was seen: {reopened}"
    );
    assert!(!log.contains(" INFO "), "only warnings are kept:\n{log}");
}
