//! The breaker's snapshot as metrics, read at scrape time.
//!
//! A [`Collector`] reads [`CircuitBreaker::snapshot`] on each scrape instead of mirroring
//! every call into counters of its own: the breaker already counts (per thread, without
//! locks), so there is one source of truth and nothing to keep in step.
//!
//! ```text
//! circuit_breaker_state{name="call_service_b",state="open"} 1        (one line per state)
//! circuit_breaker_calls_total{name="call_service_b",outcome="failed"} 3
//! circuit_breaker_slow_calls_total{name="call_service_b"} 0
//! circuit_breaker_consecutive_failures{name="call_service_b"} 3
//! circuit_breaker_seconds_until_half_open{name="call_service_b"} 9.5  (0 unless open)
//! circuit_breaker_failure_rate{name="call_service_b"} 60.0            (only with a window)
//! ```
//!
//! Slow calls have a counter of their own rather than an `outcome`: a slow call is also a
//! success or a failure, and `sum(circuit_breaker_calls_total)` must count each call once.

use breaker::{CircuitBreaker, State};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Every state a breaker can be in: the state gauge has one line for each (1 for the current
/// one), and the transitions counter a series for each pair.
pub(crate) const STATES: [State; 5] = [
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
            ("ignored", calls.ignored),
            ("rejected", calls.rejected),
        ] {
            let labels = [("name", name), ("outcome", outcome)];
            ConstCounter::new(count).encode(by_outcome.encode_family(&labels)?)?;
        }

        let mut one = OneSeries {
            encoder: &mut encoder,
            name,
        };
        one.counter(
            "circuit_breaker_slow_calls",
            "Calls (successful or failed) that took at least the slow-call threshold",
            calls.slow,
        )?;
        one.whole_gauge(
            "circuit_breaker_consecutive_failures",
            "Consecutive failures counted towards the failure threshold",
            i64::from(snapshot.consecutive_failures),
        )?;
        one.gauge(
            "circuit_breaker_seconds_until_half_open",
            "Seconds until the open circuit lets a probe through; 0 unless open",
            snapshot.remaining.map_or(0.0, |left| left.as_secs_f64()),
        )?;
        if let Some(rate) = snapshot.failure_rate {
            one.gauge(
                "circuit_breaker_failure_rate",
                "Failed calls in the sliding window, in percent; absent while it holds none",
                rate,
            )?;
        }
        if let Some(rate) = snapshot.slow_call_rate {
            one.gauge(
                "circuit_breaker_slow_call_rate",
                "Slow calls in the sliding window, in percent; absent while it holds none",
                rate,
            )?;
        }
        if let Some(probability) = snapshot.rejection_probability {
            one.gauge(
                "circuit_breaker_rejection_probability",
                "Probability, 0 to 1, that the adaptive throttle rejects a call now; absent \
                 without a throttle",
                probability,
            )?;
        }
        if let Some(held) = snapshot.window_calls {
            one.whole_gauge(
                "circuit_breaker_window_calls",
                "Calls the sliding window holds",
                i64::from(held),
            )?;
        }
        Ok(())
    }
}

/// Writes metrics that have one series, labelled with the breaker's name.
struct OneSeries<'a, 'e> {
    encoder: &'a mut DescriptorEncoder<'e>,
    name: &'a str,
}

impl OneSeries<'_, '_> {
    fn counter(&mut self, metric: &str, help: &str, value: u64) -> Result<(), std::fmt::Error> {
        self.write(metric, help, MetricType::Counter, &ConstCounter::new(value))
    }

    fn gauge(&mut self, metric: &str, help: &str, value: f64) -> Result<(), std::fmt::Error> {
        self.write(metric, help, MetricType::Gauge, &ConstGauge::new(value))
    }

    fn whole_gauge(&mut self, metric: &str, help: &str, value: i64) -> Result<(), std::fmt::Error> {
        self.write(metric, help, MetricType::Gauge, &ConstGauge::new(value))
    }

    fn write(
        &mut self,
        metric: &str,
        help: &str,
        kind: MetricType,
        value: &impl EncodeMetric,
    ) -> Result<(), std::fmt::Error> {
        let mut family = self.encoder.encode_descriptor(metric, help, None, kind)?;
        value.encode(family.encode_family(&[("name", self.name)])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breaker::{AdaptiveThrottle, ManualClock, SlidingWindow};
    use prometheus_client::registry::Registry;
    use std::time::Duration;

    fn render(cb: &CircuitBreaker) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(BreakerCollector::new(cb.clone())));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("renders");
        text
    }

    fn assert_lines(text: &str, lines: &[&str]) {
        for line in lines {
            assert!(
                text.lines().any(|l| l == *line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn a_scrape_reads_the_breaker_at_that_moment() {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::builder("call_service_b")
            .failure_threshold(2)
            .recovery_timeout(Duration::from_secs(10))
            .clock(clock.clone())
            .build()
            .expect("valid");
        assert_lines(
            &render(&cb),
            &["circuit_breaker_state{name=\"call_service_b\",state=\"closed\"} 1"],
        );

        cb.try_acquire().expect("closed").failure("HTTP 500");
        cb.try_acquire().expect("closed").failure("HTTP 500");
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_millis(2_500));

        let text = render(&cb);
        assert_lines(
            &text,
            &[
                "# TYPE circuit_breaker_state gauge",
                "circuit_breaker_state{name=\"call_service_b\",state=\"open\"} 1",
                "circuit_breaker_state{name=\"call_service_b\",state=\"closed\"} 0",
                "circuit_breaker_state{name=\"call_service_b\",state=\"half_open\"} 0",
                "# TYPE circuit_breaker_calls_total counter",
                "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"failed\"} 2",
                "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"rejected\"} 1",
                "circuit_breaker_calls_total{name=\"call_service_b\",outcome=\"successful\"} 0",
                "circuit_breaker_slow_calls_total{name=\"call_service_b\"} 0",
                "circuit_breaker_consecutive_failures{name=\"call_service_b\"} 2",
                "circuit_breaker_seconds_until_half_open{name=\"call_service_b\"} 7.5",
            ],
        );
        assert!(
            !text.contains("circuit_breaker_failure_rate"),
            "no window, no rate: {text}"
        );
    }

    #[test]
    fn the_throttles_rejection_probability_is_shown_with_a_throttle_only() {
        let plain = render(
            &CircuitBreaker::builder("call_service_b")
                .clock(ManualClock::new())
                .build()
                .expect("valid"),
        );
        assert!(!plain.contains("rejection_probability"), "{plain}");
        let cb = CircuitBreaker::builder("call_service_b")
            .without_failure_threshold()
            .adaptive_throttle(
                AdaptiveThrottle::new()
                    .minimum_requests(1)
                    .max_rejection(0.5),
            )
            .clock(ManualClock::new())
            .build()
            .expect("valid");
        assert_lines(
            &render(&cb),
            &["circuit_breaker_rejection_probability{name=\"call_service_b\"} 0.0"],
        );
        cb.try_acquire()
            .expect("below the minimum")
            .failure("HTTP 503");
        // Counted as a request whether the throttle admits it or not.
        if let Ok(permit) = cb.try_acquire() {
            permit.failure("HTTP 503");
        }
        assert_lines(
            &render(&cb),
            &["circuit_breaker_rejection_probability{name=\"call_service_b\"} 0.5"],
        );
    }

    #[test]
    fn the_rates_are_shown_while_the_window_holds_calls() {
        let cb = CircuitBreaker::builder("call_service_b")
            .without_failure_threshold()
            .failure_rate_threshold(50.0)
            .sliding_window(SlidingWindow::count(10))
            .minimum_calls(10)
            .clock(ManualClock::new())
            .build()
            .expect("valid");
        let empty = render(&cb);
        assert!(!empty.contains("circuit_breaker_failure_rate"), "{empty}");
        assert_lines(
            &empty,
            &["circuit_breaker_window_calls{name=\"call_service_b\"} 0"],
        );

        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").success();
        cb.try_acquire().expect("closed").failure("HTTP 500");
        assert_lines(
            &render(&cb),
            &[
                "circuit_breaker_failure_rate{name=\"call_service_b\"} 25.0",
                "circuit_breaker_window_calls{name=\"call_service_b\"} 4",
            ],
        );
    }
}
