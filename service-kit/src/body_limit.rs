//! A route's cap on request bodies, checked twice: a declared `Content-Length` over it is
//! refused at once, 413 with the JSON error body, before a byte of the body is read; a body
//! sent without a length is cut at the cap as it arrives (axum's [`DefaultBodyLimit`]), and
//! the route's extractor answers 413 (a service's own rejection type makes that JSON too).
//!
//! ```
//! use axum::{Router, routing::post};
//! use service_kit::body_limit::limited;
//!
//! let app: Router = Router::new().route("/mode", limited(post(|body: String| async { body }), 1024));
//! ```

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::MethodRouter;

use crate::error_body::refusal;

/// `route` with request bodies capped at `max` bytes.
pub fn limited<S>(route: MethodRouter<S>, max: usize) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route
        .layer(DefaultBodyLimit::max(max))
        .layer(from_fn_with_state(max, refuse_declared_over))
}

/// The body length `headers` declare, when over `max`: for a handler that checks something
/// else first (a token, say) and the length before reading the body.
pub fn declared_over(headers: &HeaderMap, max: usize) -> Option<u64> {
    // A length that is not a number never gets here: hyper refuses it before any route.
    let declared = headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse::<u64>()
        .ok()?;
    (declared > max as u64).then_some(declared)
}

/// 413 for a request whose `Content-Length` is over `max`; any other goes on.
async fn refuse_declared_over(State(max): State<usize>, request: Request, next: Next) -> Response {
    match declared_over(request.headers(), max) {
        Some(length) => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body of {length} bytes is over this route's limit of {max} bytes"),
        ),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    use crate::test_support::status_and_text;

    fn app() -> Router {
        Router::new().route(
            "/mode",
            limited(
                post(|body: String| async move { body.len().to_string() }),
                16,
            ),
        )
    }

    async fn answer(request: axum::http::Request<Body>) -> (StatusCode, String) {
        status_and_text(app().oneshot(request).await.expect("infallible")).await
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_without_reading_the_body() {
        // The body never ends: reading any of it would hang the test.
        let never = Body::from_stream(futures_util::stream::pending::<
            Result<Vec<u8>, std::io::Error>,
        >());
        let request = axum::http::Request::post("/mode")
            .header(CONTENT_LENGTH, "1000000")
            .body(never)
            .expect("request");
        let (status, body) = answer(request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body,
            r#"{"status":"error","message":"request body of 1000000 bytes is over this route's limit of 16 bytes"}"#
        );
    }

    #[tokio::test]
    async fn a_body_at_the_cap_is_read_and_one_without_a_length_is_cut_there() {
        let at_cap = axum::http::Request::post("/mode")
            .header(CONTENT_LENGTH, "16")
            .body(Body::from("x".repeat(16)))
            .expect("request");
        assert_eq!(answer(at_cap).await, (StatusCode::OK, "16".to_owned()));

        let chunks =
            futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(b"xxxx".to_vec())));
        let streamed = axum::http::Request::post("/mode")
            .body(Body::from_stream(chunks))
            .expect("request");
        assert_eq!(answer(streamed).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
