//! Exponential backoff with full jitter, as tower's [`Backoff`].
//!
//! tower's own `ExponentialBackoff` adds a random share on top of the exponential delay, so
//! clients that failed together still retry close together. Full jitter (AWS's "Exponential
//! Backoff And Jitter") draws the whole wait from `[0, ceiling)`, where the ceiling is
//! `base × 2^n` capped at `max`: retries spread over the whole interval, which is what stops a
//! crowd of clients from hitting a recovering backend in waves.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Sleep;
use tower::retry::backoff::Backoff;

/// Where the random fraction in [0, 1) comes from. Clones share one source.
#[derive(Clone)]
pub struct Jitter(Arc<dyn Fn() -> f64 + Send + Sync>);

impl Jitter {
    /// Fresh randomness, from a generator per thread (no lock).
    pub fn random() -> Self {
        Self(Arc::new(fastrand::f64))
    }

    /// The sequence `seed` gives, the same on every run.
    pub fn seeded(seed: u64) -> Self {
        let rng = Mutex::new(fastrand::Rng::with_seed(seed));
        Self(Arc::new(move || {
            // One draw advances the state in one step: a poisoned lock is still consistent.
            rng.lock().unwrap_or_else(PoisonError::into_inner).f64()
        }))
    }

    /// Always `fraction` (of the ceiling, from 0 to 1): a test's way to know every wait in
    /// advance.
    pub fn fixed(fraction: f64) -> Self {
        Self(Arc::new(move || fraction))
    }

    fn fraction(&self) -> f64 {
        (self.0)().clamp(0.0, 1.0)
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jitter")
    }
}

/// One call's backoff: the n-th wait (from 0) is drawn from `[0, min(max, base × 2^n))`.
/// Clones share the jitter source; the retry policy clones a fresh one for every call.
#[derive(Debug, Clone)]
pub struct FullJitter {
    base: Duration,
    max: Duration,
    jitter: Jitter,
    waits: u32,
}

impl FullJitter {
    /// A backoff from `base`, doubling, capped at `max`.
    pub fn new(base: Duration, max: Duration, jitter: Jitter) -> Self {
        Self {
            base,
            max,
            jitter,
            waits: 0,
        }
    }

    /// The next wait's ceiling: `base × 2^n`, at most `max`.
    pub fn ceiling(&self) -> Duration {
        2_u32
            .checked_pow(self.waits)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.max, |ceiling| ceiling.min(self.max))
    }

    /// The next wait, drawn from `[0, ceiling)`.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.ceiling().mul_f64(self.jitter.fraction());
        self.waits = self.waits.saturating_add(1);
        wait
    }
}

impl Backoff for FullJitter {
    type Future = Sleep;

    fn next_backoff(&mut self) -> Self::Future {
        tokio::time::sleep(self.next_wait())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn ceilings_double_from_the_base_up_to_the_max() {
        let mut backoff = FullJitter::new(ms(50), ms(1000), Jitter::fixed(0.0));
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            ceilings.push(backoff.ceiling());
            backoff.next_wait();
        }
        assert_eq!(
            ceilings,
            [
                ms(50),
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1000),
                ms(1000),
                ms(1000)
            ]
        );
    }

    #[test]
    fn each_wait_is_the_drawn_fraction_of_its_ceiling() {
        let mut backoff = FullJitter::new(ms(50), ms(1000), Jitter::fixed(0.5));
        assert_eq!(backoff.next_wait(), ms(25));
        assert_eq!(backoff.next_wait(), ms(50));
        assert_eq!(backoff.next_wait(), ms(100));
    }

    #[test]
    fn waits_stay_below_their_ceiling_and_use_the_whole_range() {
        let jitter = Jitter::seeded(1);
        let mut below_a_tenth = false;
        let mut above_nine_tenths = false;
        for _ in 0..200 {
            let mut backoff = FullJitter::new(ms(50), ms(1000), jitter.clone());
            let wait = backoff.next_wait();
            assert!(wait < ms(50), "{wait:?}");
            below_a_tenth |= wait < ms(5);
            above_nine_tenths |= wait > ms(45);
        }
        assert!(
            below_a_tenth && above_nine_tenths,
            "full jitter spans [0, ceiling)"
        );
    }

    #[test]
    fn a_huge_number_of_waits_stays_at_the_max() {
        let mut backoff = FullJitter::new(ms(50), ms(1000), Jitter::fixed(0.999));
        for _ in 0..100 {
            assert!(backoff.next_wait() < ms(1000));
        }
        assert_eq!(backoff.ceiling(), ms(1000));
    }
}
