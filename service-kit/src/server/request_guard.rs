//! What every request is held to before the router sees it: an HTTP/1.1 request names its
//! host, and a request body arrives in time.
//!
//! A body gets two timers, both tower-http's: [`TimeoutBody`] (`--header-timeout`) between
//! pieces, and [`DeadlineBody`] (`--body-timeout`) for the whole, started when the head has
//! been read, so a client sending a byte every few seconds holds its connection no longer than
//! the body timeout. Either one running out fails the body, whichever extractor reads it; this
//! layer then answers 408 with the JSON error body and closes the connection, whatever answer
//! the handler made of the failed read. A request without a body (a `GET`) gets no timer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{CONNECTION, HOST, HeaderValue};
use axum::http::{Request, StatusCode, Version};
use axum::response::Response;
use http_body_util::BodyExt;
use pin_project_lite::pin_project;
use tower::{BoxError, Layer, Service};
use tower_http::timeout::{DeadlineBody, TimeoutBody, TimeoutError};

use crate::error_body::refusal;

/// The message of the 400 for an HTTP/1.1 request without exactly one `Host` header.
pub const MISSING_HOST: &str = "an HTTP/1.1 request needs exactly one Host header";

/// Wraps the router in [`RequestGuard`].
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestGuardLayer {
    header_timeout: Duration,
    body_timeout: Duration,
}

impl RequestGuardLayer {
    /// `header_timeout` between pieces of a body, `body_timeout` for the whole.
    pub(super) fn new(header_timeout: Duration, body_timeout: Duration) -> Self {
        Self {
            header_timeout,
            body_timeout,
        }
    }
}

impl<S> Layer<S> for RequestGuardLayer {
    type Service = RequestGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestGuard {
            inner,
            limits: *self,
        }
    }
}

/// See the [module](self) docs.
#[derive(Debug, Clone)]
pub(super) struct RequestGuard<S> {
    inner: S,
    limits: RequestGuardLayer,
}

impl<S, B> Service<Request<B>> for RequestGuard<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !names_its_host(&request) {
            return ResponseFuture::Refused {
                response: Some(refusal(StatusCode::BAD_REQUEST, MISSING_HOST.to_owned())),
            };
        }
        if request.body().is_end_stream() {
            return ResponseFuture::Plain {
                inner: self.inner.call(request.map(Body::new)),
            };
        }
        let expired = Arc::new(Expired::default());
        let limits = self.limits;
        let request = request.map(|body| timed(body, limits, &expired));
        ResponseFuture::Timed {
            inner: self.inner.call(request),
            expired,
            limits,
        }
    }
}

/// RFC 9112, 3.2: an HTTP/1.1 request carries exactly one `Host`; HTTP/1.0 may omit it.
fn names_its_host<B>(request: &Request<B>) -> bool {
    request.version() != Version::HTTP_11 || request.headers().get_all(HOST).iter().count() == 1
}

/// Which of a body's timers ran out, if one did.
#[derive(Debug, Default)]
struct Expired(AtomicU8);

impl Expired {
    const PAUSE: u8 = 1;
    const WHOLE: u8 = 2;

    /// Records `which` unless a timer was recorded already.
    fn record(&self, which: u8) {
        let _ = self
            .0
            .compare_exchange(0, which, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// `body` under both timers; a timer running out is recorded in `expired` as the body fails.
fn timed<B>(body: B, limits: RequestGuardLayer, expired: &Arc<Expired>) -> Body
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let on_pause = Arc::clone(expired);
    let paced = TimeoutBody::new(limits.header_timeout, body).map_err(move |err| {
        if err.is::<TimeoutError>() {
            on_pause.record(Expired::PAUSE);
        }
        err
    });
    let on_whole = Arc::clone(expired);
    let whole = DeadlineBody::new(limits.body_timeout, paced).map_err(move |err| {
        if err.is::<TimeoutError>() {
            on_whole.record(Expired::WHOLE);
        }
        err
    });
    Body::new(whole)
}

/// The 408 for a body whose timer ran out; `Connection: close`, since the rest of the body
/// will not be read.
fn too_slow(which: u8, limits: RequestGuardLayer) -> Response {
    let message = if which == Expired::PAUSE {
        format!(
            "request body paused longer than {} (--header-timeout)",
            humantime::format_duration(limits.header_timeout)
        )
    } else {
        format!(
            "request body not received within {} (--body-timeout)",
            humantime::format_duration(limits.body_timeout)
        )
    };
    let mut response = refusal(StatusCode::REQUEST_TIMEOUT, message);
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

pin_project! {
    /// [`RequestGuard`]'s answer: its own refusal, or the router's (replaced by a 408 when a
    /// body timer ran out).
    #[project = Projected]
    pub(super) enum ResponseFuture<F> {
        Refused { response: Option<Response> },
        Plain { #[pin] inner: F },
        Timed { #[pin] inner: F, expired: Arc<Expired>, limits: RequestGuardLayer },
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("a future is not polled after it completed"))),
            Projected::Plain { inner } => inner.poll(cx),
            Projected::Timed {
                inner,
                expired,
                limits,
            } => {
                let response = ready!(inner.poll(cx))?;
                match expired.0.load(Ordering::Relaxed) {
                    0 => Poll::Ready(Ok(response)),
                    which => Poll::Ready(Ok(too_slow(which, *limits))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    const PAUSE: Duration = Duration::from_secs(10);
    const WHOLE: Duration = Duration::from_secs(30);

    fn guarded() -> RequestGuard<Router> {
        let app = Router::new().route(
            "/body",
            post(|body: String| async move { body.len().to_string() }),
        );
        RequestGuardLayer::new(PAUSE, WHOLE).layer(app)
    }

    /// A body of `pieces` bytes, one every `every`.
    fn trickle(pieces: usize, every: Duration) -> Body {
        Body::from_stream(futures_util::stream::unfold(
            pieces,
            move |left| async move {
                if left == 0 {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok::<_, Infallible>(Bytes::from_static(b"x")), left - 1))
            },
        ))
    }

    async fn status_and_body(response: Response) -> (StatusCode, String, Option<HeaderValue>) {
        let connection = response.headers().get(CONNECTION).cloned();
        let (status, body) = crate::test_support::status_and_text(response).await;
        (status, body, connection)
    }

    fn post_body(body: Body) -> Request<Body> {
        Request::post("/body")
            .header(HOST, "test")
            .body(body)
            .expect("request")
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_trickling_within_the_pause_but_past_the_whole_is_a_408_that_closes() {
        // A piece every 5 s never trips the 10 s pause, but 10 pieces take 50 s.
        let response = guarded()
            .oneshot(post_body(trickle(10, Duration::from_secs(5))))
            .await
            .expect("infallible");
        let (status, body, connection) = status_and_body(response).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            body,
            r#"{"status":"error","message":"request body not received within 30s (--body-timeout)"}"#
        );
        assert_eq!(connection, Some(HeaderValue::from_static("close")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_pauses_too_long_is_a_408_naming_the_header_timeout() {
        let response = guarded()
            .oneshot(post_body(trickle(1, Duration::from_secs(11))))
            .await
            .expect("infallible");
        let (status, body, _) = status_and_body(response).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(
            body.contains("paused longer than 10s (--header-timeout)"),
            "{body}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_within_both_timers_is_read_whole() {
        let response = guarded()
            .oneshot(post_body(trickle(5, Duration::from_secs(5))))
            .await
            .expect("infallible");
        let (status, body, connection) = status_and_body(response).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "5"));
        assert_eq!(connection, None);
    }

    #[tokio::test]
    async fn an_http_1_1_request_needs_exactly_one_host() {
        for hosts in [&[][..], &["a", "b"][..]] {
            let mut request = Request::post("/body")
                .body(Body::from("x"))
                .expect("request");
            for host in hosts {
                request
                    .headers_mut()
                    .append(HOST, HeaderValue::from_static(host));
            }
            let response = guarded().oneshot(request).await.expect("infallible");
            let (status, body, _) = status_and_body(response).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{hosts:?}");
            assert_eq!(
                body,
                format!(r#"{{"status":"error","message":"{MISSING_HOST}"}}"#)
            );
        }
        let old = Request::post("/body")
            .version(Version::HTTP_10)
            .body(Body::from("abc"))
            .expect("request");
        let response = guarded().oneshot(old).await.expect("infallible");
        assert_eq!(
            status_and_body(response).await.1,
            "3",
            "HTTP/1.0 may omit it"
        );
    }
}
