//! Hostile clients, each against a real server on loopback: a body
//! sent a byte at a time, a request without `Host`, and one client address holding three times
//! the connection cap while another client asks for `/health`.

mod support;

use std::net::Ipv4Addr;
use std::num::NonZeroU32;
use std::time::Duration;

use service_kit::server::{MISSING_HOST, ServerLimits};
use service_kit::test_support;
use support::{
    LONG, PATIENCE, Server, assert_408_then_closed, connect_from, read_answer, send, send_get,
};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Short, so the tests that wait it out are quick; every wait is bounded by [`PATIENCE`].
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

/// Sends a request declaring a 1,000-byte body, then a byte every 20 ms (see
/// [`test_support::trickle_body`]).
async fn trickle_body(stream: &mut TcpStream) {
    test_support::trickle_body(
        stream,
        "POST /body HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n",
        b'x',
    )
    .await;
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_answered_408_at_the_body_timeout() {
    let server = Server::start(ServerLimits {
        header_timeout: LONG,
        body_timeout: BODY_TIMEOUT,
        ..ServerLimits::default()
    })
    .await;
    let mut slow = server.connect().await;
    tokio::time::timeout(PATIENCE, trickle_body(&mut slow))
        .await
        .expect("the server stops the body within the patience");
    assert_408_then_closed(
        &mut slow,
        "request body not received within 300ms (--body-timeout)",
    )
    .await;
    server.stop().await;
}

/// Every slot held by a slow body: each is freed by the body timeout, and `/health` is
/// answered on a fresh connection.
#[tokio::test]
async fn slow_bodies_filling_every_slot_free_them_within_the_body_timeout() {
    const SLOTS: u32 = 8;
    let server = Server::start(ServerLimits {
        header_timeout: LONG,
        body_timeout: BODY_TIMEOUT,
        max_connections: NonZeroU32::new(SLOTS).expect("non-zero"),
        max_connections_per_client: Some(0),
        ..ServerLimits::default()
    })
    .await;
    let mut slow = JoinSet::new();
    for _ in 0..SLOTS {
        let mut stream = server.connect().await;
        slow.spawn(async move {
            trickle_body(&mut stream).await;
            read_answer(&mut stream).await.status_line
        });
    }
    let statuses = tokio::time::timeout(PATIENCE, slow.join_all())
        .await
        .expect("every slow body is stopped within the patience");
    assert!(
        statuses
            .iter()
            .all(|status| status == "HTTP/1.1 408 Request Timeout"),
        "{statuses:?}"
    );
    let mut fresh = server.connect().await;
    send_get(&mut fresh, "/health").await;
    assert_eq!(read_answer(&mut fresh).await.body, "ok");
    server.stop().await;
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_answered_400_json() {
    let server = Server::start(ServerLimits::default()).await;
    let mut client = server.connect().await;
    send(&mut client, "GET /health HTTP/1.1\r\n\r\n").await;
    let answer = read_answer(&mut client).await;
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(
        answer.body,
        format!(r#"{{"status":"error","message":"{MISSING_HOST}"}}"#)
    );

    let mut old = server.connect().await;
    send(&mut old, "GET /health HTTP/1.0\r\n\r\n").await;
    assert_eq!(
        read_answer(&mut old).await.body,
        "ok",
        "HTTP/1.0 may omit it"
    );
    server.stop().await;
}

/// One address opens three times the connection cap and holds every connection open; a client
/// on another address is still served, and the first one's connections past its share are
/// closed at once.
#[tokio::test]
async fn one_address_holding_three_times_the_cap_leaves_room_for_another() {
    const CAP: u32 = 12;
    const SHARE: u32 = 3;
    let hostile = Ipv4Addr::new(127, 0, 0, 2);
    let newcomer = Ipv4Addr::new(127, 0, 0, 3);
    let server = Server::start(ServerLimits {
        header_timeout: LONG,
        max_connections: NonZeroU32::new(CAP).expect("non-zero"),
        max_connections_per_client: Some(SHARE),
        ..ServerLimits::default()
    })
    .await;

    let mut held = Vec::new();
    for _ in 0..3 * CAP {
        held.push(connect_from(hostile, server.address).await);
    }
    let mut answered = 0;
    let mut closed = 0;
    for stream in &mut held {
        send_get(stream, "/peer").await;
    }
    for stream in &mut held {
        match tokio::time::timeout(PATIENCE, support::read_answer_unbounded(stream)).await {
            Ok(Some(answer)) => {
                assert!(answer.body.starts_with("127.0.0.2:"), "{answer:?}");
                answered += 1;
            }
            Ok(None) => closed += 1,
            Err(_) => panic!("a hostile connection neither answered nor closed"),
        }
    }
    assert_eq!((answered, closed), (SHARE, 3 * CAP - SHARE));

    let mut other = connect_from(newcomer, server.address).await;
    send_get(&mut other, "/peer").await;
    let answer = read_answer(&mut other).await;
    assert!(answer.body.starts_with("127.0.0.3:"), "{answer:?}");
    drop(held);
    server.stop().await;
}
