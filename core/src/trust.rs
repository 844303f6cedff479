//! The trust list: which issuers a verifier trusts, and for what.
//!
//! A cryptographically valid credential from an issuer not on the list is reported as
//! "unknown issuer", never as plainly valid. The list is data the caller loads (the
//! verifier reads it from a TOML file); this module only evaluates it.

use serde::{Deserialize, Serialize};

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The issuer's identifier (a DID), exactly as in the credential's `issuer`.
    pub id: String,
    /// The name shown to people.
    #[serde(default)]
    pub name: Option<String>,
    /// Credential types this issuer may issue (any, when empty).
    #[serde(default)]
    pub credential_types: Vec<String>,
}

/// The issuers a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    #[serde(default, rename = "issuer")]
    pub issuers: Vec<TrustedIssuer>,
}

/// What the trust list says about an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// On the list, and allowed to issue this type.
    Trusted { name: Option<String> },
    /// On the list, but not for this type of credential.
    NotAllowed { name: Option<String>, credential_type: String },
    /// Not on the list.
    Unknown,
}

impl TrustList {
    pub fn find(&self, issuer: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.id == issuer)
    }

    /// Evaluates `issuer` for a credential of `types`.
    pub fn evaluate(&self, issuer: &str, types: &[&str]) -> Trust {
        let Some(entry) = self.find(issuer) else { return Trust::Unknown };
        if entry.credential_types.is_empty() {
            return Trust::Trusted { name: entry.name.clone() };
        }
        let specific =
            types.iter().find(|t| **t != "VerifiableCredential" && **t != "VerifiablePresentation");
        match specific {
            None => Trust::Trusted { name: entry.name.clone() },
            Some(_) if types.iter().any(|t| entry.credential_types.iter().any(|a| a == t)) => {
                Trust::Trusted { name: entry.name.clone() }
            }
            Some(t) => Trust::NotAllowed { name: entry.name.clone(), credential_type: (*t).to_owned() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_issuers_and_types() {
        let list = TrustList {
            issuers: vec![TrustedIssuer {
                id: "did:web:bem.example".into(),
                name: Some("BEM".into()),
                credential_types: vec!["EuropeanDigitalCredential".into()],
            }],
        };
        assert_eq!(
            list.evaluate("did:web:bem.example", &["VerifiableCredential", "EuropeanDigitalCredential"]),
            Trust::Trusted { name: Some("BEM".into()) }
        );
        assert!(matches!(
            list.evaluate("did:web:bem.example", &["VerifiableCredential", "OpenBadgeCredential"]),
            Trust::NotAllowed { .. }
        ));
        assert_eq!(list.evaluate("did:web:other.example", &["VerifiableCredential"]), Trust::Unknown);
    }
}
