//! The peers, each through its nearest equivalent of `breaker`'s entry points:
//!
//! - failsafe 1.3: a `parking_lot::Mutex` around the state and the policy; `call` (sync) and
//!   `futures::CircuitBreaker::call` (async) take it once to ask and once to record.
//! - recloser 1.4: lock-free state behind a crossbeam-epoch pointer, a ring of outcomes behind a
//!   spin lock; `call` (sync) and `AsyncRecloser::call`. No consecutive-failure policy: a ring of
//!   5 at a 100 % failure rate is its nearest, and no time window.
//! - WyattAu's `breaker` 2.0.2 (here `wyatt_breaker`): a `parking_lot::RwLock` around the state;
//!   only an async `call`, and a tower layer that boxes each call's future. No time window.
//! - tower-resilience-circuitbreaker 0.14: a tower `Service` that boxes each call's future and
//!   takes a `tokio::sync::Mutex` to ask and again to record.

use super::ours::{Backend, tower_call};
use super::{FAILURE_RATE, FAILURES_TO_OPEN, MINIMUM_CALLS, Subject, TimeWindow, WINDOW, work};
use futures::FutureExt;
use std::hint::black_box;
use std::io;
use std::time::Duration;
use tower::Layer;

/// Keeps `result` from being optimised away and says whether the call ran.
fn ran<T, E>(result: Result<T, E>, rejected: impl Fn(&E) -> bool) -> bool {
    let ran = !matches!(&result, Err(error) if rejected(error));
    let _ = black_box(result);
    ran
}

pub(crate) mod failsafe_peer {
    use super::*;
    use failsafe::failure_policy::{self, ConsecutiveFailures, SuccessRateOverTimeWindow};
    use failsafe::{Config, Error, StateMachine, backoff};

    type Consecutive = StateMachine<ConsecutiveFailures<backoff::Constant>, ()>;

    fn consecutive(recovery: Duration) -> Consecutive {
        let policy =
            failure_policy::consecutive_failures(FAILURES_TO_OPEN, backoff::constant(recovery));
        Config::new().failure_policy(policy).build()
    }

    /// `call(closure)`.
    #[derive(Debug)]
    pub(crate) struct Sync(Consecutive);

    impl Subject for Sync {
        fn consecutive(recovery: Duration) -> Self {
            Self(consecutive(recovery))
        }

        fn call(&mut self, succeed: bool) -> bool {
            ran(
                failsafe::CircuitBreaker::call(&self.0, || work(succeed)),
                |e| matches!(e, Error::Rejected),
            )
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }

    /// `futures::CircuitBreaker::call(future)`, polled once.
    #[derive(Debug)]
    pub(crate) struct Async(Consecutive);

    impl Subject for Async {
        fn consecutive(recovery: Duration) -> Self {
            Self(consecutive(recovery))
        }

        fn call(&mut self, succeed: bool) -> bool {
            let future =
                failsafe::futures::CircuitBreaker::call(&self.0, async move { work(succeed) });
            let result = future.now_or_never().expect("completes on the first poll");
            ran(result, |e| matches!(e, Error::Rejected))
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }

    /// No bucketed failure-rate window: the closest is an exponentially weighted success rate
    /// whose time constant is the window, with the minimum counted in a 5-slice windowed adder.
    /// A required success rate of 0.5 trips when it falls *below* 50 %.
    #[derive(Debug)]
    pub(crate) struct RateOverTime(StateMachine<SuccessRateOverTimeWindow<backoff::Constant>, ()>);

    impl TimeWindow for RateOverTime {
        fn time_window() -> Self {
            let policy = failure_policy::success_rate_over_time_window(
                1.0 - FAILURE_RATE,
                MINIMUM_CALLS,
                WINDOW,
                backoff::constant(super::super::RECOVERY),
            );
            Self(Config::new().failure_policy(policy).build())
        }

        fn succeed(&mut self) -> bool {
            ran(
                failsafe::CircuitBreaker::call(&self.0, || work(true)),
                |e| matches!(e, Error::Rejected),
            )
        }
    }
}

pub(crate) mod recloser_peer {
    use super::*;
    use recloser::{AsyncRecloser, Error, Recloser};
    use std::sync::Arc;

    fn consecutive(recovery: Duration) -> Recloser {
        Recloser::custom()
            .closed_len(FAILURES_TO_OPEN as usize)
            .error_rate(1.0)
            .open_wait(recovery)
            .build()
    }

    /// `call(closure)`; shared through an `Arc` for the two-thread group.
    #[derive(Debug)]
    pub(crate) struct Sync(Arc<Recloser>);

    impl Subject for Sync {
        fn consecutive(recovery: Duration) -> Self {
            Self(Arc::new(consecutive(recovery)))
        }

        fn call(&mut self, succeed: bool) -> bool {
            ran(self.0.call(|| work(succeed)), |e| {
                matches!(e, Error::Rejected)
            })
        }

        fn handle(&self) -> Self {
            Self(Arc::clone(&self.0))
        }
    }

    /// `AsyncRecloser::call(future)`, polled once.
    #[derive(Debug)]
    pub(crate) struct Async(AsyncRecloser);

    impl Subject for Async {
        fn consecutive(recovery: Duration) -> Self {
            Self(AsyncRecloser::from(consecutive(recovery)))
        }

        fn call(&mut self, succeed: bool) -> bool {
            let result = self
                .0
                .call(async move { work(succeed) })
                .now_or_never()
                .expect("completes on the first poll");
            ran(result, |e| matches!(e, Error::Rejected))
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }
}

pub(crate) mod wyatt_peer {
    use super::*;
    use wyatt_breaker::tower::{BreakerLayer, BreakerService};
    use wyatt_breaker::{CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError};

    /// Its consecutive-failure policy, with the failure-rate window it always keeps set so that
    /// it trips on the same fifth failure.
    fn consecutive(recovery: Duration) -> CircuitBreaker {
        CircuitBreaker::new(
            CircuitBreakerConfig::builder()
                .consecutive_failures(FAILURES_TO_OPEN)
                .failure_rate_threshold(1.0)
                .sliding_window_size(FAILURES_TO_OPEN)
                .half_open_max_calls(1)
                .success_threshold(1)
                .wait_duration(recovery)
                .build(),
        )
    }

    fn rejected<E>(error: &CircuitBreakerError<E>) -> bool {
        matches!(
            error,
            CircuitBreakerError::CircuitOpen | CircuitBreakerError::Rejected
        )
    }

    /// `call(closure)`, polled once.
    #[derive(Debug)]
    pub(crate) struct Call(CircuitBreaker);

    impl Subject for Call {
        fn consecutive(recovery: Duration) -> Self {
            Self(consecutive(recovery))
        }

        fn call(&mut self, succeed: bool) -> bool {
            let result = self
                .0
                .call(|| async move { work(succeed) })
                .now_or_never()
                .expect("completes on the first poll");
            ran(result, rejected)
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }

    /// Its tower layer over the same always-ready backend.
    #[derive(Debug)]
    pub(crate) struct Tower(BreakerService<Backend>);

    impl Subject for Tower {
        fn consecutive(recovery: Duration) -> Self {
            Self(BreakerLayer::new(consecutive(recovery)).layer(Backend))
        }

        fn call(&mut self, succeed: bool) -> bool {
            tower_call(&mut self.0, succeed, rejected::<io::Error>)
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }
}

pub(crate) mod tower_resilience_peer {
    use super::*;
    use tower_resilience_circuitbreaker::{
        CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer, DefaultClassifier,
        SlidingWindowType,
    };

    type Breaker = CircuitBreaker<Backend, DefaultClassifier>;

    fn rejected(error: &CircuitBreakerError<io::Error>) -> bool {
        matches!(error, CircuitBreakerError::OpenCircuit)
    }

    /// Its tower `Service` over the same always-ready backend. (It has no `Debug`.)
    #[allow(missing_debug_implementations)]
    pub(crate) struct Tower(Breaker);

    impl Subject for Tower {
        fn consecutive(recovery: Duration) -> Self {
            Self(
                CircuitBreakerLayer::builder()
                    .name("bench")
                    .consecutive_failures(FAILURES_TO_OPEN as usize)
                    .wait_duration_in_open(recovery)
                    .permitted_calls_in_half_open(1)
                    .build()
                    .expect("valid config")
                    .layer(Backend),
            )
        }

        fn call(&mut self, succeed: bool) -> bool {
            tower_call(&mut self.0, succeed, rejected)
        }

        fn handle(&self) -> Self {
            Self(self.0.clone())
        }
    }

    /// A time-based window keeps one record per call for the window's length (no buckets).
    impl TimeWindow for Tower {
        fn time_window() -> Self {
            Self(
                CircuitBreakerLayer::builder()
                    .name("bench")
                    .failure_rate_threshold(FAILURE_RATE)
                    .sliding_window_type(SlidingWindowType::TimeBased)
                    .sliding_window_duration(WINDOW)
                    .minimum_number_of_calls(MINIMUM_CALLS as usize)
                    .wait_duration_in_open(super::super::RECOVERY)
                    .build()
                    .expect("valid config")
                    .layer(Backend),
            )
        }

        fn succeed(&mut self) -> bool {
            tower_call(&mut self.0, true, rejected)
        }
    }
}
