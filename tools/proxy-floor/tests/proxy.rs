//! The floor in front of a real service B, both on `127.0.0.1:0`, with each client: B's body in
//! service A's shape, and a 502 JSON body for every way the call to B can fail.

use std::net::SocketAddr;
use std::time::Duration;

use proxy_floor::{ClientKind, MAX_BODY_BYTES, Upstream};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const CLIENTS: [ClientKind; 2] = [ClientKind::Reqwest, ClientKind::Hyper];
/// Upper bound on anything a test waits for, so a bug fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

/// A server on a fresh loopback port; dropping it stops the server.
struct Server {
    address: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    (listener, address)
}

/// Real service B.
async fn service_b() -> Server {
    let (listener, address) = bind().await;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(service_b::run(
        listener,
        service_b::Config::default(),
        async {
            let _ = stopped.await;
        },
    ));
    Server {
        address,
        _stop: stop,
    }
}

/// The floor with `client`, calling the B at `b`.
async fn floor(client: ClientKind, b: SocketAddr) -> Server {
    let url = Url::parse(&format!("http://{b}/api")).expect("URL");
    let upstream = Upstream::new(client, url).expect("client");
    let (listener, address) = bind().await;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(proxy_floor::serve(listener, upstream, async {
        let _ = stopped.await;
    }));
    Server {
        address,
        _stop: stop,
    }
}

async fn get(client: &reqwest::Client, address: SocketAddr) -> (StatusCode, String, Value) {
    let response = tokio::time::timeout(
        PATIENCE,
        client.get(format!("http://{address}/call")).send(),
    )
    .await
    .expect("answered in time")
    .expect("answered");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = json_body(response).await;
    (status, content_type, body)
}

async fn json_body(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
}

async fn api_calls(b: SocketAddr) -> u64 {
    let stats = json_body(
        reqwest::get(format!("http://{b}/stats"))
            .await
            .expect("stats"),
    )
    .await;
    stats["api_calls"].as_u64().expect("api_calls")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_answers_with_b_body_in_service_a_shape_one_call_per_request() {
    let b = service_b().await;
    let client = reqwest::Client::new();
    let mut calls_before = api_calls(b.address).await;
    for kind in CLIENTS {
        let floor = floor(kind, b.address).await;
        // Sequential requests reuse pooled connections; concurrent ones need several.
        for _ in 0..5 {
            let (status, content_type, body) = get(&client, floor.address).await;
            assert_eq!(status, StatusCode::OK, "{kind}: {body}");
            assert_eq!(content_type, "application/json", "{kind}");
            assert_eq!(
                body,
                json!({"status": "success", "data": service_b::SUCCESS_BODY}),
                "{kind}"
            );
        }
        let concurrent: Vec<_> = (0..20)
            .map(|_| {
                let client = client.clone();
                let address = floor.address;
                tokio::spawn(async move { get(&client, address).await })
            })
            .collect();
        for answer in concurrent {
            let (status, _, body) = answer.await.expect("no panic");
            assert_eq!(status, StatusCode::OK, "{kind}: {body}");
            assert_eq!(body["data"], service_b::SUCCESS_BODY, "{kind}");
        }
        let calls = api_calls(b.address).await;
        assert_eq!(
            calls - calls_before,
            25,
            "{kind}: one call to B per request"
        );
        calls_before = calls;
    }
}

#[tokio::test]
async fn a_b_that_is_down_gives_a_502_json_body() {
    // A port that was just free: nothing listens on it.
    let (listener, down) = bind().await;
    drop(listener);
    let client = reqwest::Client::new();
    for kind in CLIENTS {
        let floor = floor(kind, down).await;
        let (status, content_type, body) = get(&client, floor.address).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{kind}: {body}");
        assert_eq!(content_type, "application/json", "{kind}");
        assert_eq!(body["status"], "error", "{kind}: {body}");
        let message = body["message"].as_str().expect("a message");
        assert!(message.contains("service B"), "{kind}: {message}");
    }
}

#[tokio::test]
async fn a_b_answering_500_gives_a_502_naming_the_status() {
    let b = service_b().await;
    let set = reqwest::Client::new()
        .post(format!("http://{}/mode", b.address))
        .header("content-type", "application/json")
        .body(r#"{"mode": "fail", "for": "60s", "delay": "1ms"}"#)
        .send()
        .await
        .expect("mode set");
    assert_eq!(set.status(), StatusCode::OK);
    let client = reqwest::Client::new();
    for kind in CLIENTS {
        let floor = floor(kind, b.address).await;
        let (status, _, body) = get(&client, floor.address).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{kind}: {body}");
        assert_eq!(
            body,
            json!({"status": "error", "message": "service B answered 500 Internal Server Error"}),
            "{kind}"
        );
    }
}

/// A B that answers every request with a body one byte over the cap, declared in its head.
async fn b_with_a_long_body() -> SocketAddr {
    let (listener, address) = bind().await;
    tokio::spawn(async move {
        // Two connections: one for each client.
        for _ in 0..CLIENTS.len() {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = [0; 1024];
                let _ = socket.read(&mut head).await;
                let length = MAX_BODY_BYTES + 1;
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n\r\n");
                // The floor hangs up part-way: a failed write is expected.
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&vec![b'x'; length]).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn a_body_over_the_cap_gives_a_502() {
    let b = b_with_a_long_body().await;
    let client = reqwest::Client::new();
    for kind in CLIENTS {
        let floor = floor(kind, b).await;
        let (status, _, body) = get(&client, floor.address).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{kind}: {body}");
        let message = body["message"].as_str().expect("a message");
        assert!(
            message.starts_with("reading service B's body failed"),
            "{kind}: {message}"
        );
    }
}

#[tokio::test]
async fn a_method_other_than_get_is_refused_with_405() {
    let (listener, down) = bind().await;
    drop(listener);
    let floor = floor(ClientKind::Hyper, down).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/call", floor.address))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body = json_body(response).await;
    assert_eq!(body["status"], "error");
}
