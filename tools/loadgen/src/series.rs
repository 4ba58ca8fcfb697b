//! An open-loop run second by second, so a script can plot goodput over time.

use std::time::Duration;

use serde::Serialize;

use crate::percentile::{nearest_rank_ms, round};
use crate::rate::{RateOutcomes, Sent};

/// What `--rate` adds to the summary: `{"rate":100,"dropped":0,"max_lag_ms":0.4,
/// "series":[...]}`.
#[derive(Debug, Serialize)]
pub(crate) struct RateReport {
    /// The requests a second asked for.
    rate: u32,
    /// Requests due while the in-flight cap was reached, and so not sent.
    dropped: usize,
    /// The furthest behind its schedule the generator sent a request: when it is a good part
    /// of a second, the generator (not the server) was the bottleneck and the figures say so.
    max_lag_ms: f64,
    /// One entry a second from the first request due to the last, empty seconds included.
    series: Vec<Second>,
}

/// One second of the run, by when each request was due (so an answer that came later still
/// counts in the second its request left).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Second {
    /// Seconds from the start: this entry covers [second, second + 1).
    second: u64,
    /// Requests sent.
    sent: usize,
    /// Answered 2xx.
    #[serde(rename = "2xx")]
    ok: usize,
    /// Answered 5xx.
    #[serde(rename = "5xx")]
    server_errors: usize,
    /// Sent but neither 2xx nor 5xx: no answer (refused, timed out, broken off) or another
    /// status.
    errors: usize,
    /// Due but not sent: the in-flight cap was reached.
    dropped: usize,
    /// Latency of the 2xx answers, in milliseconds (nearest rank); `null` with none.
    p50_ms: Option<f64>,
    /// As `p50_ms`.
    p99_ms: Option<f64>,
}

impl RateReport {
    pub(crate) fn new(rate: u32, outcomes: &RateOutcomes) -> Self {
        Self {
            rate,
            dropped: outcomes.dropped.len(),
            max_lag_ms: round(
                outcomes
                    .sent
                    .iter()
                    .map(|sent| sent.lag)
                    .max()
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1000.0,
                10.0,
            ),
            series: series(&outcomes.sent, &outcomes.dropped),
        }
    }
}

fn series(sent: &[Sent], dropped: &[Duration]) -> Vec<Second> {
    let last = sent
        .iter()
        .map(|sent| sent.due)
        .chain(dropped.iter().copied())
        .max();
    let Some(last) = last else {
        return Vec::new();
    };
    // A schedule holds at most a million requests, at least one a second: as many seconds at
    // most, so the casts to an index are lossless.
    let seconds = last.as_secs() as usize + 1;
    let mut buckets: Vec<(Second, Vec<Duration>)> = (0..seconds)
        .map(|second| {
            let second = Second {
                second: second as u64,
                sent: 0,
                ok: 0,
                server_errors: 0,
                errors: 0,
                dropped: 0,
                p50_ms: None,
                p99_ms: None,
            };
            (second, Vec::new())
        })
        .collect();
    let index = |due: Duration| due.as_secs() as usize;
    for sent in sent {
        let (second, ok_times) = &mut buckets[index(sent.due)];
        second.sent += 1;
        match sent.status {
            Some(200..=299) => {
                second.ok += 1;
                ok_times.push(sent.took);
            }
            Some(500..=599) => second.server_errors += 1,
            _ => second.errors += 1,
        }
    }
    for due in dropped {
        buckets[index(*due)].0.dropped += 1;
    }
    buckets
        .into_iter()
        .map(|(mut second, mut ok_times)| {
            if !ok_times.is_empty() {
                ok_times.sort_unstable();
                second.p50_ms = Some(nearest_rank_ms(&ok_times, 50));
                second.p99_ms = Some(nearest_rank_ms(&ok_times, 99));
            }
            second
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sent(due_ms: u64, status: Option<u16>, took_ms: u64) -> Sent {
        Sent {
            due: ms(due_ms),
            lag: Duration::ZERO,
            status,
            took: ms(took_ms),
        }
    }

    #[test]
    fn each_second_counts_by_when_requests_were_due_with_empty_seconds_kept() {
        let mut all: Vec<Sent> = (1..=100).map(|n| sent(n * 5, Some(200), n)).collect();
        all.push(sent(900, Some(503), 1));
        all.push(sent(2_100, Some(500), 1));
        all.push(sent(2_200, None, 30_000));
        all.push(sent(2_300, Some(404), 1));
        all.push(Sent {
            lag: ms(12),
            ..sent(2_400, Some(204), 7)
        });
        let outcomes = RateOutcomes {
            sent: all,
            dropped: vec![ms(2_500), ms(2_600)],
            elapsed: ms(32_200),
        };
        let report = serde_json::to_value(RateReport::new(40, &outcomes)).expect("serializes");
        assert_eq!(
            report,
            json!({
                "rate": 40,
                "dropped": 2,
                "max_lag_ms": 12.0,
                "series": [
                    {"second": 0, "sent": 101, "2xx": 100, "5xx": 1, "errors": 0, "dropped": 0,
                     "p50_ms": 50.0, "p99_ms": 99.0},
                    {"second": 1, "sent": 0, "2xx": 0, "5xx": 0, "errors": 0, "dropped": 0,
                     "p50_ms": null, "p99_ms": null},
                    {"second": 2, "sent": 4, "2xx": 1, "5xx": 1, "errors": 2, "dropped": 2,
                     "p50_ms": 7.0, "p99_ms": 7.0},
                ]
            })
        );
    }

    #[test]
    fn a_run_with_nothing_due_has_no_seconds() {
        let report = RateReport::new(5, &RateOutcomes::default());
        assert!(report.series.is_empty());
        assert_eq!(report.max_lag_ms, 0.0);
    }
}
