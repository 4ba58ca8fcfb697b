//! The lock-free fast path in front of the state machine. A learner can skip this module: it
//! changes how fast the breaker decides, never what it decides. The shell (`shell.rs`) asks it
//! first, and hands the machine whatever it cannot answer.
//!
//! The [`Machine`] lives behind a mutex. Taking that mutex costs two locked instructions and
//! makes every thread write one cache line, so a breaker that asked the machine about every
//! call would be slower than its peers on one thread and far slower on several. Instead, after
//! every step the shell publishes what may be decided without the machine ([`Shortcuts`], read
//! from the machine) in one atomic word and two deadlines, and a call reads them:
//!
//! * **Closed, a success**: one atomic load to be admitted, one to settle, and a counter in
//!   the calling thread's own slot: no lock, no locked instruction, no shared cache line
//!   written, no allocation.
//! * **Open, a rejection**: the same load, a read of the coarse clock (cheaper than the precise
//!   one: [`MonotonicClock`](crate::MonotonicClock)) and a rejection that shares this thread's
//!   record of the trip (built by its first rejection, which the machine decides): two words,
//!   and a handle to the record that the thread paid for in advance, 1,024 at a time
//!   ([`counted`](crate::counted)); no lock, no allocation, and no locked instruction until the
//!   rejection is dropped but one in 1,024 rejections' to pay for the next batch.
//! * **A time window**: each thread records into its own buckets; they are all read only when
//!   a policy could fire ([`TimeJudge`]).
//!
//! Everything else (failures, probes, a deadline passing, the first successes after a failure)
//! takes the lock and asks the machine.
//!
//! What it buys is measured in `breaker/BENCHMARKS.md`, beside the peers that take a lock per
//! call: in instructions, a success while Closed costs less than the cheapest lock-taking
//! peer's, with no locked instruction among them and no cache line that two threads both
//! write; the wall-clock bench's two-thread group shows what that is worth when threads share
//! a breaker.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | [`FastPath`]: the [`Shortcuts`] published in a [`Word`] and two deadlines, the questions the shell asks; the [`Stamp`] a permit keeps |
//! | `bounds.rs` | [`TimeJudge`]: the time window's bounds |
//! | `threads.rs` | what each thread keeps: counters, its share of a time window, trip cache |

mod bounds;
mod front;
mod slot;
mod threads;

pub(crate) use bounds::TimeJudge;

use crate::config::Config;
use crate::counted::{Counted, Reserve};
use crate::error::Refusal;
use crate::metrics::CallCounts;
use crate::state_machine::Machine;
use crate::trip_policy::Tally;
use crate::vocabulary::{Outcome, State};
use slot::TimeGeometry;
use sync::{AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
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

/// What the lock-free fast path may decide alone until the machine's next step. Every rule
/// here is a consequence of the machine's rules, read from it after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shortcuts {
    /// Every call may run: Closed without a throttle, and Disabled.
    pub(crate) admit_all: bool,
    /// Every call is rejected until this time: Open until it may half-open, ForcedOpen forever
    /// (`u64::MAX`).
    pub(crate) reject_until: Option<u64>,
    /// Calls admitted now belong in the threads' time window (Closed, with a time window).
    pub(crate) time_window: bool,
    /// A success or ignored outcome of a plain call (not a probe, not slow) changes nothing the
    /// machine keeps while the time window's epoch is at most this (`u64::MAX`: whatever it
    /// is); `None`: it may change something, so the machine must hear of it.
    pub(crate) quiet_until_epoch: Option<u64>,
}

impl Shortcuts {
    /// What `machine` lets the fast path decide alone, `judge` being what is known of its time
    /// window.
    pub(crate) fn of(machine: &Machine, judge: &TimeJudge) -> Self {
        let state = machine.state();
        Shortcuts {
            // With a throttle, the shell decides each Closed call (`Shared::acquire_throttled`).
            admit_all: match state {
                State::Closed => machine.config().adaptive_throttle.is_none(),
                State::Disabled => true,
                _ => false,
            },
            reject_until: match state {
                State::Open => machine.open_until(),
                State::ForcedOpen => Some(u64::MAX),
                _ => None,
            },
            time_window: state == State::Closed && machine.policies().has_time_window(),
            quiet_until_epoch: match state {
                State::Closed => Self::quiet_while_closed(machine, judge),
                State::Disabled => Some(u64::MAX),
                _ => None,
            },
        }
    }

    /// Up to which time-window epoch a plain success changes nothing while Closed: never while
    /// a failure count is pending (the success resets it) or a count window must record it;
    /// with a time window, until the epoch changes, once the window is known to hold
    /// `minimum_calls`.
    fn quiet_while_closed(machine: &Machine, judge: &TimeJudge) -> Option<u64> {
        if machine.failure_count() > 0 {
            return None;
        }
        let policies = machine.policies();
        match policies.rate_thresholds() {
            None => Some(u64::MAX),
            Some(_) if !policies.has_time_window() => None,
            Some(thresholds) => {
                judge.quiet_until_epoch(machine.generation(), thresholds.minimum_calls)
            }
        }
    }
}

/// What the machine last published, and what each thread keeps, for one breaker.
#[derive(Debug)]
pub(crate) struct FastPath {
    word: AtomicU64,
    /// `Shortcuts::reject_until`, while `REJECT` is set.
    reject_until: AtomicU64,
    /// `Shortcuts::quiet_until_epoch`, while `QUIET` is set.
    quiet_until_epoch: AtomicU64,
    /// Whether a quiet success needs nothing but its counter: no start time to compare, no
    /// listener to tell, no throttle to count it.
    bare_successes: bool,
    /// Whether a permit needs its start time (slow calls are timed).
    timed: bool,
    threads: Threads,
}

impl FastPath {
    /// The fast path of a breaker with `config`; `listening` says whether anyone hears every
    /// outcome. Nothing is published until [`FastPath::publish`].
    pub(crate) fn new(config: &Config, listening: bool) -> Self {
        let time_window = (config.failure_rate_threshold.is_some()
            || config.slow_call_rate_threshold.is_some())
        .then(|| TimeGeometry::of(config.sliding_window))
        .flatten();
        Self {
            word: AtomicU64::new(0),
            reject_until: AtomicU64::new(0),
            quiet_until_epoch: AtomicU64::new(0),
            // A throttle counts every success, so it is settled in full.
            bare_successes: config.slow_call_duration.is_none()
                && !listening
                && config.adaptive_throttle.is_none(),
            timed: config.slow_call_duration.is_some(),
            threads: Threads::new(time_window),
        }
    }

    /// A judge for the time window of a breaker with `config`.
    pub(crate) fn judge(config: &Config) -> TimeJudge {
        TimeJudge::new(config.sliding_window.bucket_nanos().unwrap_or(1))
    }

    #[inline]
    pub(crate) fn load(&self) -> Word {
        Word(self.word.load(Acquire))
    }

    /// Publishes the machine's state and shortcuts; the word last (Release), so a reader that
    /// sees the word sees the deadlines that go with it.
    pub(crate) fn publish(&self, machine: &Machine, judge: &TimeJudge) -> Word {
        let shortcuts = Shortcuts::of(machine, judge);
        let flag = |on: bool, flag: u64| if on { flag } else { 0 };
        let quiet = shortcuts.quiet_until_epoch.is_some();
        let flags = flag(shortcuts.admit_all, Word::ADMIT_ALL)
            | flag(shortcuts.admit_all && !self.timed, Word::ADMIT_BARE)
            | flag(shortcuts.reject_until.is_some(), Word::REJECT)
            | flag(shortcuts.time_window, Word::TIME_WINDOW)
            | flag(quiet, Word::QUIET)
            | flag(
                quiet && !shortcuts.time_window && self.bare_successes,
                Word::SETTLE_BARE,
            );
        let word = Word::new(machine.state(), machine.generation(), flags);
        self.reject_until
            .store(shortcuts.reject_until.unwrap_or(0), Relaxed);
        self.quiet_until_epoch
            .store(shortcuts.quiet_until_epoch.unwrap_or(0), Relaxed);
        self.word.store(word.0, Release);
        word
    }

    // ----- Admitting ----------------------------------------------------------------------------

    /// Until when every call is rejected, if `word` says so.
    #[inline]
    pub(crate) fn reject_until(&self, word: Word) -> Option<u64> {
        word.has(Word::REJECT)
            .then(|| self.reject_until.load(Relaxed))
    }

    /// Rejects a call of the trip `word` belongs to without the lock, counting it: what this
    /// thread's rejections of that trip say, as a handle paid for in advance to a record only
    /// this thread's rejections share. `None`, counting nothing, when this thread knows another
    /// generation (the shell then asks the machine, which refills it): a rejection must not
    /// pair one trip's state with another's reason or failure.
    #[inline]
    pub(crate) fn reject(&self, word: Word) -> Option<Counted<Refusal>> {
        self.threads.reject(word.generation())
    }

    /// A handle to `refusal`, what the machine's rejection says. While Open or ForcedOpen it is
    /// kept as this thread's record of the trip, which hands out the handles of this thread's
    /// later rejections: while such a generation lasts, nothing changes the failure count, the
    /// reason, the deadline or the last failure. Otherwise (HalfOpen with its probes taken) the
    /// rejection has a record of its own.
    pub(crate) fn remember_refusal(&self, machine: &Machine, refusal: Refusal) -> Counted<Refusal> {
        if !matches!(machine.state(), State::Open | State::ForcedOpen) {
            return Counted::new(refusal);
        }
        let mut record = Reserve::new(refusal);
        let handle = record.handle();
        self.threads.remember_trip(machine.generation(), record);
        handle
    }

    /// Counts a rejection in this thread's slot.
    #[inline]
    pub(crate) fn count_rejected(&self) {
        self.threads.slot().rejected();
    }

    // ----- Settling -----------------------------------------------------------------------------

    /// Counts a success alone, with one atomic load and a counter in the thread's own slot,
    /// when the word the call was admitted under said a success needs no more and is still the
    /// one published (a probe's stamp never is: it carries `PROBE`); false, counting nothing,
    /// when the success must be settled in full.
    #[inline]
    pub(crate) fn succeed_quietly(&self, stamp: Stamp) -> bool {
        if stamp.word.has(Word::SETTLE_BARE) && self.load() == stamp.word {
            self.threads.successful();
            return true;
        }
        false
    }

    /// Counts how a call ended in this thread's slot and, given the time `now` (for a call
    /// admitted into the time window), in this thread's share of that window; true
    /// when the machine need not hear of it: it was admitted before the last transition (the
    /// machine would ignore it), or it is a plain success or ignored outcome the machine has
    /// said is quiet.
    pub(crate) fn settle_quietly(
        &self,
        stamp: Stamp,
        outcome: &Outcome,
        slow: bool,
        now: Option<u64>,
    ) -> bool {
        let slot = self.threads.slot();
        if slow {
            slot.slow();
        }
        if outcome.is_failure() {
            slot.failed();
        } else if outcome.is_ignored() {
            slot.ignored();
        } else {
            slot.successful();
        }
        let mut epoch = None;
        if let (Some(now), false, Some(window)) = (now, outcome.is_ignored(), slot.window()) {
            epoch = Some(window.record(stamp.generation(), now, outcome.is_failure(), slow));
        }
        let word = self.load();
        if !word.same_generation(stamp.word) {
            return true;
        }
        // A probe's outcome is never quiet: probes are admitted while HalfOpen, whose word is
        // never `QUIET`, and the generation is still the probe's.
        word.has(Word::QUIET)
            && !slow
            && !outcome.is_failure()
            && epoch.is_none_or(|epoch| epoch <= self.quiet_until_epoch.load(Relaxed))
    }

    // ----- Reading ------------------------------------------------------------------------------

    /// Calls by outcome, from every thread.
    pub(crate) fn counts(&self) -> CallCounts {
        self.threads.counts()
    }

    /// The time window's calls of `generation` up to `now`, from every thread.
    pub(crate) fn time_tally(&self, generation: u64, now: u64) -> Tally {
        self.threads.time_tally(generation, now)
    }
}

// ----- The state word ---------------------------------------------------------------------------

/// What the machine last published, in one `u64`, so that a call learns all it needs from one
/// atomic load:
///
/// | bits  | field        | meaning                                                        |
/// |-------|--------------|----------------------------------------------------------------|
/// | 0-2   | state        | [`State`], for [`CircuitBreaker::state`](crate::CircuitBreaker::state) |
/// | 3     | `ADMIT_ALL`  | every call may run without asking the machine                   |
/// | 4     | `REJECT`     | every call is rejected until the published `reject_until`       |
/// | 5     | `TIME_WINDOW`| calls admitted now go into the threads' time window             |
/// | 6     | `QUIET`      | a plain success or ignored outcome need not reach the machine   |
/// | 7     | `PROBE`      | in a permit's stamp only: the call holds a probe slot           |
/// | 8     | `ADMIT_BARE` | `ADMIT_ALL`, and a permit needs no start time                   |
/// | 9     | `SETTLE_BARE`| `QUIET` without `TIME_WINDOW`, and a success needs only its counter |
/// | 10-63 | generation   | grows at every transition                                      |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    pub(crate) const ADMIT_ALL: u64 = 0b0000_1000;
    pub(crate) const REJECT: u64 = 0b0001_0000;
    pub(crate) const TIME_WINDOW: u64 = 0b0010_0000;
    pub(crate) const QUIET: u64 = 0b0100_0000;
    pub(crate) const PROBE: u64 = 0b1000_0000;
    pub(crate) const ADMIT_BARE: u64 = 0b1_0000_0000;
    pub(crate) const SETTLE_BARE: u64 = 0b10_0000_0000;
    const STATE: u64 = 0b0000_0111;
    const GENERATION_SHIFT: u32 = 10;

    pub(crate) fn new(state: State, generation: u64, flags: u64) -> Self {
        let tag = match state {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
            State::ForcedOpen => 3,
            State::Disabled => 4,
        };
        Self((generation << Self::GENERATION_SHIFT) | flags | tag)
    }

    pub(crate) fn state(self) -> State {
        match self.0 & Self::STATE {
            0 => State::Closed,
            1 => State::Open,
            2 => State::HalfOpen,
            3 => State::ForcedOpen,
            _ => State::Disabled,
        }
    }

    pub(crate) fn generation(self) -> u64 {
        self.0 >> Self::GENERATION_SHIFT
    }

    #[inline]
    pub(crate) fn has(self, flag: u64) -> bool {
        self.0 & flag != 0
    }

    /// Whether `other` is of the same generation.
    #[inline]
    pub(crate) fn same_generation(self, other: Word) -> bool {
        (self.0 ^ other.0) >> Self::GENERATION_SHIFT == 0
    }
}

/// What a permit remembers of its admission: the word it was admitted under (with `PROBE` set
/// for a probe) and, when slow calls are timed, when it started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    pub(crate) word: Word,
    pub(crate) started: u64,
}

impl Stamp {
    /// The generation of the machine that admitted the call.
    pub(crate) fn generation(self) -> u64 {
        self.word.generation()
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_round_trips_every_state_flag_and_a_large_generation() {
        for state in [
            State::Closed,
            State::Open,
            State::HalfOpen,
            State::ForcedOpen,
            State::Disabled,
        ] {
            let word = Word::new(state, 1 << 53, Word::QUIET | Word::REJECT);
            assert_eq!(word.state(), state);
            assert_eq!(word.generation(), 1 << 53);
            assert!(word.has(Word::QUIET) && word.has(Word::REJECT));
            assert!(!word.has(Word::ADMIT_ALL) && !word.has(Word::PROBE));
            assert!(word.same_generation(Word::new(State::Open, 1 << 53, Word::PROBE)));
            assert!(!word.same_generation(Word::new(state, (1 << 53) + 1, 0)));
        }
    }
}
