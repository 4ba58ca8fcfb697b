//! Events: what a breaker tells its listeners, and the `tracing` log of every transition.

use crate::{State, Transition};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

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

/// The listeners of one breaker, fixed when it is built so that notifying takes no lock.
#[derive(Clone)]
pub(crate) struct Listeners(Arc<[Listener]>);

impl Listeners {
    pub(crate) fn new(listeners: Vec<Listener>) -> Self {
        Self(listeners.into())
    }

    /// Whether anyone listens: the hot path checks this before building an outcome event.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Calls every listener. A listener that panics is logged and skipped: listeners run in
    /// the middle of a call's bookkeeping (between admitting a probe and handing out its
    /// permit, between taking a verdict and recording it), and a panic there must not leave a
    /// probe slot held with nothing left to free it.
    pub(crate) fn emit(&self, breaker: &str, kind: EventKind<'_>) {
        let event = Event { breaker, kind };
        for listener in self.0.iter() {
            if panic::catch_unwind(AssertUnwindSafe(|| listener(&event))).is_err() {
                tracing::error!(target: "breaker", "circuit {breaker}: an event listener panicked");
            }
        }
    }

    /// Logs a transition and tells the listeners. Called after the core's lock is released,
    /// so a listener may call back into the breaker.
    pub(crate) fn transition(&self, breaker: &str, transition: Transition) {
        match transition.to {
            State::Open | State::ForcedOpen => {
                tracing::warn!(target: "breaker", "circuit {breaker}: {transition}");
            }
            _ => tracing::info!(target: "breaker", "circuit {breaker}: {transition}"),
        }
        if self.any() {
            self.emit(breaker, EventKind::StateChanged(transition));
        }
    }
}

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Listeners({})", self.0.len())
    }
}
