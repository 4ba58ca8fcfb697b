//! A server started with `serve` on `127.0.0.1:0`, and a client that speaks raw HTTP/1.1 so a
//! test can send half a request or hold a connection open.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different part of this module

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use service_kit::fallback::{method_not_allowed, not_found};
use service_kit::server::{ServerLimits, Stopped, serve};
use service_kit::strict_query::StrictQuery;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Upper bound on anything a test waits for, so a bug fails the test instead of hanging it.
/// Far below the header timeouts the tests that rely on it configure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A header timeout no test waits out: a connection closed before it passed was closed for
/// another reason.
pub const LONG: Duration = Duration::from_secs(600);

/// What the test's routes signal and wait for.
#[derive(Debug, Default)]
pub struct Signals {
    /// Notified when a request enters `/hang` or `/held`.
    pub entered: Notify,
    /// `/held` answers once this is notified.
    pub release: Notify,
}

/// A running server.
pub struct Server {
    pub address: SocketAddr,
    pub signals: Arc<Signals>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Stopped>,
}

impl Server {
    /// Serves the test routes with `limits`:
    /// `GET /health` answers `ok`; `GET /fail` answers 500; `GET /peer` answers the client's
    /// address; `GET /hang` never
    /// answers; `GET /held` answers `done` once released; `POST /body` answers the length of
    /// the body it read; `GET /query?name=<v>` answers `v`, through [`StrictQuery`]. Other
    /// paths and methods get service-kit's fallbacks.
    pub async fn start(limits: ServerLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let signals = Arc::new(Signals::default());
        let app = Router::new()
            .route("/health", get(|| async { "ok" }))
            .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
            .route(
                "/peer",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .route("/hang", get(hang))
            .route("/held", get(held))
            .route(
                "/body",
                post(|body: String| async move { body.len().to_string() }),
            )
            .route(
                "/query",
                get(|StrictQuery(query): StrictQuery<NameQuery>| async move { query.name }),
            )
            .method_not_allowed_fallback(method_not_allowed)
            .fallback(not_found)
            .with_state(Arc::clone(&signals));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, limits, async {
            let _ = stopped.await;
        }));
        Self {
            address,
            signals,
            stop,
            task,
        }
    }

    /// Waits (bounded) until a request has entered `/hang` or `/held`.
    pub async fn entered(&self) {
        tokio::time::timeout(PATIENCE, self.signals.entered.notified())
            .await
            .expect("the request reaches its handler");
    }

    /// Signals shutdown without waiting for it.
    pub fn signal_stop(self) -> JoinHandle<Stopped> {
        let _ = self.stop.send(());
        self.task
    }

    /// Signals shutdown and waits (bounded) for `serve` to return.
    pub async fn stop(self) -> Stopped {
        finished(self.signal_stop()).await
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.expect("connect")
    }
}

/// `serve`'s report, once it has returned; panics after [`PATIENCE`].
pub async fn finished(task: JoinHandle<Stopped>) -> Stopped {
    tokio::time::timeout(PATIENCE, task)
        .await
        .expect("serve returns within the patience")
        .expect("serve did not panic")
}

/// `/query`'s one parameter.
#[derive(Debug, serde::Deserialize)]
struct NameQuery {
    name: String,
}

async fn hang(State(signals): State<Arc<Signals>>) -> &'static str {
    signals.entered.notify_one();
    std::future::pending().await
}

async fn held(State(signals): State<Arc<Signals>>) -> &'static str {
    signals.entered.notify_one();
    signals.release.notified().await;
    "done"
}

/// Limits with `header_timeout` and the others at their defaults.
pub fn with_header_timeout(header_timeout: Duration) -> ServerLimits {
    ServerLimits {
        header_timeout,
        ..ServerLimits::default()
    }
}

/// A connection to `server` from `client`, a loopback address of the test's choosing.
pub async fn connect_from(client: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(IpAddr::V4(client), 0))
        .expect("bind a loopback address");
    socket.connect(server).await.expect("connect")
}

/// `GET path` on `stream`, kept alive.
pub async fn send_get(stream: &mut TcpStream, path: &str) {
    send(
        stream,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"),
    )
    .await;
}

pub async fn send(stream: &mut TcpStream, bytes: &str) {
    stream
        .write_all(bytes.as_bytes())
        .await
        .expect("request sent");
}

/// One answer: status line, and body as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status_line: String,
    pub head: String,
    pub body: String,
}

/// Reads one answer with a `content-length` (every answer these servers give has one); panics
/// after [`PATIENCE`] or if the connection closes first.
pub async fn read_answer(stream: &mut TcpStream) -> Answer {
    tokio::time::timeout(PATIENCE, read_answer_unbounded(stream))
        .await
        .expect("answered within the patience")
        .expect("an answer before the connection closed")
}

/// Reads one answer, or `None` if the connection closes first.
pub async fn read_answer_unbounded(stream: &mut TcpStream) -> Option<Answer> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0_u8; 1];
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(head).expect("an ASCII head");
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("a number"))
        })
        .expect("a content-length");
    let mut body = vec![0_u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Answer {
        status_line: head.lines().next().unwrap_or_default().to_owned(),
        head,
        body: String::from_utf8(body).expect("a UTF-8 body"),
    })
}

/// Reads the answer on `stream`: a 408 whose JSON body's message is `message`, after which
/// the server closes the connection without sending anything more.
pub async fn assert_408_then_closed(stream: &mut TcpStream, message: &str) {
    let answer = read_answer(stream).await;
    assert_eq!(
        answer.status_line, "HTTP/1.1 408 Request Timeout",
        "{answer:?}"
    );
    assert_eq!(
        answer.body,
        format!(r#"{{"status":"error","message":"{message}"}}"#)
    );
    assert_eq!(read_until_closed(stream).await, b"");
}

/// Reads until the server closes the connection (a reset counts as closed) and returns what it
/// sent before; panics if it is still open after [`PATIENCE`].
pub async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let reading = async {
        let mut buffer = [0_u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, reading)
        .await
        .expect("the server closes the connection within the patience");
    received
}
