//! Permits: the right to make one call, settled with a verdict or released by dropping.

use crate::CircuitBreaker;
use crate::outcome::{Kind, Outcome};
use crate::shared::{Admitted, Shared};
use std::fmt;

/// Leave to make one call, from [`CircuitBreaker::try_acquire`].
///
/// Settle it with [`success`](Permit::success), [`failure`](Permit::failure),
/// [`ignore`](Permit::ignore) or [`record`](Permit::record). Dropping it unsettled (the call was
/// cancelled, the future dropped) releases any probe slot it held and counts as nothing, so a
/// cancelled call can never leave the breaker stuck in HalfOpen.
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct Permit<'a> {
    shared: &'a Shared,
    pending: Option<Admitted>,
}

/// A [`Permit`] that owns a handle to its breaker, for futures that must be `'static`
/// (the tower middleware, spawned tasks). From [`CircuitBreaker::try_acquire_owned`].
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct OwnedPermit {
    breaker: CircuitBreaker,
    pending: Option<Admitted>,
}

/// Settling and releasing a permit, written once for both kinds (each has a `shared()`).
macro_rules! settle_methods {
    () => {
        fn settle(&mut self, outcome: Kind) {
            if let Some(admitted) = self.pending.take() {
                self.shared().settle(admitted, outcome);
            }
        }

        /// Frees what an unsettled permit holds; called by `Drop`.
        #[inline]
        fn release(&mut self) {
            if let Some(admitted) = self.pending.take() {
                self.shared().abandon(admitted);
            }
        }

        /// The call succeeded.
        #[inline]
        pub fn success(mut self) {
            if let Some(admitted) = self.pending.take() {
                self.shared().succeed(admitted);
            }
        }

        /// The call failed; `cause` becomes the breaker's last failure.
        #[inline]
        pub fn failure(mut self, cause: impl fmt::Display) {
            self.settle(Outcome::failure(cause).0);
        }

        /// The call counts as neither success nor failure; a probe slot is freed.
        #[inline]
        pub fn ignore(mut self) {
            self.settle(Kind::Ignored);
        }

        /// Settles with a classifier's [`Outcome`].
        #[inline]
        pub fn record(mut self, outcome: Outcome) {
            self.settle(outcome.0);
        }

        /// Whether this call is a HalfOpen probe.
        pub fn is_probe(&self) -> bool {
            self.pending.is_some_and(|admitted| admitted.ticket.probe)
        }
    };
}

impl<'a> Permit<'a> {
    #[inline]
    pub(crate) fn new(shared: &'a Shared, admitted: Admitted) -> Self {
        Self {
            shared,
            pending: Some(admitted),
        }
    }

    #[inline]
    fn shared(&self) -> &Shared {
        self.shared
    }

    settle_methods!();
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.release();
    }
}

impl OwnedPermit {
    pub(crate) fn new(breaker: CircuitBreaker, admitted: Admitted) -> Self {
        Self {
            breaker,
            pending: Some(admitted),
        }
    }

    fn shared(&self) -> &Shared {
        self.breaker.shared()
    }

    settle_methods!();
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.release();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.shared.name)
            .field("probe", &self.is_probe())
            .finish()
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("breaker", &self.breaker.name())
            .field("probe", &self.is_probe())
            .finish()
    }
}
