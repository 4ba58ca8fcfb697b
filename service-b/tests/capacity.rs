//! The `capacity` mode: switched on through `POST /mode`, its slots, queue and refusals seen
//! through `/api` and `/stats`; on a paused clock through the router, then once over real HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use service_b::{AppState, Config, OVERLOADED_BODY, SUCCESS_BODY, app};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower::ServiceExt;

const FAIL_DELAY: Duration = Duration::from_secs(2);
const SERVICE_TIME: Duration = Duration::from_millis(20);

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 64 * 1024)
        .await
        .expect("body");
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

async fn get_json(router: &Router, uri: &str) -> Value {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let (status, body) = send(router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

async fn post_mode(router: &Router, body: &str) -> (StatusCode, Value) {
    let request = Request::post("/mode")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let (status, body) = send(router, request).await;
    (status, serde_json::from_str(&body).expect("JSON"))
}

fn service() -> Router {
    app(AppState::with_seed(FAIL_DELAY, 1))
}

/// Starts `n` calls of `/api` one after another, each past the gate (holding a slot, waiting
/// in the queue, or refused) before the next starts; each says its status, body and when it
/// was answered, from `start`.
async fn arrive(
    n: usize,
    router: &Router,
    start: Instant,
) -> Vec<tokio::task::JoinHandle<(StatusCode, String, Duration)>> {
    let mut calls = Vec::new();
    for _ in 0..n {
        let router = router.clone();
        calls.push(tokio::spawn(async move {
            let request = Request::get("/api").body(Body::empty()).expect("request");
            let (status, body) = send(&router, request).await;
            (status, body, start.elapsed())
        }));
        // A few yields let the new call run up to its first real wait (the router's layers
        // are a handful of futures deep); the clock is paused, so no time passes.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }
    calls
}

#[tokio::test(start_paused = true)]
async fn capacity_serves_queues_in_order_and_refuses_at_once_beyond_the_queue() {
    let router = service();
    let (status, mode) = post_mode(
        &router,
        r#"{"mode":"capacity","concurrency":2,"service_time":"20ms","queue":4}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mode}");
    assert_eq!(
        mode,
        json!({"mode":"capacity","delay_ms":null,"concurrency":2,"service_time_ms":20,"queue":4,"remaining_ms":null})
    );

    let start = Instant::now();
    let calls = arrive(9, &router, start).await;
    let stats = get_json(&router, "/stats").await;
    assert_eq!(
        stats["capacity"],
        json!({"served": 2, "queued": 4, "refused": 3, "waiting": 4})
    );
    assert_eq!(stats["in_flight"], 6, "{stats}");

    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.expect("task"));
    }
    let ok = |slots: u32| {
        (
            StatusCode::OK,
            SUCCESS_BODY.to_owned(),
            SERVICE_TIME * slots,
        )
    };
    let overloaded = (
        StatusCode::SERVICE_UNAVAILABLE,
        OVERLOADED_BODY.to_owned(),
        Duration::ZERO,
    );
    assert_eq!(
        answers,
        vec![
            ok(1),
            ok(1),
            ok(2),
            ok(2),
            ok(3),
            ok(3),
            overloaded.clone(),
            overloaded.clone(),
            overloaded,
        ],
        "two at a time, the queue in arrival order, latency growing with queue position"
    );
    let stats = get_json(&router, "/stats").await;
    assert_eq!(
        stats["capacity"],
        json!({"served": 6, "queued": 4, "refused": 3, "waiting": 0})
    );
    assert_eq!(
        (&stats["api_calls"], &stats["failed"]),
        (&json!(9), &json!(3))
    );
    // The six admitted, and one refused call while it was being answered.
    assert_eq!(stats["max_in_flight"], 7);
}

#[tokio::test(start_paused = true)]
async fn capacity_with_for_returns_to_healthy_and_a_new_setting_takes_effect_for_new_calls() {
    let router = service();
    let (status, _) = post_mode(
        &router,
        r#"{"mode":"capacity","concurrency":1,"service_time":"1s","queue":0,"for":"20s"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let start = Instant::now();
    let busy = arrive(2, &router, start).await;
    let mut busy = busy.into_iter();
    let first = busy.next().expect("first");
    let refused = busy.next().expect("second").await.expect("task");
    assert_eq!(refused.0, StatusCode::SERVICE_UNAVAILABLE);

    // A wider setting gets its own slots at once; the call in the old one finishes there.
    let (status, _) = post_mode(
        &router,
        r#"{"mode":"capacity","concurrency":2,"service_time":"1s","queue":0,"for":"20s"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let wider = arrive(3, &router, start).await;
    let statuses: Vec<StatusCode> = {
        let mut statuses = Vec::new();
        for call in wider {
            statuses.push(call.await.expect("task").0);
        }
        statuses
    };
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::SERVICE_UNAVAILABLE
        ]
    );
    assert_eq!(first.await.expect("task").2, Duration::from_secs(1));

    tokio::time::sleep_until(start + Duration::from_secs(21)).await;
    assert_eq!(get_json(&router, "/mode").await["mode"], "healthy");
    let after = arrive(5, &router, Instant::now()).await;
    for call in after {
        let (status, body, took) = call.await.expect("task");
        assert_eq!(
            (status, body.as_str(), took),
            (StatusCode::OK, SUCCESS_BODY, Duration::ZERO)
        );
    }
}

#[tokio::test]
async fn bad_capacity_bodies_are_json_400s_naming_the_field() {
    let router = service();
    for (body, field) in [
        (
            r#"{"mode":"capacity","service_time":"20ms"}"#,
            "`concurrency`",
        ),
        (
            r#"{"mode":"capacity","concurrency":0,"service_time":"20ms"}"#,
            "`concurrency`",
        ),
        (r#"{"mode":"capacity","concurrency":8}"#, "`service_time`"),
        (
            r#"{"mode":"capacity","concurrency":8,"service_time":"20ms","queue":1000000}"#,
            "`queue`",
        ),
    ] {
        let (status, reply) = post_mode(&router, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert_eq!(reply["status"], "error");
        let message = reply["message"].as_str().expect("message");
        assert!(message.contains(field), "{body}: {message}");
    }
    assert_eq!(get_json(&router, "/mode").await["mode"], "healthy");
}

/// Over real HTTP on loopback: a client that fires more calls than slots and queue sees some
/// 503 `Service B: Overloaded` at once, and `/stats` accounts for every call.
#[tokio::test]
async fn over_http_the_calls_beyond_slots_and_queue_are_refused_and_counted() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address: SocketAddr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service_b::run(
        listener,
        Config {
            listen: address,
            ..Config::default()
        },
        async {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{address}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let reply = client
        .post(format!("{base}/mode"))
        .header("content-type", "application/json")
        .body(r#"{"mode":"capacity","concurrency":2,"service_time":"1s","queue":2}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(reply.status(), StatusCode::OK);

    // Ten calls at once against two slots and two places: whatever the arrival order, four
    // are admitted (two served at once, two after one service time) and the rest refused,
    // unless a slot came free while the ten were still arriving (the service time, 1 s, is
    // far longer than sending ten requests on loopback takes).
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (client, url) = (client.clone(), format!("{base}/api"));
            tokio::spawn(async move {
                let reply = client.get(url).send().await.expect("answered");
                (reply.status(), reply.text().await.expect("body"))
            })
        })
        .collect();
    let mut ok = 0;
    let mut overloaded = 0;
    for call in calls {
        match call.await.expect("task") {
            (StatusCode::OK, body) if body == SUCCESS_BODY => ok += 1,
            (StatusCode::SERVICE_UNAVAILABLE, body) if body == OVERLOADED_BODY => overloaded += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let stats = client
        .get(format!("{base}/stats"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    let stats: Value = serde_json::from_str(&stats).expect("JSON");
    let capacity = &stats["capacity"];
    assert_eq!(capacity["served"], ok, "{stats}");
    assert_eq!(capacity["refused"], overloaded, "{stats}");
    assert_eq!(ok + overloaded, 10);
    // The two slots and two places were used, and the queue's bound refused the others.
    assert!(ok >= 4, "{stats}");
    assert!(overloaded >= 1, "{stats}");
    assert_eq!(capacity["waiting"], 0, "{stats}");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops")
        .expect("no panic")
        .expect("clean");
}
