//! Open-loop load: requests leave on a fixed schedule, `rate` a second, however slowly the
//! answers come.
//!
//! A closed-loop generator (a fixed number of workers, each waiting for its answer before the
//! next request) slows down with the server, so an overloaded server sees less load and the
//! overload hides itself. Here request `k` is due at `k / rate` seconds from the start; if the
//! generator falls behind it catches up at once, so the arrivals keep their schedule. Requests
//! in flight are capped: one that is due while the cap is reached is counted as dropped, not
//! queued, so memory and sockets stay bounded however far the server falls behind.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Url};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use crate::load::drain;

/// The most requests one open-loop run schedules, as `--requests` allows at most.
pub(crate) const MAX_SCHEDULED: u64 = 1_000_000;

/// When each request is due: `count` requests, `rate` a second, the first at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    rate: u32,
    count: u64,
}

impl Schedule {
    /// `rate` a second until `requests` have been scheduled or `duration` has passed, whichever
    /// comes first (at least one of the two is given): the requests due before `duration` are
    /// those at `k / rate` < `duration`, so 100 a second for 1 s is exactly 100.
    pub(crate) fn new(
        rate: u32,
        requests: Option<u32>,
        duration: Option<Duration>,
    ) -> Result<Self, String> {
        if rate == 0 {
            return Err("--rate must be at least 1".to_owned());
        }
        let by_duration = duration.map(|duration| {
            // ceil(duration * rate), in nanoseconds; u128 cannot overflow for a day at 100,000/s.
            let due = (duration.as_nanos() * u128::from(rate)).div_ceil(1_000_000_000);
            u64::try_from(due).unwrap_or(u64::MAX)
        });
        let count = match (requests.map(u64::from), by_duration) {
            (Some(requests), Some(due)) => requests.min(due),
            (Some(requests), None) => requests,
            (None, Some(due)) => due,
            (None, None) => return Err("--rate needs --requests or --duration".to_owned()),
        };
        if count > MAX_SCHEDULED {
            return Err(format!(
                "--rate × --duration schedules {count} requests; at most {MAX_SCHEDULED}"
            ));
        }
        Ok(Self { rate, count })
    }

    /// Requests a second.
    pub(crate) fn rate(&self) -> u32 {
        self.rate
    }

    /// How many requests are scheduled.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// When request `k` is due, from the start.
    pub(crate) fn due(&self, k: u64) -> Duration {
        let nanos = u128::from(k) * 1_000_000_000 / u128::from(self.rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// One request that was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// When it was due, from the start.
    pub(crate) due: Duration,
    /// How late it left: how far the generator was behind its schedule.
    pub(crate) lag: Duration,
    /// The status, or `None` when no answer came.
    pub(crate) status: Option<u16>,
    /// From leaving to the whole answer read.
    pub(crate) took: Duration,
}

/// What an open-loop run came to.
#[derive(Debug, Default)]
pub(crate) struct RateOutcomes {
    /// The requests sent, in no particular order.
    pub(crate) sent: Vec<Sent>,
    /// When each dropped request was due, in order.
    pub(crate) dropped: Vec<Duration>,
    /// From the start to the last answer.
    pub(crate) elapsed: Duration,
}

/// Runs `schedule`, sending each request with `send` unless `max_in_flight` are already out,
/// and waits for every answer. `send` is the only I/O, so a test can pass a fake server.
pub(crate) async fn run<F, Fut>(schedule: Schedule, max_in_flight: u32, send: F) -> RateOutcomes
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<u16>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_in_flight as usize));
    let mut tasks = JoinSet::new();
    let mut outcomes = RateOutcomes::default();
    let start = Instant::now();
    for k in 0..schedule.count() {
        let due = schedule.due(k);
        sleep_until(start + due).await;
        // Collect what has finished, so finished tasks do not pile up in the set.
        while let Some(done) = tasks.try_join_next() {
            outcomes.sent.push(done.expect("a request task panicked"));
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            outcomes.dropped.push(due);
            continue;
        };
        let request = send();
        tasks.spawn(async move {
            let left = Instant::now();
            let status = request.await;
            drop(slot);
            Sent {
                due,
                lag: left.saturating_duration_since(start + due),
                status,
                took: left.elapsed(),
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        outcomes.sent.push(done.expect("a request task panicked"));
    }
    outcomes.elapsed = start.elapsed();
    outcomes
}

/// [`run`] against `url` over HTTP: one client, a connection per request in flight at most,
/// each request bounded by `timeout`.
pub(crate) async fn run_http(
    url: &Url,
    schedule: Schedule,
    max_in_flight: u32,
    timeout: Duration,
) -> Result<RateOutcomes, reqwest::Error> {
    let client = Client::builder()
        .timeout(timeout)
        .no_proxy()
        .pool_max_idle_per_host(max_in_flight as usize)
        .build()?;
    Ok(run(schedule, max_in_flight, || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            match client.get(url).send().await {
                Ok(response) => drain(response).await,
                Err(_) => None,
            }
        }
    })
    .await)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tokio::time::sleep;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A server that answers 200 after `took`, counting how many requests it holds at once.
    fn server(
        took: Duration,
        at_once: Arc<AtomicU32>,
        most: Arc<AtomicU32>,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Option<u16>> + Send>> {
        move || {
            let (at_once, most) = (at_once.clone(), most.clone());
            Box::pin(async move {
                let now = at_once.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                sleep(took).await;
                at_once.fetch_sub(1, Ordering::SeqCst);
                Some(200)
            })
        }
    }

    fn counters() -> (Arc<AtomicU32>, Arc<AtomicU32>) {
        (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)))
    }

    #[test]
    fn a_schedule_is_bounded_by_requests_or_duration_whichever_is_first() {
        let hundred = Schedule::new(100, None, Some(Duration::from_secs(1))).expect("valid");
        assert_eq!((hundred.rate(), hundred.count()), (100, 100));
        assert_eq!(hundred.due(0), Duration::ZERO);
        assert_eq!(hundred.due(99), ms(990));
        assert_eq!(
            Schedule::new(3, None, Some(Duration::from_secs(1))).map(|s| s.count()),
            Ok(3)
        );
        assert_eq!(
            Schedule::new(3, None, Some(ms(1))).map(|s| s.count()),
            Ok(1)
        );
        assert_eq!(
            Schedule::new(100, Some(40), Some(Duration::from_secs(1))).map(|s| s.count()),
            Ok(40)
        );
        assert_eq!(
            Schedule::new(100, Some(400), Some(Duration::from_secs(1))).map(|s| s.count()),
            Ok(100)
        );
        assert_eq!(Schedule::new(7, Some(5), None).map(|s| s.count()), Ok(5));
        assert_eq!(
            Schedule::new(3, None, None),
            Err("--rate needs --requests or --duration".to_owned())
        );
        let err =
            Schedule::new(100_000, None, Some(Duration::from_secs(11))).expect_err("too many");
        assert!(err.contains("1100000 requests; at most 1000000"), "{err}");
    }

    #[test]
    fn due_times_do_not_drift_at_rates_that_do_not_divide_a_second() {
        let third = Schedule::new(3, Some(7), None).expect("valid");
        assert_eq!(third.due(3), Duration::from_secs(1));
        assert_eq!(third.due(6), Duration::from_secs(2));
        assert_eq!(third.due(1), Duration::from_nanos(333_333_333));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hundred_a_second_for_one_second_sends_a_hundred_on_schedule() {
        let (at_once, most) = counters();
        let schedule = Schedule::new(100, None, Some(Duration::from_secs(1))).expect("valid");
        let outcomes = run(schedule, 10, server(ms(5), at_once, most.clone())).await;
        assert_eq!(outcomes.sent.len(), 100);
        assert!(outcomes.dropped.is_empty());
        let mut due: Vec<Duration> = outcomes.sent.iter().map(|sent| sent.due).collect();
        due.sort();
        assert_eq!(due, (0..100).map(|k| ms(10 * k)).collect::<Vec<_>>());
        for sent in &outcomes.sent {
            assert_eq!(
                (sent.lag, sent.status, sent.took),
                (Duration::ZERO, Some(200), ms(5))
            );
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert_eq!(outcomes.elapsed, ms(995));
    }

    #[tokio::test(start_paused = true)]
    async fn the_schedule_does_not_wait_for_slow_answers() {
        let (at_once, most) = counters();
        let schedule = Schedule::new(100, Some(100), None).expect("valid");
        let outcomes = run(schedule, 1_000, server(ms(500), at_once, most.clone())).await;
        assert_eq!(outcomes.sent.len(), 100);
        assert!(outcomes.dropped.is_empty());
        // A closed loop would have waited; here the requests pile up at the server.
        assert_eq!(most.load(Ordering::SeqCst), 50);
        assert!(outcomes.sent.iter().all(|sent| sent.lag.is_zero()));
        assert_eq!(outcomes.elapsed, ms(990 + 500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_server_fills_the_in_flight_cap_and_requests_due_then_are_dropped() {
        let (at_once, most) = counters();
        let schedule = Schedule::new(100, None, Some(Duration::from_secs(1))).expect("valid");
        let outcomes = run(
            schedule,
            10,
            server(Duration::from_secs(1), at_once, most.clone()),
        )
        .await;
        assert_eq!(outcomes.sent.len(), 10);
        assert_eq!(most.load(Ordering::SeqCst), 10);
        assert_eq!(
            outcomes.dropped,
            (10..100).map(|k| ms(10 * k)).collect::<Vec<_>>()
        );
    }

    /// Over real HTTP on loopback, against a server that answers every request `200 ok`.
    #[tokio::test]
    async fn run_http_sends_the_schedule_to_a_loopback_server_and_reads_each_answer() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    // GETs without a body: one request per header block; a read buffer of a
                    // few KiB bounds what a connection may hold.
                    let mut buffer = vec![0; 4096];
                    let mut filled = 0;
                    loop {
                        let Ok(read) = stream.read(&mut buffer[filled..]).await else {
                            return;
                        };
                        if read == 0 {
                            return;
                        }
                        filled += read;
                        while let Some(end) =
                            buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n")
                        {
                            buffer.copy_within(end + 4..filled, 0);
                            filled -= end + 4;
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                        if filled == buffer.len() {
                            return;
                        }
                    }
                });
            }
        });
        let url = Url::parse(&format!("http://{address}/api")).expect("URL");
        let schedule = Schedule::new(50, Some(20), None).expect("valid");
        let outcomes = run_http(&url, schedule, 10, Duration::from_secs(5))
            .await
            .expect("client");
        server.abort();
        assert_eq!(outcomes.sent.len(), 20);
        assert!(outcomes.dropped.is_empty());
        assert!(
            outcomes.sent.iter().all(|sent| sent.status == Some(200)),
            "{:?}",
            outcomes.sent
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_freed_by_an_answer_is_used_by_the_next_request_due() {
        let (at_once, most) = counters();
        // One at a time, answers after 25 ms, a request due every 10 ms: every third is sent.
        let schedule = Schedule::new(100, Some(9), None).expect("valid");
        let outcomes = run(schedule, 1, server(ms(25), at_once, most)).await;
        let mut due: Vec<Duration> = outcomes.sent.iter().map(|sent| sent.due).collect();
        due.sort();
        assert_eq!(due, vec![ms(0), ms(30), ms(60)]);
        assert_eq!(
            outcomes.dropped,
            vec![ms(10), ms(20), ms(40), ms(50), ms(70), ms(80)]
        );
    }
}
