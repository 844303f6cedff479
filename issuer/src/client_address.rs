//! The client address of a request: the connection's peer, or, when the peer is one of
//! the configured trusted proxies, the address they report in `X-Forwarded-For`.
//!
//! Invariants:
//! - `X-Forwarded-For` is read only from a trusted peer; from any other peer it is
//!   ignored, so a client cannot name another client's address;
//! - the header is read from the right (the entry the nearest proxy appended), skipping
//!   trusted proxies: the first address that is not a trusted proxy is the client. Entries
//!   to its left were written by the client itself and are never used. When no usable
//!   entry remains (absent, unparsable, or only proxies), the peer is the client.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address block: an address and a prefix length (`192.0.2.0/24`, `2001:db8::/32`;
/// a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX` (prefix ≤ 32 for IPv4, ≤ 128 for IPv6).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr =
            address.parse().map_err(|_| format!("{text:?} is not an IP address or ADDRESS/PREFIX block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix must be a number from 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (setting `trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses every block; the first bad one is the error.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<TrustedProxies, String> {
        items.into_iter().map(Cidr::parse).collect::<Result<_, _>>().map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn blocks(&self) -> &[Cidr] {
        &self.0
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// The client of a request from `peer` carrying `headers` (see the module doc).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Every X-Forwarded-For line, in order, as one list.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for entry in entries.iter().rev() {
            match entry.parse::<IpAddr>().map(canonical) {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return ip,
                Err(_) => return peer,
            }
        }
        peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn blocks_parse_and_contain() {
        let b = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(b.contains(ip("10.1.200.3")) && !b.contains(ip("10.2.0.1")));
        assert!(b.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.1")));
        assert!(Cidr::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::1")));
        assert!(!Cidr::parse("2001:db8::/32").unwrap().contains(ip("10.1.0.1")));
        for bad in ["", "10.0.0.0/33", "::/129", "example.org", "10.0.0.0/x", "10.0.0.0/-1"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_peer_read_from_the_right() {
        let proxies = TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8"]).unwrap();
        let none = TrustedProxies::default();
        let h = xff(&["198.51.100.9, 203.0.113.5"]);
        assert_eq!(none.client(ip("127.0.0.1"), &h), ip("127.0.0.1"), "no trusted proxy: the peer");
        assert_eq!(proxies.client(ip("192.0.2.1"), &h), ip("192.0.2.1"), "an untrusted peer");
        assert_eq!(proxies.client(ip("127.0.0.1"), &h), ip("203.0.113.5"), "the rightmost entry");
        // A chain of trusted proxies is skipped; what the client wrote on the left is not used.
        let chain = xff(&["6.6.6.6", "203.0.113.5, 10.0.0.7"]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &chain), ip("203.0.113.5"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &xff(&["10.0.0.2"])), ip("127.0.0.1"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &xff(&["garbage"])), ip("127.0.0.1"));
        assert_eq!(proxies.client(ip("127.0.0.1"), &HeaderMap::new()), ip("127.0.0.1"));
    }
}
