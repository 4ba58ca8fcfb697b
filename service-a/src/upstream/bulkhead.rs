//! The bulkhead: at most `max_concurrent` calls to B in flight; the excess is refused at once, or
//! after waiting at most `wait` for a place. With `--max-concurrent adaptive` the limit is the
//! breaker crate's [`ConcurrencyLimiter`], learned from each call's round trip, and the excess
//! is refused at once; a call overtaken by a later one frees its place in it (see
//! [`overtaken`](super::overtaken)), and `max_concurrent` still bounds every call in flight.
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
use super::overtaken::{InOrder, Overtaking};
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

/// Where places come from: a fixed number, or an adaptive limit within it.
#[derive(Debug, Clone)]
enum Places {
    Fixed(Arc<Semaphore>),
    Adaptive {
        limiter: ConcurrencyLimiter,
        /// `max_concurrent`, for every call, those that freed their adaptive place included.
        all: Arc<Semaphore>,
        order: Arc<Overtaking>,
    },
}

/// One call's place, given back when it is dropped.
enum Place {
    Fixed(#[allow(dead_code, reason = "held for its drop")] OwnedSemaphorePermit),
    Adaptive {
        permit: LimitPermit,
        _all: OwnedSemaphorePermit,
        order: InOrder,
    },
}

impl BulkheadLayer {
    /// A bulkhead with `settings`, counting its refusals in `counters`; `limiter` is the
    /// adaptive limit when `settings` has one.
    pub(crate) fn new(
        settings: BulkheadSettings,
        limiter: Option<ConcurrencyLimiter>,
        counters: Arc<ClientCounters>,
    ) -> Self {
        let all = Arc::new(Semaphore::new(settings.max_concurrent));
        let places = match limiter {
            Some(limiter) => Places::Adaptive {
                limiter,
                all,
                order: Arc::default(),
            },
            None => Places::Fixed(all),
        };
        Self {
            places,
            settings,
            counters,
        }
    }

    /// Calls in flight through this bulkhead now, those that freed their adaptive place
    /// included.
    pub(crate) fn in_flight(&self) -> usize {
        let (Places::Fixed(all) | Places::Adaptive { all, .. }) = &self.places;
        self.settings.max_concurrent - all.available_permits()
    }

    /// The limit in force now: `max_concurrent`, or the adaptive limit's current value.
    pub(crate) fn limit(&self) -> usize {
        match &self.places {
            Places::Fixed(_) => self.settings.max_concurrent,
            Places::Adaptive { limiter, .. } => limiter.limit() as usize,
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
            Places::Adaptive {
                limiter,
                all,
                order,
            } => {
                let permit = limiter
                    .try_acquire()
                    .ok_or_else(|| BulkheadFull::adaptive(limiter.limit()))?;
                // Within the limit, but calls that freed their place still fill
                // `max_concurrent`: the permit, dropped unsettled, teaches nothing.
                let all = Arc::clone(all)
                    .try_acquire_owned()
                    .map_err(|_| BulkheadFull::new(self.settings.max_concurrent, Duration::ZERO))?;
                return Ok(Place::Adaptive {
                    permit,
                    _all: all,
                    order: order.enter(),
                });
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
    /// Makes `call` in this place. With an adaptive limit, the call frees its place in it once
    /// a later call has overtaken it, and tells the limit how it ended: a good answer's round
    /// trip teaches it, an overload cuts it, any other failure says nothing about B's load.
    async fn call<T, E: Overload>(self, call: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        let Place::Adaptive {
            mut permit,
            _all,
            mut order,
        } = self
        else {
            return call.await;
        };
        let mut call = std::pin::pin!(call);
        let result = tokio::select! {
            result = &mut call => result,
            () = order.overtaken() => {
                permit.free_place();
                call.await
            }
        };
        match &result {
            Ok(_) => {
                order.ended_well();
                permit.success();
            }
            Err(err) if err.is_overload() => permit.dropped(),
            Err(_) => permit.ignore(),
        }
        result
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
    S::Response: Send,
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
            place.call(inner.oneshot(request)).await
        })
    }
}

#[cfg(test)]
#[path = "bulkhead_tests.rs"]
mod tests;
