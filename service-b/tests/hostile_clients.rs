//! Service B against hostile clients, over real sockets on loopback: a `/mode`
//! body declared far over its cap, one sent a byte at a time, and a request without `Host`.

use std::net::SocketAddr;
use std::time::Duration;

use service_b::{Config, ServerLimits, Stopped};
use service_kit::test_support::{answer_to, read_to_close, trickle_body};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound on anything a test waits for, so a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(20);

struct B {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<Stopped>>,
}

impl B {
    async fn start(server: ServerLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let config = Config {
            server,
            ..Config::default()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(service_b::run(listener, config, async {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("stops")
            .expect("no panic")
            .expect("run ends cleanly");
    }
}

#[tokio::test]
async fn a_mode_body_declared_over_the_cap_is_refused_413_before_any_is_sent() {
    let b = B::start(ServerLimits::default()).await;
    // No body follows the head: an answer proves B did not wait to read it.
    let (status, body) = answer_to(
        b.address,
        "POST /mode HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
         Content-Length: 1000000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(body["status"], "error");
    assert_eq!(
        body["message"],
        "request body of 1000000 bytes is over this route's limit of 1024 bytes"
    );
    b.stop().await;
}

#[tokio::test]
async fn a_mode_body_sent_a_byte_at_a_time_is_refused_408_at_the_body_timeout() {
    let b = B::start(ServerLimits {
        header_timeout: Duration::from_secs(600),
        body_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    })
    .await;
    let mut client = TcpStream::connect(b.address).await.expect("connect");
    // A space every 20 ms: valid JSON whitespace, never a pause the header timeout would see.
    trickle_body(
        &mut client,
        "POST /mode HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n",
        b' ',
    )
    .await;
    let answer = read_to_close(&mut client).await;
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer}"
    );
    assert!(
        answer.ends_with(
            r#"{"status":"error","message":"request body not received within 300ms (--body-timeout)"}"#
        ),
        "{answer}"
    );
    b.stop().await;
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_refused_400_json() {
    let b = B::start(ServerLimits::default()).await;
    let (status, body) =
        answer_to(b.address, "GET /api HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["message"], service_kit::server::MISSING_HOST);
    b.stop().await;
}
