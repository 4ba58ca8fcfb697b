//! The client stack's own counts as metrics: retries and the bulkhead, read at scrape time
//! from [`ServiceB::counts`], which the layers keep as they work.
//!
//! A layer that is off has no series: `retry_*` needs `--retry-attempts` above 1, `bulkhead_*`
//! needs `--max-concurrent` (both on in the production profile).
//!
//! ```text
//! retry_attempts_total{name="call_service_b"} 12
//! retry_budget_refused_total{name="call_service_b"} 0
//! bulkhead_in_flight{name="call_service_b"} 3
//! bulkhead_max_concurrent{name="call_service_b"} 32
//! bulkhead_limit{name="call_service_b"} 32
//! bulkhead_rejected_total{name="call_service_b"} 68
//! ```

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::upstream::{BREAKER_NAME, ClientCounts, ClientSettings, ServiceB};

/// Reports the retry and bulkhead layers of one client stack on each scrape.
#[derive(Debug)]
pub struct ClientCollector {
    service_b: ServiceB,
}

impl ClientCollector {
    /// A collector for `service_b`'s stack (a clone: the same stack and counters).
    pub fn new(service_b: ServiceB) -> Self {
        Self { service_b }
    }
}

impl Collector for ClientCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        encode(encoder, self.service_b.settings(), &self.service_b.counts())
    }
}

/// The series of a stack with `settings` that has counted `counts`.
fn encode(
    mut encoder: DescriptorEncoder,
    settings: &ClientSettings,
    counts: &ClientCounts,
) -> Result<(), std::fmt::Error> {
    if settings.retry.is_on() {
        write(
            &mut encoder,
            "retry_attempts",
            "Attempts made after a failed one: the retries",
            MetricType::Counter,
            &ConstCounter::new(counts.retries),
        )?;
        write(
            &mut encoder,
            "retry_budget_refused",
            "Retries the policy wanted and the retry budget refused",
            MetricType::Counter,
            &ConstCounter::new(counts.retries_refused_by_budget),
        )?;
    }
    if let (Some(bulkhead), Some(in_flight)) = (settings.bulkhead, counts.bulkhead_in_flight) {
        write(
            &mut encoder,
            "bulkhead_in_flight",
            "Calls to the backend in flight through the bulkhead",
            MetricType::Gauge,
            &ConstGauge::new(i64::try_from(in_flight).unwrap_or(i64::MAX)),
        )?;
        write(
            &mut encoder,
            "bulkhead_max_concurrent",
            "The most calls the bulkhead lets be in flight at once",
            MetricType::Gauge,
            &ConstGauge::new(i64::try_from(bulkhead.max_concurrent).unwrap_or(i64::MAX)),
        )?;
        write(
            &mut encoder,
            "bulkhead_limit",
            "The most calls the bulkhead lets be in flight now: max_concurrent, or the adaptive limit's current value",
            MetricType::Gauge,
            &ConstGauge::new(
                i64::try_from(counts.bulkhead_limit_or(bulkhead.max_concurrent))
                    .unwrap_or(i64::MAX),
            ),
        )?;
        write(
            &mut encoder,
            "bulkhead_rejected",
            "Calls the full bulkhead refused without calling the backend",
            MetricType::Counter,
            &ConstCounter::new(counts.bulkhead_rejected),
        )?;
    }
    Ok(())
}

fn write(
    encoder: &mut DescriptorEncoder<'_>,
    metric: &str,
    help: &str,
    kind: MetricType,
    value: &impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(metric, help, None, kind)?;
    value.encode(family.encode_family(&[("name", BREAKER_NAME)])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    /// A stack's settings and counts as they were at one scrape.
    #[derive(Debug)]
    struct Scraped {
        settings: ClientSettings,
        counts: ClientCounts,
    }

    impl Collector for Scraped {
        fn encode(&self, encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
            encode(encoder, &self.settings, &self.counts)
        }
    }

    /// The `bulkhead_limit` line of the production profile's stack with `limit` reported.
    fn limit_line(limit: Option<u64>) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Scraped {
            settings: ClientSettings::PRODUCTION,
            counts: ClientCounts {
                bulkhead_in_flight: Some(0),
                bulkhead_limit: limit,
                ..ClientCounts::default()
            },
        }));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("renders");
        text.lines()
            .find(|line| line.starts_with("bulkhead_limit{"))
            .unwrap_or_else(|| panic!("no bulkhead_limit in\n{text}"))
            .to_owned()
    }

    #[test]
    fn the_limit_gauge_shows_the_limit_reported_or_else_max_concurrent() {
        assert_eq!(
            limit_line(Some(7)),
            r#"bulkhead_limit{name="call_service_b"} 7"#
        );
        assert_eq!(
            limit_line(None),
            r#"bulkhead_limit{name="call_service_b"} 32"#
        );
    }
}
