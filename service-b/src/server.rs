//! Serving the router on a listener until told to stop.

use std::future::Future;

use service_kit::server::{Stopped, serve};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::Config;
use crate::routes::app;
use crate::state::AppState;

/// Serves Service B on `listener`, holding clients to `config.server`, until `shutdown`
/// completes; then lets the requests in flight (a call waiting out its delay, say) finish
/// within the shutdown grace, cuts the rest and returns how many it cut.
///
/// The caller binds the listener, so tests can pass `127.0.0.1:0`; `config.listen` is not used
/// here.
///
/// # Errors
///
/// Fails only if the listener's address cannot be read; errors accepting connections are
/// retried (see [`serve`]).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Stopped> {
    let address = listener.local_addr()?;
    info!(
        %address,
        fail_delay = %humantime::format_duration(config.fail_delay),
        "service B listening"
    );
    let app = app(AppState::new(config.fail_delay));
    let stopped = serve(listener, app, config.server, shutdown).await;
    info!(requests_cut = stopped.requests_cut, "service B stopped");
    Ok(stopped)
}
