// proxy-floor: the least a proxy in front of service B can do (see the crate docs).
//
// Run it:   cargo run --release -p service-b                   # B on 127.0.0.1:5001
//           cargo run --release -p proxy-floor -- --service-b-url http://127.0.0.1:5001 \
//               --listen 127.0.0.1:5002 --client hyper         # or --client reqwest
// Try it:   curl http://127.0.0.1:5002/call                    # {"status":"success","data":"Service B: Success"}
// Measure:  scripts/ceiling.sh                                 # beside service A and nginx
//
// It writes one line, `proxy-floor listening address=ADDR ...`, the form scripts/common.sh's
// start_service reads a service's address from.

use anyhow::Context;
use clap::Parser;
use proxy_floor::{Config, Upstream};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

// Service A's allocator, so that the two differ in their HTTP stack alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Exits with code 2 and clap's message, naming the flag, for any bad flag.
    let config = Config::parse();
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let shutdown = async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };

    let upstream = Upstream::new(config.client, config.b_api.clone()).context("setting up")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    println!(
        "proxy-floor listening address={address} client={} service_b={}",
        config.client, config.b_api
    );
    proxy_floor::serve(listener, upstream, shutdown).await;
    Ok(())
}
