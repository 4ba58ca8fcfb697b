//! `--fleet-redis` over real HTTP with no Redis to reach (a port nothing listens on): service A
//! starts, serves every call on its own breaker, and says so in `/breaker` and `/metrics`;
//! without the flag `/breaker` has no `fleet` at all. scripts/fleet.sh runs five replicas
//! against a real Redis.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use support::{PATIENCE, ServiceA, ServiceB, config_with};

/// `redis://` on a loopback port nothing listens on, with a password that must never show.
fn nowhere() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port();
    format!("redis://:fleet-s3cret@127.0.0.1:{port}")
}

#[tokio::test]
async fn without_the_flag_breaker_has_no_fleet() {
    let b = ServiceB::start().await;
    let a = ServiceA::start(&b).await;
    let view = a.breaker().await;
    assert!(view.get("fleet").is_none(), "{view}");
    let (_, metrics) = a.get_text("/metrics").await;
    assert!(!metrics.contains("fleet_"), "{metrics}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn with_redis_gone_a_replica_serves_on_its_own_and_says_so() {
    let b = ServiceB::start().await;
    let redis = nowhere();
    let a = ServiceA::with_config(config_with(
        &b.base(),
        &[
            "--fleet-redis",
            &redis,
            "--fleet-quorum",
            "2",
            "--fleet-id",
            "a-1:5000",
            "--fleet-heartbeat",
            "50ms",
        ],
    ))
    .await;
    for _ in 0..5 {
        let (status, body) = a.get("/call").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The first heartbeats find no Redis.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let fleet = loop {
        let view = a.breaker().await;
        let fleet = view["fleet"].clone();
        if fleet["connected"] == json!(false) || tokio::time::Instant::now() > deadline {
            break fleet;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        fleet,
        json!({
            "id": "a-1:5000",
            "connected": false,
            "replicas_live": 1,
            "replicas_open": 0,
            "quorum": 2,
            "probe_holder": null
        })
    );
    // Its own breaker still trips on its own evidence.
    for _ in 0..3 {
        a.get("/call?fail=true").await;
    }
    let message = a.error_message("/call").await;
    assert!(message.contains("OPEN until"), "{message}");
    let (_, metrics) = a.get_text("/metrics").await;
    for line in [
        "fleet_connected{name=\"call_service_b\",id=\"a-1:5000\"} 0",
        "fleet_replicas_live{name=\"call_service_b\",id=\"a-1:5000\"} 1",
        "fleet_quorum{name=\"call_service_b\",id=\"a-1:5000\"} 2",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    assert!(!metrics.contains("fleet_probe_holder{"), "nobody holds it");
    let (_, body) = a.get_text("/breaker").await;
    assert!(!body.contains("s3cret") && !metrics.contains("s3cret"));
    a.stop().await;
    b.stop().await;
}
