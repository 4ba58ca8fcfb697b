//! The client stack: the tower layers around the HTTP call to B, in the order that makes each
//! one help rather than hurt.
//!
//! ```text
//! a call to B
//!  └▶ deadline              the whole call, retries and backoffs included
//!      └▶ retry             only transient failures; full-jitter backoff; a budget
//!          └▶ breaker       counts every attempt; refuses while Open; times each attempt
//!              └▶ bulkhead           a bounded number of calls in flight to B
//!                  └▶ attempt timeout        one attempt, body included
//!                      └▶ HTTP ─▶ B          no redirects; the body capped
//! ```
//!
//! A layer that is off (`none`, or one attempt) is left out; the order of the others holds.
//! Every layer passes on the same error, a [`CallError`], from the HTTP call up.

use std::sync::Arc;

use breaker::CircuitBreaker;
use reqwest::Url;
use tower::retry::RetryLayer;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder};

use super::attempt::{Limit, LimitLayer};
use super::backoff::Jitter;
use super::bulkhead::BulkheadLayer;
use super::counters::ClientCounters;
use super::error::CallError;
use super::guard::{Guard, GuardLayer};
use super::retry::RetryPolicy;
use super::settings::ClientSettings;
use crate::metrics::call_durations::CallDurations;

/// What the stack is built from besides the settings.
#[derive(Debug)]
pub(crate) struct Parts {
    /// The breaker, `None` with `--no-breaker`.
    pub(crate) breaker: Option<CircuitBreaker>,
    /// The bulkhead, `None` without `--max-concurrent`.
    pub(crate) bulkhead: Option<BulkheadLayer>,
    /// The backoffs' randomness.
    pub(crate) jitter: Jitter,
    /// Where the layers count.
    pub(crate) counters: Arc<ClientCounters>,
    /// Where each attempt's duration goes; `None` with `--no-breaker`.
    pub(crate) durations: Option<CallDurations>,
}

/// The stack around `http`, the service that makes one call to B.
pub(crate) fn build<S>(
    http: S,
    settings: &ClientSettings,
    parts: Parts,
) -> BoxCloneSyncService<Url, String, CallError>
where
    S: Service<Url, Response = String, Error = CallError> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let retry = settings.retry.is_on().then(|| {
        RetryLayer::new(
            RetryPolicy::new(&settings.retry, parts.jitter, parts.counters)
                .with_call_deadline(settings.call_deadline),
        )
    });
    let stack = ServiceBuilder::new()
        // Outermost: the caller's whole wait, retries and backoffs included, is bounded. Inside
        // it, a retry would extend the call without limit.
        .option_layer(
            settings
                .call_deadline
                .map(|after| LimitLayer::new(Limit::Call(after))),
        )
        // Outside the breaker, so every attempt asks the breaker first: once the circuit opens,
        // the next retry is rejected at once instead of hitting a failing B (no retry storm),
        // and the policy never retries a rejection. Inside the deadline, so retries stop
        // with it.
        .option_layer(retry)
        // Counts every attempt's outcome, and refuses calls while Open without touching the
        // layers below; times each attempt it sees, rejections included. Above the bulkhead,
        // so a full bulkhead is seen, and ignored: it says nothing about B's health.
        .option_layer(
            parts
                .breaker
                .map(|breaker| GuardLayer::new(Guard::new(breaker, parts.durations))),
        )
        // Limits calls in flight to B, not calls waiting on the breaker or a backoff: a
        // rejection or a sleeping retry takes no place. Outside the attempt timeout, so a
        // wait for a place does not eat into the attempt's time.
        .option_layer(parts.bulkhead)
        // Innermost: bounds one attempt, connection and body included, so a hung B frees its
        // place in the bulkhead, is recorded by the breaker as a failure naming the URL, and
        // can be retried.
        .layer(LimitLayer::new(Limit::Attempt(settings.request_timeout)))
        .service(http);
    BoxCloneSyncService::new(stack)
}

#[cfg(test)]
#[path = "stack_tests.rs"]
mod tests;
