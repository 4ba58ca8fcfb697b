//! The state machine: every rule of the breaker, in the order of the diagram in the
//! [crate docs](crate).
//!
//! It is pure: it decides from its own state, how a call ended and the time it is handed. No
//! clock, no atomics, no threads, nothing there only for speed. The shell (`shell.rs`) keeps
//! one behind a mutex and hands it every step with the time; `state_machine/tests.rs` drives
//! it directly, one test per rule.

use crate::clock::nanos;
use crate::config::Config;
use crate::trip_policy::{Tally, TripPolicies};
use crate::vocabulary::{Outcome, Reason, State, Text, Transition};
use std::time::Duration;

#[cfg(test)]
mod tests;

/// The machine's answer to a call that asks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Run it.
    Call,
    /// Run it as one of the HalfOpen probes.
    Probe,
    /// Do not run it.
    Rejected,
}

/// A transition, and when it fell due if time alone caused it. The machine makes such a move
/// only when it is next handed the time, which may be long after: an Open circuit that nobody
/// calls half-opens at the next call, and its log line says when the recovery timeout ran out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moved {
    pub(crate) transition: Transition,
    /// When the move fell due, in nanoseconds on the breaker's clock; `None` for a move made
    /// by a call or a command, which is made when it falls due.
    pub(crate) due: Option<u64>,
}

impl From<Transition> for Moved {
    fn from(transition: Transition) -> Self {
        Self {
            transition,
            due: None,
        }
    }
}

/// The state machine of one breaker.
#[derive(Debug)]
pub(crate) struct Machine {
    config: Config,
    state: State,
    /// Grows by one at every transition. A call remembers the generation that admitted it; an
    /// outcome from an earlier generation (a slow call that started while Closed and ends after
    /// the circuit opened) no longer steers the machine.
    generation: u64,
    /// Closed's bookkeeping: the failure count, the windows and the policies that judge them.
    policies: TripPolicies,
    /// Open: when a probe may pass, in nanoseconds on the breaker's clock.
    open_until: u64,
    /// Open: why the circuit opened, which its rejections report.
    opened_by: Option<Reason>,
    last_failure: Option<Text>,
    /// Trips in a row, for the backoff; back to 0 when the circuit closes.
    trips: u32,
    probes: Probes,
    transitions: u64,
    rng: fastrand::Rng,
}

/// HalfOpen's bookkeeping.
#[derive(Debug, Default, Clone, Copy)]
struct Probes {
    in_flight: u32,
    succeeded: u32,
    /// Since when probes have been out with none answering: the admission of the first probe
    /// while none was out, or the last answer while others stayed out.
    out_since: u64,
}

impl Machine {
    /// A Closed machine with `config`, which must be valid.
    pub(crate) fn new(config: Config) -> Self {
        Self {
            policies: TripPolicies::new(&config),
            config,
            state: State::Closed,
            generation: 0,
            open_until: 0,
            opened_by: None,
            last_failure: None,
            trips: 0,
            probes: Probes::default(),
            transitions: 0,
            rng: fastrand::Rng::new(),
        }
    }

    // ----- Time passes ----------------------------------------------------------------------

    /// Makes the moves that time alone causes: Open becomes HalfOpen once the open duration has
    /// passed; HalfOpen opens again once a probe has been out for `half_open_max_wait`. Called
    /// before every other step, so the state is never reported past its deadline; the move
    /// says when it fell due.
    pub(crate) fn observe(&mut self, now: u64) -> Option<Moved> {
        match self.state {
            // `due` is read first: struct fields are evaluated in the order written, and the
            // move resets what it is read from.
            State::Open if now >= self.open_until => Some(Moved {
                due: Some(self.open_until),
                transition: self.transition(State::HalfOpen, Reason::RecoveryTimeoutElapsed),
            }),
            State::HalfOpen if self.probe_overdue(now) => {
                let waited = self.config.half_open_max_wait?;
                Some(Moved {
                    due: Some(self.probes.out_since.saturating_add(nanos(waited))),
                    transition: self.trip(Reason::ProbeTimedOut(waited), now),
                })
            }
            _ => None,
        }
    }

    fn probe_overdue(&self, now: u64) -> bool {
        let Some(wait) = self.config.half_open_max_wait else {
            return false;
        };
        self.probes.in_flight > 0 && now.saturating_sub(self.probes.out_since) >= nanos(wait)
    }

    // ----- A call asks to run ---------------------------------------------------------------

    /// Closed and Disabled let every call run; Open and ForcedOpen none; HalfOpen up to
    /// `half_open_max_calls` probes at a time.
    pub(crate) fn admit(&mut self, now: u64) -> Admission {
        match self.state {
            State::Closed | State::Disabled => Admission::Call,
            State::Open | State::ForcedOpen => Admission::Rejected,
            State::HalfOpen if self.probes.in_flight < self.config.half_open_max_calls => {
                if self.probes.in_flight == 0 {
                    self.probes.out_since = now;
                }
                self.probes.in_flight += 1;
                Admission::Probe
            }
            State::HalfOpen => Admission::Rejected,
        }
    }

    // ----- A call ended ---------------------------------------------------------------------

    /// Records how a call admitted in `generation` ended. `slow` says it took at least
    /// `slow_call_duration`; `time_window` gives what the threads' time window holds (this
    /// call included), when the breaker keeps one, or `None` when no rate could fire on it
    /// (see [`TripPolicies::record`]).
    pub(crate) fn record(
        &mut self,
        generation: u64,
        probe: bool,
        outcome: &Outcome,
        slow: bool,
        now: u64,
        time_window: impl FnOnce() -> Option<Tally>,
    ) -> Option<Transition> {
        if generation != self.generation {
            // Admitted before the last transition: it says nothing about the backend as the
            // current state knows it, and the transition freed any probe slot it held.
            return None;
        }
        match self.state {
            State::Closed => self.record_closed(outcome, slow, now, time_window),
            State::HalfOpen if probe => self.record_probe(outcome, slow, now),
            _ => None,
        }
    }

    /// Closed: the outcome goes into the policies' counts and windows; if a policy fires, the
    /// circuit opens.
    fn record_closed(
        &mut self,
        outcome: &Outcome,
        slow: bool,
        now: u64,
        time_window: impl FnOnce() -> Option<Tally>,
    ) -> Option<Transition> {
        if outcome.is_ignored() {
            return None;
        }
        if let Some(cause) = outcome.failure_text() {
            self.last_failure = Some(cause.clone());
        }
        let reason = self
            .policies
            .record(outcome.is_failure(), slow, now, time_window)?;
        Some(self.trip(reason, now))
    }

    /// HalfOpen: `success_threshold` successful probes close the circuit; one failed (or, with
    /// a slow-call policy, slow) probe opens it again.
    fn record_probe(&mut self, outcome: &Outcome, slow: bool, now: u64) -> Option<Transition> {
        self.probes.in_flight -= 1;
        // An answer: the probes still out are waited for afresh.
        self.probes.out_since = now;
        let slow_fails = slow && self.config.slow_call_rate_threshold.is_some();
        if outcome.is_ignored() {
            return None;
        }
        if outcome.is_success() && !slow_fails {
            self.policies.count_success();
            self.probes.succeeded += 1;
            let succeeded = self.probes.succeeded;
            return (succeeded >= self.config.success_threshold)
                .then(|| self.close(Reason::ProbesSucceeded(succeeded)));
        }
        // As in the Python library, a failed probe adds to the failure count: 3 failures
        // opened the circuit, the failed probe makes it 4.
        self.policies.count_failure();
        self.last_failure = Some(
            match (outcome.failure_text(), self.config.slow_call_duration) {
                (Some(cause), _) => cause.clone(),
                (None, Some(threshold)) => {
                    Text::display(format_args!("probe slower than {threshold:?}"))
                }
                (None, None) => Text::from("slow probe"),
            },
        );
        Some(self.trip(Reason::ProbeFailed, now))
    }

    /// Frees the probe slot of a call that ended with no outcome (dropped or cancelled).
    pub(crate) fn abandon(&mut self, generation: u64, probe: bool) {
        if probe && generation == self.generation {
            self.probes.in_flight -= 1;
        }
    }

    // ----- Manual commands ------------------------------------------------------------------

    /// Opens the circuit until [`Machine::reset`].
    pub(crate) fn force_open(&mut self) -> Option<Transition> {
        (self.state != State::ForcedOpen)
            .then(|| self.transition(State::ForcedOpen, Reason::ForcedOpen))
    }

    /// Opens the circuit for `lasting`, then HalfOpen as after a trip.
    pub(crate) fn force_open_for(&mut self, lasting: Duration, now: u64) -> Transition {
        self.open(
            Reason::ForcedOpenFor(lasting),
            now.saturating_add(nanos(lasting)),
        )
    }

    /// Opens the circuit until `now + lasting` with `reason`, as a trip would, when that
    /// adds to what the breaker does on its own: from Closed; from HalfOpen while no probe is
    /// out; from Open when the period would end later (the reason is then `reason`). Never
    /// while a probe is out, and never from ForcedOpen or Disabled.
    pub(crate) fn open_for(
        &mut self,
        lasting: Duration,
        reason: Reason,
        now: u64,
    ) -> Option<Transition> {
        let until = now.saturating_add(nanos(lasting));
        let opens = match self.state {
            State::Closed => true,
            State::HalfOpen => self.probes.in_flight == 0,
            State::Open => until > self.open_until,
            State::ForcedOpen | State::Disabled => false,
        };
        opens.then(|| self.open(reason, until))
    }

    /// Closes an Open circuit that `opened_by` opened, with `reason`: the end of an Open
    /// period that [`Machine::open_for`] began, when what it waited for has come.
    pub(crate) fn close_if_opened_by(
        &mut self,
        opened_by: Reason,
        reason: Reason,
    ) -> Option<Transition> {
        (self.state == State::Open && self.opened_by == Some(opened_by)).then(|| self.close(reason))
    }

    /// Lets every call through, recording nothing, until [`Machine::reset`].
    pub(crate) fn disable(&mut self) -> Option<Transition> {
        (self.state != State::Disabled).then(|| self.transition(State::Disabled, Reason::Disabled))
    }

    /// Back to a fresh Closed state: counts, windows, backoff and last failure forgotten.
    pub(crate) fn reset(&mut self) -> Option<Transition> {
        self.last_failure = None;
        if self.state == State::Closed {
            self.trips = 0;
            self.policies.clear();
            // No transition, but a new generation all the same: it empties a time window and
            // makes the outcomes of calls admitted before the reset count for nothing.
            self.generation += 1;
            return None;
        }
        Some(self.close(Reason::Reset))
    }

    // ----- The moves ------------------------------------------------------------------------

    /// Opens the circuit for the recovery timeout, longer on repeated trips with a backoff.
    fn trip(&mut self, reason: Reason, now: u64) -> Transition {
        self.trips = self.trips.saturating_add(1);
        let open_for = match self.config.backoff {
            Some(backoff) => {
                backoff.open_duration(self.config.recovery_timeout, self.trips, self.rng.f64())
            }
            None => self.config.recovery_timeout,
        };
        self.open(reason, now.saturating_add(nanos(open_for)))
    }

    fn open(&mut self, reason: Reason, until: u64) -> Transition {
        self.open_until = until;
        self.opened_by = Some(reason);
        self.policies.clear_windows();
        self.transition(State::Open, reason)
    }

    fn close(&mut self, reason: Reason) -> Transition {
        self.trips = 0;
        self.policies.clear();
        self.transition(State::Closed, reason)
    }

    fn transition(&mut self, to: State, reason: Reason) -> Transition {
        let from = std::mem::replace(&mut self.state, to);
        if to != State::Open {
            self.opened_by = None;
        }
        self.generation += 1;
        self.transitions += 1;
        self.probes = Probes::default();
        Transition { from, to, reason }
    }

    // ----- What the rest of the crate reads -------------------------------------------------

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn transitions(&self) -> u64 {
        self.transitions
    }

    pub(crate) fn probes_in_flight(&self) -> u32 {
        self.probes.in_flight
    }

    /// Probes of this HalfOpen episode that succeeded; 0 in any other state.
    pub(crate) fn probe_successes(&self) -> u32 {
        self.probes.succeeded
    }

    /// The trip policies, for what the fast path reads of them.
    pub(crate) fn policies(&self) -> &TripPolicies {
        &self.policies
    }

    pub(crate) fn last_failure(&self) -> Option<&Text> {
        self.last_failure.as_ref()
    }

    /// Why the circuit is Open, while it is.
    pub(crate) fn opened_by(&self) -> Option<Reason> {
        self.opened_by
    }

    /// Open: when a probe may pass.
    pub(crate) fn open_until(&self) -> Option<u64> {
        (self.state == State::Open).then_some(self.open_until)
    }

    /// Consecutive failures, counted as the Python library does.
    pub(crate) fn failure_count(&self) -> u32 {
        self.policies.consecutive_failures()
    }

    /// What the rate window holds, if a rate policy keeps one.
    pub(crate) fn window(&self, time_tally: impl FnOnce() -> Tally) -> Option<Tally> {
        self.policies.window(time_tally)
    }
}
