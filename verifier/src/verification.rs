//! The verifier's one door into `bem_core::verify`: the configured trust list, context
//! policy, resolver and clock, applied the same way for `serve`, the page and `check`.
//!
//! Nothing here decides whether a credential is genuine; it only builds the
//! `VerifyOptions` and calls the core pipeline (ARCHITECTURE.md, "The one rule").

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bem_core::contexts::ContextPolicy;
use bem_core::datetime::Timestamp;
use bem_core::json::JsonLimits;
use bem_core::resolver::{Offline, Resolver};
use bem_core::trust::TrustList;
use bem_core::verify::{self, Report, VerifyOptions};
use bem_fetch::Fetcher;
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
}

/// The current time, as the core takes it.
pub fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

impl Verifier {
    /// `conformance` switches to the W3C test suites' needs: example and inline contexts
    /// are accepted (`ContextPolicy::CONFORMANCE`) and unsigned presentations may pass.
    pub fn new(trust: TrustList, fetcher: Option<Arc<Fetcher>>, conformance: bool) -> Self {
        let policy = if conformance { ContextPolicy::CONFORMANCE } else { ContextPolicy::STRICT };
        Self { trust, fetcher, policy, require_holder_proof: !conformance }
    }

    pub fn fetcher(&self) -> Option<&Fetcher> {
        self.fetcher.as_deref()
    }

    pub fn json_limits() -> JsonLimits {
        JsonLimits { max_bytes: MAX_DOCUMENT_BYTES, ..JsonLimits::default() }
    }

    fn with_options<T>(&self, f: impl FnOnce(&VerifyOptions<'_>) -> T) -> T {
        let resolver: &dyn Resolver = match &self.fetcher {
            Some(fetcher) => fetcher.as_ref(),
            None => &Offline,
        };
        let mut options = VerifyOptions::new(now(), &self.trust, resolver);
        options.policy = self.policy;
        options.require_holder_proof = self.require_holder_proof;
        options.json_limits = Self::json_limits();
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
