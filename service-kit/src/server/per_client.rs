//! Each client address's share of the connections: past it, a client's new connections are
//! closed as soon as they are accepted, so one client reconnecting as fast as it can fills
//! neither the connection cap nor the kernel's accept queue, and others still get in.
//!
//! A client is its peer IP address (an IPv4-mapped IPv6 address counts as the IPv4 one). Behind
//! a proxy every client has the proxy's address, so the share is the proxy's: see
//! `docs/reliability.md`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

/// Connections open per client address; an address leaves the map with its last connection,
/// so the map never holds more entries than connections are open.
type Open = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// The per-client cap and the count it is checked against.
#[derive(Debug)]
pub(super) struct PerClient {
    cap: Option<NonZeroU32>,
    open: Open,
}

impl PerClient {
    /// At most `cap` connections per address; `None` for no limit.
    pub(super) fn new(cap: Option<NonZeroU32>) -> Self {
        Self {
            cap,
            open: Arc::default(),
        }
    }

    /// The cap, `None` for none.
    pub(super) fn cap(&self) -> Option<NonZeroU32> {
        self.cap
    }

    /// A place for one more connection from `client`, or `None` when it holds its share.
    ///
    /// A std mutex: held for one map update, never across an `.await`.
    pub(super) fn admit(&self, client: IpAddr) -> Option<ClientSlot> {
        let Some(cap) = self.cap else {
            return Some(ClientSlot { held: None });
        };
        let client = client.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(client).or_insert(0);
        if *count >= cap.get() {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            held: Some((client, Arc::clone(&self.open))),
        })
    }

    /// Connections `client` holds now.
    #[cfg(test)]
    fn held_by(&self, client: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&client.to_canonical()).copied().unwrap_or(0)
    }
}

/// One client's place, freed when its connection's task drops it.
#[derive(Debug)]
pub(super) struct ClientSlot {
    held: Option<(IpAddr, Open)>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let Some((client, open)) = self.held.take() else {
            return;
        };
        let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const ONE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

    #[test]
    fn a_client_gets_its_share_and_others_still_get_theirs() {
        let per_client = PerClient::new(NonZeroU32::new(2));
        let first = per_client.admit(ONE).expect("first");
        let _second = per_client.admit(ONE).expect("second");
        assert!(per_client.admit(ONE).is_none(), "a third is over the share");
        let _other = per_client.admit(OTHER).expect("another client");
        drop(first);
        assert_eq!(per_client.held_by(ONE), 1);
        assert!(
            per_client.admit(ONE).is_some(),
            "a place freed is taken again"
        );
    }

    #[test]
    fn an_address_leaves_the_map_with_its_last_connection() {
        let per_client = PerClient::new(NonZeroU32::new(5));
        let slots: Vec<_> = (0..5)
            .map(|_| per_client.admit(ONE).expect("within"))
            .collect();
        drop(slots);
        assert!(per_client.open.lock().expect("lock").is_empty());
    }

    #[test]
    fn an_ipv4_mapped_address_is_the_same_client() {
        let per_client = PerClient::new(NonZeroU32::new(1));
        let _v4 = per_client.admit(ONE).expect("first");
        let mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 2).to_ipv6_mapped());
        assert!(per_client.admit(mapped).is_none());
        assert!(per_client.admit(IpAddr::V6(Ipv6Addr::LOCALHOST)).is_some());
    }

    #[test]
    fn without_a_cap_nothing_is_counted() {
        let per_client = PerClient::new(None);
        let slots: Vec<_> = (0..1_000)
            .map(|_| per_client.admit(ONE).expect("no cap"))
            .collect();
        assert_eq!(per_client.held_by(ONE), 0);
        drop(slots);
    }

    #[test]
    fn concurrent_admissions_never_exceed_the_cap() {
        let per_client = Arc::new(PerClient::new(NonZeroU32::new(3)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let per_client = Arc::clone(&per_client);
                std::thread::spawn(move || {
                    let mut most = 0;
                    for _ in 0..2_000 {
                        if let Some(slot) = per_client.admit(ONE) {
                            most = most.max(per_client.held_by(ONE));
                            drop(slot);
                        }
                    }
                    most
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().expect("no panic") <= 3);
        }
        assert_eq!(per_client.held_by(ONE), 0);
    }
}
