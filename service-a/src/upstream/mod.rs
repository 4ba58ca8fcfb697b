//! Service B as a client sees it: the `/api` URL, the client stack around the HTTP call, and
//! [`CallError`], everything that can go wrong with a call, with what each failure says about B.
//!
//! | file | what it holds |
//! |---|---|
//! | `stack` | the tower layers in their order, each with why it sits there |
//! | `error` | [`CallError`], its texts, the breaker's verdict and which failures are retried |
//! | `http` | the innermost service: reqwest, no redirects, the body capped |
//! | `around` | the tower plumbing of the layers that act around each call: the limits and the guard |
//! | `attempt` | the attempt timeout and the call deadline, each ending in a `CallError` naming the URL |
//! | `guard` | the breaker around each attempt, and each attempt's duration by its verdict, for `/metrics` |
//! | `retry`, `backoff` | the retry policy and budget; full-jitter exponential backoff |
//! | `retry_after` | B's `Retry-After` on a 503 or 429, read as a wait |
//! | `bulkhead` | calls in flight to B bounded, the excess refused |
//! | `overtaken` | the calls a later call overtook, which free their place in the adaptive limit |
//! | `counters` | what the layers count: retries, budget refusals, bulkhead refusals |
//! | `settings` | every layer's settings, resolved from the flags |

mod around;
mod attempt;
mod backoff;
mod bulkhead;
mod counters;
mod error;
mod guard;
mod http;
mod overtaken;
mod retry;
mod retry_after;
mod settings;
mod stack;

use std::sync::Arc;

use breaker::CircuitBreaker;
use reqwest::Url;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

pub use backoff::{FullJitter, Jitter};
pub use bulkhead::BulkheadFull;
pub use counters::{ClientCounters, ClientCounts};
pub use error::{CallError, classify};
pub(crate) use settings::millis;
pub use settings::{
    ADAPTIVE_FLOOR_INTERVAL, ADAPTIVE_FLOOR_SAMPLES, ADAPTIVE_LIMIT, ADAPTIVE_MAX_LIMIT,
    AdaptiveLimitSettings, BREAKER_NAME, BULKHEAD_WAIT, BreakerSettings, BulkheadSettings,
    ClientSettings, RetrySettings, THROTTLE_MAX_REJECTION, THROTTLE_MINIMUM_REQUESTS,
    THROTTLE_WINDOW, ThrottleSettings,
};

use crate::metrics::call_durations::CallDurations;
use bulkhead::BulkheadLayer;
use http::HttpCall;

/// The way to call service B's `/api` through the client stack. Cheap to clone, and clones
/// share everything: the connection pool, the breaker, the bulkhead, the budget, the counters.
#[derive(Debug, Clone)]
pub struct ServiceB {
    stack: BoxCloneSyncService<Url, String, CallError>,
    api: Url,
    settings: Arc<ClientSettings>,
    bulkhead: Option<BulkheadLayer>,
    counters: Arc<ClientCounters>,
    durations: Option<CallDurations>,
}

/// Why a [`ServiceB`] could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The base URL cannot take a path (e.g. `mailto:`); config parsing refuses those already.
    #[error("service B's URL {0} cannot have a path appended")]
    NotABase(Url),
    /// reqwest could not build its client.
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The adaptive limit's bounds cannot work; the flags' check refuses those already.
    #[error("the adaptive limit: {0}")]
    AdaptiveLimit(#[from] breaker::ConfigError),
    /// The fleet's settings cannot work; the flags' check refuses those already.
    #[error("the fleet: {0}")]
    Fleet(#[from] breaker_fleet::ConfigError),
}

impl ServiceB {
    /// A client for the service at `base`, with `settings` and `breaker` (`None` with
    /// `--no-breaker`), drawing its backoffs from `jitter`.
    ///
    /// # Errors
    ///
    /// If `base` cannot take a path or reqwest cannot build a client.
    pub fn new(
        base: &Url,
        settings: ClientSettings,
        breaker: Option<CircuitBreaker>,
        jitter: Jitter,
    ) -> Result<Self, SetupError> {
        let api = api_url(base)?;
        let http = HttpCall::new(settings.max_response_bytes)?;
        let counters = Arc::new(ClientCounters::default());
        let bulkhead = match settings.bulkhead {
            Some(bulkhead) => {
                let limiter = bulkhead.adaptive_limiter().transpose()?;
                Some(BulkheadLayer::new(bulkhead, limiter, counters.clone()))
            }
            None => None,
        };
        let durations = breaker.as_ref().map(|cb| CallDurations::new(cb.name()));
        let parts = stack::Parts {
            breaker,
            bulkhead: bulkhead.clone(),
            jitter,
            counters: counters.clone(),
            durations: durations.clone(),
        };
        Ok(Self {
            stack: stack::build(http, &settings, parts),
            api,
            settings: Arc::new(settings),
            bulkhead,
            counters,
            durations,
        })
    }

    /// The URL of one call: `/api`, with `fail` as a properly encoded query parameter when the
    /// client gave one (so `true&x=1` stays one value), and no query at all when it did not.
    pub fn url(&self, fail: Option<&str>) -> Url {
        let mut url = self.api.clone();
        if let Some(fail) = fail {
            url.query_pairs_mut().append_pair("fail", fail);
        }
        url
    }

    /// Every layer's settings.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// What the layers have counted, and the calls in flight through the bulkhead and its limit.
    pub fn counts(&self) -> ClientCounts {
        ClientCounts {
            bulkhead_in_flight: self
                .bulkhead
                .as_ref()
                .map(|bulkhead| bulkhead.in_flight() as u64),
            bulkhead_limit: self
                .bulkhead
                .as_ref()
                .map(|bulkhead| bulkhead.limit() as u64),
            ..self.counters.snapshot()
        }
    }

    /// How long each attempt through the breaker took, by its verdict; `None` with
    /// `--no-breaker`.
    pub fn call_durations(&self) -> Option<&CallDurations> {
        self.durations.as_ref()
    }

    /// `GET url` through the stack: B's body, or what went wrong.
    ///
    /// The call runs in the caller's task: if the returned future is dropped, so is the call
    /// (see [`AppState::call_service_b`](crate::AppState::call_service_b) for a call that runs
    /// to its end whatever the client does).
    ///
    /// # Errors
    ///
    /// A [`CallError`]: B's failure, a refusal by the breaker or the bulkhead, or the deadline.
    pub async fn call(&self, url: Url) -> Result<String, CallError> {
        self.stack.clone().oneshot(url).await
    }
}

/// `base` with `api` appended to its path: `http://b:5001` → `http://b:5001/api`,
/// `http://b/v1/` → `http://b/v1/api`. `Url::join` would drop a last segment without a slash.
pub fn api_url(base: &Url) -> Result<Url, SetupError> {
    let mut api = base.clone();
    api.set_query(None);
    api.set_fragment(None);
    api.path_segments_mut()
        .map_err(|()| SetupError::NotABase(base.clone()))?
        .pop_if_empty()
        .push("api");
    Ok(api)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    fn service(base: &str) -> ServiceB {
        let settings = Settings::default().client().clone();
        ServiceB::new(
            &Url::parse(base).expect("test URL"),
            settings,
            None,
            Jitter::random(),
        )
        .expect("client builds")
    }

    #[test]
    fn api_is_appended_to_the_base_path() {
        for (base, api) in [
            ("http://127.0.0.1:5001", "http://127.0.0.1:5001/api"),
            ("http://127.0.0.1:5001/", "http://127.0.0.1:5001/api"),
            ("http://b/v1", "http://b/v1/api"),
            ("http://b/v1/", "http://b/v1/api"),
        ] {
            assert_eq!(service(base).url(None).as_str(), api, "{base}");
        }
    }

    #[test]
    fn fail_is_one_encoded_query_parameter_or_absent() {
        let b = service("http://127.0.0.1:5001");
        assert_eq!(
            b.url(Some("true")).as_str(),
            "http://127.0.0.1:5001/api?fail=true"
        );
        assert_eq!(
            b.url(Some("true&x=1")).as_str(),
            "http://127.0.0.1:5001/api?fail=true%26x%3D1"
        );
        assert_eq!(
            b.url(Some("a b/é")).as_str(),
            "http://127.0.0.1:5001/api?fail=a+b%2F%C3%A9"
        );
        assert_eq!(b.url(Some("")).as_str(), "http://127.0.0.1:5001/api?fail=");
        assert_eq!(b.url(None).query(), None);
    }

    #[test]
    fn a_url_that_cannot_take_a_path_is_refused() {
        let base = Url::parse("mailto:b@example.com").expect("test URL");
        let settings = Settings::default().client().clone();
        assert!(matches!(
            ServiceB::new(&base, settings, None, Jitter::random()),
            Err(SetupError::NotABase(_))
        ));
    }
}
