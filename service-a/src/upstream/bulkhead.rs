//! The bulkhead: at most `max_concurrent` calls to B in flight; the excess is refused at once, or
//! after waiting at most `wait` for a place.
//!
//! One service does both: a place is a permit of a semaphore, taken in `call` (where the wait can
//! be bounded, which tower's `ConcurrencyLimit` in `poll_ready` cannot) and held until the call
//! ends. One semaphore is shared by every clone of the layer and its services, so the limit holds
//! across all requests; its free permits say how many calls are in flight. Refusals are
//! counted here, as they happen, in [`ClientCounters`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service, ServiceExt};

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
        Bulkhead {
            inner,
            layer: self.clone(),
        }
    }
}

impl BulkheadLayer {
    /// A place, taken at once or within the wait; `None`: the bulkhead stayed full.
    async fn place(&self) -> Option<OwnedSemaphorePermit> {
        let semaphore = self.semaphore.clone();
        let wait = self.settings.wait;
        if wait.is_zero() {
            return semaphore.try_acquire_owned().ok();
        }
        // The semaphore is never closed: only a timeout leaves it without a permit.
        tokio::time::timeout(wait, semaphore.acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// The bulkhead's service: a place for each call, or [`BulkheadFull`], counted.
#[derive(Debug, Clone)]
pub(crate) struct Bulkhead<S> {
    inner: S,
    layer: BulkheadLayer,
}

impl<S, Request> Service<Request> for Bulkhead<S>
where
    S: Service<Request> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: From<BulkheadFull> + Send,
    Request: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The place is taken in `call`, where the wait for it can be bounded.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        let layer = self.layer.clone();
        Box::pin(async move {
            let Some(_place) = layer.place().await else {
                layer.counters.bulkhead_rejected();
                return Err(
                    BulkheadFull::new(layer.settings.max_concurrent, layer.settings.wait).into(),
                );
            };
            inner.oneshot(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;
    use tower::{BoxError, service_fn};

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
