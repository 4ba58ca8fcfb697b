//! Taking the next connection: within its address's and its prefix's shares, never more than
//! the cap at once (at the cap, in the place of the longest-idle connection), and never giving
//! up on an accept error.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

use super::idle::{IdleConnections, MadeRoom};
use super::per_client::{ClientSlot, PerClient};
use crate::log_episode::{Ended, EpisodeLog, Met};
use crate::log_limit::LogLimiter;

/// One line a second at most for clients over their share: a client reconnecting as fast as
/// it can would otherwise write one per connection.
static OVER_SHARE: LogLimiter = LogLimiter::new("client over its share of connections", 1);

/// The same for address prefixes over theirs.
static OVER_PREFIX_SHARE: LogLimiter =
    LogLimiter::new("address prefix over its share of connections", 1);

/// How long to wait before accepting again after an error such as EMFILE ("Too many open
/// files"): long enough not to spin on a failure that only a closing connection can clear,
/// short enough that the server resumes soon after one does.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long the cap must go unmet before an episode of reaching it is over (and its end
/// logged): a crowd that keeps the server at its cap, or brings it back within this, writes
/// one line when it starts and one when it ends, however many connections it opens.
pub const CAP_EPISODE_QUIET: Duration = Duration::from_secs(10);

/// One slot per connection the server may hold at once.
///
/// A connection's task holds its [`OwnedSemaphorePermit`] and frees the slot when it ends, so
/// the number of open connections is `max - available`.
#[derive(Debug)]
pub(super) struct Slots {
    semaphore: Arc<Semaphore>,
    max: u32,
    /// Episodes of the cap reached, for the log.
    episodes: EpisodeLog,
    /// Idle connections told to leave in the current episode.
    made_room: AtomicU64,
}

impl Slots {
    pub(super) fn new(max: u32) -> Self {
        Self {
            // `u32` to `usize` is lossless on every target tokio runs on.
            semaphore: Arc::new(Semaphore::new(max as usize)),
            max,
            episodes: EpisodeLog::new(CAP_EPISODE_QUIET),
            made_room: AtomicU64::new(0),
        }
    }

    /// Connections open now.
    pub(super) fn open(&self) -> usize {
        self.max as usize - self.semaphore.available_permits()
    }

    /// A free slot for a connection from `client`. At the cap, the longest-idle connection
    /// (`client`'s own, when it holds one) is told to leave and its slot is the new
    /// connection's; with none idle, the new connection waits until one closes or goes idle. Logs one line when an episode of reaching the cap begins and one when it ends.
    async fn take(&self, idle: &IdleConnections, client: IpAddr) -> OwnedSemaphorePermit {
        if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
            self.log_end(self.episodes.clear());
            return permit;
        }
        if let Met::Began { previous } = self.episodes.met() {
            self.log_end(previous);
            warn!(
                max_connections = self.max,
                "connection limit {} reached; a new connection takes the place of the one idle \
                 longest, or waits for one to close or go idle",
                self.max
            );
        }
        loop {
            let changed = idle.changed();
            let mut changed = pin!(changed);
            // Registered before looking, so a connection going idle in between still wakes us.
            changed.as_mut().enable();
            if let Ok(permit) = Arc::clone(&self.semaphore).try_acquire_owned() {
                return permit;
            }
            match idle.make_room(client) {
                MadeRoom::Told => {
                    self.made_room.fetch_add(1, Ordering::Relaxed);
                }
                MadeRoom::AlreadyLeaving | MadeRoom::NoneIdle => {}
            }
            tokio::select! {
                permit = Arc::clone(&self.semaphore).acquire_owned() => {
                    return permit.expect("the slots' semaphore is never closed");
                }
                () = changed => {}
            }
        }
    }

    /// Logs the end of an episode of reaching the cap, if one ended.
    fn log_end(&self, ended: Option<Ended>) {
        let Some(ended) = ended else { return };
        let made_room = self.made_room.swap(0, Ordering::Relaxed);
        info!(
            max_connections = self.max,
            times_reached = ended.times_met,
            idle_closed = made_room,
            "connection limit {} no longer reached: {} new connection(s) met it over {}; {} \
             idle one(s) closed to make room",
            self.max,
            ended.times_met,
            humantime::format_duration(round_to_millis(ended.lasted)),
            made_room
        );
    }
}

fn round_to_millis(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// What a connection holds while it is served: its place under the server's cap and under its
/// client's shares, and its registration among the connections that may be told to leave.
#[derive(Debug)]
pub(super) struct Held {
    _slot: OwnedSemaphorePermit,
    _client: ClientSlot,
    _prefix: ClientSlot,
}

/// The shares a connection must fit in: its address's and its address prefix's.
#[derive(Debug)]
pub(super) struct Shares {
    pub(super) per_client: PerClient,
    pub(super) per_prefix: PerClient,
}

/// The next connection within the shares and the cap, its peer's address and the places it
/// holds. A connection from a client (or a prefix) that holds its share already is closed at
/// once, and the next one accepted in its place: it never takes another's place under the cap.
///
/// Cancel-safe in that nothing leaks: dropping the future drops at most one accepted connection
/// waiting for a slot (at shutdown, with the listener).
pub(super) async fn next(
    listener: &TcpListener,
    slots: &Slots,
    shares: &Shares,
    idle: &IdleConnections,
) -> (TcpStream, SocketAddr, Held) {
    loop {
        let (stream, peer) = accept(listener).await;
        let Some((client, prefix)) = admit(shares, peer) else {
            // Closing it at once frees the accept queue for other clients.
            drop(stream);
            continue;
        };
        let slot = slots.take(idle, peer.ip()).await;
        let held = Held {
            _slot: slot,
            _client: client,
            _prefix: prefix,
        };
        return (stream, peer, held);
    }
}

/// Places for `peer` under both shares, or `None` (logged, limited) when it holds one already.
fn admit(shares: &Shares, peer: SocketAddr) -> Option<(ClientSlot, ClientSlot)> {
    let Some(client) = shares.per_client.admit(peer.ip()) else {
        if OVER_SHARE.admit() {
            warn!(
                client = %peer.ip(),
                share = shares.per_client.cap().map_or(0, NonZeroU32::get),
                "client {} holds its share of connections; closing its new ones",
                peer.ip()
            );
        }
        return None;
    };
    let Some(prefix) = shares.per_prefix.admit(peer.ip()) else {
        if OVER_PREFIX_SHARE.admit() {
            let network = shares.per_prefix.group(peer.ip());
            warn!(
                prefix = %network,
                share = shares.per_prefix.cap().map_or(0, NonZeroU32::get),
                "addresses in {} hold their prefix's share of connections; closing their new ones",
                network
            );
        }
        return None;
    };
    Some((client, prefix))
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
        let idle = IdleConnections::default();
        assert_eq!(slots.open(), 0);
        let client = IpAddr::from([127, 0, 0, 1]);
        let first = slots.take(&idle, client).await;
        let second = slots.take(&idle, client).await;
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
