//! tower middleware: a [`Layer`](tower_layer::Layer) and [`Service`] that run every request
//! through one breaker.
//!
//! A rejection fails the request at once, without calling the inner service, with a
//! [`Rejected`](crate::Rejected) inside the boxed error (test it with `error.is::<Rejected>()`, as with tower's
//! own `Elapsed` and `Overloaded`). A response future dropped before it finishes settles nothing
//! and frees any probe slot.
//!
//! ```
//! # futures::executor::block_on(async {
//! use breaker::middleware::CircuitBreakerLayer;
//! use breaker::{CircuitBreaker, Outcome, Rejected};
//! use tower::{Layer, Service, ServiceExt, service_fn};
//!
//! let breaker = CircuitBreaker::builder("backend").failure_threshold(1).build()?;
//! // Status codes of 500 and above are failures even though the inner service returned Ok.
//! let layer = CircuitBreakerLayer::new(breaker.clone()).with_classifier(
//!     |result: &Result<u16, std::convert::Infallible>| match result {
//!         Ok(status) if *status >= 500 => Outcome::failure(format_args!("HTTP {status}")),
//!         _ => Outcome::success(),
//!     },
//! );
//! let mut service = layer.layer(service_fn(|status: u16| async move { Ok(status) }));
//!
//! assert_eq!(service.ready().await.unwrap().call(503).await.unwrap(), 503);
//! let error = service.ready().await.unwrap().call(200).await.unwrap_err();
//! assert!(error.is::<Rejected>(), "open after one failure");
//! # Ok::<(), breaker::ConfigError>(())
//! # }).unwrap();
//! ```

mod classify;
mod future;
mod layer;

pub use classify::{Classify, ErrorIsFailure};
pub use future::ResponseFuture;
pub use layer::CircuitBreakerLayer;

use crate::CircuitBreaker;
use std::task::{Context, Poll};
use tower_service::Service;

/// The error the middleware returns: the inner service's error, or a
/// [`Rejected`](crate::Rejected).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A [`Service`] guarded by a breaker. Clones share the breaker.
#[derive(Debug, Clone)]
pub struct CircuitBreakerService<S, C = ErrorIsFailure> {
    inner: S,
    breaker: CircuitBreaker,
    classify: C,
}

impl<S, C> CircuitBreakerService<S, C> {
    /// Guards `inner` with `breaker`, judging results with `classify`.
    pub fn new(inner: S, breaker: CircuitBreaker, classify: C) -> Self {
        Self {
            inner,
            breaker,
            classify,
        }
    }

    /// The breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, Request> Service<Request> for CircuitBreakerService<S, C>
where
    S: Service<Request>,
    S::Error: Into<BoxError>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is the inner service's: the breaker decides per call, in `call`, because
        // its state may change between `poll_ready` and `call`.
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.breaker.try_acquire_owned() {
            Ok(permit) => {
                ResponseFuture::running(self.inner.call(request), permit, self.classify.clone())
            }
            Err(rejected) => ResponseFuture::rejected(rejected),
        }
    }
}
