//! What every handler shares, and how it is built from the checked settings.

use std::sync::Arc;

use tokio::sync::Semaphore;

use breaker::{CircuitBreaker, Clock, MonotonicClock};

use crate::admin::token::AdminToken;
use crate::cache::LastGood;
use crate::config::Settings;
use crate::dashboard::hub::EventHub;
use crate::fleet::FleetMember;
use crate::metrics::{Metrics, Transitions};
use crate::upstream::{Jitter, ServiceB, SetupError};

/// Shared state of one Service A instance.
///
/// Cloning is cheap and shares everything (it holds an `Arc`): every clone calls B through the
/// same client stack (connection pool, breaker, bulkhead, retry budget) and sees the same last
/// good answer. Build a new one for a fresh breaker.
#[derive(Debug, Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    service_b: ServiceB,
    /// Calls to B in flight, as many as the connections A serves at once: every call runs to
    /// its end even when its client hangs up (see [`AppState::call_service_b`]), and this is
    /// what bounds the calls left running by clients that ask and hang up in a loop.
    calls_in_flight: Arc<Semaphore>,
    max_calls_in_flight: usize,
    breaker: Option<CircuitBreaker>,
    last_good: LastGood,
    metrics: Metrics,
    events: EventHub,
    admin_token: Option<AdminToken>,
    /// With `--fleet-redis`, this replica's place in the fleet.
    fleet: Option<FleetMember>,
}

impl AppState {
    /// The production state: the breaker reads the operating system's monotonic clock, and
    /// backoffs draw fresh randomness.
    ///
    /// # Errors
    ///
    /// If the HTTP client for B cannot be built ([`SetupError`]); the settings themselves were
    /// checked by [`Settings::check`].
    pub fn new(settings: &Settings) -> Result<Self, SetupError> {
        Self::with_clock(settings, MonotonicClock::new())
    }

    /// The state with a breaker reading `clock`: tests pass a
    /// [`ManualClock`](breaker::ManualClock) and move time instead of waiting out the recovery
    /// timeout. With `--no-breaker` there is no breaker and the clock is unused.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_clock(settings: &Settings, clock: impl Clock) -> Result<Self, SetupError> {
        Self::with_parts(settings, clock, Jitter::random())
    }

    /// [`with_clock`](Self::with_clock) whose retry backoffs draw from `jitter`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_parts(
        settings: &Settings,
        clock: impl Clock,
        jitter: Jitter,
    ) -> Result<Self, SetupError> {
        let config = settings.config();
        let client = settings.client().clone();
        let transitions = Transitions::default();
        let events = EventHub::new(config.dashboard.max_event_streams as usize);
        let fleet = match (settings.fleet(), &client.breaker) {
            (Some(fleet), Some(breaker)) => Some(FleetMember::new(
                fleet,
                config.listen,
                breaker.recovery_timeout,
                client.request_timeout,
            )?),
            _ => None,
        };
        let breaker = client.breaker.map(|breaker| {
            let builder = breaker
                .builder()
                .clock(clock)
                .on_transition(transitions.listener())
                .on_transition(events.listener());
            match &fleet {
                Some(fleet) => builder.on_transition(fleet.listener()),
                None => builder,
            }
            .build()
            // The clock and the listeners are not settings: the breaker validates these
            // settings alone, as `Settings::check` did when it built one from them.
            .expect("breaker settings checked by Settings::check")
        });
        let service_b = ServiceB::new(&config.service_b_url, client, breaker.clone(), jitter)?;
        let max_calls_in_flight = config.server.max_connections.get() as usize;
        Ok(Self {
            shared: Arc::new(Shared {
                metrics: Metrics::new(breaker.as_ref(), transitions, &service_b, fleet.as_ref()),
                service_b,
                calls_in_flight: Arc::new(Semaphore::new(max_calls_in_flight)),
                max_calls_in_flight,
                breaker,
                last_good: LastGood::default(),
                events,
                admin_token: config.admin.admin_token.clone(),
                fleet,
            }),
        })
    }

    /// The places for calls to B in flight, and how many there are (see
    /// [`AppState::call_service_b`]).
    pub(crate) fn calls_in_flight(&self) -> (&Arc<Semaphore>, usize) {
        (
            &self.shared.calls_in_flight,
            self.shared.max_calls_in_flight,
        )
    }

    /// The breaker in front of B; `None` with `--no-breaker`.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.shared.breaker.as_ref()
    }

    /// The client for B.
    pub fn service_b(&self) -> &ServiceB {
        &self.shared.service_b
    }

    /// The last good answer from B, for the fallback.
    pub fn last_good(&self) -> &LastGood {
        &self.shared.last_good
    }

    /// What `/metrics` shows.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The breaker's transitions for the dashboard's event streams, and the streams' slots.
    pub fn events(&self) -> &EventHub {
        &self.shared.events
    }

    /// The token admin actions need; `None`: there are none.
    pub fn admin_token(&self) -> Option<&AdminToken> {
        self.shared.admin_token.as_ref()
    }

    /// This replica's place in its fleet; `None` without `--fleet-redis`.
    pub fn fleet(&self) -> Option<&FleetMember> {
        self.shared.fleet.as_ref()
    }
}
