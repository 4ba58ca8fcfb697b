//! Admitting a call, or building its rejection: the fast path the module docs describe.

use super::{Admitted, Shared};
use crate::State;
use crate::core::{Core, Ticket};
use crate::events::EventKind;
use crate::local::TripCache;
use crate::rejected::{Deadline, Rejected};
use crate::state::StateWord;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

impl Shared {
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
    pub(super) fn deadline(&self, now: u64, until: u64) -> Deadline {
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
}
