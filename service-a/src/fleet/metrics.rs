//! The `fleet_*` series of `/metrics`: the fleet's status, read at scrape time.
//!
//! ```text
//! fleet_connected{name="call_service_b",id="a-1:5000"} 1
//! fleet_replicas_live{name="call_service_b",id="a-1:5000"} 5
//! fleet_replicas_open{name="call_service_b",id="a-1:5000"} 0
//! fleet_quorum{name="call_service_b",id="a-1:5000"} 1
//! fleet_probe_holder{name="call_service_b",id="a-1:5000",holder="a-3:5000"} 1   (while one holds it)
//! ```

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use super::FleetMember;

/// The gauges read from the fleet's status, with their help, in the order `encode` reads them.
const GAUGES: [(&str, &str); 4] = [
    (
        "fleet_connected",
        "Whether Redis answered the last operation (1); while 0 the replica runs on its own breaker",
    ),
    (
        "fleet_replicas_live",
        "Live replicas of the fleet, this one included",
    ),
    (
        "fleet_replicas_open",
        "Live replicas whose circuit is open, this one included",
    ),
    (
        "fleet_quorum",
        "Distinct replicas whose failures or open circuits it takes to open the others",
    ),
];

/// Reports the fleet's status on each scrape.
#[derive(Debug)]
pub struct FleetCollector {
    fleet: FleetMember,
    name: Box<str>,
}

impl FleetCollector {
    /// A collector for `fleet`, labelled with the breaker's `name`.
    pub fn new(fleet: FleetMember, name: &str) -> Self {
        Self {
            fleet,
            name: name.into(),
        }
    }
}

impl Collector for FleetCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.fleet.status();
        let labels = [("name", &*self.name), ("id", status.id.as_str())];
        let values = [
            i64::from(status.connected),
            i64::from(status.replicas_live),
            i64::from(status.replicas_open),
            i64::from(status.quorum),
        ];
        for ((metric, help), value) in GAUGES.into_iter().zip(values) {
            let mut family = encoder.encode_descriptor(metric, help, None, MetricType::Gauge)?;
            ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
        }
        let mut holder = encoder.encode_descriptor(
            "fleet_probe_holder",
            "1 for the replica that holds the lease of the fleet's one probe; absent while none does",
            None,
            MetricType::Gauge,
        )?;
        if let Some(held_by) = status.probe_holder.as_deref() {
            let labels = [labels[0], labels[1], ("holder", held_by)];
            ConstGauge::new(1_i64).encode(holder.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
