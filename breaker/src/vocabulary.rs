//! The words of the breaker, at the bottom of the crate: where a breaker stands ([`State`]), why
//! it moved ([`Reason`], [`Transition`]) and how a call ended ([`Outcome`]), with the names logs,
//! metrics and rejections print for them; and the two texts every rejection carries, a failure's
//! ([`Text`]) and the breaker's name ([`Name`]). Everything else is written in these words.

use std::fmt::{self, Write};
use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// Where a breaker stands. The [crate docs](crate) have the table of what each state does.
///
/// `Display` gives the upper-case names the Python `circuitbreaker` library prints (`OPEN`,
/// `HALF_OPEN`); [`State::as_str`] gives the lower-case names used in JSON and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
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

/// Why the breaker changed state, or, for [`Reason::Throttled`], why it rejected a call while
/// Closed.
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
    /// Not a change of state: the adaptive throttle rejected a call while Closed
    /// ([`AdaptiveThrottle`](crate::AdaptiveThrottle)), with this probability, the window's
    /// counts before the call being what it was computed from.
    Throttled {
        /// The rejection probability, 0 to 1.
        probability: f64,
        /// Calls asked for within the window, the throttled ones included.
        requests: u64,
        /// Calls within the window that succeeded.
        accepts: u64,
        /// How far back the window counts.
        window: Duration,
    },
    /// The replicas of a fleet that share what they learned (the `breaker-fleet` crate) moved
    /// this breaker: opened it on their evidence, kept it Open while another replica probes,
    /// or closed it on that probe's success. `Display` starts with `fleet:`.
    Fleet(FleetReason),
}

/// Why the replicas of a fleet moved a breaker: the payload of [`Reason::Fleet`], each
/// displayed after `fleet: `.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FleetReason {
    /// `failures` failures from `replicas_failing` of `replicas` live replicas within
    /// `within` reached this breaker's failure threshold.
    Failures {
        /// The failures summed over the replicas.
        failures: u32,
        /// The replicas that contributed at least one.
        replicas_failing: u32,
        /// The live replicas, this one included.
        replicas: u32,
        /// How far back a replica's failures count.
        within: Duration,
    },
    /// The failure rate over the calls summed from the replicas' windows reached this
    /// breaker's `failure_rate_threshold`.
    FailureRate {
        /// The rate measured over the replicas' windows, in percent.
        rate: f64,
        /// This breaker's threshold, in percent.
        threshold: f64,
        /// The replicas that contributed at least one failure.
        replicas_failing: u32,
        /// The live replicas, this one included.
        replicas: u32,
    },
    /// `open` of `replicas` live replicas report their circuit Open.
    ReplicasOpen {
        /// The replicas that report Open.
        open: u32,
        /// The live replicas, this one included.
        replicas: u32,
    },
    /// Another replica holds the fleet's one probe: this one stays Open until its result.
    ProbeElsewhere,
    /// Another replica's probe succeeded: the backend answers again.
    ProbeSucceeded,
    /// Another replica's probe failed: this one stays Open for another recovery period.
    ProbeFailed,
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
/// use trip_breaker::Outcome;
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
    #[inline]
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
    #[inline]
    pub fn is_success(&self) -> bool {
        matches!(self.0, Ended::Success)
    }

    /// Whether this is a failure.
    #[inline]
    pub fn is_failure(&self) -> bool {
        matches!(self.0, Ended::Failure(_))
    }

    /// Whether this is ignored.
    #[inline]
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
            Reason::Throttled {
                probability,
                requests,
                accepts,
                window,
            } => write!(
                f,
                "rejection probability {probability:.2} ({requests} requests, {accepts} \
                 accepted within {window:?})"
            ),
            Reason::Fleet(fleet) => write!(f, "fleet: {fleet}"),
        }
    }
}

impl fmt::Display for FleetReason {
    /// `3 failures from 2 of 5 replicas within 10s`, `2 of 5 replicas open`: the text after
    /// `fleet: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FleetReason::Failures {
                failures,
                replicas_failing,
                replicas,
                within,
            } => write!(
                f,
                "{failures} failures from {replicas_failing} of {replicas} replicas within \
                 {within:?}"
            ),
            FleetReason::FailureRate {
                rate,
                threshold,
                replicas_failing,
                replicas,
            } => write!(
                f,
                "failure rate {rate:.1}% >= {threshold}% from {replicas_failing} of {replicas} \
                 replicas"
            ),
            FleetReason::ReplicasOpen { open, replicas } => {
                write!(f, "{open} of {replicas} replicas open")
            }
            FleetReason::ProbeElsewhere => f.write_str("another replica is probing"),
            FleetReason::ProbeSucceeded => f.write_str("another replica's probe succeeded"),
            FleetReason::ProbeFailed => f.write_str("another replica's probe failed"),
        }
    }
}

impl fmt::Display for Transition {
    /// `CLOSED -> OPEN (3 consecutive failures)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} ({})", self.from, self.to, self.reason)
    }
}

// ----- Failure texts and names, cheap to copy --------------------------------------------------

/// Bytes a text may have and still be held inline.
const INLINE: usize = 23;
/// The longest text kept, in bytes: a failure's text is quoted in every rejection until the
/// next failure, and its source (an error message, a URL with a client's query in it) is not
/// ours to bound. A longer one is cut on a character boundary and ends in `…`.
pub(crate) const MAX_TEXT: usize = 256;

/// A failure's text: held inline when short, shared when long, cheap to copy either way.
///
/// Every record of a trip copies the last failure's text, once per trip and thread. The usual
/// small-string layout (`smol_str`'s) packs the length into a one-byte tag in front of the
/// buffer; a copy of it mixes byte and word stores, which wide loads of the copy then cannot
/// forward. The inline buffer below is three whole words, so a copy moves whole words.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Text {
    Inline(Inline),
    Shared(Arc<str>),
}

/// Up to 23 bytes of UTF-8 and their length, 8-byte aligned so that copies are whole words.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Inline {
    bytes: [u8; INLINE],
    len: u8,
}

impl Text {
    /// The text `value` displays as, cut at [`MAX_TEXT`] bytes. Only a text longer than 23
    /// bytes allocates.
    pub(crate) fn display(value: impl fmt::Display) -> Self {
        let mut writer = Writer::Inline(Inline {
            bytes: [0; INLINE],
            len: 0,
        });
        // Writing to a buffer or a String cannot fail, and a cut text reports an error only to
        // stop the formatting; a Display impl that reports an error of its own leaves what it
        // wrote so far.
        let _ = write!(writer, "{value}");
        match writer {
            Writer::Inline(inline) => Text::Inline(inline),
            Writer::Spilled(text) => Text::Shared(text.into()),
            Writer::Cut(mut text) => {
                text.push('…');
                Text::Shared(text.into())
            }
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only whole `&str`s are ever written into the buffer, so this never falls back.
            Text::Inline(inline) => {
                std::str::from_utf8(&inline.bytes[..usize::from(inline.len)]).unwrap_or_default()
            }
            Text::Shared(text) => text,
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::display(text)
    }
}

/// Where `Text::display` is writing: the inline buffer until it would overflow, then a
/// `String` until it reaches [`MAX_TEXT`].
enum Writer {
    Inline(Inline),
    Spilled(String),
    /// Full: whatever comes next is dropped.
    Cut(String),
}

impl Write for Writer {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        match self {
            Writer::Inline(inline) => {
                let start = usize::from(inline.len);
                let end = start + piece.len();
                if end <= INLINE {
                    inline.bytes[start..end].copy_from_slice(piece.as_bytes());
                    // `end` is at most 23, so it fits the byte.
                    inline.len = end as u8;
                    return Ok(());
                }
                let mut text = String::with_capacity(end.clamp(64, MAX_TEXT + '…'.len_utf8()));
                text.push_str(std::str::from_utf8(&inline.bytes[..start]).unwrap_or_default());
                *self = Writer::Spilled(text);
                self.write_str(piece)
            }
            Writer::Spilled(text) => {
                if text.len() + piece.len() <= MAX_TEXT {
                    text.push_str(piece);
                    return Ok(());
                }
                // The longest head of `piece` that fits and ends on a character's boundary
                // (0 always does).
                let room = (0..=MAX_TEXT - text.len())
                    .rev()
                    .find(|&end| piece.is_char_boundary(end))
                    .unwrap_or(0);
                text.push_str(&piece[..room]);
                *self = Writer::Cut(std::mem::take(text));
                Err(fmt::Error)
            }
            Writer::Cut(_) => Err(fmt::Error),
        }
    }
}

/// A breaker's name, shared by the breaker, its builder and the records its rejections carry,
/// and freed with the last of them: a service may name breakers after tenants or hosts it
/// learns from data, and a name must not outlive what it names.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Name(Arc<str>);

impl Name {
    pub(crate) fn new(name: &str) -> Self {
        Self(name.into())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
