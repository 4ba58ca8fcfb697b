//! The errors a caller sees: a bad setting at build time, a call the breaker refused
//! ([`Rejected`]), or a call that ran and failed.

use crate::counted::Counted;
use crate::vocabulary::{Name, Reason, State, Text};
use chrono::{DateTime, Utc};
use std::fmt;
use std::num::NonZeroU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A setting that cannot work, found by [`Builder::build`](crate::Builder::build).
///
/// It names the field and says why, for example
/// ``invalid circuit breaker setting `failure_threshold`: must be at least 1 (got 0)``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid circuit breaker setting `{field}`: {reason}")]
pub struct ConfigError {
    field: &'static str,
    reason: String,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The setting at fault, as named by the builder method that sets it.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// Why the value cannot work.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The error of [`CircuitBreaker::call`](crate::CircuitBreaker::call): either the breaker
/// refused the call (the closure never ran) or the call ran and failed.
#[derive(Debug)]
pub enum Error<E> {
    /// The breaker rejected the call; the closure was not invoked.
    Rejected(Rejected),
    /// The call ran and returned this error.
    Inner(E),
}

impl<E> Error<E> {
    /// Whether the breaker refused the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Error::Rejected(_))
    }

    /// The rejection, if the breaker refused the call.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Error::Rejected(rejected) => Some(rejected),
            Error::Inner(_) => None,
        }
    }

    /// The call's own error, if the call ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            Error::Rejected(_) => None,
            Error::Inner(inner) => Some(inner),
        }
    }
}

impl<E> From<Rejected> for Error<E> {
    fn from(rejected: Rejected) -> Self {
        Error::Rejected(rejected)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected(rejected) => rejected.fmt(f),
            Error::Inner(inner) => inner.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Rejected(rejected) => Some(rejected),
            Error::Inner(inner) => Some(inner),
        }
    }
}

/// The breaker refused a call; the call did not run.
///
/// It carries the breaker's name, the state that refused, why the circuit opened, when a probe
/// may pass (as wall-clock time and as time remaining), the consecutive failure count and the
/// last failure's text. All but the time remaining is the same for every rejection of one trip,
/// so it is built once per trip and thread and shared: a rejection while Open takes no lock,
/// allocates nothing and copies two words (see `fast_path`); nothing is formatted until it is
/// displayed.
///
/// `Display` says truthfully why the call was refused. When failures opened the circuit (the
/// consecutive-failure policy, or a failed probe) it gives exactly the Python `circuitbreaker`
/// library's message:
///
/// ```text
/// Circuit "call_service_b" OPEN until 2025-05-15 08:40:21.758729+00:00 (3 failures, 10 sec remaining) (last_failure: HTTP 500)
/// ```
///
/// Any other reason takes the failure count's place, and the last failure is quoted only when
/// failures are the reason:
///
/// ```text
/// Circuit "payments" OPEN until 2025-05-15 08:40:21.758729+00:00 (failure rate 60.0% >= 50%, 30 sec remaining) (last_failure: HTTP 503)
/// Circuit "payments" OPEN until 2025-05-15 08:40:21.758729+00:00 (slow-call rate 80.0% >= 50%, 30 sec remaining)
/// Circuit "payments" OPEN until 2025-05-15 08:40:21.758729+00:00 (5 failures within 30s, 30 sec remaining) (last_failure: HTTP 503)
/// ```
///
/// A call the [adaptive throttle](crate::AdaptiveThrottle) rejected while Closed gives the
/// probability and the window's counts it was drawn from:
///
/// ```text
/// Circuit "payments" CLOSED: throttled, rejection probability 0.62 (40 requests, 12 accepted within 10s)
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Rejected {
    refusal: Counted<Refusal>,
    /// How long from the rejection to the deadline, in nanoseconds (0 without a deadline).
    remaining: u64,
}

/// What every rejection of one trip says, whatever the time: built once per trip and thread
/// while Open (`fast_path` keeps it), once per rejection otherwise.
#[derive(Debug, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) name: Name,
    pub(crate) state: State,
    /// The deadline as wall-clock time, in nanoseconds since the Unix epoch, while Open.
    pub(crate) wall_until: Option<NonZeroU64>,
    pub(crate) failures: u32,
    pub(crate) probes_in_flight: u32,
    pub(crate) opened_by: Option<Reason>,
    pub(crate) last_failure: Option<Text>,
}

// The rates and probabilities a `Reason` carries are computed from counted calls, never NaN, so
// equality is an equivalence.
impl Eq for Refusal {}

/// When an Open circuit lets a probe through, as plain nanoseconds so that the hot path does
/// no date arithmetic; the getters convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// The deadline as wall-clock time, in nanoseconds since the Unix epoch; never zero, so
    /// that `Option<Deadline>` costs no extra word.
    pub(crate) wall_until: NonZeroU64,
    /// How long from the rejection to the deadline, in nanoseconds.
    pub(crate) remaining: u64,
}

impl Deadline {
    pub(crate) fn retry_at(self) -> SystemTime {
        wall_time(self.wall_until)
    }

    pub(crate) fn remaining(self) -> Duration {
        Duration::from_nanos(self.remaining)
    }
}

fn wall_time(nanos: NonZeroU64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos.get())
}

impl Rejected {
    /// A rejection saying `refusal`, `remaining` nanoseconds before its deadline.
    #[inline]
    pub(crate) fn new(refusal: Counted<Refusal>, remaining: u64) -> Self {
        Self { refusal, remaining }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.refusal.name.as_str()
    }

    /// The state that refused the call: `Open`, `HalfOpen` (every probe slot busy) or
    /// `ForcedOpen`.
    pub fn state(&self) -> State {
        self.refusal.state
    }

    /// When the Open circuit will let a probe through, as wall-clock time. `None` unless Open.
    pub fn retry_at(&self) -> Option<SystemTime> {
        self.refusal.wall_until.map(wall_time)
    }

    /// How long until the Open circuit lets a probe through, from the rejection. `None` unless
    /// Open.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline().map(Deadline::remaining)
    }

    fn deadline(&self) -> Option<Deadline> {
        self.refusal.wall_until.map(|wall_until| Deadline {
            wall_until,
            remaining: self.remaining,
        })
    }

    /// Why the circuit opened, when it was Open or ForcedOpen for a while
    /// ([`Reason::ForcedOpenFor`]); `None` for HalfOpen and ForcedOpen; [`Reason::Throttled`]
    /// when the adaptive throttle rejected the call while Closed.
    pub fn reason(&self) -> Option<Reason> {
        self.refusal.opened_by
    }

    /// Consecutive failures, counted as the Python library does (a failed probe adds one); 0
    /// for a throttled call, whose reason carries the throttle's counts instead.
    pub fn failure_count(&self) -> u32 {
        self.refusal.failures
    }

    /// The last failure's text, if any call has failed; `None` for a throttled call.
    pub fn last_failure(&self) -> Option<&str> {
        self.refusal.last_failure.as_ref().map(Text::as_str)
    }

    fn last_failure_text(&self) -> &str {
        self.last_failure().unwrap_or("None")
    }
}

impl fmt::Debug for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refusal = &*self.refusal;
        f.debug_struct("Rejected")
            .field("name", &refusal.name)
            .field("state", &refusal.state)
            .field("deadline", &self.deadline())
            .field("failures", &refusal.failures)
            .field("probes_in_flight", &refusal.probes_in_flight)
            .field("opened_by", &refusal.opened_by)
            .field("last_failure", &refusal.last_failure)
            .finish()
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match (self.state(), self.deadline()) {
            (State::Open, Some(deadline)) => {
                let until = DateTime::<Utc>::from(deadline.retry_at());
                write!(f, "Circuit \"{name}\" OPEN until ")?;
                write!(f, "{} (", until.format("%Y-%m-%d %H:%M:%S%.6f+00:00"))?;
                match self.reason() {
                    None | Some(Reason::ConsecutiveFailures(_) | Reason::ProbeFailed) => {
                        write!(f, "{} failures", self.failure_count())?;
                    }
                    Some(reason) => write!(f, "{reason}")?,
                }
                let seconds = whole_seconds_rounded_up(deadline.remaining());
                write!(f, ", {seconds} sec remaining)")?;
                if self.failures_opened_it() {
                    write!(f, " (last_failure: {})", self.last_failure_text())?;
                }
                Ok(())
            }
            (State::HalfOpen, _) => write!(
                f,
                "Circuit \"{name}\" HALF_OPEN: {} probe(s) already testing the backend, call \
                 rejected ({} failures) (last_failure: {})",
                self.refusal.probes_in_flight,
                self.failure_count(),
                self.last_failure_text(),
            ),
            (State::Closed, _) => match self.reason() {
                Some(reason @ Reason::Throttled { .. }) => {
                    write!(f, "Circuit \"{name}\" CLOSED: throttled, {reason}")
                }
                _ => write!(f, "Circuit \"{name}\" CLOSED: call rejected"),
            },
            (State::ForcedOpen, _) => write!(
                f,
                "Circuit \"{name}\" FORCED_OPEN: every call is rejected until the breaker is reset"
            ),
            (state, _) => write!(f, "Circuit \"{name}\" {state}: call rejected"),
        }
    }
}

impl Rejected {
    /// Whether failed calls opened the circuit, so that the last failure explains the
    /// rejection; a slow-call rate, a probe that never answered or a manual command does not.
    fn failures_opened_it(&self) -> bool {
        matches!(
            self.reason(),
            None | Some(
                Reason::ConsecutiveFailures(_)
                    | Reason::ProbeFailed
                    | Reason::FailureRate { .. }
                    | Reason::FailuresWithin { .. }
            )
        )
    }
}

impl std::error::Error for Rejected {}

fn whole_seconds_rounded_up(remaining: Duration) -> u64 {
    remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::Name;

    fn open() -> Refusal {
        Refusal {
            name: Name::new("call_service_b"),
            state: State::Open,
            // 2025-05-15 08:40:21.758729 UTC
            wall_until: NonZeroU64::new(1_747_298_421_758_729_000),
            failures: 3,
            probes_in_flight: 0,
            opened_by: Some(Reason::ConsecutiveFailures(3)),
            last_failure: Some(Text::from(
                "HTTP 500 from http://127.0.0.1:5001/api?fail=true",
            )),
        }
    }

    fn rejected(refusal: Refusal, remaining: Duration) -> Rejected {
        let remaining = u64::try_from(remaining.as_nanos()).expect("small");
        Rejected::new(Counted::new(refusal), remaining)
    }

    #[test]
    fn open_rejection_reads_exactly_like_the_python_library() {
        assert_eq!(
            rejected(open(), Duration::from_millis(9_200)).to_string(),
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
        let half_open = Refusal {
            state: State::HalfOpen,
            wall_until: None,
            probes_in_flight: 1,
            ..open()
        };
        let forced = Refusal {
            state: State::ForcedOpen,
            ..open()
        };
        assert!(
            rejected(half_open, Duration::ZERO)
                .to_string()
                .starts_with("Circuit \"call_service_b\" HALF_OPEN: 1 probe(s) already testing")
        );
        assert_eq!(
            rejected(forced, Duration::ZERO).to_string(),
            "Circuit \"call_service_b\" FORCED_OPEN: every call is rejected until the breaker is reset"
        );
    }

    #[test]
    fn a_throttled_rejection_says_the_probability_and_the_windows_counts() {
        let throttled = Refusal {
            state: State::Closed,
            wall_until: None,
            failures: 0,
            opened_by: Some(Reason::Throttled {
                probability: 0.625,
                requests: 40,
                accepts: 12,
                window: Duration::from_secs(10),
            }),
            last_failure: None,
            ..open()
        };
        assert_eq!(
            rejected(throttled, Duration::ZERO).to_string(),
            "Circuit \"call_service_b\" CLOSED: throttled, rejection probability 0.62 \
             (40 requests, 12 accepted within 10s)"
        );
    }

    #[test]
    fn a_closed_rejection_names_the_throttle_only_when_the_throttle_made_it() {
        let closed = Refusal {
            state: State::Closed,
            wall_until: None,
            failures: 0,
            opened_by: None,
            last_failure: None,
            ..open()
        };
        assert_eq!(
            rejected(closed, Duration::ZERO).to_string(),
            "Circuit \"call_service_b\" CLOSED: call rejected"
        );
    }

    #[test]
    fn a_rejection_is_two_words_so_that_handing_one_back_is_cheap() {
        // What a caller's `Result` carries and copies: a rejection built on the hot path is a
        // pointer to its trip's record and the time remaining, nothing else.
        assert_eq!(size_of::<Rejected>(), 2 * size_of::<usize>());
        assert_eq!(size_of::<Result<(), Rejected>>(), 2 * size_of::<usize>());
    }

    #[test]
    fn rejections_of_one_trip_differ_only_in_the_time_remaining() {
        let refusal = Counted::new(open());
        let early = Rejected::new(refusal.clone(), 9_000_000_000);
        let late = Rejected::new(refusal, 1_000_000_000);
        assert_eq!(early.retry_at(), late.retry_at());
        assert_eq!(early.remaining(), Some(Duration::from_secs(9)));
        assert_eq!(late.remaining(), Some(Duration::from_secs(1)));
        assert_ne!(early, late);
        assert_eq!(early.clone(), early);
    }
}
