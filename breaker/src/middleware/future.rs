//! The response future: settles the permit when the inner future finishes.

use super::{BoxError, Classify};
use crate::{OwnedPermit, Rejected};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

pin_project! {
    /// The future of [`CircuitBreakerService`](super::CircuitBreakerService). Dropping it
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
