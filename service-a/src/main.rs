// Service A, the article's consumer: calls service B through a circuit breaker.
//
// Run it:   cargo run -p service-b -- --fail-delay 2s          # B on 127.0.0.1:5001
//           cargo run -p service-a                             # A on 127.0.0.1:5000
//           cargo run -p service-a -- --recovery-timeout 30s --request-timeout 1s
//           cargo run -p service-a -- --no-breaker             # the "cost of no breaker"
// Try it:   curl 'http://127.0.0.1:5000/call?fail=true'        # 3 times: 500 after 2 s each
//           curl 'http://127.0.0.1:5000/call?fail=true'        # then at once: Circuit "..." OPEN until ...
//           curl 'http://127.0.0.1:5000/call-fallback?fail=true'
//           curl http://127.0.0.1:5000/breaker
//           curl http://127.0.0.1:5000/metrics
// Logs:     RUST_LOG=debug shows every request; the default is info, which includes every
//           state change of the breaker.

use std::io::IsTerminal;

use anyhow::Context;
use service_a::{AppState, Config};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Exits with code 2 and clap's message for any bad flag, breaker settings included.
    let config = Config::parse_checked();
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

    let state = AppState::new(&config).context("setting up")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    service_a::run(listener, state, shutdown)
        .await
        .context("serving")
}
