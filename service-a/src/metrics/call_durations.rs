//! `circuit_breaker_calls_seconds{name, outcome}`: how long each attempt through the breaker
//! took, by the breaker's verdict on it.
//!
//! The breaker's own events carry a call's duration only when a slow-call threshold is set,
//! so the time is measured where the call is made instead: by a layer of the client stack
//! around the breaker (`upstream::guard`). There it sees every attempt the breaker sees,
//! retries included, and rejections too, which take microseconds: that gap, next to a failed
//! call's seconds, is what the breaker buys. Its `_count` by outcome matches
//! `circuit_breaker_calls_total`; an attempt cut short by the call's deadline counts in
//! neither, as the breaker counts a dropped call as nothing.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the duration histograms, in seconds: Prometheus's default buckets (5 ms to
/// 10 s) with four more below, because a rejection by the open circuit takes microseconds and
/// would otherwise vanish in the first bucket with everything under 5 ms.
pub const SECONDS_BUCKETS: [f64; 15] = [
    0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The breaker's verdict on one attempt, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The classifier called it a success.
    Successful,
    /// The classifier called it a failure.
    Failed,
    /// The classifier ignored it (a 4xx, a full bulkhead).
    Ignored,
    /// The breaker refused it without calling B.
    Rejected,
}

impl CallOutcome {
    /// In declaration order.
    const ALL: [CallOutcome; 4] = [
        CallOutcome::Successful,
        CallOutcome::Failed,
        CallOutcome::Ignored,
        CallOutcome::Rejected,
    ];

    /// The label value, the word `circuit_breaker_calls_total` uses too.
    pub const fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Successful => "successful",
            CallOutcome::Failed => "failed",
            CallOutcome::Ignored => "ignored",
            CallOutcome::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    name: Arc<str>,
    outcome: &'static str,
}

/// The histogram family, with a handle on each outcome's histogram so that recording an
/// attempt is one short lock of that histogram, with no lookup. Clones share the series.
#[derive(Debug, Clone)]
pub struct CallDurations {
    family: Family<CallLabels, Histogram, fn() -> Histogram>,
    by_outcome: [Histogram; 4],
}

impl CallDurations {
    /// The histograms of the breaker called `name`, every outcome at 0.
    pub fn new(name: &str) -> Self {
        let family: Family<CallLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(SECONDS_BUCKETS));
        let name: Arc<str> = name.into();
        let by_outcome = CallOutcome::ALL.map(|outcome| {
            family.get_or_create_owned(&CallLabels {
                name: name.clone(),
                outcome: outcome.as_str(),
            })
        });
        Self { family, by_outcome }
    }

    /// Records one attempt.
    pub fn record(&self, outcome: CallOutcome, seconds: f64) {
        // `ALL` lists the outcomes in declaration order: a discriminant is its index.
        self.by_outcome[outcome as usize].observe(seconds);
    }

    /// Adds the histograms to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "circuit_breaker_calls_seconds",
            "How long each attempt through the breaker took, by the breaker's verdict",
            self.family.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_records_into_its_own_series_and_all_start_at_zero() {
        for (index, outcome) in CallOutcome::ALL.into_iter().enumerate() {
            assert_eq!(outcome as usize, index, "{outcome:?}");
        }
        let durations = CallDurations::new("call_service_b");
        durations.record(CallOutcome::Failed, 2.0);
        durations.record(CallOutcome::Rejected, 0.000_02);
        durations.record(CallOutcome::Rejected, 0.000_03);
        let mut registry = Registry::default();
        durations.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .expect("renders");
        for line in [
            "# TYPE circuit_breaker_calls_seconds histogram",
            r#"circuit_breaker_calls_seconds_count{name="call_service_b",outcome="successful"} 0"#,
            r#"circuit_breaker_calls_seconds_count{name="call_service_b",outcome="ignored"} 0"#,
            r#"circuit_breaker_calls_seconds_count{name="call_service_b",outcome="failed"} 1"#,
            r#"circuit_breaker_calls_seconds_bucket{name="call_service_b",outcome="failed",le="1"} 0"#,
            r#"circuit_breaker_calls_seconds_bucket{name="call_service_b",outcome="failed",le="2.5"} 1"#,
            r#"circuit_breaker_calls_seconds_count{name="call_service_b",outcome="rejected"} 2"#,
            r#"circuit_breaker_calls_seconds_bucket{name="call_service_b",outcome="rejected",le="0.0001"} 2"#,
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
