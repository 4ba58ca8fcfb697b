//! Serving a router on a listener, holding clients to [`ServerLimits`], until told to stop.
//!
//! `axum::serve` exposes none of hyper's connection settings and has neither a connection cap
//! nor a deadline on its graceful shutdown, so [`serve`] drives hyper and hyper-util directly:
//!
//! | file | what it holds |
//! |---|---|
//! | `limits.rs` | [`ServerLimits`], the flags both services share, and their defaults |
//! | `connection.rs` | hyper's HTTP/1 settings: header timeout, [`MAX_HEADER_BYTES`], [`MAX_HEADERS`] |
//! | `accept.rs` | the shares and the connection cap, and retrying accept errors without spinning |
//! | `idle.rs` | the connections with no request in flight, longest idle first: who makes room at the cap |
//! | `busy.rs` | marking a connection busy while a request is in flight on it |
//! | `per_client.rs` | each client address's share of the connections, and each address prefix's |
//! | `request_guard.rs` | the `Host` check and the request body's timers, answered 400 and 408 |
//! | `drain.rs` | the bounded graceful shutdown and [`Stopped`], its report |
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use service_kit::server::{ServerLimits, serve};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let app = Router::new().route("/health", get(|| async { "ok" }));
//! let stopped = serve(listener, app, ServerLimits::default(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! println!("{} request(s) cut at shutdown", stopped.requests_cut);
//! # Ok(())
//! # }
//! ```

mod accept;
mod busy;
mod connection;
mod drain;
mod idle;
mod limits;
mod per_client;
mod request_guard;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use axum::extract::ConnectInfo;
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::{Layer, ServiceBuilder};
use tower_http::metrics::InFlightRequestsLayer;
use tower_http::metrics::in_flight_requests::InFlightRequestsCounter;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::{Level, debug, info};

pub use accept::{ACCEPT_BACKOFF, CAP_EPISODE_QUIET};
pub use connection::{MAX_HEADER_BYTES, MAX_HEADERS};
pub use drain::Stopped;
pub use limits::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PER_CLIENT_DIVISOR, DEFAULT_SHUTDOWN_GRACE, MAX_CONNECTIONS, ServerLimits,
};
pub use request_guard::MISSING_HOST;

use accept::{Shares, Slots};
use busy::MarkBusy;
use drain::Connections;
use idle::{IdleConnections, Tracked};
use per_client::{Grouping, PerClient};
use request_guard::RequestGuardLayer;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish for at most `limits.shutdown_grace`, cuts what is left and
/// returns how many requests it cut.
///
/// While serving, every connection is held to `limits`: a client gets `header_timeout` to send
/// each request head (and each piece of a body) and `body_timeout` for a whole body (408
/// past either), at most `max_connections` are served at once (at the cap, a new connection
/// takes the place of the connection idle longest, never one with a request in flight), at
/// most [`per_client_cap`](ServerLimits::per_client_cap) of them from one client address and
/// [`per_prefix_cap`](ServerLimits::per_prefix_cap) from one IPv4 /24 or IPv6 /64 (their next
/// ones are closed at once), and a head is bounded by [`MAX_HEADER_BYTES`] and
/// [`MAX_HEADERS`]. An HTTP/1.1 request without exactly one `Host` is answered 400
/// ([`MISSING_HOST`]). Accept errors are
/// retried after [`ACCEPT_BACKOFF`]; none ends the server. Every request carries its peer's
/// address as axum's [`ConnectInfo`]`<SocketAddr>`, as with
/// `axum::serve(.., app.into_make_service_with_connect_info::<SocketAddr>())`, and is traced by
/// tower-http's [`TraceLayer`]: a span and DEBUG lines per request (`RUST_LOG=tower_http=debug`),
/// the 400s and 408s this function answers itself included.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> Stopped {
    info!(
        header_timeout = %humantime::format_duration(limits.header_timeout),
        body_timeout = %humantime::format_duration(limits.body_timeout),
        max_connections = limits.max_connections,
        max_connections_per_client = limits.per_client_cap().map_or(0, NonZeroU32::get),
        max_connections_per_prefix = limits.per_prefix_cap().map_or(0, NonZeroU32::get),
        shutdown_grace = %humantime::format_duration(limits.shutdown_grace),
        max_header_bytes = MAX_HEADER_BYTES,
        max_headers = MAX_HEADERS,
        "client limits"
    );
    let in_flight = InFlightRequestsCounter::new();
    let service = ServiceBuilder::new()
        // Here, around the router, rather than `Router::layer`, which would box it around every
        // route again for each request. A 5xx is logged at DEBUG like any answer: both services
        // answer 500 by design (B's failure, A's failed call), and log the failure where it
        // happens.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
        .layer(InFlightRequestsLayer::new(in_flight.clone()))
        .layer(RequestGuardLayer::new(
            limits.header_timeout,
            limits.body_timeout,
        ))
        .service(app);
    let http = connection::builder(&limits);
    let (stopping, _) = watch::channel(false);
    let mut connections = Connections {
        stopping,
        tasks: JoinSet::new(),
        in_flight,
        slots: Slots::new(limits.max_connections.get()),
    };
    let shares = Shares {
        per_client: PerClient::new(limits.per_client_cap()),
        per_prefix: PerClient::grouped(limits.per_prefix_cap(), Grouping::Prefix),
    };
    let idle = Arc::new(IdleConnections::default());

    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer, held) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            next = accept::next(&listener, &connections.slots, &shares, &idle) => next,
        };
        // Forget the connections that ended, so the set never holds more than the cap.
        while connections.tasks.try_join_next().is_some() {}
        let tracked = idle.enter(peer.ip());
        let service = MarkBusy::new(
            Extension(ConnectInfo(peer)).layer(service.clone()),
            tracked.requests(),
        );
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let stopping = connections.stopping.subscribe();
        connections.tasks.spawn(async move {
            serve_connection(connection, &tracked, stopping).await;
            // The slot first, then the registration, which wakes the accept loop if it waits
            // for a place to be made (see `Tracked`'s drop).
            drop(held);
            drop(tracked);
        });
    }
    // Closing the listening socket refuses new connections during the grace.
    drop(listener);
    drain::drain(connections, limits.shutdown_grace).await
}

/// Drives one connection until it ends. Told to leave to make room at the cap, one that never
/// served a request is closed at once (it has no answer to finish); any other, and every one
/// when the server stops, is shut down the way hyper does it gracefully: an idle one closes at
/// once, a busy one after its answer.
async fn serve_connection<I, S, B>(
    connection: hyper::server::conn::http1::Connection<I, S>,
    tracked: &Tracked,
    mut stopping: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = pin!(connection);
    // One poll reads the request the client sent before it was accepted, if it did, before
    // the connection can be taken for idle.
    let first = std::future::poll_fn(|cx| Poll::Ready(connection.as_mut().poll(cx))).await;
    if let Poll::Ready(ended) = first {
        return log_end(ended);
    }
    tracked.first_read();
    let told_to_leave = tokio::select! {
        ended = connection.as_mut() => return log_end(ended),
        () = tracked.told_to_leave() => true,
        // An error means the server is gone: stop too.
        _ = stopping.wait_for(|stopping| *stopping) => false,
    };
    // Nothing polls the connection here, so no request can start between the check and the
    // close: a connection that has served none is dropped, closing its socket.
    if told_to_leave && !tracked.has_served() {
        debug!("idle connection closed to make room for a new one");
        return;
    }
    connection.as_mut().graceful_shutdown();
    log_end(connection.await);
}

/// A header timeout, a malformed request or a client that hung up: the client's problem, and
/// hyper has already answered it when an answer was due.
fn log_end(ended: hyper::Result<()>) {
    if let Err(err) = ended {
        debug!(%err, "connection ended with an error");
    }
}
