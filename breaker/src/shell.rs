//! The shell around the pure [`Machine`]: the lock it lives behind, the clock that hands it the
//! time, the commands, the snapshot and the announcements of its transitions.
//!
//! Every step of a call that the machine decides runs here the same way: take the lock, let the
//! machine observe the time, make the step, publish the outcome to the fast path, release the
//! lock, then tell the listeners. The fast path (`fast_path/`) is asked first and answers the
//! common cases without the lock; the `fast` calls below are all there is of it here.

use crate::clock::{ClockSource, nanos};
use crate::config::Config;
use crate::counted::Counted;
use crate::error::{Deadline, Refusal, Rejected};
use crate::fast_path::sync::{Mutex, MutexGuard};
use crate::fast_path::{FastPath, Stamp, TimeJudge, Word};
use crate::metrics::{EventKind, Listeners, Snapshot};
use crate::state_machine::{Admission, Machine, Moved};
use crate::throttle::Throttle;
use crate::trip_policy::Tally;
use crate::vocabulary::{Name, Outcome, Reason, State, Transition};
use std::num::NonZeroU64;
use std::time::{Duration, UNIX_EPOCH};

/// One breaker's state, shared by all its clones. (`CircuitBreaker` and the permits print
/// what matters of it in their own `Debug`.)
///
/// Aligned to 128 bytes so that the `Arc`'s reference counts, just before it, have a cache line
/// (and its adjacent-line prefetch pair) of their own: a handle cloned per request (axum's
/// `State`, the tower middleware's owned permit) writes them on every call, and every call on
/// every thread reads the fast path's word and the breaker's id, which must not share that
/// line. Two threads calling one breaker through the tower middleware: 36 to 47 ns a call
/// aligned against 48 to 58 ns not (criterion, three runs of each in turn, 2-core AMD EPYC Zen
/// 3); one thread's calls within 5 % either way.
#[repr(align(128))]
pub(crate) struct Shared {
    pub(crate) name: Name,
    locked: Mutex<Locked>,
    fast: FastPath,
    slow_call_duration: Option<u64>,
    /// The adaptive throttle, asked before each call while Closed when there is one.
    throttle: Option<Throttle>,
    clock: ClockSource,
    /// The wall-clock time at the clock's origin, in nanoseconds since the Unix epoch.
    wall_origin: u64,
    listeners: Listeners,
    /// Whether anyone hears every outcome and rejection, fixed when built: an event is built
    /// only then.
    listening: bool,
}

/// What the lock guards: the machine, and what the fast path knows of its time window.
struct Locked {
    machine: Machine,
    judge: TimeJudge,
}

impl Shared {
    pub(crate) fn new(
        name: Name,
        config: Config,
        clock: ClockSource,
        listeners: Listeners,
    ) -> Self {
        let shared = Self {
            name,
            fast: FastPath::new(&config, listeners.any()),
            listening: listeners.any(),
            locked: Mutex::new(Locked {
                judge: FastPath::judge(&config),
                machine: Machine::new(config.clone()),
            }),
            slow_call_duration: config.slow_call_duration.map(nanos),
            throttle: config.adaptive_throttle.map(Throttle::new),
            wall_origin: clock
                .wall_origin()
                .duration_since(UNIX_EPOCH)
                .map_or(0, nanos),
            clock,
            listeners,
        };
        shared.publish(&shared.lock());
        shared
    }

    #[inline]
    fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        // The machine never panics while locked (listeners run after the lock is released); a
        // poisoned one is still consistent, and serving beats failing every caller.
        self.locked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn publish(&self, locked: &Locked) -> Word {
        self.fast.publish(&locked.machine, &locked.judge)
    }

    /// When an Open circuit reaching `until` lets a probe through, seen at `now`.
    fn deadline(&self, now: u64, until: u64) -> Deadline {
        Deadline {
            wall_until: self.wall_time(until),
            remaining: until.saturating_sub(now),
        }
    }

    /// The clock's reading `at` as wall-clock time, in nanoseconds since the Unix epoch.
    fn wall_time(&self, at: u64) -> NonZeroU64 {
        // Zero would be 1970-01-01 with the circuit open since before it: one nanosecond later
        // says the same.
        NonZeroU64::new(self.wall_origin.saturating_add(at)).unwrap_or(NonZeroU64::MIN)
    }

    // ----- A call asks to run -----------------------------------------------------------------

    /// Admits a call or rejects it. Every step below returns this same type from its last
    /// expression, so a rejection is written once, straight into the caller's slot: assembling
    /// one and copying it cost a store-forwarding stall per copy.
    /// `permit` makes the caller's permit from the admission's stamp, so that the permit too
    /// is written once, where the caller wants it.
    #[inline]
    pub(crate) fn acquire<P>(&self, permit: impl FnOnce(Stamp) -> P) -> Result<P, Rejected> {
        let word = self.fast.load();
        if word.has(Word::ADMIT_BARE) {
            return Ok(permit(Stamp { word, started: 0 }));
        }
        if word.has(Word::REJECT)
            && let Some(rejected) = self.reject_fast(word)
        {
            return Err(rejected);
        }
        self.acquire_otherwise(word, permit)
    }

    #[inline]
    fn stamp(&self, word: Word) -> Stamp {
        let started = match self.slow_call_duration {
            Some(_) => self.clock.now_precise_nanos(),
            None => 0,
        };
        Stamp { word, started }
    }

    /// Every admission but a bare one: a timed call, a rejection, the throttle, the machine.
    /// Out of line, so that the admission above stays small where it is inlined: a caller that
    /// is admitted bare pays for none of this. Cold, so that the caller's code is laid out for
    /// the bare admission: 3 instructions fewer for a success through `try_acquire` (74
    /// against 77), 1 more for a throttled admission, which comes here every call (506 against
    /// 505; `scripts/bench-instructions.sh`).
    #[cold]
    #[inline(never)]
    fn acquire_otherwise<P>(
        &self,
        word: Word,
        permit: impl FnOnce(Stamp) -> P,
    ) -> Result<P, Rejected> {
        if word.has(Word::ADMIT_ALL) {
            return Ok(permit(self.stamp(word)));
        }
        // A rejecting word is never Closed: its calls go to the machine.
        if let Some(throttle) = &self.throttle
            && word.state() == State::Closed
        {
            return self.acquire_throttled(throttle, word, permit);
        }
        self.acquire_locked(permit)
    }

    /// Closed with a throttle: the throttle counts the request and admits it, or rejects it
    /// with its probability and counts. The machine is not asked: Closed admits every call.
    /// Kept out of line, so that the rejection path above stays small where it is inlined.
    #[inline(never)]
    fn acquire_throttled<P>(
        &self,
        throttle: &Throttle,
        word: Word,
        permit: impl FnOnce(Stamp) -> P,
    ) -> Result<P, Rejected> {
        if let Err(reason) = throttle.admit(self.now()) {
            self.rejected(State::Closed);
            return Err(self.throttled(reason));
        }
        Ok(permit(self.stamp(word)))
    }

    /// The rejection of a throttled call: the throttle's reason, no failure count or text (it
    /// was decided without the machine's lock).
    fn throttled(&self, reason: Reason) -> Rejected {
        let refusal = Refusal {
            name: self.name.clone(),
            state: State::Closed,
            wall_until: None,
            failures: 0,
            probes_in_flight: 0,
            opened_by: Some(reason),
            last_failure: None,
        };
        Rejected::new(Counted::new(refusal), 0)
    }

    /// A rejection while Open or ForcedOpen (as `word` says), without the lock, from this
    /// thread's record of the trip, counted; `None`, counting nothing, when the deadline has
    /// passed or this thread has no record of the trip (the machine then decides). Out of line
    /// and not generic: one copy serves every entry point, and it holds none of the caller's
    /// registers.
    #[inline(never)]
    fn reject_fast(&self, word: Word) -> Option<Rejected> {
        let until = self.fast.reject_until(word)?;
        // ForcedOpen's deadline never comes, and its rejections say no time remaining.
        let remaining = if until == u64::MAX {
            0
        } else {
            let now = self.now();
            if now >= until {
                return None;
            }
            until - now
        };
        let refusal = self.fast.reject(word)?;
        if self.listening {
            self.notify_rejected(word.state());
        }
        Some(Rejected::new(refusal, remaining))
    }

    /// Tells the listeners of a rejection the fast path made: out of line, so that a breaker
    /// no one listens to does not build the event.
    #[cold]
    fn notify_rejected(&self, state: State) {
        self.notify(EventKind::Rejected { state });
    }

    /// The machine decides: it observes the time, then admits the call or not.
    #[cold]
    fn acquire_locked<P>(&self, permit: impl FnOnce(Stamp) -> P) -> Result<P, Rejected> {
        let mut locked = self.lock();
        let now = self.now();
        let machine = &mut locked.machine;
        let observed = machine.observe(now);
        let admission = machine.admit(now);
        let result = match admission {
            Admission::Call => Ok(self.publish(&locked)),
            Admission::Probe => Ok(Word(self.publish(&locked).0 | Word::PROBE)),
            Admission::Rejected => {
                self.publish(&locked);
                let refusal = self
                    .fast
                    .remember_refusal(&locked.machine, self.refusal(&locked.machine));
                let until = locked.machine.open_until();
                Err(Rejected::new(
                    refusal,
                    until.map_or(0, |until| until.saturating_sub(now)),
                ))
            }
        };
        drop(locked);
        self.announce(observed);
        match result {
            Ok(word) => Ok(permit(self.stamp(word))),
            Err(rejected) => {
                self.rejected(rejected.state());
                Err(rejected)
            }
        }
    }

    /// What the machine's rejections say until its next step, built under its lock.
    fn refusal(&self, machine: &Machine) -> Refusal {
        Refusal {
            name: self.name.clone(),
            state: machine.state(),
            wall_until: machine.open_until().map(|until| self.wall_time(until)),
            failures: machine.failure_count(),
            probes_in_flight: machine.probes_in_flight(),
            opened_by: machine.opened_by(),
            last_failure: machine.last_failure().cloned(),
        }
    }

    fn rejected(&self, state: State) {
        self.fast.count_rejected();
        self.notify(EventKind::Rejected { state });
    }

    // ----- A call ended -----------------------------------------------------------------------

    /// Records a success: with one atomic load and a counter when the fast path can.
    #[inline]
    pub(crate) fn succeed(&self, stamp: Stamp) {
        if !self.fast.succeed_quietly(stamp) {
            self.settle_in_full(stamp, Outcome::success());
        }
    }

    /// Records how an admitted call ended: counted, timed, told to the listeners, and brought
    /// to the machine unless the fast path says it would change nothing there. Every way of
    /// settling (a permit's `success` or `record`, `call`, `call_with`, the tower middleware)
    /// tries [`succeed`](Self::succeed) first for a success, inlined, and comes here out of line
    /// for the rest.
    #[inline(never)]
    pub(crate) fn settle_in_full(&self, stamp: Stamp, outcome: Outcome) {
        let elapsed = self
            .slow_call_duration
            .map(|_| self.clock.now_precise_nanos().saturating_sub(stamp.started));
        let slow = matches!((elapsed, self.slow_call_duration), (Some(e), Some(t)) if e >= t);
        // The time is read only when something needs it: the time window or the machine.
        let window_time = stamp.word.has(Word::TIME_WINDOW).then(|| self.now());
        if let Some(throttle) = &self.throttle
            && stamp.word.state() == State::Closed
        {
            throttle.record(&outcome, self.now());
        }
        let quiet = self.fast.settle_quietly(stamp, &outcome, slow, window_time);
        self.notify_outcome(&outcome, elapsed.map(Duration::from_nanos), slow);
        if !quiet {
            self.record_locked(
                stamp,
                &outcome,
                slow,
                window_time.unwrap_or_else(|| self.now()),
            );
        }
    }

    #[cold]
    fn record_locked(&self, stamp: Stamp, outcome: &Outcome, slow: bool, now: u64) {
        let generation = stamp.generation();
        let mut locked = self.lock();
        let Locked { machine, judge } = &mut *locked;
        // Time first: a probe that answers after `half_open_max_wait` finds the circuit open
        // again, whether or not anyone looked in between.
        let observed = machine.observe(now);
        let thresholds = machine.policies().rate_thresholds();
        let call = Tally::one(outcome.is_failure(), slow);
        let time_window = || {
            let read = || self.fast.time_tally(generation, now);
            judge.reading(generation, call, now, thresholds?, read)
        };
        let recorded = machine.record(
            generation,
            stamp.is_probe(),
            outcome,
            slow,
            now,
            time_window,
        );
        self.publish(&locked);
        drop(locked);
        self.announce(observed);
        self.announce(recorded);
    }

    /// Frees the probe slot of a permit dropped without an outcome, if it holds one.
    #[inline]
    pub(crate) fn abandon(&self, stamp: Stamp) {
        if stamp.is_probe() {
            self.abandon_probe(stamp);
        }
    }

    #[cold]
    fn abandon_probe(&self, stamp: Stamp) {
        let mut locked = self.lock();
        let observed = locked.machine.observe(self.now());
        locked.machine.abandon(stamp.generation(), true);
        self.publish(&locked);
        drop(locked);
        self.announce(observed);
    }

    // ----- State, snapshots and commands ------------------------------------------------------

    /// The state last published, without looking at the clock (for `Debug`, which must not
    /// make transitions).
    pub(crate) fn published_state(&self) -> State {
        self.fast.load().state()
    }

    /// The state, after the moves that time alone causes.
    pub(crate) fn state(&self) -> State {
        match self.published_state() {
            State::Open | State::HalfOpen => self.command(|_, _| None).0,
            state => state,
        }
    }

    /// Runs `command` on the machine after letting it observe the time, then publishes and
    /// announces what changed.
    pub(crate) fn command(
        &self,
        command: impl FnOnce(&mut Machine, u64) -> Option<Transition>,
    ) -> (State, Option<Transition>) {
        let mut locked = self.lock();
        let now = self.now();
        let observed = locked.machine.observe(now);
        let commanded = command(&mut locked.machine, now);
        self.publish(&locked);
        let state = locked.machine.state();
        drop(locked);
        self.announce(observed);
        self.announce(commanded);
        (state, commanded)
    }

    /// Back to Closed with everything forgotten, the throttle's window included.
    pub(crate) fn reset(&self) {
        self.command(|machine, _| machine.reset());
        if let Some(throttle) = &self.throttle {
            throttle.reset();
        }
    }

    pub(crate) fn config(&self) -> Config {
        self.lock().machine.config().clone()
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut locked = self.lock();
        let now = self.now();
        let observed = locked.machine.observe(now);
        self.publish(&locked);
        let machine = &locked.machine;
        let generation = machine.generation();
        let window = machine.window(|| self.fast.time_tally(generation, now));
        let deadline = machine.open_until().map(|until| self.deadline(now, until));
        let snapshot = Snapshot {
            name: self.name.as_str().to_owned(),
            state: machine.state(),
            consecutive_failures: machine.failure_count(),
            calls: self.fast.counts(),
            window_calls: window.map(|tally| tally.calls),
            failure_rate: window.and_then(|tally| tally.failure_rate()),
            slow_call_rate: window.and_then(|tally| tally.slow_rate()),
            rejection_probability: self.throttle.as_ref().map(|t| t.probability(now)),
            transitions: machine.transitions(),
            probes_in_flight: machine.probes_in_flight(),
            probe_successes: machine.probe_successes(),
            open_until: deadline.map(Deadline::retry_at),
            remaining: deadline.map(Deadline::remaining),
            opened_by: machine.opened_by(),
            last_failure: machine.last_failure().map(ToString::to_string),
            config: machine.config().clone(),
        };
        drop(locked);
        self.announce(observed);
        snapshot
    }

    // ----- Telling listeners ------------------------------------------------------------------

    /// Logs and tells the listeners of a transition, or of a move that time caused with when
    /// it fell due (`Machine::observe`'s).
    fn announce(&self, moved: Option<impl Into<Moved>>) {
        if let Some(Moved { transition, due }) = moved.map(Into::into) {
            let due = due
                .map(|due| UNIX_EPOCH + Duration::from_nanos(self.wall_origin.saturating_add(due)));
            self.listeners
                .transition(self.name.as_str(), transition, due);
        }
    }

    #[inline]
    fn notify(&self, kind: EventKind<'_>) {
        if self.listening {
            self.listeners.emit(self.name.as_str(), kind);
        }
    }

    fn notify_outcome(&self, outcome: &Outcome, elapsed: Option<Duration>, slow: bool) {
        if !self.listening {
            return;
        }
        let kind = match outcome.failure_text() {
            Some(cause) => EventKind::Failed {
                cause: cause.as_str(),
                elapsed,
                slow,
            },
            None if outcome.is_ignored() => EventKind::Ignored,
            None => EventKind::Succeeded { elapsed, slow },
        };
        self.listeners.emit(self.name.as_str(), kind);
    }
}
