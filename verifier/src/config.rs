//! The verifier's configuration: the trust file (TOML) and the fetch policy built from it.
//!
//! The trust file holds the core's trust list (`[[issuer]]` tables naming DIDs and
//! `[[anchor]]` tables naming X.509 trust anchors for JAdES-sealed EDC credentials, read
//! into `bem_core::trust::TrustList` unchanged) and an optional `[fetch]` table. An
//! anchor's `certificate_file` (PEM or DER) is read here, relative to the trust file's
//! folder, when the file is loaded: a missing or unreadable certificate stops the start
//! with an error naming the anchor and the file. The fetch
//! policy allows, by default, only the hosts of the trusted `did:web` issuers, plus the
//! file's extra `hosts`, plus origins allowed by name with `--fetch-allow` or
//! `BEM_FETCH_ALLOW` (comma-separated URL prefixes). Unknown keys are errors, so a typo
//! cannot silently widen or narrow trust.
//!
//! The TLS certificate and key of `serve` come as a pair from the flags
//! (`--tls-cert`/`--tls-key`), else from [`TLS_CERT_ENV`]/[`TLS_KEY_ENV`]; half a pair is
//! an error.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use bem_core::trust::{TrustList, TrustedAnchor, TrustedIssuer};
use bem_fetch::{AllowedOrigin, DnsLookup, FetchConfig, FetchPolicy, Fetcher, HostRule};
use bem_serve::TlsFiles;
use serde::Deserialize;

/// The environment variable with extra allowed origins (comma-separated URL prefixes).
pub const FETCH_ALLOW_ENV: &str = "BEM_FETCH_ALLOW";
/// The environment variables with the TLS certificate chain and key (PEM files).
pub const TLS_CERT_ENV: &str = "BEM_TLS_CERT";
pub const TLS_KEY_ENV: &str = "BEM_TLS_KEY";

/// The `[fetch]` table of the trust file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSection {
    /// Public https hosts that may be fetched from besides the trusted did:web hosts
    /// (e.g. a status list host of a did:key issuer).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Allow any public https host (addresses are still checked). Off by default.
    #[serde(default)]
    pub any_public_host: bool,
}

/// The whole trust file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    #[serde(default)]
    pub issuer: Vec<TrustedIssuer>,
    /// X.509 trust anchors; after [`TrustFile::load`] each carries its certificate inline.
    #[serde(default)]
    pub anchor: Vec<TrustedAnchor>,
    #[serde(default)]
    pub fetch: FetchSection,
}

impl TrustFile {
    /// Reads and checks a trust file, and the certificate files its anchors name
    /// (relative to the trust file's folder).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading trust file {}", path.display()))?;
        let folder = path.parent().unwrap_or_else(|| Path::new("."));
        let mut read = |file: &str| {
            let path = folder.join(file);
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Self::parse_with(&text, &mut read).with_context(|| format!("trust file {}", path.display()))
    }

    /// Parses a trust file's text; anchors must carry their certificate inline (there is
    /// no folder to read a `certificate_file` from).
    #[cfg(test)]
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Self::parse_with(text, &mut |file: &str| {
            Err(format!("{file}: certificate files are read only from a trust file on disk"))
        })
    }

    fn parse_with(text: &str, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>) -> anyhow::Result<Self> {
        let mut file: TrustFile = toml::from_str(text)?;
        for issuer in &file.issuer {
            anyhow::ensure!(
                issuer.id.starts_with("did:") || issuer.id.starts_with("https://"),
                "issuer id {:?} is not a DID or https URL",
                issuer.id
            );
        }
        let mut list = TrustList {
            issuers: std::mem::take(&mut file.issuer),
            anchors: std::mem::take(&mut file.anchor),
        };
        // The anchors' certificate files, then every anchor and pinned issuer key checked.
        list.read_anchor_files(read).map_err(|e| anyhow::anyhow!(e.message))?;
        file.issuer = list.issuers;
        file.anchor = list.anchors;
        Ok(file)
    }

    pub fn trust_list(&self) -> TrustList {
        TrustList { issuers: self.issuer.clone(), anchors: self.anchor.clone() }
    }

    /// The fetch policy: this file's hosts, and the origins allowed by name.
    pub fn fetch_policy(&self, allowed_origins: Vec<AllowedOrigin>, any_public_host: bool) -> FetchPolicy {
        let mut policy = FetchPolicy::for_issuers(
            self.issuer.iter().map(|i| i.id.as_str()),
            self.fetch.hosts.iter().map(String::as_str),
            allowed_origins,
        );
        if any_public_host || self.fetch.any_public_host {
            policy.hosts = HostRule::AnyPublic;
        }
        policy
    }
}

/// The fetcher's configuration: `policy`, plus the TLS roots of `--fetch-ca` if given.
pub fn fetch_config(policy: FetchPolicy, ca_file: Option<&Path>) -> anyhow::Result<FetchConfig> {
    let config = FetchConfig::new(policy);
    match ca_file {
        Some(path) => Ok(config.with_ca_file(path).map_err(|e| anyhow::anyhow!("--fetch-ca: {e}"))?),
        None => Ok(config),
    }
}

/// A fetcher for `config` that resolves the `host:port` authorities of `pins` (each
/// `--fetch-resolve HOST:PORT=ADDRESS:PORT`, like curl's `--resolve`) to the address given,
/// and every other name through the system resolver. For closed networks and tests: the
/// address guard still applies, so a pin to a loopback or private address only works for
/// an origin also allowed by name (`--fetch-allow`).
pub fn fetcher(config: FetchConfig, pins: &[String]) -> anyhow::Result<Fetcher> {
    if pins.is_empty() {
        return Ok(Fetcher::new(config));
    }
    let mut table: HashMap<String, SocketAddr> = HashMap::new();
    for pin in pins {
        let (authority, address) = pin
            .split_once('=')
            .with_context(|| format!("--fetch-resolve {pin:?}: expected HOST:PORT=ADDRESS:PORT"))?;
        let port_ok = authority
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0));
        anyhow::ensure!(port_ok, "--fetch-resolve {pin:?}: {authority:?} is not HOST:PORT");
        let address: SocketAddr = address
            .parse()
            .with_context(|| format!("--fetch-resolve {pin:?}: {address:?} is not an ADDRESS:PORT"))?;
        table.insert(authority.to_ascii_lowercase(), address);
    }
    let lookup: DnsLookup = Arc::new(move |netloc: &str| match table.get(&netloc.to_ascii_lowercase()) {
        Some(address) => Ok(vec![*address]),
        None => netloc.to_socket_addrs().map(Iterator::collect),
    });
    Ok(Fetcher::with_dns(config, lookup))
}

/// The origins from `--fetch-allow` flags and from [`FETCH_ALLOW_ENV`], together.
pub fn allowed_origins(flags: &[String]) -> anyhow::Result<Vec<AllowedOrigin>> {
    let mut origins = Vec::new();
    for flag in flags {
        origins.extend(AllowedOrigin::parse_list(flag)?);
    }
    if let Ok(env) = std::env::var(FETCH_ALLOW_ENV) {
        origins.extend(AllowedOrigin::parse_list(&env).with_context(|| format!("${FETCH_ALLOW_ENV}"))?);
    }
    Ok(origins)
}

/// The TLS files from the `--tls-cert`/`--tls-key` flags, else from the environment.
pub fn tls_files(cert: Option<PathBuf>, key: Option<PathBuf>) -> anyhow::Result<Option<TlsFiles>> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    resolve_tls(cert, key, &env)
}

fn resolve_tls(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<PathBuf>,
) -> anyhow::Result<Option<TlsFiles>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => match (env(TLS_CERT_ENV), env(TLS_KEY_ENV)) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            _ => anyhow::bail!("{TLS_CERT_ENV} and {TLS_KEY_ENV} must be given together"),
        },
        _ => anyhow::bail!("--tls-cert and --tls-key must be given together"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_pairs_come_from_the_flags_else_the_environment() {
        let vars = |cert: Option<&'static str>, key: Option<&'static str>| {
            move |name: &str| match name {
                TLS_CERT_ENV => cert.map(PathBuf::from),
                TLS_KEY_ENV => key.map(PathBuf::from),
                _ => None,
            }
        };
        let pair = |c: &str, k: &str| Some(TlsFiles { cert: c.into(), key: k.into() });
        let flag = |s: &str| Some(PathBuf::from(s));
        assert_eq!(resolve_tls(None, None, &vars(None, None)).unwrap(), None);
        let env = vars(Some("env.crt"), Some("env.key"));
        assert_eq!(resolve_tls(None, None, &env).unwrap(), pair("env.crt", "env.key"));
        assert_eq!(resolve_tls(flag("f.crt"), flag("f.key"), &env).unwrap(), pair("f.crt", "f.key"));
        let e = resolve_tls(flag("f.crt"), None, &env).unwrap_err().to_string();
        assert!(e.contains("--tls-cert and --tls-key"), "{e}");
        let e = resolve_tls(None, None, &vars(None, Some("env.key"))).unwrap_err().to_string();
        assert!(e.contains("BEM_TLS_CERT and BEM_TLS_KEY"), "{e}");
    }

    #[test]
    fn the_example_trust_file_parses() {
        let file = TrustFile::parse(include_str!("../trust.example.toml")).unwrap();
        assert!(!file.issuer.is_empty());
        let policy = file.fetch_policy(Vec::new(), false);
        assert!(matches!(policy.hosts, HostRule::Listed(ref h) if h.contains("bem-academy.example")));
    }

    #[test]
    fn anchor_certificate_files_are_read_relative_to_the_trust_file() {
        let dir = tempfile::tempdir().unwrap();
        let pem = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elm/anf-eseal-ca.pem"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("anchors")).unwrap();
        std::fs::write(dir.path().join("anchors/ca.pem"), &pem).unwrap();
        let trust = dir.path().join("trust.toml");
        std::fs::write(&trust, "[[anchor]]\nname = \"ANF\"\ncertificate_file = \"anchors/ca.pem\"\n")
            .unwrap();
        let file = TrustFile::load(&trust).unwrap();
        let list = file.trust_list();
        assert_eq!(list.x509_anchors().len(), 1);
        assert!(list.anchors.iter().all(|a| a.certificate_file.is_none() && a.certificate.is_some()));

        std::fs::write(&trust, "[[anchor]]\nname = \"ANF\"\ncertificate_file = \"anchors/gone.pem\"\n")
            .unwrap();
        let e = format!("{:#}", TrustFile::load(&trust).unwrap_err());
        assert!(e.contains("trust.toml") && e.contains("\"ANF\"") && e.contains("anchors/gone.pem"), "{e}");
        std::fs::write(
            dir.path().join("anchors/junk.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::write(&trust, "[[anchor]]\nname = \"ANF\"\ncertificate_file = \"anchors/junk.pem\"\n")
            .unwrap();
        let e = format!("{:#}", TrustFile::load(&trust).unwrap_err());
        assert!(e.contains("junk.pem") && e.contains("not a PEM or DER"), "{e}");
        // Without a file on disk there is nowhere to read from.
        assert!(TrustFile::parse("[[anchor]]\nname = \"A\"\ncertificate_file = \"a.pem\"\n").is_err());
        let inline = format!("[[anchor]]\nname = \"A\"\ncertificate = \"\"\"\n{pem}\"\"\"\n");
        assert_eq!(TrustFile::parse(&inline).unwrap().trust_list().x509_anchors().len(), 1);
        assert!(TrustFile::parse("[[anchor]]\nname = \"A\"\ncertificate_fil = \"a.pem\"\n").is_err());
    }

    #[test]
    fn typos_and_bad_ids_are_errors() {
        assert!(TrustFile::parse("[[issuer]]\nid = \"did:web:a.example\"\nnmae = \"x\"\n").is_err());
        assert!(TrustFile::parse("[fetch]\nany_host = true\n").is_err());
        assert!(TrustFile::parse("[[issuer]]\nid = \"a.example\"\n").is_err());
        assert!(TrustFile::parse("").unwrap().issuer.is_empty());
    }

    #[test]
    fn address_pins_are_read_strictly() {
        let config = || FetchConfig::new(FetchPolicy::default());
        assert!(fetcher(config(), &["issuer.bem.test:8443=127.0.0.1:8443".into()]).is_ok());
        assert!(fetcher(config(), &["[::1]:443=[::1]:8443".into()]).is_ok());
        for bad in [
            "issuer.bem.test=127.0.0.1:8443",
            "issuer.bem.test:0=127.0.0.1:1",
            ":443=127.0.0.1:443",
            "issuer.bem.test:443",
            "issuer.bem.test:443=localhost:443",
            "issuer.bem.test:443=127.0.0.1",
        ] {
            let e = fetcher(config(), &[bad.into()]).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("--fetch-resolve"), "{bad}: {e}");
        }
    }
}
