//! `GET /metrics`: the breaker in the Prometheus text format, read at scrape time.
//!
//! A [`Collector`] reads [`CircuitBreaker::snapshot`] on each scrape instead of mirroring
//! every call into counters of its own: the breaker already counts (per thread, without
//! locks), so there is one source of truth and nothing to keep in step.
//!
//! ```text
//! circuit_breaker_state{name="call_service_b",state="open"} 1        (one line per state)
//! circuit_breaker_calls_total{name="call_service_b",outcome="failed"} 3
//! circuit_breaker_consecutive_failures{name="call_service_b"} 3
//! circuit_breaker_transitions_total{name="call_service_b"} 1
//! circuit_breaker_seconds_until_half_open{name="call_service_b"} 9.5  (0 unless open)
//! ```

use breaker::{CircuitBreaker, State};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every state, so the state gauge always has one line per state (1 for the current one).
const STATES: [State; 5] = [
    State::Closed,
    State::Open,
    State::HalfOpen,
    State::ForcedOpen,
    State::Disabled,
];

/// Reports one breaker's snapshot on each scrape.
#[derive(Debug)]
pub struct BreakerCollector {
    breaker: CircuitBreaker,
}

impl BreakerCollector {
    /// A collector for `breaker` (a clone of the handle: the same breaker).
    pub fn new(breaker: CircuitBreaker) -> Self {
        Self { breaker }
    }
}

impl Collector for BreakerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.breaker.snapshot();
        let name = snapshot.name.as_str();

        let mut state = encoder.encode_descriptor(
            "circuit_breaker_state",
            "Whether the circuit is in this state (1) or not (0)",
            None,
            MetricType::Gauge,
        )?;
        for candidate in STATES {
            let labels = [("name", name), ("state", candidate.as_str())];
            ConstGauge::new(i64::from(candidate == snapshot.state))
                .encode(state.encode_family(&labels)?)?;
        }

        let calls = snapshot.calls;
        let mut by_outcome = encoder.encode_descriptor(
            "circuit_breaker_calls",
            "Calls by outcome since start; rejected calls never reached the backend",
            None,
            MetricType::Counter,
        )?;
        for (outcome, count) in [
            ("successful", calls.successful),
            ("failed", calls.failed),
            ("slow", calls.slow),
            ("ignored", calls.ignored),
            ("rejected", calls.rejected),
        ] {
            let labels = [("name", name), ("outcome", outcome)];
            ConstCounter::new(count).encode(by_outcome.encode_family(&labels)?)?;
        }

        let labels = [("name", name)];
        let failures = encoder.encode_descriptor(
            "circuit_breaker_consecutive_failures",
            "Consecutive failures counted towards the failure threshold",
            None,
            MetricType::Gauge,
        )?;
        encode_labelled(
            failures,
            &labels,
            &ConstGauge::new(i64::from(snapshot.consecutive_failures)),
        )?;

        let transitions = encoder.encode_descriptor(
            "circuit_breaker_transitions",
            "State changes since start",
            None,
            MetricType::Counter,
        )?;
        encode_labelled(
            transitions,
            &labels,
            &ConstCounter::new(snapshot.transitions),
        )?;

        let until = encoder.encode_descriptor(
            "circuit_breaker_seconds_until_half_open",
            "Seconds until the open circuit lets a probe through; 0 unless open",
            None,
            MetricType::Gauge,
        )?;
        let seconds = snapshot.remaining.map_or(0.0, |left| left.as_secs_f64());
        encode_labelled(until, &labels, &ConstGauge::new(seconds))
    }
}

fn encode_labelled(
    mut metric: prometheus_client::encoding::MetricEncoder<'_>,
    labels: &[(&str, &str); 1],
    value: &impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    value.encode(metric.encode_family(labels)?)
}

/// The registry `/metrics` encodes: the breaker's collector, or nothing with `--no-breaker`.
pub fn registry(breaker: Option<&CircuitBreaker>) -> Registry {
    let mut registry = Registry::default();
    if let Some(breaker) = breaker {
        registry.register_collector(Box::new(BreakerCollector::new(breaker.clone())));
    }
    registry
}

/// The text of one scrape.
///
/// # Errors
///
/// Only if formatting fails, which writing to a `String` does not.
pub fn render(registry: &Registry) -> Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, registry)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::ManualClock;
    use std::time::Duration;

    #[test]
    fn a_scrape_reads_the_breaker_at_that_moment() {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(2)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        let registry = registry(Some(&cb));
        let before = render(&registry).expect("renders");
        assert!(
            before.contains("circuit_breaker_state{name=\"call_service_b\",state=\"closed\"} 1\n"),
            "{before}"
        );

        cb.try_acquire().expect("closed").failure("HTTP 500");
        cb.try_acquire().expect("closed").failure("HTTP 500");
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_millis(2_500));

        let text = render(&registry).expect("renders");
        for line in [
            "# TYPE circuit_breaker_state gauge",
            "circuit_breaker_state{name=\"call_service_b\",state=\"open\"} 1",
            "circuit_breaker_state{name=\"call_service_b\",state=\"closed\"} 0",
            "circuit_breaker_state{name=\"call_service_b\",state=\"half_open\"} 0",
            "# TYPE circuit_breaker_calls_total counter",
            "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"failed\"} 2",
            "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"rejected\"} 1",
            "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"successful\"} 0",
            "circuit_breaker_consecutive_failures{name=\"call_service_b\"} 2",
            "circuit_breaker_transitions_total{name=\"call_service_b\"} 1",
            "circuit_breaker_seconds_until_half_open{name=\"call_service_b\"} 7.5",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn without_a_breaker_a_scrape_is_empty() {
        assert_eq!(render(&registry(None)).expect("renders"), "");
    }
}
