//! The rule, pure: from the limit, the floor and one finished call, the next limit. No clock,
//! no lock, no atomics: the limiter hands it the time and the sample under its lock.
//!
//! The estimate is Netflix's `VegasLimit` with its default functions: `log = max(1,
//! floor(log10(limit)))`, `alpha = 3 × log`, `beta = 6 × log`, and from the floor (the round
//! trip of a call that did not queue) and a call's round trip `rtt`, the calls queued at the
//! backend: `queue = ceil(limit × (1 - floor / rtt))`. The rule steps once per window of
//! `limit` ended calls, with `rtt` their average round trip, as Netflix's `WindowedLimit`
//! around `VegasLimit` does (TCP Vegas steps once per round trip):
//!
//! | the window                                  | the limit            |
//! |---------------------------------------------|----------------------|
//! | holds a dropped call (timed out, refused for overload) | `- log`   |
//! | never had half the limit in flight          | unchanged (the load, not the backend, set its latency) |
//! | `queue <= log`: no queue                   | `+ beta`             |
//! | `queue < alpha`: a short queue             | `+ log`              |
//! | `queue > beta`: a long queue               | `- log`              |
//! | otherwise                                  | unchanged            |
//!
//! always within `[min_limit, max_limit]`.
//!
//! The floor is the shortest round trip seen, and it is measured again every `floor_interval`
//! as Envoy's adaptive-concurrency filter does: the limit is pinned to `min_limit` until
//! `floor_samples` calls that started with at most `min_limit` calls in flight have ended, and
//! the shortest of them is the new floor. This also corrects a floor first seen under load
//! (`tests/behaviour/adaptive_limit.rs` has both cases). Netflix's Vegas instead takes one
//! call's round trip as the floor every `30 × limit` calls; when every call is slowed by the
//! load (a backend that shares its servers among the calls in flight), that call was slowed
//! too, each probe raises the floor, and the limit climbs to its maximum.

use std::time::Duration;

/// One finished call, as the limiter saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    /// From the permit to the verdict, in nanoseconds.
    pub(crate) rtt: u64,
    /// Calls in flight when this one started, itself included.
    pub(crate) in_flight: u32,
    /// Whether the call was dropped (timed out, or refused by an overloaded backend).
    pub(crate) dropped: bool,
}

/// The bounds and the floor's schedule, checked by the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) min_limit: u32,
    pub(crate) max_limit: u32,
    pub(crate) floor_interval: Duration,
    pub(crate) floor_samples: u32,
}

/// The floor being measured again: the shortest round trip so far, from how many calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Remeasure {
    shortest: u64,
    samples: u32,
}

/// The limit's whole state: a few words, whatever the traffic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vegas {
    bounds: Bounds,
    /// The estimate, fractional so that small steps add up as Netflix's do.
    estimate: f64,
    /// The shortest round trip, in nanoseconds; `None` before the first call ends.
    floor: Option<u64>,
    /// When the floor was last measured or lowered, in the clock's nanoseconds.
    floor_at: u64,
    remeasure: Option<Remeasure>,
    /// The calls ended since the last step.
    window: Window,
}

/// The calls ended since the last step: the rule steps once per window of `limit` calls (about
/// one round trip of the whole limit, as TCP Vegas steps once per round trip), on their average
/// round trip, so that one lucky or unlucky call does not move the limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Window {
    samples: u32,
    /// Calls with a round trip, and their sum in nanoseconds.
    timed: u32,
    rtt_sum: f64,
    max_in_flight: u32,
    dropped: bool,
}

impl Window {
    fn add(&mut self, sample: Sample) {
        self.samples += 1;
        self.max_in_flight = self.max_in_flight.max(sample.in_flight);
        if sample.dropped {
            self.dropped = true;
        } else if sample.rtt > 0 {
            self.timed += 1;
            self.rtt_sum += sample.rtt as f64;
        }
    }

    fn average_rtt(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.rtt_sum / f64::from(self.timed))
    }
}

impl Vegas {
    /// Starts at `initial`, which the builder has checked lies within the bounds, at time `now`.
    pub(crate) fn new(bounds: Bounds, initial: u32, now: u64) -> Self {
        Self {
            bounds,
            estimate: f64::from(initial),
            floor: None,
            floor_at: now,
            remeasure: None,
            window: Window::default(),
        }
    }

    /// The limit in force: the estimate, or `min_limit` while the floor is measured again.
    pub(crate) fn limit(&self) -> u32 {
        if self.remeasure.is_some() {
            return self.bounds.min_limit;
        }
        // The estimate stays within [min_limit, max_limit], both u32.
        self.estimate as u32
    }

    /// The shortest round trip seen, in nanoseconds.
    pub(crate) fn floor(&self) -> Option<u64> {
        self.floor
    }

    /// Learns from one finished call at time `now`; returns the limit in force after it.
    pub(crate) fn on_sample(&mut self, now: u64, sample: Sample) -> u32 {
        // A drop's round trip says nothing of the floor (an overloaded backend refuses in no
        // time, a timeout lasts as long as the timeout), and a clock that did not move
        // between the permit and the verdict gives no latency.
        if !sample.dropped && sample.rtt > 0 {
            if let Some(remeasure) = &mut self.remeasure {
                if sample.in_flight <= self.bounds.min_limit {
                    remeasure.shortest = remeasure.shortest.min(sample.rtt);
                    remeasure.samples += 1;
                    if remeasure.samples >= self.bounds.floor_samples {
                        self.floor = Some(remeasure.shortest);
                        self.floor_at = now;
                        self.remeasure = None;
                    }
                }
                return self.limit();
            }
            if self.floor.is_none_or(|floor| sample.rtt < floor) {
                self.floor = Some(sample.rtt);
                self.floor_at = now;
            } else if now.saturating_sub(self.floor_at) >= nanos(self.bounds.floor_interval) {
                self.remeasure = Some(Remeasure {
                    shortest: u64::MAX,
                    samples: 0,
                });
                self.window = Window::default();
                return self.limit();
            }
        }
        self.window.add(sample);
        if self.window.samples >= self.limit() {
            let window = std::mem::take(&mut self.window);
            self.judge(window);
        }
        self.limit()
    }

    /// One step of the rule, from a window of calls (see the module's table).
    fn judge(&mut self, window: Window) {
        if window.dropped {
            self.set(self.estimate - log10(self.estimate));
            return;
        }
        let (Some(floor), Some(rtt)) = (self.floor, window.average_rtt()) else {
            return;
        };
        // Not close to the limit: the caller, not the backend, decides the latency.
        if f64::from(window.max_in_flight) * 2.0 < self.estimate {
            return;
        }
        let log = log10(self.estimate);
        let queue = (self.estimate * (1.0 - floor as f64 / rtt)).ceil();
        let next = if queue <= log {
            self.estimate + 6.0 * log
        } else if queue < 3.0 * log {
            self.estimate + log
        } else if queue > 6.0 * log {
            self.estimate - log
        } else {
            self.estimate
        };
        self.set(next);
    }

    fn set(&mut self, estimate: f64) {
        self.estimate = estimate.clamp(
            f64::from(self.bounds.min_limit),
            f64::from(self.bounds.max_limit),
        );
    }
}

/// Netflix's `Log10RootIntFunction`: the whole part of `log10(limit)`, at least 1.
fn log10(limit: f64) -> f64 {
    limit.log10().floor().max(1.0)
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
