//! The state one breaker's clones share: a lock-free fast path in front of the locked core.
//!
//! The hot path reads one atomic word (state and generation) and, while Open, one deadline and
//! the clock. Only these take the core's mutex: a failure; a success that must reset a failure
//! count, feed a count window, count as a probe or (slow) trip the circuit; an ignored or
//! dropped probe; anything else while HalfOpen; an Open deadline that has passed; a thread's
//! first rejection of a trip (to cache the failure count and text); snapshots and the manual
//! commands. After each locked step the core's decision is published to the atomics, the word
//! last (Release), so a reader that sees a new word sees its deadline too.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the shared state, publishing decisions, state and manual commands |
//! | `admit.rs` | admitting a call, or building its rejection |
//! | `settle.rs` | recording how an admitted call ended |
//! | `snapshot.rs` | the metrics snapshot |

mod admit;
mod settle;
mod snapshot;

use crate::clock::{ClockSource, saturating_nanos};
use crate::core::{Core, Ticket};
use crate::events::{EventKind, Listeners};
use crate::local::Locals;
use crate::state::StateWord;
use crate::window::TimeGeometry;
use crate::{Config, State, Transition};
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
