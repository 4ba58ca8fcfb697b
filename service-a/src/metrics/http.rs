//! `http_server_request_duration_seconds{method, route, status}`: every request A answers,
//! timed from the moment the router hands it over to the moment the answer's head is ready
//! (for a streamed body, the stream's length is not included).
//!
//! Its `_count` is the number of requests, so there is no separate request counter. The labels
//! are bounded whatever clients send: `route` is the route's template as the router matched it
//! (`/call`, never `/call?fail=...`), `unmatched` for a path no route has; `method` is one of
//! the nine standard methods or `other`; `status` is a status code.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use pin_project_lite::pin_project;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

use super::call_durations::SECONDS_BUCKETS;

/// The `route` of a request no route matched (a 404): not a path, so it cannot be mistaken
/// for one.
pub const UNMATCHED: &str = "unmatched";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The request histogram. Clones share the series, so the middleware and the registry hold
/// the same one.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            durations: Family::new_with_constructor(|| Histogram::new(SECONDS_BUCKETS)),
        }
    }
}

impl HttpMetrics {
    /// Adds the histogram to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_server_request_duration_seconds",
            "Requests service A answered, by route template, method and status, with how long \
             each took to its answer's head",
            self.durations.clone(),
        );
    }
}

/// The middleware, as a tower layer: `Router::layer(metrics.layer())`. Applied with
/// `Router::layer`, it runs after routing, so the matched route is known.
///
/// A typed layer rather than `axum::middleware::from_fn`, which boxes the inner service and
/// its future on every request.
#[derive(Debug, Clone)]
pub struct RecordLayer {
    metrics: HttpMetrics,
}

impl HttpMetrics {
    /// The layer that times every request into this histogram.
    pub fn layer(&self) -> RecordLayer {
        RecordLayer {
            metrics: self.clone(),
        }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Record {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`RecordLayer`] wraps around the router's.
#[derive(Debug, Clone)]
pub struct Record<S> {
    inner: S,
    metrics: HttpMetrics,
}

impl<S> Service<Request> for Record<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = method_label(request.method());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str)
            .to_owned();
        Recorded {
            inner: self.inner.call(request),
            pending: Some(Pending {
                metrics: self.metrics.clone(),
                started,
                method,
                route,
            }),
        }
    }
}

/// What a request's observation needs once its answer's head is ready.
#[derive(Debug)]
struct Pending {
    metrics: HttpMetrics,
    started: Instant,
    method: &'static str,
    route: String,
}

pin_project! {
    /// The router's future, observed into the histogram when it yields the answer.
    #[derive(Debug)]
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        // The router answers every request (its errors are responses); an `Err` from a layer
        // below has no status to label, and is not counted.
        if let (Ok(response), Some(pending)) = (&result, this.pending.take()) {
            let labels = RequestLabels {
                method: pending.method,
                route: pending.route,
                status: response.status().as_u16(),
            };
            pending
                .metrics
                .durations
                .get_or_create(&labels)
                .observe(pending.started.elapsed().as_secs_f64());
        }
        Poll::Ready(result)
    }
}

/// The method's name, or `other` for an extension method: a client may send any token there.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::CONNECT, "CONNECT"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::TRACE, "TRACE"),
        (Method::PATCH, "PATCH"),
    ];
    STANDARD
        .iter()
        .find(|(standard, _)| standard == method)
        .map_or("other", |(_, name)| name)
}
