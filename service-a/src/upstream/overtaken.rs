//! [`Overtaking`]: which calls to B a later call has overtaken, for the adaptive limit.
//!
//! A queue serves calls in the order they came: when B queues, a call that started later ends
//! later. So when a call ends well while calls that started before it are still waiting, B is
//! serving, and those calls wait for a reason of their own, not for B's queue: `fail=true`,
//! which B answers with a 500 after its delay, is one a client can send at will. Such a call
//! frees its place in the adaptive limit ([`LimitPermit::free_place`]) as soon as it is
//! overtaken: it no longer takes a place a healthy call could use, and the limit no longer
//! counts it among the calls in flight it learns from, which would read as load a trickle of
//! slow failures that B is not queueing. The call is still settled when it ends: a timeout
//! still cuts the limit, and the breaker and the throttle still count its failure.
//!
//! Calls that B serves in order (a queue, a server busy with all of them at once) overtake
//! each other only by the jitter of their round trips, and then free a place moments before
//! they end anyway. A B that queues in order but serves calls of unequal length lets a later
//! short call overtake an earlier long one only once the long one is being served, not while
//! it waits in the queue: the places freed are at most B's own concurrency, and the limit,
//! which still learns from the round trips of the calls that succeed, sees the queue the calls
//! let in for them make, and shrinks.
//!
//! What it cannot do: a limit that slow calls fill entirely admits no later call to overtake
//! them, so their places come back only as they end (after B's delay); and every call, freed or
//! not, still counts against the bulkhead's `max_concurrent`, which bounds the calls in flight
//! to B whatever a client sends.
//!
//! # Cost
//!
//! One std mutex around a `BTreeMap` of the calls in flight by the order they started: a call
//! is entered and left in O(log n), n the calls in flight (at most the bulkhead's
//! `max_concurrent`); a call that ends well splits off the calls it overtook, each told once.
//! No `.await` happens under the lock.
//!
//! [`LimitPermit::free_place`]: breaker::LimitPermit::free_place

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// See the [module](self) docs. Shared by every call through one bulkhead (an `Arc`).
#[derive(Debug, Default)]
pub(crate) struct Overtaking {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The calls in flight, by the order they started, each with the way to tell it it was
    /// overtaken.
    waiting: BTreeMap<u64, oneshot::Sender<()>>,
    next: u64,
}

impl Overtaking {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A map updated in single calls: a poisoned lock still holds a usable map.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters a call starting now; its [`InOrder`] says when a later call overtakes it.
    pub(crate) fn enter(self: &Arc<Self>) -> InOrder {
        let (tell, overtaken) = oneshot::channel();
        let mut state = self.lock();
        state.next += 1;
        let order = state.next;
        state.waiting.insert(order, tell);
        InOrder {
            overtaking: Arc::clone(self),
            order,
            overtaken,
        }
    }
}

/// One call's place in the order calls started; dropping it takes the call out.
#[derive(Debug)]
pub(crate) struct InOrder {
    overtaking: Arc<Overtaking>,
    order: u64,
    overtaken: oneshot::Receiver<()>,
}

impl InOrder {
    /// Completes once a call that started after this one has ended well; never, if none does
    /// while this one is in flight.
    pub(crate) async fn overtaken(&mut self) {
        if (&mut self.overtaken).await.is_err() {
            // Taken out without being told: only at its own end, when nobody waits on it.
            std::future::pending::<()>().await;
        }
    }

    /// The call ended well: every call that started before it and still waits is overtaken.
    pub(crate) fn ended_well(&self) {
        let mut state = self.overtaking.lock();
        let later = state.waiting.split_off(&self.order);
        let overtaken = std::mem::replace(&mut state.waiting, later);
        drop(state);
        for tell in overtaken.into_values() {
            let _ = tell.send(());
        }
    }
}

impl Drop for InOrder {
    fn drop(&mut self) {
        self.overtaking.lock().waiting.remove(&self.order);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    fn is_overtaken(call: &mut InOrder) -> bool {
        let overtaken = call.overtaken();
        let mut overtaken = pin!(overtaken);
        overtaken
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[test]
    fn a_call_ending_well_overtakes_every_call_started_before_it_and_no_later_one() {
        let overtaking = Arc::new(Overtaking::default());
        let mut first = overtaking.enter();
        let mut second = overtaking.enter();
        let third = overtaking.enter();
        let mut fourth = overtaking.enter();
        third.ended_well();
        drop(third);
        assert!(is_overtaken(&mut first) && is_overtaken(&mut second));
        assert!(!is_overtaken(&mut fourth));
        assert_eq!(overtaking.lock().waiting.len(), 1, "only the fourth waits");
    }

    #[test]
    fn calls_ending_in_order_overtake_nobody() {
        let overtaking = Arc::new(Overtaking::default());
        let calls: Vec<_> = (0..5).map(|_| overtaking.enter()).collect();
        for call in calls {
            call.ended_well();
            drop(call);
        }
        assert!(overtaking.lock().waiting.is_empty());
    }

    #[test]
    fn a_call_ends_without_anyone_waiting_on_it_once_taken_out() {
        let overtaking = Arc::new(Overtaking::default());
        let mut alone = overtaking.enter();
        assert!(!is_overtaken(&mut alone));
        let later = overtaking.enter();
        drop(later);
        assert!(
            !is_overtaken(&mut alone),
            "a later call that failed overtakes nothing"
        );
        drop(alone);
        assert!(overtaking.lock().waiting.is_empty());
    }
}
