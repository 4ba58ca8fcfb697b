//! [`LimitLayer`]: a time limit that ends in a [`CallError`] naming the URL. The stack uses it
//! twice: around one attempt (`timed out after 3s calling <url>`, which the breaker records
//! and the retry may retry) and around the whole call (`call deadline of 5s exceeded calling
//! <url>`). tower's own `Timeout` answers a bare `Elapsed` in a boxed error, which every layer
//! above would have to open again to know what happened.

use std::future::Future;
use std::time::Duration;

use reqwest::Url;

use super::around::{AroundCall, AroundLayer, CallFuture};
use super::error::CallError;

/// Which limit: what the [`CallError`] says when it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// One attempt, from connecting to the body's last byte: [`CallError::Timeout`].
    Attempt(Duration),
    /// The whole call, retries and backoffs included: [`CallError::Deadline`].
    Call(Duration),
}

impl Limit {
    fn after(self) -> Duration {
        match self {
            Limit::Attempt(after) | Limit::Call(after) => after,
        }
    }

    fn passed(self, url: Url) -> CallError {
        match self {
            Limit::Attempt(after) => CallError::Timeout { after, url },
            Limit::Call(after) => CallError::Deadline { after, url },
        }
    }
}

/// Ends each call of the service it wraps at its [`Limit`]. Holds no shared state.
pub(crate) type LimitLayer = AroundLayer<Limit>;

impl AroundCall for Limit {
    fn around<F>(&self, url: Url, call: impl FnOnce(Url) -> F) -> CallFuture
    where
        F: Future<Output = Result<String, CallError>> + Send + 'static,
    {
        let limit = *self;
        // The timer starts here, as tower's `Timeout` starts it: a wait inside counts.
        let answer = tokio::time::timeout(limit.after(), call(url.clone()));
        Box::pin(async move { answer.await.unwrap_or_else(|_| Err(limit.passed(url))) })
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;
    use tower::{Layer, Service, ServiceExt, service_fn};

    use super::*;

    fn api() -> Url {
        Url::parse("http://127.0.0.1:5001/api").expect("test URL")
    }

    /// A service answering `answer` after `delay`.
    fn after(
        delay: Duration,
        answer: Result<String, CallError>,
    ) -> impl Service<Url, Response = String, Error = CallError, Future: Send> {
        service_fn(move |_url: Url| {
            let answer = answer.clone();
            async move {
                tokio::time::sleep(delay).await;
                answer
            }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_past_its_limit_is_a_timeout_naming_the_url() {
        let after_limit = Duration::from_millis(250);
        let limited = LimitLayer::new(Limit::Attempt(after_limit))
            .layer(after(Duration::from_secs(60), Ok("late".to_owned())));
        assert_eq!(
            limited.oneshot(api()).await,
            Err(CallError::Timeout {
                after: after_limit,
                url: api()
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_limit_is_a_deadline_naming_the_url() {
        let limited = LimitLayer::new(Limit::Call(Duration::from_secs(5)))
            .layer(after(Duration::from_secs(60), Ok("late".to_owned())));
        let err = limited.oneshot(api()).await.expect_err("too late");
        assert_eq!(
            err.to_string(),
            "call deadline of 5s exceeded calling http://127.0.0.1:5001/api"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_within_the_limit_passes_unchanged() {
        let refused = CallError::Status {
            status: StatusCode::NOT_FOUND,
            url: api(),
        };
        let limited = LimitLayer::new(Limit::Attempt(Duration::from_secs(1)))
            .layer(after(Duration::from_millis(999), Err(refused.clone())));
        assert_eq!(limited.oneshot(api()).await, Err(refused));
        let limited = LimitLayer::new(Limit::Call(Duration::from_secs(1)))
            .layer(after(Duration::ZERO, Ok("fine".to_owned())));
        assert_eq!(limited.oneshot(api()).await.as_deref(), Ok("fine"));
    }
}
