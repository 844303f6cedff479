//! The issuer's configuration: command-line flags, the TOML file and `BEM_*` variables.
//!
//! Precedence, lowest first: built-in defaults, the `--config` TOML file, `BEM_*`
//! environment variables, command-line flags. Every path that is not absolute is taken
//! as it is given (relative to the working directory). The resolved [`Config`] is plain
//! data: nothing here touches the data directory.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

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

/// TLS certificate chain and key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: String,
    /// Set explicitly; when `None` the server uses `http://<bound address>`.
    pub public_url: Option<String>,
    pub issuer: IssuerProfile,
    pub signing_key_file: PathBuf,
    /// A signing key given directly (a `z…` secretKeyMultibase), instead of the file.
    pub signing_key: Option<String>,
    pub admin_token_file: PathBuf,
    pub tls: Option<TlsFiles>,
    pub max_body_bytes: usize,
    pub max_csv_bytes: usize,
    /// Base URL of a `bem-verifier` (for the `verify` link of awarded certificates).
    pub verifier_url: Option<String>,
    /// Accept the W3C example contexts and embedded contexts on `/credentials/issue`
    /// (for the W3C test suites only; never for production certificates).
    pub conformance_contexts: bool,
}

/// What the command line gives.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub config: Option<PathBuf>,
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
    #[serde(default)]
    issuer: FileIssuer,
    #[serde(default)]
    keys: FileKeys,
    tls: Option<FileTls>,
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
        let signing_key_file = env("BEM_SIGNING_KEY_FILE")
            .map(PathBuf::from)
            .or(file.keys.signing_key_file)
            .unwrap_or_else(|| data_dir.join("signing-key"));
        let admin_token_file = env("BEM_ADMIN_TOKEN_FILE")
            .map(PathBuf::from)
            .or(file.keys.admin_token_file)
            .unwrap_or_else(|| data_dir.join("admin-token"));
        let tls =
            match (env("BEM_TLS_CERT").map(PathBuf::from), env("BEM_TLS_KEY").map(PathBuf::from), file.tls) {
                (Some(cert), Some(key), _) => Some(TlsFiles { cert, key }),
                (None, None, Some(t)) => Some(TlsFiles { cert: t.cert, key: t.key }),
                (None, None, None) => None,
                _ => bail!("BEM_TLS_CERT and BEM_TLS_KEY must be given together"),
            };
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
        Ok(Config {
            data_dir,
            listen,
            public_url,
            issuer,
            signing_key_file,
            signing_key: env("BEM_SIGNING_KEY").or(file.keys.signing_key),
            admin_token_file,
            tls,
            max_body_bytes: number("BEM_MAX_BODY_BYTES", file.max_body_bytes, DEFAULT_MAX_BODY_BYTES)?,
            max_csv_bytes: number("BEM_MAX_CSV_BYTES", file.max_csv_bytes, DEFAULT_MAX_CSV_BYTES)?,
            verifier_url: env("BEM_VERIFIER_URL")
                .or(file.verifier_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
            conformance_contexts,
        })
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

fn check_public_url(url: &str) -> anyhow::Result<()> {
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
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("issuer.toml");
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let flags = Flags { config: Some(file), ..Flags::default() };
        assert!(resolve(&flags, &[]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_PUBLIC_URL", "ftp://x")]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_ISSUER_COUNTRY", "Germany")]).is_err());
        assert!(resolve(&Flags::default(), &[("BEM_TLS_CERT", "a.pem")]).is_err());
    }
}
