//! The open connections with no request in flight, longest idle first: when the connection cap
//! is reached, a new connection takes the place of the one idle longest, so that a crowd holding
//! idle connections (accepted and silent, or kept alive between requests) cannot keep a newcomer
//! out. A connection with a request in flight is never chosen.
//!
//! A client that holds an idle connection gives up its own first: its new connection takes the
//! place of its own longest-idle one. A crowd reconnecting as fast as it can then churns mostly
//! against itself. A newcomer whose first request is there when its connection is first read
//! (below) is never pushed out; one whose request comes after that read is idle until it is
//! read, and in a crowd's churn may be closed and have to connect again (about once in 80
//! requests in `tests/connection_cap.rs`, with two CPU-bound processes beside it on a 2-core
//! AMD EPYC VM).
//!
//! Each connection is registered when it is accepted ([`IdleConnections::enter`]) and leaves
//! when its task ends; its requests mark it busy while they run ([`Requests::start`]). It
//! joins the idle ones only once its task has read what the client sent before it was accepted
//! ([`Tracked::first_read`]), so that a request already there is read before the connection can
//! be taken for idle.
//!
//! # Cost
//!
//! One std mutex around two ordered indexes of the idle connections (all of them, and each
//! client's, `BTreeMap`s keyed by when each became idle) and a `HashMap` of the open
//! connections: every event (a connection opened or closed, a request started or ended, a place
//! made) is one lock and O(log n) work in the connections open, at most the cap. Nothing scans
//! the connections. Memory is one entry per open connection and one per client holding an idle
//! one. No `.await` happens under the lock, so a std mutex is right.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// A connection's key.
type Id = u64;

/// See the [module](self) docs. Shared by the accept loop and every connection (an `Arc`).
#[derive(Debug, Default)]
pub(super) struct IdleConnections {
    state: Mutex<State>,
    /// Woken when a place may be made where none could be: a connection became idle, or one
    /// told to leave closed or took a request and will not leave at once.
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The idle connections by when they became idle (a counter, so the order is exact): the
    /// first is the longest idle.
    queue: BTreeMap<u64, Id>,
    /// The same stamps, by client; a client leaves it with its last idle connection.
    by_client: HashMap<IpAddr, BTreeSet<u64>>,
    open: HashMap<Id, Entry>,
    /// The next id and the next idle stamp: one counter serves both, it only grows.
    next: u64,
    /// Connections told to leave that have no request in flight: they are closing.
    leaving: usize,
}

#[derive(Debug)]
struct Entry {
    client: IpAddr,
    /// Its key in the queue while it is idle.
    idle_since: Option<u64>,
    requests: u32,
    served: bool,
    told_to_leave: bool,
    leave: Arc<Notify>,
}

impl State {
    fn stamp(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Puts an open connection in both queues, the newest idle.
    fn go_idle(&mut self, id: Id) {
        let since = self.stamp();
        let Some(entry) = self.open.get_mut(&id) else {
            return;
        };
        entry.idle_since = Some(since);
        self.queue.insert(since, id);
        self.by_client
            .entry(entry.client)
            .or_default()
            .insert(since);
    }

    /// Takes a connection out of both queues, if it is in them.
    fn go_busy(&mut self, id: Id) {
        let Some(entry) = self.open.get_mut(&id) else {
            return;
        };
        let Some(since) = entry.idle_since.take() else {
            return;
        };
        self.queue.remove(&since);
        if let Some(stamps) = self.by_client.get_mut(&entry.client) {
            stamps.remove(&since);
            if stamps.is_empty() {
                self.by_client.remove(&entry.client);
            }
        }
    }

    /// The connection to make room: `client`'s own longest idle, else the longest idle.
    fn longest_idle(&self, client: IpAddr) -> Option<Id> {
        let since = match self.by_client.get(&client) {
            Some(stamps) => stamps.first(),
            None => self.queue.keys().next(),
        }?;
        self.queue.get(since).copied()
    }
}

impl IdleConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every update below leaves the state whole before it can panic: a poisoned lock
        // still holds a usable state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection from `client` just accepted; it may be told to leave once its
    /// first read is done ([`Tracked::first_read`]).
    pub(super) fn enter(self: &Arc<Self>, client: IpAddr) -> Tracked {
        let leave = Arc::new(Notify::new());
        let mut state = self.lock();
        let id = state.stamp();
        state.open.insert(
            id,
            Entry {
                client: client.to_canonical(),
                idle_since: None,
                requests: 0,
                served: false,
                told_to_leave: false,
                leave: Arc::clone(&leave),
            },
        );
        Tracked {
            requests: Requests {
                connections: Arc::clone(self),
                id,
            },
            leave,
        }
    }

    /// Makes room for one connection from `client`: tells `client`'s own longest-idle
    /// connection to leave, or with none the longest-idle of all, unless one told before is
    /// closing already. With none idle, a place frees only when a connection closes, or when
    /// [`changed`](Self::changed) says one became idle.
    pub(super) fn make_room(&self, client: IpAddr) -> MadeRoom {
        let mut state = self.lock();
        if state.leaving > 0 {
            return MadeRoom::AlreadyLeaving;
        }
        let Some(id) = state.longest_idle(client.to_canonical()) else {
            return MadeRoom::NoneIdle;
        };
        state.go_busy(id);
        state.leaving += 1;
        let entry = state
            .open
            .get_mut(&id)
            .expect("a queued connection is open");
        entry.told_to_leave = true;
        entry.leave.notify_one();
        MadeRoom::Told
    }

    /// Completes when a place may be made where [`make_room`](Self::make_room) found none.
    /// Create and `enable` it before calling `make_room`, so no change in between is missed.
    pub(super) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    /// Connections idle now.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.lock().queue.len()
    }
}

/// What [`IdleConnections::make_room`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MadeRoom {
    /// Told a connection to leave: its slot frees as it closes.
    Told,
    /// A connection told before is closing: its slot frees soon.
    AlreadyLeaving,
    /// No connection is idle.
    NoneIdle,
}

/// A connection's registration, held by its task; dropping it takes the connection out.
#[derive(Debug)]
pub(super) struct Tracked {
    requests: Requests,
    leave: Arc<Notify>,
}

impl Tracked {
    /// The connection's task has read what was there to read: if no request has started, the
    /// connection is idle, the newest, and may be told to leave.
    pub(super) fn first_read(&self) {
        let connections = &self.requests.connections;
        let mut state = connections.lock();
        let Some(entry) = state.open.get(&self.requests.id) else {
            return;
        };
        if entry.served || entry.idle_since.is_some() {
            return;
        }
        state.go_idle(self.requests.id);
        drop(state);
        connections.changed.notify_waiters();
    }

    /// What the connection's service marks its requests with.
    pub(super) fn requests(&self) -> Requests {
        self.requests.clone()
    }

    /// Completes when the connection is told to leave to make room for a new one.
    pub(super) async fn told_to_leave(&self) {
        self.leave.notified().await;
    }

    /// Whether a request has ever started on the connection. One that never served a request
    /// has no answer to finish writing, so it may be closed at once.
    pub(super) fn has_served(&self) -> bool {
        let connections = &self.requests.connections;
        let state = connections.lock();
        state.open.get(&self.requests.id).is_some_and(|e| e.served)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let connections = &self.requests.connections;
        let mut state = connections.lock();
        state.go_busy(self.requests.id);
        let Some(entry) = state.open.remove(&self.requests.id) else {
            return;
        };
        if entry.told_to_leave && entry.requests == 0 {
            state.leaving -= 1;
            drop(state);
            // Its slot was freed a moment ago (the task drops it first), and the accept loop
            // may have taken it for an earlier connection and be waiting on this one: it may
            // make room again now.
            connections.changed.notify_waiters();
        }
    }
}

/// Marks one connection's requests; cheap to clone (an `Arc` and a key).
#[derive(Debug, Clone)]
pub(super) struct Requests {
    connections: Arc<IdleConnections>,
    id: Id,
}

impl Requests {
    /// A request has started: the connection is busy until the returned guard is dropped.
    pub(super) fn start(&self) -> InFlight {
        let mut state = self.connections.lock();
        state.go_busy(self.id);
        let mut unleaving = false;
        if let Some(entry) = state.open.get_mut(&self.id) {
            entry.requests += 1;
            entry.served = true;
            // A connection told to leave that takes a request will finish it first: it is no
            // longer about to close, so the accept loop may have to make room elsewhere.
            unleaving = entry.told_to_leave && entry.requests == 1;
        }
        if unleaving {
            state.leaving -= 1;
        }
        drop(state);
        if unleaving {
            self.connections.changed.notify_waiters();
        }
        InFlight {
            requests: self.clone(),
        }
    }
}

/// One request in flight; dropping it (the answer written, or the request abandoned) ends it.
#[derive(Debug)]
pub(super) struct InFlight {
    requests: Requests,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let connections = &self.requests.connections;
        let mut state = connections.lock();
        let Some(entry) = state.open.get_mut(&self.requests.id) else {
            return;
        };
        entry.requests -= 1;
        if entry.requests > 0 {
            return;
        }
        if entry.told_to_leave {
            // It finishes this answer and closes (its task shut it down gracefully).
            state.leaving += 1;
            return;
        }
        state.go_idle(self.requests.id);
        drop(state);
        connections.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::net::Ipv4Addr;

    const ONE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
    /// A client holding no connection.
    const NEW: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 250));

    fn told(connection: &Tracked) -> bool {
        let told = connection.told_to_leave();
        let mut told = std::pin::pin!(told);
        // `notify_one` stores a permit, so a told connection's future is ready at once.
        told.as_mut()
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
            .is_ready()
    }

    #[test]
    fn the_longest_idle_connection_is_told_to_leave_first() {
        let connections = Arc::new(IdleConnections::default());
        let first = connections.enter(ONE);
        let second = connections.enter(ONE);
        let third = connections.enter(ONE);
        assert_eq!(
            connections.make_room(NEW),
            MadeRoom::NoneIdle,
            "none read yet"
        );
        for connection in [&first, &second, &third] {
            connection.first_read();
        }
        // The first serves a request and goes idle again: now the newest idle.
        drop(first.requests().start());
        assert_eq!(connections.idle(), 3);

        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        assert!(told(&second) && !told(&third) && !told(&first));
        assert_eq!(connections.make_room(NEW), MadeRoom::AlreadyLeaving);
        assert!(
            !told(&third),
            "no second place is made while one is closing"
        );
        drop(second);
        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        assert!(told(&third) && !told(&first));
    }

    #[test]
    fn a_client_holding_an_idle_connection_gives_up_its_own_first() {
        let connections = Arc::new(IdleConnections::default());
        let oldest = connections.enter(OTHER);
        let own = connections.enter(ONE);
        let own_newer = connections.enter(ONE);
        for connection in [&oldest, &own, &own_newer] {
            connection.first_read();
        }
        assert_eq!(connections.make_room(ONE), MadeRoom::Told);
        assert!(told(&own) && !told(&oldest) && !told(&own_newer));
        drop(own);
        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        assert!(
            told(&oldest),
            "a client holding none takes the longest idle of all"
        );
        drop(oldest);
        assert_eq!(connections.make_room(OTHER), MadeRoom::Told);
        assert!(told(&own_newer), "OTHER holds none now");
    }

    #[test]
    fn a_connection_with_a_request_in_flight_is_never_told_to_leave() {
        let connections = Arc::new(IdleConnections::default());
        let busy = connections.enter(ONE);
        let request = busy.requests().start();
        busy.first_read();
        assert_eq!(connections.idle(), 0);
        assert_eq!(connections.make_room(NEW), MadeRoom::NoneIdle);
        assert!(!told(&busy));
        drop(request);
        assert_eq!(
            connections.make_room(NEW),
            MadeRoom::Told,
            "idle once its answer is written"
        );
        assert!(told(&busy));
    }

    #[test]
    fn a_connection_that_takes_a_request_after_being_told_lets_another_make_room() {
        let connections = Arc::new(IdleConnections::default());
        let raced = connections.enter(ONE);
        let other = connections.enter(ONE);
        raced.first_read();
        other.first_read();
        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        assert!(told(&raced));
        // Its request arrived as it was told: it finishes that first, so it is not closing.
        let request = raced.requests().start();
        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        assert!(told(&other));
        drop(other);
        drop(request);
        assert_eq!(
            connections.make_room(NEW),
            MadeRoom::AlreadyLeaving,
            "the raced one closes after its answer"
        );
        drop(raced);
        assert_eq!(
            connections.make_room(NEW),
            MadeRoom::NoneIdle,
            "nothing open"
        );
    }

    #[test]
    fn a_told_connection_closing_wakes_whoever_waits_to_make_room() {
        let connections = Arc::new(IdleConnections::default());
        let idle = connections.enter(ONE);
        idle.first_read();
        let changed = connections.changed();
        let mut changed = std::pin::pin!(changed);
        changed.as_mut().enable();
        assert_eq!(connections.make_room(NEW), MadeRoom::Told);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(changed.as_mut().poll(&mut context).is_pending());
        drop(idle);
        assert!(changed.as_mut().poll(&mut context).is_ready());
    }

    #[test]
    fn a_closed_connection_leaves_the_queue_and_the_map() {
        let connections = Arc::new(IdleConnections::default());
        let served = connections.enter(ONE);
        served.first_read();
        assert!(!served.has_served());
        drop(served.requests().start());
        assert!(served.has_served());
        let silent = connections.enter(ONE);
        silent.first_read();
        drop(served);
        drop(silent);
        let state = connections.lock();
        assert!(state.queue.is_empty() && state.open.is_empty() && state.by_client.is_empty());
        assert_eq!(state.leaving, 0);
    }

    #[test]
    fn concurrent_requests_keep_the_queue_consistent() {
        let connections = Arc::new(IdleConnections::default());
        let tracked: Vec<_> = (0..8).map(|_| connections.enter(ONE)).collect();
        for connection in &tracked {
            connection.first_read();
        }
        let threads: Vec<_> = tracked
            .iter()
            .map(|connection| {
                let requests = connection.requests();
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        drop(requests.start());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic");
        }
        assert_eq!(connections.idle(), 8);
        drop(tracked);
        assert!(connections.lock().open.is_empty());
    }
}
