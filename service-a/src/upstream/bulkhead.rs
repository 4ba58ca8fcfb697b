//! The bulkhead: at most `max_concurrent` calls to B in flight; the excess is refused at once
//! (tower's `LoadShed` over its `ConcurrencyLimit`), or after waiting at most `wait` for a place.
//!
//! One semaphore is shared by every clone of the layer and its services, so the limit holds
//! across all requests; its free permits say how many calls are in flight. Refusals are
//! counted here, as they happen, in [`ClientCounters`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tower::limit::ConcurrencyLimit;
use tower::load_shed::LoadShed;
use tower::load_shed::error::Overloaded;
use tower::util::Either;
use tower::{BoxError, Layer, Service, ServiceExt};

use super::counters::ClientCounters;
use super::settings::BulkheadSettings;

/// The bulkhead had no place for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadFull {
    max_concurrent: usize,
    waited: Duration,
}

impl BulkheadFull {
    /// Refused with `max_concurrent` calls in flight, after waiting `waited` for a place.
    pub fn new(max_concurrent: usize, waited: Duration) -> Self {
        Self {
            max_concurrent,
            waited,
        }
    }
}

impl fmt::Display for BulkheadFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let calls = if self.max_concurrent == 1 {
            "call"
        } else {
            "calls"
        };
        write!(
            f,
            "bulkhead full: {} {calls} to service B already in flight",
            self.max_concurrent
        )?;
        if !self.waited.is_zero() {
            write!(
                f,
                ", and none ended within {}",
                humantime::format_duration(self.waited)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for BulkheadFull {}

/// The bulkhead as a tower [`Layer`]. Clones share one semaphore (an `Arc`).
#[derive(Debug, Clone)]
pub(crate) struct BulkheadLayer {
    semaphore: Arc<Semaphore>,
    settings: BulkheadSettings,
    counters: Arc<ClientCounters>,
}

impl BulkheadLayer {
    /// A bulkhead with `settings`, counting its refusals in `counters`.
    pub(crate) fn new(settings: BulkheadSettings, counters: Arc<ClientCounters>) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(settings.max_concurrent)),
            settings,
            counters,
        }
    }

    /// Calls in flight through this bulkhead now.
    pub(crate) fn in_flight(&self) -> usize {
        self.settings.max_concurrent - self.semaphore.available_permits()
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = Bulkhead<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let limited = ConcurrencyLimit::with_semaphore(inner, self.semaphore.clone());
        let inner = if self.settings.wait.is_zero() {
            Either::Left(LoadShed::new(limited))
        } else {
            Either::Right(WaitBounded {
                inner: limited,
                wait: self.settings.wait,
            })
        };
        Bulkhead {
            inner,
            full: BulkheadFull::new(self.settings.max_concurrent, self.settings.wait),
            counters: self.counters.clone(),
        }
    }
}

/// The bulkhead's service: the limit, and the refusal turned into [`BulkheadFull`] and counted.
#[derive(Debug, Clone)]
pub(crate) struct Bulkhead<S> {
    inner: Either<LoadShed<ConcurrencyLimit<S>>, WaitBounded<ConcurrencyLimit<S>>>,
    full: BulkheadFull,
    counters: Arc<ClientCounters>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<S, Request> Service<Request> for Bulkhead<S>
where
    S: Service<Request> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send,
    Request: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // LoadShed is always ready: it takes a place here if there is one, and refuses in `call`
        // if there was none.
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let answer = self.inner.call(request);
        let (full, counters) = (self.full, self.counters.clone());
        Box::pin(async move {
            answer.await.map_err(|err| {
                if err.is::<Overloaded>() {
                    counters.bulkhead_rejected();
                    Box::new(full) as BoxError
                } else {
                    err
                }
            })
        })
    }
}

/// Waits at most `wait` for the inner service (a concurrency limit) to have a place, then
/// refuses with tower's [`Overloaded`], as `LoadShed` does at once.
#[derive(Debug, Clone)]
pub(crate) struct WaitBounded<S> {
    inner: S,
    wait: Duration,
}

impl<S, Request> Service<Request> for WaitBounded<S>
where
    S: Service<Request> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send,
    Request: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<S::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The wait for a place happens in `call`, where it can be bounded.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let mut inner = self.inner.clone();
        let wait = self.wait;
        Box::pin(async move {
            match tokio::time::timeout(wait, inner.ready()).await {
                Ok(Ok(ready)) => {
                    let answer = ready.call(request);
                    answer.await.map_err(Into::into)
                }
                Ok(Err(err)) => Err(err.into()),
                Err(_) => Err(Overloaded::new().into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;
    use tower::service_fn;

    /// A service whose calls last until `true` is sent on the gate.
    fn held(
        gate: watch::Receiver<bool>,
    ) -> impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone + Send + 'static
    {
        service_fn(move |()| {
            let mut gate = gate.clone();
            async move {
                gate.wait_for(|open| *open).await?;
                Ok::<_, BoxError>(())
            }
        })
    }

    fn layer(max_concurrent: usize, wait: Duration) -> (BulkheadLayer, Arc<ClientCounters>) {
        let counters = Arc::new(ClientCounters::default());
        let settings = BulkheadSettings {
            max_concurrent,
            wait,
        };
        (BulkheadLayer::new(settings, counters.clone()), counters)
    }

    #[tokio::test]
    async fn the_call_beyond_the_limit_is_refused_at_once_and_counted() {
        let (open, gate) = watch::channel(false);
        let (layer, counters) = layer(2, Duration::ZERO);
        let service = layer.layer(held(gate));
        let first = tokio::spawn(service.clone().oneshot(()));
        let second = tokio::spawn(service.clone().oneshot(()));
        while layer.in_flight() < 2 {
            tokio::task::yield_now().await;
        }
        let err = service.clone().oneshot(()).await.expect_err("full");
        assert_eq!(
            err.to_string(),
            "bulkhead full: 2 calls to service B already in flight"
        );
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);

        open.send_replace(true);
        first.await.expect("task").expect("served");
        second.await.expect("task").expect("served");
        assert_eq!(layer.in_flight(), 0);
        service.oneshot(()).await.expect("a place again");
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_wait_the_excess_waits_for_a_place_then_gives_up() {
        let (open, gate) = watch::channel(false);
        let (layer, counters) = layer(1, Duration::from_millis(100));
        let service = layer.layer(held(gate));
        let first = tokio::spawn(service.clone().oneshot(()));
        while layer.in_flight() < 1 {
            tokio::task::yield_now().await;
        }
        let err = service.clone().oneshot(()).await.expect_err("full");
        assert_eq!(
            err.to_string(),
            "bulkhead full: 1 call to service B already in flight, and none ended within 100ms"
        );
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);

        // A place that frees up within the wait is taken.
        let waiting = tokio::spawn(service.clone().oneshot(()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        open.send_replace(true);
        first.await.expect("task").expect("served");
        waiting.await.expect("task").expect("served after waiting");
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);
    }
}
