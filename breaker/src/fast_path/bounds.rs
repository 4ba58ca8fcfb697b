//! The bounds that spare the rate policies a reading of the time window.

use crate::trip_policy::{Measure, Tally, Thresholds, percent};

/// What is known of a time window between two readings of it, so that the rate policies are
/// handed a reading only when their verdict could change.
///
/// Reading a time window means adding up every thread's buckets. Between readings the machine
/// sees every failed and slow call, but not every success: once a reading finds the window
/// holding `minimum_calls`, the threads count plain successes alone until the epoch changes
/// (see [`Shortcuts::quiet_until_epoch`](super::Shortcuts::quiet_until_epoch)). So between readings the judge works from bounds:
///
/// * each rate is at most (its calls at the reading + those seen since) / (all calls at the
///   reading + those seen since), because the successes it did not see only lower a rate;
/// * the count is at most the calls at the reading + all calls seen since, because while the
///   window is short of `minimum_calls` every call is brought to the machine.
///
/// A verdict on the bounds fires whenever the true one could, and only then is the window read.
/// It is also read when a bucket has slid out (the epoch changed), which can raise a rate with
/// no new failure, and when a window that was short of `minimum_calls` may have reached it.
#[derive(Debug)]
pub(crate) struct TimeJudge {
    /// Bucket width, in nanoseconds: the window slides by one bucket per epoch.
    width: u64,
    /// The machine's generation this knowledge belongs to; a new one starts from nothing.
    generation: u64,
    /// The epoch of the last reading; `None` before the first.
    epoch: Option<u64>,
    read: Tally,
    seen: Tally,
}

impl TimeJudge {
    /// A judge of a window whose buckets are `width` nanoseconds wide.
    pub(crate) fn new(width: u64) -> Self {
        Self {
            width,
            generation: 0,
            epoch: None,
            read: Tally::default(),
            seen: Tally::default(),
        }
    }

    /// The reading the rate policies get for `call`, recorded in generation `generation` at
    /// `now`: `read()`, the window itself, when their verdict could change; `None` when the
    /// bounds prove no rate can reach its threshold.
    pub(crate) fn reading(
        &mut self,
        generation: u64,
        call: Tally,
        now: u64,
        thresholds: Thresholds,
        read: impl FnOnce() -> Tally,
    ) -> Option<Tally> {
        if generation != self.generation {
            *self = Self {
                generation,
                ..Self::new(self.width)
            };
        }
        self.seen.add(call);
        if !self.must_read(now, thresholds) {
            return None;
        }
        let tally = read();
        self.epoch = Some(now / self.width);
        self.read = tally;
        self.seen = Tally::default();
        Some(tally)
    }

    /// Whether the window must be read now: before the first reading; once the epoch has
    /// changed; when the bound says a policy could fire; and when the window may have reached
    /// `minimum_calls` since a reading that found it short (so that successes become quiet).
    fn must_read(&self, now: u64, thresholds: Thresholds) -> bool {
        if self.epoch != Some(now / self.width) {
            return true;
        }
        let bound = self.bound();
        let cold = self.read.calls < thresholds.minimum_calls;
        (cold && bound.calls >= thresholds.minimum_calls) || thresholds.verdict(bound).is_some()
    }

    /// The bound described above.
    fn bound(&self) -> Measure {
        Measure {
            calls: self.read.calls.saturating_add(self.seen.calls),
            failure_rate: percent(
                self.read.failures.saturating_add(self.seen.failures),
                self.read.calls.saturating_add(self.seen.failures),
            ),
            slow_rate: percent(
                self.read.slow.saturating_add(self.seen.slow),
                self.read.calls.saturating_add(self.seen.slow),
            ),
        }
    }

    /// The epoch up to which plain successes are quiet, once a reading of `generation` found
    /// the window holding `minimum_calls`.
    pub(crate) fn quiet_until_epoch(&self, generation: u64, minimum_calls: u32) -> Option<u64> {
        self.epoch
            .filter(|_| generation == self.generation && self.read.calls >= minimum_calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::trip_policy::TripPolicies;

    const SECOND: u64 = 1_000_000_000;

    /// A failure rate of 50 % or more opens the circuit, judged from 4 calls on.
    fn thresholds() -> Thresholds {
        let config = Config {
            failure_threshold: None,
            failure_rate_threshold: Some(50.0),
            minimum_calls: 4,
            ..Config::default()
        };
        TripPolicies::new(&config)
            .rate_thresholds()
            .expect("a rate policy")
    }

    #[test]
    fn a_generation_read_once_is_not_read_again_within_the_epoch_while_no_verdict_can_change() {
        let mut judge = TimeJudge::new(SECOND);
        let success = Tally::one(false, false);
        let full = Tally {
            calls: 10,
            failures: 0,
            slow: 0,
        };
        assert_eq!(
            judge.reading(7, success, 0, thresholds(), || full),
            Some(full)
        );
        assert_eq!(judge.quiet_until_epoch(7, 4), Some(0), "successes quiet");
        let again = judge.reading(7, success, SECOND / 2, thresholds(), || {
            panic!("read again within the epoch")
        });
        assert_eq!(
            again, None,
            "ten calls and no failure: no rate can reach 50 %"
        );
        assert_eq!(
            judge.quiet_until_epoch(8, 4),
            None,
            "another generation's successes are not quiet"
        );
        let next = judge.reading(8, success, SECOND / 2, thresholds(), Tally::default);
        assert_eq!(
            next,
            Some(Tally::default()),
            "a new generation starts from nothing"
        );
    }
}
