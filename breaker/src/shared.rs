//! The state one breaker's clones share: a lock-free fast path in front of the locked core.
//!
//! The hot path reads one atomic word (state and generation) and, while Open, one deadline and
//! the clock. Only these take the core's mutex: a failure, a success that must reset a failure
//! count or feed a sliding window, anything while HalfOpen, an Open deadline that has passed,
//! and the manual commands. After each locked step the core's decision is published to the
//! atomics, the word last (Release), so a reader that sees a new word sees its deadline too.

use crate::core::{Core, Ticket, Verdict};
use crate::events::{EventKind, Listeners};
use crate::metrics::Counters;
use crate::outcome::Kind;
use crate::state::StateWord;
use crate::{Clock, Config, Rejected, Snapshot, State, Transition};
use smol_str::SmolStr;
use std::cell::RefCell;
use std::sync::atomic::{
    AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};
use thread_local::ThreadLocal;

/// A call the breaker let through: its ticket and, when slow calls are measured, its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admitted {
    pub(crate) ticket: Ticket,
    pub(crate) started: Option<Duration>,
}

/// What a rejection needs from the core, cached per thread for the generation it belongs to,
/// so rejections while Open take no lock. It cannot go stale: while a generation lasts, no
/// outcome changes the failure count or the last failure.
#[derive(Debug, Default)]
struct TripCache {
    generation: Option<u64>,
    failures: u32,
    last_failure: Option<SmolStr>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: SmolStr,
    word: AtomicU64,
    open_until: AtomicU64,
    /// The core's consecutive failure count, mirrored so a success can see it need not reset it.
    consecutive_failures: AtomicU32,
    core: Mutex<Core>,
    counters: Counters,
    trip_cache: ThreadLocal<RefCell<TripCache>>,
    clock: Arc<dyn Clock>,
    wall_origin: SystemTime,
    pub(crate) listeners: Listeners,
    /// Whether a success while Closed must reach the core even with no failure to reset
    /// (a sliding window has to record it).
    successes_feed_window: bool,
    slow_call_duration: Option<Duration>,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Shared {
    pub(crate) fn new(
        name: SmolStr,
        config: Config,
        clock: Arc<dyn Clock>,
        listeners: Listeners,
    ) -> Self {
        Self {
            name,
            word: AtomicU64::new(StateWord::new(State::Closed, 0).bits()),
            open_until: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            successes_feed_window: config.uses_window(),
            slow_call_duration: config.slow_call_duration,
            core: Mutex::new(Core::new(config)),
            counters: Counters::default(),
            trip_cache: ThreadLocal::new(),
            wall_origin: clock.wall_origin(),
            clock,
            listeners,
        }
    }

    #[inline]
    fn now(&self) -> u64 {
        nanos(self.clock.now())
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
            self.counters.local().rejected();
            self.notify(EventKind::Rejected {
                state: rejected.state,
            });
        }
        result
    }

    /// A rejection built from the core, under its lock.
    fn rejection(&self, core: &Core, now: u64) -> Rejected {
        let open = (core.state() == State::Open).then(|| (now, core.open_until()));
        Rejected {
            name: self.name.clone(),
            state: core.state(),
            retry_at: open.map(|(_, until)| self.wall_origin + Duration::from_nanos(until)),
            remaining: open.map(|(now, until)| Duration::from_nanos(until.saturating_sub(now))),
            failures: core.consecutive_failures(),
            probes_in_flight: core.probes_in_flight(),
            last_failure: core.last_failure().cloned(),
        }
    }

    /// A rejection while Open (`deadline` = now and the open deadline) or ForcedOpen, without
    /// the lock.
    #[inline]
    fn reject_lock_free(&self, word: StateWord, deadline: Option<(u64, u64)>) -> Rejected {
        self.counters.local().rejected();
        let (failures, last_failure) = self.trip_info(word.generation());
        self.notify(EventKind::Rejected {
            state: word.state(),
        });
        Rejected {
            name: self.name.clone(),
            state: word.state(),
            retry_at: deadline.map(|(_, until)| self.wall_origin + Duration::from_nanos(until)),
            remaining: deadline.map(|(now, until)| Duration::from_nanos(until - now)),
            failures,
            probes_in_flight: 0,
            last_failure,
        }
    }

    #[inline]
    fn trip_info(&self, generation: u64) -> (u32, Option<SmolStr>) {
        let mut cache = self.trip_cache.get_or(Default::default).borrow_mut();
        if cache.generation != Some(generation) {
            let core = self.lock();
            cache.failures = core.consecutive_failures();
            cache.last_failure = core.last_failure().cloned();
            // Cache only what belongs to the generation asked about; a newer one is still a
            // fine answer for this rejection, but must not be kept under the old generation.
            cache.generation = (core.generation() == generation).then_some(generation);
        }
        (cache.failures, cache.last_failure.clone())
    }

    /// Records how an admitted call ended.
    #[inline]
    pub(crate) fn settle(&self, admitted: Admitted, outcome: Kind) {
        let elapsed = admitted
            .started
            .map(|started| self.clock.now_precise().saturating_sub(started));
        let slow = matches!((elapsed, self.slow_call_duration), (Some(e), Some(t)) if e >= t);
        let slot = self.counters.local();
        if slow {
            slot.slow();
        }
        let probe = admitted.ticket.probe;
        let (verdict, cause) = match outcome {
            Kind::Success => {
                slot.successful();
                self.notify(EventKind::Succeeded { elapsed, slow });
                // The common case: nothing to reset, no window to feed, no probe to count.
                if !probe
                    && !self.successes_feed_window
                    && self.consecutive_failures.load(Relaxed) == 0
                {
                    return;
                }
                (Verdict::Success, None)
            }
            Kind::Failure(cause) => {
                slot.failed();
                self.notify(EventKind::Failed {
                    cause: &cause,
                    elapsed,
                    slow,
                });
                (Verdict::Failure, Some(cause))
            }
            Kind::Ignored => {
                slot.ignored();
                self.notify(EventKind::Ignored);
                if !probe {
                    return;
                }
                (Verdict::Ignored, None)
            }
        };
        self.record_locked(admitted.ticket, verdict, slow, cause);
    }

    #[cold]
    fn record_locked(&self, ticket: Ticket, verdict: Verdict, slow: bool, cause: Option<SmolStr>) {
        let mut core = self.lock();
        let transition = core.record(ticket, verdict, slow, cause, self.now());
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
        let tally = core.tally(now);
        let open = (core.state() == State::Open).then(|| core.open_until());
        let snapshot = Snapshot {
            name: self.name.to_string(),
            state: core.state(),
            consecutive_failures: core.consecutive_failures(),
            calls: self.counters.sum(),
            window_calls: tally.map(|tally| tally.calls),
            failure_rate: tally.and_then(|tally| tally.failure_rate()),
            slow_call_rate: tally.and_then(|tally| tally.slow_rate()),
            transitions: core.transitions(),
            probes_in_flight: core.probes_in_flight(),
            open_until: open.map(|until| self.wall_origin + Duration::from_nanos(until)),
            remaining: open.map(|until| Duration::from_nanos(until.saturating_sub(now))),
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
            self.listeners.transition(&self.name, transition);
        }
    }

    #[inline]
    fn notify(&self, kind: EventKind<'_>) {
        if self.listeners.any() {
            self.listeners.emit(&self.name, kind);
        }
    }
}
