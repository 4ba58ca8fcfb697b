//! The hub between the breaker and the event streams: the breaker's listener publishes each
//! transition here, every `/events` stream subscribes here.
//!
//! Everything it holds is bounded: the channel keeps [`BUFFER`] transitions for the slowest
//! stream (tokio's `broadcast`: a stream that falls further behind skips what it missed, and is
//! told how many), the replay keeps the last [`RECENT`], and at most `max_streams` streams are
//! open at once, each holding one slot until it is dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use breaker::{Event, EventKind, Transition};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch};
use tracing::error;

use super::payload::TransitionEvent;
use crate::flag_value::count_in;

/// Transitions the channel keeps for a stream that has not read them yet. A stream further
/// behind loses the oldest and gets a `lagged` event, then a fresh snapshot.
pub const BUFFER: usize = 32;

/// Transitions replayed to a stream when it connects, so a page opened late still shows how
/// the circuit got where it is.
pub const RECENT: usize = 50;

/// Shared by every clone: the breaker's listener and every stream hold the same hub.
#[derive(Debug, Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// A std mutex: it is held for a push and a send, or for a copy and a subscribe, never
    /// across an `.await`, so the breaker's listener never waits on a stream.
    published: Mutex<Published>,
    slots: Arc<Semaphore>,
    max_streams: usize,
    lagged: AtomicU64,
    stop: watch::Sender<bool>,
}

/// The channel and the replay, under one lock so that a stream that subscribes sees every
/// transition exactly once: either in its replay or from the channel.
#[derive(Debug)]
struct Published {
    sender: broadcast::Sender<Arc<str>>,
    recent: VecDeque<Arc<str>>,
}

/// One stream's share of the hub; dropping it frees its slot and its place in the channel.
#[derive(Debug)]
pub struct Subscription {
    /// The recent transitions, oldest first, as JSON.
    pub replay: Vec<Arc<str>>,
    /// Transitions from now on, as JSON.
    pub receiver: broadcast::Receiver<Arc<str>>,
    /// Becomes `true` when the server shuts down: the stream ends.
    pub stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
}

/// Every stream slot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many event streams: at most {max} at once; close a dashboard tab and try again")]
pub struct StreamsFull {
    /// The cap, `--max-event-streams`.
    pub max: usize,
}

impl EventHub {
    /// A hub that serves at most `max_streams` streams at once.
    pub fn new(max_streams: usize) -> Self {
        let (sender, _) = broadcast::channel(BUFFER);
        Self {
            inner: Arc::new(Inner {
                published: Mutex::new(Published {
                    sender,
                    recent: VecDeque::with_capacity(RECENT),
                }),
                slots: Arc::new(Semaphore::new(max_streams)),
                max_streams,
                lagged: AtomicU64::new(0),
                stop: watch::Sender::new(false),
            }),
        }
    }

    /// The breaker listener that feeds this hub, for
    /// [`on_transition`](breaker::Builder::on_transition): it publishes each transition (and
    /// would ignore any other event).
    pub fn listener(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
        let hub = self.clone();
        move |event| {
            if let EventKind::StateChanged(transition) = event.kind {
                hub.publish(&transition);
            }
        }
    }

    /// Sends `transition` to every stream and keeps it for the replay. Never waits for a
    /// stream: a full channel drops its oldest value instead.
    pub fn publish(&self, transition: &Transition) {
        let json: Arc<str> = match serde_json::to_string(&TransitionEvent::new(transition)) {
            Ok(json) => json.into(),
            Err(err) => {
                error!(%err, "could not encode a transition for the event streams");
                return;
            }
        };
        let mut published = self.lock();
        if published.recent.len() == RECENT {
            published.recent.pop_front();
        }
        published.recent.push_back(Arc::clone(&json));
        // An error only says that no stream is listening.
        let _ = published.sender.send(json);
    }

    /// A place for one more stream.
    ///
    /// # Errors
    ///
    /// [`StreamsFull`] when `max_streams` are open.
    pub fn subscribe(&self) -> Result<Subscription, StreamsFull> {
        let slot = Arc::clone(&self.inner.slots)
            .try_acquire_owned()
            .map_err(|_| StreamsFull {
                max: self.inner.max_streams,
            })?;
        let published = self.lock();
        Ok(Subscription {
            replay: published.recent.iter().cloned().collect(),
            receiver: published.sender.subscribe(),
            stop: self.inner.stop.subscribe(),
            _slot: slot,
        })
    }

    /// Ends every stream, open or opened from now on: the server is shutting down, and an
    /// endless response would otherwise hold it for the whole shutdown grace.
    pub fn close(&self) {
        self.inner.stop.send_replace(true);
    }

    /// Records that a stream skipped `missed` transitions it was too slow to read.
    pub fn count_lagged(&self, missed: u64) {
        self.inner.lagged.fetch_add(missed, Ordering::Relaxed);
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.inner.max_streams - self.inner.slots.available_permits()
    }

    /// Transitions the channel holds now, waiting for the slowest stream; at most [`BUFFER`].
    pub fn queued(&self) -> usize {
        self.lock().sender.len()
    }

    /// Transitions skipped by slow streams since start, summed over the streams.
    pub fn lagged(&self) -> u64 {
        self.inner.lagged.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Published> {
        // Nothing panics while the lock is held (a push and a send), so a poisoned lock still
        // holds consistent data.
        self.inner
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The most `--max-event-streams` accepts.
pub const MAX_EVENT_STREAMS: u32 = 10_000;

/// Event streams served at once unless `--max-event-streams` says otherwise.
pub const DEFAULT_MAX_EVENT_STREAMS: u32 = 64;

/// The dashboard's flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct DashboardFlags {
    /// Event streams (open dashboards) served at once; the next is refused with a 503.
    #[arg(
        long,
        default_value_t = DEFAULT_MAX_EVENT_STREAMS,
        value_parser = count_in(1, MAX_EVENT_STREAMS),
        allow_hyphen_values = true
    )]
    pub max_event_streams: u32,
}

impl Default for DashboardFlags {
    fn default() -> Self {
        Self {
            max_event_streams: DEFAULT_MAX_EVENT_STREAMS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::{Reason, State};

    fn opened() -> Transition {
        Transition {
            from: State::Closed,
            to: State::Open,
            reason: Reason::ConsecutiveFailures(3),
        }
    }

    #[test]
    fn a_subscriber_gets_the_recent_transitions_then_the_new_ones() {
        let hub = EventHub::new(4);
        hub.publish(&opened());
        let mut subscription = hub.subscribe().expect("a free slot");
        assert_eq!(subscription.replay.len(), 1);
        assert!(subscription.replay[0].contains(r#""reason":"3 consecutive failures""#));
        assert!(subscription.receiver.try_recv().is_err(), "nothing new yet");

        hub.publish(&opened());
        assert!(subscription.receiver.try_recv().is_ok());
    }

    #[test]
    fn the_replay_keeps_only_the_most_recent() {
        let hub = EventHub::new(1);
        for _ in 0..RECENT + 10 {
            hub.publish(&opened());
        }
        assert_eq!(hub.subscribe().expect("a free slot").replay.len(), RECENT);
    }

    #[test]
    fn a_subscriber_that_never_reads_holds_at_most_the_buffer() {
        let hub = EventHub::new(1);
        let mut subscription = hub.subscribe().expect("a free slot");
        for _ in 0..BUFFER * 10 {
            hub.publish(&opened());
        }
        assert_eq!(hub.queued(), BUFFER);
        assert!(matches!(
            subscription.receiver.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(missed)) if missed == (BUFFER * 9) as u64
        ));
    }

    #[test]
    fn slots_are_capped_and_freed_by_dropping_the_subscription() {
        let hub = EventHub::new(2);
        let first = hub.subscribe().expect("a free slot");
        let _second = hub.subscribe().expect("a free slot");
        assert_eq!(hub.open_streams(), 2);
        assert_eq!(hub.subscribe().unwrap_err(), StreamsFull { max: 2 });
        drop(first);
        assert_eq!(hub.open_streams(), 1);
        assert!(hub.subscribe().is_ok());
    }

    #[test]
    fn the_listener_publishes_transitions_only() {
        let hub = EventHub::new(1);
        let listener = hub.listener();
        let mut subscription = hub.subscribe().expect("a free slot");
        listener(&Event {
            breaker: "call_service_b",
            kind: EventKind::Ignored,
        });
        assert!(subscription.receiver.try_recv().is_err());
        listener(&Event {
            breaker: "call_service_b",
            kind: EventKind::StateChanged(opened()),
        });
        assert!(subscription.receiver.try_recv().is_ok());
    }
}
