//! `http_server_request_duration_seconds{method, route, status}`: every request A answers,
//! timed from the moment the router hands it over to the moment the answer's head is ready
//! (for a streamed body, the stream's length is not included).
//!
//! Its `_count` is the number of requests, so there is no separate request counter. The labels
//! are bounded whatever clients send: `route` is the route's template as the router matched it
//! (`/call`, never `/call?fail=...`), `unmatched` for a path no route has; `method` is one of
//! the nine standard methods or `other`; `status` is a status code.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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

/// The middleware: `Router::layer(axum::middleware::from_fn_with_state(metrics, record))`.
/// Applied with `Router::layer`, it runs after routing, so the matched route is known.
pub async fn record(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics
        .durations
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
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
