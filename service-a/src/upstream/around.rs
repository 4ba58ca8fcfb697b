//! [`AroundLayer`]: the tower plumbing of the stack's layers that act around each call of the
//! service they wrap and decide nothing in `poll_ready`: the time limits (`attempt`) and the
//! breaker (`guard`). Each says only what it does around one call, as an [`AroundCall`]; the
//! `Layer`, the `Service`, the readiness passed through and the one answer type, a boxed
//! [`CallFuture`] of the stack's [`CallError`], are written once, here.
//!
//! The retry and the bulkhead are not built on it: the retry is tower's own, and the bulkhead
//! waits for a place before it calls, for any request and error type.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use reqwest::Url;
use tower::{Layer, Service};

use super::error::CallError;

/// What every layer of the stack answers: B's body or what went wrong, boxed so that layers
/// nest without naming each other's futures.
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = Result<String, CallError>> + Send>>;

/// What a layer does around one call to `url`. `call` starts the wrapped service's call;
/// a layer that refuses the call answers without it.
pub(crate) trait AroundCall: Clone {
    /// The answer to one call.
    fn around<F>(&self, url: Url, call: impl FnOnce(Url) -> F) -> CallFuture
    where
        F: Future<Output = Result<String, CallError>> + Send + 'static;
}

/// `A` as a tower [`Layer`]. Cloning clones `A`; what `A` shares (a breaker, histograms) it
/// holds behind an `Arc` and says so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AroundLayer<A> {
    around: A,
}

impl<A> AroundLayer<A> {
    /// A layer doing `around` around each call.
    pub(crate) fn new(around: A) -> Self {
        Self { around }
    }
}

impl<S, A: AroundCall> Layer<S> for AroundLayer<A> {
    type Service = Around<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        Around {
            inner,
            around: self.around.clone(),
        }
    }
}

/// See [`AroundLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Around<S, A> {
    inner: S,
    around: A,
}

impl<S, A> Service<Url> for Around<S, A>
where
    S: Service<Url, Response = String, Error = CallError>,
    S::Future: Send + 'static,
    A: AroundCall,
{
    type Response = String;
    type Error = CallError;
    type Future = CallFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // These layers decide per call, in `call` (the breaker's state may change in between).
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, url: Url) -> Self::Future {
        self.around.around(url, |url| self.inner.call(url))
    }
}
