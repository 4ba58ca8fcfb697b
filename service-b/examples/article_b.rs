//! The article's Service B in one file: `GET /api` answers 200 `Service B: Success`, or, with
//! `fail=true`, waits 2 s and answers 500 `Service B: Internal Error`.
//!
//! Run it:  cargo run --release -p service-b --example article_b       # on 127.0.0.1:5001
//!          cargo run --release -p service-b --example article_b -- --fail-delay 200ms
//! Try it:  curl -i 'http://127.0.0.1:5001/api?fail=true'                # 2 s later: 500
//!
//! The full Service B (`cargo run --release -p service-b`) answers `/api` the same way and adds
//! outage modes, `/stats`, `/health`, connection limits and graceful shutdown; any other path
//! here answers 404 saying so.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use clap::Parser;

/// The answer to any path but `/api`: what this file leaves out, and where it is.
const LEFT_OUT: &str = "article_b has only /api: /stats, /health and /mode are in service B \
                        (cargo run --release -p service-b)\n";

/// The article's `app.run(port=5001)`, and its `time.sleep(2)` as a flag so tests can shorten it.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 lets the system pick a free one.
    #[arg(long, default_value = "127.0.0.1:5001")]
    listen: SocketAddr,
    /// How long `/api?fail=true` waits before its 500.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    fail_delay: Duration,
}

/// `request.args.get('fail', 'false') == 'true'`: the first `fail` in the query, compared to the
/// exact text `true`. Reading the query as a list of pairs accepts any query, as Flask does.
async fn api(
    State(fail_delay): State<Duration>,
    Query(query): Query<Vec<(String, String)>>,
) -> (StatusCode, &'static str) {
    let fail = query
        .iter()
        .find(|(key, _)| key == "fail")
        .map(|(_, value)| value.as_str());
    if fail == Some("true") {
        tokio::time::sleep(fail_delay).await; // Simulate latency or processing
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Service B: Internal Error",
        );
    }
    (StatusCode::OK, "Service B: Success")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let app = Router::new()
        .route("/api", get(api))
        .fallback(|| async { (StatusCode::NOT_FOUND, LEFT_OUT) })
        .with_state(args.fail_delay);

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    // The address goes out on stdout, so that a script that asked for port 0 learns the port.
    println!("service B listening address={}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
