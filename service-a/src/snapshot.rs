//! The JSON body of `GET /breaker`: the breaker's [`Snapshot`] as the breaker serializes it
//! (feature `serde`, see its `serde_format` module), with the profile and the settings of every
//! layer around it.

use std::time::Duration;

use breaker::Snapshot;
use breaker_fleet::FleetStatus;
use serde::Serialize;

use crate::layers_view::LayersView;
use crate::profile::Profile;
use crate::upstream::{ServiceB, millis};

/// `GET /breaker`.
///
/// ```json
/// {"name":"call_service_b","state":"open","failure_count":3,"probe_successes":0,
///  "open_until":"2026-11-26 16:56:45.622681+00:00","remaining_seconds":9.5,
///  "calls":{"successful":0,"failed":3,"slow":0,"ignored":0,"rejected":1},
///  "failure_rate":100.0,"window":null,"rejection_probability":null,"transitions":1,
///  "last_failure":"500 Internal Server Error for url: ...",
///  "config":{"failure_threshold":3,"recovery_timeout_ms":10000,"request_timeout_ms":3000,
///            "half_open_max_calls":1,"success_threshold":1,"failure_rate_threshold":null,
///            "slow_call_threshold_ms":null,"slow_call_rate_threshold":null,
///            "sliding_window_ms":null,"minimum_calls":null,"adaptive_throttle":null},
///  "profile":"article",
///  "layers":{"deadline":null,"retry":{"attempts":1,...},"bulkhead":null,"attempt":{...}}}
/// ```
///
/// Everything up to `last_failure` is the [`Snapshot`], the same as the dashboard's `snapshot`
/// event; `layers` is described on [`LayersView`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerView {
    /// The breaker now.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// The breaker's settings, and the request timeout.
    pub config: ConfigView,
    /// `article` or `production`: the defaults the flags not given took.
    pub profile: Profile,
    /// Every layer of the client stack, outermost first.
    pub layers: LayersView,
    /// With `--fleet-redis`, what this replica knows of its fleet; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetStatus>,
}

/// The breaker's settings in force, with the per-attempt timeout (`request_timeout_ms`) that
/// the article sets beside them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigView {
    /// The breaker's own settings.
    #[serde(flatten)]
    pub breaker: breaker::Config,
    /// The per-attempt timeout for calls to B, in milliseconds.
    pub request_timeout_ms: u64,
}

impl BreakerView {
    /// The view of `snapshot`, with the layers of `service_b` around the breaker.
    pub fn new(snapshot: Snapshot, service_b: &ServiceB) -> Self {
        let settings = service_b.settings();
        Self {
            config: ConfigView::new(&snapshot.config, settings.request_timeout),
            snapshot,
            profile: settings.profile,
            layers: LayersView::new(service_b),
            fleet: None,
        }
    }

    /// The view with the fleet's `status` (`"fleet": {...}`), when there is a fleet.
    #[must_use]
    pub fn with_fleet(mut self, status: Option<FleetStatus>) -> Self {
        self.fleet = status;
        self
    }
}

impl ConfigView {
    fn new(config: &breaker::Config, request_timeout: Duration) -> Self {
        Self {
            breaker: config.clone(),
            request_timeout_ms: millis(request_timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::upstream::Jitter;
    use breaker::{CircuitBreaker, ManualClock};
    use reqwest::Url;
    use serde_json::json;

    /// Service A's client with `args`, its breaker on `clock`.
    fn client(args: &[&str], clock: &ManualClock) -> (ServiceB, CircuitBreaker) {
        let checked = Config::try_parse_checked_from(
            std::iter::once("service-a").chain(args.iter().copied()),
        )
        .expect("valid flags");
        let settings = checked.client().clone();
        let cb = settings
            .breaker
            .expect("on")
            .builder()
            .clock(clock.clone())
            .build()
            .expect("valid");
        let base = Url::parse("http://127.0.0.1:5001").expect("URL");
        let service_b =
            ServiceB::new(&base, settings, Some(cb.clone()), Jitter::fixed(0.0)).expect("builds");
        (service_b, cb)
    }

    #[test]
    fn the_production_profile_shows_every_layer_and_the_window() {
        let (service_b, cb) = client(&["--profile", "production"], &ManualClock::new());
        cb.try_acquire().expect("closed").failure("HTTP 503");
        let view =
            serde_json::to_value(BreakerView::new(cb.snapshot(), &service_b)).expect("serializes");
        assert_eq!(view["profile"], "production");
        // The breaker's settings as the breaker serializes them (its `serde_format` tests say
        // how; `upstream::settings` tests the production breaker's), the attempt timeout beside.
        let mut config = serde_json::to_value(cb.config()).expect("serializes");
        config["request_timeout_ms"] = json!(3000);
        assert_eq!(view["config"], config);
        assert_eq!(
            view["window"],
            json!({"calls": 1, "failure_rate": 100.0, "slow_call_rate": 0.0})
        );
        assert_eq!(
            view["layers"],
            json!({
                "deadline": {"call_deadline_ms": 5000},
                "retry": {
                    "attempts": 3, "backoff_ms": 50, "backoff_multiplier": 2,
                    "backoff_max_ms": 1000, "jitter": "full", "budget_percent": 20,
                    "retries": 0, "refused_by_budget": 0, "skipped_for_retry_after": 0
                },
                "bulkhead": {
                    "max_concurrent": 32, "wait_ms": 0, "limit": 32, "in_flight": 0, "rejected": 0
                },
                "attempt": {
                    "request_timeout_ms": 3000,
                    "max_response_bytes": 1048576,
                    "follows_redirects": false
                }
            })
        );
    }

    #[test]
    fn the_config_carries_the_request_timeout_beside_the_breakers_settings() {
        let (service_b, cb) = client(&["--request-timeout", "250ms"], &ManualClock::new());
        let view =
            serde_json::to_value(BreakerView::new(cb.snapshot(), &service_b)).expect("serializes");
        assert_eq!(view["config"]["request_timeout_ms"], 250);
        assert_eq!(view["config"]["failure_threshold"], 3);
        assert_eq!(view["name"], "call_service_b");
    }
}
