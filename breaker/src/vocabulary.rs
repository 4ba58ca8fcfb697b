//! The words of the breaker, at the bottom of the crate: where a breaker stands ([`State`]), why
//! it moved ([`Reason`], [`Transition`]) and how a call ended ([`Outcome`]), with the names logs,
//! metrics and rejections print for them. Everything else is written in these words.

use crate::text::Text;
use std::fmt;
use std::time::Duration;

/// Where a breaker stands. The [crate docs](crate) have the table of what each state does.
///
/// `Display` gives the upper-case names the Python `circuitbreaker` library prints (`OPEN`,
/// `HALF_OPEN`); [`State::as_str`] gives the lower-case names used in JSON and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls flow; a trip policy may open the circuit.
    Closed,
    /// Calls are rejected without running, until the open duration passes.
    Open,
    /// Up to `half_open_max_calls` probes may run at once; the rest are rejected.
    HalfOpen,
    /// Manually opened: every call is rejected until `reset`.
    ForcedOpen,
    /// Manually disabled: every call flows and nothing trips until `reset`.
    Disabled,
}

/// Why the breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Reason {
    /// This many failures in a row reached `failure_threshold`.
    ConsecutiveFailures(u32),
    /// The failure rate over the window reached `failure_rate_threshold`.
    FailureRate {
        /// The rate measured, in percent.
        rate: f64,
        /// The configured threshold, in percent.
        threshold: f64,
    },
    /// The slow-call rate over the window reached `slow_call_rate_threshold`.
    SlowCallRate {
        /// The rate measured, in percent.
        rate: f64,
        /// The configured threshold, in percent.
        threshold: f64,
    },
    /// `failures` failures fell within `within`, the `failures_within` policy.
    FailuresWithin {
        /// The configured number of failures.
        failures: u32,
        /// The configured period.
        within: Duration,
    },
    /// The open duration passed: probes may now test the backend.
    RecoveryTimeoutElapsed,
    /// A probe failed (or was slow while a slow-call policy is on): open again.
    ProbeFailed,
    /// Probes stayed out this long (`half_open_max_wait`) with none answering: open again.
    ProbeTimedOut(Duration),
    /// This many probes succeeded, reaching `success_threshold`.
    ProbesSucceeded(u32),
    /// [`CircuitBreaker::force_open`](crate::CircuitBreaker::force_open) was called.
    ForcedOpen,
    /// [`CircuitBreaker::force_open_for`](crate::CircuitBreaker::force_open_for) was called
    /// with this duration.
    ForcedOpenFor(Duration),
    /// [`CircuitBreaker::disable`](crate::CircuitBreaker::disable) was called.
    Disabled,
    /// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset) was called.
    Reset,
}

/// One change of state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// How a finished call ended: a success, a failure with its text, or neither. A classifier
/// gives one to [`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with), the tower middleware or [`Permit::record`](crate::Permit::record).
///
/// ```
/// use breaker::Outcome;
///
/// // An HTTP client error says nothing about the backend's health: ignore it.
/// fn classify(status: u16) -> Outcome {
///     match status {
///         500.. => Outcome::failure(format_args!("HTTP {status}")),
///         400..=499 => Outcome::ignored(),
///         _ => Outcome::success(),
///     }
/// }
/// assert!(classify(503).is_failure());
/// assert_eq!(classify(503).cause(), Some("HTTP 503"));
/// assert!(classify(404).is_ignored());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome(Ended);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    Success,
    Failure(Text),
    Ignored,
}

impl Outcome {
    /// The call succeeded.
    pub fn success() -> Self {
        Outcome(Ended::Success)
    }

    /// The call failed; `cause` becomes the breaker's last failure. Texts up to 23 bytes are
    /// stored inline, without allocating; texts over 256 bytes are cut on a character boundary
    /// and end in `…`, since the last failure is quoted in every rejection.
    pub fn failure(cause: impl fmt::Display) -> Self {
        Outcome(Ended::Failure(Text::display(cause)))
    }

    /// The call counts as neither success nor failure (a client error says nothing about the
    /// backend); a probe slot it held is freed.
    pub fn ignored() -> Self {
        Outcome(Ended::Ignored)
    }

    /// Whether this is a success.
    pub fn is_success(&self) -> bool {
        matches!(self.0, Ended::Success)
    }

    /// Whether this is a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self.0, Ended::Failure(_))
    }

    /// Whether this is ignored.
    pub fn is_ignored(&self) -> bool {
        matches!(self.0, Ended::Ignored)
    }

    /// The failure's text, if this is a failure.
    pub fn cause(&self) -> Option<&str> {
        self.failure_text().map(Text::as_str)
    }

    pub(crate) fn failure_text(&self) -> Option<&Text> {
        match &self.0 {
            Ended::Failure(cause) => Some(cause),
            _ => None,
        }
    }
}

/// The classifier [`CircuitBreaker::call`](crate::CircuitBreaker::call) uses: `Ok` is a success, `Err` a failure described
/// by its `Display`. The tower middleware's default classifier, `ErrorIsFailure`, applies it.
pub fn default_classifier<T, E: fmt::Display>(result: &Result<T, E>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(error) => Outcome::failure(error),
    }
}

// ----- Their names, as logs, metrics, JSON and rejections print them -----------------------

impl State {
    /// The lower-case, snake-case name: `closed`, `open`, `half_open`, `forced_open`, `disabled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
            State::ForcedOpen => "FORCED_OPEN",
            State::Disabled => "DISABLED",
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ConsecutiveFailures(count) => write!(f, "{count} consecutive failures"),
            Reason::FailureRate { rate, threshold } => {
                write!(f, "failure rate {rate:.1}% >= {threshold}%")
            }
            Reason::SlowCallRate { rate, threshold } => {
                write!(f, "slow-call rate {rate:.1}% >= {threshold}%")
            }
            Reason::FailuresWithin { failures, within } => {
                write!(f, "{failures} failures within {within:?}")
            }
            Reason::RecoveryTimeoutElapsed => f.write_str("recovery timeout elapsed"),
            Reason::ProbeFailed => f.write_str("half-open probe failed"),
            Reason::ProbeTimedOut(after) => write!(f, "no probe answered within {after:?}"),
            Reason::ProbesSucceeded(1) => f.write_str("half-open probe succeeded"),
            Reason::ProbesSucceeded(count) => write!(f, "{count} half-open probes succeeded"),
            Reason::ForcedOpen => f.write_str("forced open"),
            Reason::ForcedOpenFor(lasting) => write!(f, "forced open for {lasting:?}"),
            Reason::Disabled => f.write_str("disabled"),
            Reason::Reset => f.write_str("reset"),
        }
    }
}

impl fmt::Display for Transition {
    /// `CLOSED -> OPEN (3 consecutive failures)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.reason)
    }
}
