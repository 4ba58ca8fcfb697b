//! `GET /metrics`: what service A knows about its breaker, its client stack and its own HTTP
//! traffic, in the Prometheus text format.
//!
//! Nothing here counts a call a second time. Each number is read from where it is already
//! kept, or measured at the one place that sees it:
//!
//! | metric | type | labels | where it comes from |
//! |---|---|---|---|
//! | `circuit_breaker_state` | gauge | `name`, `state` | the breaker's snapshot, at scrape time ([`snapshot`]) |
//! | `circuit_breaker_calls_total` | counter | `name`, `outcome` | the snapshot |
//! | `circuit_breaker_slow_calls_total` | counter | `name` | the snapshot |
//! | `circuit_breaker_consecutive_failures` | gauge | `name` | the snapshot |
//! | `circuit_breaker_seconds_until_half_open` | gauge | `name` | the snapshot |
//! | `circuit_breaker_failure_rate`, `circuit_breaker_slow_call_rate` | gauge, percent | `name` | the snapshot's sliding window |
//! | `circuit_breaker_window_calls` | gauge | `name` | the snapshot's sliding window |
//! | `circuit_breaker_rejection_probability` | gauge, 0 to 1 | `name` | the snapshot's adaptive throttle; absent without one |
//! | `circuit_breaker_transitions_total` | counter | `name`, `from`, `to` | the breaker's `StateChanged` events ([`transitions`]) |
//! | `circuit_breaker_calls_seconds` | histogram | `name`, `outcome` | a layer of the client stack, just outside the breaker ([`call_durations`]) |
//! | `retry_attempts_total`, `retry_budget_refused_total` | counter | `name` | the client stack's own counters ([`client`]) |
//! | `bulkhead_in_flight`, `bulkhead_max_concurrent` | gauge | `name` | the bulkhead, its settings |
//! | `bulkhead_limit` | gauge | `name` | the bulkhead's limit now: `max_concurrent`, or with `--max-concurrent adaptive` the learned limit |
//! | `bulkhead_rejected_total` | counter | `name` | the client stack's own counters |
//! | `http_server_request_duration_seconds` | histogram | `method`, `route`, `status` | a middleware on A's router ([`http`]) |
//! | `fleet_connected`, `fleet_replicas_live`, `fleet_replicas_open`, `fleet_quorum`, `fleet_probe_holder` | gauge | `name`, `id` (`holder`) | with `--fleet-redis`, the fleet's status ([`crate::fleet::metrics`]) |
//!
//! **Names.** One prefix per layer of the call, so a name says which layer counted it and
//! `{__name__=~"bulkhead_.*"}` picks one layer: `circuit_breaker_`, `retry_`, `bulkhead_`, as
//! Resilience4j's Micrometer names without its `resilience4j_` brand; A's own HTTP server
//! follows OpenTelemetry's `http.server.request.duration` as Prometheus spells it. Every layer's
//! series carry `name="call_service_b"`, the call they guard, as Resilience4j tags each
//! instance, so a service with several backends keeps one name per backend. Outcomes use the
//! breaker's words everywhere: `successful`, `failed`, `ignored`, `rejected`.
//!
//! **Rates.** `circuit_breaker_failure_rate` is what the breaker judges its failure-rate policy
//! on. It is absent, not 0 or NaN, when no rate policy keeps a window or the window holds no
//! call: the breaker clears the window on every trip, so while Open there is no rate to show,
//! and 0 would read "all is well". An alert that must hold through an outage therefore uses
//! the calls counter instead (`deploy/prometheus/alerts.yml`).
//!
//! Series whose absence would hide an event start at 0: every outcome of the histogram, every
//! `from`/`to` pair of the transitions. Prometheus's `increase()` misses the first step of a
//! series that appears at 1.

pub mod call_durations;
pub mod client;
pub mod http;
pub mod snapshot;
pub mod transitions;

use prometheus_client::registry::Registry;

pub use self::call_durations::{CallDurations, SECONDS_BUCKETS};
pub use self::http::HttpMetrics;
pub use self::transitions::Transitions;

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

use crate::fleet::FleetMember;
use crate::fleet::metrics::FleetCollector;
use crate::upstream::ServiceB;
use breaker::CircuitBreaker;

/// Everything `/metrics` shows, and the HTTP middleware's handle on its own part.
///
/// Built once with the state; the registry only holds handles (collectors read the breaker
/// and the client stack at scrape time, families share their series through `Arc`s), so a
/// scrape never blocks a call.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http: HttpMetrics,
}

impl Metrics {
    /// The metrics of `breaker` (`None` with `--no-breaker`: no `circuit_breaker_*` series),
    /// `transitions` (the counter fed by the breaker's listener), the client stack of
    /// `service_b`, A's HTTP server, and with `--fleet-redis` the `fleet_*` series.
    pub fn new(
        breaker: Option<&CircuitBreaker>,
        transitions: Transitions,
        service_b: &ServiceB,
        fleet: Option<&FleetMember>,
    ) -> Self {
        let mut registry = Registry::default();
        if let Some(breaker) = breaker {
            registry.register_collector(Box::new(snapshot::BreakerCollector::new(breaker.clone())));
            transitions.start_at_zero(breaker.name());
            transitions.register(&mut registry);
            if let Some(fleet) = fleet {
                registry.register_collector(Box::new(FleetCollector::new(
                    fleet.clone(),
                    breaker.name(),
                )));
            }
        }
        if let Some(durations) = service_b.call_durations() {
            durations.register(&mut registry);
        }
        registry.register_collector(Box::new(client::ClientCollector::new(service_b.clone())));
        let http = HttpMetrics::default();
        http.register(&mut registry);
        Self { registry, http }
    }

    /// What the HTTP middleware records into.
    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// The text of one scrape.
    ///
    /// # Errors
    ///
    /// Only if formatting fails, which writing to a `String` does not.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
