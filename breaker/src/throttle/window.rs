//! The throttle's sliding window: [`BUCKETS`] buckets with running totals, and the run of
//! working buckets that speeds recovery (the parent module's docs say why). Pure: it is handed
//! the time.

use crate::clock::nanos;
use std::time::Duration;

/// The buckets of a throttle's window.
pub(crate) const BUCKETS: u32 = 40;

/// The window: [`BUCKETS`] buckets, their running totals, and the run of working buckets.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    buckets: [Bucket; BUCKETS as usize],
    /// The width of a bucket, in nanoseconds.
    width: u64,
    /// The number of the newest bucket: the time divided by `width`.
    newest: u64,
    /// Calls asked for within the window.
    pub(crate) requests: u64,
    /// Calls within the window that succeeded.
    pub(crate) accepts: u64,
    /// Working buckets (successes, no failure) in the window newer than the last failure.
    pub(crate) working: u32,
    /// The number of the newest bucket with a failure.
    last_failing: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    number: u64,
    requests: u64,
    accepts: u64,
    failures: u64,
}

impl Bucket {
    fn is_working(&self) -> bool {
        self.accepts > 0 && self.failures == 0
    }
}

impl Window {
    pub(crate) fn new(length: Duration) -> Self {
        Self {
            buckets: [Bucket::default(); BUCKETS as usize],
            width: (nanos(length) / u64::from(BUCKETS)).max(1),
            newest: 0,
            requests: 0,
            accepts: 0,
            working: 0,
            last_failing: None,
        }
    }

    fn slot(number: u64) -> usize {
        // The remainder is below BUCKETS, so it fits.
        (number % u64::from(BUCKETS)) as usize
    }

    fn newest_bucket(&mut self) -> &mut Bucket {
        &mut self.buckets[Self::slot(self.newest)]
    }

    /// Moves the window to `now`: the buckets older than the window drop out, at most all of
    /// them. A time before the newest bucket (a thread that read the clock just before
    /// another) counts in the newest bucket.
    pub(crate) fn advance(&mut self, now: u64) {
        let number = now / self.width;
        if number <= self.newest {
            return;
        }
        let steps = (number - self.newest).min(u64::from(BUCKETS));
        for fresh in number - steps + 1..=number {
            let old = std::mem::replace(
                &mut self.buckets[Self::slot(fresh)],
                Bucket {
                    number: fresh,
                    ..Bucket::default()
                },
            );
            self.requests -= old.requests;
            self.accepts -= old.accepts;
            if old.is_working() && self.last_failing.is_none_or(|failing| old.number > failing) {
                self.working -= 1;
            }
        }
        self.newest = number;
    }

    pub(crate) fn request(&mut self) {
        self.newest_bucket().requests += 1;
        self.requests += 1;
    }

    pub(crate) fn accept(&mut self) {
        let bucket = self.newest_bucket();
        let starts_working = bucket.accepts == 0 && bucket.failures == 0;
        bucket.accepts += 1;
        self.accepts += 1;
        if starts_working {
            self.working += 1;
        }
    }

    pub(crate) fn fail(&mut self) {
        self.newest_bucket().failures += 1;
        self.last_failing = Some(self.newest);
        self.working = 0;
    }

    /// What the plain formula's probability is multiplied by: `(39 - run) / 39`, `run` being
    /// the working buckets in a row. The newest bucket may have just begun, so 39 in a run
    /// already make the whole window's worth: the probability is then 0 (the module docs of
    /// `throttle` say more).
    pub(crate) fn recovery_scale(&self) -> f64 {
        let full_run = BUCKETS - 1;
        let working = self.working.min(full_run);
        f64::from(full_run - working) / f64::from(full_run)
    }
}
