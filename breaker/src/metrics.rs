//! What a breaker tells the world: call counts by outcome, the snapshot, and events to its
//! listeners with a `tracing` line per transition.

use crate::config::Config;
use crate::vocabulary::{Reason, State, Transition};
use chrono::{DateTime, Utc};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::Level;

/// Calls counted by outcome since the breaker was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CallCounts {
    /// Calls that succeeded.
    pub successful: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls (successful or failed) that took at least `slow_call_duration`.
    pub slow: u64,
    /// Calls whose outcome counted as neither success nor failure.
    pub ignored: u64,
    /// Calls rejected without running.
    pub rejected: u64,
}

/// A breaker's state and counts at one moment: what `/breaker` endpoints, dashboards and the
/// [`Registry`](crate::Registry) show.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The breaker's name.
    pub name: String,
    /// The state (HalfOpen as soon as the open duration has passed).
    pub state: State,
    /// Consecutive failures, counted as the Python library does.
    pub consecutive_failures: u32,
    /// Calls by outcome since the breaker was built.
    pub calls: CallCounts,
    /// Calls held by the sliding window, when a rate policy keeps one.
    pub window_calls: Option<u32>,
    /// Failure percentage over the sliding window, when a rate policy keeps one and it holds a
    /// call.
    pub failure_rate: Option<f64>,
    /// Slow-call percentage over the sliding window, likewise.
    pub slow_call_rate: Option<f64>,
    /// The probability, 0 to 1, that the adaptive throttle rejects a call asked for now (it
    /// acts while Closed only); `None` without a throttle.
    pub rejection_probability: Option<f64>,
    /// State changes since the breaker was built.
    pub transitions: u64,
    /// Probes running now (HalfOpen only).
    pub probes_in_flight: u32,
    /// Probes of the current HalfOpen episode that succeeded, towards `success_threshold`
    /// (Resilience4j reports the same as its half-open successful calls). 0 outside HalfOpen:
    /// every transition starts the count afresh, and ignored probes do not count.
    pub probe_successes: u32,
    /// When the Open circuit will let a probe through, as wall-clock time.
    pub open_until: Option<SystemTime>,
    /// How long until then.
    pub remaining: Option<Duration>,
    /// Why the circuit is Open, while it is: its own trip policy, a failed probe, or a
    /// command ([`CircuitBreaker::open_for`](crate::CircuitBreaker::open_for) and the like).
    pub opened_by: Option<Reason>,
    /// The last failure's text.
    pub last_failure: Option<String>,
    /// The configuration.
    pub config: Config,
}

/// Something that happened to a breaker, passed to every listener registered with
/// [`Builder::on_event`](crate::Builder::on_event).
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// The breaker's name.
    pub breaker: &'a str,
    /// What happened.
    pub kind: EventKind<'a>,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, Copy)]
pub enum EventKind<'a> {
    /// The breaker changed state.
    StateChanged(Transition),
    /// A call succeeded. `elapsed` is known when slow calls are measured.
    Succeeded {
        /// How long the call took, when slow calls are measured.
        elapsed: Option<Duration>,
        /// Whether it took at least `slow_call_duration`.
        slow: bool,
    },
    /// A call failed.
    Failed {
        /// The failure's text.
        cause: &'a str,
        /// How long the call took, when slow calls are measured.
        elapsed: Option<Duration>,
        /// Whether it took at least `slow_call_duration`.
        slow: bool,
    },
    /// A call ended with an outcome that counts as neither success nor failure.
    Ignored,
    /// A call was rejected without running.
    Rejected {
        /// The state that rejected it.
        state: State,
    },
}

/// A listener callback.
pub(crate) type Listener = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// The listeners of one breaker, fixed when it is built so that notifying takes no lock: those
/// that hear every event, and those that hear transitions only.
#[derive(Clone)]
pub(crate) struct Listeners {
    every_event: Arc<[Listener]>,
    transitions: Arc<[Listener]>,
}

impl Listeners {
    pub(crate) fn new(every_event: Vec<Listener>, transitions: Vec<Listener>) -> Self {
        Self {
            every_event: every_event.into(),
            transitions: transitions.into(),
        }
    }

    /// Whether anyone listens to outcomes and rejections: the hot path checks this before
    /// building an event.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.every_event.is_empty()
    }

    /// Calls every listener of every event.
    pub(crate) fn emit(&self, breaker: &str, kind: EventKind<'_>) {
        call_each(&self.every_event, &Event { breaker, kind });
    }

    /// Logs a transition and tells the listeners. Called after the machine's lock is released,
    /// so a listener may call back into the breaker.
    ///
    /// The line reads `circuit call_service_b: CLOSED -> OPEN (3 consecutive failures)`, a
    /// warning when the circuit opens and information otherwise, and carries the breaker's
    /// name, the states left and entered (as [`State::as_str`] names them) and the reason as
    /// fields of their own, so a JSON log gives a log shipper `breaker`, `from`, `to` and
    /// `reason` to index without parsing the message.
    ///
    /// A move that time alone causes is made when someone next looks (a call, a snapshot), so
    /// the line's own timestamp is that look's; `due` is when the move fell due, and the line
    /// says it too, in the message and as a `due` field:
    /// `OPEN -> HALF_OPEN (recovery timeout elapsed at 2026-12-01T16:07:03.316194Z)`.
    pub(crate) fn transition(
        &self,
        breaker: &str,
        transition: Transition,
        due: Option<SystemTime>,
    ) {
        let (from, to, reason) = (
            transition.from.as_str(),
            transition.to.as_str(),
            transition.reason,
        );
        // Written only when the line is: a breaker nobody logs does no date arithmetic.
        let logged = match transition.to {
            State::Open | State::ForcedOpen => tracing::enabled!(target: "breaker", Level::WARN),
            _ => tracing::enabled!(target: "breaker", Level::INFO),
        };
        let due = due.filter(|_| logged).map(|due| {
            DateTime::<Utc>::from(due).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        });
        let line = Line {
            transition,
            due: due.as_deref(),
        };
        let due = due.as_deref();
        match transition.to {
            State::Open | State::ForcedOpen => {
                tracing::warn!(target: "breaker", breaker, from, to, %reason, due, "circuit {breaker}: {line}");
            }
            _ => {
                tracing::info!(target: "breaker", breaker, from, to, %reason, due, "circuit {breaker}: {line}");
            }
        }
        let event = Event {
            breaker,
            kind: EventKind::StateChanged(transition),
        };
        call_each(&self.every_event, &event);
        call_each(&self.transitions, &event);
    }
}

/// A transition as its log line's message says it: `OPEN -> HALF_OPEN (recovery timeout
/// elapsed)`, with ` at <due>` before the closing parenthesis when time alone caused it.
struct Line<'a> {
    transition: Transition,
    due: Option<&'a str>,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Transition { from, to, reason } = self.transition;
        match self.due {
            Some(due) => write!(f, "{from} -> {to} ({reason} at {due})"),
            None => write!(f, "{}", self.transition),
        }
    }
}

/// Calls each listener with `event`. A listener that panics is logged and skipped: listeners
/// run in the middle of a call's bookkeeping (between admitting a probe and handing out its
/// permit, between taking a verdict and recording it), and a panic there must not leave a
/// probe slot held with nothing left to free it.
fn call_each(listeners: &[Listener], event: &Event<'_>) {
    for listener in listeners {
        if panic::catch_unwind(AssertUnwindSafe(|| listener(event))).is_err() {
            let breaker = event.breaker;
            tracing::error!(target: "breaker", "circuit {breaker}: an event listener panicked");
        }
    }
}
