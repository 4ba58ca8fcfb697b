//! The rejection: everything a caller needs to act on a refused call, formatted only on demand.

use crate::State;
use crate::text::Text;
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The breaker refused a call; the call did not run.
///
/// It carries the breaker's name, the state that refused, when a probe may pass (as wall-clock
/// time and as time remaining), the consecutive failure count and the last failure's text.
/// Building one does not allocate: the name is interned when the breaker is built, a failure
/// text of up to 23 bytes is copied inline and a longer one shared by reference count, and
/// nothing is formatted until the error is displayed. Each thread takes the breaker's lock once
/// per trip, to cache the failure count and text; after that a rejection takes no lock.
///
/// While Open, `Display` gives exactly the Python `circuitbreaker` library's message:
///
/// ```text
/// Circuit "call_service_b" OPEN until 2025-05-15 08:40:21.758729+00:00 (3 failures, 10 sec remaining) (last_failure: HTTP 500)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub(crate) name: &'static str,
    pub(crate) state: State,
    pub(crate) deadline: Option<Deadline>,
    pub(crate) failures: u32,
    pub(crate) probes_in_flight: u32,
    pub(crate) last_failure: Option<Text>,
}

/// When an Open circuit lets a probe through, as plain nanoseconds so that the hot path does
/// no date arithmetic; the getters convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// The deadline as wall-clock time, in nanoseconds since the Unix epoch.
    pub(crate) wall_until: u64,
    /// How long from the rejection to the deadline, in nanoseconds.
    pub(crate) remaining: u64,
}

impl Deadline {
    pub(crate) fn retry_at(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.wall_until)
    }

    pub(crate) fn remaining(self) -> Duration {
        Duration::from_nanos(self.remaining)
    }
}

impl Rejected {
    /// The breaker's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The state that refused the call: `Open`, `HalfOpen` (every probe slot busy) or
    /// `ForcedOpen`.
    pub fn state(&self) -> State {
        self.state
    }

    /// When the Open circuit will let a probe through, as wall-clock time. `None` unless Open.
    pub fn retry_at(&self) -> Option<SystemTime> {
        self.deadline.map(Deadline::retry_at)
    }

    /// How long until the Open circuit lets a probe through. `None` unless Open.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(Deadline::remaining)
    }

    /// Consecutive failures, counted as the Python library does (a failed probe adds one).
    pub fn failure_count(&self) -> u32 {
        self.failures
    }

    /// The last failure's text, if any call has failed.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_ref().map(Text::as_str)
    }

    fn last_failure_text(&self) -> &str {
        self.last_failure
            .as_ref()
            .map(Text::as_str)
            .unwrap_or("None")
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match (self.state, self.retry_at(), self.remaining()) {
            (State::Open, Some(retry_at), Some(remaining)) => write!(
                f,
                "Circuit \"{name}\" OPEN until {} ({} failures, {} sec remaining) (last_failure: {})",
                DateTime::<Utc>::from(retry_at).format("%Y-%m-%d %H:%M:%S%.6f+00:00"),
                self.failures,
                whole_seconds_rounded_up(remaining),
                self.last_failure_text(),
            ),
            (State::HalfOpen, ..) => write!(
                f,
                "Circuit \"{name}\" HALF_OPEN: {} probe(s) already testing the backend, call \
                 rejected ({} failures) (last_failure: {})",
                self.probes_in_flight,
                self.failures,
                self.last_failure_text(),
            ),
            (State::ForcedOpen, ..) => write!(
                f,
                "Circuit \"{name}\" FORCED_OPEN: every call is rejected until the breaker is reset"
            ),
            (state, ..) => write!(f, "Circuit \"{name}\" {state}: call rejected"),
        }
    }
}

impl std::error::Error for Rejected {}

fn whole_seconds_rounded_up(remaining: Duration) -> u64 {
    remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(remaining: Duration) -> Rejected {
        Rejected {
            name: "call_service_b",
            state: State::Open,
            deadline: Some(Deadline {
                // 2025-05-15 08:40:21.758729 UTC
                wall_until: 1_747_298_421_758_729_000,
                remaining: u64::try_from(remaining.as_nanos()).expect("small"),
            }),
            failures: 3,
            probes_in_flight: 0,
            last_failure: Some(Text::from(
                "HTTP 500 from http://127.0.0.1:5001/api?fail=true",
            )),
        }
    }

    #[test]
    fn open_rejection_reads_exactly_like_the_python_library() {
        assert_eq!(
            open(Duration::from_millis(9_200)).to_string(),
            "Circuit \"call_service_b\" OPEN until 2025-05-15 08:40:21.758729+00:00 \
             (3 failures, 10 sec remaining) (last_failure: HTTP 500 from \
             http://127.0.0.1:5001/api?fail=true)"
        );
    }

    #[test]
    fn remaining_seconds_round_up_but_whole_seconds_stay() {
        assert_eq!(whole_seconds_rounded_up(Duration::from_secs(10)), 10);
        assert_eq!(whole_seconds_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(whole_seconds_rounded_up(Duration::ZERO), 0);
    }

    #[test]
    fn half_open_and_forced_open_rejections_say_what_happened() {
        let half_open = Rejected {
            state: State::HalfOpen,
            deadline: None,
            probes_in_flight: 1,
            ..open(Duration::ZERO)
        };
        assert!(
            half_open
                .to_string()
                .starts_with("Circuit \"call_service_b\" HALF_OPEN: 1 probe(s) already testing")
        );
        let forced = Rejected {
            state: State::ForcedOpen,
            ..half_open
        };
        assert_eq!(
            forced.to_string(),
            "Circuit \"call_service_b\" FORCED_OPEN: every call is rejected until the breaker is reset"
        );
    }
}
