// Service A, the article's consumer: calls service B through a circuit breaker.
//
// Run it:   cargo run -p service-b -- --fail-delay 2s          # B on 127.0.0.1:5001
//           cargo run -p service-a                             # A on 127.0.0.1:5000
//           cargo run -p service-a -- --recovery-timeout 30s --request-timeout 1s
//           cargo run -p service-a -- --no-breaker             # the "cost of no breaker"
//           cargo run -p service-a -- --help                   # every flag, connection limits too
// Try it:   curl 'http://127.0.0.1:5000/call?fail=true'        # 3 times: 500 after 2 s each
//           curl 'http://127.0.0.1:5000/call?fail=true'        # then at once: Circuit "..." OPEN until ...
//           curl 'http://127.0.0.1:5000/call-fallback?fail=true'
//           curl http://127.0.0.1:5000/breaker
//           curl http://127.0.0.1:5000/metrics
// Logs:     --log-format json for one JSON object per line; RUST_LOG=debug shows every
//           request; the default is info, which includes every state change of the breaker.

use anyhow::Context;
use service_a::{AppState, Config};
use tokio::net::TcpListener;

// Every request allocates and frees on whichever runtime thread runs it; mimalloc's per-thread
// heaps take no lock there (docs/performance.md has what it bought).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Exits with code 2 and clap's message for any bad flag, breaker settings included.
    let settings = Config::parse_checked();
    let config = settings.config();
    service_kit::logging::init(config.log.log_format);
    let shutdown =
        service_kit::shutdown::signal_received().context("installing the SIGTERM handler")?;

    let state = AppState::new(&settings).context("setting up")?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    service_a::run(listener, state, config.server, shutdown)
        .await
        .context("serving")?;
    // Requests cut at shutdown are logged; they are not an error of the process.
    Ok(())
}
