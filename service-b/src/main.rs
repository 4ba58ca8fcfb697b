// Service B, the article's unreliable backend.
//
// Run it:   cargo run -p service-b -- --listen 127.0.0.1:5001 --fail-delay 2s
// Try it:   curl -i 'http://127.0.0.1:5001/api?fail=true'        # 2 s later: 500
//           curl -X POST -H 'content-type: application/json' \
//                -d '{"mode":"fail","for":"30s"}' http://127.0.0.1:5001/mode
//           curl http://127.0.0.1:5001/stats
// Logs:     RUST_LOG=debug shows every request; the default is info.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use service_b::Config;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person watching; scripts grep plain log lines.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    // Installed before serving so a failure stops start-up instead of leaving a server that
    // ignores SIGTERM.
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let shutdown = async move {
        let ctrl_c = async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                // Still stoppable by SIGTERM, so keep serving rather than quit at once.
                tracing::error!(%err, "cannot listen for ctrl-c; only SIGTERM will stop the server");
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutdown requested; finishing requests in flight");
    };

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    service_b::run(listener, config, shutdown)
        .await
        .context("serving")
}
