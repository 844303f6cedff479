//! The issuer's JAdES seal: the X.509 seal certificate and key of the configuration,
//! checked at start, and `GET /credentials/{id}/sealed`, the stored certificate sealed
//! the way EDC seals (JAdES baseline B, [`bem_core::jades_seal`]).
//!
//! Invariants:
//! - [`load`] runs before the service creates anything: a missing or unreadable file, a
//!   key file that group or others can read (as [`crate::keys`] refuses), a key that is
//!   not the certificate's, a certificate without digitalSignature/nonRepudiation, a
//!   chain not in order, or a certificate not valid now stops the start, naming the file.
//! - What is sealed is the certificate as stored, without its Data Integrity `proof`:
//!   EDC's sealed payloads carry no proof (the seal is the proof), and a proof inside
//!   would be a second signature, by another key (the issuer's DID), that a seal verifier
//!   does not check (`bem_core::verify` ignores it for sealed credentials). Everything
//!   else stays, `credentialStatus` included, so revoking the certificate revokes its
//!   sealed form too. Key order and text are the stored document's (compact JSON). Any
//!   stored form is sealed: ELM (the default, EDC's) or Open Badges.
//! - `sigT` is the time of the first request for that certificate (the issuer's clock,
//!   whole seconds): the seal made then is kept (up to [`CACHE_ENTRIES`], in memory) and
//!   served again, so asking again costs no signature (an RSA signature is milliseconds of
//!   CPU; anyone holding a link could otherwise make the issuer sign at will). A
//!   certificate that has expired since the start gives a 503, never a seal that cannot
//!   verify.
//! - Answers: 200 `application/jose+json` (the JWS JSON serialization, RFC 7515 §9.2.2);
//!   404 problem `NOT_FOUND` for an unknown credential; 404 problem
//!   `SEAL_NOT_CONFIGURED` when the issuer has no seal (the sealed form does not exist
//!   here; the credential itself stays at `/credentials/{id}`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bem_core::datetime::{parse_datetime_stamp, Timestamp};
use bem_core::jades_seal::{self, SealIdentity, SealingKey};
use bem_core::x509::Certificate;
use serde_json::Value;

use crate::config::SealFiles;
use crate::http::AppState;
use crate::problem::ApiError;

/// Most sealed certificates kept in memory; when full, the cache starts again empty.
pub const CACHE_ENTRIES: usize = 4096;

/// The loaded seal: the checked key and chain, and the seals already made.
#[derive(Debug)]
pub struct Seal {
    identity: SealIdentity,
    made: std::sync::Mutex<std::collections::HashMap<String, Arc<str>>>,
}

impl Seal {
    /// Who seals and with what, for the start-up log.
    pub fn describe(&self) -> String {
        let holder = self.identity.leaf().map(Certificate::holder).unwrap_or_default();
        let until = self.identity.leaf().map(|c| c.not_after().to_rfc3339()).unwrap_or_default();
        format!(
            "{holder}, {} ({} certificate(s) in the chain, valid until {until})",
            self.identity.algorithm().as_str(),
            self.identity.chain().len()
        )
    }

    /// The seal of the certificate stored under `token`: the one made before, or
    /// `document` sealed at `now`.
    pub fn sealed(&self, token: &str, document: &Value, now: Timestamp) -> Result<Arc<str>, bem_core::Error> {
        let made = || self.made.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(text) = made().get(token) {
            return Ok(text.clone());
        }
        let text: Arc<str> = Arc::from(self.seal(document, now)?);
        let mut made = made();
        if made.len() >= CACHE_ENTRIES {
            made.clear();
        }
        Ok(made.entry(token.to_owned()).or_insert(text).clone())
    }

    /// `document` (a stored credential) sealed at `now`, as the JSON text to serve.
    pub fn seal(&self, document: &Value, now: Timestamp) -> Result<String, bem_core::Error> {
        let mut payload = document.clone();
        if let Some(object) = payload.as_object_mut() {
            object.remove("proof");
        }
        let sealed = jades_seal::seal(&payload.to_string(), &self.identity, now, &mut rand_core::OsRng)?;
        Ok(sealed.to_string())
    }
}

/// Reads and checks the seal's certificate chain and key at `now`; every error names
/// the file.
pub fn load(files: &SealFiles, now: Timestamp) -> anyhow::Result<Seal> {
    let cert_file = files.certificate.display();
    let key_file = files.key.display();
    let text = std::fs::read_to_string(&files.certificate)
        .with_context(|| format!("cannot read seal certificate file {cert_file}"))?;
    let chain = Certificate::chain_from_pem(&text)
        .map_err(|e| anyhow::anyhow!("seal certificate file {cert_file}: {}", e.message))?;
    let key = read_key(&files.key)?;
    let identity = SealIdentity::new(key, chain).map_err(|e| {
        if e.message.contains("is not the key of the seal certificate") {
            anyhow::anyhow!(
                "seal key file {key_file} does not match the certificate in {cert_file}: {}",
                e.message
            )
        } else {
            anyhow::anyhow!("seal certificate file {cert_file}: {}", e.message)
        }
    })?;
    identity
        .check_valid_at(now)
        .map_err(|e| anyhow::anyhow!("seal certificate file {cert_file}: {}", e.message))?;
    Ok(Seal { identity, made: Default::default() })
}

/// The key file: only its owner may read it ([`crate::keys::read_secret`]).
fn read_key(path: &Path) -> anyhow::Result<SealingKey> {
    let text = crate::keys::read_secret(path).with_context(|| format!("seal key file {}", path.display()))?;
    SealingKey::from_pkcs8_pem(&text)
        .map_err(|e| anyhow::anyhow!("seal key file {}: {}", path.display(), e.message))
}

/// Now, from the issuer's clock.
fn now() -> Result<Timestamp, ApiError> {
    parse_datetime_stamp(&crate::clock::now()).map_err(|e| ApiError::internal(e.message))
}

/// `GET /credentials/{id}/sealed`.
pub async fn sealed(
    State(state): State<AppState>,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let token = crate::http::path(id)?;
    let Some(seal) = state.seal.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "SEAL_NOT_CONFIGURED",
            "this issuer has no seal certificate: certificates are delivered only with their Data \
             Integrity proof, at /credentials/{id}",
        ));
    };
    let document = crate::http::stored(&state, token.clone()).await?.document;
    let body = crate::http::blocking(move || sealed_text(&seal, &token, &document)).await?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(jades_seal::MEDIA_TYPE)),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body.to_string(),
    )
        .into_response())
}

fn sealed_text(seal: &Arc<Seal>, token: &str, document: &Value) -> Result<Arc<str>, ApiError> {
    seal.sealed(token, document, now()?).map_err(|e| match e.code {
        bem_core::ProblemCode::ValidityPeriodError => {
            eprintln!("bem-issuer: cannot seal: {}", e.message);
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SEAL_UNAVAILABLE",
                "the seal certificate is not valid now; the issuer must renew it",
            )
        }
        _ => ApiError::internal(e.message),
    })
}
