//! tower middleware: a [`Layer`] and [`Service`] that run every request
//! through one breaker.
//!
//! A rejection fails the request at once, without calling the inner service, with a
//! [`Rejected`] inside the boxed error (test it with `error.is::<Rejected>()`, as with tower's
//! own `Elapsed` and `Overloaded`). A response future dropped before it finishes settles nothing
//! and frees any probe slot.
//!
//! ```
//! # futures::executor::block_on(async {
//! use trip_breaker::middleware::CircuitBreakerLayer;
//! use trip_breaker::{CircuitBreaker, Outcome, Rejected};
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
//! # Ok::<(), trip_breaker::ConfigError>(())
//! # }).unwrap();
//! ```

use crate::breaker::CircuitBreaker;
use crate::error::Rejected;
use crate::permit::OwnedPermit;
use crate::vocabulary::Outcome;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tower_layer::Layer;
use tower_service::Service;

/// The error the middleware returns: the inner service's error, or a
/// [`Rejected`].
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

/// Wraps services in one shared breaker.
///
/// The layer holds a [`CircuitBreaker`] handle (an `Arc`), so every service it makes and every
/// clone of those services (axum clones one per request) counts in the same breaker. To give
/// each backend its own breaker, build one layer per breaker.
#[derive(Debug, Clone)]
pub struct CircuitBreakerLayer<C = ErrorIsFailure> {
    breaker: CircuitBreaker,
    classify: C,
}

impl CircuitBreakerLayer {
    /// A layer that counts `Err` as failure and `Ok` as success.
    pub fn new(breaker: CircuitBreaker) -> Self {
        Self {
            breaker,
            classify: ErrorIsFailure,
        }
    }
}

impl<C> CircuitBreakerLayer<C> {
    /// The same layer with another classifier, e.g. one that fails HTTP 5xx responses.
    pub fn with_classifier<D>(self, classify: D) -> CircuitBreakerLayer<D> {
        CircuitBreakerLayer {
            breaker: self.breaker,
            classify,
        }
    }
}

impl<S, C: Clone> Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreakerService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService::new(inner, self.breaker.clone(), self.classify.clone())
    }
}

/// Decides whether a result is a success, a failure or neither. Any
/// `Fn(&Result<T, E>) -> Outcome` is a classifier.
pub trait Classify<T, E> {
    /// The verdict on `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

impl<F, T, E> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}

/// The default classifier: `Ok` is a success, `Err` a failure described by its `Display`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorIsFailure;

impl<T, E: fmt::Display> Classify<T, E> for ErrorIsFailure {
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        crate::vocabulary::default_classifier(result)
    }
}

pin_project! {
    /// The future of [`CircuitBreakerService`](CircuitBreakerService). Dropping it
    /// before it finishes drops its permit unsettled, which frees any probe slot.
    #[derive(Debug)]
    pub struct ResponseFuture<F, C> {
        #[pin]
        inner: Inner<F, C>,
    }
}

pin_project! {
    #[project = Projection]
    #[derive(Debug)]
    enum Inner<F, C> {
        // Admitted: the inner call is running.
        Running {
            #[pin]
            future: F,
            permit: Option<OwnedPermit>,
            classify: C,
        },
        // Rejected: answers at once.
        Rejected {
            rejected: Option<Rejected>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn running(future: F, permit: OwnedPermit, classify: C) -> Self {
        let permit = Some(permit);
        let inner = Inner::Running {
            future,
            permit,
            classify,
        };
        Self { inner }
    }

    pub(crate) fn rejected(rejected: Rejected) -> Self {
        let rejected = Some(rejected);
        let inner = Inner::Rejected { rejected };
        Self { inner }
    }
}

impl<F, C, T, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    C: Classify<T, E>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            Projection::Running {
                future,
                permit,
                classify,
            } => {
                let result = ready!(future.poll(cx));
                if let Some(permit) = permit.take() {
                    permit.record(classify.classify(&result));
                }
                Poll::Ready(result.map_err(Into::into))
            }
            Projection::Rejected { rejected } => Poll::Ready(Err(match rejected.take() {
                Some(rejected) => Box::new(rejected),
                None => "ResponseFuture polled after it completed".into(),
            })),
        }
    }
}
