//! Service A as one replica of a fleet that shares its breaker's state through Redis (the
//! `breaker-fleet` crate), with `--fleet-redis`; off by default, and nothing here runs then.
//!
//! The fleet reads the breaker's snapshot and transitions and moves it only through the
//! breaker's own commands; no call to B waits on it. `/breaker` gains `"fleet": {"id",
//! "connected", "replicas_live", "replicas_open", "quorum", "probe_holder"}`, `/metrics` the
//! `fleet_*` series ([`metrics`]) and the dashboard a line. A call rejected by a circuit the
//! fleet opened says so: `(fleet: 3 failures from 2 of 5 replicas within 10s, ...)`.
//!
//! | file | what it holds |
//! |---|---|
//! | `flags.rs` | [`FleetFlags`] and [`FleetSettings`]: the flags, checked |
//! | `metrics.rs` | the `fleet_*` series, read from the status at scrape time |

pub mod flags;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use breaker::{CircuitBreaker, Event};
use breaker_fleet::{Fleet, FleetHandle, FleetStatus, ReplicaId};
use service_kit::log_limit::LogLimiter;
use tracing::info;

pub use flags::{FleetFlags, FleetRedis, FleetSettings};

/// At most five WARN lines a second about values under the fleet's keys that were ignored.
static GARBAGE: LogLimiter = LogLimiter::new("fleet: ignoring what is stored", 5);

/// The longest any Redis operation may take: then the replica runs on its own breaker.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);

/// This service A's place in its fleet: configured with the state, running from
/// [`crate::run`], when the address is known. Clones share it.
#[derive(Debug, Clone)]
pub struct FleetMember {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Before the start: the replica, and whether its id is to take the port listened on.
    pending: Mutex<Option<(Fleet, bool)>>,
    running: Mutex<Option<FleetHandle>>,
    /// What is shown before the start.
    before: Mutex<FleetStatus>,
}

impl FleetMember {
    /// The replica `settings` describe, for a breaker whose recovery timeout is `recovery`
    /// and whose calls time out after `request_timeout`.
    ///
    /// # Errors
    ///
    /// A setting the fleet refuses; `Settings::check` has checked them already.
    pub fn new(
        settings: &FleetSettings,
        listen: SocketAddr,
        recovery: Duration,
        request_timeout: Duration,
    ) -> Result<Self, breaker_fleet::ConfigError> {
        let defaulted = settings.id.is_none();
        let id = settings
            .id
            .clone()
            .unwrap_or_else(|| default_id(listen.port()));
        let heartbeat = settings.heartbeat;
        let fleet = Fleet::builder(settings.redis.url(), id.as_str())
            .quorum(settings.quorum)
            .max_replicas(settings.quorum.max(breaker_fleet::DEFAULT_MAX_REPLICAS))
            .heartbeat(heartbeat)
            .redis_timeout(REDIS_TIMEOUT.min(heartbeat / 2))
            // The probe's whole answer, and two heartbeats to publish it.
            .probe_lease(request_timeout + heartbeat * 2)
            .failure_window(recovery)
            .build()?
            .limit_warnings(|| GARBAGE.admit());
        let before = FleetStatus {
            id: id.to_string(),
            connected: false,
            replicas_live: 1,
            replicas_open: 0,
            quorum: settings.quorum,
            probe_holder: None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pending: Mutex::new(Some((fleet, defaulted))),
                running: Mutex::new(None),
                before: Mutex::new(before),
            }),
        })
    }

    /// The listener to give the breaker's builder.
    pub fn listener(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static + use<> {
        let pending = self
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (fleet, _) = pending
            .as_ref()
            .expect("the listener is taken before the start");
        fleet.listener()
    }

    /// Starts the replica's task for `breaker`, now that service A listens on `address`: a
    /// default id takes its port. Only the first call starts it.
    pub fn start(&self, breaker: &CircuitBreaker, address: SocketAddr) {
        let Some((mut fleet, defaulted)) = self
            .inner
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        if defaulted {
            fleet = fleet.with_id(default_id(address.port()));
        }
        let config = fleet.config();
        info!(
            target: "service_a",
            id = %config.id(),
            redis = config.redis_url(),
            quorum = config.quorum(),
            heartbeat = %humantime::format_duration(config.heartbeat()),
            "fleet: replica {} sharing through {}",
            config.id(),
            config.redis_url()
        );
        self.inner
            .before
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id = config.id().to_string();
        let handle = fleet.start(breaker.clone());
        *self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(handle);
    }

    /// What this replica knows of its fleet now.
    pub fn status(&self) -> FleetStatus {
        match &*self
            .inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(handle) => handle.status(),
            None => self
                .inner
                .before
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

/// The host name and `port`: what tells replicas apart when each runs on its own host.
fn default_id(port: u16) -> ReplicaId {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    ReplicaId::sanitized(&format!("{}:{port}", host.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_id_is_the_host_name_and_the_port() {
        let id = default_id(5000);
        assert!(id.as_str().ends_with(":5000"), "{id}");
        assert!(id.as_str().len() > ":5000".len());
    }
}
