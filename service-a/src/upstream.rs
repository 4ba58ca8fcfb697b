//! Service B as a client sees it: one pooled HTTP client, the `/api` URL, the timeout.

use std::time::Duration;

use reqwest::{Client, Url};

use crate::call_error::CallError;

/// The way to call service B's `/api`. Cheap to clone: the reqwest client is an `Arc` inside,
/// so every clone shares one connection pool.
#[derive(Debug, Clone)]
pub struct ServiceB {
    client: Client,
    api: Url,
    timeout: Duration,
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
}

impl ServiceB {
    /// A client for the service at `base`, waiting at most `timeout` for a whole answer.
    ///
    /// # Errors
    ///
    /// If `base` cannot take a path or reqwest cannot build a client.
    pub fn new(base: &Url, timeout: Duration) -> Result<Self, SetupError> {
        let client = Client::builder()
            // One deadline for connect, send and body, like `requests.get(..., timeout=3)`.
            .timeout(timeout)
            // B is called directly; an HTTP_PROXY meant for the outside world must not change
            // what a failure of B means.
            .no_proxy()
            .build()?;
        Ok(Self {
            client,
            api: api_url(base)?,
            timeout,
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

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET /api[?fail=..]`: B's body on a 1xx-3xx answer, otherwise what went wrong.
    ///
    /// # Errors
    ///
    /// A [`CallError`] for a 4xx/5xx status, a timeout, a refused connection or a broken
    /// answer.
    pub async fn get(&self, fail: Option<&str>) -> Result<String, CallError> {
        let url = self.url(fail);
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|err| CallError::from_reqwest(&err, &url, self.timeout))?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            // The body of an error is not read: the status says all the breaker needs.
            return Err(CallError::Status { status, url });
        }
        response
            .text()
            .await
            .map_err(|err| CallError::from_reqwest(&err, &url, self.timeout))
    }
}

/// `base` with `api` appended to its path: `http://b:5001` → `http://b:5001/api`,
/// `http://b/v1/` → `http://b/v1/api`. `Url::join` would drop a last segment without a slash.
fn api_url(base: &Url) -> Result<Url, SetupError> {
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

    fn service(base: &str) -> ServiceB {
        ServiceB::new(&Url::parse(base).expect("test URL"), Duration::from_secs(3))
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
        assert!(matches!(
            ServiceB::new(&base, Duration::from_secs(1)),
            Err(SetupError::NotABase(_))
        ));
    }
}
