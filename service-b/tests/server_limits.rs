//! Service B at its edge: the connection flags, a `/mode` body that stops arriving, and
//! accept errors from running out of file descriptors.

use std::net::TcpStream as StdTcpStream;
use std::time::Duration;

use serde_json::Value;
use service_b::{Config, ServerLimits};
use service_kit::test_support::{PATIENCE, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

/// The binary has service-kit's connection flags; their parsing and bounds are tested there.
#[test]
fn help_lists_the_connection_flags_with_their_defaults() {
    service_kit::test_support::assert_help_lists_the_connection_flags(BINARY);
}

#[tokio::test]
async fn a_mode_body_that_stops_arriving_is_refused_with_a_json_408() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let config = Config {
        server: ServerLimits {
            header_timeout: Duration::from_millis(200),
            ..ServerLimits::default()
        },
        ..Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service_b::run(listener, config, async {
        let _ = stopped.await;
    }));

    let mut client = TcpStream::connect(address).await.expect("connect");
    let head = "POST /mode HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\nConnection: close\r\n\r\n";
    client
        .write_all(format!("{head}{{\"mode\":").as_bytes())
        .await
        .expect("sent");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, client.read_to_end(&mut answer))
        .await
        .expect("answered within the patience")
        .expect("read");
    let answer = String::from_utf8(answer).expect("UTF-8");
    let (status_and_headers, body) = answer.split_once("\r\n\r\n").expect("a full answer");
    assert!(
        status_and_headers.starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer}"
    );
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(body["status"], "error");
    let message = body["message"].as_str().expect("a message");
    assert!(message.contains("timeout"), "{message}");

    let _ = stop.send(());
    let stopped = tokio::time::timeout(PATIENCE, server)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("run ends cleanly");
    assert_eq!(stopped.requests_cut, 0);
}

/// With 32 descriptors, about 20 connections use up what the process has left: accepting the
/// next fails with EMFILE until the header timeout closes some. The server must keep going.
#[test]
fn running_out_of_file_descriptors_pauses_accepting_but_never_stops_the_server() {
    let mut b = Running::start(
        "bash",
        &[
            "-c",
            r#"ulimit -n 32 && exec "$0" "$@""#,
            BINARY,
            "--listen",
            "127.0.0.1:0",
            "--header-timeout",
            "500ms",
        ],
        &["SERVICE_B_LISTEN"],
    );
    let line_with = |b: &Running, wanted: &str| {
        b.until(wanted, |line| line.contains(wanted))
            .pop()
            .expect("the line just read")
    };
    let listening = line_with(&b, "service B listening");
    let address = listening
        .split("address=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the address is logged")
        .to_owned();

    // Silent clients, more than the descriptors left: the kernel completes every connection,
    // the server accepts until it runs out.
    let silent: Vec<StdTcpStream> = (0..60)
        .map(|_| StdTcpStream::connect(&address).expect("connect"))
        .collect();
    line_with(&b, "cannot accept connections");
    line_with(&b, "accepting connections again");

    // Every silent connection is eventually accepted and timed out; then a real request is
    // answered.
    let answered = get_health(&address);
    drop(silent);
    assert!(b.is_running(), "the server exited");
    // Bounded: it must exit on SIGTERM; how is not this test's question.
    b.terminate();
    assert_eq!(answered, "{\"status\":\"ok\"}");
}

/// `GET /health`'s body, over a connection that may wait in the kernel's queue behind the
/// silent ones.
fn get_health(address: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = StdTcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        .expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answered");
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}
