//! The bounded in-memory HTTP cache of fetched JSON documents.
//!
//! Entries are keyed by the URL asked for. Bounds: at most `capacity` entries and
//! `max_bytes` of response bodies in all; when either is exceeded the least recently used
//! entry goes. Freshness follows `Cache-Control` (`no-store` is never stored, `no-cache`
//! and a missing header mean "revalidate every time", `max-age` is honoured up to
//! [`MAX_TTL`]); an entry with an `ETag` is kept past its freshness so the next fetch can
//! revalidate with `If-None-Match`. A failure is remembered for [`FAILURE_TTL`] (a
//! negative entry, at most `capacity` of them), so a URL that times out or answers an
//! error is not asked again by every verification that names it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Error;

/// How long a failed fetch is answered from the cache with the same failure.
pub const FAILURE_TTL: Duration = Duration::from_secs(30);

/// The longest a response is treated as fresh, whatever `max-age` says.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How a response may be cached, read from its `Cache-Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub store: bool,
    pub ttl: Duration,
}

impl Freshness {
    /// Reads a `Cache-Control` header value (absent: store for revalidation, ttl 0).
    pub fn from_cache_control(header: Option<&str>) -> Self {
        let mut freshness = Self { store: true, ttl: Duration::ZERO };
        let Some(header) = header else { return freshness };
        let mut no_cache = false;
        for directive in header.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" {
                freshness.store = false;
            } else if directive == "no-cache" {
                no_cache = true;
            } else if let Some(secs) = directive.strip_prefix("max-age=") {
                if let Ok(secs) = secs.trim_matches('"').parse::<u64>() {
                    freshness.ttl = Duration::from_secs(secs).min(MAX_TTL);
                }
            }
        }
        if no_cache {
            freshness.ttl = Duration::ZERO;
        }
        freshness
    }
}

#[derive(Debug, Clone)]
struct Entry {
    value: Arc<Value>,
    etag: Option<String>,
    fresh_until: Instant,
    size: usize,
    last_used: u64,
}

/// What the cache knows of a URL.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Fresh: use it without asking the server.
    Fresh(Arc<Value>),
    /// Stale, with an ETag to revalidate.
    Revalidate {
        value: Arc<Value>,
        etag: String,
    },
    /// Fetched and failed within [`FAILURE_TTL`]: the same failure.
    Failed(Error),
    Miss,
}

/// A bounded LRU cache of documents.
#[derive(Debug)]
pub struct Cache {
    entries: HashMap<String, Entry>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    clock: u64,
    /// Recent failures: URL → (the failure, until when it is answered).
    failures: HashMap<String, (Error, Instant)>,
}

impl Cache {
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self { entries: HashMap::new(), capacity, max_bytes, bytes: 0, clock: 0, failures: HashMap::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn lookup(&mut self, url: &str, now: Instant) -> Lookup {
        self.clock += 1;
        let clock = self.clock;
        if let Some((error, until)) = self.failures.get(url) {
            if now < *until {
                return Lookup::Failed(error.clone());
            }
            self.failures.remove(url);
        }
        let Some(entry) = self.entries.get_mut(url) else { return Lookup::Miss };
        entry.last_used = clock;
        if now < entry.fresh_until {
            return Lookup::Fresh(entry.value.clone());
        }
        match &entry.etag {
            Some(etag) => Lookup::Revalidate { value: entry.value.clone(), etag: etag.clone() },
            None => {
                self.remove(url);
                Lookup::Miss
            }
        }
    }

    /// Stores a response; stores nothing when it may not or need not be kept.
    pub fn store(
        &mut self,
        url: &str,
        value: Arc<Value>,
        etag: Option<String>,
        freshness: Freshness,
        size: usize,
        now: Instant,
    ) {
        self.remove(url);
        if !freshness.store
            || (freshness.ttl.is_zero() && etag.is_none())
            || size > self.max_bytes
            || self.capacity == 0
        {
            return;
        }
        while self.entries.len() >= self.capacity || self.bytes + size > self.max_bytes {
            let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone())
            else {
                break;
            };
            self.remove(&oldest);
        }
        self.clock += 1;
        self.bytes += size;
        let fresh_until = now.checked_add(freshness.ttl).unwrap_or(now);
        self.entries.insert(url.to_owned(), Entry { value, etag, fresh_until, size, last_used: self.clock });
    }

    /// Remembers that fetching `url` failed with `error`, for [`FAILURE_TTL`]; the oldest
    /// failure makes room when `capacity` are remembered.
    pub fn fail(&mut self, url: &str, error: Error, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        self.failures.retain(|_, (_, until)| now < *until);
        if self.failures.len() >= self.capacity && !self.failures.contains_key(url) {
            if let Some(oldest) =
                self.failures.iter().min_by_key(|(_, (_, until))| *until).map(|(k, _)| k.clone())
            {
                self.failures.remove(&oldest);
            }
        }
        let until = now.checked_add(FAILURE_TTL).unwrap_or(now);
        self.failures.insert(url.to_owned(), (error, until));
    }

    /// A 304 answer: the entry is fresh again for `freshness.ttl`.
    pub fn refresh(&mut self, url: &str, freshness: Freshness, now: Instant) {
        if !freshness.store {
            self.remove(url);
            return;
        }
        if let Some(entry) = self.entries.get_mut(url) {
            entry.fresh_until = now.checked_add(freshness.ttl).unwrap_or(now);
        }
    }

    fn remove(&mut self, url: &str) {
        if let Some(old) = self.entries.remove(url) {
            self.bytes = self.bytes.saturating_sub(old.size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fresh(ttl: u64) -> Freshness {
        Freshness { store: true, ttl: Duration::from_secs(ttl) }
    }

    #[test]
    fn cache_control_is_read() {
        assert_eq!(Freshness::from_cache_control(None), fresh(0));
        assert_eq!(Freshness::from_cache_control(Some("public, max-age=300")), fresh(300));
        assert_eq!(Freshness::from_cache_control(Some("max-age=99999999")).ttl, MAX_TTL);
        assert_eq!(Freshness::from_cache_control(Some("max-age=300, no-cache")), fresh(0));
        assert!(!Freshness::from_cache_control(Some("No-Store")).store);
        assert_eq!(Freshness::from_cache_control(Some("max-age=abc")), fresh(0));
    }

    #[test]
    fn freshness_revalidation_and_no_store() {
        let now = Instant::now();
        let later = now + Duration::from_secs(61);
        let mut cache = Cache::new(4, 1000);
        let v = Arc::new(json!({"a": 1}));
        cache.store("u1", v.clone(), None, fresh(60), 10, now);
        assert!(matches!(cache.lookup("u1", now), Lookup::Fresh(_)));
        assert!(matches!(cache.lookup("u1", later), Lookup::Miss));
        cache.store("u2", v.clone(), Some("\"e\"".into()), fresh(0), 10, now);
        assert!(matches!(cache.lookup("u2", now), Lookup::Revalidate { ref etag, .. } if etag == "\"e\""));
        cache.refresh("u2", fresh(60), now);
        assert!(matches!(cache.lookup("u2", now), Lookup::Fresh(_)));
        cache.store(
            "u3",
            v.clone(),
            Some("x".into()),
            Freshness { store: false, ttl: Duration::from_secs(60) },
            10,
            now,
        );
        assert!(matches!(cache.lookup("u3", now), Lookup::Miss));
        cache.store("u4", v, None, fresh(0), 10, now);
        assert!(matches!(cache.lookup("u4", now), Lookup::Miss));
    }

    #[test]
    fn failures_are_remembered_briefly_and_bounded() {
        let now = Instant::now();
        let mut cache = Cache::new(2, 100);
        let timeout = Error::new(crate::ErrorKind::Timeout, "u: timed out");
        cache.fail("u", timeout.clone(), now);
        assert!(matches!(cache.lookup("u", now), Lookup::Failed(ref e) if *e == timeout));
        assert!(matches!(cache.lookup("u", now + FAILURE_TTL), Lookup::Miss));
        cache.fail("a", timeout.clone(), now);
        cache.fail("b", timeout.clone(), now + Duration::from_secs(1));
        cache.fail("c", timeout, now + Duration::from_secs(2));
        assert_eq!(cache.failures.len(), 2);
        assert!(matches!(cache.lookup("a", now + Duration::from_secs(2)), Lookup::Miss), "the oldest went");
        assert!(matches!(cache.lookup("c", now + Duration::from_secs(2)), Lookup::Failed(_)));
    }

    #[test]
    fn bounded_by_entries_and_bytes_least_recently_used_first() {
        let now = Instant::now();
        let mut cache = Cache::new(3, 100);
        let v = Arc::new(json!(null));
        for u in ["a", "b", "c"] {
            cache.store(u, v.clone(), None, fresh(60), 10, now);
        }
        assert!(matches!(cache.lookup("a", now), Lookup::Fresh(_)));
        cache.store("d", v.clone(), None, fresh(60), 10, now);
        assert_eq!(cache.len(), 3);
        assert!(matches!(cache.lookup("b", now), Lookup::Miss), "b was least recently used");
        assert!(matches!(cache.lookup("a", now), Lookup::Fresh(_)));
        cache.store("big", v.clone(), None, fresh(60), 95, now);
        assert!(cache.bytes <= 100);
        assert!(matches!(cache.lookup("big", now), Lookup::Fresh(_)));
        cache.store("huge", v, None, fresh(60), 101, now);
        assert!(matches!(cache.lookup("huge", now), Lookup::Miss));
    }
}
