//! `serve`'s shutdown: requests in flight get the grace, and no more.

mod support;

use std::time::Duration;

use service_kit::server::ServerLimits;
use support::{LONG, PATIENCE, Server, finished, read_answer, read_until_closed, send, send_get};
use tokio::net::TcpStream;

fn with_grace(shutdown_grace: Duration) -> ServerLimits {
    ServerLimits {
        header_timeout: LONG,
        shutdown_grace,
        ..ServerLimits::default()
    }
}

#[tokio::test]
async fn shutdown_returns_after_the_grace_with_a_half_sent_request_open() {
    // The header timeout is far longer than the test's patience: only the grace can end this.
    let server = Server::start(with_grace(Duration::from_millis(200))).await;
    let mut slow = server.connect().await;
    send(&mut slow, "GET /health HTTP/1.1\r\nHo").await;
    // hyper's graceful shutdown closes a connection at once if it has read nothing from it,
    // so make sure it has. The test runtime runs every task on one thread in the order they
    // were woken: once a later connection has been answered, the earlier one's task has run
    // and read the half head that was waiting for it.
    let mut later = server.connect().await;
    send_get(&mut later, "/health").await;
    assert_eq!(read_answer(&mut later).await.body, "ok");

    let stopped = server.stop().await;
    // A request whose head never arrived was never in flight.
    assert_eq!(stopped.requests_cut, 0);
    assert_eq!(read_until_closed(&mut slow).await, b"");
}

#[tokio::test]
async fn shutdown_cuts_a_request_still_in_flight_when_the_grace_runs_out() {
    let server = Server::start(with_grace(Duration::from_millis(200))).await;
    let mut hung = server.connect().await;
    send_get(&mut hung, "/hang").await;
    server.entered().await;

    let stopped = server.stop().await;
    assert_eq!(stopped.requests_cut, 1);
    assert_eq!(
        read_until_closed(&mut hung).await,
        b"",
        "cut without an answer"
    );
}

#[tokio::test]
async fn shutdown_refuses_new_connections_and_lets_a_request_in_flight_finish() {
    let server = Server::start(with_grace(PATIENCE)).await;
    let address = server.address;
    let signals = std::sync::Arc::clone(&server.signals);
    let mut held = server.connect().await;
    send_get(&mut held, "/held").await;
    server.entered().await;

    let stopping = server.signal_stop();
    // The listening socket closes at once, while the request is still held.
    tokio::time::timeout(PATIENCE, async {
        while TcpStream::connect(address).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("new connections are refused during the grace");
    assert!(!stopping.is_finished(), "serve waits for the request");

    signals.release.notify_one();
    let answer = read_answer(&mut held).await;
    assert_eq!(answer.body, "done");
    assert!(answer.head.contains("connection: close"), "{answer:?}");
    assert_eq!(finished(stopping).await.requests_cut, 0);
}
