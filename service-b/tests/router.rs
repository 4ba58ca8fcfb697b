//! The router driven in-process with `oneshot`, on a paused clock so delays and mode expiry
//! cost no real time.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use service_b::{AppState, FAILURE_BODY, SUCCESS_BODY, StatsSnapshot, UNAVAILABLE_BODY, app};
use tokio::time::Instant;
use tower::ServiceExt;

const FAIL_DELAY: Duration = Duration::from_secs(2);

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
    elapsed: Duration,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}

async fn send(router: &Router, request: Request<Body>) -> Reply {
    let started = Instant::now();
    let response = router.clone().oneshot(request).await.expect("infallible");
    let elapsed = started.elapsed();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = String::from_utf8(bytes.to_vec()).expect("UTF-8 body");
    Reply {
        status,
        content_type,
        body,
        elapsed,
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    send(
        router,
        Request::get(uri)
            .body(Body::empty())
            .expect("valid request"),
    )
    .await
}

async fn post_mode(router: &Router, body: &str) -> Reply {
    let request = Request::post("/mode")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("valid request");
    send(router, request).await
}

fn service() -> (AppState, Router) {
    let state = AppState::new(FAIL_DELAY);
    (state.clone(), app(state))
}

fn assert_error(reply: &Reply, status: StatusCode, needle: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"], "error", "{body}");
    let message = body["message"].as_str().expect("message is a string");
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn fail_true_waits_the_delay_then_answers_500() {
    let (_, router) = service();
    let reply = get(&router, "/api?fail=true").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, FAILURE_BODY);
    assert!(
        reply.content_type.starts_with("text/plain"),
        "{}",
        reply.content_type
    );
    assert!(
        reply.elapsed >= FAIL_DELAY,
        "answered after {:?}",
        reply.elapsed
    );
    assert!(
        reply.elapsed < FAIL_DELAY + Duration::from_millis(100),
        "{:?}",
        reply.elapsed
    );
}

#[tokio::test(start_paused = true)]
async fn fail_true_is_not_answered_before_the_delay() {
    let (_, router) = service();
    let call = tokio::spawn(async move { get(&router, "/api?fail=true").await });
    tokio::time::sleep(FAIL_DELAY - Duration::from_millis(1)).await;
    assert!(!call.is_finished(), "answered early");
    let reply = call.await.expect("task");
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test(start_paused = true)]
async fn anything_but_exactly_true_succeeds_at_once() {
    let (_, router) = service();
    for uri in [
        "/api",
        "/api?fail=false",
        "/api?fail=TRUE",
        "/api?fail=1",
        "/api?fail=true%20",
        "/api?fail=true+",
        "/api?fail=",
        "/api?other=true",
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.body, SUCCESS_BODY, "{uri}");
        assert!(reply.content_type.starts_with("text/plain"), "{uri}");
        assert_eq!(reply.elapsed, Duration::ZERO, "{uri}");
    }
}

#[tokio::test]
async fn health_answers_ok() {
    let (_, router) = service();
    let reply = get(&router, "/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ok" }));
}

#[tokio::test(start_paused = true)]
async fn stats_count_calls_received_and_calls_answered_500() {
    let (state, router) = service();
    get(&router, "/api").await;
    get(&router, "/api?fail=true").await;
    get(&router, "/api?fail=true").await;
    get(&router, "/api?fail=%zz").await;
    get(&router, "/health").await;
    let reply = get(&router, "/stats").await;
    assert_eq!(
        reply.json(),
        json!({
            "api_calls": 4,
            "failed": 2,
            "in_flight": 0,
            "max_in_flight": 1,
            "capacity": { "served": 0, "queued": 0, "refused": 0, "waiting": 0 }
        })
    );
    assert_eq!(
        state.stats_snapshot(),
        StatsSnapshot {
            api_calls: 4,
            failed: 2,
            in_flight: 0,
            max_in_flight: 1,
            ..StatsSnapshot::default()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_is_counted_on_arrival_not_when_answered() {
    let (state, router) = service();
    let call = tokio::spawn(async move { get(&router, "/api?fail=true").await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(
        state.stats_snapshot(),
        StatsSnapshot {
            api_calls: 1,
            failed: 0,
            in_flight: 1,
            max_in_flight: 1,
            ..StatsSnapshot::default()
        }
    );
    call.await.expect("task");
    assert_eq!(
        state.stats_snapshot(),
        StatsSnapshot {
            api_calls: 1,
            failed: 1,
            in_flight: 0,
            max_in_flight: 1,
            ..StatsSnapshot::default()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn max_in_flight_is_the_peak_of_concurrent_calls_and_in_flight_drains() {
    let (state, router) = service();
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move { get(&router, "/api?fail=true").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(state.stats_snapshot().in_flight, 5);
    for call in calls {
        call.await.expect("task");
    }
    let stats = state.stats_snapshot();
    assert_eq!((stats.in_flight, stats.max_in_flight), (0, 5));
    assert_eq!(get(&router, "/api").await.status, StatusCode::OK);
    assert_eq!(
        state.stats_snapshot().max_in_flight,
        5,
        "a peak, not the last value"
    );
}

#[tokio::test(start_paused = true)]
async fn flaky_answers_503_at_once_at_about_its_rate_and_otherwise_as_healthy() {
    let state = AppState::with_seed(FAIL_DELAY, 42);
    let router = app(state.clone());
    let reply = post_mode(&router, r#"{"mode":"flaky","failure_rate":0.1}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "mode": "flaky", "delay_ms": null, "failure_rate": 0.1, "remaining_ms": null })
    );

    let mut unavailable = 0;
    for _ in 0..1000 {
        let reply = get(&router, "/api").await;
        assert_eq!(reply.elapsed, Duration::ZERO, "no delay either way");
        match reply.status {
            StatusCode::OK => assert_eq!(reply.body, SUCCESS_BODY),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(reply.body, UNAVAILABLE_BODY);
                unavailable += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    // Binomial(1000, 0.1): mean 100, standard deviation 9.5; the seed fixes the draws, and the
    // bounds (beyond 4 deviations) hold for any seed but a freak one.
    assert!((60..=140).contains(&unavailable), "{unavailable} of 1000");
    assert_eq!(state.stats_snapshot().failed, unavailable);

    // Not chosen to fail, `fail=true` behaves as when healthy.
    post_mode(&router, r#"{"mode":"flaky","failure_rate":0}"#).await;
    let reply = get(&router, "/api?fail=true").await;
    assert_eq!(
        (reply.status, reply.elapsed),
        (StatusCode::INTERNAL_SERVER_ERROR, FAIL_DELAY)
    );

    post_mode(&router, r#"{"mode":"flaky","failure_rate":1}"#).await;
    for _ in 0..20 {
        assert_eq!(
            get(&router, "/api").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_fails_the_same_calls() {
    let outcomes = |seed| async move {
        let router = app(AppState::with_seed(FAIL_DELAY, seed));
        post_mode(&router, r#"{"mode":"flaky","failure_rate":0.5}"#).await;
        let mut statuses = Vec::new();
        for _ in 0..50 {
            statuses.push(get(&router, "/api").await.status);
        }
        statuses
    };
    assert_eq!(outcomes(7).await, outcomes(7).await);
}

#[tokio::test]
async fn a_broken_percent_escape_is_a_json_400() {
    let (_, router) = service();
    let reply = get(&router, "/api?fail=%zz").await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "%zz");
    assert!(reply.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn fail_given_twice_is_a_json_400_from_the_query_rejection() {
    let (_, router) = service();
    let reply = get(&router, "/api?fail=true&fail=false").await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "duplicate field `fail`");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let (_, router) = service();
    assert_error(
        &get(&router, "/nowhere").await,
        StatusCode::NOT_FOUND,
        "/nowhere",
    );
    let reply = send(
        &router,
        Request::delete("/api")
            .body(Body::empty())
            .expect("valid request"),
    )
    .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "DELETE");
}

#[tokio::test(start_paused = true)]
async fn mode_starts_healthy() {
    let (_, router) = service();
    let reply = get(&router, "/mode").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "mode": "healthy", "delay_ms": null, "remaining_ms": null })
    );
}

#[tokio::test(start_paused = true)]
async fn fail_mode_fails_every_call_after_its_delay() {
    let (_, router) = service();
    let reply = post_mode(&router, r#"{"mode":"fail","delay":"500ms"}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "mode": "fail", "delay_ms": 500, "remaining_ms": null })
    );

    for uri in ["/api", "/api?fail=false", "/api?fail=true"] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_eq!(reply.body, FAILURE_BODY, "{uri}");
        assert_eq!(reply.elapsed, Duration::from_millis(500), "{uri}");
    }
}

#[tokio::test(start_paused = true)]
async fn fail_mode_delay_defaults_to_the_fail_delay() {
    let (_, router) = service();
    let reply = post_mode(&router, r#"{"mode":"fail"}"#).await;
    assert_eq!(reply.json()["delay_ms"], 2000);
    assert_eq!(get(&router, "/api").await.elapsed, FAIL_DELAY);
}

#[tokio::test(start_paused = true)]
async fn slow_mode_delays_every_call_but_answers_normally() {
    let (_, router) = service();
    post_mode(&router, r#"{"mode":"slow","delay":"1s"}"#).await;

    let ok = get(&router, "/api").await;
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (StatusCode::OK, SUCCESS_BODY)
    );
    assert_eq!(ok.elapsed, Duration::from_secs(1));

    let failed = get(&router, "/api?fail=true").await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.elapsed, Duration::from_secs(1) + FAIL_DELAY);
}

#[tokio::test(start_paused = true)]
async fn a_mode_with_for_reverts_to_healthy_by_itself() {
    let (_, router) = service();
    let reply = post_mode(&router, r#"{"mode":"fail","for":"30s","delay":"0s"}"#).await;
    assert_eq!(
        reply.json(),
        json!({ "mode": "fail", "delay_ms": 0, "remaining_ms": 30000 })
    );

    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(get(&router, "/mode").await.json()["remaining_ms"], 29999);
    assert_eq!(
        get(&router, "/api").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(get(&router, "/api").await.status, StatusCode::OK);
    assert_eq!(
        get(&router, "/mode").await.json(),
        json!({ "mode": "healthy", "delay_ms": null, "remaining_ms": null })
    );
}

#[tokio::test(start_paused = true)]
async fn healthy_ends_an_outage_early() {
    let (_, router) = service();
    post_mode(&router, r#"{"mode":"fail","for":"1m"}"#).await;
    let reply = post_mode(&router, r#"{"mode":"healthy"}"#).await;
    assert_eq!(reply.json()["mode"], "healthy");
    assert_eq!(get(&router, "/api").await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_mode_bodies_are_json_4xx_naming_the_problem() {
    let (_, router) = service();
    // A value B cannot act on, or a body that is not JSON: 400.
    let bad_values = [
        (r#"{"mode":"broken"}"#, "`mode`"),
        (r#"{"mode":"fail","for":"soon"}"#, "`for`"),
        (r#"{"mode":"slow","delay":"2 parsecs"}"#, "`delay`"),
        (r#"{"mode":"fail","for":"0s"}"#, "`for`"),
        (r#"{"mode":"slow","delay":"0ms"}"#, "`delay`"),
        (r#"{"mode":"fail","for":"2days"}"#, "`for`"),
        (r#"{"mode":"healthy","for":"10s"}"#, "`for`"),
        (r#"{"mode":"fail""#, "JSON"),
    ];
    // JSON of the wrong shape: a field of the wrong type, missing or unknown: 422.
    let bad_shapes = [
        (r#"{"mode":5}"#, "mode"),
        (r#"{"for":"10s"}"#, "`mode`"),
        (r#"{"mode":"fail","duration":"10s"}"#, "`duration`"),
    ];
    for (status, cases) in [
        (StatusCode::BAD_REQUEST, &bad_values[..]),
        (StatusCode::UNPROCESSABLE_ENTITY, &bad_shapes[..]),
    ] {
        for (body, needle) in cases {
            let reply = post_mode(&router, body).await;
            assert_eq!(reply.status, status, "{body}: {}", reply.body);
            assert_error(&reply, status, needle);
        }
    }
    // None of those changed anything.
    assert_eq!(get(&router, "/mode").await.json()["mode"], "healthy");
}

#[tokio::test]
async fn a_mode_body_without_json_content_type_is_a_json_415() {
    let (_, router) = service();
    let request = Request::post("/mode")
        .body(Body::from(r#"{"mode":"fail"}"#))
        .expect("valid request");
    let reply = send(&router, request).await;
    assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
}

#[tokio::test(start_paused = true)]
async fn a_mode_body_over_a_kibibyte_is_refused_with_a_json_413() {
    let (_, router) = service();
    let padded = format!(r#"{{"mode":"fail","padding":"{}"}}"#, "x".repeat(2_000));
    let reply = post_mode(&router, &padded).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert_eq!(reply.json()["status"], "error");
    assert_eq!(
        get(&router, "/mode").await.json()["mode"],
        "healthy",
        "unchanged"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bad_mode_value_is_echoed_cut_to_the_echo_limit() {
    let (_, router) = service();
    let long = "m".repeat(900);
    let reply = post_mode(&router, &format!(r#"{{"mode":"{long}"}}"#)).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "must be one of healthy");
    let message = reply.json()["message"].as_str().expect("text").to_owned();
    assert!(message.len() < 300, "{} bytes: {message}", message.len());
    assert!(message.contains('…'), "{message}");
}
