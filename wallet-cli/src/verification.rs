//! The wallet's calls into the core pipeline: the trust list, the resolver, the clock,
//! and the record of a result.
//!
//! Nothing here decides whether a credential is genuine: `bem_core::verify` does. This
//! module only gathers what the pipeline needs from the outside world and turns its
//! [`Report`] into the [`Verification`] stored with a credential.
//!
//! Network: only origins allowed with `--fetch-allow` are fetched (see `network`); for
//! anything else the pipeline hears "offline" and reports status lists and did:web as
//! "not checked (offline)", never as passed.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use bem_core::datetime::Timestamp;
use bem_core::trust::TrustList;
use bem_core::verify::{Report, VerifyOptions};
use serde_json::Value;

use crate::store::{CheckRecord, Home, Verification};

/// What a verification needs from the outside.
pub struct Environment {
    pub trust: TrustList,
    /// Status lists, did:web documents and certificate links, under bem-fetch's policy:
    /// https to public hosts of the trust list, or origins the user allowed by name.
    pub network: bem_fetch::Fetcher,
    origins: Vec<bem_fetch::AllowedOrigin>,
    pub now: Timestamp,
    /// No network request at all (`--offline`).
    offline: bool,
}

impl Environment {
    /// The trust list from `trust_file`, else `HOME/trust.toml` when present, else empty.
    pub fn load(home: &Home, trust_file: Option<&Path>, fetch_allow: &[String]) -> Result<Self> {
        let trust = match trust_file {
            Some(path) => read_trust(path)?,
            None if home.trust_file().exists() => read_trust(&home.trust_file())?,
            None => TrustList::default(),
        };
        let origins = fetch_allow
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| bem_fetch::AllowedOrigin::parse(o).map_err(|e| anyhow!("--fetch-allow {o}: {e}")))
            .collect::<Result<Vec<_>>>()?;
        let network = fetcher(&trust, None, origins.clone());
        Ok(Self { trust, network, origins, now: now(), offline: false })
    }

    /// The same environment, making no network request when `offline`.
    pub fn offline(self, offline: bool) -> Self {
        Self { offline, ..self }
    }

    /// A fetcher that may also fetch from `url`'s host (a certificate link the user gave).
    pub fn fetcher_for_link(&self, url: &str) -> bem_fetch::Fetcher {
        let host = url.split("://").nth(1).and_then(|rest| rest.split(['/', ':', '?', '#']).next());
        fetcher(&self.trust, host, self.origins.clone())
    }

    pub fn options(&self) -> VerifyOptions<'_> {
        if self.offline {
            VerifyOptions::new(self.now, &self.trust, &bem_core::resolver::Offline)
        } else {
            VerifyOptions::new(self.now, &self.trust, &self.network)
        }
    }

    /// Runs the credential pipeline.
    pub fn verify_credential(&self, credential: &Value) -> Report {
        bem_core::verify::verify_credential(credential, &self.options())
    }
}

fn fetcher(
    trust: &TrustList,
    extra_host: Option<&str>,
    origins: Vec<bem_fetch::AllowedOrigin>,
) -> bem_fetch::Fetcher {
    let policy =
        bem_fetch::FetchPolicy::for_issuers(trust.issuers.iter().map(|i| i.id.as_str()), extra_host, origins);
    bem_fetch::Fetcher::new(bem_fetch::FetchConfig::new(policy))
}

/// Reads the trust list (TOML: `[[issuer]]` DIDs, `[[anchor]]` X.509 anchors for sealed
/// EDC credentials) and the certificate files its anchors name, relative to its folder.
fn read_trust(path: &Path) -> Result<TrustList> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the trust list {}", path.display()))?;
    let mut list: TrustList = toml::from_str(&text).map_err(|e| {
        anyhow!(
            "the trust list {} is not valid: {e}\nexpected entries like:\n  [[issuer]]\n  id = \"did:web:provider.example\"\n  name = \"Provider\"\nor, for sealed EDC credentials:\n  [[anchor]]\n  name = \"Seal CA\"\n  certificate_file = \"seal-ca.pem\"",
            path.display()
        )
    })?;
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let mut read = |file: &str| {
        let path = folder.join(file);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    list.read_anchor_files(&mut read)
        .map_err(|e| anyhow!("the trust list {} is not valid: {}", path.display(), e.message))?;
    Ok(list)
}

/// The current time from the system clock.
pub fn now() -> Timestamp {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The record of `report`, made at `at`.
pub fn record(report: &Report, at: Timestamp) -> Verification {
    let checks = report
        .checks
        .iter()
        .map(|c| CheckRecord {
            name: c.name.to_owned(),
            status: json_word(&c.status),
            code: c.code.map(str::to_owned),
            message: c.message.clone(),
        })
        .collect();
    Verification {
        at: at.to_rfc3339(),
        verified: report.verified(),
        trusted: report.trusted(),
        verdict: json_word(&report.verdict()),
        checks,
    }
}

/// The serde name of a unit enum (`Verdict::UnknownIssuer` → `unknown-issuer`).
fn json_word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The verdict in words for people.
pub fn verdict_words(verdict: &str) -> &'static str {
    match verdict {
        "valid" => "valid",
        "unknown-issuer" => "genuine, issuer not on your trust list",
        "revoked" => "REVOKED by the issuer",
        "suspended" => "SUSPENDED by the issuer",
        "expired" => "expired",
        "not-yet-valid" => "not yet valid",
        "status-unknown" => "genuine, revocation status not checked",
        "wrong-holder" => "NOT PRESENTED BY ITS LEARNER",
        "no-credential" => "no certificate presented",
        "not-genuine" => "NOT GENUINE",
        _ => "unknown",
    }
}
