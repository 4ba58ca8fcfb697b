// Service B, the article's unreliable backend.
//
// Run it:   cargo run -p service-b -- --listen 127.0.0.1:5001 --fail-delay 2s
//           cargo run -p service-b -- --help          # every flag, the connection limits too
// Try it:   curl -i 'http://127.0.0.1:5001/api?fail=true'        # 2 s later: 500
//           curl -X POST -H 'content-type: application/json' \
//                -d '{"mode":"fail","for":"30s"}' http://127.0.0.1:5001/mode
//           curl http://127.0.0.1:5001/stats
// Logs:     --log-format json for one JSON object per line; RUST_LOG=debug shows every
//           request; the default is info.

use anyhow::Context;
use service_b::Config;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse_checked();
    service_kit::logging::init(config.log.log_format);
    let shutdown =
        service_kit::shutdown::signal_received().context("installing the SIGTERM handler")?;

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    service_b::run(listener, config, shutdown)
        .await
        .context("serving")?;
    // Requests cut at shutdown are logged; they are not an error of the process.
    Ok(())
}
