//! BEM safe outside fetcher: the one way the verifier (and the wallet) read documents from
//! the network — `did:web` controller documents, status list credentials, JSON Schemas
//! and credential links.
//!
//! Every fetch keeps these invariants (attack cases AC-20, AC-21, AC-38):
//! - the URL passes the [`FetchPolicy`] first: https only, a DNS host name the policy
//!   allows (by default the hosts of the trust list's `did:web` issuers), never an IP
//!   literal, userinfo or local name — unless it is under an origin the operator allowed
//!   by name (`--fetch-allow`), which may then be http, loopback or private;
//! - the addresses the host resolves to are checked after DNS resolution, on the
//!   connection actually made, so DNS rebinding cannot reach an internal address;
//! - redirects are followed here (at most [`FetchConfig::max_redirects`]), each hop
//!   re-checked from the start;
//! - one time limit covers DNS, connection, redirects and the body; the body is read up to
//!   a size cap and parsed with the core's strict JSON parser;
//! - answers are cached in a bounded [`cache::Cache`] by `Cache-Control` and revalidated
//!   with `ETag`; a failure is remembered for 30 s, and is reported as a failure
//!   (`Fetched::Failed`), never as an empty or passing document;
//! - a URL's fragment is dropped before the cache and the request;
//! - at most [`MAX_DNS_LOOKUPS`] name lookups run at once;
//! - a service verifies through a [`Session`]: one verification's fetching is bounded in
//!   documents, lookups and time, and stops when its client goes away.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod address;
pub mod cache;
mod error;
mod fetcher;
pub mod policy;
mod session;

pub use error::{Error, ErrorKind};
pub use fetcher::{DnsLookup, FetchConfig, Fetcher, MAX_DNS_LOOKUPS};
pub use policy::{AllowedOrigin, FetchPolicy, HostRule};
pub use session::{Budget, Session};
