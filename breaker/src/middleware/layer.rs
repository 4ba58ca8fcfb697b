//! The [`Layer`] that wraps services in [`CircuitBreakerService`].

use super::{CircuitBreakerService, ErrorIsFailure};
use crate::CircuitBreaker;
use tower_layer::Layer;

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
