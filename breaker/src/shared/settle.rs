//! Recording how an admitted call ended.

use super::{Admitted, Shared};
use crate::core::{Ticket, Verdict};
use crate::events::EventKind;
use crate::outcome::Kind;
use crate::text::Text;
use std::sync::atomic::Ordering::Relaxed;

impl Shared {
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
}
