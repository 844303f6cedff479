//! The fetch policy: which URLs may be fetched at all, before any connection is made.
//!
//! A URL passes in one of two ways:
//! - it starts with an origin the operator allowed explicitly (`--fetch-allow`,
//!   `BEM_FETCH_ALLOW`): then it may be http, an IP literal, loopback or private, because
//!   the operator said so by name (local set-ups and tests);
//! - or it is an `https` URL without userinfo whose host is a DNS name (never an IP
//!   literal in any of its decimal, octal or hex spellings, never `localhost`, a
//!   `.local`/`.internal`/`.home.arpa` name or a name ending in a dot) that the
//!   [`HostRule`] allows: by default, only the hosts of the trust list's `did:web`
//!   issuers (and any extra hosts configured), so nothing an unknown issuer names is
//!   fetched (attack case AC-20).
//!
//! Passing the policy is not enough to connect: the addresses the name resolves to are
//! checked too (`address::is_public`), unless the URL is under an allowed origin.

use std::collections::BTreeSet;

use url::{Host, Url};

use crate::{Error, ErrorKind};

/// An origin (and path prefix) the operator allowed by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    scheme: String,
    host: String,
    port: u16,
    /// Always ends with `/`.
    path_prefix: String,
}

impl AllowedOrigin {
    /// Parses a URL prefix such as `http://127.0.0.1:8080/` or `https://issuer.example/lists/`.
    pub fn parse(prefix: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::new(ErrorKind::Config, format!("allowed origin {prefix:?}: {why}"));
        let url = Url::parse(prefix.trim()).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad("only http and https origins can be allowed"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("userinfo is not allowed"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment is not allowed"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?.to_owned();
        let port = url.port_or_known_default().ok_or_else(|| bad("no port"))?;
        let mut path_prefix = url.path().to_owned();
        if !path_prefix.ends_with('/') {
            path_prefix.push('/');
        }
        Ok(Self { scheme: url.scheme().to_owned(), host, port, path_prefix })
    }

    /// Parses a comma-separated list (the form of `BEM_FETCH_ALLOW`), skipping blanks.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, Error> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Self::parse).collect()
    }

    fn matches(&self, url: &Url) -> bool {
        let path = url.path();
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host.as_str())
            && url.port_or_known_default() == Some(self.port)
            && (path.starts_with(&self.path_prefix) || format!("{path}/") == self.path_prefix)
    }

    /// `host:port` as the HTTP client names the connection it resolves.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Which public https hosts may be fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// Only these hosts (lower case, as the URL parser writes them).
    Listed(BTreeSet<String>),
    /// Any public https host.
    AnyPublic,
}

/// The whole policy: explicitly allowed origins and the rule for public hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    pub allowed_origins: Vec<AllowedOrigin>,
    pub hosts: HostRule,
}

impl Default for FetchPolicy {
    /// Allows nothing at all.
    fn default() -> Self {
        Self { allowed_origins: Vec::new(), hosts: HostRule::Listed(BTreeSet::new()) }
    }
}

/// What the policy decided for a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Under an operator-allowed origin: any address may be connected to.
    AllowedOrigin,
    /// A public https host: only public addresses may be connected to.
    PublicHost,
}

/// Host names that never denote a public host, whatever DNS says.
const LOCAL_SUFFIXES: &[&str] = &[".localhost", ".local", ".internal", ".home.arpa", ".localdomain"];

impl FetchPolicy {
    /// A policy allowing the hosts of the `did:web` identifiers among `issuers`, plus
    /// `extra_hosts`, plus the `allowed_origins`.
    pub fn for_issuers<'a>(
        issuers: impl IntoIterator<Item = &'a str>,
        extra_hosts: impl IntoIterator<Item = &'a str>,
        allowed_origins: Vec<AllowedOrigin>,
    ) -> Self {
        let mut hosts = BTreeSet::new();
        for id in issuers {
            if let Some(host) = did_web_host(id) {
                hosts.insert(host);
            }
        }
        for h in extra_hosts {
            hosts.insert(h.trim().to_ascii_lowercase());
        }
        Self { allowed_origins, hosts: HostRule::Listed(hosts) }
    }

    /// Decides whether `url` may be fetched.
    pub fn admit(&self, url: &Url) -> Result<Admission, Error> {
        if self.allowed_origins.iter().any(|o| o.matches(url)) {
            return Ok(Admission::AllowedOrigin);
        }
        let refuse = |why: String| Err(Error::new(ErrorKind::Refused, format!("{}: {why}", redact(url))));
        if url.scheme() != "https" {
            return refuse("only https URLs are fetched".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("URLs with userinfo are not fetched".into());
        }
        let domain = match url.host() {
            Some(Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
                return refuse("IP address literals are not fetched".into())
            }
            None => return refuse("the URL has no host".into()),
        };
        if domain.ends_with('.') {
            return refuse("host names ending with a dot are not fetched".into());
        }
        if domain == "localhost"
            || LOCAL_SUFFIXES.iter().any(|s| domain.ends_with(s))
            || !domain.contains('.')
        {
            return refuse(format!("{domain} is not a public host name"));
        }
        match &self.hosts {
            HostRule::AnyPublic => Ok(Admission::PublicHost),
            HostRule::Listed(hosts) if hosts.contains(&domain) => Ok(Admission::PublicHost),
            HostRule::Listed(_) => {
                refuse(format!("{domain} is not an allowed host (not named by the trust list)"))
            }
        }
    }

    /// `host:port` of every allowed origin, for the post-DNS address check.
    pub(crate) fn allowed_authorities(&self) -> BTreeSet<String> {
        self.allowed_origins.iter().map(AllowedOrigin::authority).collect()
    }
}

/// The host of a `did:web` identifier, if it is one with a plain DNS host.
fn did_web_host(id: &str) -> Option<String> {
    let rest = id.strip_prefix("did:web:")?;
    let host = rest.split(':').next()?.split("%3A").next()?.split("%3a").next()?;
    let ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then(|| host.to_ascii_lowercase())
}

/// The URL without userinfo, query or fragment, for messages and logs.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> FetchPolicy {
        FetchPolicy::for_issuers(
            ["did:web:issuer.example", "did:web:bem.example%3A8443:providers:x", "did:key:z6Mk"],
            ["status.example.org"],
            AllowedOrigin::parse_list("http://127.0.0.1:8080/, https://lists.example/status/").unwrap(),
        )
    }

    fn admit(url: &str) -> Result<Admission, Error> {
        policy().admit(&Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}")))
    }

    #[test]
    fn trust_list_hosts_and_allowed_origins_pass() {
        assert_eq!(admit("https://issuer.example/.well-known/did.json").unwrap(), Admission::PublicHost);
        assert_eq!(admit("https://bem.example:8443/providers/x/did.json").unwrap(), Admission::PublicHost);
        assert_eq!(admit("https://Status.Example.org/lists/1").unwrap(), Admission::PublicHost);
        assert_eq!(admit("http://127.0.0.1:8080/status-lists/1").unwrap(), Admission::AllowedOrigin);
        assert_eq!(admit("http://127.0.0.1:8080").unwrap(), Admission::AllowedOrigin);
        assert_eq!(admit("https://lists.example/status/r1").unwrap(), Admission::AllowedOrigin);
        assert_eq!(admit("https://lists.example/status").unwrap(), Admission::AllowedOrigin);
    }

    #[test]
    fn everything_else_is_refused_before_connecting() {
        for url in [
            // not https
            "http://issuer.example/",
            "ftp://issuer.example/",
            "file:///etc/passwd",
            // IP literals in every spelling the URL parser understands
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://0x7f.1/",
            "https://127.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://0.0.0.0/",
            // local names
            "https://localhost/",
            "https://LOCALHOST/",
            "https://localhost./",
            "https://a.localhost/",
            "https://printer.local/",
            "https://metadata.google.internal/",
            "https://intranet/",
            "https://issuer.example./",
            // userinfo tricks
            "https://issuer.example@evil.example/",
            "https://user:pw@issuer.example/",
            // the allowed origin's neighbours
            "http://127.0.0.1:8081/",
            "https://127.0.0.1:8080/",
            "http://127.0.0.2:8080/",
            "https://lists.example/statusx",
            "https://lists.example/other/",
            // hosts the trust list does not name
            "https://evil.example/",
            "https://issuer.example.evil.example/",
        ] {
            let result = admit(url);
            assert!(
                matches!(&result, Err(e) if e.kind() == ErrorKind::Refused),
                "{url} must be refused, got {result:?}"
            );
        }
    }

    #[test]
    fn any_public_host_still_refuses_internal_names() {
        let p = FetchPolicy { allowed_origins: Vec::new(), hosts: HostRule::AnyPublic };
        assert!(p.admit(&Url::parse("https://anything.example/x").unwrap()).is_ok());
        for url in ["https://localhost/", "https://127.0.0.1/", "http://anything.example/"] {
            assert!(p.admit(&Url::parse(url).unwrap()).is_err(), "{url}");
        }
    }

    #[test]
    fn allowed_origins_are_parsed_strictly() {
        for bad in
            ["ftp://x.example/", "http://u:p@127.0.0.1/", "http://127.0.0.1/?q", "not a url", "/relative"]
        {
            assert!(AllowedOrigin::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(AllowedOrigin::parse_list(" , ").unwrap(), Vec::new());
    }

    #[test]
    fn did_web_hosts_are_read_plainly() {
        assert_eq!(did_web_host("did:web:issuer.example").as_deref(), Some("issuer.example"));
        assert_eq!(did_web_host("did:web:Issuer.Example%3A8443:x").as_deref(), Some("issuer.example"));
        assert_eq!(did_web_host("did:web:user@evil.example"), None);
        assert_eq!(did_web_host("did:key:z6Mk"), None);
    }
}
