//! The end of serving: requests in flight get a grace period, then whatever is left is cut.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_http::metrics::in_flight_requests::InFlightRequestsCounter;
use tracing::{info, warn};

use super::accept::Slots;

/// How serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stopped {
    /// Requests still in flight when the shutdown grace ran out, closed without an answer.
    pub requests_cut: usize,
}

/// What a server tracks of its connections, for the drain.
#[derive(Debug)]
pub(super) struct Connections {
    /// Tells every connection to finish its request and close (hyper's graceful shutdown,
    /// which each connection's task starts when this turns `true`).
    pub(super) stopping: watch::Sender<bool>,
    /// Every connection's task, so the ones still open after the grace can be aborted.
    pub(super) tasks: JoinSet<()>,
    /// Requests between their head being read and their answer being written.
    pub(super) in_flight: InFlightRequestsCounter,
    /// The connection cap, which also counts the connections open.
    pub(super) slots: Slots,
}

/// Lets requests in flight finish for at most `grace`, then cuts every connection left and
/// reports how many requests that cut.
///
/// Returns once every connection's task has ended, so no request outlives the server.
pub(super) async fn drain(connections: Connections, grace: Duration) -> Stopped {
    let Connections {
        stopping,
        mut tasks,
        in_flight,
        slots,
    } = connections;
    info!(
        connections = slots.open(),
        requests = in_flight.get(),
        "no longer accepting; letting requests in flight finish within {}",
        humantime::format_duration(grace)
    );
    stopping.send_replace(true);
    let finished = async { while tasks.join_next().await.is_some() {} };
    let requests_cut = match tokio::time::timeout(grace, finished).await {
        Ok(()) => 0,
        Err(_) => {
            let requests_cut = in_flight.get();
            warn!(
                requests_cut,
                connections = slots.open(),
                "shutdown grace of {} over; cutting {requests_cut} request(s) still in flight",
                humantime::format_duration(grace)
            );
            requests_cut
        }
    };
    // Aborts what is left (nothing when every connection finished) and waits for each task
    // to end, which drops its socket.
    tasks.shutdown().await;
    Stopped { requests_cut }
}
