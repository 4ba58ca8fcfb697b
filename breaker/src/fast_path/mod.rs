//! The lock-free fast path in front of the state machine. A learner can skip this module: it
//! changes how fast the breaker decides, never what it decides.
//!
//! The [`Machine`] lives behind a mutex. Taking that mutex costs two locked instructions and
//! makes every thread write one cache line, so a breaker that asked the machine about every call would be slower than its
//! peers on one thread and far slower on several. Instead, after every step the machine says
//! what may be decided without it ([`Shortcuts`](crate::state_machine::Shortcuts)); that is published in one atomic word and
//! two deadlines, and a call reads them:
//!
//! * **Closed, a success**: one atomic load to be admitted, one to settle, and a counter in
//!   the calling thread's own slot: no lock, no locked instruction, no shared cache line
//!   written, no allocation.
//! * **Open, a rejection**: the same load, a read of the coarse clock (six times cheaper than
//!   the precise one) and a rejection built from what this thread cached when the circuit
//!   opened: no lock.
//! * **A time window**: each thread records into its own buckets; the machine reads them all
//!   only when a policy could fire.
//!
//! Everything else (failures, probes, a deadline passing, the first successes after a failure)
//! takes the lock and asks the machine.
//!
//! What it buys, measured on this project's machine, an AMD EPYC (`breaker/BENCHMARKS.md`):
//! a successful call while Closed costs 4.2 ns in a plain loop, a rejection while Open 11 to
//! 13 ns, and two threads calling one breaker together complete a call every 2.2 ns, where the
//! two locked instructions of an uncontended mutex cost 10 ns before any work.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`Shared`]: publishing the machine's shortcuts; state, commands, snapshots |
//! | `calls.rs` | one call: admitting or rejecting it, then settling its outcome |
//! | `threads.rs` | what each thread keeps: counters, its share of a time window, trip cache |
//! | `compact.rs` | the state word's bits, inline failure texts, interned names, the coarse clock |

mod calls;
mod compact;
mod threads;

pub(crate) use compact::{Name, Origin, Text, intern};
pub(crate) use threads::TimeGeometry;

use crate::clock::ClockSource;
use crate::clock::nanos;
use crate::error::Deadline;
use crate::metrics::{EventKind, Listeners};
use crate::state_machine::Machine;
use crate::{Config, Outcome, Snapshot, State, Transition};
use compact::Word;
use std::num::NonZeroU64;
use std::time::{Duration, UNIX_EPOCH};
use sync::{AtomicU64, Mutex, MutexGuard, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use threads::Threads;

/// The atomics, lock and spin hint the fast path uses: loom's under `--cfg loom`, so that its model
/// checker can explore every interleaving of them, the standard library's otherwise.
pub(crate) mod sync {
    #[cfg(loom)]
    pub(crate) use loom::hint::spin_loop;
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
    #[cfg(loom)]
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::hint::spin_loop;
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

/// What a permit remembers of its admission: the word it was admitted under (with `PROBE` set
/// for a probe) and, when slow calls are timed, when it started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    word: Word,
    started: u64,
}

impl Stamp {
    pub(crate) fn is_probe(self) -> bool {
        self.word.has(Word::PROBE)
    }

    /// The same stamp without its probe slot: what a settled permit keeps, so that dropping it
    /// frees nothing.
    pub(crate) fn settled(self) -> Stamp {
        Stamp {
            word: Word(self.word.0 & !Word::PROBE),
            ..self
        }
    }
}

/// One breaker's state, shared by all its clones. (`CircuitBreaker` and the permits print
/// what matters of it in their own `Debug`.)
pub(crate) struct Shared {
    pub(crate) name: Name,
    word: AtomicU64,
    /// `Shortcuts::reject_until`, while `REJECT` is set.
    reject_until: AtomicU64,
    /// `Shortcuts::quiet_until_epoch`, while `QUIET` is set.
    quiet_until_epoch: AtomicU64,
    /// Whether a quiet success needs nothing but its counter: no start time to compare, no
    /// listener to tell.
    bare_successes: bool,
    slow_call_duration: Option<u64>,
    machine: Mutex<Machine>,
    threads: Threads,
    clock: ClockSource,
    /// The wall-clock time at the clock's origin, in nanoseconds since the Unix epoch.
    wall_origin: u64,
    pub(crate) listeners: Listeners,
}

impl Shared {
    pub(crate) fn new(
        name: Name,
        config: Config,
        clock: ClockSource,
        listeners: Listeners,
    ) -> Self {
        let time_window = (config.failure_rate_threshold.is_some()
            || config.slow_call_rate_threshold.is_some())
        .then(|| TimeGeometry::of(config.sliding_window))
        .flatten();
        let slow_call_duration = config.slow_call_duration.map(nanos);
        let shared = Self {
            name,
            word: AtomicU64::new(0),
            reject_until: AtomicU64::new(0),
            quiet_until_epoch: AtomicU64::new(0),
            bare_successes: slow_call_duration.is_none() && !listeners.any(),
            slow_call_duration,
            machine: Mutex::new(Machine::new(config)),
            threads: Threads::new(time_window),
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

    #[inline]
    fn load(&self) -> Word {
        Word(self.word.load(Acquire))
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // The machine never panics while locked (listeners run after the lock is released); a
        // poisoned one is still consistent, and serving beats failing every caller.
        self.machine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes the machine's state and shortcuts; the word last (Release), so a reader that
    /// sees the word sees the deadlines that go with it.
    fn publish(&self, machine: &Machine) -> Word {
        let shortcuts = machine.shortcuts();
        let flag = |on: bool, flag: u64| if on { flag } else { 0 };
        let flags = flag(shortcuts.admit_all, Word::ADMIT_ALL)
            | flag(shortcuts.reject_until.is_some(), Word::REJECT)
            | flag(shortcuts.time_window, Word::TIME_WINDOW)
            | flag(shortcuts.quiet_until_epoch.is_some(), Word::QUIET);
        let word = Word::new(machine.state(), machine.generation(), flags);
        self.reject_until
            .store(shortcuts.reject_until.unwrap_or(0), Relaxed);
        self.quiet_until_epoch
            .store(shortcuts.quiet_until_epoch.unwrap_or(0), Relaxed);
        self.word.store(word.0, Release);
        word
    }

    /// When an Open circuit reaching `until` lets a probe through, seen at `now`.
    fn deadline(&self, now: u64, until: u64) -> Deadline {
        Deadline {
            // Zero would be 1970-01-01 with the circuit open since before it: one nanosecond
            // later says the same.
            wall_until: NonZeroU64::new(self.wall_origin.saturating_add(until))
                .unwrap_or(NonZeroU64::MIN),
            remaining: until.saturating_sub(now),
        }
    }

    // ----- State, snapshots and commands ------------------------------------------------------

    /// The state last published, without looking at the clock (for `Debug`, which must not
    /// make transitions).
    pub(crate) fn published_state(&self) -> State {
        self.load().state()
    }

    /// The state, after the moves that time alone causes.
    pub(crate) fn state(&self) -> State {
        let word = self.load();
        match word.state() {
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
        let mut machine = self.lock();
        let now = self.now();
        let observed = machine.observe(now);
        let commanded = command(&mut machine, now);
        self.publish(&machine);
        let state = machine.state();
        drop(machine);
        self.announce(observed);
        self.announce(commanded);
        (state, commanded)
    }

    pub(crate) fn config(&self) -> Config {
        self.lock().config().clone()
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut machine = self.lock();
        let now = self.now();
        let observed = machine.observe(now);
        self.publish(&machine);
        let generation = machine.generation();
        let window = machine.window(|| self.threads.time_tally(generation, now));
        let deadline = machine.open_until().map(|until| self.deadline(now, until));
        let snapshot = Snapshot {
            name: self.name.as_str().to_string(),
            state: machine.state(),
            consecutive_failures: machine.failure_count(),
            calls: self.threads.counts(),
            window_calls: window.map(|tally| tally.calls),
            failure_rate: window.and_then(|tally| tally.failure_rate()),
            slow_call_rate: window.and_then(|tally| tally.slow_rate()),
            transitions: machine.transitions(),
            probes_in_flight: machine.probes_in_flight(),
            open_until: deadline.map(Deadline::retry_at),
            remaining: deadline.map(Deadline::remaining),
            last_failure: machine.last_failure().map(ToString::to_string),
            config: machine.config().clone(),
        };
        drop(machine);
        self.announce(observed);
        snapshot
    }

    // ----- Telling listeners ------------------------------------------------------------------

    fn announce(&self, transition: Option<Transition>) {
        if let Some(transition) = transition {
            self.listeners.transition(self.name.as_str(), transition);
        }
    }

    #[inline]
    fn notify(&self, kind: EventKind<'_>) {
        if self.listeners.any() {
            self.listeners.emit(self.name.as_str(), kind);
        }
    }

    fn notify_outcome(&self, outcome: &Outcome, elapsed: Option<Duration>, slow: bool) {
        if !self.listeners.any() {
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
