//! The graceful-shutdown signal both binaries serve until.

use std::future::Future;
use tokio::signal::unix::{SignalKind, signal};

/// A future that completes on the first SIGINT (Ctrl-C) or SIGTERM.
///
/// The SIGTERM handler is installed here, before serving starts, so that a failure stops
/// start-up instead of leaving a server that ignores SIGTERM.
///
/// # Errors
///
/// When the SIGTERM handler cannot be installed.
pub fn signal_received() -> std::io::Result<impl Future<Output = ()>> {
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
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
        tracing::info!("shutdown requested");
    })
}
