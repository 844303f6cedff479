//! The cache of rendered public answers (a certificate's PDF and its QR images), keyed by
//! what the bytes depend on: the certificate, its status version and the form asked for.
//!
//! Invariants:
//! - bounded by bytes: at most [`MAX_BYTES`] of bodies in all, none over [`MAX_ENTRY_BYTES`]
//!   (such a body is served but not kept); the least recently used go first;
//! - a key names everything the bytes depend on, so a hit is always the bytes a fresh
//!   render would give: the caller derives it from the link token, the status version
//!   (every status change makes a new one) and the form (and, for a signed compact QR,
//!   the day that fixes its expiry). Keys restart empty with the process (a new signing
//!   key or configuration needs a restart);
//! - the lock is held only to look up or insert, never while rendering.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::HeaderValue;

/// Most bytes of bodies kept: 32 MiB (about 800 certificate PDFs of ~40 KB).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Largest body kept.
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024;

/// A rendered body and the headers that describe it (e.g. which QR form it is).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Arc<[u8]>,
    pub headers: Vec<(&'static str, HeaderValue)>,
}

impl Rendered {
    pub fn new(body: Vec<u8>, headers: Vec<(&'static str, HeaderValue)>) -> Rendered {
        Rendered { body: body.into(), headers }
    }

    /// What it counts against [`MAX_BYTES`].
    fn size(&self) -> usize {
        self.body.len() + self.headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>()
    }
}

struct Entry {
    rendered: Rendered,
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Last use → key, oldest first.
    order: BTreeMap<u64, String>,
    bytes: usize,
    clock: u64,
}

/// Rendered bodies by key.
#[derive(Default)]
pub struct RenderCache {
    inner: Mutex<Inner>,
}

impl RenderCache {
    pub fn new() -> RenderCache {
        RenderCache::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The body kept under `key`, marked as just used.
    pub fn get(&self, key: &str) -> Option<Rendered> {
        let mut inner = self.inner();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        let before = std::mem::replace(&mut entry.used, now);
        let rendered = entry.rendered.clone();
        inner.order.remove(&before);
        inner.order.insert(now, key.to_owned());
        Some(rendered)
    }

    /// Keeps `body` under `key` (unless it is over [`MAX_ENTRY_BYTES`]), dropping the least
    /// recently used bodies until all fit in [`MAX_BYTES`].
    pub fn put(&self, key: &str, rendered: Rendered) {
        let size = rendered.size();
        if size > MAX_ENTRY_BYTES {
            return;
        }
        let mut inner = self.inner();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(old) = inner.entries.remove(key) {
            inner.order.remove(&old.used);
            inner.bytes -= old.rendered.size();
        }
        while inner.bytes + size > MAX_BYTES {
            let Some((_, oldest)) = inner.order.pop_first() else { break };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.rendered.size();
            }
        }
        inner.bytes += size;
        inner.order.insert(now, key.to_owned());
        inner.entries.insert(key.to_owned(), Entry { rendered, used: now });
    }

    /// Bytes kept now.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.inner().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_bodies_go_first_and_the_bound_holds() {
        let cache = RenderCache::new();
        let body = |n: usize| Rendered::new(vec![0u8; n], Vec::new());
        let entry = MAX_ENTRY_BYTES;
        let fit = MAX_BYTES / entry;
        for i in 0..fit {
            cache.put(&format!("k{i}"), body(entry));
        }
        assert_eq!(cache.bytes(), fit * entry);
        assert!(cache.get("k0").is_some(), "k0 is now the most recently used");
        cache.put("new", body(entry));
        assert!(cache.bytes() <= MAX_BYTES);
        assert!(cache.get("k0").is_some() && cache.get("new").is_some());
        assert!(cache.get("k1").is_none(), "the least recently used went");
        cache.put("huge", body(entry + 1));
        assert!(cache.get("huge").is_none(), "too large to keep");
        cache.put("new", body(10));
        assert_eq!(cache.get("new").map(|r| r.body.len()), Some(10), "replaced");
        assert!(cache.bytes() <= MAX_BYTES);
    }
}
