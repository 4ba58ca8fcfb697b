//! The JSON summary of a run: counts by status and latency percentiles.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::load::Outcome;
use crate::percentile::{nearest_rank_ms, round};
use crate::series::RateReport;

/// `{"requests":100,"seconds":2.01,"statuses":{"200":90,"503":10},"latency_ms":{...},
/// "by_status":{"503":{"p50":0.4,...}}}`; the key `error` counts requests with no answer. With
/// `--rate`, [`RateReport`]'s fields follow: the rate, requests dropped, and a series by second.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    requests: usize,
    seconds: f64,
    statuses: BTreeMap<String, usize>,
    latency_ms: Latency,
    by_status: BTreeMap<String, Latency>,
    #[serde(flatten)]
    rate: Option<RateReport>,
}

/// Latency percentiles, in milliseconds (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Latency {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl Summary {
    pub(crate) fn new(results: &[Outcome], elapsed: Duration) -> Self {
        let mut by_status: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
        for (status, took) in results {
            let key = status.map_or_else(|| "error".to_owned(), |code| code.to_string());
            by_status.entry(key).or_default().push(*took);
        }
        let all: Vec<Duration> = results.iter().map(|(_, took)| *took).collect();
        Self {
            requests: results.len(),
            seconds: round(elapsed.as_secs_f64(), 1000.0),
            statuses: by_status
                .iter()
                .map(|(key, times)| (key.clone(), times.len()))
                .collect(),
            latency_ms: Latency::of(all),
            by_status: by_status
                .into_iter()
                .map(|(key, times)| (key, Latency::of(times)))
                .collect(),
            rate: None,
        }
    }

    /// This summary with an open-loop run's report after it.
    pub(crate) fn with_rate(self, report: RateReport) -> Self {
        Self {
            rate: Some(report),
            ..self
        }
    }
}

impl Latency {
    fn of(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        let at = |percent: usize| -> f64 {
            if times.is_empty() {
                return 0.0;
            }
            nearest_rank_ms(&times, percent)
        };
        Self {
            p50: at(50),
            p95: at(95),
            p99: at(99),
            max: at(100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn counts_by_status_with_no_answer_as_error_and_nearest_rank_percentiles() {
        let mut results: Vec<Outcome> = (1..=98).map(|n| (Some(200), ms(n))).collect();
        results.push((Some(503), ms(1000)));
        results.push((None, ms(2000)));
        let summary = Summary::new(&results, Duration::from_millis(2_500));
        let json = serde_json::to_value(&summary).expect("serializes");
        assert_eq!(json["requests"], 100);
        assert_eq!(json["seconds"], 2.5);
        assert_eq!(
            json["statuses"],
            serde_json::json!({"200": 98, "503": 1, "error": 1})
        );
        assert_eq!(
            json["latency_ms"],
            serde_json::json!({"p50": 50.0, "p95": 95.0, "p99": 1000.0, "max": 2000.0})
        );
        assert_eq!(json["by_status"]["503"]["max"], 1000.0);
    }

    #[test]
    fn no_results_make_zeros_not_a_panic() {
        let summary = Summary::new(&[], Duration::ZERO);
        assert_eq!(summary.latency_ms.max, 0.0);
    }
}
