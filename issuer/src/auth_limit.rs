//! The limit on wrong admin tokens: a client (an IPv4 address, or an IPv6 /64; behind
//! trusted proxies the address they report, `crate::client_address`) that sends
//! [`MAX_FAILURES`] wrong tokens within [`WINDOW`] gets 429 on every admin call until the
//! window ends, whatever token it then sends; a right token clears its count.
//!
//! Invariants:
//! - only wrong tokens count: a request without a token (401) changes nothing here, so
//!   nobody locks the administrator out by sending nothing;
//! - memory is bounded: at most [`MAX_CLIENTS`] clients are tracked; when full, expired
//!   records are dropped, and if none are, further clients share one overflow record
//!   ([`Lock::Shared`]). A shared lock never refuses a right token: the token is compared
//!   and only a wrong one gets 429, so a flood from many addresses cannot lock out the
//!   administrator (whose own address it would share the record with);
//! - a client's own lockout is decided before the token is compared, so guessing during
//!   it learns nothing;
//! - time comes from the caller (`Instant`), so tests need no sleeping.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per client within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// The window over which failures are counted, and the lockout once it is full.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Most clients tracked at once.
pub const MAX_CLIENTS: usize = 4096;

/// The shared record of clients beyond [`MAX_CLIENTS`].
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

#[derive(Debug, Clone, Copy)]
struct Attempts {
    since: Instant,
    failures: u32,
}

/// Whether a client is locked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Not locked.
    None,
    /// Its own record is full: 429 for this long, before the token is looked at.
    Own(Duration),
    /// The overflow record it shares with other untracked clients is full: a right token
    /// still passes; a wrong one gets 429 for this long.
    Shared(Duration),
}

/// Failed attempts by client.
#[derive(Debug, Default)]
pub struct FailedAuth {
    clients: Mutex<HashMap<IpAddr, Attempts>>,
}

/// The key of a client: IPv4 as is (and IPv4-mapped IPv6 as IPv4), IPv6 by its /64.
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl FailedAuth {
    pub fn new() -> FailedAuth {
        FailedAuth::default()
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Attempts>> {
        self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `ip` is locked out, and by which record.
    pub fn lock(&self, ip: IpAddr, now: Instant) -> Lock {
        let clients = self.clients();
        let own = clients.contains_key(&client(ip));
        let key = if own { client(ip) } else { OVERFLOW };
        let Some(attempts) = clients.get(&key) else { return Lock::None };
        let elapsed = now.saturating_duration_since(attempts.since);
        if attempts.failures < MAX_FAILURES || elapsed >= WINDOW {
            return Lock::None;
        }
        let left = WINDOW.saturating_sub(elapsed);
        if own {
            Lock::Own(left)
        } else {
            Lock::Shared(left)
        }
    }

    /// How long `ip` is still locked out by its own record, if it is.
    #[cfg(test)]
    pub fn locked_for(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        match self.lock(ip, now) {
            Lock::Own(left) | Lock::Shared(left) => Some(left),
            Lock::None => None,
        }
    }

    /// Notes a wrong token from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut clients = self.clients();
        let mut key = client(ip);
        if !clients.contains_key(&key) && clients.len() >= MAX_CLIENTS {
            clients.retain(|_, a| now.saturating_duration_since(a.since) < WINDOW);
            if clients.len() >= MAX_CLIENTS {
                key = OVERFLOW;
            }
        }
        let attempts = clients.entry(key).or_insert(Attempts { since: now, failures: 0 });
        if now.saturating_duration_since(attempts.since) >= WINDOW {
            *attempts = Attempts { since: now, failures: 0 };
        }
        attempts.failures = attempts.failures.saturating_add(1);
    }

    /// Notes a right token from `ip`: its count starts again.
    pub fn succeeded(&self, ip: IpAddr) {
        self.clients().remove(&client(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn ten_failures_lock_a_client_out_for_the_rest_of_the_window() {
        let limit = FailedAuth::new();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(limit.locked_for(A, t0), None, "after {i} failures");
            limit.failed(A, t0);
        }
        let left = limit.locked_for(A, t0 + Duration::from_secs(20)).unwrap();
        assert_eq!(left, Duration::from_secs(40));
        assert_eq!(limit.locked_for(B, t0), None, "another client is not affected");
        assert_eq!(limit.locked_for(A, t0 + WINDOW), None, "the window ends");
        // A new window counts from zero.
        limit.failed(A, t0 + WINDOW);
        assert_eq!(limit.locked_for(A, t0 + WINDOW), None);
    }

    #[test]
    fn a_right_token_clears_the_count_and_ipv6_counts_by_64() {
        let limit = FailedAuth::new();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            limit.failed(A, t0);
        }
        limit.succeeded(A);
        limit.failed(A, t0);
        assert_eq!(limit.locked_for(A, t0), None);

        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_in_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            limit.failed(one, t0);
        }
        assert!(limit.locked_for(other_in_64, t0).is_some(), "rotating within a /64 does not help");
        assert!(limit.locked_for("2001:db8:1:3::1".parse().unwrap(), t0).is_none());
    }

    #[test]
    fn many_clients_share_one_record_instead_of_growing_memory() {
        let limit = FailedAuth::new();
        let t0 = Instant::now();
        for i in 0..MAX_CLIENTS as u32 + 50 {
            limit.failed(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)), t0);
        }
        assert!(limit.clients().len() <= MAX_CLIENTS + 1);
        // The 50 beyond the bound share the overflow record: locked together.
        let newcomer = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));
        assert!(limit.locked_for(newcomer, t0).is_some());
        // Only a shared lock: a right token from the newcomer still passes.
        assert!(matches!(limit.lock(newcomer, t0), Lock::Shared(_)));
        assert!(matches!(limit.lock(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000)), t0), Lock::None));
        // Once their window has passed, room is made again.
        let later = t0 + WINDOW;
        limit.failed(newcomer, later);
        assert!(limit.clients().contains_key(&newcomer));
        assert_eq!(limit.locked_for(newcomer, later), None);
    }
}
