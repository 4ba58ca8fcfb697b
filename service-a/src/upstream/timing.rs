//! The layer just outside the breaker that times every attempt and records it in
//! [`CallDurations`] under the breaker's verdict: a rejection by the breaker, or what the
//! breaker's classifier ([`classify`]) makes of the answer. Why it sits here, and not in the
//! breaker's events, is in [`call_durations`](crate::metrics::call_durations).
//!
//! An attempt whose future is dropped before it ends (the call's deadline passed) records
//! nothing, as the breaker records nothing for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use breaker::Rejected;
use reqwest::Url;
use tower::{BoxError, Layer, Service};

use super::error::classify;
use crate::metrics::CallDurations;
use crate::metrics::call_durations::CallOutcome;

/// Wraps the breaker's service in [`TimeAttempts`]. Clones record into the same histograms.
#[derive(Debug, Clone)]
pub(crate) struct TimeAttemptsLayer {
    durations: CallDurations,
}

impl TimeAttemptsLayer {
    /// Records into `durations`.
    pub(crate) fn new(durations: CallDurations) -> Self {
        Self { durations }
    }
}

impl<S> Layer<S> for TimeAttemptsLayer {
    type Service = TimeAttempts<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeAttempts {
            inner,
            durations: self.durations.clone(),
        }
    }
}

/// See the [module](self) docs.
#[derive(Debug, Clone)]
pub(crate) struct TimeAttempts<S> {
    inner: S,
    durations: CallDurations,
}

impl<S> Service<Url> for TimeAttempts<S>
where
    S: Service<Url, Response = String, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = String;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, url: Url) -> Self::Future {
        let started = Instant::now();
        let answer = self.inner.call(url);
        let durations = self.durations.clone();
        Box::pin(async move {
            let result = answer.await;
            durations.record(verdict(&result), started.elapsed().as_secs_f64());
            result
        })
    }
}

/// The breaker's verdict on `result`: its rejection, or its classifier's judgement.
fn verdict(result: &Result<String, BoxError>) -> CallOutcome {
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
