//! One call to service B, through the breaker when there is one.

use breaker::{Error, Rejected};

use crate::call_error::{CallError, classify};
use crate::state::AppState;

/// Why a call brought back no answer from B.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The breaker refused the call; B was not contacted. `Display` is the breaker's own text,
    /// e.g. `Circuit "call_service_b" OPEN until ... (3 failures, 10 sec remaining) ...`.
    #[error(transparent)]
    Rejected(Rejected),
    /// B was called and the call failed.
    #[error(transparent)]
    ServiceB(CallError),
}

impl From<Error<CallError>> for CallFailure {
    fn from(err: Error<CallError>) -> Self {
        match err {
            Error::Rejected(rejected) => CallFailure::Rejected(rejected),
            Error::Inner(err) => CallFailure::ServiceB(err),
        }
    }
}

impl AppState {
    /// Calls B's `/api` with `fail`, through the breaker unless it is off, and remembers a good
    /// answer for the fallback.
    ///
    /// If the returned future is dropped (the client hung up), the breaker counts the call as
    /// nothing and frees any probe slot it held.
    ///
    /// # Errors
    ///
    /// [`CallFailure::Rejected`] without touching B, or [`CallFailure::ServiceB`].
    pub async fn call_service_b(&self, fail: Option<&str>) -> Result<String, CallFailure> {
        let service_b = self.service_b();
        let result = match self.breaker() {
            Some(cb) => cb
                .call_with(classify, || service_b.get(fail))
                .await
                .map_err(CallFailure::from),
            None => service_b.get(fail).await.map_err(CallFailure::ServiceB),
        };
        if let Ok(body) = &result {
            self.last_good().store(body);
        }
        result
    }
}
