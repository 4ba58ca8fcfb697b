//! Service A at its edge: the connection flags, bounded echoes, and shutdown while B hangs.

mod support;

use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::json;
use service_a::{AppState, ServerLimits};
use support::{PATIENCE, ServiceA, ServiceB, checked, config_for};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

const BINARY: &str = env!("CARGO_BIN_EXE_service-a");

/// The binary has service-kit's connection flags; their parsing and bounds are tested there.
#[test]
fn help_lists_the_connection_flags_with_their_defaults() {
    service_kit::test_support::assert_help_lists_the_connection_flags(BINARY);
}

#[tokio::test]
async fn a_long_path_or_method_is_echoed_cut_to_200_bytes() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;

    let path = format!("/{}", "x".repeat(10_000));
    assert_eq!(
        a.get(&path).await,
        (
            StatusCode::NOT_FOUND,
            json!({"status": "error", "message": format!("no route for /{}…", "x".repeat(199))})
        )
    );

    let method = Method::from_bytes("M".repeat(10_000).as_bytes()).expect("a token");
    let (status, body) = a.send(method, "/call").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body["message"],
        format!("method {}… not allowed for /call", "M".repeat(200))
    );
    a.stop().await;
    b.stop().await;
}

/// A fake B that accepts and never answers; `received` is notified once a request's bytes
/// have arrived.
async fn hung_service_b(received: std::sync::Arc<Notify>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        // Held open, never answered, until the test's runtime ends.
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            if socket.readable().await.is_ok() {
                received.notify_one();
            }
            held.push(socket);
        }
    });
    base
}

#[tokio::test]
async fn shutdown_with_a_hung_b_cuts_the_call_once_the_grace_is_over() {
    let received = std::sync::Arc::new(Notify::new());
    let b = hung_service_b(std::sync::Arc::clone(&received)).await;
    // A would wait a minute for B; the grace is far shorter.
    let mut config = config_for(&b);
    config.client.request_timeout = Some(Duration::from_secs(60));
    config.client.recovery_timeout = Some(Duration::from_secs(120));
    let limits = ServerLimits {
        shutdown_grace: Duration::from_millis(200),
        ..config.server
    };
    let state = AppState::new(&checked(config)).expect("state builds");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/call", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(service_a::run(listener, state, limits, async {
        let _ = stopped.await;
    }));

    let call = tokio::spawn(async move { Client::new().get(url).send().await });
    tokio::time::timeout(PATIENCE, received.notified())
        .await
        .expect("the call reaches B");

    let _ = stop.send(());
    let stopped = tokio::time::timeout(PATIENCE, server)
        .await
        .expect("run returns within the patience, long before B's timeout")
        .expect("no panic")
        .expect("run ends cleanly");
    assert_eq!(stopped.requests_cut, 1);
    let answer = tokio::time::timeout(PATIENCE, call)
        .await
        .expect("the client learns at once")
        .expect("no panic");
    assert!(answer.is_err(), "cut without an answer: {answer:?}");
}
