//! The layer between the breaker and the bulkhead: whatever one attempt failed with (B's own
//! failure, the bulkhead's refusal, the per-attempt timeout) becomes one [`CallError`] naming
//! the URL, so the breaker records, and the client reads, `timed out after 2s calling <url>`
//! rather than tower's bare `request timed out`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::Url;
use tower::{BoxError, Layer, Service};

use super::CallError;

/// Wraps a service in [`NameFailures`]; `timeout` is the per-attempt timeout below it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameFailuresLayer {
    timeout: Duration,
}

impl NameFailuresLayer {
    /// For the per-attempt timeout `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S> Layer<S> for NameFailuresLayer {
    type Service = NameFailures<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NameFailures {
            inner,
            timeout: self.timeout,
        }
    }
}

/// See the [module](self) docs. Its error is a boxed [`CallError`], always.
#[derive(Debug, Clone)]
pub(crate) struct NameFailures<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<Url> for NameFailures<S>
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
        let answer = self.inner.call(url.clone());
        let timeout = self.timeout;
        Box::pin(async move {
            answer
                .await
                .map_err(|err| Box::new(CallError::from_attempt(err, &url, timeout)) as BoxError)
        })
    }
}
