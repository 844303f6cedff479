//! The wallet's window to the network: fetches from origins the user allowed explicitly
//! (`--fetch-allow ORIGIN` / `BEM_FETCH_ALLOW`), and nothing else.
//!
//! This is a stop-gap until the workspace's SSRF-safe fetcher (`bem-fetch`: public https
//! hosts, resolved-address checks, caching) exists; the wallet then uses it instead. Until
//! then, a URL outside the allowed prefixes is never requested: the pipeline hears
//! [`Fetched::Offline`] and reports "not checked (offline)", and `import URL` refuses.
//!
//! Invariants: a request goes only to a URL that starts with an allowed prefix (each
//! prefix ends in `/` after the authority, so `http://127.0.0.1:8080@evil/` never
//! matches `http://127.0.0.1:8080/`); no redirect is followed; answers are bounded in
//! size and time and parsed with the strict JSON parser.

use std::io::Read;
use std::time::Duration;

use bem_core::resolver::{Fetched, Resolver};
use bem_core::{Error, ProblemCode};

/// Largest answer read.
const MAX_BYTES: u64 = 2 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(15);

/// Fetches from explicitly allowed origins only.
pub struct AllowedOrigins {
    prefixes: Vec<String>,
    agent: ureq::Agent,
}

impl AllowedOrigins {
    /// Normalises each `ORIGIN` (`http://host:port` gets a trailing `/`); refuses values
    /// that are not http(s) URLs.
    pub fn new(origins: &[String]) -> anyhow::Result<Self> {
        let mut prefixes = Vec::new();
        for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--fetch-allow {origin:?}: expected a URL prefix such as http://127.0.0.1:8080/"
                    )
                })?;
            if rest.is_empty() || rest.starts_with('/') || rest.contains(['@', '?', '#', ' ']) {
                anyhow::bail!(
                    "--fetch-allow {origin:?}: expected a URL prefix such as http://127.0.0.1:8080/"
                );
            }
            let mut prefix = origin.to_owned();
            if !rest.contains('/') {
                prefix.push('/');
            }
            prefixes.push(prefix);
        }
        let agent = ureq::AgentBuilder::new().redirects(0).timeout(TIMEOUT).build();
        Ok(Self { prefixes, agent })
    }

    /// Whether `url` may be fetched.
    pub fn allows(&self, url: &str) -> bool {
        self.prefixes.iter().any(|p| url.starts_with(p.as_str()))
    }

    /// The body at `url`, if allowed; `Ok(None)` when it is not.
    pub fn get(&self, url: &str, accept: &str) -> Result<Option<Vec<u8>>, String> {
        if !self.allows(url) {
            return Ok(None);
        }
        let response = match self.agent.get(url).set("Accept", accept).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, _)) => return Err(format!("{url} answered HTTP {code}")),
            Err(e) => return Err(format!("{url}: {e}")),
        };
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{url}: {e}"))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(format!("{url}: the answer is larger than {MAX_BYTES} bytes"));
        }
        Ok(Some(bytes))
    }

    fn document(&self, url: &str, code: ProblemCode) -> Fetched {
        match self.get(url, "application/json, application/ld+json;q=0.9") {
            Ok(None) => Fetched::Offline,
            Ok(Some(bytes)) => match bem_core::json::parse(&bytes, &bem_core::json::JsonLimits::default()) {
                Ok(doc) => Fetched::Document(doc),
                Err(e) => {
                    Fetched::Failed(Error::new(code, format!("{url} is not valid JSON: {}", e.message)))
                }
            },
            Err(message) => Fetched::Failed(Error::new(code, message)),
        }
    }
}

impl Resolver for AllowedOrigins {
    fn controller_document(&self, identifier: &str) -> Fetched {
        let url = if identifier.starts_with("did:web:") {
            match bem_core::did_web::document_url(identifier) {
                Ok(url) => url,
                Err(e) => return Fetched::Failed(e),
            }
        } else {
            identifier.to_owned()
        };
        self.document(&url, ProblemCode::InvalidControlledIdentifierDocument)
    }

    fn status_list_credential(&self, url: &str) -> Fetched {
        self.document(url, ProblemCode::StatusRetrievalError)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_allowed_prefixes_are_fetched() {
        let net =
            AllowedOrigins::new(&["http://127.0.0.1:8080".into(), " https://issuer.example/certs/ ".into()])
                .unwrap();
        assert!(net.allows("http://127.0.0.1:8080/status-lists/1"));
        assert!(net.allows("https://issuer.example/certs/a"));
        for url in [
            "http://127.0.0.1:80800/x",
            "http://127.0.0.1:8080@evil.example/x",
            "http://127.0.0.1:8081/",
            "https://issuer.example/other",
            "https://evil.example/",
            "file:///etc/passwd",
        ] {
            assert!(!net.allows(url), "{url}");
            assert!(matches!(net.status_list_credential(url), Fetched::Offline), "{url}");
        }
        for bad in ["127.0.0.1:8080", "http://", "http://a@b/", "ftp://x/"] {
            assert!(AllowedOrigins::new(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(AllowedOrigins::new(&[]).unwrap().prefixes.is_empty());
    }
}
