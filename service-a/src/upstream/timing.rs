//! The [`AttemptHook`] just outside the breaker that times every attempt and records it in
//! [`CallDurations`] under the breaker's verdict: a rejection by the breaker, or what the
//! breaker's classifier ([`classify`]) makes of the answer. Why it sits here, and not in the
//! breaker's events, is in [`call_durations`](crate::metrics::call_durations).
//!
//! An attempt whose future is dropped before it ends (the call's deadline passed) records
//! nothing, as the breaker records nothing for it.

use std::time::Instant;

use breaker::Rejected;
use reqwest::Url;

use super::attempt::{AttemptHook, AttemptResult};
use super::error::classify;
use crate::metrics::call_durations::{CallDurations, CallOutcome};

/// See the [module](self) docs. Clones record into the same histograms.
#[derive(Debug, Clone)]
pub(crate) struct TimeAttempts {
    /// Where each attempt's duration goes.
    pub(crate) durations: CallDurations,
}

impl AttemptHook for TimeAttempts {
    type Started = (Instant, CallDurations);

    fn start(&self, _url: &Url) -> Self::Started {
        (Instant::now(), self.durations.clone())
    }

    fn end((started, durations): Self::Started, result: AttemptResult) -> AttemptResult {
        durations.record(verdict(&result), started.elapsed().as_secs_f64());
        result
    }
}

/// The breaker's verdict on `result`: its rejection, or its classifier's judgement.
fn verdict(result: &AttemptResult) -> CallOutcome {
    if let Err(err) = result
        && err.is::<Rejected>()
    {
        return CallOutcome::Rejected;
    }
    let outcome = classify(result);
    if outcome.is_success() {
        CallOutcome::Successful
    } else if outcome.is_failure() {
        CallOutcome::Failed
    } else {
        CallOutcome::Ignored
    }
}
