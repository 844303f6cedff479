//! The issuer's identity: its DID (`did:web` of an https public URL, else the `did:key`
//! of the current key), the verification method that signs, and the DID document served
//! at `/.well-known/did.json`.
//!
//! Invariants:
//! - the DID document lists every key that ever signed, so credentials signed before a
//!   key rotation keep verifying; with `did:web` every key is a verification method under
//!   `assertionMethod`, the current one first; with `did:key` the DID *is* the current
//!   key, and the DIDs of earlier keys are listed in `alsoKnownAs` (each of them resolves
//!   by itself, being a key);
//! - the signing key never leaves this module except to [`Identity::signing_key`].

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use bem_core::did_key::DidKey;

use crate::store::KeyRow;

/// How the issuer's DID is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DidMethod {
    Key,
    Web,
}

/// The issuer's DID and its current signing key.
pub struct Identity {
    method: DidMethod,
    did: String,
    key: SigningKey,
    key_multibase: String,
    key_id: i64,
}

impl Identity {
    /// The identity for `public_url` (https → did:web) and the current `key`, whose row
    /// id in the keys table is `key_id`.
    pub fn new(public_url: &str, key: SigningKey, key_id: i64) -> Identity {
        let key_multibase = bem_core::multikey::encode_public(&key.verifying_key());
        match did_web(public_url) {
            Some(did) => Identity { method: DidMethod::Web, did, key, key_multibase, key_id },
            None => {
                let did = DidKey::from_public_key(&key.verifying_key()).did().to_owned();
                Identity { method: DidMethod::Key, did, key, key_multibase, key_id }
            }
        }
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// The verification method that signs: `<did>#<publicKeyMultibase>`.
    pub fn verification_method(&self) -> String {
        format!("{}#{}", self.did, self.key_multibase)
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Row id of the current key in the keys table.
    pub fn key_id(&self) -> i64 {
        self.key_id
    }

    /// The DID document, listing `keys` (every key that ever signed).
    pub fn document(&self, keys: &[KeyRow]) -> Value {
        match self.method {
            DidMethod::Key => {
                let mut doc = DidKey::from_public_key(&self.key.verifying_key()).document();
                let earlier: Vec<String> = keys
                    .iter()
                    .filter(|k| k.public_multibase != self.key_multibase)
                    .map(|k| format!("did:key:{}", k.public_multibase))
                    .collect();
                if let (Some(obj), false) = (doc.as_object_mut(), earlier.is_empty()) {
                    obj.insert("alsoKnownAs".into(), json!(earlier));
                }
                doc
            }
            DidMethod::Web => {
                let current = std::iter::once(self.key.verifying_key());
                let earlier = keys
                    .iter()
                    .rev()
                    .filter(|k| k.public_multibase != self.key_multibase)
                    .filter_map(|k| bem_core::multikey::decode_public(&k.public_multibase).ok());
                let listed: Vec<bem_core::did_web::DocumentKey> = current
                    .chain(earlier)
                    .map(|public_key| bem_core::did_web::DocumentKey {
                        fragment: bem_core::multikey::encode_public(&public_key),
                        public_key,
                        assertion: true,
                    })
                    .collect();
                bem_core::did_web::document(&self.did, &listed)
            }
        }
    }
}

/// `did:web` of an https URL whose host is a DNS name (see `bem_core::did_web`).
pub fn did_web(public_url: &str) -> Option<String> {
    bem_core::did_web::from_url(public_url.trim_end_matches('/')).ok()
}
#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, key: &SigningKey) -> KeyRow {
        KeyRow {
            id,
            public_multibase: bem_core::multikey::encode_public(&key.verifying_key()),
            created: "2025-01-01T00:00:00Z".into(),
            retired: None,
        }
    }

    #[test]
    fn did_web_of_urls() {
        assert_eq!(did_web("https://issuer.example").as_deref(), Some("did:web:issuer.example"));
        assert_eq!(did_web("https://issuer.example:8443/").as_deref(), Some("did:web:issuer.example%3A8443"));
        assert_eq!(did_web("https://x.example/bem/issuer").as_deref(), Some("did:web:x.example:bem:issuer"));
        assert_eq!(did_web("http://issuer.example"), None);
    }

    #[test]
    fn documents_list_every_key() {
        let old = crate::keys::generate_signing_key();
        let new = crate::keys::generate_signing_key();
        let rows = [row(1, &old), row(2, &new)];

        let web = Identity::new("https://issuer.example", new.clone(), 2);
        let doc = web.document(&rows);
        assert_eq!(doc["id"], "did:web:issuer.example");
        assert_eq!(doc["assertionMethod"][0], web.verification_method());
        assert_eq!(doc["assertionMethod"].as_array().unwrap().len(), 2);
        assert_eq!(doc["verificationMethod"].as_array().unwrap().len(), 2);

        let key = Identity::new("http://127.0.0.1:8080", new, 2);
        assert!(key.did().starts_with("did:key:z6Mk"));
        let doc = key.document(&rows);
        assert_eq!(doc["id"], key.did());
        assert_eq!(doc["alsoKnownAs"][0], format!("did:key:{}", rows[0].public_multibase));
    }
}
