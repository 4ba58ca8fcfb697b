//! [`GuardLayer`]: the breaker around each attempt, with the breaker's public permits
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
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use breaker::{CircuitBreaker, Outcome};
use reqwest::Url;
use tower::{Layer, Service};

use super::error::{CallError, classify};
use crate::metrics::call_durations::{CallDurations, CallOutcome};

/// Guards each attempt with one breaker. Clones share the breaker and the histograms (both are
/// `Arc` handles).
#[derive(Debug, Clone)]
pub(crate) struct GuardLayer {
    breaker: CircuitBreaker,
    durations: Option<CallDurations>,
}

impl GuardLayer {
    /// `breaker` around each attempt, each timed into `durations` when given.
    pub(crate) fn new(breaker: CircuitBreaker, durations: Option<CallDurations>) -> Self {
        Self { breaker, durations }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded {
            inner,
            layer: self.clone(),
        }
    }
}

/// See [`GuardLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Guarded<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S> Service<Url> for Guarded<S>
where
    S: Service<Url, Response = String, Error = CallError>,
    S::Future: Send + 'static,
{
    type Response = String;
    type Error = CallError;
    type Future = Pin<Box<dyn Future<Output = Result<String, CallError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The breaker decides per call, in `call`: its state may change in between.
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, url: Url) -> Self::Future {
        let started = Instant::now();
        let durations = self.layer.durations.clone();
        let record = move |verdict: CallOutcome| {
            if let Some(durations) = durations {
                durations.record(verdict, started.elapsed().as_secs_f64());
            }
        };
        let permit = match self.layer.breaker.try_acquire_owned() {
            Ok(permit) => permit,
            Err(rejected) => {
                record(CallOutcome::Rejected);
                return Box::pin(std::future::ready(Err(CallError::Rejected(rejected))));
            }
        };
        let answer = self.inner.call(url);
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
