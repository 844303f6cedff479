//! The HTTP side of the fetcher: policy checks on every hop, the post-DNS address guard,
//! limits, the cache, and the core's `Resolver` over it all.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bem_core::json::{self, JsonLimits};
use bem_core::resolver::{Fetched, Resolver};
use bem_core::ProblemCode;
use serde_json::Value;
use url::Url;

use crate::cache::{Cache, Freshness, Lookup};
use crate::policy::{redact, FetchPolicy};
use crate::{address, Error, ErrorKind};

/// Resolves `host:port` to socket addresses (the system resolver by default; tests
/// substitute their own to play DNS rebinding).
pub type DnsLookup = Arc<dyn Fn(&str) -> io::Result<Vec<SocketAddr>> + Send + Sync>;

/// Limits and policy of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub policy: FetchPolicy,
    /// One limit for the whole fetch: DNS, connections, redirects and body.
    pub timeout: Duration,
    /// Largest response body, in bytes.
    pub max_bytes: usize,
    pub max_redirects: u32,
    pub cache_entries: usize,
    /// Largest total of cached bodies, in bytes.
    pub cache_bytes: usize,
    /// Certificates (DER) trusted as TLS roots besides Mozilla's, e.g. a test CA for
    /// servers on loopback (`--fetch-ca`); empty in production.
    pub extra_roots: Vec<Vec<u8>>,
}

impl FetchConfig {
    /// 5 s, 1 MiB, 3 redirects, 256 cached documents up to 32 MiB in all.
    pub fn new(policy: FetchPolicy) -> Self {
        Self {
            policy,
            timeout: Duration::from_secs(5),
            max_bytes: 1024 * 1024,
            max_redirects: 3,
            cache_entries: 256,
            cache_bytes: 32 * 1024 * 1024,
            extra_roots: Vec::new(),
        }
    }

    /// Adds the certificates of the PEM file at `path` as TLS roots.
    pub fn with_ca_file(mut self, path: &std::path::Path) -> Result<Self, Error> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let config_error =
            |detail: String| Error::new(ErrorKind::Config, format!("{}: {detail}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| config_error(e.to_string()))?;
        let certificates = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error(format!("not a PEM certificate file: {e}")))?;
        if certificates.is_empty() {
            return Err(config_error("no certificate in the file".into()));
        }
        for certificate in certificates {
            let mut store = rustls::RootCertStore::empty();
            store.add(certificate.clone()).map_err(|e| config_error(format!("not a usable root: {e}")))?;
            self.extra_roots.push(certificate.to_vec());
        }
        Ok(self)
    }
}

/// ureq's TLS configuration with Mozilla's roots plus `extra` (DER; checked when added).
fn tls_config(extra: &[Vec<u8>]) -> Option<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for der in extra {
        roots.add(rustls::pki_types::CertificateDer::from(der.clone())).ok()?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(Arc::new(config))
}

/// A blocking fetcher of JSON documents under a [`FetchPolicy`], with a cache.
pub struct Fetcher {
    agent: ureq::Agent,
    config: FetchConfig,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The post-DNS guard: refuses a connection to any non-public address unless the
/// connection is to an origin the operator allowed by name.
struct GuardedDns {
    allowed_authorities: BTreeSet<String>,
    lookup: DnsLookup,
    timeout: Duration,
    lookups: Arc<AtomicUsize>,
}

/// Most DNS lookups under way at once. A lookup runs on a thread of its own so that it
/// can be timed out, and a timed-out lookup's thread lives on until the system resolver
/// gives up: without a cap, a slow name server for an allowed host would pile them up.
pub const MAX_DNS_LOOKUPS: usize = 32;

impl ureq::Resolver for GuardedDns {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let addrs = lookup_with_timeout(&self.lookup, &self.lookups, netloc, self.timeout)?;
        if self.allowed_authorities.contains(&netloc.to_ascii_lowercase()) {
            return Ok(addrs);
        }
        if let Some(bad) = addrs.iter().find(|a| !address::is_public(a.ip())) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{netloc} resolves to the non-public address {}", bad.ip()),
            ));
        }
        Ok(addrs)
    }
}

/// The system resolver, bounded in time (the HTTP client's deadline does not cover DNS)
/// and in lookups under way ([`MAX_DNS_LOOKUPS`], counted in `lookups`).
fn lookup_with_timeout(
    lookup: &DnsLookup,
    lookups: &Arc<AtomicUsize>,
    netloc: &str,
    timeout: Duration,
) -> io::Result<Vec<SocketAddr>> {
    if lookups.fetch_add(1, Ordering::AcqRel) >= MAX_DNS_LOOKUPS {
        lookups.fetch_sub(1, Ordering::AcqRel);
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("DNS lookup of {netloc} not started: {MAX_DNS_LOOKUPS} lookups are already under way"),
        ));
    }
    let (tx, rx) = mpsc::channel();
    let lookup = lookup.clone();
    let netloc_owned = netloc.to_owned();
    let counter = lookups.clone();
    let spawned = std::thread::Builder::new().name("bem-fetch-dns".into()).spawn(move || {
        let _ = tx.send(lookup(&netloc_owned));
        counter.fetch_sub(1, Ordering::AcqRel);
    });
    if let Err(e) = spawned {
        lookups.fetch_sub(1, Ordering::AcqRel);
        return Err(e);
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(io::Error::new(io::ErrorKind::TimedOut, format!("DNS lookup of {netloc} timed out")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(io::Error::other(format!("DNS lookup of {netloc} failed")))
        }
    }
}

fn system_lookup() -> DnsLookup {
    Arc::new(|netloc: &str| netloc.to_socket_addrs().map(Iterator::collect))
}

enum Hop {
    Done(Arc<Value>),
    Redirect(Url),
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Self {
        Self::with_dns(config, system_lookup())
    }

    /// A fetcher resolving names with `lookup` (tests; special set-ups). The address guard
    /// applies to whatever it returns.
    pub fn with_dns(config: FetchConfig, lookup: DnsLookup) -> Self {
        let guard = GuardedDns {
            allowed_authorities: config.policy.allowed_authorities(),
            lookup,
            timeout: config.timeout,
            lookups: Arc::new(AtomicUsize::new(0)),
        };
        let mut builder = ureq::AgentBuilder::new();
        if !config.extra_roots.is_empty() {
            if let Some(tls) = tls_config(&config.extra_roots) {
                builder = builder.tls_config(tls);
            }
        }
        let agent = builder
            .redirects(0)
            .try_proxy_from_env(false)
            .timeout(config.timeout)
            .max_idle_connections(16)
            .user_agent(concat!("bem-fetch/", env!("CARGO_PKG_VERSION")))
            .resolver(guard)
            .build();
        let cache = Mutex::new(Cache::new(config.cache_entries, config.cache_bytes));
        Self { agent, config, cache }
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fetches and strictly parses the JSON document at `url` (or answers from the cache),
    /// within the configured time limit.
    pub fn fetch_json(&self, url: &str) -> Result<Arc<Value>, Error> {
        self.fetch_json_until(url, None)
    }

    /// As [`Fetcher::fetch_json`], ending by `deadline` when that comes before the
    /// configured limit. The fragment is not part of the document: it is dropped before
    /// the cache and the request. A failure is remembered for
    /// [`crate::cache::FAILURE_TTL`], unless it is a time-out that only the caller's
    /// earlier deadline caused.
    pub fn fetch_json_until(&self, url: &str, deadline: Option<Instant>) -> Result<Arc<Value>, Error> {
        let start = Instant::now();
        let own_deadline = start.checked_add(self.config.timeout).unwrap_or(start);
        let (deadline, cut_short) = match deadline {
            Some(d) if d < own_deadline => (d, true),
            _ => (own_deadline, false),
        };
        let mut current = Url::parse(url).map_err(|e| {
            Error::new(ErrorKind::InvalidUrl, format!("{:?} is not a URL: {e}", truncate(url)))
        })?;
        current.set_fragment(None);
        // Policy first, so that a refused URL is refused even when it is cached.
        self.config.policy.admit(&current)?;
        let key = current.as_str().to_owned();
        let cached = self.cache().lookup(&key, start);
        let (stale, etag) = match cached {
            Lookup::Fresh(value) => return Ok(value),
            Lookup::Failed(error) => return Err(error),
            Lookup::Revalidate { value, etag } => (Some(value), Some(etag)),
            Lookup::Miss => (None, None),
        };
        let result = self.follow(&key, current, deadline, stale.as_ref(), etag.as_deref());
        if let Err(error) = &result {
            let remember = match error.kind() {
                ErrorKind::Timeout => !cut_short,
                ErrorKind::Network
                | ErrorKind::Status
                | ErrorKind::Redirect
                | ErrorKind::TooLarge
                | ErrorKind::Json => true,
                _ => false,
            };
            if remember {
                self.cache().fail(&key, error.clone(), Instant::now());
            }
        }
        result
    }

    fn follow(
        &self,
        key: &str,
        mut current: Url,
        deadline: Instant,
        stale: Option<&Arc<Value>>,
        etag: Option<&str>,
    ) -> Result<Arc<Value>, Error> {
        for _ in 0..=self.config.max_redirects {
            self.config.policy.admit(&current)?;
            match self.hop(key, &current, deadline, stale, etag)? {
                Hop::Done(value) => return Ok(value),
                Hop::Redirect(next) => current = next,
            }
        }
        Err(Error::new(
            ErrorKind::Redirect,
            format!("{}: more than {} redirects", redact(&current), self.config.max_redirects),
        ))
    }

    fn hop(
        &self,
        cache_key: &str,
        url: &Url,
        deadline: Instant,
        stale: Option<&Arc<Value>>,
        etag: Option<&str>,
    ) -> Result<Hop, Error> {
        let shown = redact(url);
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Error::new(ErrorKind::Timeout, format!("{shown}: timed out")));
        }
        let mut request = self
            .agent
            .request_url("GET", url)
            .timeout(remaining)
            .set("Accept", "application/ld+json, application/json;q=0.9, */*;q=0.1");
        if let Some(etag) = etag {
            request = request.set("If-None-Match", etag);
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, _)) => {
                return Err(Error::new(ErrorKind::Status, format!("{shown}: HTTP status {code}")))
            }
            Err(ureq::Error::Transport(t)) => return Err(transport_error(&shown, &t)),
        };
        let freshness = Freshness::from_cache_control(response.header("cache-control"));
        match response.status() {
            200 => {
                let new_etag = response.header("etag").map(str::to_owned);
                let bytes = read_capped(response.into_reader(), self.config.max_bytes, &shown)?;
                let limits = JsonLimits { max_bytes: self.config.max_bytes, ..JsonLimits::default() };
                let value = Arc::new(
                    json::parse(&bytes, &limits)
                        .map_err(|e| Error::new(ErrorKind::Json, format!("{shown}: {}", e.message)))?,
                );
                self.cache().store(
                    cache_key,
                    value.clone(),
                    new_etag,
                    freshness,
                    bytes.len(),
                    Instant::now(),
                );
                Ok(Hop::Done(value))
            }
            304 => match stale {
                Some(value) if etag.is_some() => {
                    self.cache().refresh(cache_key, freshness, Instant::now());
                    Ok(Hop::Done(value.clone()))
                }
                _ => Err(Error::new(ErrorKind::Status, format!("{shown}: unexpected 304"))),
            },
            301 | 302 | 303 | 307 | 308 => {
                let location = response.header("location").ok_or_else(|| {
                    Error::new(ErrorKind::Redirect, format!("{shown}: redirect without Location"))
                })?;
                let next = url.join(location).map_err(|e| {
                    Error::new(ErrorKind::Redirect, format!("{shown}: bad redirect target: {e}"))
                })?;
                Ok(Hop::Redirect(next))
            }
            other => Err(Error::new(ErrorKind::Status, format!("{shown}: HTTP status {other}"))),
        }
    }
}

fn transport_error(shown: &str, t: &ureq::Transport) -> Error {
    let source = std::error::Error::source(t);
    let io_kind = source.and_then(|s| s.downcast_ref::<io::Error>()).map(io::Error::kind);
    let detail = match (t.message(), source) {
        (Some(m), Some(s)) => format!("{m}: {s}"),
        (Some(m), None) => m.to_owned(),
        (None, Some(s)) => s.to_string(),
        (None, None) => t.kind().to_string(),
    };
    let kind = match io_kind {
        Some(io::ErrorKind::PermissionDenied) => ErrorKind::Refused,
        Some(io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => ErrorKind::Timeout,
        _ => ErrorKind::Network,
    };
    Error::new(kind, format!("{shown}: {detail}"))
}

fn read_capped(reader: impl Read, max: usize, shown: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes).map_err(|e| {
        let kind = if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
            ErrorKind::Timeout
        } else {
            ErrorKind::Network
        };
        Error::new(kind, format!("{shown}: reading the body failed: {e}"))
    })?;
    if bytes.len() > max {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!("{shown}: the document is larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// A document the pipeline asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wanted<'a> {
    ControllerDocument(&'a str),
    StatusList(&'a str),
    Schema(&'a str),
}

impl Wanted<'_> {
    /// The URL to fetch, the problem code of a failure and the words for the document.
    pub(crate) fn target(self) -> Result<(String, ProblemCode, String), bem_core::Error> {
        match self {
            Wanted::ControllerDocument(identifier) => {
                let code = ProblemCode::InvalidControlledIdentifierDocument;
                let url = if identifier.starts_with("did:web:") {
                    bem_core::did_web::document_url(identifier)?
                } else if identifier.starts_with("https://") {
                    identifier.to_owned()
                } else {
                    return Err(bem_core::Error::new(
                        code,
                        format!(
                            "{} cannot be resolved: only did:key, did:web and https identifiers are",
                            truncate(identifier)
                        ),
                    ));
                };
                Ok((url, code, format!("controller document of {}", truncate(identifier))))
            }
            Wanted::StatusList(url) => {
                Ok((url.to_owned(), ProblemCode::StatusRetrievalError, "status list".into()))
            }
            Wanted::Schema(url) => {
                Ok((url.to_owned(), ProblemCode::SchemaValidationError, "credential schema".into()))
            }
        }
    }
}

impl Fetcher {
    /// Fetches `wanted` by `deadline` (the configured limit alone when `None`).
    pub(crate) fn resolve(&self, wanted: Wanted<'_>, deadline: Option<Instant>) -> Fetched {
        let (url, code, what) = match wanted.target() {
            Ok(target) => target,
            Err(e) => return Fetched::Failed(e),
        };
        match self.fetch_json_until(&url, deadline) {
            Ok(value) => Fetched::Document(Value::clone(&value)),
            Err(e) => Fetched::Failed(bem_core::Error::new(code, format!("{what}: {e}"))),
        }
    }
}

impl Resolver for Fetcher {
    fn controller_document(&self, identifier: &str) -> Fetched {
        self.resolve(Wanted::ControllerDocument(identifier), None)
    }

    fn status_list_credential(&self, url: &str) -> Fetched {
        self.resolve(Wanted::StatusList(url), None)
    }

    fn credential_schema(&self, url: &str) -> Fetched {
        self.resolve(Wanted::Schema(url), None)
    }
}
