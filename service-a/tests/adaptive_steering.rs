//! A client cannot steer the adaptive limit: real A in the adaptive profile in front of real B
//! (its `/api?fail=true` answering 500 after 2 s, as in the article), healthy calls at a steady
//! rate and beside them a trickle of `fail=true` calls, each held by B for its delay before it
//! fails. The slow failures say nothing about B's load, so the healthy calls are still served,
//! and the breaker and the throttle still count the failures.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use support::{ServiceA, ServiceB, config_with};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// B's delay before a `fail=true` call's 500: the article's.
const FAIL_DELAY: Duration = Duration::from_secs(2);
/// Healthy calls a second, and `fail=true` calls a second: the trickle holds about 20 calls in
/// flight at B (10 a second for 2 s each), the adaptive limit's first value.
const HEALTHY_PER_SECOND: u32 = 200;
const FAILING_PER_SECOND: u32 = 10;
/// How long the load runs: past the limit's 10 s floor interval, so a re-measurement of B's
/// floor falls within it.
const RUN: Duration = Duration::from_secs(12);

/// Sends `GET url` `per_second` times a second for [`RUN`] (an open loop: a slow answer does not
/// slow the sending), counting the statuses.
async fn open_loop(
    client: &Client,
    url: String,
    per_second: u32,
    statuses: Arc<Mutex<BTreeMap<u16, u32>>>,
) -> JoinSet<()> {
    let mut calls = JoinSet::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for _ in 0..per_second * RUN.as_secs() as u32 {
        ticks.tick().await;
        let (client, url, statuses) = (client.clone(), url.clone(), statuses.clone());
        calls.spawn(async move {
            let status = match client.get(&url).send().await {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            *statuses.lock().await.entry(status).or_default() += 1;
        });
    }
    calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickle_of_slow_failing_calls_leaves_the_healthy_calls_served() {
    let b = ServiceB::with_fail_delay(FAIL_DELAY).await;
    let a = ServiceA::with_real_clock(config_with(&b.base(), &["--profile", "adaptive"])).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let healthy = Arc::new(Mutex::new(BTreeMap::new()));
    let failing = Arc::new(Mutex::new(BTreeMap::new()));

    let limits = Arc::new(Mutex::new(Vec::new()));
    let watch = {
        let (state, limits) = (a.state.clone(), limits.clone());
        tokio::spawn(async move {
            for _ in 0..RUN.as_millis() / 250 + 20 {
                let counts = state.service_b().counts();
                limits.lock().await.push(counts.bulkhead_limit.unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let (healthy_calls, failing_calls) = tokio::join!(
        open_loop(&client, a.url("/call"), HEALTHY_PER_SECOND, healthy.clone()),
        open_loop(
            &client,
            a.url("/call?fail=true"),
            FAILING_PER_SECOND,
            failing.clone()
        ),
    );
    for calls in [healthy_calls, failing_calls] {
        calls.join_all().await;
    }
    watch.abort();

    let healthy = healthy.lock().await.clone();
    let failing = failing.lock().await.clone();
    let limits = limits.lock().await.clone();
    eprintln!("healthy: {healthy:?}; failing: {failing:?}; the limit every 250 ms: {limits:?}");
    let sent = HEALTHY_PER_SECOND * RUN.as_secs() as u32;
    let served = healthy.get(&200).copied().unwrap_or(0);
    assert!(
        served * 100 >= sent * 99,
        "{served} of {sent} healthy calls answered 200: {healthy:?}; the limit: {limits:?}"
    );
    let failed = failing.get(&500).copied().unwrap_or(0);
    assert!(failed > 0, "the failing calls failed: {failing:?}");
    // The breaker and the throttle counted every failure as such.
    let breaker = a.breaker().await;
    eprintln!("{breaker}");
    assert_eq!(breaker["calls"]["failed"], failed, "{breaker}");
    assert_eq!(breaker["calls"]["successful"], served, "{breaker}");
    a.stop().await;
    b.stop().await;
}
