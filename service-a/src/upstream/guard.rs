//! [`GuardLayer`]: the breaker around each attempt ([`Guard`]), with the breaker's public permits
//! ([`CircuitBreaker::try_acquire_owned`], [`OwnedPermit::record`](breaker::OwnedPermit::record)),
//! as `breaker::middleware` does, but keeping the stack's one error type: a rejection is
//! [`CallError::Rejected`] and an attempt's own [`CallError`] passes through unboxed, so no
//! layer above has to open a boxed error to learn what happened.
//!
//! It also times every attempt it sees into [`CallDurations`] under the breaker's verdict: a
//! rejection, or what [`classify`] makes of the answer. Why the time is taken here, and not
//! from the breaker's events, is in [`call_durations`](crate::metrics::call_durations). An
//! attempt whose future is dropped before it ends (the call's deadline passed) records
//! nothing, as the breaker records nothing for it.

use std::future::Future;
use std::time::Instant;

use breaker::{CircuitBreaker, Outcome};
use reqwest::Url;

use super::around::{AroundCall, AroundLayer, CallFuture};
use super::error::{CallError, classify};
use crate::metrics::call_durations::{CallDurations, CallOutcome};

/// Guards each attempt with one breaker.
pub(crate) type GuardLayer = AroundLayer<Guard>;

/// The breaker, and where each attempt's duration goes. Clones share the breaker and the
/// histograms (both are `Arc` handles).
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    breaker: CircuitBreaker,
    durations: Option<CallDurations>,
}

impl Guard {
    /// `breaker` around each attempt, each timed into `durations` when given.
    pub(crate) fn new(breaker: CircuitBreaker, durations: Option<CallDurations>) -> Self {
        Self { breaker, durations }
    }
}

impl AroundCall for Guard {
    fn around<F>(&self, url: Url, call: impl FnOnce(Url) -> F) -> CallFuture
    where
        F: Future<Output = Result<String, CallError>> + Send + 'static,
    {
        let started = Instant::now();
        let durations = self.durations.clone();
        let record = move |verdict: CallOutcome| {
            if let Some(durations) = durations {
                durations.record(verdict, started.elapsed().as_secs_f64());
            }
        };
        let permit = match self.breaker.try_acquire_owned() {
            Ok(permit) => permit,
            Err(rejected) => {
                record(CallOutcome::Rejected);
                return Box::pin(std::future::ready(Err(CallError::Rejected(rejected))));
            }
        };
        let answer = call(url);
        Box::pin(async move {
            let result = answer.await;
            let outcome = classify(&result);
            record(verdict(&outcome));
            permit.record(outcome);
            result
        })
    }
}

/// The `outcome` label of what the classifier made of an answer.
fn verdict(outcome: &Outcome) -> CallOutcome {
    if outcome.is_success() {
        CallOutcome::Successful
    } else if outcome.is_failure() {
        CallOutcome::Failed
    } else {
        CallOutcome::Ignored
    }
}
