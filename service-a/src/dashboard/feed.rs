//! `GET /events`: one client's stream of server-sent events.
//!
//! A stream is pulled, not pushed: hyper asks for the next event only when the connection can
//! take it, so a client that stops reading stops the stream where it is. Meanwhile the hub's
//! channel moves on without it; when the stream is pulled again it learns how many transitions
//! it missed, says so (`lagged`) and sends a fresh snapshot. Nothing grows per client.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use breaker::CircuitBreaker;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};
use tracing::{debug, warn};

use super::hub::{EventHub, Subscription};
use super::payload::{LaggedEvent, SnapshotEvent};
use crate::error::AppError;
use crate::fleet::FleetMember;
use crate::state::AppState;
use crate::upstream::ServiceB;

/// How often a stream sends a snapshot. It doubles as the keep-alive, and as the moment an open
/// circuit whose recovery timeout has passed is seen half-open.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);

/// How long a browser waits before reconnecting a dropped stream (the `retry:` field).
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The handler: 404 with `--no-breaker`, 503 when every stream slot is taken.
pub async fn events(State(state): State<AppState>) -> Response {
    let Some(breaker) = state.breaker() else {
        return AppError::BreakerOff.into_response();
    };
    let subscription = match state.events().subscribe() {
        Ok(subscription) => subscription,
        Err(full) => return AppError::from(full).into_response(),
    };
    let mut feed = Feed::new(
        breaker.clone(),
        state.service_b().clone(),
        state.events().clone(),
        subscription,
    );
    feed.fleet = state.fleet().cloned();
    Sse::new(futures_util::stream::unfold(feed, Feed::next)).into_response()
}

/// One stream's state: what it still has to send and where it stands in the hub's channel.
struct Feed {
    breaker: CircuitBreaker,
    /// For the bulkhead's limit and calls in flight in each snapshot.
    service_b: ServiceB,
    hub: EventHub,
    /// With `--fleet-redis`, for the fleet's status in each snapshot.
    fleet: Option<FleetMember>,
    subscription: Subscription,
    replay: VecDeque<Arc<str>>,
    snapshots: Interval,
    snapshot_due: bool,
    first_snapshot: bool,
}

impl Feed {
    fn new(
        breaker: CircuitBreaker,
        service_b: ServiceB,
        hub: EventHub,
        mut subscription: Subscription,
    ) -> Self {
        let replay = std::mem::take(&mut subscription.replay).into();
        let mut snapshots = tokio::time::interval(SNAPSHOT_EVERY);
        // A stream that was not pulled for a while sends one snapshot, not a burst.
        snapshots.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            breaker,
            service_b,
            hub,
            fleet: None,
            subscription,
            replay,
            snapshots,
            snapshot_due: false,
            first_snapshot: true,
        }
    }

    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        let event = self.next_event().await?;
        Some((Ok(event), self))
    }

    /// The replay first, then whatever comes: the end of the server, a snapshot owed after a
    /// lag, the next tick's snapshot or the next transition.
    async fn next_event(&mut self) -> Option<Event> {
        if *self.subscription.stop.borrow() {
            return None;
        }
        if let Some(json) = self.replay.pop_front() {
            return Some(Event::default().event("transition").data(&*json));
        }
        if std::mem::take(&mut self.snapshot_due) {
            return Some(self.snapshot());
        }
        tokio::select! {
            // Biased so that a storm of transitions cannot starve the stop or the snapshots.
            biased;
            () = stopped(&mut self.subscription.stop) => None,
            _ = self.snapshots.tick() => Some(self.snapshot()),
            received = self.subscription.receiver.recv() => match received {
                Ok(json) => Some(Event::default().event("transition").data(&*json)),
                Err(RecvError::Lagged(missed)) => {
                    debug!(missed, "a slow event stream skipped transitions");
                    self.hub.count_lagged(missed);
                    self.snapshot_due = true;
                    Some(json_event("lagged", &LaggedEvent { missed }))
                }
                // The hub keeps the sender for as long as the server runs.
                Err(RecvError::Closed) => None,
            },
        }
    }

    fn snapshot(&mut self) -> Event {
        let mut snapshot = SnapshotEvent::new(self.breaker.snapshot(), &self.service_b);
        snapshot.fleet = self.fleet.as_ref().map(FleetMember::status);
        let event = json_event("snapshot", &snapshot);
        if std::mem::take(&mut self.first_snapshot) {
            event.retry(RECONNECT_AFTER)
        } else {
            event
        }
    }
}

/// Completes when the server starts shutting down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the hub is gone, which only happens once the server is: stop too.
    let _ = stop.wait_for(|stop| *stop).await;
}

fn json_event(name: &str, payload: &impl Serialize) -> Event {
    match serde_json::to_string(payload) {
        Ok(json) => Event::default().event(name).data(json),
        // The payloads are plain structs of numbers and strings, which always serialize.
        Err(err) => {
            warn!(%err, name, "could not encode an event");
            Event::default().comment("encoding failed")
        }
    }
}
