//! `serve` holds clients to its limits: real sockets on loopback, raw HTTP/1.1.

mod support;

use std::time::Duration;

use service_kit::server::{MAX_HEADER_BYTES, MAX_HEADERS};
use support::{
    LONG, Server, assert_408_then_closed, read_answer, read_until_closed, send, send_get,
    with_header_timeout,
};

/// Short, so the tests that wait it out are quick; the waits themselves are bounded by
/// [`support::PATIENCE`], fifty times longer.
const HEADER_TIMEOUT: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let server = Server::start(with_header_timeout(HEADER_TIMEOUT)).await;
    let mut slow = server.connect().await;
    send(&mut slow, "GET /health HTTP/1.1\r\nHost: te").await;

    // No answer: hyper closes a connection whose head times out without one.
    assert_eq!(read_until_closed(&mut slow).await, b"");

    let mut next = server.connect().await;
    send_get(&mut next, "/health").await;
    assert_eq!(read_answer(&mut next).await.body, "ok");
    server.stop().await;
}

#[tokio::test]
async fn every_request_carries_its_peers_address() {
    let server = Server::start(with_header_timeout(LONG)).await;
    let mut client = server.connect().await;
    let ours = client.local_addr().expect("local address");
    send_get(&mut client, "/peer").await;
    assert_eq!(read_answer(&mut client).await.body, ours.to_string());
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let server = Server::start(with_header_timeout(HEADER_TIMEOUT)).await;
    let mut idle = server.connect().await;
    send_get(&mut idle, "/health").await;
    let answer = read_answer(&mut idle).await;
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK");
    assert!(!answer.head.contains("connection: close"), "{answer:?}");

    // The client sends nothing more: hyper's header timer started when the connection went
    // idle, so it closes it.
    assert_eq!(read_until_closed(&mut idle).await, b"");
    server.stop().await;
}

#[tokio::test]
async fn a_request_body_that_pauses_too_long_is_refused_408_after_the_header_timeout() {
    let server = Server::start(with_header_timeout(HEADER_TIMEOUT)).await;
    let mut slow = server.connect().await;
    send(
        &mut slow,
        "POST /body HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nten bytes.",
    )
    .await;

    assert_408_then_closed(
        &mut slow,
        "request body paused longer than 200ms (--header-timeout)",
    )
    .await;
    server.stop().await;
}

/// What hyper answers by itself, before the router sees the request: the exceptions to "every
/// answer is JSON" that docs/reliability.md lists.
#[tokio::test]
async fn hyper_answers_malformed_and_oversized_heads_itself_with_empty_bodies() {
    let server = Server::start(with_header_timeout(LONG)).await;
    let many_headers: String = (0..=MAX_HEADERS)
        .map(|i| format!("X-Header-{i}: {i}\r\n"))
        .collect();
    let big_header = format!("X-Big: {}\r\n", "b".repeat(MAX_HEADER_BYTES));
    let long_path = format!("/{}", "p".repeat(MAX_HEADER_BYTES));
    for (request, expected) in [
        ("GARBAGE\r\n\r\n".to_owned(), "HTTP/1.1 400 Bad Request"),
        (
            "GET / HTTP/1.1\r\nHost: test\r\nno colon here\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            "GET / HTTP/3.0\r\nHost: test\r\n\r\n".to_owned(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: test\r\n{many_headers}\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: test\r\n{big_header}\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
        (
            format!("GET {long_path} HTTP/1.1\r\nHost: test\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
    ] {
        let mut connection = server.connect().await;
        send(&mut connection, &request).await;
        let answer = read_answer(&mut connection).await;
        let shown = &request[..request.len().min(60)];
        assert_eq!(answer.status_line, expected, "{shown:?}");
        assert_eq!(answer.body, "", "{shown:?}");
        assert_eq!(read_until_closed(&mut connection).await, b"", "{shown:?}");
    }

    // Just within the bounds: served.
    let fitting: String = (2..MAX_HEADERS)
        .map(|i| format!("X-Header-{i}: {i}\r\n"))
        .collect();
    let mut connection = server.connect().await;
    send(
        &mut connection,
        &format!("GET /health HTTP/1.1\r\nHost: test\r\n{fitting}\r\n"),
    )
    .await;
    assert_eq!(read_answer(&mut connection).await.body, "ok");
    server.stop().await;
}
