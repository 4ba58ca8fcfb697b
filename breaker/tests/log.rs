//! Every transition is logged with `tracing`: a warning when the circuit opens, information
//! otherwise, with the breaker, from, to and reason as fields of their own, and for a move that
//! time alone caused, when it fell due.
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

#[test]
fn every_transition_is_logged_with_from_to_and_reason() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // 2026-12-01T16:06:53.316194Z on the breaker's clock when the circuit opens.
    let clock =
        ManualClock::with_wall_origin(UNIX_EPOCH + Duration::from_micros(1_796_141_213_316_194));
    tracing::subscriber::with_default(subscriber, || {
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
    let log = String::from_utf8(buffer.0.lock().expect("not poisoned").clone()).expect("utf-8");
    let line = |needle: &str| {
        log.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{log}"))
    };
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
