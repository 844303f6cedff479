//! The verifier's one door into `bem_core::verify`: the configured trust list, context
//! policy, resolver and clock, applied the same way for `serve`, the page and `check`.
//!
//! Nothing here decides whether a credential is genuine; it only builds the
//! `VerifyOptions` and calls the core pipeline (ARCHITECTURE.md, "The one rule").
//!
//! Every verification runs in a [`Scope`], which says how it may reach the network:
//! - through a `bem_fetch::Session` ([`Budget::VERIFICATION`]: 16 documents, 64 lookups,
//!   10 s in all), stopped once the caller's `cancelled` flag is set;
//! - or not at all ([`Scope::without_network`], for an async worker thread, which must
//!   never wait on I/O): whatever would need a fetch is refused and the scope says so
//!   ([`NoNetwork::asked`]), so that the caller runs it again where fetching is allowed.
//!
//! Outside the W3C suites' conformance mode, nothing a credential names (status lists,
//! schemas) is fetched unless a trusted issuer is shown to have signed it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bem_core::contexts::ContextPolicy;
use bem_core::datetime::Timestamp;
use bem_core::json::JsonLimits;
use bem_core::resolver::{Fetched, Offline, Resolver};
use bem_core::trust::TrustList;
use bem_core::verify::{self, Report, VerifyOptions};
use bem_fetch::{Budget, Fetcher};
use serde_json::Value;

/// Largest credential or presentation accepted, in bytes (also the API body cap): the
/// core's one limit, which the issuer keeps when it signs.
pub const MAX_DOCUMENT_BYTES: usize = bem_core::json::MAX_CREDENTIAL_BYTES;

/// How verification is configured for this process.
pub struct Verifier {
    trust: TrustList,
    /// `None` when working offline: checks that need the network are "not checked".
    fetcher: Option<Arc<Fetcher>>,
    policy: ContextPolicy,
    require_holder_proof: bool,
    fetch_for_unknown_issuers: bool,
}

/// The current time, as the core takes it.
pub fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// A resolver for async worker threads: answers "offline" to everything and remembers
/// that it was asked.
#[derive(Debug, Default)]
pub struct NoNetwork {
    asked: AtomicBool,
}

impl NoNetwork {
    /// Whether a verification asked for something from the network.
    pub fn asked(&self) -> bool {
        self.asked.load(Ordering::Acquire)
    }

    fn refuse(&self) -> Fetched {
        self.asked.store(true, Ordering::Release);
        Fetched::Offline
    }
}

impl Resolver for NoNetwork {
    fn controller_document(&self, _identifier: &str) -> Fetched {
        self.refuse()
    }
    fn status_list_credential(&self, _url: &str) -> Fetched {
        self.refuse()
    }
    fn credential_schema(&self, _url: &str) -> Fetched {
        self.refuse()
    }
}

enum Network<'a> {
    Fetch { cancelled: Option<&'a AtomicBool> },
    None(&'a NoNetwork),
}

/// One verification's view of the [`Verifier`]: the same checks, with its own network
/// budget.
pub struct Scope<'a> {
    verifier: &'a Verifier,
    network: Network<'a>,
}

impl Verifier {
    /// `conformance` switches to the W3C test suites' needs: example and inline contexts
    /// are accepted (`ContextPolicy::CONFORMANCE`), unsigned presentations may pass, and
    /// status lists are fetched whoever the issuer is.
    pub fn new(trust: TrustList, fetcher: Option<Arc<Fetcher>>, conformance: bool) -> Self {
        let policy = if conformance { ContextPolicy::CONFORMANCE } else { ContextPolicy::STRICT };
        Self {
            trust,
            fetcher,
            policy,
            require_holder_proof: !conformance,
            fetch_for_unknown_issuers: conformance,
        }
    }

    pub fn json_limits() -> JsonLimits {
        JsonLimits { max_bytes: MAX_DOCUMENT_BYTES, ..JsonLimits::default() }
    }

    /// A scope that fetches under the verification budget and stops once `cancelled` is set.
    pub fn scope<'a>(&'a self, cancelled: Option<&'a AtomicBool>) -> Scope<'a> {
        Scope { verifier: self, network: Network::Fetch { cancelled } }
    }

    /// A scope that never touches the network (see [`NoNetwork`]).
    pub fn without_network<'a>(&'a self, refusals: &'a NoNetwork) -> Scope<'a> {
        Scope { verifier: self, network: Network::None(refusals) }
    }

    pub fn credential(&self, document: &Value) -> Report {
        self.scope(None).credential(document)
    }

    pub fn compact(&self, text: &str) -> Report {
        self.scope(None).compact(text)
    }

    pub fn presentation(&self, document: &Value, challenge: Option<&str>, domain: Option<&str>) -> Report {
        self.scope(None).presentation(document, challenge, domain)
    }
}

impl Scope<'_> {
    /// The fetcher, for reading a link the user gave (never from an async worker's scope).
    pub fn fetcher(&self) -> Option<&Fetcher> {
        match self.network {
            Network::Fetch { cancelled } if !cancelled.is_some_and(|c| c.load(Ordering::Acquire)) => {
                self.verifier.fetcher.as_deref()
            }
            _ => None,
        }
    }

    fn with_options<T>(&self, f: impl FnOnce(&VerifyOptions<'_>) -> T) -> T {
        let verifier = self.verifier;
        let session;
        let resolver: &dyn Resolver = match (&self.network, &verifier.fetcher) {
            (Network::None(refusals), _) => *refusals,
            (Network::Fetch { cancelled }, Some(fetcher)) => {
                session = fetcher.session(Budget::VERIFICATION, *cancelled);
                &session
            }
            (Network::Fetch { .. }, None) => &Offline,
        };
        let mut options = VerifyOptions::new(now(), &verifier.trust, resolver);
        options.policy = verifier.policy;
        options.require_holder_proof = verifier.require_holder_proof;
        options.fetch_for_unknown_issuers = verifier.fetch_for_unknown_issuers;
        options.json_limits = Verifier::json_limits();
        f(&options)
    }

    pub fn credential(&self, document: &Value) -> Report {
        self.with_options(|o| verify::verify_credential(document, o))
    }

    /// A certificate's compact QR text (`BEM2:…`, or a link carrying it in its fragment).
    pub fn compact(&self, text: &str) -> Report {
        self.with_options(|o| bem_core::compact::verify(text, o))
    }

    pub fn credential_bytes(&self, bytes: &[u8]) -> Report {
        self.with_options(|o| verify::verify_credential_bytes(bytes, o))
    }

    pub fn presentation(&self, document: &Value, challenge: Option<&str>, domain: Option<&str>) -> Report {
        self.with_options(|o| {
            let o = VerifyOptions { challenge, domain, ..*o };
            verify::verify_presentation(document, &o)
        })
    }
}
