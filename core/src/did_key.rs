//! `did:key` for Ed25519 keys: parsing, the DID document, and resolving a verification
//! method URL, all in-process (the DID is the key, nothing is fetched).
//!
//! Format (did:key v0.9): `did:key:` + an Ed25519 Multikey, `z6Mk...`. The one
//! verification method is `did:key:z6Mk...#z6Mk...`.
//!
//! Invariants:
//! - a [`DidKey`] always holds a syntactically exact `did:key` (no path, query or
//!   fragment) whose key passed [`multikey::decode_public`] (valid, not weak, Ed25519);
//! - [`resolve_verification_method`] accepts only the URL `did#fragment` whose fragment is
//!   exactly the DID's own key, so `did:key:zA#zB` can never select a key `zB`;
//! - every failure is `INVALID_VERIFICATION_METHOD`: a `did:key` is its key.

use ed25519_dalek::VerifyingKey;
use serde_json::{json, Value};

use crate::{multikey, Error, ProblemCode, Result};

const PREFIX: &str = "did:key:";
/// The `@context` of generated documents: the Controlled Identifiers v1.0 context, which
/// defines every term used (`Multikey`, the verification relationships). It is pinned;
/// the DID v1/v1.1 contexts are not.
const DOCUMENT_CONTEXT: &str = "https://www.w3.org/ns/cid/v1";

/// An Ed25519 `did:key`: the DID string and the key it encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidKey {
    did: String,
    key: VerifyingKey,
}

impl DidKey {
    /// Parses a bare DID, `did:key:z6Mk...` (no fragment, query or path).
    pub fn parse(did: &str) -> Result<DidKey> {
        let Some(multibase) = did.strip_prefix(PREFIX) else {
            return Err(invalid(format!("{did:?} is not a did:key DID (it must start with \"{PREFIX}\")")));
        };
        if let Some(c) = multibase.chars().find(|c| matches!(c, '#' | '?' | '/' | ':')) {
            return Err(invalid(format!(
                "{did:?} is not a bare did:key: {c:?} is not allowed in the key part"
            )));
        }
        let key = multikey::decode_public(multibase)
            .map_err(|e| invalid(format!("{did:?} does not encode an Ed25519 key: {}", e.message)))?;
        Ok(DidKey { did: did.to_owned(), key })
    }

    /// The `did:key` of `key`.
    pub fn from_public_key(key: &VerifyingKey) -> DidKey {
        DidKey { did: format!("{PREFIX}{}", multikey::encode_public(key)), key: *key }
    }

    /// The DID, `did:key:z6Mk...`.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The Ed25519 key the DID encodes.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The key's `publicKeyMultibase`, `z6Mk...` (the DID's method-specific id).
    pub fn multibase(&self) -> &str {
        self.did.get(PREFIX.len()..).unwrap_or_default()
    }

    /// The id of the DID's one verification method, `did:key:z6Mk...#z6Mk...`.
    pub fn verification_method_id(&self) -> String {
        format!("{}#{}", self.did, self.multibase())
    }

    /// The DID document (did:key §3.1.2 without the optional X25519 `keyAgreement`): one
    /// Multikey verification method, referenced by all four signing relationships.
    pub fn document(&self) -> Value {
        let vm_id = self.verification_method_id();
        json!({
            "@context": [DOCUMENT_CONTEXT],
            "id": self.did,
            "verificationMethod": [{
                "id": vm_id,
                "type": "Multikey",
                "controller": self.did,
                "publicKeyMultibase": self.multibase(),
            }],
            "authentication": [vm_id],
            "assertionMethod": [vm_id],
            "capabilityDelegation": [vm_id],
            "capabilityInvocation": [vm_id],
        })
    }
}

/// Resolves the verification method URL `did:key:z6Mk...#z6Mk...` to its DID and the
/// method id. The fragment must be present and equal to the key; query and path are
/// refused.
pub fn resolve_verification_method(did_url: &str) -> Result<(DidKey, String)> {
    let Some((did, fragment)) = did_url.split_once('#') else {
        return Err(invalid(format!(
            "did:key verification method {did_url:?} has no fragment (expected DID#key)"
        )));
    };
    if let Some(c) = did.chars().find(|c| matches!(c, '?' | '/')) {
        return Err(invalid(format!(
            "did:key verification method {did_url:?} has a {} part, which did:key does not define",
            if c == '?' { "query" } else { "path" }
        )));
    }
    let key = DidKey::parse(did)?;
    if fragment != key.multibase() {
        return Err(invalid(format!(
            "did:key verification method {did_url:?}: fragment {fragment:?} is not the DID's key {}",
            key.multibase()
        )));
    }
    let id = key.verification_method_id();
    Ok((key, id))
}

fn invalid(message: String) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_DID: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    fn key_pair_public() -> String {
        let pair: Value =
            serde_json::from_str(&crate::testdata::read("vc-di-eddsa/TestVectors/keyPair.json")).unwrap();
        pair["publicKeyMultibase"].as_str().unwrap().to_owned()
    }

    #[test]
    fn key_pair_controller_parses_and_round_trips() {
        let public = key_pair_public();
        let did = DidKey::parse(VECTOR_DID).unwrap();
        assert_eq!(did.did(), VECTOR_DID);
        assert_eq!(did.multibase(), public);
        assert_eq!(*did.public_key(), multikey::decode_public(&public).unwrap());
        assert_eq!(DidKey::from_public_key(did.public_key()), did);
        assert_eq!(did.verification_method_id(), format!("{VECTOR_DID}#{public}"));

        let (resolved, vm_id) = resolve_verification_method(&format!("{VECTOR_DID}#{public}")).unwrap();
        assert_eq!(resolved, did);
        assert_eq!(vm_id, did.verification_method_id());
    }

    #[test]
    fn signed_vectors_name_a_resolvable_did_key_method() {
        // The verificationMethod of the eddsa-jcs-2022 and eddsa-rdfc-2022 signed vectors.
        for rel in [
            "vc-di-eddsa/TestVectors/eddsa-jcs-2022/signedJCS.json",
            "vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json",
        ] {
            let doc: Value = serde_json::from_str(&crate::testdata::read(rel)).unwrap();
            let vm = doc["proof"]["verificationMethod"].as_str().unwrap();
            let (key, id) = resolve_verification_method(vm).unwrap();
            assert_eq!(id, vm, "{rel}");
            assert_eq!(key.did(), VECTOR_DID, "{rel}");
        }
    }

    #[test]
    fn document_matches_the_did_key_spec_example() {
        let example: Value =
            serde_json::from_str(&crate::testdata::read("did/did-key-ed25519-with-x25519-example.json"))
                .unwrap();
        let did = DidKey::parse(example["id"].as_str().unwrap()).unwrap();
        let document = did.document();
        assert_eq!(document["@context"], json!([DOCUMENT_CONTEXT]));
        let members = [
            "id",
            "verificationMethod",
            "authentication",
            "assertionMethod",
            "capabilityDelegation",
            "capabilityInvocation",
        ];
        for member in members {
            assert_eq!(document[member], example[member], "{member}");
        }
        assert_eq!(document.as_object().unwrap().len(), members.len() + 1);
    }

    #[test]
    fn refuses_fragments_that_are_not_the_key() {
        let public = key_pair_public();
        let other = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        for url in [
            format!("{VECTOR_DID}#{other}"),
            format!("{VECTOR_DID}#"),
            format!("{VECTOR_DID}#key-1"),
            format!("{VECTOR_DID}#{public}#{public}"),
            VECTOR_DID.to_owned(),
        ] {
            let err = resolve_verification_method(&url).unwrap_err();
            assert_eq!(err.code, ProblemCode::InvalidVerificationMethod, "{url}");
            assert!(err.message.contains("fragment"), "{url}: {}", err.message);
        }
    }

    #[test]
    fn refuses_query_path_and_malformed_dids() {
        let public = key_pair_public();
        let query = resolve_verification_method(&format!("{VECTOR_DID}?service=x#{public}")).unwrap_err();
        assert!(query.message.contains("query"), "{}", query.message);
        let path = resolve_verification_method(&format!("{VECTOR_DID}/path#{public}")).unwrap_err();
        assert!(path.message.contains("path"), "{}", path.message);

        let key = multikey::decode_public(&public).unwrap();
        let mut x25519 = vec![0xec, 0x01];
        x25519.extend_from_slice(key.as_bytes());
        let mut short = vec![0xed, 0x01];
        short.extend_from_slice(&key.as_bytes()[..31]);
        let cases = [
            // AC-18: multibase other than base58btc.
            (format!("did:key:{}", crate::multibase::encode_base64url(&[0xed, 0x01])), "must start with 'z'"),
            // AC-18: multicodec other than 0xed01.
            (format!("did:key:{}", crate::multibase::encode_base58btc(&x25519)), "0xec01"),
            // AC-18: key length other than 32 bytes.
            (format!("did:key:{}", crate::multibase::encode_base58btc(&short)), "31-byte"),
            (format!("did:web:{public}"), "not a did:key"),
            (format!("DID:KEY:{public}"), "not a did:key"),
            ("did:key:".to_owned(), "must start with 'z'"),
            (format!("did:key:1:{public}"), "':'"),
            (format!("did:key:{public}0"), "invalid base58btc"),
        ];
        for (did, needle) in cases {
            let err = DidKey::parse(&did).unwrap_err();
            assert_eq!(err.code, ProblemCode::InvalidVerificationMethod, "{did}");
            assert!(err.message.contains(needle), "{did}: {}", err.message);
            let err = resolve_verification_method(&format!("{did}#{public}")).unwrap_err();
            assert_eq!(err.code, ProblemCode::InvalidVerificationMethod, "{did}");
        }
        assert!(DidKey::parse(&format!("{VECTOR_DID}#{public}")).is_err());
    }
}
