//! Every transition is logged with `tracing`: a warning when the circuit opens, information
//! otherwise, with the breaker, from, to and reason as fields of their own.
//!
//! Alone in its own test binary on purpose: `tracing` caches, per call site, whether anyone
//! listens. A test on another thread that trips a breaker while no subscriber is set can cache
//! "nobody" for the transition's call site just as this test installs its subscriber, and the
//! line is lost. With one test in the binary there is no other thread.

// Under `--cfg loom` only tests/loom.rs runs; the rest needs dev-dependencies it leaves out.
#![cfg(not(loom))]

use std::io::Write;
use std::sync::{Arc, Mutex};
use trip_breaker::CircuitBreaker;

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
    tracing::subscriber::with_default(subscriber, || {
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(3)
            .build()
            .expect("valid");
        for _ in 0..3 {
            cb.try_acquire().expect("closed").failure("down");
        }
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
    let reset = line("circuit call_service_b: OPEN -> CLOSED (reset)");
    assert!(reset.contains(" INFO "), "closing is information: {reset}");
    assert!(reset.contains("to=\"closed\" reason=reset"), "{reset}");
}
