//! The trust list: which issuers a verifier trusts, and for what; and which X.509
//! certificates anchor the seals of EDC credentials (JAdES).
//!
//! A cryptographically valid credential from an issuer not on the list is reported as
//! "unknown issuer", never as plainly valid. The list is data the caller loads (the
//! verifier and the wallet read it from a TOML file); this module only evaluates it.
//!
//! In TOML, `[[issuer]]` tables name DIDs; `[[anchor]]` tables name X.509 trust anchors,
//! each with a `name` and its certificate, either inline (`certificate`, PEM text) or in a
//! file (`certificate_file`, PEM or DER, relative to the trust file). The core reads no
//! files: whoever loads the TOML calls [`TrustList::read_anchor_files`] with a function
//! that reads one, which moves each file's certificate into `certificate` (as PEM) and
//! checks every anchor. After that every anchor carries its certificate inline.
//! An `[[issuer]]` may pin keys of its DID document (`[[issuer.key]]`: `id`,
//! `public_key_multibase`), which [`PinnedKeys`] offers the pipeline when the document
//! itself cannot be fetched.
//! Unknown keys are errors, so a typo cannot silently widen or narrow trust.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::multikey;
use crate::resolver::{Fetched, Resolver};
use crate::x509::{self, Certificate};
use crate::{Error, ProblemCode};

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
    /// Keys of the issuer's DID document pinned here (`[[issuer.key]]` in TOML): they
    /// verify its credentials with no network at all (a QR code checked offline) and when
    /// its server is down, moved or gone. A document fetched from the issuer still decides
    /// whenever it can be had (a key withdrawn there is withdrawn).
    #[serde(default, rename = "key", skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<TrustedKey>,
}

/// A verification method of a trusted issuer, pinned in the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The verification method's id: the issuer's DID, `#`, a fragment (`…#key-1`).
    pub id: String,
    /// Its Ed25519 public key as a Multikey (`z6Mk…`), as in the issuer's DID document.
    pub public_key_multibase: String,
}

/// One X.509 trust anchor: a certificate (usually a CA's) whose seals, and the seals of
/// the certificates it issued, are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedAnchor {
    /// The name shown to people as the trusted issuer's (e.g. the CA's or the provider's).
    pub name: String,
    /// The certificate in PEM (`-----BEGIN CERTIFICATE-----`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// A file holding the certificate (PEM or DER), relative to the trust file; read by
    /// the loader through [`TrustList::read_anchor_files`], which empties this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_file: Option<String>,
}

/// The issuers a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    #[serde(default, rename = "issuer")]
    pub issuers: Vec<TrustedIssuer>,
    /// X.509 anchors for sealed (JAdES) credentials.
    #[serde(default, rename = "anchor", skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<TrustedAnchor>,
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

    /// Evaluates `issuer` for a credential of `types`. An entry with `credential_types`
    /// trusts only a credential one of whose types it lists: a credential of other types,
    /// or of no type but `VerifiableCredential` (unless that is listed), is not allowed.
    pub fn evaluate(&self, issuer: &str, types: &[&str]) -> Trust {
        let Some(entry) = self.find(issuer) else { return Trust::Unknown };
        if entry.credential_types.is_empty()
            || types.iter().any(|t| entry.credential_types.iter().any(|a| a == t))
        {
            return Trust::Trusted { name: entry.name.clone() };
        }
        let shown = types
            .iter()
            .find(|t| **t != "VerifiableCredential")
            .or(types.first())
            .map_or_else(|| "a credential with no type".to_owned(), |t| (*t).chars().take(100).collect());
        Trust::NotAllowed { name: entry.name.clone(), credential_type: shown }
    }

    /// Moves the certificate of every anchor's `certificate_file` into its `certificate`
    /// (as PEM), reading each file through `read` (the caller's I/O, given the file as
    /// written), then checks every anchor ([`TrustList::check_anchors`]). Errors name the
    /// anchor and the file.
    pub fn read_anchor_files(
        &mut self,
        read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
    ) -> Result<(), Error> {
        for anchor in &mut self.anchors {
            let Some(file) = anchor.certificate_file.take() else { continue };
            let problem = |m: String| anchor_error(&anchor.name, format!("certificate_file {file:?}: {m}"));
            if anchor.certificate.is_some() {
                return Err(problem("give `certificate` or `certificate_file`, not both".into()));
            }
            let bytes = read(&file).map_err(problem)?;
            let certificate = match std::str::from_utf8(&bytes) {
                Ok(text) if text.contains("-----BEGIN") => Certificate::from_pem(text),
                _ => Certificate::from_der(&bytes),
            }
            .map_err(|e| problem(format!("not a PEM or DER X.509 certificate: {}", e.message)))?;
            anchor.certificate = Some(certificate.to_pem());
        }
        self.check_anchors()?;
        self.check_keys()
    }

    /// Checks every pinned key: its id is `<issuer>#<fragment>`, its key an Ed25519
    /// Multikey, and its issuer one whose keys must be fetched (a `did:key` is its key).
    pub fn check_keys(&self) -> Result<(), Error> {
        for issuer in &self.issuers {
            for key in &issuer.keys {
                let problem = |m: String| {
                    Error::new(
                        ProblemCode::MalformedValueError,
                        format!("trusted issuer {:?}, key {:?}: {m}", issuer.id, key.id),
                    )
                };
                if issuer.id.starts_with("did:key:") {
                    return Err(problem("a did:key is its own key: list no keys for it".into()));
                }
                let fragment =
                    key.id.strip_prefix(issuer.id.as_str()).and_then(|rest| rest.strip_prefix('#'));
                if fragment.is_none_or(|f| f.is_empty() || f.contains(['#', '/', '?'])) {
                    return Err(problem(format!("the id must be {}#<fragment>", issuer.id)));
                }
                multikey::decode_public(&key.public_key_multibase)
                    .map_err(|e| problem(format!("public_key_multibase: {}", e.message)))?;
            }
        }
        Ok(())
    }

    /// The controller document of `identifier` made of the keys pinned for it, each an
    /// `assertionMethod` (pinned keys vouch for credentials, not for presentations), or
    /// `None` when the list pins none.
    pub fn pinned_document(&self, identifier: &str) -> Option<Value> {
        let issuer = self.find(identifier).filter(|i| !i.keys.is_empty())?;
        let methods: Vec<Value> = issuer
            .keys
            .iter()
            .map(|k| {
                json!({"id": k.id, "type": "Multikey", "controller": identifier, "publicKeyMultibase": k.public_key_multibase})
            })
            .collect();
        let ids: Vec<&str> = issuer.keys.iter().map(|k| k.id.as_str()).collect();
        Some(json!({
            "@context": [crate::contexts::CID_V1],
            "id": identifier,
            "verificationMethod": methods,
            "assertionMethod": ids,
        }))
    }

    /// Checks that every anchor has a name and one readable, usable certificate.
    pub fn check_anchors(&self) -> Result<(), Error> {
        for anchor in &self.anchors {
            if anchor.name.trim().is_empty() {
                return Err(anchor_error(&anchor.name, "an anchor needs a `name`".into()));
            }
            let certificate = match (&anchor.certificate, &anchor.certificate_file) {
                (Some(pem), None) => Certificate::from_pem(pem)
                    .map_err(|e| anchor_error(&anchor.name, format!("certificate: {}", e.message)))?,
                (None, Some(file)) => {
                    return Err(anchor_error(&anchor.name, format!("certificate_file {file:?} was not read")))
                }
                (Some(_), Some(_)) => {
                    return Err(anchor_error(
                        &anchor.name,
                        "give `certificate` or `certificate_file`, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(anchor_error(
                        &anchor.name,
                        "give its `certificate` or `certificate_file`".into(),
                    ))
                }
            };
            certificate
                .public_key()
                .map_err(|e| anchor_error(&anchor.name, format!("its key cannot be used: {}", e.message)))?;
        }
        Ok(())
    }

    /// The anchors' certificates, for the pipeline. Anchors that do not parse (not
    /// checked with [`TrustList::check_anchors`]) are left out: they anchor nothing.
    pub fn x509_anchors(&self) -> Vec<x509::Anchor> {
        self.anchors
            .iter()
            .filter_map(|a| {
                let certificate = Certificate::from_pem(a.certificate.as_deref()?).ok()?;
                Some(x509::Anchor { name: a.name.clone(), certificate })
            })
            .collect()
    }
}

/// A resolver that answers a controller document from the keys the trust list pins
/// ([`TrustList::pinned_document`]) when `inner` cannot fetch it (offline, or the fetch
/// failed); a document `inner` does fetch always wins. The pipeline resolves every
/// verification method through it, so every caller gets the same rule.
pub struct PinnedKeys<'a> {
    pub trust: &'a TrustList,
    pub inner: &'a dyn Resolver,
}

impl Resolver for PinnedKeys<'_> {
    fn controller_document(&self, identifier: &str) -> Fetched {
        match self.inner.controller_document(identifier) {
            fetched @ Fetched::Document(_) => fetched,
            missing => self.trust.pinned_document(identifier).map_or(missing, Fetched::Document),
        }
    }

    fn status_list_credential(&self, url: &str) -> Fetched {
        self.inner.status_list_credential(url)
    }

    fn credential_schema(&self, url: &str) -> Fetched {
        self.inner.credential_schema(url)
    }
}

fn anchor_error(name: &str, message: String) -> Error {
    let name: String = name.chars().take(100).collect();
    Error::new(ProblemCode::MalformedValueError, format!("trust anchor {name:?}: {message}"))
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
                keys: vec![],
            }],
            anchors: vec![],
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
        // No type of its own is no allowed type.
        assert_eq!(
            list.evaluate("did:web:bem.example", &["VerifiableCredential"]),
            Trust::NotAllowed { name: Some("BEM".into()), credential_type: "VerifiableCredential".into() }
        );
        assert!(matches!(list.evaluate("did:web:bem.example", &[]), Trust::NotAllowed { .. }));
    }

    fn ca_pem() -> String {
        crate::testdata::read("elm/anf-eseal-ca.pem")
    }

    #[test]
    fn anchors_come_inline_or_from_files_read_by_the_caller() {
        let toml_text = format!(
            "[[anchor]]\nname = \"Inline\"\ncertificate = \"\"\"\n{}\"\"\"\n\n\
             [[anchor]]\nname = \"From PEM\"\ncertificate_file = \"ca.pem\"\n\n\
             [[anchor]]\nname = \"From DER\"\ncertificate_file = \"ca.der\"\n",
            ca_pem()
        );
        let mut list: TrustList = toml::from_str(&toml_text).unwrap();
        assert_eq!(list.anchors.len(), 3);
        // Unread files are not usable yet.
        assert!(list.check_anchors().unwrap_err().message.contains("was not read"));
        let der = Certificate::from_pem(&ca_pem()).unwrap().der().to_vec();
        let mut read = |file: &str| match file {
            "ca.pem" => Ok(ca_pem().into_bytes()),
            "ca.der" => Ok(der.clone()),
            other => Err(format!("cannot read {other}")),
        };
        list.read_anchor_files(&mut read).unwrap();
        assert!(list.anchors.iter().all(|a| a.certificate.is_some() && a.certificate_file.is_none()));
        let anchors = list.x509_anchors();
        assert_eq!(anchors.len(), 3);
        assert!(anchors.iter().all(|a| a.certificate.der() == der));
        assert_eq!(anchors.first().map(|a| a.name.as_str()), Some("Inline"));
    }

    #[test]
    fn bad_anchors_are_errors_that_name_them() {
        let parse = |text: &str| toml::from_str::<TrustList>(text);
        assert!(parse("[[anchor]]\nname = \"A\"\ncertificat = \"x\"\n").is_err());
        assert!(parse("[[anchor]]\ncertificate = \"x\"\n").is_err());
        let mut read = |file: &str| -> Result<Vec<u8>, String> {
            match file {
                "junk.pem" => Ok(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()),
                "junk.der" => Ok(vec![0x30, 0x03, 1, 2, 3]),
                other => Err(format!("cannot read /etc/bem/{other}: No such file")),
            }
        };
        let case = |text: &str, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>| {
            let mut list = parse(text).unwrap();
            list.read_anchor_files(read).unwrap_err().message
        };
        let e = case("[[anchor]]\nname = \"CA\"\ncertificate_file = \"missing.pem\"\n", &mut read);
        assert!(e.contains("\"CA\"") && e.contains("missing.pem") && e.contains("No such file"), "{e}");
        let e = case("[[anchor]]\nname = \"CA\"\ncertificate_file = \"junk.pem\"\n", &mut read);
        assert!(e.contains("junk.pem") && e.contains("not a PEM or DER"), "{e}");
        let e = case("[[anchor]]\nname = \"CA\"\ncertificate_file = \"junk.der\"\n", &mut read);
        assert!(e.contains("junk.der"), "{e}");
        let e = case("[[anchor]]\nname = \"CA\"\n", &mut read);
        assert!(e.contains("certificate"), "{e}");
        let e = case("[[anchor]]\nname = \"CA\"\ncertificate = \"nope\"\n", &mut read);
        assert!(e.contains("\"CA\"") && e.contains("PEM"), "{e}");
        let both = format!(
            "[[anchor]]\nname = \"CA\"\ncertificate = \"\"\"\n{}\"\"\"\ncertificate_file = \"ca.pem\"\n",
            ca_pem()
        );
        assert!(case(&both, &mut read).contains("not both"));
        // An unparsable anchor in a list nobody checked anchors nothing.
        let list = parse("[[anchor]]\nname = \"CA\"\ncertificate = \"nope\"\n").unwrap();
        assert!(list.x509_anchors().is_empty());
    }

    #[test]
    fn pinned_keys_are_checked_and_make_a_controller_document() {
        let key = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let list = |issuer: &str, id: &str, public: &str| -> TrustList {
            toml::from_str(&format!(
                "[[issuer]]\nid = \"{issuer}\"\n[[issuer.key]]\nid = \"{id}\"\npublic_key_multibase = \"{public}\"\n"
            ))
            .unwrap()
        };
        let good = list("did:web:bem.example", "did:web:bem.example#key-1", key);
        good.check_keys().unwrap();
        let doc = good.pinned_document("did:web:bem.example").unwrap();
        let method = crate::verification_method::method_from_document(
            &doc,
            "did:web:bem.example",
            "did:web:bem.example#key-1",
            crate::data_integrity::ProofPurpose::AssertionMethod,
            crate::datetime::Timestamp::from_unix(0),
        )
        .unwrap();
        assert_eq!(crate::multikey::encode_public(&method.key), key);
        assert!(good.pinned_document("did:web:other.example").is_none());
        assert!(TrustList::default().pinned_document("did:web:bem.example").is_none());

        for (issuer, id, public, says) in [
            ("did:web:bem.example", "did:web:evil.example#key-1", key, "the id must be"),
            ("did:web:bem.example", "did:web:bem.example", key, "the id must be"),
            ("did:web:bem.example", "did:web:bem.example#", key, "the id must be"),
            ("did:web:bem.example", "did:web:bem.example.evil#key-1", key, "the id must be"),
            ("did:web:bem.example", "did:web:bem.example#key-1", "z6MkNotAKey", "public_key_multibase"),
            (&format!("did:key:{key}"), &format!("did:key:{key}#{key}"), key, "its own key"),
        ] {
            let e = list(issuer, id, public).check_keys().unwrap_err().message;
            assert!(e.contains(says), "{id}: {e}");
        }
        // A typo in a key table is an error, not a silently ignored key.
        assert!(toml::from_str::<TrustList>(
            "[[issuer]]\nid = \"did:web:a.example\"\n[[issuer.key]]\nid = \"did:web:a.example#k\"\npublic_key = \"z\"\n"
        )
        .is_err());
    }
}
