//! The trip policies: when a Closed circuit opens. Each is O(1) per call with constant memory.
//!
//! * **Consecutive failures** (`failure_threshold`): a count, reset by a success.
//! * **Failures within a period** (`failures_within(n, t)`): the times of the last `n` failures
//!   in a ring; it fires when the oldest of them is younger than `t`. Successes do not reset it.
//! * **Failure rate and slow-call rate** over a sliding window, judged once the window holds
//!   `minimum_calls`. A count window (the last N calls) is a ring kept here, exact after every
//!   call. A time window (the last T seconds) is kept by the calling threads (`fast_path`
//!   holds it); the policies are handed what it holds.

use crate::clock::nanos;
use crate::config::{Config, SlidingWindow};
use crate::vocabulary::Reason;

/// What a window holds: how many calls, and how many of them failed or were slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Tally {
    pub(crate) fn one(failed: bool, slow: bool) -> Tally {
        Tally {
            calls: 1,
            failures: u32::from(failed),
            slow: u32::from(slow),
        }
    }

    pub(crate) fn add(&mut self, other: Tally) {
        self.calls = self.calls.saturating_add(other.calls);
        self.failures = self.failures.saturating_add(other.failures);
        self.slow = self.slow.saturating_add(other.slow);
    }

    fn remove(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }

    /// Failure percentage, or `None` while the window is empty.
    pub(crate) fn failure_rate(&self) -> Option<f64> {
        percent(self.failures, self.calls)
    }

    /// Slow-call percentage, or `None` while the window is empty.
    pub(crate) fn slow_rate(&self) -> Option<f64> {
        percent(self.slow, self.calls)
    }
}

pub(crate) fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}

/// Every trip policy of one breaker, with the counts and windows they judge.
#[derive(Debug)]
pub(crate) struct TripPolicies {
    failure_threshold: Option<u32>,
    /// Failures in a row, counted whether or not `failure_threshold` is set: rejections and
    /// snapshots report it, as the Python library does.
    consecutive: u32,
    failures_within: Option<FailureTimes>,
    rates: Option<Rates>,
}

impl TripPolicies {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            failure_threshold: config.failure_threshold,
            consecutive: 0,
            failures_within: config
                .failures_within
                .map(|(failures, within)| FailureTimes::new(failures, nanos(within))),
            rates: Rates::new(config),
        }
    }

    /// Counts a Closed call that succeeded or failed, and returns the policy that fires, if one
    /// does. `time_window` gives what the time window holds (this call included), when the
    /// rates keep one: see [`Rates::record`].
    pub(crate) fn record(
        &mut self,
        failed: bool,
        slow: bool,
        now: u64,
        time_window: impl FnOnce() -> Option<Tally>,
    ) -> Option<Reason> {
        if failed {
            self.count_failure();
        } else {
            self.count_success();
        }
        if let Some(threshold) = self.failure_threshold
            && failed
            && self.consecutive >= threshold
        {
            return Some(Reason::ConsecutiveFailures(self.consecutive));
        }
        if let Some(times) = self.failures_within.as_mut()
            && failed
            && times.push_and_check(now)
        {
            return Some(times.reason());
        }
        self.rates
            .as_mut()?
            .record(Tally::one(failed, slow), time_window)
    }

    /// A success ends a run of failures (a successful probe does too).
    pub(crate) fn count_success(&mut self) {
        self.consecutive = 0;
    }

    /// Adds a failure to the consecutive count (a failed probe does too).
    pub(crate) fn count_failure(&mut self) {
        self.consecutive = self.consecutive.saturating_add(1);
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive
    }

    /// Empties the windows, as a trip does; the failure count stays for the rejection's text.
    pub(crate) fn clear_windows(&mut self) {
        if let Some(times) = self.failures_within.as_mut() {
            times.clear();
        }
        if let Some(rates) = self.rates.as_mut() {
            rates.clear();
        }
    }

    /// Forgets everything, as closing does.
    pub(crate) fn clear(&mut self) {
        self.consecutive = 0;
        self.clear_windows();
    }

    /// Whether the rates keep a time window (which the calling threads record into).
    pub(crate) fn has_time_window(&self) -> bool {
        matches!(&self.rates, Some(rates) if matches!(rates.window, Window::Time))
    }

    /// When the rates open the circuit, if a rate policy is on.
    pub(crate) fn rate_thresholds(&self) -> Option<Thresholds> {
        self.rates.as_ref().map(|rates| rates.thresholds)
    }

    /// What the rate window holds, if a rate policy keeps one.
    pub(crate) fn window(&self, time_tally: impl FnOnce() -> Tally) -> Option<Tally> {
        let rates = self.rates.as_ref()?;
        Some(match &rates.window {
            Window::Count(ring) => ring.total,
            Window::Time => time_tally(),
        })
    }
}

/// The failure-rate and slow-call-rate policies and their window.
#[derive(Debug)]
struct Rates {
    thresholds: Thresholds,
    window: Window,
}

/// When the rates open the circuit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    failure_rate: Option<f64>,
    slow_rate: Option<f64>,
    pub(crate) minimum_calls: u32,
}

#[derive(Debug)]
enum Window {
    Count(CountWindow),
    /// Kept by the calling threads, outside the machine.
    Time,
}

impl Rates {
    fn new(config: &Config) -> Option<Self> {
        if config.failure_rate_threshold.is_none() && config.slow_call_rate_threshold.is_none() {
            return None;
        }
        let window = match config.sliding_window {
            SlidingWindow::Count { size } => Window::Count(CountWindow::new(size)),
            SlidingWindow::Time { .. } => Window::Time,
        };
        Some(Self {
            thresholds: Thresholds {
                failure_rate: config.failure_rate_threshold,
                slow_rate: config.slow_call_rate_threshold,
                minimum_calls: config.minimum_calls,
            },
            window,
        })
    }

    /// Adds `call` to the window and judges it. A count window is kept here. A time window
    /// is kept by the calling threads, and `time_window` gives what it holds; it may give
    /// `None` instead, when the shell has proved that no rate could reach its threshold (the
    /// fast path's bounds, which save adding up every thread's buckets): then nothing fires.
    fn record(
        &mut self,
        call: Tally,
        time_window: impl FnOnce() -> Option<Tally>,
    ) -> Option<Reason> {
        let tally = match &mut self.window {
            Window::Count(ring) => {
                ring.record(call);
                ring.total
            }
            Window::Time => time_window()?,
        };
        self.thresholds.verdict(Measure::of(tally))
    }

    /// Empties the window. A time window needs nothing: its buckets belong to one generation
    /// of the machine, and every trip or close starts a new one.
    fn clear(&mut self) {
        if let Window::Count(ring) = &mut self.window {
            ring.clear();
        }
    }
}

impl Thresholds {
    /// The policy that fires on `measure`, if any.
    pub(crate) fn verdict(self, measure: Measure) -> Option<Reason> {
        if measure.calls < self.minimum_calls {
            return None;
        }
        if let (Some(threshold), Some(rate)) = (self.failure_rate, measure.failure_rate)
            && rate >= threshold
        {
            return Some(Reason::FailureRate { rate, threshold });
        }
        if let (Some(threshold), Some(rate)) = (self.slow_rate, measure.slow_rate)
            && rate >= threshold
        {
            return Some(Reason::SlowCallRate { rate, threshold });
        }
        None
    }
}

/// The last `size` calls, one byte each, in a ring, with their running total.
#[derive(Debug)]
struct CountWindow {
    ring: Box<[u8]>,
    next: usize,
    len: usize,
    total: Tally,
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl CountWindow {
    fn new(size: u32) -> Self {
        Self {
            ring: vec![0; size as usize].into_boxed_slice(),
            next: 0,
            len: 0,
            total: Tally::default(),
        }
    }

    fn record(&mut self, call: Tally) {
        if self.len == self.ring.len() {
            let oldest = self.ring[self.next];
            self.total
                .remove(Tally::one(oldest & FAILED != 0, oldest & SLOW != 0));
        } else {
            self.len += 1;
        }
        let failed = if call.failures > 0 { FAILED } else { 0 };
        let slow = if call.slow > 0 { SLOW } else { 0 };
        self.ring[self.next] = failed | slow;
        self.total.add(call);
        self.next = (self.next + 1) % self.ring.len();
    }

    fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
        self.total = Tally::default();
    }
}

/// A window's call count and rates, exact or bounded, as the rate policies judge them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measure {
    pub(crate) calls: u32,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) slow_rate: Option<f64>,
}

impl Measure {
    fn of(tally: Tally) -> Self {
        Self {
            calls: tally.calls,
            failure_rate: tally.failure_rate(),
            slow_rate: tally.slow_rate(),
        }
    }
}

/// The times of the last `failures` failures, in a ring: `failures_within`.
#[derive(Debug)]
struct FailureTimes {
    times: Box<[u64]>,
    next: usize,
    len: usize,
    within: u64,
}

impl FailureTimes {
    fn new(failures: u32, within: u64) -> Self {
        Self {
            times: vec![0; failures as usize].into_boxed_slice(),
            next: 0,
            len: 0,
            within,
        }
    }

    /// Records a failure at `now`; true when it makes `failures` failures younger than
    /// `within`, counting this one.
    fn push_and_check(&mut self, now: u64) -> bool {
        self.times[self.next] = now;
        self.next = (self.next + 1) % self.times.len();
        self.len = (self.len + 1).min(self.times.len());
        // Once the ring is full, `next` points at the oldest of the last `failures` failures.
        self.len == self.times.len() && now.saturating_sub(self.times[self.next]) < self.within
    }

    fn reason(&self) -> Reason {
        Reason::FailuresWithin {
            failures: u32::try_from(self.times.len()).unwrap_or(u32::MAX),
            within: std::time::Duration::from_nanos(self.within),
        }
    }

    fn clear(&mut self) {
        self.next = 0;
        self.len = 0;
    }
}
