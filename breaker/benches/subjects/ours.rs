//! `breaker` through every entry point a user has.

use super::{
    FAILURE_RATE, FAILURES_TO_OPEN, MINIMUM_CALLS, RECOVERY, Subject, TimeWindow, WINDOW,
    WINDOW_BUCKETS, work,
};
use futures::FutureExt;
use futures::future::{Ready, ready};
use std::hint::black_box;
use std::io;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::{Layer, Service, ServiceExt};
use trip_breaker::middleware::{CircuitBreakerLayer, CircuitBreakerService, ErrorIsFailure};
use trip_breaker::{
    AdaptiveLimit, AdaptiveThrottle, CircuitBreaker, ConcurrencyLimiter, Outcome, Rejected,
    SlidingWindow,
};

fn consecutive(recovery: Duration) -> CircuitBreaker {
    CircuitBreaker::builder("bench")
        .failure_threshold(FAILURES_TO_OPEN)
        .recovery_timeout(recovery)
        .build()
        .expect("valid config")
}

/// The synchronous guard a caller writes around its work: `try_acquire`, then the outcome.
/// Inlined into each subject's `call`, as each peer's closure and result are into its own:
/// every row's call is one function.
#[inline(always)]
fn guarded(cb: &CircuitBreaker, succeed: bool) -> Result<io::Result<u64>, Rejected> {
    let permit = cb.try_acquire()?;
    let result = work(succeed);
    match &result {
        Ok(_) => permit.success(),
        Err(error) => permit.failure(error),
    }
    Ok(result)
}

#[inline(always)]
fn ran(result: Result<io::Result<u64>, Rejected>) -> bool {
    let ran = result.is_ok();
    let _ = black_box(result);
    ran
}

/// `try_acquire` and a permit settled with `success()` or `failure()`.
#[derive(Debug)]
pub(crate) struct Permit(pub(crate) CircuitBreaker);

impl Subject for Permit {
    fn consecutive(recovery: Duration) -> Self {
        Self(consecutive(recovery))
    }

    fn call(&mut self, succeed: bool) -> bool {
        ran(guarded(&self.0, succeed))
    }

    fn handle(&self) -> Self {
        Self(self.0.clone())
    }
}

impl TimeWindow for Permit {
    fn time_window() -> Self {
        Self(
            CircuitBreaker::builder("bench")
                .without_failure_threshold()
                .failure_rate_threshold(FAILURE_RATE * 100.0)
                .sliding_window(SlidingWindow::time(WINDOW, WINDOW_BUCKETS))
                .minimum_calls(MINIMUM_CALLS)
                .recovery_timeout(RECOVERY)
                .build()
                .expect("valid config"),
        )
    }

    fn succeed(&mut self) -> bool {
        ran(guarded(&self.0, true))
    }
}

/// The async `call`, polled once.
#[derive(Debug)]
pub(crate) struct Call(pub(crate) CircuitBreaker);

impl Subject for Call {
    fn consecutive(recovery: Duration) -> Self {
        Self(consecutive(recovery))
    }

    fn call(&mut self, succeed: bool) -> bool {
        let result = self
            .0
            .call(|| async move { work(succeed) })
            .now_or_never()
            .expect("ready work completes on the first poll");
        let ran = !matches!(result, Err(trip_breaker::Error::Rejected(_)));
        let _ = black_box(result);
        ran
    }

    fn handle(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The async `call_with` with a classifier of its own (a refused connection is a failure, a
/// missing resource is ignored), polled once.
#[derive(Debug)]
pub(crate) struct CallWith(pub(crate) CircuitBreaker);

fn classify(result: &io::Result<u64>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Outcome::ignored(),
        Err(error) => Outcome::failure(error),
    }
}

impl Subject for CallWith {
    fn consecutive(recovery: Duration) -> Self {
        Self(consecutive(recovery))
    }

    fn call(&mut self, succeed: bool) -> bool {
        let result = self
            .0
            .call_with(classify, || async move { work(succeed) })
            .now_or_never()
            .expect("ready work completes on the first poll");
        let ran = !matches!(result, Err(trip_breaker::Error::Rejected(_)));
        let _ = black_box(result);
        ran
    }

    fn handle(&self) -> Self {
        Self(self.0.clone())
    }
}

/// A backend that is always ready and answers at once, so that the middleware is all that is
/// measured; the request says whether it succeeds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backend;

impl Service<bool> for Backend {
    type Response = u64;
    type Error = io::Error;
    type Future = Ready<io::Result<u64>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, succeed: bool) -> Self::Future {
        ready(work(succeed))
    }
}

/// `ready()` then `call()` on a tower service, each polled once; true when the inner service
/// answered (the error is not a rejection).
pub(crate) fn tower_call<S>(service: &mut S, succeed: bool, rejected: fn(&S::Error) -> bool) -> bool
where
    S: Service<bool>,
{
    let ready = ServiceExt::<bool>::ready(service)
        .now_or_never()
        .expect("ready on the first poll");
    let result = match ready {
        Ok(service) => service
            .call(succeed)
            .now_or_never()
            .expect("completes on the first poll"),
        Err(error) => Err(error),
    };
    let ran = !matches!(&result, Err(error) if rejected(error));
    let _ = black_box(result);
    ran
}

/// The tower middleware (`middleware::CircuitBreakerLayer`) over [`Backend`].
#[derive(Debug)]
pub(crate) struct Tower(pub(crate) CircuitBreakerService<Backend, ErrorIsFailure>);

impl Subject for Tower {
    fn consecutive(recovery: Duration) -> Self {
        Self(CircuitBreakerLayer::new(consecutive(recovery)).layer(Backend))
    }

    fn call(&mut self, succeed: bool) -> bool {
        tower_call(&mut self.0, succeed, |error| error.is::<Rejected>())
    }

    fn handle(&self) -> Self {
        Self(self.0.clone())
    }
}

/// `try_acquire` and a permit on a breaker with an adaptive throttle, while Closed.
#[derive(Debug)]
pub(crate) struct Throttled(pub(crate) CircuitBreaker);

impl Subject for Throttled {
    fn consecutive(recovery: Duration) -> Self {
        Self(
            CircuitBreaker::builder("bench")
                .failure_threshold(FAILURES_TO_OPEN)
                .recovery_timeout(recovery)
                .adaptive_throttle(AdaptiveThrottle::new())
                .build()
                .expect("valid config"),
        )
    }

    fn call(&mut self, succeed: bool) -> bool {
        ran(guarded(&self.0, succeed))
    }

    fn handle(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The adaptive concurrency limit: a permit taken and settled as a success.
#[derive(Debug)]
pub(crate) struct Limiter(pub(crate) ConcurrencyLimiter);

impl Limiter {
    pub(crate) fn new() -> Self {
        Self(AdaptiveLimit::vegas().build().expect("valid config"))
    }

    /// Takes a permit and settles it as a success; true when one was granted.
    pub(crate) fn acquire_release(&mut self) -> bool {
        match self.0.try_acquire() {
            Some(permit) => {
                black_box(work(true)).ok();
                permit.success();
                true
            }
            None => false,
        }
    }
}
