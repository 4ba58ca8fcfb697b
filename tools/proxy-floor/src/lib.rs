//! The floor under service A: the least a proxy in front of service B can do, so that what a
//! request costs the HTTP stack is measured apart from what service A adds to it.
//!
//! Every `GET` (any path) makes one call to B's `/api` and answers it in service A's shape,
//! `{"status":"success","data":"<B's body>"}` with `content-type: application/json`; a call that
//! fails (no connection, a status other than 2xx, a body over [`MAX_BODY_BYTES`]) is a 502
//! `{"status":"error","message":"..."}`. Nothing else: no router, no middleware, no breaker, no
//! metrics, no timeouts. It is a measuring instrument for loopback, not a server to expose.
//!
//! Two clients, chosen by `--client` ([`ClientKind`]):
//! - `reqwest`: one [`reqwest::Client`] built as service A builds its own (no redirects, no
//!   proxy, no retry policy of reqwest's, 64 idle connections), so `A / floor reqwest` is what
//!   A adds over the least a reqwest proxy costs;
//! - `hyper`: hyper's own client connections from a small pool of idle ones written here,
//!   close to the least a proxy built on hyper costs, to set beside nginx.
//!
//! `scripts/ceiling.sh` runs both beside service A and nginx.
//!
//! # Modules
//!
//! - [`upstream`]: the call to B with either client, and why it failed;
//! - this file: the command line ([`Config`]) and the server ([`serve`]).

#![deny(missing_docs)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub mod upstream;

pub use upstream::{ClientKind, FetchError, MAX_BODY_BYTES, Upstream};

/// Client connections served at once; more wait in the kernel's listen backlog. Each may hold
/// one connection to B too, so this keeps both within a default limit of 1024 open files.
pub const MAX_CONNECTIONS: usize = 256;

/// How long to wait before accepting again after `accept` failed (out of file descriptors,
/// say), so that a lasting failure does not spin a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "proxy-floor", version, about)]
pub struct Config {
    /// Address to listen on; port 0 lets the kernel choose one. A loopback address: with no
    /// timeouts, this is a measuring instrument, not a server to expose.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Base URL of service B (http only); every request calls its `/api`, appended to the path
    /// as service A appends it.
    #[arg(
        long = "service-b-url",
        value_name = "URL",
        value_parser = parse_service_b_url
    )]
    pub b_api: Url,

    /// The client that calls B.
    #[arg(long, value_enum, default_value_t = ClientKind::Reqwest)]
    pub client: ClientKind,
}

/// B's `/api` URL from `--service-b-url`, read as service A reads the flag
/// ([`service_a::config::parse_service_b_url`]) and extended as A extends it
/// ([`service_a::upstream::api_url`]): `http://b:5001` → `http://b:5001/api`.
fn parse_service_b_url(text: &str) -> Result<Url, String> {
    let base = service_a::config::parse_service_b_url(text)?;
    service_a::upstream::api_url(&base).map_err(|err| err.to_string())
}

/// Serves HTTP/1.1 on `listener`, each request answered by one call through `upstream`, until
/// `shutdown` completes; connections still open then are dropped with the runtime. A failed
/// `accept` is retried after a short pause.
pub async fn serve(listener: TcpListener, upstream: Upstream, shutdown: impl Future<Output = ()>) {
    let upstream = Arc::new(upstream);
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => return,
            accepted = accept(&listener, &connections) => accepted,
        };
        let Some((stream, permit)) = accepted else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        // Answers are small and written whole: Nagle's delay would only add latency.
        let _ = stream.set_nodelay(true);
        let upstream = Arc::clone(&upstream);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let upstream = Arc::clone(&upstream);
                async move { Ok::<_, Infallible>(answer(&upstream, &request).await) }
            });
            // A connection's error (the client hung up mid-request, say) is that client's
            // business: the server goes on.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

/// The next connection with its permit, waiting for a permit first; `None` when `accept` failed.
async fn accept(
    listener: &TcpListener,
    connections: &Arc<Semaphore>,
) -> Option<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    // The semaphore is never closed, so acquiring fails only if that changes.
    let permit = Arc::clone(connections).acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, _)) => Some((stream, permit)),
        Err(err) => {
            eprintln!("proxy-floor: accept failed: {err}");
            None
        }
    }
}

/// Service A's answer to `GET /call`, or a 502 when the call to B failed.
async fn answer(upstream: &Upstream, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            &Failure {
                status: "error",
                message: "only GET is proxied",
            },
        );
    }
    match upstream.fetch().await {
        Ok(body) => json(
            StatusCode::OK,
            &Success {
                status: "success",
                // B promises UTF-8 text; anything else is shown, not refused, as A does.
                data: &String::from_utf8_lossy(&body),
            },
        ),
        Err(err) => json(
            StatusCode::BAD_GATEWAY,
            &Failure {
                status: "error",
                message: &err.to_string(),
            },
        ),
    }
}

/// Service A's success body.
#[derive(Serialize)]
struct Success<'a> {
    status: &'static str,
    data: &'a str,
}

/// The error body both services answer with.
#[derive(Serialize)]
struct Failure<'a> {
    status: &'static str,
    message: &'a str,
}

fn json(status: StatusCode, body: &impl Serialize) -> Response<Full<Bytes>> {
    // Two string fields always serialise; the fallback keeps the answer JSON all the same.
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, Bytes::from(bytes)),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(br#"{"status":"error","message":"the answer did not serialise"}"#),
        ),
    };
    let mut response = Response::new(Full::new(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_b_url_gets_api_appended_to_its_path() {
        for (base, api) in [
            ("http://127.0.0.1:5001", "http://127.0.0.1:5001/api"),
            ("http://127.0.0.1:5001/", "http://127.0.0.1:5001/api"),
            ("http://b/v1", "http://b/v1/api"),
        ] {
            assert_eq!(
                parse_service_b_url(base).map(String::from),
                Ok(api.to_owned())
            );
        }
    }

    #[test]
    fn a_bad_service_b_url_is_refused_naming_the_flag() {
        let err = Config::try_parse_from(["proxy-floor", "--service-b-url", "ftp://b"])
            .expect_err("refused");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--service-b-url"), "{err}");
    }

    #[test]
    fn service_b_url_is_required_and_the_client_defaults_to_reqwest() {
        assert!(Config::try_parse_from(["proxy-floor"]).is_err());
        let config =
            Config::try_parse_from(["proxy-floor", "--service-b-url", "http://b"]).expect("parses");
        assert_eq!(config.client, ClientKind::Reqwest);
        assert_eq!(config.listen.to_string(), "127.0.0.1:0");
    }
}
