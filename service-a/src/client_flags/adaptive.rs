//! The adaptive throttle's and the adaptive limit's flags: each resolved from the profile's
//! settings overlaid by the flags given, and refused where the layer they tune is off or would
//! not take them.

use std::time::Duration;

use super::ClientFlags;
use super::check::{FlagError, human};
use crate::flag_value::{MaxConcurrent, OrNone, given_or};
use crate::upstream::{
    ADAPTIVE_LIMIT, ADAPTIVE_MAX_LIMIT, AdaptiveLimitSettings, BulkheadSettings, ClientSettings,
    THROTTLE_MAX_REJECTION, THROTTLE_MINIMUM_REQUESTS, THROTTLE_WINDOW, ThrottleSettings,
};

impl ClientFlags {
    /// The throttle's settings: the profile's (`base`) overlaid by the flags given; the
    /// defaults fill what neither gives.
    pub(super) fn throttle(&self, base: Option<ThrottleSettings>) -> Option<ThrottleSettings> {
        let k = given_or(self.adaptive_throttle, base.map(|t| t.k))?;
        Some(ThrottleSettings {
            k,
            window: self
                .throttle_window
                .or(base.map(|t| t.window))
                .unwrap_or(THROTTLE_WINDOW),
            max_rejection: self
                .throttle_max_rejection
                .or(base.map(|t| t.max_rejection))
                .unwrap_or(THROTTLE_MAX_REJECTION),
            minimum_requests: self
                .throttle_minimum_requests
                .or(base.map(|t| t.minimum_requests))
                .unwrap_or(THROTTLE_MINIMUM_REQUESTS),
        })
    }

    /// The --throttle-* flags need a throttle, and a throttle needs the breaker it is part of.
    pub(super) fn check_throttle(&self, settings: &ClientSettings) -> Result<(), FlagError> {
        if settings.breaker.and_then(|b| b.throttle).is_some() {
            return Ok(());
        }
        if self.no_breaker && matches!(self.adaptive_throttle, Some(OrNone::Some(_))) {
            return Err(FlagError {
                flag: "--adaptive-throttle".to_owned(),
                reason: "the throttle is part of the breaker, which --no-breaker turns off"
                    .to_owned(),
            });
        }
        let given = [
            ("--throttle-window", self.throttle_window.is_some()),
            (
                "--throttle-max-rejection",
                self.throttle_max_rejection.is_some(),
            ),
            (
                "--throttle-minimum-requests",
                self.throttle_minimum_requests.is_some(),
            ),
        ];
        match given.iter().find(|(_, given)| *given) {
            Some((flag, _)) if !self.no_breaker => Err(FlagError {
                flag: (*flag).to_owned(),
                reason: "applies only with --adaptive-throttle".to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

impl ClientFlags {
    /// The bulkhead with `limit`: the profile's adaptive bounds (or the defaults), overlaid by
    /// the --adaptive-* flags given.
    pub(super) fn bulkhead(
        &self,
        limit: MaxConcurrent,
        base: Option<BulkheadSettings>,
        wait: Duration,
    ) -> BulkheadSettings {
        let MaxConcurrent::Fixed(max_concurrent) = limit else {
            let (adaptive, max_limit) = base
                .and_then(|b| b.adaptive.map(|adaptive| (adaptive, b.max_concurrent)))
                .unwrap_or((ADAPTIVE_LIMIT, ADAPTIVE_MAX_LIMIT));
            return BulkheadSettings {
                max_concurrent: self.adaptive_max_limit.unwrap_or(max_limit),
                wait,
                adaptive: Some(AdaptiveLimitSettings {
                    min_limit: self.adaptive_min_limit.unwrap_or(adaptive.min_limit),
                    initial_limit: self
                        .adaptive_initial_limit
                        .unwrap_or(adaptive.initial_limit),
                }),
            };
        };
        BulkheadSettings {
            max_concurrent,
            wait,
            adaptive: None,
        }
    }

    /// The --adaptive-* flags need an adaptive limit, which refuses at once and has bounds the
    /// limiter accepts.
    pub(super) fn check_adaptive(&self, settings: &ClientSettings) -> Result<(), FlagError> {
        let Some(bulkhead) = settings.bulkhead.filter(|b| b.adaptive.is_some()) else {
            let given = [
                ("--adaptive-min-limit", self.adaptive_min_limit.is_some()),
                (
                    "--adaptive-initial-limit",
                    self.adaptive_initial_limit.is_some(),
                ),
                ("--adaptive-max-limit", self.adaptive_max_limit.is_some()),
            ];
            return match given.iter().find(|(_, given)| *given) {
                Some((flag, _)) => Err(FlagError {
                    flag: (*flag).to_owned(),
                    reason: "applies only with --max-concurrent adaptive".to_owned(),
                }),
                None => Ok(()),
            };
        };
        if !bulkhead.wait.is_zero() {
            return Err(FlagError {
                flag: "--bulkhead-wait".to_owned(),
                reason: format!(
                    "{} with --max-concurrent adaptive: the adaptive limit refuses at once, \
                     leave it at 0ms",
                    human(bulkhead.wait)
                ),
            });
        }
        match bulkhead.adaptive_limiter() {
            Some(Err(err)) => Err(FlagError {
                flag: format!("--adaptive-{}", err.field().replace('_', "-")),
                reason: err.reason().to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "adaptive_tests.rs"]
mod tests;
