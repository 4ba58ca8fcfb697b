//! Serving the router on a listener until told to stop.

use std::future::Future;

use service_kit::server::{ServerLimits, Stopped, serve};
use tokio::net::TcpListener;
use tracing::info;

use crate::routes::app;
use crate::state::AppState;

/// Serves Service A on `listener`, holding clients to `limits`, until `shutdown` completes;
/// then lets the requests in flight finish within `limits.shutdown_grace`, cuts the rest (a
/// call still waiting on a hung B, say) and returns how many it cut.
///
/// It takes a built [`AppState`] rather than the [`Config`](crate::Config) so that tests can
/// hand it a breaker on a [`ManualClock`](breaker::ManualClock) (see
/// [`AppState::with_clock`]); `limits` is `config.server`. The caller binds the listener, so
/// tests can pass `127.0.0.1:0`.
///
/// # Errors
///
/// Fails only if the listener's address cannot be read; errors accepting connections are
/// retried (see [`serve`]).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<Stopped> {
    let address = listener.local_addr()?;
    let service_b = state.service_b();
    let settings = service_b.settings();
    let bulkhead = match &settings.bulkhead {
        None => "none".to_owned(),
        Some(bulkhead) if bulkhead.adaptive.is_some() => {
            format!("adaptive, at most {}", bulkhead.max_concurrent)
        }
        Some(bulkhead) => bulkhead.max_concurrent.to_string(),
    };
    let throttle = match settings.breaker.and_then(|breaker| breaker.throttle) {
        None => "none".to_owned(),
        Some(throttle) => format!("K {}", throttle.k.get()),
    };
    // One line with what a reader of the log needs to know how calls to B are made; `GET
    // /breaker` has every layer's settings in full.
    info!(
        %address,
        service_b = %service_b.url(None),
        profile = %settings.profile,
        request_timeout = %humantime::format_duration(settings.request_timeout),
        retry_attempts = settings.retry.attempts,
        breaker = if state.breaker().is_some() { "on" } else { "OFF (--no-breaker)" },
        %throttle,
        %bulkhead,
        "service A listening"
    );
    info!("dashboard on http://{address}/");
    if state.admin_token().is_some() {
        info!("admin actions on: POST /breaker with Authorization: Bearer <token>");
    }
    if let (Some(fleet), Some(breaker)) = (state.fleet(), state.breaker()) {
        fleet.start(breaker, address);
    }
    // Event streams never end by themselves: end them when shutdown starts, or each open
    // dashboard would hold the server for the whole shutdown grace.
    let events = state.events().clone();
    let shutdown = async move {
        shutdown.await;
        events.close();
    };
    let stopped = serve(listener, app(state), limits, shutdown).await;
    info!(requests_cut = stopped.requests_cut, "service A stopped");
    Ok(stopped)
}
