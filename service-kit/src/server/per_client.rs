//! Each client address's share of the connections, and each address prefix's: past it, a
//! client's new connections are closed as soon as they are accepted, so one client (or one
//! network) reconnecting as fast as it can fills neither the connection cap nor the kernel's
//! accept queue, and others still get in.
//!
//! A client is its peer IP address (an IPv4-mapped IPv6 address counts as the IPv4 one); its
//! prefix is its IPv4 /24 or IPv6 /64, the block one site or one customer usually holds. Behind
//! a proxy every client has the proxy's address, so the share is the proxy's: see
//! `docs/reliability.md`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

/// Connections open per client address; an address leaves the map with its last connection,
/// so the map never holds more entries than connections are open.
type Open = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// What connections are counted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grouping {
    /// Each address on its own.
    Address,
    /// Each IPv4 /24 or IPv6 /64.
    Prefix,
}

/// The IPv4 prefix length a [`Grouping::Prefix`] counts together.
const IPV4_PREFIX: u8 = 24;
/// The IPv6 prefix length a [`Grouping::Prefix`] counts together.
const IPV6_PREFIX: u8 = 64;

/// A share's cap and the count it is checked against.
#[derive(Debug)]
pub(super) struct PerClient {
    cap: Option<NonZeroU32>,
    grouping: Grouping,
    open: Open,
}

impl PerClient {
    /// At most `cap` connections per address; `None` for no limit.
    pub(super) fn new(cap: Option<NonZeroU32>) -> Self {
        Self::grouped(cap, Grouping::Address)
    }

    /// At most `cap` connections per group of addresses; `None` for no limit.
    pub(super) fn grouped(cap: Option<NonZeroU32>, grouping: Grouping) -> Self {
        Self {
            cap,
            grouping,
            open: Arc::default(),
        }
    }

    /// The address the connections of `client` are counted under: itself, or its prefix's
    /// first address (`127.0.0.0` for `127.0.0.9`).
    pub(super) fn group(&self, client: IpAddr) -> IpAddr {
        let client = client.to_canonical();
        match (self.grouping, client) {
            (Grouping::Address, _) => client,
            (Grouping::Prefix, IpAddr::V4(v4)) => IpAddr::V4(Ipv4Addr::from_bits(
                v4.to_bits() & (u32::MAX << (32 - IPV4_PREFIX)),
            )),
            (Grouping::Prefix, IpAddr::V6(v6)) => IpAddr::V6(Ipv6Addr::from_bits(
                v6.to_bits() & (u128::MAX << (128 - IPV6_PREFIX)),
            )),
        }
    }

    /// The cap, `None` for none.
    pub(super) fn cap(&self) -> Option<NonZeroU32> {
        self.cap
    }

    /// A place for one more connection from `client`, or `None` when its group holds its
    /// share.
    ///
    /// A std mutex: held for one map update, never across an `.await`.
    pub(super) fn admit(&self, client: IpAddr) -> Option<ClientSlot> {
        let Some(cap) = self.cap else {
            return Some(ClientSlot { held: None });
        };
        let client = self.group(client);
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

    /// Connections `client`'s group holds now.
    #[cfg(test)]
    fn held_by(&self, client: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&self.group(client)).copied().unwrap_or(0)
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
    fn a_prefix_counts_its_ipv4_slash_24_or_ipv6_slash_64_together() {
        let per_prefix = PerClient::grouped(NonZeroU32::new(2), Grouping::Prefix);
        let _one = per_prefix.admit(ONE).expect("first");
        let _other = per_prefix.admit(OTHER).expect("same /24, second");
        assert!(
            per_prefix
                .admit(Ipv4Addr::new(127, 0, 0, 250).into())
                .is_none()
        );
        assert!(
            per_prefix
                .admit(Ipv4Addr::new(127, 0, 1, 2).into())
                .is_some(),
            "another /24"
        );
        assert_eq!(
            per_prefix.group(ONE),
            IpAddr::from(Ipv4Addr::new(127, 0, 0, 0))
        );

        let site: Ipv6Addr = "2001:db8:1:2::1".parse().expect("v6");
        let neighbour: Ipv6Addr = "2001:db8:1:2:ffff::9".parse().expect("v6");
        let elsewhere: Ipv6Addr = "2001:db8:1:3::1".parse().expect("v6");
        let _site = per_prefix.admit(site.into()).expect("first");
        let _neighbour = per_prefix.admit(neighbour.into()).expect("same /64");
        assert!(per_prefix.admit(site.into()).is_none());
        assert!(per_prefix.admit(elsewhere.into()).is_some(), "another /64");
        let mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 77).to_ipv6_mapped());
        assert_eq!(
            per_prefix.group(mapped),
            IpAddr::from(Ipv4Addr::new(127, 0, 0, 0))
        );
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
