//! The bulkhead: at most `max_concurrent` calls to B in flight; the excess is refused at once, or
//! after waiting at most `wait` for a place. With `--max-concurrent adaptive` the limit is the
//! breaker crate's [`ConcurrencyLimiter`], learned from each call's round trip, and the excess
//! is refused at once.
//!
//! One service does both: a place is a permit of a semaphore (or of the limiter), taken in
//! `call` (where the wait can be bounded, which tower's `ConcurrencyLimit` in `poll_ready`
//! cannot) and held until the call ends. One semaphore (one limiter) is shared by every clone
//! of the layer and its services, so the limit holds across all requests. Refusals are counted
//! here, as they happen, in [`ClientCounters`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use breaker::{ConcurrencyLimiter, LimitPermit};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service, ServiceExt};

use super::counters::ClientCounters;
use super::settings::BulkheadSettings;

/// The bulkhead had no place for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadFull {
    max_concurrent: usize,
    waited: Duration,
    adaptive: bool,
}

impl BulkheadFull {
    /// Refused with `max_concurrent` calls in flight, after waiting `waited` for a place.
    pub fn new(max_concurrent: usize, waited: Duration) -> Self {
        Self {
            max_concurrent,
            waited,
            adaptive: false,
        }
    }

    /// Refused at once by an adaptive limit of `limit` calls.
    pub fn adaptive(limit: u32) -> Self {
        Self {
            max_concurrent: limit as usize,
            waited: Duration::ZERO,
            adaptive: true,
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
        if self.adaptive {
            write!(f, " (the adaptive limit now)")?;
        }
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

/// What a failed call says about B's load, for an adaptive limit: whether it was dropped (B
/// timed out or refused it for overload), which cuts the limit.
pub(crate) trait Overload {
    /// Whether B was too loaded to answer this call.
    fn is_overload(&self) -> bool;
}

/// The bulkhead as a tower [`Layer`]. Clones share one semaphore or limiter (an `Arc`).
#[derive(Debug, Clone)]
pub(crate) struct BulkheadLayer {
    places: Places,
    settings: BulkheadSettings,
    counters: Arc<ClientCounters>,
}

/// Where places come from: a fixed number, or an adaptive limit.
#[derive(Debug, Clone)]
enum Places {
    Fixed(Arc<Semaphore>),
    Adaptive(ConcurrencyLimiter),
}

/// One call's place, given back when it is dropped.
enum Place {
    Fixed(#[allow(dead_code, reason = "held for its drop")] OwnedSemaphorePermit),
    Adaptive(LimitPermit),
}

impl BulkheadLayer {
    /// A bulkhead with `settings`, counting its refusals in `counters`; `limiter` is the
    /// adaptive limit when `settings` has one.
    pub(crate) fn new(
        settings: BulkheadSettings,
        limiter: Option<ConcurrencyLimiter>,
        counters: Arc<ClientCounters>,
    ) -> Self {
        let places = match limiter {
            Some(limiter) => Places::Adaptive(limiter),
            None => Places::Fixed(Arc::new(Semaphore::new(settings.max_concurrent))),
        };
        Self {
            places,
            settings,
            counters,
        }
    }

    /// Calls in flight through this bulkhead now.
    pub(crate) fn in_flight(&self) -> usize {
        match &self.places {
            Places::Fixed(semaphore) => {
                self.settings.max_concurrent - semaphore.available_permits()
            }
            Places::Adaptive(limiter) => limiter.in_flight() as usize,
        }
    }

    /// The limit in force now: `max_concurrent`, or the adaptive limit's current value.
    pub(crate) fn limit(&self) -> usize {
        match &self.places {
            Places::Fixed(_) => self.settings.max_concurrent,
            Places::Adaptive(limiter) => limiter.limit() as usize,
        }
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
    /// A place, taken at once or within the wait; the refusal when the bulkhead stayed full.
    async fn place(&self) -> Result<Place, BulkheadFull> {
        let semaphore = match &self.places {
            // The flags allow no wait with an adaptive limit: it refuses at once.
            Places::Adaptive(limiter) => {
                return limiter
                    .try_acquire()
                    .map(Place::Adaptive)
                    .ok_or_else(|| BulkheadFull::adaptive(limiter.limit()));
            }
            Places::Fixed(semaphore) => semaphore.clone(),
        };
        let wait = self.settings.wait;
        let full = BulkheadFull::new(self.settings.max_concurrent, wait);
        if wait.is_zero() {
            return semaphore
                .try_acquire_owned()
                .map(Place::Fixed)
                .map_err(|_| full);
        }
        // The semaphore is never closed: only a timeout leaves it without a permit.
        tokio::time::timeout(wait, semaphore.acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .map(Place::Fixed)
            .ok_or(full)
    }
}

impl Place {
    /// Tells an adaptive limit how the call ended: a good answer's round trip teaches it, an
    /// overload cuts it, any other failure says nothing about B's load.
    fn settle<T, E: Overload>(self, result: &Result<T, E>) {
        let Place::Adaptive(permit) = self else {
            return;
        };
        match result {
            Ok(_) => permit.success(),
            Err(err) if err.is_overload() => permit.dropped(),
            Err(_) => permit.ignore(),
        }
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
    S::Error: From<BulkheadFull> + Overload + Send,
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
            let place = match layer.place().await {
                Ok(place) => place,
                Err(full) => {
                    layer.counters.bulkhead_rejected();
                    return Err(full.into());
                }
            };
            let result = inner.oneshot(request).await;
            place.settle(&result);
            result
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

    impl Overload for BoxError {
        fn is_overload(&self) -> bool {
            false
        }
    }

    fn layer(max_concurrent: usize, wait: Duration) -> (BulkheadLayer, Arc<ClientCounters>) {
        let counters = Arc::new(ClientCounters::default());
        let settings = BulkheadSettings {
            max_concurrent,
            wait,
            adaptive: None,
        };
        (
            BulkheadLayer::new(settings, None, counters.clone()),
            counters,
        )
    }

    /// An adaptive bulkhead from `initial_limit` within `[min_limit, max_concurrent]`.
    fn adaptive_layer(
        min_limit: u32,
        initial_limit: u32,
        max_concurrent: usize,
    ) -> (BulkheadLayer, Arc<ClientCounters>) {
        let counters = Arc::new(ClientCounters::default());
        let settings = BulkheadSettings {
            max_concurrent,
            wait: Duration::ZERO,
            adaptive: Some(crate::upstream::AdaptiveLimitSettings {
                min_limit,
                initial_limit,
            }),
        };
        let limiter = settings
            .adaptive_limiter()
            .expect("adaptive")
            .expect("valid");
        (
            BulkheadLayer::new(settings, Some(limiter), counters.clone()),
            counters,
        )
    }

    /// Calls held in flight through a bulkhead until [`Holding::release`], and the bulkhead's
    /// service for more.
    struct Holding<S> {
        service: S,
        open: watch::Sender<bool>,
        calls: Vec<tokio::task::JoinHandle<Result<(), BoxError>>>,
    }

    /// `layer` around a service whose calls last until released, with `calls` of them in
    /// flight through it.
    async fn holding(
        layer: &BulkheadLayer,
        calls: usize,
    ) -> Holding<
        impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone + Send + 'static,
    > {
        let (open, gate) = watch::channel(false);
        let service = layer.layer(held(gate));
        let calls: Vec<_> = (0..calls)
            .map(|_| tokio::spawn(service.clone().oneshot(())))
            .collect();
        for _ in 0..1_000 {
            if layer.in_flight() >= calls.len() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(
            layer.in_flight(),
            calls.len(),
            "every held call has its place"
        );
        Holding {
            service,
            open,
            calls,
        }
    }

    impl<S> Holding<S>
    where
        S: Service<(), Response = (), Error = BoxError, Future: Send> + Clone,
    {
        /// What one more call is refused with.
        async fn refusal(&self) -> String {
            self.service
                .clone()
                .oneshot(())
                .await
                .expect_err("full")
                .to_string()
        }

        /// Lets the held calls end, each served; the service, for more calls.
        async fn release(self) -> S {
            self.open.send_replace(true);
            for call in self.calls {
                call.await.expect("task").expect("served");
            }
            self.service
        }
    }

    #[tokio::test]
    async fn the_call_beyond_the_limit_is_refused_at_once_and_counted() {
        let (layer, counters) = layer(2, Duration::ZERO);
        let full = holding(&layer, 2).await;
        assert_eq!(
            full.refusal().await,
            "bulkhead full: 2 calls to service B already in flight"
        );
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);

        let service = full.release().await;
        assert_eq!(layer.in_flight(), 0);
        service.oneshot(()).await.expect("a place again");
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_wait_the_excess_waits_for_a_place_then_gives_up() {
        let (layer, counters) = layer(1, Duration::from_millis(100));
        let full = holding(&layer, 1).await;
        assert_eq!(
            full.refusal().await,
            "bulkhead full: 1 call to service B already in flight, and none ended within 100ms"
        );
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);

        // A place that frees up within the wait is taken.
        let waiting = tokio::spawn(full.service.clone().oneshot(()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        full.release().await;
        waiting.await.expect("task").expect("served after waiting");
        assert_eq!(counters.snapshot().bulkhead_rejected, 1);
    }

    #[tokio::test]
    async fn the_call_beyond_an_adaptive_limit_is_refused_at_once_naming_it() {
        let (layer, counters) = adaptive_layer(1, 1, 1);
        let full = holding(&layer, 1).await;
        assert_eq!(
            full.refusal().await,
            "bulkhead full: 1 call to service B already in flight (the adaptive limit now)"
        );
        assert_eq!(
            (counters.snapshot().bulkhead_rejected, layer.limit()),
            (1, 1)
        );
        full.release().await;
        assert_eq!(layer.in_flight(), 0);
    }

    /// A call's error as the stack's would be: an overload, or the bulkhead's refusal.
    #[derive(Debug)]
    enum Failed {
        Overloaded,
        Full,
    }

    impl From<BulkheadFull> for Failed {
        fn from(_: BulkheadFull) -> Self {
            Failed::Full
        }
    }

    impl Overload for Failed {
        fn is_overload(&self) -> bool {
            matches!(self, Failed::Overloaded)
        }
    }

    #[tokio::test]
    async fn an_overloaded_b_cuts_the_adaptive_limit() {
        let (layer, _counters) = adaptive_layer(1, 2, 10);
        let service = layer.layer(service_fn(|()| async { Err::<(), _>(Failed::Overloaded) }));
        // The limit steps once per window of as many calls as the limit: two here.
        for _ in 0..2 {
            let err = service.clone().oneshot(()).await.expect_err("overloaded");
            assert!(matches!(err, Failed::Overloaded), "{err:?}");
        }
        assert_eq!((layer.limit(), layer.in_flight()), (1, 0));
    }
}
