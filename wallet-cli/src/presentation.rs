//! Verifiable Presentations of stored credentials, signed by the holder.
//!
//! A presentation is VC 2.0 (`@context` the VC v2 context, type
//! `VerifiablePresentation`), names the wallet's `did:key` as `holder`, embeds the
//! credentials exactly as stored, and carries one `authentication` proof with the
//! verifier's challenge (and domain) made by `bem_core::data_integrity::add_proof`.
//! Invariant: a presentation is only handed out after it verified through
//! `bem_core::verify::verify_presentation` with that challenge and domain.

use anyhow::{anyhow, Result};
use bem_core::contexts::{ContextPolicy, CREDENTIALS_V2};
use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::did_key::DidKey;
use bem_core::verify::Report;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::verification::Environment;

/// What the verifier asked for.
pub struct Request<'a> {
    pub challenge: &'a str,
    pub domain: Option<&'a str>,
    pub cryptosuite: Cryptosuite,
}

/// Builds and signs the presentation, then verifies it; returns it with its report.
pub fn present(
    credentials: Vec<Value>,
    key: &SigningKey,
    holder: &DidKey,
    request: &Request<'_>,
    env: &Environment,
) -> Result<(Value, Report)> {
    let unsigned = json!({
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
        "verifiableCredential": credentials,
    });
    let mut options =
        ProofOptions::new(request.cryptosuite, holder.verification_method_id(), ProofPurpose::Authentication);
    options.created = Some(env.now.to_rfc3339());
    options.challenge = Some(request.challenge.to_owned());
    options.domain = request.domain.map(str::to_owned);
    let signed = add_proof(&unsigned, &options, key, ContextPolicy::STRICT)
        .map_err(|e| anyhow!("cannot sign the presentation: {e}"))?;
    let mut verify_options = env.options();
    verify_options.challenge = Some(request.challenge);
    verify_options.domain = request.domain;
    let report = bem_core::verify::verify_presentation(&signed, &verify_options);
    Ok((signed, report))
}
