//! Client-side adaptive throttling, from Google's SRE book ("Handling Overload"): while Closed,
//! reject a call locally with the probability
//!
//! ```text
//! p = max(0, (requests - K × accepts) / (requests + 1))
//! ```
//!
//! over a sliding window, so that the breaker sends the backend about K times what it accepts
//! and no more. A trip policy is all or nothing; the throttle lets a backend that serves a
//! share of the load keep serving that share.
//!
//! - **requests**: calls asked for while Closed, those the throttle rejects included;
//!   **accepts**: calls that ended in a success. A failure counts only as a request; an
//!   ignored outcome counts as neither, since it says nothing about the backend. An admitted
//!   call is counted when it ends (a rejected one at once), so a call dropped unsettled, a
//!   cancelled one, counts for nothing, as the [`Permit`](crate::Permit) promises.
//! - No throttling while the window holds fewer than `minimum_requests` requests, and never
//!   above `max_rejection`, so that some calls always go through and see the backend recover.
//! - **The window** is [`BUCKETS`] buckets of `window / 40` each (go-zero's 10 s in 40 buckets
//!   of 250 ms); the oldest drops out whole. Running totals make every call O(1) in constant
//!   memory. The counts sit behind a `std` mutex, held for a few additions and never across an
//!   `.await`: the throttle is opt-in, and a breaker without one never touches it.
//!
//! # Recovery: runs of working buckets
//!
//! After the backend recovers, the plain formula climbs down slowly: it lets through only K
//! times what got through, and the failures stay in the window until they age out. From
//! `max_rejection` 0.9 with K = 1.5 and a 10 s window it stays above zero for 32.5 s, over
//! three windows (the test `the_plain_formula_takes_about_three_windows_to_recover`).
//!
//! So, as go-zero does (`core/breaker/googlebreaker.go`), the probability is scaled down by the
//! run of *working* buckets: the most recent buckets in a row that hold successes and no
//! failure (an empty bucket neither counts nor ends the run),
//!
//! ```text
//! p' = p × (39 - run) / 39
//! ```
//!
//! 39 rather than go-zero's 40: the newest bucket may have only just begun, so 39 working
//! buckets before it are already a whole window's worth. One failure ends the run, so a
//! backend that still fails some of the calls it is sent is throttled by the plain formula; one
//! that answers every call sees the probability fall steadily to 0 within one window: 9.75 s in
//! the same setting (the test `a_run_of_working_buckets_recovers_within_one_window`). go-zero
//! also forces a call through once a second and weights K by failing buckets; neither is
//! needed here, since `max_rejection` already keeps calls going through.

use crate::error::ConfigError;
use crate::vocabulary::{Outcome, Reason};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use window::{BUCKETS, Window};

mod window;

/// The shortest window: [`BUCKETS`] buckets of 10 ms, the default clock's resolution being a
/// kernel tick (see [`MonotonicClock`](crate::MonotonicClock)).
const MIN_WINDOW: Duration = Duration::from_millis(10 * BUCKETS as u64);

/// Settings of client-side adaptive throttling, for
/// [`Builder::adaptive_throttle`](crate::Builder::adaptive_throttle): while Closed, each call is
/// rejected locally with the probability `max(0, (requests - K × accepts) / (requests + 1))`
/// over the window: requests are the calls asked for while Closed, those rejected included;
/// accepts the calls that succeeded; an ignored outcome counts as neither. The window is 40
/// buckets; the oldest drops out whole. Once the backend answers every call it is sent, the
/// probability falls to 0 within one window: it is scaled by `(39 - run) / 39`, `run` being
/// the most recent buckets in a row with successes and no failure, as go-zero does
/// (`breaker/src/throttle.rs` has the measurements).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `k` | 2.0 | the backend is sent about K times what it accepts (the SRE book's K) |
/// | `window` | 10 s | how far back requests and accepts are counted, in 40 buckets |
/// | `minimum_requests` | 20 | no throttling while the window holds fewer requests |
/// | `max_rejection` | 0.9 | the highest rejection probability, in `[0, 1)` |
/// | `seed` | random | the seed of the random draws, for deterministic tests |
///
/// ```
/// use trip_breaker::{AdaptiveThrottle, CircuitBreaker, ManualClock, Reason};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let cb = CircuitBreaker::builder("b")
///     .without_failure_threshold() // the throttle alone, no trip policy
///     .adaptive_throttle(
///         AdaptiveThrottle::new()
///             .k(1.5)
///             .window(Duration::from_secs(10))
///             .minimum_requests(20)
///             .max_rejection(0.9)
///             .seed(7),
///     )
///     .clock(clock.clone())
///     .build()?;
///
/// // The backend fails every call: once the window holds 20 requests, about 9 calls in 10
/// // are rejected without reaching it.
/// let mut throttled = 0;
/// for _ in 0..1_000 {
///     match cb.try_acquire() {
///         Ok(permit) => permit.failure("HTTP 503"),
///         Err(rejected) => {
///             assert!(matches!(rejected.reason(), Some(Reason::Throttled { .. })));
///             throttled += 1;
///         }
///     }
/// }
/// assert!((850..=920).contains(&throttled), "{throttled}");
/// let probability = cb.snapshot().rejection_probability.expect("a throttle");
/// assert!((probability - 0.9).abs() < 1e-9);
/// # Ok::<(), trip_breaker::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use = "a throttle does nothing until given to Builder::adaptive_throttle"]
pub struct AdaptiveThrottle {
    pub(crate) k: f64,
    pub(crate) window: Duration,
    pub(crate) minimum_requests: u32,
    pub(crate) max_rejection: f64,
    seed: Option<u64>,
}

impl Default for AdaptiveThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl AdaptiveThrottle {
    /// K = 2.0 as in the SRE book, a 10 s window, no throttling under 20 requests, at most 0.9.
    pub fn new() -> Self {
        Self {
            k: 2.0,
            window: Duration::from_secs(10),
            minimum_requests: 20,
            max_rejection: 0.9,
            seed: None,
        }
    }

    /// The multiplier K: the backend is sent about K times what it accepts. Lower throttles
    /// sooner and harder; finite and above 0.
    pub fn k(self, k: f64) -> Self {
        Self { k, ..self }
    }

    /// How far back requests and accepts are counted; at least 400 ms (40 buckets of 10 ms).
    pub fn window(self, window: Duration) -> Self {
        Self { window, ..self }
    }

    /// No throttling while the window holds fewer requests than this.
    pub fn minimum_requests(self, requests: u32) -> Self {
        Self {
            minimum_requests: requests,
            ..self
        }
    }

    /// The highest rejection probability, in `[0, 1)`: some calls always go through, so the
    /// throttle sees the backend recover.
    pub fn max_rejection(self, probability: f64) -> Self {
        Self {
            max_rejection: probability,
            ..self
        }
    }

    /// Seeds the random draws, so that a test sees the same rejections on every run.
    pub fn seed(self, seed: u64) -> Self {
        Self {
            seed: Some(seed),
            ..self
        }
    }

    /// Checks every setting, naming the first that cannot work.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(self.k.is_finite() && self.k > 0.0) {
            return Err(ConfigError::new(
                "adaptive_throttle.k",
                format!("must be a finite number above 0 (got {})", self.k),
            ));
        }
        if self.window < MIN_WINDOW {
            return Err(ConfigError::new(
                "adaptive_throttle.window",
                format!(
                    "must be at least {MIN_WINDOW:?}, {BUCKETS} buckets of the clock's 10 ms \
                     resolution (got {:?})",
                    self.window
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.max_rejection) {
            return Err(ConfigError::new(
                "adaptive_throttle.max_rejection",
                format!(
                    "must be a probability in [0, 1) (got {})",
                    self.max_rejection
                ),
            ));
        }
        Ok(())
    }

    /// The rejection probability of the plain formula for these counts: 0 below
    /// `minimum_requests`, at most `max_rejection`.
    fn plain_probability(&self, requests: u64, accepts: u64) -> f64 {
        if requests < u64::from(self.minimum_requests) {
            return 0.0;
        }
        // Counts far below 2^53 convert to f64 exactly.
        let (requests, accepts) = (requests as f64, accepts as f64);
        ((requests - self.k * accepts) / (requests + 1.0)).clamp(0.0, self.max_rejection)
    }
}

// ----- The running throttle ---------------------------------------------------------------------

/// One breaker's throttle: its settings, and its window and random numbers behind a lock.
#[derive(Debug)]
pub(crate) struct Throttle {
    settings: AdaptiveThrottle,
    locked: Mutex<Locked>,
}

#[derive(Debug)]
struct Locked {
    window: Window,
    random: fastrand::Rng,
}

impl Throttle {
    pub(crate) fn new(settings: AdaptiveThrottle) -> Self {
        let random = match settings.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        Self {
            locked: Mutex::new(Locked {
                window: Window::new(settings.window),
                random,
            }),
            settings,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Locked> {
        // Nothing below panics while locked; a poisoned lock still guards consistent counts.
        self.locked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a call asked for at `now`, or rejects it with the reason [`Reason::Throttled`]
    /// and counts it as a request.
    pub(crate) fn admit(&self, now: u64) -> Result<(), Reason> {
        let mut locked = self.lock();
        let Locked { window, random } = &mut *locked;
        window.advance(now);
        let probability = probability(&self.settings, window);
        let reason = Reason::Throttled {
            probability,
            requests: window.requests,
            accepts: window.accepts,
            window: self.settings.window,
        };
        // `f64()` is in [0, 1): a probability of 0 never rejects.
        if random.f64() < probability {
            window.request();
            return Err(reason);
        }
        Ok(())
    }

    /// Counts an admitted call when it ends, at `now`: a request, and an accept if it
    /// succeeded. An ignored outcome counts as neither, and so does a permit dropped without
    /// an outcome, which never gets here: a call counts once it has ended, so a cancelled one
    /// counts for nothing.
    pub(crate) fn record(&self, outcome: &Outcome, now: u64) {
        if outcome.is_ignored() {
            return;
        }
        let mut locked = self.lock();
        let window = &mut locked.window;
        window.advance(now);
        window.request();
        if outcome.is_failure() {
            window.fail();
        } else {
            window.accept();
        }
    }

    /// The probability a call asked for at `now` would be rejected with.
    pub(crate) fn probability(&self, now: u64) -> f64 {
        let mut locked = self.lock();
        locked.window.advance(now);
        probability(&self.settings, &locked.window)
    }

    /// Forgets every count.
    pub(crate) fn reset(&self) {
        let mut locked = self.lock();
        locked.window = Window::new(self.settings.window);
    }
}

/// The rejection probability: the plain formula, scaled down by the run of working buckets.
fn probability(settings: &AdaptiveThrottle, window: &Window) -> f64 {
    settings.plain_probability(window.requests, window.accepts) * window.recovery_scale()
}

#[cfg(test)]
mod tests;
