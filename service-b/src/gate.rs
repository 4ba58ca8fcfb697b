//! The `capacity` mode at run time: a gate of `concurrency` slots with a bounded queue in front.
//!
//! The slots are a tokio [`Semaphore`], which is fair: a released slot goes to the call that
//! has waited longest, and `try_acquire` fails while anyone waits, so a newcomer never jumps
//! the queue. The queue's bound is a counter of waiting calls, reserved with one
//! compare-and-swap before waiting, so it never exceeds `queue` however many calls arrive at
//! once; a call that cannot reserve a place is refused at once.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::capacity::Capacity;

/// One `capacity` setting's slots and queue.
#[derive(Debug)]
pub struct CapacityGate {
    capacity: Capacity,
    slots: Arc<Semaphore>,
    waiting: AtomicU32,
}

/// A call refused because every slot was busy and the queue was full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every slot is busy and the queue is full")]
pub struct Overloaded;

/// A slot held by one call; dropping it hands the slot to the next call in the queue.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl CapacityGate {
    /// A gate with all of `capacity`'s slots free and nobody waiting.
    pub fn new(capacity: Capacity) -> Self {
        Self {
            capacity,
            slots: Arc::new(Semaphore::new(capacity.concurrency() as usize)),
            waiting: AtomicU32::new(0),
        }
    }

    /// A free slot at once; else a place in the queue and the slot when its turn comes; else
    /// [`Overloaded`] at once. `counters` records which of the three happened.
    ///
    /// A call dropped while it waits (its client hung up) gives its place back.
    pub async fn enter(&self, counters: &CapacityCounters) -> Result<Slot, Overloaded> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            counters.served.fetch_add(1, Ordering::Relaxed);
            return Ok(Slot { _permit: permit });
        }
        let queue = self.capacity.queue();
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting < queue).then_some(waiting + 1)
            })
            .map_err(|_| {
                counters.refused.fetch_add(1, Ordering::Relaxed);
                Overloaded
            })?;
        counters.queued.fetch_add(1, Ordering::Relaxed);
        counters.waiting.fetch_add(1, Ordering::Relaxed);
        let place = Waiting {
            gate: &self.waiting,
            counters,
        };
        // The semaphore is never closed, so acquiring can only wait, not fail.
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Overloaded)?;
        drop(place);
        counters.served.fetch_add(1, Ordering::Relaxed);
        Ok(Slot { _permit: permit })
    }

    /// Calls waiting for a slot now.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::Acquire)
    }
}

/// A call's place in the queue, given back when it gets its slot or is dropped.
struct Waiting<'a> {
    gate: &'a AtomicU32,
    counters: &'a CapacityCounters,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.gate.fetch_sub(1, Ordering::AcqRel);
        self.counters.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The gate of the `capacity` setting in force: the same gate for as long as `concurrency` and
/// `queue` stay the same (posting the same setting again keeps the calls in its queue), a new
/// one when they change. Calls already in the old gate finish there, as each call keeps the
/// mode it arrived in.
#[derive(Debug, Default)]
pub struct CapacityGates {
    /// A std `Mutex` is fine: no `.await` happens while it is held, and the critical section
    /// is a comparison and an `Arc` clone, taken once per `/api` call in `capacity` mode.
    current: Mutex<Option<Arc<CapacityGate>>>,
}

impl CapacityGates {
    /// The gate for `capacity`, made on first use.
    pub fn gate(&self, capacity: Capacity) -> Arc<CapacityGate> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        match &*current {
            Some(gate)
                if gate.capacity.concurrency() == capacity.concurrency()
                    && gate.capacity.queue() == capacity.queue() =>
            {
                gate.clone()
            }
            _ => {
                let gate = Arc::new(CapacityGate::new(capacity));
                *current = Some(gate.clone());
                gate
            }
        }
    }
}

/// Totals of the `capacity` mode since start, over every gate; relaxed atomics, no lock.
#[derive(Debug, Default)]
pub struct CapacityCounters {
    served: AtomicU64,
    queued: AtomicU64,
    refused: AtomicU64,
    waiting: AtomicU64,
}

impl CapacityCounters {
    /// The totals right now.
    pub fn snapshot(&self) -> CapacityStats {
        CapacityStats {
            served: self.served.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

/// `/stats`' `capacity` object: `{"served":120,"queued":40,"refused":7,"waiting":3}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CapacityStats {
    /// Calls that got a slot, at once or after waiting.
    pub served: u64,
    /// Calls that found every slot busy and waited in the queue (whether or not they got a
    /// slot in the end: a client may hang up while it waits).
    pub queued: u64,
    /// Calls answered 503 `Service B: Overloaded` at once because the queue was full.
    pub refused: u64,
    /// Calls waiting for a slot now.
    pub waiting: u64,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::{Instant, sleep};

    use super::*;

    const SERVICE_TIME: Duration = Duration::from_millis(20);

    fn gate(concurrency: u32, queue: u32) -> Arc<CapacityGate> {
        Arc::new(CapacityGate::new(
            Capacity::new(concurrency, SERVICE_TIME, queue).expect("valid"),
        ))
    }

    /// Enters `gate`, holds the slot for the service time, and says when it finished.
    async fn call(
        gate: Arc<CapacityGate>,
        counters: Arc<CapacityCounters>,
    ) -> Result<Instant, Overloaded> {
        let _slot = gate.enter(&counters).await?;
        sleep(SERVICE_TIME).await;
        Ok(Instant::now())
    }

    /// Starts `n` calls one after another, each one in the gate (served or queued or refused)
    /// before the next starts, so arrival order is the index order.
    async fn arrive(
        n: usize,
        gate: &Arc<CapacityGate>,
        counters: &Arc<CapacityCounters>,
    ) -> Vec<tokio::task::JoinHandle<Result<Instant, Overloaded>>> {
        let mut calls = Vec::new();
        for _ in 0..n {
            calls.push(tokio::spawn(call(gate.clone(), counters.clone())));
            // One yield lets the new task run up to its first real wait.
            tokio::task::yield_now().await;
        }
        calls
    }

    #[tokio::test(start_paused = true)]
    async fn serves_concurrency_at_once_queues_up_to_queue_and_refuses_the_rest_at_once() {
        let gate = gate(2, 3);
        let counters = Arc::new(CapacityCounters::default());
        let start = Instant::now();
        let calls = arrive(7, &gate, &counters).await;
        assert_eq!(gate.waiting(), 3);
        assert_eq!(
            counters.snapshot(),
            CapacityStats {
                served: 2,
                queued: 3,
                refused: 2,
                waiting: 3
            }
        );
        let mut outcomes = Vec::new();
        for call in calls {
            outcomes.push(call.await.expect("task").map(|done| done - start));
        }
        assert_eq!(
            outcomes,
            vec![
                Ok(SERVICE_TIME),
                Ok(SERVICE_TIME),
                Ok(SERVICE_TIME * 2),
                Ok(SERVICE_TIME * 2),
                Ok(SERVICE_TIME * 3),
                Err(Overloaded),
                Err(Overloaded),
            ],
            "latency grows with queue position; the refused are refused at once"
        );
        assert_eq!(
            counters.snapshot(),
            CapacityStats {
                served: 5,
                queued: 3,
                refused: 2,
                waiting: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_queue_is_served_in_arrival_order() {
        let gate = gate(1, 10);
        let counters = Arc::new(CapacityCounters::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut calls = Vec::new();
        for index in 0..8 {
            let (gate, counters, order) = (gate.clone(), counters.clone(), order.clone());
            calls.push(tokio::spawn(async move {
                let _slot = gate.enter(&counters).await.expect("room in the queue");
                order.lock().expect("not poisoned").push(index);
                sleep(SERVICE_TIME).await;
            }));
            tokio::task::yield_now().await;
        }
        for call in calls {
            call.await.expect("task");
        }
        assert_eq!(
            *order.lock().expect("not poisoned"),
            (0..8).collect::<Vec<_>>()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_newcomer_does_not_take_a_slot_freed_for_a_waiting_call() {
        let gate = gate(1, 1);
        let counters = Arc::new(CapacityCounters::default());
        let first = gate.enter(&counters).await.expect("free slot");
        let waiter = {
            let (gate, counters) = (gate.clone(), counters.clone());
            tokio::spawn(async move { gate.enter(&counters).await.map(drop) })
        };
        tokio::task::yield_now().await;
        assert_eq!(gate.waiting(), 1);
        drop(first);
        // The slot now belongs to the waiter, even before it runs; the queue is still full.
        assert_eq!(gate.enter(&counters).await.map(drop), Err(Overloaded));
        assert_eq!(waiter.await.expect("task"), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_while_it_waits_gives_its_place_back() {
        let gate = gate(1, 1);
        let counters = Arc::new(CapacityCounters::default());
        let _busy = gate.enter(&counters).await.expect("free slot");
        let impatient = {
            let (gate, counters) = (gate.clone(), counters.clone());
            tokio::spawn(async move { gate.enter(&counters).await.map(drop) })
        };
        tokio::task::yield_now().await;
        assert_eq!(gate.waiting(), 1);
        impatient.abort();
        assert!(impatient.await.expect_err("aborted").is_cancelled());
        assert_eq!(gate.waiting(), 0);
        assert_eq!(counters.snapshot().waiting, 0);
        let next = {
            let (gate, counters) = (gate.clone(), counters.clone());
            tokio::spawn(async move { gate.enter(&counters).await.map(drop) })
        };
        tokio::task::yield_now().await;
        assert_eq!(gate.waiting(), 1, "the freed place is taken again");
        next.abort();
    }

    #[test]
    fn the_same_limits_keep_their_gate_and_new_ones_get_a_new_one() {
        let gates = CapacityGates::default();
        let eight = Capacity::new(8, SERVICE_TIME, 64).expect("valid");
        let slower = Capacity::new(8, SERVICE_TIME * 5, 64).expect("valid");
        let two = Capacity::new(2, SERVICE_TIME, 64).expect("valid");
        let first = gates.gate(eight);
        assert!(Arc::ptr_eq(&first, &gates.gate(eight)));
        assert!(
            Arc::ptr_eq(&first, &gates.gate(slower)),
            "service time is per call"
        );
        let second = gates.gate(two);
        assert!(!Arc::ptr_eq(&first, &second));
        let longer_queue = Capacity::new(2, SERVICE_TIME, 65).expect("valid");
        assert!(!Arc::ptr_eq(&second, &gates.gate(longer_queue)));
    }

    #[test]
    fn many_threads_never_queue_more_than_the_bound() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let gate = gate(4, 16);
            let counters = Arc::new(CapacityCounters::default());
            // Holders keep their slot until the test hands out a release.
            let release = Arc::new(Semaphore::new(0));
            let calls: Vec<_> = (0..200)
                .map(|_| {
                    let (gate, counters, release) =
                        (gate.clone(), counters.clone(), release.clone());
                    tokio::spawn(async move {
                        let slot = gate.enter(&counters).await?;
                        release.acquire().await.expect("never closed").forget();
                        drop(slot);
                        Ok::<(), Overloaded>(())
                    })
                })
                .collect();
            // Every call has either a slot, a place, or its refusal once these add up.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let stats = counters.snapshot();
                if stats.served + stats.waiting + stats.refused == 200 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "{stats:?}");
                tokio::task::yield_now().await;
            }
            let stats = counters.snapshot();
            assert_eq!((stats.served, stats.waiting, stats.refused), (4, 16, 180));
            assert_eq!(gate.waiting(), 16);
            release.add_permits(20);
            let mut refused = 0;
            for call in calls {
                if call.await.expect("task").is_err() {
                    refused += 1;
                }
            }
            assert_eq!(refused, 180);
            assert_eq!(counters.snapshot().served, 20);
        });
    }
}
