//! [`EachAttemptLayer`]: the one hand-written layer of the client stack, which sees each attempt
//! start and end. The stack uses it twice, with [`NameFailures`] and
//! [`TimeAttempts`](super::timing::TimeAttempts): what differs is only the [`AttemptHook`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::Url;
use tower::{BoxError, Layer, Service};

use super::error::CallError;

/// What an attempt's result goes through.
pub(crate) type AttemptResult = Result<String, BoxError>;

/// What is done as each attempt starts, and with its result when it ends. An attempt whose
/// future is dropped first (the call's deadline passed) never reaches [`end`](Self::end).
pub(crate) trait AttemptHook: Clone {
    /// What `start` keeps for `end`.
    type Started: Send + 'static;
    /// At the start of the attempt on `url`.
    fn start(&self, url: &Url) -> Self::Started;
    /// At its end: the result passed on.
    fn end(started: Self::Started, result: AttemptResult) -> AttemptResult;
}

/// Runs `H` around each attempt of the service it wraps. Clones share what `H` shares.
#[derive(Debug, Clone)]
pub(crate) struct EachAttemptLayer<H> {
    hook: H,
}

impl<H> EachAttemptLayer<H> {
    /// A layer running `hook` around each attempt.
    pub(crate) fn new(hook: H) -> Self {
        Self { hook }
    }
}

impl<S, H: Clone> Layer<S> for EachAttemptLayer<H> {
    type Service = EachAttempt<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        EachAttempt {
            inner,
            hook: self.hook.clone(),
        }
    }
}

/// See [`EachAttemptLayer`].
#[derive(Debug, Clone)]
pub(crate) struct EachAttempt<S, H> {
    inner: S,
    hook: H,
}

impl<S, H> Service<Url> for EachAttempt<S, H>
where
    S: Service<Url, Response = String, Error = BoxError>,
    S::Future: Send + 'static,
    H: AttemptHook,
{
    type Response = String;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = AttemptResult> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, url: Url) -> Self::Future {
        let started = self.hook.start(&url);
        let answer = self.inner.call(url);
        Box::pin(async move { H::end(started, answer.await) })
    }
}

/// The hook between the breaker and the bulkhead: whatever one attempt failed with (B's own
/// failure, the bulkhead's refusal, the per-attempt timeout) becomes one [`CallError`] naming
/// the URL, so the breaker records, and the client reads, `timed out after 3s calling <url>`
/// rather than tower's bare `request timed out`. The error it passes on is a boxed
/// [`CallError`], always.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameFailures {
    /// The per-attempt timeout below it.
    pub(crate) timeout: Duration,
}

impl AttemptHook for NameFailures {
    type Started = (Url, Duration);

    fn start(&self, url: &Url) -> Self::Started {
        (url.clone(), self.timeout)
    }

    fn end((url, timeout): Self::Started, result: AttemptResult) -> AttemptResult {
        result.map_err(|err| Box::new(CallError::from_attempt(err, &url, timeout)) as BoxError)
    }
}
