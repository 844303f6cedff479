//! The caller's window to the outside: controller documents and status lists.
//!
//! The core does no I/O. Whatever the pipeline needs from the network is asked of a
//! [`Resolver`] that the caller supplies: the verifier service and the wallet implement
//! it over HTTPS with their fetch policy and cache; tests implement it over fixtures;
//! [`Offline`] answers that nothing can be fetched, so that checks needing the network
//! are reported as "not checked (offline)" rather than passed or failed.

use serde_json::Value;

use crate::Error;

/// The answer to a fetch.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// The document, parsed.
    Document(Value),
    /// Nothing was fetched because the caller works offline.
    Offline,
    /// The fetch failed (refused by policy, network error, bad JSON...).
    Failed(Error),
}

/// Supplies the documents the verification pipeline needs from outside.
pub trait Resolver {
    /// The controller (DID) document of `identifier` (a DID without fragment, or an
    /// https URL). `did:key` never reaches this: it is resolved in-process.
    fn controller_document(&self, identifier: &str) -> Fetched;
    /// The status list credential at `url`.
    fn status_list_credential(&self, url: &str) -> Fetched;
    /// The JSON Schema at `url` named by a credential's `credentialSchema`. By default
    /// nothing is fetched and the schema check is reported as not done.
    fn credential_schema(&self, url: &str) -> Fetched {
        let _ = url;
        Fetched::Offline
    }
}

/// A resolver for working with no network at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Resolver for Offline {
    fn controller_document(&self, _identifier: &str) -> Fetched {
        Fetched::Offline
    }
    fn status_list_credential(&self, _url: &str) -> Fetched {
        Fetched::Offline
    }
}
