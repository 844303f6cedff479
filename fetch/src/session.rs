//! One verification's share of the fetcher: bounded in documents, in lookups and in time,
//! and stopped as soon as its caller gives up.
//!
//! A [`Session`] is the `Resolver` a service hands to one verification (a credential, or
//! a presentation with every credential in it). Invariants:
//! - a document is fetched once per session, whatever its fragment and whatever its
//!   cache headers (the session keeps the answer, success or failure);
//! - at most [`Budget::max_documents`] distinct documents are fetched, and at most
//!   [`Budget::max_lookups`] are asked for in all, repeats included (each one asked for
//!   is verified again by the pipeline);
//! - every fetch ends by one deadline, [`Budget::time`] after the session began;
//! - once the caller's `cancelled` flag is set (its client went away), nothing more is
//!   fetched;
//! - a refusal is a `Fetched::Failed` naming the limit, never a pass.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bem_core::resolver::{Fetched, Resolver};
use url::Url;

use crate::fetcher::{Fetcher, Wanted};

/// What one verification may fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// All fetching of one verification ends by this time after it began.
    pub time: Duration,
    /// Most distinct documents fetched.
    pub max_documents: usize,
    /// Most documents asked for, repeats and cached ones included.
    pub max_lookups: usize,
}

impl Budget {
    /// One verification: 10 s (two fetches at the fetcher's own 5 s limit), 16 distinct
    /// documents (an issuer's controller document, a holder's, and a status list and a
    /// schema or two for each of a few credentials), 64 lookups (a presentation of
    /// several certificates whose entries share their lists).
    pub const VERIFICATION: Budget =
        Budget { time: Duration::from_secs(10), max_documents: 16, max_lookups: 64 };
}

/// A verification's bounded view of a [`Fetcher`].
#[derive(Debug)]
pub struct Session<'a> {
    fetcher: &'a Fetcher,
    budget: Budget,
    deadline: Instant,
    cancelled: Option<&'a AtomicBool>,
    used: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    /// Each document asked for, by URL without fragment, with its answer once it came.
    documents: HashMap<String, Option<Fetched>>,
    lookups: usize,
}

impl Fetcher {
    /// A session for one verification, starting now; `cancelled`, once set, stops it.
    pub fn session<'a>(&'a self, budget: Budget, cancelled: Option<&'a AtomicBool>) -> Session<'a> {
        let now = Instant::now();
        Session {
            fetcher: self,
            budget,
            deadline: now.checked_add(budget.time).unwrap_or(now),
            cancelled,
            used: Mutex::new(Used::default()),
        }
    }
}

impl Session<'_> {
    /// What this session already knows of `key`, or leave to fetch it; counts the lookup.
    fn admit(&self, key: &str) -> Result<Option<Fetched>, String> {
        if self.cancelled.is_some_and(|c| c.load(Ordering::Acquire)) {
            return Err("not fetched: the verification was abandoned by its client".into());
        }
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        if used.lookups >= self.budget.max_lookups {
            return Err(format!(
                "not fetched: this verification already asked for {} documents, the most one may",
                self.budget.max_lookups
            ));
        }
        used.lookups += 1;
        if let Some(known) = used.documents.get(key) {
            return Ok(known.clone());
        }
        if used.documents.len() >= self.budget.max_documents {
            return Err(format!(
                "not fetched: this verification already fetched {} distinct documents, the most one may",
                self.budget.max_documents
            ));
        }
        if Instant::now() >= self.deadline {
            return Err(format!(
                "not fetched: this verification's {} s for fetching documents are spent",
                self.budget.time.as_secs()
            ));
        }
        used.documents.insert(key.to_owned(), None);
        Ok(None)
    }

    fn resolve(&self, wanted: Wanted<'_>) -> Fetched {
        let (url, code, what) = match wanted.target() {
            Ok(target) => target,
            Err(e) => return Fetched::Failed(e),
        };
        let key = match Url::parse(&url) {
            Ok(mut parsed) => {
                parsed.set_fragment(None);
                parsed.into()
            }
            Err(_) => url,
        };
        match self.admit(&key) {
            Ok(Some(known)) => known,
            Ok(None) => {
                let fetched = self.fetcher.resolve(wanted, Some(self.deadline));
                let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
                used.documents.insert(key, Some(fetched.clone()));
                fetched
            }
            Err(why) => Fetched::Failed(bem_core::Error::new(code, format!("{what}: {why}"))),
        }
    }
}

impl Resolver for Session<'_> {
    fn controller_document(&self, identifier: &str) -> Fetched {
        self.resolve(Wanted::ControllerDocument(identifier))
    }

    fn status_list_credential(&self, url: &str) -> Fetched {
        self.resolve(Wanted::StatusList(url))
    }

    fn credential_schema(&self, url: &str) -> Fetched {
        self.resolve(Wanted::Schema(url))
    }
}
