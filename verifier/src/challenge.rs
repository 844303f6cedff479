//! Presentation challenges minted by `POST /challenges`, and their replay guard.
//!
//! A challenge is `base64url(nonce[16] ‖ issued_at[8, big-endian unix seconds] ‖
//! HMAC-SHA-256(key, nonce ‖ issued_at)[..16])`: 128 random bits, a time, and a tag under a
//! key drawn at start-up. No state is kept to mint one. When a presentation is verified
//! with a challenge this process minted, the tag must check, the challenge must be at
//! most [`MAX_AGE_SECS`] old, and it may be used by one verified presentation only
//! (a bounded in-memory set of used challenges: per process, so behind a load balancer
//! single use holds per replica). A challenge the caller chose itself is only compared
//! with the proof's, by the core; keeping it single-use is then the caller's job.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// How long a minted challenge may be used.
pub const MAX_AGE_SECS: i64 = 600;
/// Most used challenges remembered at once.
const MAX_REMEMBERED: usize = 100_000;
const TAG_LEN: usize = 16;
const LEN: usize = 16 + 8 + TAG_LEN;

/// What a challenge turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minted {
    /// Not minted here: the caller owns it.
    NotOurs,
    Fresh,
    Expired,
    AlreadyUsed,
}

/// The minting key and the memory of used challenges.
pub struct Challenges {
    key: [u8; 32],
    /// Used challenge → its expiry (unix seconds).
    used: Mutex<HashMap<String, i64>>,
}

impl Challenges {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self { key, used: Mutex::new(HashMap::new()) }
    }

    fn tag(&self, body: &[u8]) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(body);
        Some(mac)
    }

    /// A fresh challenge.
    pub fn mint(&self, now: i64) -> String {
        let mut nonce = [0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let mut bytes: Vec<u8> = nonce.iter().chain(now.to_be_bytes().iter()).copied().collect();
        let tag: Vec<u8> = match self.tag(&bytes) {
            Some(mac) => mac.finalize().into_bytes().iter().take(TAG_LEN).copied().collect(),
            None => vec![0; TAG_LEN],
        };
        bytes.extend(tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Classifies `challenge` at `now` without using it up.
    pub fn inspect(&self, challenge: &str, now: i64) -> Minted {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(challenge) else { return Minted::NotOurs };
        if bytes.len() != LEN {
            return Minted::NotOurs;
        }
        let (body, tag) = bytes.split_at(24);
        let Some(mac) = self.tag(body) else { return Minted::NotOurs };
        if mac.verify_truncated_left(tag).is_err() {
            return Minted::NotOurs;
        }
        let Some(issued) = body.get(16..24).and_then(|t| <[u8; 8]>::try_from(t).ok()).map(i64::from_be_bytes)
        else {
            return Minted::NotOurs;
        };
        if now.saturating_sub(issued) > MAX_AGE_SECS || issued > now.saturating_add(60) {
            return Minted::Expired;
        }
        if self.lock().contains_key(challenge) {
            return Minted::AlreadyUsed;
        }
        Minted::Fresh
    }

    /// Marks a minted challenge as used; false when it already was (or memory is full).
    pub fn consume(&self, challenge: &str, now: i64) -> bool {
        let mut used = self.lock();
        if used.len() >= MAX_REMEMBERED {
            used.retain(|_, expiry| *expiry >= now);
            if used.len() >= MAX_REMEMBERED {
                return false;
            }
        }
        used.insert(challenge.to_owned(), now.saturating_add(MAX_AGE_SECS + 60)).is_none()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for Challenges {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_challenges_are_checked_aged_and_used_once() {
        let c = Challenges::new();
        let now = 1_800_000_000;
        let ch = c.mint(now);
        assert_eq!(URL_SAFE_NO_PAD.decode(&ch).unwrap().len(), LEN);
        assert_ne!(ch, c.mint(now));
        assert_eq!(c.inspect(&ch, now + 10), Minted::Fresh);
        assert_eq!(c.inspect(&ch, now + MAX_AGE_SECS + 1), Minted::Expired);
        assert!(c.consume(&ch, now + 10));
        assert_eq!(c.inspect(&ch, now + 11), Minted::AlreadyUsed);
        assert!(!c.consume(&ch, now + 12));
        assert_eq!(Challenges::new().inspect(&ch, now), Minted::NotOurs, "another key");
        let mut forged = URL_SAFE_NO_PAD.decode(&ch).unwrap();
        forged[17] ^= 1;
        assert_eq!(c.inspect(&URL_SAFE_NO_PAD.encode(forged), now), Minted::NotOurs);
        assert_eq!(c.inspect("caller-chosen-123", now), Minted::NotOurs);
    }
}
