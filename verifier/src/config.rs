//! The verifier's configuration: the trust file (TOML) and the fetch policy built from it.
//!
//! The trust file holds the core's trust list (`[[issuer]]` tables, read into
//! `bem_core::trust::TrustList` unchanged) and an optional `[fetch]` table. The fetch
//! policy allows, by default, only the hosts of the trusted `did:web` issuers, plus the
//! file's extra `hosts`, plus origins allowed by name with `--fetch-allow` or
//! `BEM_FETCH_ALLOW` (comma-separated URL prefixes). Unknown keys are errors, so a typo
//! cannot silently widen or narrow trust.
//!
//! The TLS certificate and key of `serve` come as a pair from the flags
//! (`--tls-cert`/`--tls-key`), else from [`TLS_CERT_ENV`]/[`TLS_KEY_ENV`]; half a pair is
//! an error.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bem_core::trust::{TrustList, TrustedIssuer};
use bem_fetch::{AllowedOrigin, FetchPolicy, HostRule};
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
    #[serde(default)]
    pub fetch: FetchSection,
}

impl TrustFile {
    /// Reads and checks a trust file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading trust file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("trust file {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: TrustFile = toml::from_str(text)?;
        for issuer in &file.issuer {
            anyhow::ensure!(
                issuer.id.starts_with("did:") || issuer.id.starts_with("https://"),
                "issuer id {:?} is not a DID or https URL",
                issuer.id
            );
        }
        Ok(file)
    }

    pub fn trust_list(&self) -> TrustList {
        TrustList { issuers: self.issuer.clone() }
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
    fn typos_and_bad_ids_are_errors() {
        assert!(TrustFile::parse("[[issuer]]\nid = \"did:web:a.example\"\nnmae = \"x\"\n").is_err());
        assert!(TrustFile::parse("[fetch]\nany_host = true\n").is_err());
        assert!(TrustFile::parse("[[issuer]]\nid = \"a.example\"\n").is_err());
        assert!(TrustFile::parse("").unwrap().issuer.is_empty());
    }
}
