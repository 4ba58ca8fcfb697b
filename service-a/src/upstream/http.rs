//! The innermost service: one `GET` to B's `/api` with reqwest. Redirects are not followed (a 3xx
//! is a failure) and the body is read as a stream, cut at the size cap, so a hostile or broken B
//! can neither bounce A around nor fill its memory.

use std::task::{Context, Poll};
use std::time::SystemTime;

use reqwest::{Client, Response, Url, redirect, retry};
use tower::Service;

use super::around::CallFuture;
use super::error::CallError;
use super::retry_after;

/// Idle connections to B kept for reuse; calls in flight are bounded by the bulkhead, and by
/// the server's connection limit in front of the handlers.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// One pooled client for B. Cheap to clone: the reqwest client is an `Arc` inside, so every
/// clone shares one connection pool.
#[derive(Debug, Clone)]
pub(crate) struct HttpCall {
    client: Client,
    max_response_bytes: u64,
}

impl HttpCall {
    /// A client accepting bodies of at most `max_response_bytes`.
    ///
    /// # Errors
    ///
    /// If reqwest cannot build its client.
    pub(crate) fn new(max_response_bytes: u64) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            // A redirect is an answer like any other, and not a good one: following it could
            // send A anywhere, A itself included (one request, thousands of calls).
            .redirect(redirect::Policy::none())
            // B is called directly; an HTTP_PROXY meant for the outside world must not change
            // what a failure of B means.
            .no_proxy()
            // Retries are the retry layer's to decide (and the breaker's to count). reqwest's own
            // policy retries only HTTP/2 and HTTP/3 refusals, never seen by this HTTP/1 client,
            // yet clones every request in case; with no retry allowed it clones nothing.
            .retry(retry::never().max_retries_per_request(0))
            .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
            // No timeout here: the per-attempt timeout layer bounds the whole call, body
            // included.
            .build()?;
        Ok(Self {
            client,
            max_response_bytes,
        })
    }

    /// `GET url`: B's body on a 2xx answer within the cap, otherwise what went wrong.
    ///
    /// # Errors
    ///
    /// A [`CallError`] for any other status, a body over the cap, a refused connection or a
    /// broken answer.
    pub(crate) async fn get(&self, url: Url) -> Result<String, CallError> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|err| CallError::from_reqwest(&err, &url))?;
        let status = response.status();
        if !status.is_success() {
            // The body of an error is not read: the status (and a Retry-After) says all the
            // breaker and the retry need.
            if let Some(retry_after) =
                retry_after::asked(status, response.headers(), SystemTime::now())
            {
                return Err(CallError::Throttled {
                    status,
                    url,
                    retry_after,
                });
            }
            return Err(CallError::Status { status, url });
        }
        read_capped(response, self.max_response_bytes, &url).await
    }
}

impl Service<Url> for HttpCall {
    type Response = String;
    type Error = CallError;
    type Future = CallFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The pool makes a connection when a call needs one.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, url: Url) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.get(url).await })
    }
}

/// The body, read chunk by chunk and given up as soon as it passes `limit` bytes (or declares a
/// length beyond it): at most `limit` bytes plus one chunk are ever held. Dropping the response
/// part-read closes its connection rather than returning it to the pool.
async fn read_capped(mut response: Response, limit: u64, url: &Url) -> Result<String, CallError> {
    let too_large = || CallError::TooLarge {
        limit,
        url: url.clone(),
    };
    let declared = response.content_length();
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    // Within the cap, so the allocation is bounded too.
    let mut body = Vec::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| CallError::from_reqwest(&err, url))?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    // B promises UTF-8 text; anything else is shown, not refused.
    Ok(String::from_utf8(body)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}
