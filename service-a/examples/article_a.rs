//! The article's Service A in one file: `GET /call` calls Service B's `/api` through a circuit
//! breaker that opens after 3 consecutive failures and stays Open for 10 s.
//!
//! Run it:  cargo run --release -p service-a --example article_a   # on 127.0.0.1:5000, B on :5001
//! Try it:  curl 'http://127.0.0.1:5000/call?fail=true'    # 3 times B's 500, then at once OPEN
//! The full Service A (`cargo run --release -p service-a`) answers `/call` the same way, and adds
//! the fallback, `/breaker`, metrics, the dashboard and the production profile; any other path
//! here answers 404 saying so.

use std::io::IsTerminal;
use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::extract::{Query, State};
use axum::{Json, Router, http::StatusCode, routing::get};
use breaker::{CircuitBreaker, Error};
use clap::Parser;
use serde::Serialize;

// Circuit Breaker configuration
const FAILURE_THRESHOLD: u32 = 3; // Open after 3 consecutive failures
const RECOVERY_TIMEOUT: &str = "10s"; // Timeout before attempting recovery

/// The answer to any path but `/call`: what this file leaves out, and where it is.
const LEFT_OUT: &str = "article_a has only /call: /breaker, /call-fallback, /metrics and the \
                        dashboard are in service A (cargo run --release -p service-a)\n";

/// The article's ports, and the recovery timeout as a flag so tests can shorten it.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 lets the system pick a free one.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Where Service B is.
    #[arg(long, default_value = "http://127.0.0.1:5001")]
    service_b_url: reqwest::Url,
    /// How long the circuit stays Open before a probe may test B.
    #[arg(long, default_value = RECOVERY_TIMEOUT, value_parser = humantime::parse_duration)]
    recovery_timeout: Duration,
}

/// What every call needs: the breaker, the HTTP client and B's `/api` URL.
#[derive(Debug)]
struct App {
    cb: CircuitBreaker,
    client: reqwest::Client,
    api: reqwest::Url,
}

/// The article's `@circuit`-decorated function: B's body, or why not. `cb.call` rejects the
/// call without running the closure while the circuit is Open.
async fn call_service_b(app: &App, fail: Option<&str>) -> Result<String, Error<String>> {
    let text = |err: reqwest::Error| err.to_string();
    app.cb
        .call(|| async {
            let mut request = app.client.get(app.api.clone());
            if let Some(fail) = fail {
                request = request.query(&[("fail", fail)]); // encoded, never pasted into the URL
            }
            let response = request.send().await.map_err(text)?;
            if !response.status().is_success() {
                // `raise_for_status()`: a 4xx or 5xx is a failure.
                return Err(format!("{} for url: {}", response.status(), response.url()));
            }
            response.text().await.map_err(text)
        })
        .await
}

/// The article's `jsonify(...)` bodies: `{"status":"success","data":...}` and
/// `{"status":"error","message":...}`.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
enum Reply {
    Success { data: String },
    Error { message: String },
}

/// `GET /call?fail=<v>`: B's body, or a 500 whose message is B's failure or, while the circuit
/// is Open, the breaker's rejection (`str(e)` in the article). The first `fail` counts, as in
/// Flask's `request.args.get`.
async fn call(
    State(app): State<Arc<App>>,
    Query(query): Query<Vec<(String, String)>>,
) -> (StatusCode, Json<Reply>) {
    let fail = query.iter().find(|(key, _)| key == "fail");
    match call_service_b(&app, fail.map(|(_, value)| value.as_str())).await {
        Ok(data) => (StatusCode::OK, Json(Reply::Success { data })),
        Err(err) => {
            let message = err.to_string();
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(Reply::Error { message }),
            )
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The breaker logs every state change; colour codes only for a person at a terminal.
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let cb = CircuitBreaker::builder("call_service_b")
        .failure_threshold(FAILURE_THRESHOLD)
        .recovery_timeout(args.recovery_timeout)
        .build()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let api = args.service_b_url.join("api")?;
    let app = Router::new()
        .route("/call", get(call))
        .fallback(|| async { (StatusCode::NOT_FOUND, LEFT_OUT) })
        .with_state(Arc::new(App { cb, client, api }));

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "service A listening");
    axum::serve(listener, app).await?;
    Ok(())
}
