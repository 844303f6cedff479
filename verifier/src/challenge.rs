//! Presentation challenges minted by `POST /challenges`: their key (a key file shared by
//! replicas, or a key per process), their form, and the single-use rule.
//!
//! A challenge is `base64url(nonce[16] ‖ issued_at[8] ‖ instance[8] ‖ tag[16])` (64
//! characters): 128 random bits, the time (big-endian unix seconds), the minting process's
//! instance id (random at each start), and HMAC-SHA-256(key, nonce ‖ issued_at ‖
//! instance) cut to 16 bytes. The key comes from `--challenge-key-file` (32 random bytes,
//! base64url, mode 0600; made at first start when absent, refused when group or others
//! may access it); without one, each process draws its own.
//!
//! The rules, for a challenge given with a presentation:
//! - **Ours or the caller's.** A string of our form (64 base64url characters decoding to
//!   48 bytes) is ours: its tag must check (a forged or altered one is refused, never
//!   taken for a caller's own). Any other string is the caller's own challenge: the core
//!   compares it with the proof's, and keeping it single-use is the caller's job.
//! - **Expiry and authenticity hold on every replica that shares the key file.**
//! - **Single use holds per process.** Only the process that minted a challenge accepts
//!   it (the instance id under the tag): another replica, or this verifier after a restart,
//!   refuses it ("minted by another instance"), so a used challenge is never accepted
//!   twice anywhere, with no shared state. Behind a load balancer a presentation must
//!   reach the replica that minted its challenge (sticky routing), or the client asks
//!   again. Whether a challenge is used is decided by one atomic step ([`Challenges::consume`])
//!   after the presentation verified: of concurrent presentations of one challenge
//!   exactly one is accepted. A presentation that fails does not use the challenge up.
//! - **Bounded memory, fresh challenges never refused.** A used challenge is remembered
//!   until it expires, then forgotten. At most [`MAX_OUTSTANDING`] challenges minted in
//!   the last [`MAX_AGE_SECS`] seconds exist at once (counted per minute of minting);
//!   beyond that `POST /challenges` answers 503 with `Retry-After` until the oldest
//!   expire. As only this process's own challenges are remembered, the used ones never
//!   outnumber the outstanding ones: a fresh challenge always has room.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// How long a minted challenge may be used.
pub const MAX_AGE_SECS: i64 = 600;
/// Most challenges minted in the last [`MAX_AGE_SECS`] seconds (used or not). A million
/// costs nothing until used; used ones are at most as many (~50 MB at the very worst).
pub const MAX_OUTSTANDING: usize = 1_000_000;
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 16;
const BODY_LEN: usize = NONCE_LEN + 8 + 8;
const LEN: usize = BODY_LEN + TAG_LEN;
/// How far ahead of this clock a challenge's time may be (a clock set back slightly).
const FUTURE_SLACK_SECS: i64 = 60;

/// What a challenge turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minted {
    /// Not of our form: the caller's own challenge.
    NotOurs,
    /// Of our form, but its tag does not check: altered, or made with another key.
    Forged,
    /// Genuine, but minted by another process (a replica sharing the key file, or this
    /// verifier before a restart).
    OtherInstance,
    Fresh,
    Expired,
    AlreadyUsed,
}

impl Minted {
    /// Why a presentation with this challenge is refused; `None` when it may proceed.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            Minted::NotOurs | Minted::Fresh => None,
            Minted::Forged => Some("the challenge is not one this verifier minted: ask for a new one"),
            Minted::OtherInstance => Some(
                "the challenge was minted by another instance of this verifier (another replica, or before a restart); challenges are used once, where they were minted: ask this verifier for a new one",
            ),
            Minted::Expired => Some("the challenge has expired; ask for a new one"),
            Minted::AlreadyUsed => Some("the challenge has already been used"),
        }
    }
}

/// The minting key, this process's instance id, and the memory of what was minted and
/// used.
pub struct Challenges {
    key: [u8; KEY_LEN],
    instance: [u8; 8],
    max_outstanding: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Nonce of a used challenge → when it expires (unix seconds).
    used: HashMap<[u8; NONCE_LEN], i64>,
    /// Size of `used` at which expired entries are next dropped.
    next_purge: usize,
    /// Challenges minted per minute (unix minute, count), oldest first.
    minted: VecDeque<(i64, usize)>,
    minted_total: usize,
}

/// A challenge of our form, taken apart.
struct Parts {
    nonce: [u8; NONCE_LEN],
    issued: i64,
}

impl Challenges {
    /// A key of this process's own: challenges hold only here, and not after a restart.
    pub fn new() -> Self {
        let mut key = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut key);
        Self::with_key(key)
    }

    fn with_key(key: [u8; KEY_LEN]) -> Self {
        let mut instance = [0u8; 8];
        OsRng.fill_bytes(&mut instance);
        Self { key, instance, max_outstanding: MAX_OUTSTANDING, state: Mutex::new(State::default()) }
    }

    /// The key in `path` (made there, mode 0600, when absent). Refused: a file group or
    /// others may access, or one that is not 32 bytes in base64url.
    pub fn from_key_file(path: &Path) -> anyhow::Result<Self> {
        match fs::symlink_metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(path)?,
            Err(e) => return Err(e).with_context(|| format!("challenge key file {}", path.display())),
        }
        let meta = fs::metadata(path).with_context(|| format!("challenge key file {}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if !meta.is_file() {
            bail!("challenge key file {} is not a file", path.display());
        }
        if mode & 0o077 != 0 {
            bail!(
                "challenge key file {} has mode {mode:04o}: group or others can access it. Run `chmod 600 {}` and start again",
                path.display(),
                path.display()
            );
        }
        let text =
            fs::read_to_string(path).with_context(|| format!("challenge key file {}", path.display()))?;
        let key = URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; KEY_LEN]>::try_from(bytes).ok())
            .with_context(|| {
                format!(
                    "challenge key file {} does not hold 32 bytes in base64url (no padding)",
                    path.display()
                )
            })?;
        Ok(Self::with_key(key))
    }

    /// Lowers the bound on outstanding challenges (tests reach it in seconds).
    pub fn with_max_outstanding(mut self, max: usize) -> Self {
        self.max_outstanding = max.clamp(1, MAX_OUTSTANDING);
        self
    }

    pub fn max_outstanding(&self) -> usize {
        self.max_outstanding
    }

    fn tag(&self, body: &[u8]) -> Option<[u8; TAG_LEN]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(body);
        mac.finalize().into_bytes().get(..TAG_LEN).and_then(|t| <[u8; TAG_LEN]>::try_from(t).ok())
    }

    /// A fresh challenge; while the bound of outstanding challenges ([`MAX_OUTSTANDING`])
    /// is reached, the seconds until the oldest minute of them expires instead.
    pub fn mint(&self, now: i64) -> Result<String, i64> {
        {
            let mut state = self.lock();
            let minute = now.div_euclid(60);
            while let Some(&(oldest, count)) = state.minted.front() {
                // Every challenge of that minute was issued by its last second.
                if oldest.saturating_mul(60).saturating_add(59).saturating_add(MAX_AGE_SECS) >= now {
                    break;
                }
                state.minted.pop_front();
                state.minted_total = state.minted_total.saturating_sub(count);
            }
            if state.minted_total >= self.max_outstanding {
                let oldest = state.minted.front().map_or(minute, |m| m.0);
                let wait = oldest.saturating_mul(60).saturating_add(60).saturating_add(MAX_AGE_SECS) - now;
                return Err(wait.clamp(1, MAX_AGE_SECS + 60));
            }
            match state.minted.back_mut() {
                // A clock set back counts in the newest minute.
                Some((last, count)) if *last >= minute => *count += 1,
                _ => state.minted.push_back((minute, 1)),
            }
            state.minted_total += 1;
        }
        let mut body = [0u8; BODY_LEN];
        let (nonce, rest) = body.split_at_mut(NONCE_LEN);
        OsRng.fill_bytes(nonce);
        let (issued, instance) = rest.split_at_mut(8);
        issued.copy_from_slice(&now.to_be_bytes());
        instance.copy_from_slice(&self.instance);
        let tag = self.tag(&body).unwrap_or([0; TAG_LEN]);
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Reads a challenge of our form; `Err` with what it is otherwise.
    fn parts(&self, challenge: &str, now: i64) -> Result<Parts, Minted> {
        if challenge.len() != LEN.div_ceil(3) * 4 {
            return Err(Minted::NotOurs);
        }
        let bytes = URL_SAFE_NO_PAD.decode(challenge).map_err(|_| Minted::NotOurs)?;
        let (body, tag) = bytes.split_at_checked(BODY_LEN).ok_or(Minted::NotOurs)?;
        let expected = self.tag(body).ok_or(Minted::Forged)?;
        if !constant_time_eq(&expected, tag) {
            return Err(Minted::Forged);
        }
        let field = |range: std::ops::Range<usize>| body.get(range).and_then(|b| <[u8; 8]>::try_from(b).ok());
        let nonce = body.get(..NONCE_LEN).and_then(|b| <[u8; NONCE_LEN]>::try_from(b).ok());
        let (Some(nonce), Some(issued), Some(instance)) =
            (nonce, field(NONCE_LEN..NONCE_LEN + 8), field(NONCE_LEN + 8..BODY_LEN))
        else {
            return Err(Minted::Forged);
        };
        if instance != self.instance {
            return Err(Minted::OtherInstance);
        }
        let issued = i64::from_be_bytes(issued);
        if now.saturating_sub(issued) > MAX_AGE_SECS || issued > now.saturating_add(FUTURE_SLACK_SECS) {
            return Err(Minted::Expired);
        }
        Ok(Parts { nonce, issued })
    }

    /// Classifies `challenge` at `now` without using it up (an early refusal; the
    /// decision is [`Challenges::consume`]'s).
    pub fn inspect(&self, challenge: &str, now: i64) -> Minted {
        match self.parts(challenge, now) {
            Err(minted) => minted,
            Ok(parts) if self.lock().used.contains_key(&parts.nonce) => Minted::AlreadyUsed,
            Ok(_) => Minted::Fresh,
        }
    }

    /// Uses `challenge` up at `now`, in one step: `Fresh` only for the one call that used
    /// it; `NotOurs` for a caller's own challenge (nothing kept); otherwise why not.
    pub fn consume(&self, challenge: &str, now: i64) -> Minted {
        let parts = match self.parts(challenge, now) {
            Ok(parts) => parts,
            Err(minted) => return minted,
        };
        let mut state = self.lock();
        if state.used.len() >= state.next_purge {
            state.used.retain(|_, expires| *expires >= now);
            state.next_purge = state.used.len().saturating_mul(2).max(1024);
        }
        let expires = parts.issued.saturating_add(MAX_AGE_SECS);
        if state.used.insert(parts.nonce, expires).is_some() {
            return Minted::AlreadyUsed;
        }
        Minted::Fresh
    }

    /// Used challenges remembered now (expired ones not yet dropped included).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.lock().used.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for Challenges {
    fn default() -> Self {
        Self::new()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Makes a key file: 32 random bytes in base64url, mode 0600, never over an existing file
/// (a replica that made it first wins; its key is read).
fn create_key_file(path: &Path) -> anyhow::Result<()> {
    let mut key = [0u8; KEY_LEN];
    OsRng.fill_bytes(&mut key);
    let mut file = match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("creating challenge key file {}", path.display())),
    };
    file.write_all(format!("{}\n", URL_SAFE_NO_PAD.encode(key)).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing challenge key file {}", path.display()))?;
    tracing::info!(file = %path.display(), "made a new challenge key file; give the same file to every replica");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_challenges_are_checked_aged_bound_to_their_instance_and_used_once() {
        let c = Challenges::new();
        let now = 1_800_000_000;
        let ch = c.mint(now).unwrap();
        assert_eq!((ch.len(), URL_SAFE_NO_PAD.decode(&ch).unwrap().len()), (64, LEN));
        assert_ne!(ch, c.mint(now).unwrap());
        assert_eq!(c.inspect(&ch, now + 10), Minted::Fresh);
        assert_eq!(c.inspect(&ch, now + MAX_AGE_SECS + 1), Minted::Expired);
        assert_eq!(c.consume(&ch, now + MAX_AGE_SECS + 1), Minted::Expired);
        assert_eq!(c.consume(&ch, now + 10), Minted::Fresh);
        assert_eq!(c.inspect(&ch, now + 11), Minted::AlreadyUsed);
        assert_eq!(c.consume(&ch, now + 12), Minted::AlreadyUsed);
        // Another key: of our form, so forged, not the caller's.
        assert_eq!(Challenges::new().inspect(&ch, now), Minted::Forged);
        let mut altered = URL_SAFE_NO_PAD.decode(&ch).unwrap();
        altered[17] ^= 1;
        assert_eq!(c.consume(&URL_SAFE_NO_PAD.encode(altered), now), Minted::Forged);
        // The same key in another process (a replica, a restart): another instance.
        let replica = Challenges::with_key(c.key);
        assert_eq!(replica.consume(&ch, now + 10), Minted::OtherInstance);
        let theirs = replica.mint(now).unwrap();
        assert_eq!(c.consume(&theirs, now + 1), Minted::OtherInstance);
        assert_eq!(replica.consume(&theirs, now + 1), Minted::Fresh);
        // Anything else is the caller's own.
        for own in ["caller-chosen-123", "", &"A".repeat(63), &"é".repeat(32)] {
            assert_eq!(c.consume(own, now), Minted::NotOurs, "{own}");
        }
        assert!(Minted::Fresh.refusal().is_none() && Minted::NotOurs.refusal().is_none());
        assert!(Minted::OtherInstance.refusal().unwrap().contains("another instance"));
    }

    #[test]
    fn used_challenges_are_forgotten_when_they_expire_and_minting_stops_before_memory_fills() {
        let c = Challenges::new().with_max_outstanding(3_000);
        let start = 1_800_000_000;
        // Minted and used over eleven minutes, 3,000 at most outstanding at once.
        let mut used = 0;
        for step in 0..(12 * 60) {
            let now = start + step;
            for _ in 0..5 {
                match c.mint(now) {
                    Ok(ch) => {
                        assert_eq!(c.consume(&ch, now), Minted::Fresh);
                        used += 1;
                    }
                    Err(wait) => assert!((1..=MAX_AGE_SECS + 60).contains(&wait), "{wait}"),
                }
            }
            assert!(c.remembered() <= 2 * 3_000, "{} remembered at {step}", c.remembered());
        }
        assert!(used > 3_000, "minting resumed as challenges expired: {used}");
        // Full: no new challenge, but every one minted before still verifies once.
        let c = Challenges::new().with_max_outstanding(10);
        let minted: Vec<String> = (0..10).map(|_| c.mint(start).unwrap()).collect();
        assert!(c.mint(start + 1).is_err());
        for ch in &minted {
            assert_eq!(c.consume(ch, start + 2), Minted::Fresh);
        }
        // Once the first minute's challenges expire, minting resumes.
        assert!(c.mint(start + 60 + MAX_AGE_SECS).is_ok());
    }

    #[test]
    fn the_key_file_is_made_private_read_back_and_refused_when_others_can_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("challenge.key");
        let first = Challenges::from_key_file(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = Challenges::from_key_file(&path).unwrap();
        assert_eq!(first.key, again.key);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = Challenges::from_key_file(&path).err().unwrap().to_string();
        assert!(e.contains("0644") && e.contains("chmod 600"), "{e}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "short\n").unwrap();
        let e = Challenges::from_key_file(&path).err().unwrap().to_string();
        assert!(e.contains("32 bytes"), "{e}");
    }
}
