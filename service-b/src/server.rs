//! Serving the router on a listener until told to stop.

use std::future::Future;

use tokio::net::TcpListener;
use tracing::info;

use crate::config::Config;
use crate::routes::app;
use crate::state::AppState;

/// Serves Service B on `listener` until `shutdown` completes, then finishes the requests in
/// flight (including any still waiting out a delay) and returns.
///
/// The caller binds the listener, so tests can pass `127.0.0.1:0`; `config.listen` is not used
/// here.
///
/// # Errors
///
/// Fails only if the listener's address cannot be read; axum retries errors accepting
/// individual connections.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    info!(
        %address,
        fail_delay = %humantime::format_duration(config.fail_delay),
        "service B listening"
    );
    axum::serve(listener, app(AppState::new(config.fail_delay)))
        .with_graceful_shutdown(shutdown)
        .await?;
    info!("service B stopped");
    Ok(())
}
