//! The retry policy for tower's `Retry`: which failed attempts are tried again, after how long,
//! and how many, within a budget.
//!
//! Only transient failures are retried ([`CallError::is_retryable`]): connection errors,
//! per-attempt timeouts and 502/503/504. Never B's deterministic 500, a 4xx, or a refusal by
//! the breaker or the bulkhead: those would fail again, and retrying a rejection would defeat
//! the breaker. Each retry waits a [`FullJitter`] backoff and must be allowed by the budget,
//! tower's [`TpsBudget`]: retries at most the given share of recent calls (the last 10 s), plus
//! one a second so that a quiet client can still retry. The budget is what stops a retry storm
//! when B fails everything: three attempts per call would triple its load.
//!
//! When B answers 503 or 429 with a `Retry-After` ([`CallError::Throttled`]), the next attempt
//! waits at least that long; when that wait would pass the call's deadline, there is no next
//! attempt (counted as skipped), and the call fails at once with B's answer. The breaker has
//! recorded the failure either way: it sits below this layer.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::time::{Instant, Sleep};
use tower::retry::Policy;
use tower::retry::budget::{Budget, TpsBudget};

use super::backoff::{FullJitter, Jitter};
use super::counters::ClientCounters;
use super::error::CallError;
use super::settings::RetrySettings;

/// How far back the budget counts calls.
const BUDGET_WINDOW: Duration = Duration::from_secs(10);
/// Retries the budget allows each second whatever the traffic.
const BUDGET_MIN_PER_SECOND: u32 = 1;

/// One call's retry state; tower clones a fresh one from the stack's for every call.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    retries_left: u32,
    /// Whether this call has paid into the budget yet (once, on its first attempt).
    deposited: bool,
    backoff: FullJitter,
    budget: Option<Arc<TpsBudget>>,
    counters: Arc<ClientCounters>,
    /// The whole call's deadline, `None` for none.
    call_deadline: Option<Duration>,
    /// When this call began, stamped by `clone_request` before its first attempt.
    call_started: Option<Instant>,
}

impl RetryPolicy {
    /// A policy with `settings`, drawing backoffs from `jitter`, counting in `counters`.
    pub(crate) fn new(
        settings: &RetrySettings,
        jitter: Jitter,
        counters: Arc<ClientCounters>,
    ) -> Self {
        let budget = settings.budget.map(|share| {
            Arc::new(TpsBudget::new(
                BUDGET_WINDOW,
                BUDGET_MIN_PER_SECOND,
                share.fraction(),
            ))
        });
        Self {
            retries_left: settings.attempts.saturating_sub(1),
            deposited: false,
            backoff: FullJitter::new(settings.backoff, settings.backoff_max, jitter),
            budget,
            counters,
            call_deadline: None,
            call_started: None,
        }
    }

    /// The policy for calls bounded by `call_deadline`: a retry B's `Retry-After` would push
    /// past it is not made.
    pub(crate) fn with_call_deadline(mut self, call_deadline: Option<Duration>) -> Self {
        self.call_deadline = call_deadline;
        self
    }

    /// Whether waiting `wait` from now would reach the call's deadline.
    fn passes_deadline(&self, wait: Duration) -> bool {
        let (Some(deadline), Some(started)) = (self.call_deadline, self.call_started) else {
            return false;
        };
        started.elapsed().saturating_add(wait) >= deadline
    }

    /// Whether the budget allows one more retry (and takes it).
    fn budget_allows(&self) -> bool {
        self.budget.as_ref().is_none_or(|budget| budget.withdraw())
    }
}

impl Policy<Url, String, CallError> for RetryPolicy {
    type Future = Sleep;

    fn retry(&mut self, _url: &mut Url, result: &mut Result<String, CallError>) -> Option<Sleep> {
        if !std::mem::replace(&mut self.deposited, true)
            && let Some(budget) = &self.budget
        {
            budget.deposit();
        }
        let Err(err) = result else {
            return None;
        };
        if !err.is_retryable() || self.retries_left == 0 {
            return None;
        }
        let asked = err.retry_after();
        if asked.is_some_and(|wait| self.passes_deadline(wait)) {
            self.counters.retry_skipped_for_retry_after();
            return None;
        }
        if !self.budget_allows() {
            self.counters.retry_refused_by_budget();
            return None;
        }
        self.retries_left -= 1;
        self.counters.retried();
        let backoff = self.backoff.next_wait();
        Some(tokio::time::sleep(
            asked.map_or(backoff, |wait| wait.max(backoff)),
        ))
    }

    fn clone_request(&mut self, url: &Url) -> Option<Url> {
        // tower's `Retry` calls this on the service's own policy before the first attempt, then
        // copies that policy into the call's future, where `retry` runs (and sets `deposited`)
        // and this is called again before each retry: so the stamp is the call's start.
        if !self.deposited {
            self.call_started = Some(Instant::now());
        }
        Some(url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag_value::Percent;
    use crate::upstream::BulkheadFull;
    use reqwest::StatusCode;

    fn api() -> Url {
        Url::parse("http://127.0.0.1:5001/api").expect("test URL")
    }

    fn settings(attempts: u32, budget: Option<u8>) -> RetrySettings {
        RetrySettings {
            attempts,
            backoff: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            budget: budget.and_then(Percent::new),
        }
    }

    fn failed(status: u16) -> Result<String, CallError> {
        Err(CallError::Status {
            status: StatusCode::from_u16(status).expect("status"),
            url: api(),
        })
    }

    /// Runs the policy over a call whose every attempt fails with `status`: the retries made.
    fn retries_of(mut policy: RetryPolicy, status: u16) -> u32 {
        let mut retries = 0;
        while policy.retry(&mut api(), &mut failed(status)).is_some() {
            retries += 1;
            assert!(retries <= 10, "runaway");
        }
        retries
    }

    #[tokio::test]
    async fn a_503_is_retried_until_the_attempts_run_out() {
        let counters = Arc::new(ClientCounters::default());
        let policy = RetryPolicy::new(&settings(3, None), Jitter::fixed(0.0), counters.clone());
        assert_eq!(retries_of(policy.clone(), 503), 2);
        assert_eq!(
            retries_of(policy, 504),
            2,
            "a fresh clone for the next call"
        );
        assert_eq!(counters.snapshot().retries, 4);
    }

    #[tokio::test]
    async fn successes_500s_4xx_and_refusals_are_never_retried() {
        let counters = Arc::new(ClientCounters::default());
        let policy = RetryPolicy::new(&settings(3, None), Jitter::fixed(0.0), counters.clone());
        for status in [500, 501, 400, 404, 408, 429, 302] {
            assert_eq!(retries_of(policy.clone(), status), 0, "{status}");
        }
        assert!(
            policy
                .clone()
                .retry(&mut api(), &mut Ok("fine".to_owned()))
                .is_none()
        );
        let full = CallError::BulkheadFull(BulkheadFull::new(32, Duration::ZERO));
        assert!(policy.clone().retry(&mut api(), &mut Err(full)).is_none());
        assert_eq!(counters.snapshot().retries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_allows_its_share_of_calls_plus_one_a_second() {
        let counters = Arc::new(ClientCounters::default());
        let policy = RetryPolicy::new(&settings(3, Some(20)), Jitter::fixed(0.0), counters.clone());
        // 100 calls, every attempt failing with 503: without a budget, 200 retries.
        let retries: u32 = (0..100).map(|_| retries_of(policy.clone(), 503)).sum();
        // 20 % of 100 calls, plus the reserve of one a second over the 10 s window.
        assert!((20..=35).contains(&retries), "{retries} retries");
        let counts = counters.snapshot();
        assert_eq!(u64::from(retries), counts.retries);
        assert!(counts.retries_refused_by_budget >= 80, "{counts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_budget_every_call_retries_all_it_may() {
        let counters = Arc::new(ClientCounters::default());
        let policy = RetryPolicy::new(&settings(3, None), Jitter::fixed(0.0), counters.clone());
        let retries: u32 = (0..100).map(|_| retries_of(policy.clone(), 503)).sum();
        assert_eq!(retries, 200);
        assert_eq!(counters.snapshot().retries_refused_by_budget, 0);
    }

    fn throttled(status: u16, seconds: u64) -> Result<String, CallError> {
        Err(CallError::Throttled {
            status: StatusCode::from_u16(status).expect("status"),
            url: api(),
            retry_after: Duration::from_secs(seconds),
        })
    }

    /// A policy for one call under `deadline`, as tower's `Retry` sets it up: `clone_request`
    /// on the stack's policy, then a copy for the call.
    fn one_call(deadline: Option<Duration>, counters: &Arc<ClientCounters>) -> RetryPolicy {
        let mut policy = RetryPolicy::new(&settings(3, None), Jitter::fixed(0.0), counters.clone())
            .with_call_deadline(deadline);
        policy.clone_request(&api());
        policy.clone()
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_that_would_pass_the_deadline_is_not_retried_and_is_counted() {
        let counters = Arc::new(ClientCounters::default());
        let mut policy = one_call(Some(Duration::from_secs(5)), &counters);
        assert!(
            policy
                .retry(&mut api(), &mut throttled(503, 3600))
                .is_none()
        );
        // 5 s exactly would reach the deadline too.
        let mut policy = one_call(Some(Duration::from_secs(5)), &counters);
        assert!(policy.retry(&mut api(), &mut throttled(503, 5)).is_none());
        let counts = counters.snapshot();
        assert_eq!(counts.retries_skipped_for_retry_after, 2);
        assert_eq!(counts.retries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn time_already_spent_counts_against_the_deadline() {
        let counters = Arc::new(ClientCounters::default());
        let mut policy = one_call(Some(Duration::from_secs(5)), &counters);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(policy.retry(&mut api(), &mut throttled(503, 2)).is_none());
        let mut fresh = one_call(Some(Duration::from_secs(5)), &counters);
        assert!(fresh.retry(&mut api(), &mut throttled(503, 2)).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_waits_at_least_what_b_asked_for() {
        let counters = Arc::new(ClientCounters::default());
        let mut policy = one_call(Some(Duration::from_secs(5)), &counters);
        let wait = policy
            .retry(&mut api(), &mut throttled(503, 2))
            .expect("retried");
        assert!(wait.deadline() >= Instant::now() + Duration::from_secs(2));
        // A 429 asking for a wait is retried too, and without a deadline any wait is honoured.
        let mut policy = one_call(None, &counters);
        let wait = policy
            .retry(&mut api(), &mut throttled(429, 3600))
            .expect("retried");
        assert_eq!(wait.deadline(), Instant::now() + Duration::from_secs(3600));
        assert_eq!(counters.snapshot().retries, 2);
        assert_eq!(counters.snapshot().retries_skipped_for_retry_after, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_call_start_is_stamped_once_per_call_not_per_retry() {
        let counters = Arc::new(ClientCounters::default());
        let mut policy = one_call(Some(Duration::from_secs(5)), &counters);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(policy.retry(&mut api(), &mut failed(503)).is_some());
        // Before the retry, tower clones the request again on the call's own policy.
        policy.clone_request(&api());
        tokio::time::advance(Duration::from_secs(1)).await;
        // 2 s spent: a 3 s wait would reach the 5 s deadline.
        assert!(policy.retry(&mut api(), &mut throttled(503, 3)).is_none());
    }
}
