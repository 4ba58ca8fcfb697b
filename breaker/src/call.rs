//! Wrapping an async call: acquire, run, classify, settle, in one method.

use crate::{CircuitBreaker, Error, Outcome};
use std::fmt;
use std::future::Future;

impl CircuitBreaker {
    /// Runs `f` if the breaker admits it; `Err` counts as a failure, `Ok` as a success.
    ///
    /// When the call is rejected `f` is not even invoked. If the returned future is dropped
    /// before it finishes (a timeout, a client that went away), the call counts as nothing and
    /// any probe slot it held is freed.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// use breaker::{CircuitBreaker, Error};
    ///
    /// let cb = CircuitBreaker::builder("inventory").failure_threshold(1).build()?;
    /// let failed: Result<(), Error<&str>> = cb.call(|| async { Err("timeout") }).await;
    /// assert!(matches!(failed, Err(Error::Inner("timeout"))));
    ///
    /// let rejected = cb.call(|| async { Ok::<_, &str>(()) }).await;
    /// assert!(matches!(rejected, Err(Error::Rejected(_))));
    /// # Ok::<(), breaker::ConfigError>(())
    /// # }).unwrap();
    /// ```
    pub async fn call<F, Fut, T, E>(&self, f: F) -> Result<T, Error<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: fmt::Display,
    {
        self.call_with(default_classifier, f).await
    }

    /// Like [`call`](Self::call), with `classify` deciding what the result means: for example
    /// an `Ok` HTTP 503 is a failure and an `Err` "not found" is ignored. The result itself is
    /// returned unchanged.
    pub async fn call_with<C, F, Fut, T, E>(&self, classify: C, f: F) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let result = f().await;
        permit.record(classify(&result));
        result.map_err(Error::Inner)
    }
}

/// `Ok` is a success; `Err` a failure described by its `Display`.
pub fn default_classifier<T, E: fmt::Display>(result: &Result<T, E>) -> Outcome {
    match result {
        Ok(_) => Outcome::success(),
        Err(error) => Outcome::failure(error),
    }
}
