//! Which connections are admitted: a cap on all open connections and one per client.
//!
//! A client is an IPv4 address, or an IPv6 /64 (one host usually holds a whole /64). A
//! connection over either cap is closed as soon as it is accepted, before a byte is read,
//! so one client holding many connections open cannot take the others' places. The slot
//! is given back when the connection's [`Slot`] is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The client a connection is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6Prefix(u64),
}

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Client::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(u32::from(v4)),
                None => Client::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_client: HashMap<Client, usize>,
}

/// Open connections, in all and per client.
#[derive(Debug)]
pub(crate) struct Connections {
    max_total: usize,
    max_per_client: usize,
    counts: Mutex<Counts>,
}

/// An admitted connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    owner: Arc<Connections>,
    client: Client,
}

impl Connections {
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Self { max_total, max_per_client, counts: Mutex::new(Counts::default()) })
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a connection from `ip`, or `None` when either cap is reached.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let client = Client::of(ip);
        let mut counts = self.counts();
        if counts.total >= self.max_total {
            return None;
        }
        let open = counts.per_client.entry(client).or_insert(0);
        if *open >= self.max_per_client {
            return None;
        }
        *open += 1;
        counts.total += 1;
        Some(Slot { owner: self.clone(), client })
    }

    #[cfg(test)]
    fn open(&self) -> usize {
        self.counts().total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(open) = counts.per_client.get_mut(&self.client) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_per_client_and_in_all_and_places_come_back() {
        let connections = Connections::new(5, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let mapped_a: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let a1 = connections.admit(a).unwrap();
        let _a2 = connections.admit(a).unwrap();
        assert!(connections.admit(a).is_none(), "a third connection of one client");
        assert!(connections.admit(mapped_a).is_none(), "the same client, IPv4-mapped");
        let _b1 = connections.admit(b).unwrap();
        let _b2 = connections.admit(same_64).unwrap();
        assert!(connections.admit(b).is_none(), "the /64 is one client");
        drop(a1);
        let _a3 = connections.admit(a).unwrap();
        let _c = connections.admit("198.51.100.7".parse().unwrap()).unwrap();
        assert_eq!(connections.open(), 5);
        assert!(connections.admit("198.51.100.8".parse().unwrap()).is_none(), "the total cap");
    }
}
