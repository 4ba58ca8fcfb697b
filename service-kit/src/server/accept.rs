//! Taking the next connection: never more than the cap at once, and never giving up on an
//! accept error.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

use super::per_client::{ClientSlot, PerClient};
use crate::log_limit::LogLimiter;

/// One line a second at most for clients over their share: a client reconnecting as fast as
/// it can would otherwise write one per connection.
static OVER_SHARE: LogLimiter = LogLimiter::new("client over its share of connections", 1);

/// How long to wait before accepting again after an error such as EMFILE ("Too many open
/// files"): long enough not to spin on a failure that only a closing connection can clear,
/// short enough that the server resumes soon after one does.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One slot per connection the server may hold at once.
///
/// A connection's task holds its [`OwnedSemaphorePermit`] and frees the slot when it ends, so
/// the number of open connections is `max - available`.
#[derive(Debug)]
pub(super) struct Slots {
    semaphore: Arc<Semaphore>,
    max: u32,
}

impl Slots {
    pub(super) fn new(max: u32) -> Self {
        Self {
            // `u32` to `usize` is lossless on every target tokio runs on.
            semaphore: Arc::new(Semaphore::new(max as usize)),
            max,
        }
    }

    /// Connections open now.
    pub(super) fn open(&self) -> usize {
        self.max as usize - self.semaphore.available_permits()
    }

    /// A free slot, waiting for a connection to close when there is none. Logs one warning
    /// per such wait, not one per refused connection (none is refused: they queue in the
    /// kernel until the server accepts again).
    async fn take(&self) -> OwnedSemaphorePermit {
        if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
            return permit;
        }
        warn!(
            "connection limit {} reached; not accepting until one closes",
            self.max
        );
        let permit = Arc::clone(&self.semaphore)
            .acquire_owned()
            .await
            .expect("the slots' semaphore is never closed");
        info!("a connection closed; accepting again");
        permit
    }
}

/// What a connection holds while it is served: its place under the server's cap and under its
/// client's share.
#[derive(Debug)]
pub(super) struct Held {
    _slot: OwnedSemaphorePermit,
    _client: ClientSlot,
}

/// The next connection within both caps, its peer's address and the places it holds. A
/// connection from a client that holds its share already is closed at once, and the next one
/// accepted in its place.
///
/// Cancel-safe: dropping the future drops at most a slot, never a connection to be served.
pub(super) async fn next(
    listener: &TcpListener,
    slots: &Slots,
    per_client: &PerClient,
) -> (TcpStream, SocketAddr, Held) {
    let slot = slots.take().await;
    loop {
        let (stream, peer) = accept(listener).await;
        if let Some(client) = per_client.admit(peer.ip()) {
            let held = Held {
                _slot: slot,
                _client: client,
            };
            return (stream, peer, held);
        }
        // Closing it at once frees the accept queue for other clients.
        drop(stream);
        if OVER_SHARE.admit() {
            warn!(
                client = %peer.ip(),
                share = per_client.cap().map_or(0, std::num::NonZeroU32::get),
                "client {} holds its share of connections; closing its new ones",
                peer.ip()
            );
        }
    }
}

/// Accepts, retrying every error: one belonging to a single client (it hung up before being
/// accepted) at once, any other (out of descriptors or memory) after [`ACCEPT_BACKOFF`],
/// logging one warning per run of failures.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut failures = 0_u64;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if failures > 0 {
                    info!(failures, "accepting connections again");
                }
                debug!(%peer, "connection accepted");
                return (stream, peer);
            }
            Err(err) if is_one_clients_error(&err) => {
                debug!(%err, "a client left before its connection was accepted");
            }
            Err(err) => {
                if failures == 0 {
                    warn!(
                        %err,
                        "cannot accept connections; retrying every {}",
                        humantime::format_duration(ACCEPT_BACKOFF)
                    );
                }
                failures += 1;
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

fn is_one_clients_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_counts_the_slots_taken_and_freed() {
        let slots = Slots::new(3);
        assert_eq!(slots.open(), 0);
        let first = slots.take().await;
        let second = slots.take().await;
        assert_eq!(slots.open(), 2);
        drop(first);
        assert_eq!(slots.open(), 1);
        drop(second);
        assert_eq!(slots.open(), 0);
    }

    #[test]
    fn only_a_single_clients_hang_up_is_retried_at_once() {
        for kind in [
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset,
        ] {
            assert!(is_one_clients_error(&io::Error::from(kind)), "{kind:?}");
        }
        // EMFILE, "Too many open files": the whole server's problem, retried after a pause.
        let emfile = io::Error::from_raw_os_error(24);
        assert!(!is_one_clients_error(&emfile), "{emfile}");
        assert!(!is_one_clients_error(&io::Error::from(
            io::ErrorKind::OutOfMemory
        )));
    }
}
