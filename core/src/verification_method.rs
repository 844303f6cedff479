//! Resolving a proof's `verificationMethod` to an Ed25519 key, by the rules of CID §3.3.
//!
//! `did:key` is resolved in-process. Anything else (`did:web`, an https controller
//! document) is asked of the caller's [`Resolver`], which owns all I/O and its safety
//! rules; this module only checks what comes back.
//!
//! Invariants (each a MUST of CID §3.3 "Retrieve Verification Method"):
//! - the controller document's `id` equals the identifier that was resolved;
//! - the verification method's `id` equals the requested URL (relative ids are refused);
//! - the method's `controller` equals the document's `id`;
//! - the method is listed under the relationship of the proof purpose;
//! - a method that is `revoked`, or `expires`, at or before the proof was made is refused;
//!   a proof that says it was made before a revocation that has since happened verifies,
//!   and the revocation time comes back with the method so that the report warns (the
//!   proof's `created` is only the signer's claim).

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::data_integrity::ProofPurpose;
use crate::datetime::{self, Timestamp};
use crate::resolver::{Fetched, Resolver};
use crate::{did_key, multikey, Error, ProblemCode, Result};

/// A verification method that passed the checks: its key and its controller.
#[derive(Debug, Clone)]
pub struct ResolvedMethod {
    pub id: String,
    pub controller: String,
    pub key: VerifyingKey,
    /// When the controller document says the method was revoked, later than the proof
    /// says it was made. The proof's `created` is the signer's word: a thief of the key
    /// can write an earlier one, so callers warn once this time has passed.
    pub revoked: Option<Timestamp>,
}

/// Resolves `vm_url` for `purpose`. `proof_time` is the proof's `created` (or now).
pub fn resolve(
    vm_url: &str,
    purpose: ProofPurpose,
    proof_time: Timestamp,
    resolver: &dyn Resolver,
) -> Result<ResolvedMethod> {
    if vm_url.starts_with("did:key:") {
        let (key, id) = did_key::resolve_verification_method(vm_url)?;
        return Ok(ResolvedMethod {
            id,
            controller: key.did().to_owned(),
            key: *key.public_key(),
            revoked: None,
        });
    }
    let identifier = vm_url.split('#').next().unwrap_or(vm_url);
    if !vm_url.contains('#') && !identifier.starts_with("https:") {
        return Err(Error::new(
            ProblemCode::InvalidVerificationMethod,
            format!("verification method {vm_url} is not a DID URL with a fragment"),
        ));
    }
    let document = match resolver.controller_document(identifier) {
        Fetched::Document(doc) => doc,
        Fetched::Offline => {
            return Err(Error::new(
                ProblemCode::InvalidControlledIdentifierDocument,
                format!("{identifier} not resolved (offline)"),
            ))
        }
        Fetched::Failed(e) => return Err(e),
    };
    method_from_document(&document, identifier, vm_url, purpose, proof_time)
}

fn method_with_id<'v>(v: &'v Value, id: &str) -> Option<&'v serde_json::Map<String, Value>> {
    v.as_object().filter(|m| m.get("id").and_then(Value::as_str) == Some(id))
}

/// Finds and checks `vm_url` in the controller `document` that `identifier` resolved to.
pub fn method_from_document(
    document: &Value,
    identifier: &str,
    vm_url: &str,
    purpose: ProofPurpose,
    proof_time: Timestamp,
) -> Result<ResolvedMethod> {
    let doc = document.as_object().ok_or_else(|| {
        Error::new(
            ProblemCode::InvalidControlledIdentifierDocument,
            "controller document is not a JSON object",
        )
    })?;
    let doc_id = doc.get("id").and_then(Value::as_str).unwrap_or_default();
    if doc_id != identifier {
        return Err(Error::new(
            ProblemCode::InvalidControlledIdentifierDocumentId,
            format!("controller document id {doc_id:?} is not the resolved identifier {identifier:?}"),
        ));
    }
    let find = |v| method_with_id(v, vm_url);
    let method = doc
        .get("verificationMethod")
        .and_then(Value::as_array)
        .and_then(|vms| vms.iter().find_map(find))
        .or_else(|| {
            doc.get(purpose.as_str()).and_then(Value::as_array).and_then(|rel| rel.iter().find_map(find))
        })
        .ok_or_else(|| {
            Error::new(
                ProblemCode::InvalidVerificationMethod,
                format!("{vm_url} is not a verification method of {identifier} (ids must be absolute)"),
            )
        })?;
    let listed = doc
        .get(purpose.as_str())
        .and_then(Value::as_array)
        .is_some_and(|rel| rel.iter().any(|r| r.as_str() == Some(vm_url) || find(r).is_some()));
    if !listed {
        return Err(Error::new(
            ProblemCode::InvalidRelationshipForVerificationMethod,
            format!("{vm_url} is not listed under `{}` of {identifier}", purpose.as_str()),
        ));
    }
    let controller = method.get("controller").and_then(Value::as_str).unwrap_or_default();
    if controller != identifier {
        return Err(Error::new(
            ProblemCode::InvalidVerificationMethod,
            format!("verification method controller {controller:?} is not {identifier:?}"),
        ));
    }
    let mut revoked = None;
    for (field, what) in [("revoked", "was revoked"), ("expires", "expired")] {
        if let Some(v) = method.get(field) {
            let not_a_time =
                || Error::new(ProblemCode::InvalidVerificationMethod, format!("`{field}` is not a dateTime"));
            let at =
                v.as_str().and_then(|s| datetime::parse_datetime_lenient(s).ok()).ok_or_else(not_a_time)?;
            if at <= proof_time {
                return Err(Error::new(
                    ProblemCode::InvalidVerificationMethod,
                    format!("verification method {vm_url} {what} at {}", at.to_rfc3339()),
                ));
            }
            if field == "revoked" {
                revoked = Some(at);
            }
        }
    }
    let key = match method.get("type").and_then(Value::as_str) {
        Some("Multikey") => {
            let mb = method.get("publicKeyMultibase").and_then(Value::as_str).ok_or_else(|| {
                Error::new(ProblemCode::InvalidVerificationMethod, "Multikey without publicKeyMultibase")
            })?;
            multikey::decode_public(mb)?
        }
        Some("JsonWebKey") => {
            let jwk = method.get("publicKeyJwk").ok_or_else(|| {
                Error::new(ProblemCode::InvalidVerificationMethod, "JsonWebKey without publicKeyJwk")
            })?;
            crate::jose::public_key_from_jwk(jwk)?
        }
        other => {
            return Err(Error::new(
                ProblemCode::InvalidVerificationMethod,
                format!(
                    "verification method type {other:?} is not supported (Multikey or JsonWebKey Ed25519)"
                ),
            ))
        }
    };
    Ok(ResolvedMethod { id: vm_url.to_owned(), controller: controller.to_owned(), key, revoked })
}
