//! One call through the fast path: admitting or rejecting it, then settling its outcome.

use super::compact::Word;
use super::sync::Ordering::Relaxed;
use super::threads::TripCache;
use super::{Shared, Stamp, Text};
use crate::error::Deadline;
use crate::metrics::EventKind;
use crate::state_machine::{Admission, Machine};
use crate::{Outcome, Permit, Rejected};
use std::time::Duration;

impl Shared {
    // ----- Admitting --------------------------------------------------------------------------

    /// Admits a call or rejects it. Every step below returns this same type from its last
    /// expression, so a rejection is written once, straight into the caller's slot: assembling
    /// one and copying it cost a store-forwarding stall per copy.
    #[inline]
    pub(crate) fn acquire(&self) -> Result<Permit<'_>, Rejected> {
        let word = self.load();
        if word.has(Word::ADMIT_ALL) {
            return Ok(Permit::new(self, self.stamp(word)));
        }
        self.acquire_rejecting(word)
    }

    #[inline]
    fn stamp(&self, word: Word) -> Stamp {
        let started = match self.slow_call_duration {
            Some(_) => self.clock.now_precise_nanos(),
            None => 0,
        };
        Stamp { word, started }
    }

    #[inline]
    fn acquire_rejecting(&self, word: Word) -> Result<Permit<'_>, Rejected> {
        if word.has(Word::REJECT) {
            let until = self.reject_until.load(Relaxed);
            if until == u64::MAX {
                return self.reject_fast(word, None);
            }
            let now = self.now();
            if now < until {
                return self.reject_fast(word, Some(self.deadline(now, until)));
            }
        }
        self.acquire_locked()
    }

    #[cold]
    fn acquire_locked(&self) -> Result<Permit<'_>, Rejected> {
        let mut machine = self.lock();
        let now = self.now();
        let observed = machine.observe(now);
        let admission = machine.admit(now);
        let word = self.publish(&machine);
        let result = match admission {
            Admission::Call => Ok(Permit::new(self, self.stamp(word))),
            Admission::Probe => Ok(Permit::new(self, self.stamp(Word(word.0 | Word::PROBE)))),
            Admission::Rejected => Err(self.rejection(&machine, now)),
        };
        drop(machine);
        self.announce(observed);
        if let Err(rejected) = &result {
            self.threads.slot().rejected();
            self.notify(EventKind::Rejected {
                state: rejected.state,
            });
        }
        result
    }

    /// A rejection built from the machine, under its lock.
    fn rejection(&self, machine: &Machine, now: u64) -> Rejected {
        Rejected {
            name: self.name,
            state: machine.state(),
            deadline: machine.open_until().map(|until| self.deadline(now, until)),
            failures: machine.failure_count(),
            probes_in_flight: machine.probes_in_flight(),
            opened_by: machine.opened_by(),
            last_failure: machine.last_failure().cloned(),
        }
    }

    /// A rejection while Open or ForcedOpen, from this thread's trip cache, without the lock.
    /// If the machine has moved on since `word` was read, the call is decided afresh under the
    /// lock instead: the cache holds one trip's data, and a rejection must not pair one trip's
    /// state with another's reason or failure.
    #[inline]
    fn reject_fast(&self, word: Word, deadline: Option<Deadline>) -> Result<Permit<'_>, Rejected> {
        let mut cache = self.threads.trip();
        if cache.generation != word.generation() && !self.refill(&mut cache, word.generation()) {
            drop(cache);
            return self.acquire_locked();
        }
        self.threads.slot().rejected();
        self.notify(EventKind::Rejected {
            state: word.state(),
        });
        Err(Rejected {
            name: self.name,
            state: word.state(),
            deadline,
            failures: cache.failures,
            probes_in_flight: 0,
            opened_by: cache.opened_by,
            last_failure: cache.last_failure.clone(),
        })
    }

    /// Fills this thread's trip cache from the machine, once per thread per generation: false,
    /// and nothing kept, when the machine is no longer at `generation`.
    #[cold]
    fn refill(&self, cache: &mut TripCache, generation: u64) -> bool {
        let machine = self.lock();
        if machine.generation() != generation {
            return false;
        }
        cache.generation = generation;
        cache.failures = machine.failure_count();
        cache.opened_by = machine.opened_by();
        cache.last_failure = machine.last_failure().map(Text::unshared);
        true
    }

    // ----- Settling ---------------------------------------------------------------------------

    /// Records a success. When the machine has said plain successes are quiet, this is one
    /// atomic load and a counter in the thread's own slot.
    #[inline]
    pub(crate) fn succeed(&self, stamp: Stamp) {
        let plain = stamp.word.0 & (Word::QUIET | Word::TIME_WINDOW | Word::PROBE) == Word::QUIET;
        if plain && self.bare_successes && self.load() == stamp.word {
            self.threads.slot().successful();
        } else {
            self.settle(stamp, Outcome::success());
        }
    }

    /// Records how an admitted call ended.
    pub(crate) fn settle(&self, stamp: Stamp, outcome: Outcome) {
        let slot = self.threads.slot();
        let elapsed = self
            .slow_call_duration
            .map(|_| self.clock.now_precise_nanos().saturating_sub(stamp.started));
        let slow = matches!((elapsed, self.slow_call_duration), (Some(e), Some(t)) if e >= t);
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
        self.notify_outcome(&outcome, elapsed.map(Duration::from_nanos), slow);

        let now = self.now();
        let mut epoch = None;
        if let (true, false, Some(window)) = (
            stamp.word.has(Word::TIME_WINDOW),
            outcome.is_ignored(),
            slot.window(),
        ) {
            let generation = stamp.word.generation();
            epoch = Some(window.record(generation, now, outcome.is_failure(), slow));
        }
        let word = self.load();
        if !word.same_generation(stamp.word) {
            // Admitted before the last transition: the machine would ignore it.
            return;
        }
        // A probe's outcome is never quiet: probes are admitted while HalfOpen, whose word is
        // never `QUIET`, and the generation is still the probe's.
        let quiet = word.has(Word::QUIET)
            && !slow
            && !outcome.is_failure()
            && epoch.is_none_or(|epoch| epoch <= self.quiet_until_epoch.load(Relaxed));
        if !quiet {
            self.record_locked(stamp, &outcome, slow, now);
        }
    }

    #[cold]
    fn record_locked(&self, stamp: Stamp, outcome: &Outcome, slow: bool, now: u64) {
        let generation = stamp.word.generation();
        let mut machine = self.lock();
        // Time first: a probe that answers after `half_open_max_wait` finds the circuit open
        // again, whether or not anyone looked in between.
        let observed = machine.observe(now);
        let time_tally = || self.threads.time_tally(generation, now);
        let recorded = machine.record(generation, stamp.is_probe(), outcome, slow, now, time_tally);
        self.publish(&machine);
        drop(machine);
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
        let mut machine = self.lock();
        let observed = machine.observe(self.now());
        machine.abandon(stamp.word.generation(), true);
        self.publish(&machine);
        drop(machine);
        self.announce(observed);
    }
}
