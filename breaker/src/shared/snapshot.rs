//! The metrics snapshot, read under the core's lock.

use super::Shared;
use crate::{Snapshot, State};

impl Shared {
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
}
