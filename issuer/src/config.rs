//! The issuer's configuration: command-line flags, the TOML file and `BEM_*` variables.
//!
//! Precedence, lowest first: built-in defaults, the `--config` TOML file, `BEM_*`
//! environment variables, command-line flags. Every path that is not absolute is taken
//! as it is given (relative to the working directory). The resolved [`Config`] is plain
//! data: nothing here touches the data directory or reads the TLS files.
//!
//! The TLS certificate and key come as a pair from one place (`--tls-cert`/`--tls-key`,
//! else `BEM_TLS_CERT`/`BEM_TLS_KEY`, else the file's `[tls]` table): a place that gives
//! only one of them is an error, never half of a pair mixed with the other half from
//! elsewhere. The seal certificate and key (`--seal-cert`/`--seal-key`, else
//! `BEM_SEAL_CERT`/`BEM_SEAL_KEY`, else `[seal]`) come as a pair the same way.
//! `trusted_proxies` (`--trusted-proxies`, `BEM_TRUSTED_PROXIES`: comma-separated; the
//! file: an array) is a list of addresses and `ADDRESS/PREFIX` blocks; a bad entry stops
//! the start.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
pub use bem_serve::TlsFiles;
use serde::Deserialize;

use crate::client_address::TrustedProxies;

/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./bem-data";
/// Default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default limit of a JSON request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default limit of a bulk CSV body.
pub const DEFAULT_MAX_CSV_BYTES: usize = 32 * 1024 * 1024;

/// The issuing organisation as certificates name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerProfile {
    /// Legal name, in English.
    pub name: String,
    /// EU country authority URI, e.g. `http://publications.europa.eu/resource/authority/country/DEU`.
    pub country_uri: String,
    /// Registration number in the national register, if any.
    pub legal_identifier: Option<String>,
    /// The organisation's web site.
    pub homepage: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: String,
    /// Set explicitly; when `None` the server uses `http://<bound address>`, or
    /// `https://<bound address>` when it serves TLS itself.
    pub public_url: Option<String>,
    pub issuer: IssuerProfile,
    pub signing_key_file: PathBuf,
    /// A signing key given directly (a `z…` secretKeyMultibase), instead of the file.
    pub signing_key: Option<String>,
    pub admin_token_file: PathBuf,
    /// Serve TLS with this certificate and key (see [`Config::scheme`]).
    pub tls: Option<TlsFiles>,
    /// Also deliver certificates JAdES-sealed with this X.509 certificate and key.
    pub seal: Option<SealFiles>,
    pub max_body_bytes: usize,
    pub max_csv_bytes: usize,
    /// Base URL of a `bem-verifier` (for the `verify` link of awarded certificates).
    pub verifier_url: Option<String>,
    /// Accept the W3C example contexts and embedded contexts on `/credentials/issue`
    /// (for the W3C test suites only; never for production certificates).
    pub conformance_contexts: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (the admin-token limit).
    pub trusted_proxies: TrustedProxies,
    /// Write the learner's date of birth and the provider's learner number into
    /// certificates (and so onto their hosted page, PDF and wallets); off by default.
    pub publish_learner_details: bool,
    /// Most connections open at once from one client (`bem_serve::Limits`); behind a
    /// reverse proxy every connection is the proxy's.
    pub max_connections_per_client: usize,
}

/// What the command line gives.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub config: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub seal_cert: Option<PathBuf>,
    pub seal_key: Option<PathBuf>,
    /// `--trusted-proxies`: addresses or blocks, separated by commas.
    pub trusted_proxies: Option<String>,
}

/// The seal's files: the PEM certificate chain (the seal certificate first) and its
/// PKCS#8 PEM private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    max_body_bytes: Option<usize>,
    max_csv_bytes: Option<usize>,
    verifier_url: Option<String>,
    conformance_contexts: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    publish_learner_details: Option<bool>,
    max_connections_per_client: Option<usize>,
    #[serde(default)]
    issuer: FileIssuer,
    #[serde(default)]
    keys: FileKeys,
    tls: Option<FileTls>,
    seal: Option<FileSeal>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIssuer {
    name: Option<String>,
    country: Option<String>,
    legal_identifier: Option<String>,
    homepage: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileKeys {
    signing_key_file: Option<PathBuf>,
    signing_key: Option<String>,
    admin_token_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSeal {
    certificate: PathBuf,
    key: PathBuf,
}

const COUNTRY_AUTHORITY: &str = "http://publications.europa.eu/resource/authority/country/";

impl Config {
    /// Resolves defaults, the file named by `flags.config`, the environment and the flags.
    pub fn load(flags: &Flags) -> anyhow::Result<Config> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::resolve(flags, &env)
    }

    fn resolve(flags: &Flags, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let config_path = flags.config.clone().or_else(|| env("BEM_CONFIG").map(PathBuf::from));
        let file = match &config_path {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env("BEM_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let listen = flags
            .listen
            .clone()
            .or_else(|| env("BEM_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let public_url = flags.public_url.clone().or_else(|| env("BEM_PUBLIC_URL")).or(file.public_url);
        if let Some(url) = &public_url {
            check_public_url(url)?;
        }
        let public_url = public_url.map(|u| u.trim_end_matches('/').to_owned());
        let country = env("BEM_ISSUER_COUNTRY").or(file.issuer.country).unwrap_or_else(|| "DEU".to_owned());
        let issuer = IssuerProfile {
            name: env("BEM_ISSUER_NAME")
                .or(file.issuer.name)
                .unwrap_or_else(|| "BEM Credentials demo issuer".to_owned()),
            country_uri: country_uri(&country)?,
            legal_identifier: env("BEM_ISSUER_LEGAL_IDENTIFIER").or(file.issuer.legal_identifier),
            homepage: env("BEM_ISSUER_HOMEPAGE").or(file.issuer.homepage),
        };
        if let Some(url) = &issuer.homepage {
            check_web_url("the issuer homepage (BEM_ISSUER_HOMEPAGE, or homepage in [issuer])", url)?;
        }
        let verifier_url = env("BEM_VERIFIER_URL").or(file.verifier_url);
        if let Some(url) = &verifier_url {
            check_web_url("verifier_url (BEM_VERIFIER_URL, or verifier_url in the config file)", url)?;
        }
        let signing_key_file = env("BEM_SIGNING_KEY_FILE")
            .map(PathBuf::from)
            .or(file.keys.signing_key_file)
            .unwrap_or_else(|| data_dir.join("signing-key"));
        let admin_token_file = env("BEM_ADMIN_TOKEN_FILE")
            .map(PathBuf::from)
            .or(file.keys.admin_token_file)
            .unwrap_or_else(|| data_dir.join("admin-token"));
        let tls = pair(TLS, "--tls-cert and --tls-key", flags.tls_cert.clone(), flags.tls_key.clone())?
            .or(pair(
                TLS,
                "BEM_TLS_CERT and BEM_TLS_KEY",
                env("BEM_TLS_CERT").map(PathBuf::from),
                env("BEM_TLS_KEY").map(PathBuf::from),
            )?)
            .map(|(cert, key)| TlsFiles { cert, key })
            .or(file.tls.map(|t| TlsFiles { cert: t.cert, key: t.key }));
        let seal = pair(SEAL, "--seal-cert and --seal-key", flags.seal_cert.clone(), flags.seal_key.clone())?
            .or(pair(
                SEAL,
                "BEM_SEAL_CERT and BEM_SEAL_KEY",
                env("BEM_SEAL_CERT").map(PathBuf::from),
                env("BEM_SEAL_KEY").map(PathBuf::from),
            )?)
            .map(|(certificate, key)| SealFiles { certificate, key })
            .or(file.seal.map(|s| SealFiles { certificate: s.certificate, key: s.key }));
        let number = |name: &str, from_file: Option<usize>, default: usize| -> anyhow::Result<usize> {
            match env(name) {
                Some(v) => v.parse().with_context(|| format!("{name}={v:?} is not a number of bytes")),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let conformance_contexts = match env("BEM_CONFORMANCE_CONTEXTS") {
            Some(v) => matches!(v.as_str(), "1" | "true" | "yes"),
            None => file.conformance_contexts.unwrap_or(false),
        };
        let trusted_proxies = match flags.trusted_proxies.clone().or_else(|| env("BEM_TRUSTED_PROXIES")) {
            Some(list) => TrustedProxies::parse(list.split(',').filter(|s| !s.trim().is_empty())),
            None => TrustedProxies::parse(file.trusted_proxies.iter().flatten().map(String::as_str)),
        }
        .map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
        let publish_learner_details = match env("BEM_PUBLISH_LEARNER_DETAILS") {
            Some(v) => matches!(v.as_str(), "1" | "true" | "yes"),
            None => file.publish_learner_details.unwrap_or(false),
        };
        let max_connections_per_client = match env("BEM_MAX_CONNECTIONS_PER_CLIENT") {
            Some(v) => v.parse().ok(),
            None => Some(
                file.max_connections_per_client
                    .unwrap_or(bem_serve::Limits::default().max_connections_per_client),
            ),
        }
        .filter(|n| (1..=1_000_000).contains(n))
        .context(
            "max_connections_per_client (BEM_MAX_CONNECTIONS_PER_CLIENT) must be a number from 1 to 1000000",
        )?;
        Ok(Config {
            data_dir,
            listen,
            public_url,
            issuer,
            signing_key_file,
            signing_key: env("BEM_SIGNING_KEY").or(file.keys.signing_key),
            admin_token_file,
            tls,
            seal,
            max_body_bytes: number("BEM_MAX_BODY_BYTES", file.max_body_bytes, DEFAULT_MAX_BODY_BYTES)?,
            max_csv_bytes: number("BEM_MAX_CSV_BYTES", file.max_csv_bytes, DEFAULT_MAX_CSV_BYTES)?,
            verifier_url: verifier_url.map(|u| u.trim_end_matches('/').to_owned()),
            conformance_contexts,
            trusted_proxies,
            publish_learner_details,
            max_connections_per_client,
        })
    }

    /// `https` when the server serves TLS itself, else `http`: the scheme of the default
    /// public URL.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("issuer.sqlite3")
    }

    /// Where retired signing keys are kept.
    pub fn retired_keys_dir(&self) -> PathBuf {
        self.data_dir.join("retired-keys")
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {} is not valid", path.display()))
}

const TLS: &str = "the TLS certificate and its key";
const SEAL: &str = "the seal certificate and its key";

/// A certificate and key from one place; `names` says which, `what` what they are, for
/// the error.
fn pair(
    what: &str,
    names: &str,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        (None, None) => Ok(None),
        _ => bail!("{names} must be given together ({what})"),
    }
}

fn check_public_url(url: &str) -> anyhow::Result<()> {
    check_web_url("the public URL (--public-url, BEM_PUBLIC_URL or public_url)", url)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .with_context(|| format!("public URL {url:?} must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ']) {
        bail!("public URL {url:?} must be scheme://host[:port][/path], without query or fragment");
    }
    Ok(())
}

/// Checks a configured URL that certificates carry or link to: `http://` or `https://`
/// (never `javascript:`, `data:` or another scheme a page would run or a wallet misread),
/// a host without user information (`https://trusted.example@evil.example/` goes to
/// evil.example), and no whitespace or control characters. `setting` names where it is set.
fn check_web_url(setting: &str, url: &str) -> anyhow::Result<()> {
    let shown = bem_core::text::terminal_safe(url);
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        url.get(8..)
    } else if lower.starts_with("http://") {
        url.get(7..)
    } else {
        None
    };
    let Some(rest) = rest else {
        bail!("{setting} {shown:?} must start with http:// or https://");
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || bem_core::text::is_invisible(c)) {
        bail!("{setting} {shown:?} must not contain spaces, control or invisible characters");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        bail!(
            "{setting} {shown:?} must not carry user information (the part before '@' hides the real host)"
        );
    }
    if authority.is_empty() || authority.starts_with(':') {
        bail!("{setting} {shown:?} has no host");
    }
    Ok(())
}

/// `DEU`, `de` or a full authority URI → the EU country authority URI.
fn country_uri(country: &str) -> anyhow::Result<String> {
    if let Some(code) = country.strip_prefix(COUNTRY_AUTHORITY) {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Ok(country.to_owned());
        }
    }
    let upper = country.trim().to_ascii_uppercase();
    if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
        return Ok(format!("{COUNTRY_AUTHORITY}{upper}"));
    }
    bail!("issuer country {country:?} must be an EU country authority code (e.g. DEU) or its URI")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(flags: &Flags, vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::resolve(flags, &|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_then_file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://issuer.example/\"\n[issuer]\nname = \"From file\"\ncountry = \"MDA\"\n",
        )
        .unwrap();
        let config = resolve(&Flags::default(), &[]).unwrap();
        assert_eq!(config.listen, DEFAULT_LISTEN);
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(config.signing_key_file, PathBuf::from(DEFAULT_DATA_DIR).join("signing-key"));
        assert!(config.public_url.is_none());

        let flags = Flags { config: Some(file.clone()), ..Flags::default() };
        let config = resolve(&flags, &[]).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.public_url.as_deref(), Some("https://issuer.example"));
        assert_eq!(config.issuer.name, "From file");
        assert_eq!(config.issuer.country_uri, format!("{COUNTRY_AUTHORITY}MDA"));

        let config =
            resolve(&flags, &[("BEM_LISTEN", "127.0.0.1:1"), ("BEM_ISSUER_NAME", "From env")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:1");
        assert_eq!(config.issuer.name, "From env");

        let flags = Flags { listen: Some("127.0.0.1:2".into()), ..flags };
        let config = resolve(&flags, &[("BEM_LISTEN", "127.0.0.1:1")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:2");
    }

    #[test]
    fn trusted_proxies_flags_over_environment_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n").unwrap();
        let blocks =
            |c: &Config| c.trusted_proxies.blocks().iter().map(ToString::to_string).collect::<Vec<_>>();
        assert!(resolve(&Flags::default(), &[]).unwrap().trusted_proxies.is_empty());
        let with_file = Flags { config: Some(file), ..Flags::default() };
        assert_eq!(blocks(&resolve(&with_file, &[]).unwrap()), ["10.0.0.0/8", "::1/128"]);
        let env = [("BEM_TRUSTED_PROXIES", "192.0.2.1, 198.51.100.0/24")];
        assert_eq!(blocks(&resolve(&with_file, &env).unwrap()), ["192.0.2.1/32", "198.51.100.0/24"]);
        let flags = Flags { trusted_proxies: Some("127.0.0.1".into()), ..with_file };
        assert_eq!(blocks(&resolve(&flags, &env).unwrap()), ["127.0.0.1/32"]);
        let e = resolve(&Flags::default(), &[("BEM_TRUSTED_PROXIES", "10.0.0.0/40")]).unwrap_err();
        assert!(e.to_string().contains("trusted_proxies"), "{e}");
    }

    #[test]
    fn the_connection_cap_per_client_comes_from_the_environment_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "max_connections_per_client = 1024\n").unwrap();
        assert_eq!(resolve(&Flags::default(), &[]).unwrap().max_connections_per_client, 128);
        let with_file = Flags { config: Some(file), ..Flags::default() };
        assert_eq!(resolve(&with_file, &[]).unwrap().max_connections_per_client, 1024);
        let env = [("BEM_MAX_CONNECTIONS_PER_CLIENT", "4096")];
        assert_eq!(resolve(&with_file, &env).unwrap().max_connections_per_client, 4096);
        for bad in ["0", "-1", "many"] {
            let e = resolve(&Flags::default(), &[("BEM_MAX_CONNECTIONS_PER_CLIENT", bad)]).unwrap_err();
            assert!(e.to_string().contains("max_connections_per_client"), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let flags = Flags { config: Some(file), ..Flags::default() };
        assert!(resolve(&flags, &[]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_PUBLIC_URL", "ftp://x")]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_ISSUER_COUNTRY", "Germany")]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_TLS_CERT", "a.pem")]).is_err());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://trusted.example@evil.example/",
            "https://",
            "https://a b.example",
        ] {
            let e = resolve(&Flags::default(), &[("BEM_ISSUER_HOMEPAGE", bad)]).unwrap_err().to_string();
            assert!(e.contains("issuer homepage"), "{bad}: {e}");
            let e = resolve(&Flags::default(), &[("BEM_VERIFIER_URL", bad)]).unwrap_err().to_string();
            assert!(e.contains("verifier_url"), "{bad}: {e}");
        }
        assert!(resolve(&Flags::default(), &[("BEM_ISSUER_HOMEPAGE", "HTTPS://issuer.example/x")]).is_ok());
    }

    #[test]
    fn the_example_file_parses_with_its_tls_table() {
        let text = include_str!("../issuer.example.toml");
        assert!(toml::from_str::<FileConfig>(text).is_ok());
        let uncommented = text
            .replace("# [tls]", "[tls]")
            .replace("# cert =", "cert =")
            .replace("# key =", "key =")
            .replace("# [seal]", "[seal]")
            .replace("# certificate =", "certificate =");
        let file: FileConfig = toml::from_str(&uncommented).unwrap();
        let tls = file.tls.unwrap();
        assert_eq!((tls.cert, tls.key), (PathBuf::from("cert.pem"), PathBuf::from("key.pem")));
        let seal = file.seal.unwrap();
        assert_eq!((seal.certificate, seal.key), (PathBuf::from("seal.pem"), PathBuf::from("seal.key")));
    }

    #[test]
    fn tls_pairs_come_from_one_place_flags_over_environment_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "[tls]\ncert = \"file.crt\"\nkey = \"file.key\"\n").unwrap();
        let pair = |cert: &str, key: &str| Some(TlsFiles { cert: cert.into(), key: key.into() });

        let config = resolve(&Flags::default(), &[]).unwrap();
        assert_eq!((config.tls.clone(), config.scheme()), (None, "http"));
        let with_file = Flags { config: Some(file.clone()), ..Flags::default() };
        let config = resolve(&with_file, &[]).unwrap();
        assert_eq!((config.tls.clone(), config.scheme()), (pair("file.crt", "file.key"), "https"));
        let env = [("BEM_TLS_CERT", "env.crt"), ("BEM_TLS_KEY", "env.key")];
        assert_eq!(resolve(&with_file, &env).unwrap().tls, pair("env.crt", "env.key"));
        let flags = Flags {
            tls_cert: Some("flag.crt".into()),
            tls_key: Some("flag.key".into()),
            ..with_file.clone()
        };
        assert_eq!(resolve(&flags, &env).unwrap().tls, pair("flag.crt", "flag.key"));

        // Half a pair is an error wherever it is, even when another place has a whole one.
        let half = Flags { tls_key: None, ..flags };
        let e = resolve(&half, &env).unwrap_err().to_string();
        assert!(e.contains("--tls-cert and --tls-key must be given together"), "{e}");
        let e = resolve(&with_file, &[("BEM_TLS_KEY", "env.key")]).unwrap_err().to_string();
        assert!(e.contains("BEM_TLS_CERT and BEM_TLS_KEY"), "{e}");
        std::fs::write(&file, "[tls]\ncert = \"file.crt\"\n").unwrap();
        let e = format!("{:#}", resolve(&with_file, &[]).unwrap_err());
        assert!(e.contains("key"), "{e}");
    }

    #[test]
    fn seal_pairs_come_from_one_place_flags_over_environment_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "[seal]\ncertificate = \"file.pem\"\nkey = \"file.key\"\n").unwrap();
        let pair = |cert: &str, key: &str| Some(SealFiles { certificate: cert.into(), key: key.into() });

        assert_eq!(resolve(&Flags::default(), &[]).unwrap().seal, None);
        let with_file = Flags { config: Some(file.clone()), ..Flags::default() };
        let config = resolve(&with_file, &[]).unwrap();
        assert_eq!((config.seal, config.tls), (pair("file.pem", "file.key"), None));
        let env = [("BEM_SEAL_CERT", "env.pem"), ("BEM_SEAL_KEY", "env.key")];
        assert_eq!(resolve(&with_file, &env).unwrap().seal, pair("env.pem", "env.key"));
        let flags = Flags {
            seal_cert: Some("flag.pem".into()),
            seal_key: Some("flag.key".into()),
            ..with_file.clone()
        };
        assert_eq!(resolve(&flags, &env).unwrap().seal, pair("flag.pem", "flag.key"));

        let half = Flags { seal_cert: None, ..flags };
        let e = resolve(&half, &env).unwrap_err().to_string();
        assert!(e.contains("--seal-cert and --seal-key must be given together"), "{e}");
        let e = resolve(&with_file, &[("BEM_SEAL_CERT", "env.pem")]).unwrap_err().to_string();
        assert!(e.contains("BEM_SEAL_CERT and BEM_SEAL_KEY"), "{e}");
        std::fs::write(&file, "[seal]\ncert = \"file.pem\"\nkey = \"file.key\"\n").unwrap();
        assert!(resolve(&with_file, &[]).is_err(), "unknown key `cert` in [seal]");
    }
}
