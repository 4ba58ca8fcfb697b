//! [`LogLimiter`]: at most a few lines of one kind a second, so that a flood of failures (a
//! client hammering a failing route, a client opening connections as fast as it can) cannot
//! flood the log; the next line let through after some were held back is preceded by one
//! saying how many.
//!
//! ```
//! use service_kit::log_limit::LogLimiter;
//!
//! static FAILED_CALLS: LogLimiter = LogLimiter::new("call to service B failed", 5);
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut written = 0;
//! for _ in 0..1_000 {
//!     if FAILED_CALLS.admit() {
//!         written += 1; // tracing::warn!(..., "call to service B failed")
//!     }
//! }
//! assert_eq!(written, 5);
//! # }
//! ```
//!
//! The limit is per limiter, not per call site or per client: one limiter per kind of line.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

/// How long each count of lines lasts.
pub const WINDOW: Duration = Duration::from_secs(1);

/// Lets at most `per_window` lines of one kind through each [`WINDOW`]; see the
/// [module](self) docs.
///
/// A `const fn` constructor, so a limiter can be a `static` beside the line it guards. A std
/// mutex: it is held for a few comparisons, never across an `.await`.
#[derive(Debug)]
pub struct LogLimiter {
    what: &'static str,
    per_window: u32,
    window: Mutex<Window>,
}

impl LogLimiter {
    /// A limiter letting `per_window` lines a second through; `what` names the lines in the
    /// one that reports how many were held back.
    pub const fn new(what: &'static str, per_window: u32) -> Self {
        Self {
            what,
            per_window,
            window: Mutex::new(Window::new()),
        }
    }

    /// Whether to write the line now. When lines were held back since the last one written,
    /// first logs (at WARN) how many, with a `suppressed` field.
    ///
    /// Reads tokio's clock, so a test with a paused clock drives the windows.
    pub fn admit(&self) -> bool {
        let decision = self
            .window
            .lock()
            // Every update leaves the window consistent: a poisoned lock is still usable.
            .unwrap_or_else(PoisonError::into_inner)
            .decide(Instant::now(), self.per_window);
        match decision {
            Decision::Write { held_back: 0 } => true,
            Decision::Write { held_back } => {
                warn!(
                    suppressed = held_back,
                    "{held_back} more line(s) \"{}\" held back (at most {} a second)",
                    self.what,
                    self.per_window
                );
                true
            }
            Decision::HoldBack => false,
        }
    }
}

/// What [`Window::decide`] says about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Write it; `held_back` lines were not written since the last one that was.
    Write { held_back: u64 },
    /// Do not write it.
    HoldBack,
}

/// The count of the current window: a pure function of its state and `now`.
#[derive(Debug)]
struct Window {
    started: Option<Instant>,
    written: u32,
    held_back: u64,
}

impl Window {
    const fn new() -> Self {
        Self {
            started: None,
            written: 0,
            held_back: 0,
        }
    }

    fn decide(&mut self, now: Instant, per_window: u32) -> Decision {
        let current = self
            .started
            .is_some_and(|started| now.saturating_duration_since(started) < WINDOW);
        if !current {
            self.started = Some(now);
            self.written = 0;
        }
        if self.written >= per_window {
            self.held_back = self.held_back.saturating_add(1);
            return Decision::HoldBack;
        }
        self.written += 1;
        Decision::Write {
            held_back: std::mem::take(&mut self.held_back),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Captured;
    use tracing::Level;

    #[tokio::test(start_paused = true)]
    async fn a_window_lets_its_share_through_then_holds_back() {
        let mut window = Window::new();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(window.decide(start, 3), Decision::Write { held_back: 0 });
        }
        for _ in 0..100 {
            assert_eq!(window.decide(start, 3), Decision::HoldBack);
        }
        let almost = start + WINDOW - Duration::from_millis(1);
        assert_eq!(window.decide(almost, 3), Decision::HoldBack);
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_line_of_a_new_window_counts_what_was_held_back() {
        let mut window = Window::new();
        let start = Instant::now();
        window.decide(start, 1);
        for _ in 0..41 {
            window.decide(start, 1);
        }
        let next = start + WINDOW;
        assert_eq!(window.decide(next, 1), Decision::Write { held_back: 41 });
        assert_eq!(window.decide(next, 1), Decision::HoldBack);
        assert_eq!(
            window.decide(next + WINDOW * 5, 1),
            Decision::Write { held_back: 1 }
        );
        assert_eq!(
            window.decide(next + WINDOW * 10, 1),
            Decision::Write { held_back: 0 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_limiter_admits_its_share_each_second_on_tokios_clock() {
        let limiter = LogLimiter::new("test line", 2);
        let admitted = (0..50).filter(|_| limiter.admit()).count();
        assert_eq!(admitted, 2);
        tokio::time::advance(WINDOW).await;
        let admitted = (0..50).filter(|_| limiter.admit()).count();
        assert_eq!(admitted, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_next_line_written_is_preceded_by_how_many_were_held_back() {
        let (captured, _default) = Captured::on_this_thread(Level::INFO);
        let limiter = LogLimiter::new("call failed", 1);
        let admitted = (0..4).filter(|_| limiter.admit()).count();
        assert_eq!(admitted, 1);
        tokio::time::advance(WINDOW).await;
        assert!(limiter.admit());
        let text = captured.text();
        assert!(
            text.contains(
                r#"3 more line(s) "call failed" held back (at most 1 a second) suppressed=3"#
            ),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn a_limiter_of_zero_writes_nothing() {
        let mut window = Window::new();
        let now = Instant::now();
        assert_eq!(window.decide(now, 0), Decision::HoldBack);
    }
}
