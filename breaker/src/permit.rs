//! The permits: leave to make one call, borrowed ([`Permit`]) or owning a handle to the breaker
//! ([`OwnedPermit`]), settled with the call's [`Outcome`].

use crate::fast_path::Stamp;
use crate::shell::Shared;
use crate::vocabulary::Outcome;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Leave to make one call, from [`CircuitBreaker::try_acquire`](crate::CircuitBreaker::try_acquire).
///
/// Settle it with [`success`](Permit::success), [`failure`](Permit::failure),
/// [`ignore`](Permit::ignore) or [`record`](Permit::record). Dropping it unsettled (the call was
/// cancelled, the future dropped) releases any probe slot it held and counts as nothing, so a
/// cancelled call can never leave the breaker stuck in HalfOpen.
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct Permit<'a>(Held<&'a Shared>);

/// A [`Permit`] that owns a handle to its breaker, for futures that must be `'static`
/// (the tower middleware, spawned tasks). From [`CircuitBreaker::try_acquire_owned`](crate::CircuitBreaker::try_acquire_owned).
#[must_use = "settle the permit with success(), failure() or ignore(); dropping it counts as nothing"]
pub struct OwnedPermit(Held<Arc<Shared>>);

/// What both permits are: a breaker, borrowed or owned, and the stamp of the admission.
struct Held<S: Deref<Target = Shared>> {
    shared: S,
    /// Keeps its probe slot only until settled, so that `Drop` frees only what is still held.
    stamp: Stamp,
}

impl<S: Deref<Target = Shared>> Held<S> {
    #[inline]
    fn new(shared: S, stamp: Stamp) -> Self {
        Self { shared, stamp }
    }

    #[inline]
    fn success(&mut self) {
        self.shared.succeed(self.stamp);
        self.stamp = self.stamp.settled();
    }

    /// A success as [`success`](Self::success), inlined; anything else out of line.
    #[inline]
    fn record(&mut self, outcome: Outcome) {
        if outcome.is_success() {
            self.success();
        } else {
            self.shared.settle_in_full(self.stamp, outcome);
            self.stamp = self.stamp.settled();
        }
    }

    fn debug(&self, f: &mut fmt::Formatter<'_>, kind: &str) -> fmt::Result {
        f.debug_struct(kind)
            .field("breaker", &self.shared.name.as_str())
            .field("probe", &self.stamp.is_probe())
            .finish()
    }
}

impl<S: Deref<Target = Shared>> Drop for Held<S> {
    #[inline]
    fn drop(&mut self) {
        self.shared.abandon(self.stamp);
    }
}

/// The one API of [`Permit`] and [`OwnedPermit`], written once for both.
macro_rules! settle_api {
    ($permit:ty) => {
        impl $permit {
            /// The call succeeded.
            #[inline]
            pub fn success(mut self) {
                self.0.success();
            }

            /// The call failed; `cause` becomes the breaker's last failure.
            pub fn failure(self, cause: impl fmt::Display) {
                self.record(Outcome::failure(cause));
            }

            /// The call counts as neither success nor failure; a probe slot is freed.
            pub fn ignore(self) {
                self.record(Outcome::ignored());
            }

            /// Settles with a classifier's [`Outcome`]; a success as [`success`](Self::success)
            /// does.
            #[inline]
            pub fn record(mut self, outcome: Outcome) {
                self.0.record(outcome);
            }

            /// Whether this call is a HalfOpen probe.
            pub fn is_probe(&self) -> bool {
                self.0.stamp.is_probe()
            }
        }
    };
}

settle_api!(Permit<'_>);
settle_api!(OwnedPermit);

impl<'a> Permit<'a> {
    #[inline]
    pub(crate) fn new(shared: &'a Shared, stamp: Stamp) -> Self {
        Permit(Held::new(shared, stamp))
    }
}

impl OwnedPermit {
    pub(crate) fn new(shared: Arc<Shared>, stamp: Stamp) -> Self {
        OwnedPermit(Held::new(shared, stamp))
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f, "Permit")
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f, "OwnedPermit")
    }
}
