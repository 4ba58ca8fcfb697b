//! [`MarkBusy`]: one connection's service, marking the connection busy from the moment a
//! request reaches the service until its answer's body has been written (or the request is
//! abandoned), so that the connection is never taken for idle with a request in flight.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::Response;
use hyper::body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::Service;

use super::idle::{InFlight, Requests};

/// Wraps one connection's service; see the [module](self) docs.
#[derive(Debug, Clone)]
pub(super) struct MarkBusy<S> {
    inner: S,
    requests: Requests,
}

impl<S> MarkBusy<S> {
    pub(super) fn new(inner: S, requests: Requests) -> Self {
        Self { inner, requests }
    }
}

impl<S, Request, B> Service<Request> for MarkBusy<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<Busy<B>>;
    type Error = S::Error;
    type Future = Answering<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let in_flight = self.requests.start();
        Answering {
            inner: self.inner.call(request),
            in_flight: Some(in_flight),
        }
    }
}

pin_project! {
    /// The answer being made; the request stays in flight while it is.
    pub(super) struct Answering<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, B, E> Future for Answering<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<Busy<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|inner| Busy {
            inner,
            _in_flight: in_flight,
        })))
    }
}

pin_project! {
    /// An answer's body; the request stays in flight until hyper drops it, written or not.
    pub(super) struct Busy<B> {
        #[pin]
        inner: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: Body> Body for Busy<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
