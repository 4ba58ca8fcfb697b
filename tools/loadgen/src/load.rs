//! Sending the load: `concurrency` workers share one request counter, so exactly `requests`
//! requests are sent and never more than `concurrency` are in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, Url};

/// What one request came to: the status, or `None` when no answer came (refused, timed out).
pub(crate) type Outcome = (Option<u16>, Duration);

/// Every request's outcome, and how long the whole run took.
pub(crate) struct Outcomes {
    pub(crate) results: Vec<Outcome>,
    pub(crate) elapsed: Duration,
}

/// Sends the load and waits for every answer.
pub(crate) async fn run(
    url: &Url,
    requests: u32,
    concurrency: u32,
    timeout: Duration,
) -> Result<Outcomes, reqwest::Error> {
    let client = Client::builder()
        .timeout(timeout)
        .no_proxy()
        // One connection per worker, kept for its next request.
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    let next = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.min(requests))
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            tokio::spawn(async move { worker(&client, &url, &next, requests).await })
        })
        .collect();
    let mut results = Vec::with_capacity(requests as usize);
    for worker in workers {
        // A worker only ends by returning its results; a panic would be a bug here.
        results.extend(worker.await.expect("a load worker panicked"));
    }
    Ok(Outcomes {
        results,
        elapsed: started.elapsed(),
    })
}

async fn worker(client: &Client, url: &Url, next: &AtomicU32, requests: u32) -> Vec<Outcome> {
    let mut results = Vec::new();
    while next.fetch_add(1, Ordering::Relaxed) < requests {
        let sent = Instant::now();
        let status = match client.get(url.clone()).send().await {
            Ok(response) => drain(response).await,
            Err(_) => None,
        };
        results.push((status, sent.elapsed()));
    }
    results
}

/// Reads the body so the connection can be reused and the time is the whole answer's; chunk by
/// chunk and kept by none, so any body size costs one chunk of memory (the client's timeout
/// bounds its time). `None` when the body broke off.
pub(crate) async fn drain(mut response: reqwest::Response) -> Option<u16> {
    let status = response.status().as_u16();
    loop {
        match response.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => return Some(status),
            Err(_) => return None,
        }
    }
}
