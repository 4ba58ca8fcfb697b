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

use crate::upstream::{BREAKER_NAME, ServiceB};

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
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let settings = self.service_b.settings();
        let counts = self.service_b.counts();
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
                    counts
                        .bulkhead_limit
                        .and_then(|limit| i64::try_from(limit).ok())
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
