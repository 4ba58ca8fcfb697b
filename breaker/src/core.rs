//! The state machine itself: decisions from (state, event, now).
//!
//! No atomics, no I/O, no clock: the breaker ([`crate::CircuitBreaker`]) keeps a `Core` behind
//! a mutex, passes it the time, and publishes what it decides to the atomics its lock-free fast
//! path reads. Every rule of the machine is unit-tested here without a runtime. The one input
//! not passed in is the random number that spreads a jittered open duration; `Backoff`'s own
//! tests pick that number directly.

use crate::clock::saturating_nanos;
use crate::text::Text;
use crate::window::{CountWindow, Tally};
use crate::{Config, Reason, SlidingWindow, State, Transition};
use std::time::Duration;

/// What a caller was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// The generation the call was admitted in.
    pub(crate) generation: u64,
    /// Whether the call holds one of the HalfOpen probe slots.
    pub(crate) probe: bool,
}

/// How a call ended, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Success,
    Failure,
    /// Counts as neither success nor failure (e.g. a client error): only frees a probe slot.
    Ignored,
}

#[derive(Debug)]
pub(crate) struct Core {
    config: Config,
    state: State,
    generation: u64,
    /// When the Open circuit will let a probe through, in nanoseconds on the breaker's clock.
    open_until: u64,
    consecutive_failures: u32,
    /// Trips in a row, for the backoff; reset when the circuit closes.
    trips: u32,
    probes_in_flight: u32,
    probe_successes: u32,
    /// The count window lives here; a time window lives with the threads (see `window.rs`)
    /// and reaches the core as a tally.
    window: Option<CountWindow>,
    last_failure: Option<Text>,
    transitions: u64,
    rng: fastrand::Rng,
}

impl Core {
    pub(crate) fn new(config: Config) -> Self {
        let window = match config.sliding_window {
            SlidingWindow::Count { size } if config.uses_window() => Some(CountWindow::new(size)),
            _ => None,
        };
        Self {
            config,
            state: State::Closed,
            generation: 0,
            open_until: 0,
            consecutive_failures: 0,
            trips: 0,
            probes_in_flight: 0,
            probe_successes: 0,
            window,
            last_failure: None,
            transitions: 0,
            rng: fastrand::Rng::new(),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn open_until(&self) -> u64 {
        self.open_until
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub(crate) fn last_failure(&self) -> Option<&Text> {
        self.last_failure.as_ref()
    }

    pub(crate) fn transitions(&self) -> u64 {
        self.transitions
    }

    pub(crate) fn probes_in_flight(&self) -> u32 {
        self.probes_in_flight
    }

    /// What the sliding window holds, if a rate policy keeps one. `time_tally` reads a time
    /// window, which the threads keep; it is called only when needed.
    pub(crate) fn tally(&self, time_tally: impl FnOnce(u64) -> Tally) -> Option<Tally> {
        if !self.config.uses_window() {
            return None;
        }
        Some(match &self.window {
            Some(window) => window.total(),
            None => time_tally(self.generation),
        })
    }

    /// Moves Open to HalfOpen once the open duration has passed. `acquire` calls it first, and
    /// the breaker calls it before every command and snapshot, so the state is never reported
    /// Open past its deadline.
    pub(crate) fn observe(&mut self, now: u64) -> Option<Transition> {
        (self.state == State::Open && now >= self.open_until)
            .then(|| self.transition(State::HalfOpen, Reason::RecoveryTimeoutElapsed))
    }

    /// Admits a call, or `None` to reject it.
    pub(crate) fn acquire(&mut self, now: u64) -> (Option<Ticket>, Option<Transition>) {
        let transition = self.observe(now);
        let probe = match self.state {
            State::Closed | State::Disabled => false,
            State::Open | State::ForcedOpen => return (None, transition),
            State::HalfOpen if self.probes_in_flight < self.config.half_open_max_calls => {
                self.probes_in_flight += 1;
                true
            }
            State::HalfOpen => return (None, transition),
        };
        let ticket = Ticket {
            generation: self.generation,
            probe,
        };
        (Some(ticket), transition)
    }

    /// Records how an admitted call ended. `slow` says the call took at least
    /// `slow_call_duration`; `cause` is the failure's text; `time_tally` reads a time window
    /// (already holding this call) for the generation it is given.
    pub(crate) fn record(
        &mut self,
        ticket: Ticket,
        verdict: Verdict,
        slow: bool,
        cause: Option<Text>,
        now: u64,
        time_tally: impl FnOnce(u64) -> Tally,
    ) -> Option<Transition> {
        if ticket.generation != self.generation {
            // Admitted before the last transition: it says nothing about the backend as the
            // current state knows it, and any probe slot it held was freed by the transition.
            return None;
        }
        match self.state {
            State::Closed => self.record_closed(verdict, slow, cause, now, time_tally),
            State::HalfOpen if ticket.probe => self.record_probe(verdict, slow, cause, now),
            _ => None,
        }
    }

    /// Frees the probe slot of a call that ended with no verdict (dropped or cancelled).
    pub(crate) fn abandon(&mut self, ticket: Ticket) {
        if ticket.probe && ticket.generation == self.generation {
            self.probes_in_flight -= 1;
        }
    }

    fn record_closed(
        &mut self,
        verdict: Verdict,
        slow: bool,
        cause: Option<Text>,
        now: u64,
        time_tally: impl FnOnce(u64) -> Tally,
    ) -> Option<Transition> {
        let failed = match verdict {
            Verdict::Ignored => return None,
            Verdict::Success => {
                self.consecutive_failures = 0;
                false
            }
            Verdict::Failure => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.last_failure = cause;
                true
            }
        };
        if let Some(window) = self.window.as_mut() {
            window.record(failed, slow);
        }
        // A fast success is never a reason to open: the policies are judged when a failed or
        // slow call is recorded, so a plain success needs no window read at all.
        if !(failed || slow) {
            return None;
        }
        let reason = self.trip_reason(failed, || self.tally(time_tally))?;
        Some(self.trip(reason, now))
    }

    /// Which policy, if any, says the circuit must open now.
    fn trip_reason(&self, failed: bool, tally: impl FnOnce() -> Option<Tally>) -> Option<Reason> {
        if let Some(threshold) = self.config.failure_threshold
            && failed
            && self.consecutive_failures >= threshold
        {
            return Some(Reason::ConsecutiveFailures(self.consecutive_failures));
        }
        let tally = tally().filter(|tally| tally.calls >= self.config.minimum_calls)?;
        if let (Some(threshold), Some(rate)) =
            (self.config.failure_rate_threshold, tally.failure_rate())
            && rate >= threshold
        {
            return Some(Reason::FailureRate { rate, threshold });
        }
        if let (Some(threshold), Some(rate)) =
            (self.config.slow_call_rate_threshold, tally.slow_rate())
            && rate >= threshold
        {
            return Some(Reason::SlowCallRate { rate, threshold });
        }
        None
    }

    fn record_probe(
        &mut self,
        verdict: Verdict,
        slow: bool,
        cause: Option<Text>,
        now: u64,
    ) -> Option<Transition> {
        self.probes_in_flight -= 1;
        // While a slow-call policy is on, a slow probe says the backend has not recovered.
        let slow_fails = slow && self.config.slow_call_rate_threshold.is_some();
        match verdict {
            Verdict::Ignored => None,
            Verdict::Success if !slow_fails => {
                self.consecutive_failures = 0;
                self.probe_successes += 1;
                let successes = self.probe_successes;
                (successes >= self.config.success_threshold)
                    .then(|| self.close(Reason::ProbesSucceeded(successes)))
            }
            Verdict::Success | Verdict::Failure => {
                // As in the Python library, a failed probe adds to the count: 3 failures opened
                // the circuit, the failed probe makes it 4.
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.last_failure = match cause {
                    Some(cause) => Some(cause),
                    None => Some(slow_probe_text(self.config.slow_call_duration)),
                };
                Some(self.trip(Reason::ProbeFailed, now))
            }
        }
    }

    fn trip(&mut self, reason: Reason, now: u64) -> Transition {
        self.trips = self.trips.saturating_add(1);
        let open_for = match self.config.backoff {
            Some(backoff) => {
                backoff.open_duration(self.config.recovery_timeout, self.trips, self.rng.f64())
            }
            None => self.config.recovery_timeout,
        };
        let open_for = saturating_nanos(open_for);
        self.open_until = now.saturating_add(open_for);
        self.clear_window();
        self.transition(State::Open, reason)
    }

    fn close(&mut self, reason: Reason) -> Transition {
        self.trips = 0;
        self.consecutive_failures = 0;
        self.clear_window();
        self.transition(State::Closed, reason)
    }

    /// Opens the circuit until [`Core::reset`].
    pub(crate) fn force_open(&mut self) -> Option<Transition> {
        (self.state != State::ForcedOpen)
            .then(|| self.transition(State::ForcedOpen, Reason::ForcedOpen))
    }

    /// Lets every call through, recording nothing, until [`Core::reset`].
    pub(crate) fn disable(&mut self) -> Option<Transition> {
        (self.state != State::Disabled).then(|| self.transition(State::Disabled, Reason::Disabled))
    }

    /// Back to a fresh Closed state: counts, window and backoff forgotten.
    pub(crate) fn reset(&mut self) -> Option<Transition> {
        self.last_failure = None;
        if self.state == State::Closed {
            self.consecutive_failures = 0;
            self.trips = 0;
            self.clear_window();
            // No transition, but a new generation all the same: it empties a time window and
            // makes the outcomes of calls admitted before the reset count for nothing.
            self.generation += 1;
            return None;
        }
        Some(self.close(Reason::Reset))
    }

    /// Empties a count window. A time window needs nothing: its buckets are tagged with the
    /// generation, which the transition that follows this call moves on.
    fn clear_window(&mut self) {
        if let Some(window) = self.window.as_mut() {
            window.clear();
        }
    }

    fn transition(&mut self, to: State, reason: Reason) -> Transition {
        let from = std::mem::replace(&mut self.state, to);
        self.generation += 1;
        self.transitions += 1;
        self.probes_in_flight = 0;
        self.probe_successes = 0;
        Transition { from, to, reason }
    }
}

fn slow_probe_text(threshold: Option<Duration>) -> Text {
    match threshold {
        Some(threshold) => Text::display(format_args!("probe slower than {threshold:?}")),
        None => Text::from("slow probe"),
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
