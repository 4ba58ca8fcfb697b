//! The client flags and their profile into [`ClientSettings`]: the profile's settings overlaid
//! by the flags given, then checked.

use super::ClientFlags;
use super::check::{FlagError, check};
use crate::flag_value::{MaxConcurrent, given_or};
use crate::upstream::{BULKHEAD_WAIT, BreakerSettings, ClientSettings, RetrySettings};

impl ClientFlags {
    /// Every layer's settings: the flags given, the profile's defaults for the rest, checked.
    ///
    /// # Errors
    ///
    /// A [`FlagError`] naming the flag (or both flags) at fault: a per-attempt timeout not
    /// shorter than the recovery timeout, a deadline not longer than one attempt, a backoff
    /// ceiling below the first backoff, or breaker settings the breaker refuses.
    pub fn resolve(&self) -> Result<ClientSettings, FlagError> {
        let settings = self.fill_in();
        check(&settings)?;
        self.check_adaptive(&settings)?;
        self.check_throttle(&settings)?;
        Ok(settings)
    }

    /// The profile's settings overlaid by the flags given, unchecked.
    fn fill_in(&self) -> ClientSettings {
        let base = ClientSettings::of(self.profile);
        let breaker = base
            .breaker
            .filter(|_| !self.no_breaker)
            .map(|b| BreakerSettings {
                failure_threshold: given_or(self.failure_threshold, b.failure_threshold),
                failure_rate_threshold: given_or(
                    self.failure_rate_threshold,
                    b.failure_rate_threshold,
                ),
                slow_call_threshold: given_or(self.slow_call_threshold, b.slow_call_threshold),
                slow_call_rate_threshold: given_or(
                    self.slow_call_rate_threshold,
                    b.slow_call_rate_threshold,
                ),
                sliding_window: self.sliding_window.unwrap_or(b.sliding_window),
                minimum_calls: self.minimum_calls.unwrap_or(b.minimum_calls),
                recovery_timeout: self.recovery_timeout.unwrap_or(b.recovery_timeout),
                half_open_max_calls: self.half_open_max_calls.unwrap_or(b.half_open_max_calls),
                throttle: self.throttle(b.throttle),
            });
        let wait = self
            .bulkhead_wait
            .or(base.bulkhead.map(|b| b.wait))
            .unwrap_or(BULKHEAD_WAIT);
        let limit = given_or(
            self.max_concurrent,
            base.bulkhead.map(|b| match b.adaptive {
                Some(_) => MaxConcurrent::Adaptive,
                None => MaxConcurrent::Fixed(b.max_concurrent),
            }),
        );
        let bulkhead = limit.map(|limit| self.bulkhead(limit, base.bulkhead, wait));
        let retry = base.retry;
        ClientSettings {
            profile: self.profile,
            call_deadline: given_or(self.call_deadline, base.call_deadline),
            retry: RetrySettings {
                attempts: self.retry_attempts.unwrap_or(retry.attempts),
                backoff: self.retry_backoff.unwrap_or(retry.backoff),
                backoff_max: self.retry_backoff_max.unwrap_or(retry.backoff_max),
                budget: given_or(self.retry_budget, retry.budget),
            },
            breaker,
            bulkhead,
            request_timeout: self.request_timeout.unwrap_or(base.request_timeout),
            max_response_bytes: self.max_response_bytes.unwrap_or(base.max_response_bytes),
        }
    }
}
