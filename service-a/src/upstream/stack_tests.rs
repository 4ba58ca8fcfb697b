//! The whole stack on a paused clock, with a fake B: the layer order, rule by rule.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use breaker::{ManualClock, State};
use reqwest::StatusCode;
use tokio::time::Instant;
use tower::ServiceExt;

use super::*;
use crate::profile::Profile;
use crate::upstream::settings::{BulkheadSettings, RetrySettings};

fn api() -> Url {
    Url::parse("http://127.0.0.1:5001/api").expect("test URL")
}

fn settings() -> ClientSettings {
    ClientSettings {
        profile: Profile::Production,
        call_deadline: None,
        retry: RetrySettings {
            attempts: 3,
            backoff: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            budget: None,
        },
        // The article's breaker: three failures in a row open it for 10 s.
        breaker: ClientSettings::ARTICLE.breaker,
        bulkhead: None,
        request_timeout: Duration::from_secs(1),
        max_response_bytes: 1024,
    }
}

/// A fake B: answers each attempt with `answer(n)` (n from 0) after `delay`, and notes when
/// each attempt arrived.
#[derive(Clone)]
struct FakeB {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    answer: Arc<dyn Fn(u32) -> Result<String, CallError> + Send + Sync>,
    delay: Duration,
    attempts: Arc<AtomicU32>,
}

impl FakeB {
    fn new(
        delay: Duration,
        answer: impl Fn(u32) -> Result<String, CallError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            arrivals: Arc::default(),
            answer: Arc::new(answer),
            delay,
            attempts: Arc::default(),
        }
    }

    fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::SeqCst)
    }

    fn gaps(&self) -> Vec<Duration> {
        let arrivals = self.arrivals.lock().expect("lock");
        arrivals.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn service(
        &self,
    ) -> impl Service<Url, Response = String, Error = CallError, Future: Send>
    + Clone
    + Send
    + Sync
    + use<> {
        let fake = self.clone();
        tower::service_fn(move |_url: Url| {
            let fake = fake.clone();
            async move {
                fake.arrivals.lock().expect("lock").push(Instant::now());
                let n = fake.attempts.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(fake.delay).await;
                (fake.answer)(n)
            }
        })
    }
}

fn status(code: u16) -> CallError {
    CallError::Status {
        status: StatusCode::from_u16(code).expect("status"),
        url: api(),
    }
}

struct Built {
    stack: BoxCloneSyncService<Url, String, CallError>,
    breaker: Option<CircuitBreaker>,
    counters: Arc<ClientCounters>,
}

impl Built {
    async fn call(&self) -> Result<String, CallError> {
        self.stack.clone().oneshot(api()).await
    }

    fn breaker(&self) -> &CircuitBreaker {
        self.breaker.as_ref().expect("a breaker")
    }
}

fn build_with(fake: &FakeB, settings: ClientSettings, jitter: Jitter) -> Built {
    let counters = Arc::new(ClientCounters::default());
    let breaker = settings.breaker.map(|b| {
        b.builder()
            .clock(ManualClock::new())
            .build()
            .expect("valid")
    });
    let bulkhead = settings.bulkhead.map(|b| {
        let limiter = b.adaptive_limiter().transpose().expect("valid");
        BulkheadLayer::new(b, limiter, counters.clone())
    });
    let parts = Parts {
        breaker: breaker.clone(),
        bulkhead,
        jitter,
        counters: counters.clone(),
        durations: None,
    };
    Built {
        stack: build(fake.service(), &settings, parts),
        breaker,
        counters,
    }
}

#[tokio::test(start_paused = true)]
async fn retries_wait_full_jitter_backoffs_that_double() {
    let fake = FakeB::new(Duration::ZERO, |n| match n {
        0 | 1 => Err(status(503)),
        _ => Ok("Service B: Success".to_owned()),
    });
    let mut settings = settings();
    settings.breaker = None;
    let stack = build_with(&fake, settings, Jitter::fixed(0.5));

    assert_eq!(stack.call().await.as_deref(), Ok("Service B: Success"));
    // Half of each ceiling: 50 ms, then 100 ms.
    assert_eq!(
        fake.gaps(),
        [Duration::from_millis(25), Duration::from_millis(50)]
    );
    assert_eq!(stack.counters.snapshot().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn every_attempt_goes_through_the_breaker_and_a_rejection_is_not_retried() {
    let fake = FakeB::new(Duration::ZERO, |_| Err(status(503)));
    let stack = build_with(&fake, settings(), Jitter::fixed(0.0));

    assert_eq!(stack.call().await, Err(status(503)));
    assert_eq!(fake.attempts(), 3, "one call, three attempts");
    assert_eq!(stack.breaker().snapshot().calls.failed, 3);
    assert_eq!(stack.breaker().state(), State::Open);

    let err = stack.call().await.expect_err("open");
    assert!(matches!(err, CallError::Rejected(_)), "{err}");
    assert_eq!(fake.attempts(), 3, "the rejection reached no one");
    assert_eq!(stack.counters.snapshot().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn a_500_and_a_404_are_answered_after_one_attempt() {
    for code in [500, 404] {
        let fake = FakeB::new(Duration::ZERO, move |_| Err(status(code)));
        let stack = build_with(&fake, settings(), Jitter::fixed(0.0));
        assert_eq!(stack.call().await, Err(status(code)));
        assert_eq!(fake.attempts(), 1, "{code}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_attempt_times_out_is_recorded_and_retried() {
    let fake = FakeB::new(Duration::from_secs(60), |_| Ok("late".to_owned()));
    let mut settings = settings();
    settings.retry.attempts = 2;
    let stack = build_with(&fake, settings, Jitter::fixed(0.0));

    let timeout = CallError::Timeout {
        after: Duration::from_secs(1),
        url: api(),
    };
    assert_eq!(stack.call().await, Err(timeout.clone()));
    assert_eq!(fake.attempts(), 2);
    let snapshot = stack.breaker().snapshot();
    assert_eq!(snapshot.calls.failed, 2);
    assert_eq!(snapshot.last_failure, Some(timeout.to_string()));
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_the_call_even_in_the_middle_of_an_attempt() {
    let fake = FakeB::new(Duration::from_secs(60), |_| Ok("late".to_owned()));
    let mut settings = settings();
    settings.call_deadline = Some(Duration::from_millis(2_500));
    let stack = build_with(&fake, settings, Jitter::fixed(0.0));

    let started = Instant::now();
    let err = stack.call().await.expect_err("too slow");
    assert_eq!(
        err.to_string(),
        "call deadline of 2s 500ms exceeded calling http://127.0.0.1:5001/api"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(2_500));
    // Attempts at 0 s, 1 s and 2 s; the third was cut and counts as nothing.
    assert_eq!(fake.attempts(), 3);
    assert_eq!(stack.breaker().snapshot().calls.failed, 2);
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_is_ignored_by_the_breaker_and_not_retried() {
    let fake = FakeB::new(Duration::from_millis(500), |_| Ok("slow".to_owned()));
    let mut settings = settings();
    settings.bulkhead = Some(BulkheadSettings {
        max_concurrent: 1,
        wait: Duration::ZERO,
        adaptive: None,
    });
    let stack = Arc::new(build_with(&fake, settings, Jitter::fixed(0.0)));

    let first = tokio::spawn({
        let stack = stack.clone();
        async move { stack.call().await }
    });
    while fake.attempts() == 0 {
        tokio::task::yield_now().await;
    }
    let err = stack.call().await.expect_err("full");
    assert_eq!(
        err.to_string(),
        "bulkhead full: 1 call to service B already in flight"
    );
    assert_eq!(first.await.expect("task").as_deref(), Ok("slow"));
    assert_eq!(fake.attempts(), 1);
    let calls = stack.breaker().snapshot().calls;
    assert_eq!((calls.successful, calls.ignored, calls.failed), (1, 1, 0));
    let counts = stack.counters.snapshot();
    assert_eq!((counts.bulkhead_rejected, counts.retries), (1, 0));
}
