//! The state one breaker's clones share: a lock-free fast path in front of the locked core.
//!
//! The hot path reads one atomic word (state and generation) and, while Open, one deadline and
//! the clock. Only these take the core's mutex: a failure; a success that must reset a failure
//! count, feed a count window, count as a probe or (slow) trip the circuit; an ignored or
//! dropped probe; anything else while HalfOpen; an Open deadline that has passed; a thread's
//! first rejection of a trip (to cache the failure count and text); snapshots and the manual
//! commands. After each locked step the core's decision is published to the
//! atomics, the word last (Release), so a reader that sees a new word sees its deadline too.

use crate::clock::{ClockSource, saturating_nanos};
use crate::core::{Core, Ticket, Verdict};
use crate::events::{EventKind, Listeners};
use crate::local::{Locals, TripCache};
use crate::outcome::Kind;
use crate::rejected::Deadline;
use crate::state::StateWord;
use crate::text::Text;
use crate::window::TimeGeometry;
use crate::{Config, Rejected, Snapshot, State, Transition};
use std::sync::atomic::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

/// A call the breaker let through: its ticket and, when slow calls are measured, its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admitted {
    pub(crate) ticket: Ticket,
    pub(crate) started: Option<Duration>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: &'static str,
    word: AtomicU64,
    open_until: AtomicU64,
    /// The core's consecutive failure count, mirrored so a success can see it need not reset it.
    consecutive_failures: AtomicU32,
    core: Mutex<Core>,
    locals: Locals,
    clock: ClockSource,
    /// The wall-clock time at the clock's origin, in nanoseconds since the Unix epoch.
    wall_origin: u64,
    pub(crate) listeners: Listeners,
    /// Whether a success while Closed needs nothing but a counter when no failure count is
    /// pending: no window to feed, no duration to measure, no listener to tell.
    plain_successes: bool,
    /// Whether a count window keeps the outcomes: it records every call under the core's lock.
    count_window: bool,
    slow_call_duration: Option<Duration>,
    /// Whether a slow call can trip the circuit, so a slow success must reach the core.
    slow_calls_trip: bool,
}

impl Shared {
    pub(crate) fn new(
        name: &'static str,
        config: Config,
        clock: ClockSource,
        listeners: Listeners,
    ) -> Self {
        let geometry = TimeGeometry::of(config.sliding_window).filter(|_| config.uses_window());
        let count_window = config.uses_window() && geometry.is_none();
        Self {
            name,
            word: AtomicU64::new(StateWord::new(State::Closed, 0).bits()),
            open_until: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            plain_successes: !config.uses_window()
                && config.slow_call_duration.is_none()
                && !listeners.any(),
            count_window,
            slow_call_duration: config.slow_call_duration,
            slow_calls_trip: config.slow_call_rate_threshold.is_some(),
            core: Mutex::new(Core::new(config)),
            locals: Locals::new(geometry),
            wall_origin: clock
                .wall_origin()
                .duration_since(UNIX_EPOCH)
                .map_or(0, saturating_nanos),
            clock,
            listeners,
        }
    }

    #[inline]
    fn now(&self) -> u64 {
        self.clock.now_nanos()
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // The core never panics while locked; if a listener-free bug ever did, its state is
        // still consistent enough to keep serving rather than poisoning every caller.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits or rejects a call. Cost while Closed: one atomic load. While Open: one atomic
    /// load, one clock read, one per-thread counter store; no lock, no allocation.
    #[inline]
    pub(crate) fn acquire(&self) -> Result<Admitted, Rejected> {
        let word = StateWord::from_bits(self.word.load(Acquire));
        match word.state() {
            State::Closed | State::Disabled => Ok(self.admitted(Ticket {
                generation: word.generation(),
                probe: false,
            })),
            State::Open => {
                let now = self.now();
                let until = self.open_until.load(Relaxed);
                if now < until {
                    Err(self.reject_lock_free(word, Some((now, until))))
                } else {
                    self.acquire_locked()
                }
            }
            State::ForcedOpen => Err(self.reject_lock_free(word, None)),
            State::HalfOpen => self.acquire_locked(),
        }
    }

    #[inline]
    fn admitted(&self, ticket: Ticket) -> Admitted {
        let started = self.slow_call_duration.map(|_| self.clock.now_precise());
        Admitted { ticket, started }
    }

    #[cold]
    fn acquire_locked(&self) -> Result<Admitted, Rejected> {
        let mut core = self.lock();
        let now = self.now();
        let (ticket, transition) = core.acquire(now);
        self.publish(&core);
        let result = match ticket {
            Some(ticket) => Ok(self.admitted(ticket)),
            None => Err(self.rejection(&core, now)),
        };
        drop(core);
        self.announce(transition);
        if let Err(rejected) = &result {
            self.locals.slot().rejected();
            self.notify(EventKind::Rejected {
                state: rejected.state,
            });
        }
        result
    }

    /// A rejection built from the core, under its lock.
    fn rejection(&self, core: &Core, now: u64) -> Rejected {
        Rejected {
            name: self.name,
            state: core.state(),
            deadline: (core.state() == State::Open).then(|| self.deadline(now, core.open_until())),
            failures: core.consecutive_failures(),
            probes_in_flight: core.probes_in_flight(),
            last_failure: core.last_failure().cloned(),
        }
    }

    /// A rejection while Open (`deadline` = now and the open deadline) or ForcedOpen, without
    /// the lock.
    #[inline]
    fn reject_lock_free(&self, word: StateWord, deadline: Option<(u64, u64)>) -> Rejected {
        let local = self.locals.local();
        local.slot.rejected();
        let mut cache = local.trip.borrow_mut();
        if cache.generation != word.generation() {
            self.refill(&mut cache, word.generation());
        }
        let rejected = Rejected {
            name: self.name,
            state: word.state(),
            deadline: deadline.map(|(now, until)| self.deadline(now, until)),
            failures: cache.failures,
            probes_in_flight: 0,
            last_failure: cache.last_failure.clone(),
        };
        drop(cache);
        self.notify(EventKind::Rejected {
            state: word.state(),
        });
        rejected
    }

    #[inline]
    fn deadline(&self, now: u64, until: u64) -> Deadline {
        Deadline {
            wall_until: self.wall_origin.saturating_add(until),
            remaining: until.saturating_sub(now),
        }
    }

    /// Fills this thread's trip cache from the core: once per thread per generation.
    #[cold]
    fn refill(&self, cache: &mut TripCache, generation: u64) {
        let core = self.lock();
        cache.failures = core.consecutive_failures();
        cache.last_failure = core.last_failure().cloned();
        // Cache only what belongs to the generation asked about; a newer one is still a fine
        // answer for this rejection, but must not be kept under the old generation.
        cache.generation = if core.generation() == generation {
            generation
        } else {
            u64::MAX
        };
    }

    /// Records a success. The common case (Closed, no failure count to reset, nothing to
    /// measure or tell) is one per-thread counter store: no lock, no shared write.
    #[inline]
    pub(crate) fn succeed(&self, admitted: Admitted) {
        if self.plain_successes
            && !admitted.ticket.probe
            && self.consecutive_failures.load(Relaxed) == 0
        {
            self.locals.slot().successful();
        } else {
            self.settle(admitted, Kind::Success);
        }
    }

    /// Records how an admitted call ended.
    pub(crate) fn settle(&self, admitted: Admitted, outcome: Kind) {
        let elapsed = admitted
            .started
            .map(|started| self.clock.now_precise().saturating_sub(started));
        let slow = matches!((elapsed, self.slow_call_duration), (Some(e), Some(t)) if e >= t);
        let slot = self.locals.slot();
        if slow {
            slot.slow();
        }
        let ticket = admitted.ticket;
        let failed = matches!(outcome, Kind::Failure(_));
        if let (Some(window), false) = (slot.window(), matches!(outcome, Kind::Ignored)) {
            // The window's buckets drop a late outcome of an earlier generation themselves.
            window.record(ticket.generation, self.now(), failed, slow);
        }
        let (verdict, cause) = match outcome {
            Kind::Success => {
                slot.successful();
                self.notify(EventKind::Succeeded { elapsed, slow });
                // Nothing to reset, no count window to feed, no probe to count, not a slow
                // call that could trip: the core need not hear of it.
                let core_cares = ticket.probe
                    || self.count_window
                    || (slow && self.slow_calls_trip)
                    || self.consecutive_failures.load(Relaxed) != 0;
                if !core_cares {
                    return;
                }
                (Verdict::Success, None)
            }
            Kind::Failure(cause) => {
                slot.failed();
                self.notify(EventKind::Failed {
                    cause: cause.as_str(),
                    elapsed,
                    slow,
                });
                (Verdict::Failure, Some(cause))
            }
            Kind::Ignored => {
                slot.ignored();
                self.notify(EventKind::Ignored);
                if !ticket.probe {
                    return;
                }
                (Verdict::Ignored, None)
            }
        };
        self.record_locked(ticket, verdict, slow, cause);
    }

    #[cold]
    fn record_locked(&self, ticket: Ticket, verdict: Verdict, slow: bool, cause: Option<Text>) {
        let mut core = self.lock();
        let now = self.now();
        let time_tally = |generation| self.locals.time_tally(generation, now);
        let transition = core.record(ticket, verdict, slow, cause, now, time_tally);
        self.publish(&core);
        drop(core);
        self.announce(transition);
    }

    /// Frees the probe slot of a call dropped without a verdict.
    #[inline]
    pub(crate) fn abandon(&self, admitted: Admitted) {
        if admitted.ticket.probe {
            self.lock().abandon(admitted.ticket);
        }
    }

    /// The state last published, without looking at the clock (for `Debug`, which must not
    /// make transitions).
    pub(crate) fn published_state(&self) -> State {
        StateWord::from_bits(self.word.load(Acquire)).state()
    }

    /// The state, moving Open to HalfOpen first if its deadline has passed.
    pub(crate) fn state(&self) -> State {
        let word = StateWord::from_bits(self.word.load(Acquire));
        if word.state() == State::Open && self.now() >= self.open_until.load(Relaxed) {
            return self.with_core(|_| None).0;
        }
        word.state()
    }

    /// Runs a manual command (or nothing) on the core, after letting it observe the time.
    pub(crate) fn with_core(
        &self,
        command: impl FnOnce(&mut Core) -> Option<Transition>,
    ) -> (State, Option<Transition>) {
        let mut core = self.lock();
        let observed = core.observe(self.now());
        let commanded = command(&mut core);
        self.publish(&core);
        let state = core.state();
        drop(core);
        self.announce(observed);
        self.announce(commanded);
        (state, commanded)
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut core = self.lock();
        let now = self.now();
        let transition = core.observe(now);
        self.publish(&core);
        let tally = core.tally(|generation| self.locals.time_tally(generation, now));
        let open = (core.state() == State::Open).then(|| core.open_until());
        let snapshot = Snapshot {
            name: self.name.to_string(),
            state: core.state(),
            consecutive_failures: core.consecutive_failures(),
            calls: self.locals.counts(),
            window_calls: tally.map(|tally| tally.calls),
            failure_rate: tally.and_then(|tally| tally.failure_rate()),
            slow_call_rate: tally.and_then(|tally| tally.slow_rate()),
            transitions: core.transitions(),
            probes_in_flight: core.probes_in_flight(),
            open_until: open.map(|until| self.deadline(now, until).retry_at()),
            remaining: open.map(|until| self.deadline(now, until).remaining()),
            last_failure: core.last_failure().map(|text| text.to_string()),
            config: core.config().clone(),
        };
        drop(core);
        self.announce(transition);
        snapshot
    }

    pub(crate) fn config(&self) -> Config {
        self.lock().config().clone()
    }

    fn publish(&self, core: &Core) {
        self.open_until.store(core.open_until(), Relaxed);
        self.consecutive_failures
            .store(core.consecutive_failures(), Relaxed);
        self.word.store(
            StateWord::new(core.state(), core.generation()).bits(),
            Release,
        );
    }

    fn announce(&self, transition: Option<Transition>) {
        if let Some(transition) = transition {
            self.listeners.transition(self.name, transition);
        }
    }

    #[inline]
    fn notify(&self, kind: EventKind<'_>) {
        if self.listeners.any() {
            self.listeners.emit(self.name, kind);
        }
    }
}
