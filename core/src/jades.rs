//! JAdES seals (ETSI TS 119 182-1) of EDC credentials: the JWS JSON serialization, its
//! protected header, the seal's signature, and the seal certificate's path to the trust
//! list's X.509 anchors.
//!
//! EDC seals a credential with an eIDAS e-seal: an enveloping JWS in JSON serialization
//! (`{payload, signatures: [{protected, header, signature}]}`, or flattened
//! `{payload, protected, header, signature}`), usually with `b64: false` (RFC 7797), the
//! seal certificate in `x5c` and the signing time in `sigT`. [`verify`] decodes it,
//! checks the signature with the leaf certificate's key, builds the certificate path
//! ([`crate::x509::build_path`]) and checks every certificate of it at `sigT`; the
//! pipeline ([`crate::verify`]) turns the resulting [`Seal`] into checks.
//!
//! Invariants:
//! - Decoding is strict and bounded: exactly one signature (several are refused for now:
//!   which of them would decide is not settled); no member besides those of RFC 7515
//!   §7.2; a protected header of at most [`MAX_PROTECTED_BYTES`], base64url without
//!   padding, a JSON object without duplicate names ([`crate::json::parse`]); at most
//!   [`MAX_X5C`] certificates; a signature of at most [`MAX_SIGNATURE_BYTES`].
//! - `alg` must be protected and one of RS256/384/512, PS256/384/512, ES256, ES384;
//!   `none`, HMAC and everything else are refused before any certificate or key is read.
//! - `crit` may only name what is implemented here: `b64`, `sigT`, `adoTst`,
//!   `x5t#S256`; anything else (`sigD`, …) is refused, and so is a detached payload. A
//!   `b64` header must be listed in `crit` (RFC 7797 §6). Header members that decide
//!   anything (`alg`, `b64`, `crit`, `x5c`, `x5t#S256`, `sigT`, `sigD`) must be protected;
//!   the unprotected header shares no name with the protected one (RFC 7515 §7.2.1) and
//!   is otherwise ignored (EDC's `etsiU` timestamps and validation data are not used).
//! - Signing input (RFC 7797 §3): ASCII(protected as received) ‖ '.' ‖ the payload as
//!   sent when `b64` is false, else its base64url text; a `b64: true` (or absent)
//!   payload is base64url and is decoded.
//! - The key is only ever the `x5c` leaf's; `x5t#S256`, when present, must be its
//!   SHA-256; `jwk`, `jku`, `x5u` and `kid` are never used to find a key.
//! - Time: certificates are checked at `sigT` (the signer's claim, covered by the
//!   signature); the caller's `now` only adds the note that a certificate has expired
//!   since. `adoTst` and the `etsiU` time-stamp tokens are read for shape only, not
//!   verified; neither is revocation (CRL/OCSP in `rVals` or online).
//! - The payload is parsed (strict JSON) only after the signature verified.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::datetime::{parse_datetime_stamp, Timestamp};
use crate::json::{self, JsonLimits};
use crate::x509::{self, Anchor, Certificate, Hash, PathOutcome, SignatureScheme};
use crate::{Error, ProblemCode, Result};

/// Largest protected header, in bytes of its base64url text.
pub const MAX_PROTECTED_BYTES: usize = 256 * 1024;
/// Most certificates in `x5c`.
pub const MAX_X5C: usize = x509::MAX_PATH;
/// Largest signature, in bytes (an 8192-bit RSA signature).
pub const MAX_SIGNATURE_BYTES: usize = 1024;
/// The `crit` names implemented here.
pub const UNDERSTOOD_CRIT: [&str; 4] = ["b64", "sigT", "adoTst", "x5t#S256"];
/// Header members that must be integrity-protected when present.
const PROTECTED_ONLY: [&str; 7] = ["alg", "b64", "crit", "x5c", "x5t#S256", "sigT", "sigD"];

/// The JWS algorithms a seal may use (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
}

impl Algorithm {
    /// Reads an `alg` value (case-sensitive), refusing every other one.
    pub fn parse(alg: &str) -> Result<Self> {
        Ok(match alg {
            "RS256" => Algorithm::Rs256,
            "RS384" => Algorithm::Rs384,
            "RS512" => Algorithm::Rs512,
            "PS256" => Algorithm::Ps256,
            "PS384" => Algorithm::Ps384,
            "PS512" => Algorithm::Ps512,
            "ES256" => Algorithm::Es256,
            "ES384" => Algorithm::Es384,
            "none" => return Err(refused("JWS alg \"none\" is an unsigned JWS: a seal must be signed")),
            other => {
                return Err(refused(format!(
                    "JWS alg {:?} is not supported for seals (RS256/384/512, PS256/384/512, ES256, ES384)",
                    quote(other)
                )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
        }
    }

    /// The signature scheme, and the key it needs (checked by [`x509::PublicKey::verify`]).
    fn scheme(self) -> SignatureScheme {
        // RFC 7518 §3.5: the salt is as long as the hash.
        let pss = |hash: Hash| SignatureScheme::RsaPss { hash, salt_len: hash.output_size() };
        match self {
            Algorithm::Rs256 => SignatureScheme::RsaPkcs1(Hash::Sha256),
            Algorithm::Rs384 => SignatureScheme::RsaPkcs1(Hash::Sha384),
            Algorithm::Rs512 => SignatureScheme::RsaPkcs1(Hash::Sha512),
            Algorithm::Ps256 => pss(Hash::Sha256),
            Algorithm::Ps384 => pss(Hash::Sha384),
            Algorithm::Ps512 => pss(Hash::Sha512),
            Algorithm::Es256 => SignatureScheme::Ecdsa { hash: Hash::Sha256, fixed: true },
            Algorithm::Es384 => SignatureScheme::Ecdsa { hash: Hash::Sha384, fixed: true },
        }
    }

    fn fits(self, key: &x509::PublicKey) -> bool {
        matches!(
            (self, key),
            (
                Algorithm::Rs256
                    | Algorithm::Rs384
                    | Algorithm::Rs512
                    | Algorithm::Ps256
                    | Algorithm::Ps384
                    | Algorithm::Ps512,
                x509::PublicKey::Rsa(_)
            ) | (Algorithm::Es256, x509::PublicKey::P256(_))
                | (Algorithm::Es384, x509::PublicKey::P384(_))
        )
    }
}

/// A decoded seal, not yet verified.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The protected header exactly as received (base64url text).
    protected: String,
    /// The payload as it enters the signing input (RFC 7797 §3).
    signed_payload: Vec<u8>,
    /// The payload's bytes (decoded from base64url when `b64` is true).
    payload: Vec<u8>,
    signature: Vec<u8>,
    pub algorithm: Algorithm,
    /// `sigT`: when the signer says it sealed.
    pub signing_time: Timestamp,
    /// `x5c`, leaf first.
    pub certificates: Vec<Certificate>,
}

/// Whether `doc` has the shape of a JWS in JSON serialization: a string `payload` and
/// `signatures`, or `signature` with `protected`.
pub fn is_envelope(doc: &Map<String, Value>) -> bool {
    doc.get("payload").is_some_and(Value::is_string)
        && (doc.contains_key("signatures") || doc.contains_key("signature") && doc.contains_key("protected"))
}

/// Decodes a JWS JSON serialization (general or flattened) holding one signature.
/// Checks shape, header and certificates' syntax; verifies nothing.
pub fn decode(document: &Value, limits: &JsonLimits) -> Result<Envelope> {
    let doc = document.as_object().ok_or_else(|| malformed("the seal is not a JSON object"))?;
    let payload = doc
        .get("payload")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the seal has no payload: detached payloads are not supported"))?;
    let signature_object = match doc.get("signatures") {
        Some(signatures) => {
            only_members(doc, &["payload", "signatures"], "the JWS")?;
            let all = signatures.as_array().ok_or_else(|| malformed("`signatures` is not an array"))?;
            match all.as_slice() {
                [one] => one.as_object().ok_or_else(|| malformed("a signature is not a JSON object"))?,
                [] => return Err(malformed("`signatures` is empty")),
                more => {
                    return Err(refused(format!(
                        "the JWS has {} signatures; only one signature per seal is supported for now",
                        more.len()
                    )))
                }
            }
        }
        None => doc,
    };
    let flattened = !doc.contains_key("signatures");
    let members: &[&str] = if flattened {
        &["payload", "protected", "header", "signature"]
    } else {
        &["protected", "header", "signature"]
    };
    only_members(signature_object, members, "the signature")?;

    let protected = signature_object
        .get("protected")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the signature has no protected header"))?;
    if protected.len() > MAX_PROTECTED_BYTES {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("the protected header is larger than {MAX_PROTECTED_BYTES} bytes"),
        ));
    }
    let header_bytes = URL_SAFE_NO_PAD
        .decode(protected)
        .map_err(|e| malformed(format!("the protected header is not base64url: {e}")))?;
    let header = match json::parse(&header_bytes, limits)? {
        Value::Object(header) => header,
        _ => return Err(malformed("the protected header is not a JSON object")),
    };
    let unprotected = match signature_object.get("header") {
        None => Map::new(),
        Some(Value::Object(h)) => h.clone(),
        Some(_) => return Err(malformed("the unprotected header is not a JSON object")),
    };
    for name in unprotected.keys() {
        if header.contains_key(name) {
            return Err(malformed(format!(
                "{:?} is in both the protected and the unprotected header (RFC 7515 §7.2.1)",
                quote(name)
            )));
        }
        if PROTECTED_ONLY.contains(&name.as_str()) {
            return Err(malformed(format!("{:?} must be in the protected header", quote(name))));
        }
    }

    // The algorithm first: nothing else is read from a header with an unsupported one.
    let algorithm = Algorithm::parse(
        header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("the protected header has no `alg`"))?,
    )?;
    check_crit(&header)?;
    if header.contains_key("sigD") {
        return Err(refused("`sigD` (detached or several signed data objects) is not supported"));
    }
    let b64 = match header.get("b64") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(malformed("`b64` is not a boolean")),
    };
    let signing_time = match header.get("sigT") {
        Some(Value::String(t)) => {
            parse_datetime_stamp(t).map_err(|e| malformed(format!("`sigT`: {}", e.message)))?
        }
        Some(_) => return Err(malformed("`sigT` is not a string")),
        None => return Err(malformed("the protected header has no `sigT` (signing time)")),
    };
    if let Some(ado) = header.get("adoTst") {
        if !ado.get("tstTokens").is_some_and(Value::is_array) {
            return Err(malformed("`adoTst` has no `tstTokens` array"));
        }
    }
    let certificates = x5c(&header)?;
    if let Some(thumbprint) = header.get("x5t#S256") {
        let expected = certificates.first().map(|leaf| URL_SAFE_NO_PAD.encode(leaf.sha256()));
        if thumbprint.as_str() != expected.as_deref() {
            return Err(malformed("`x5t#S256` is not the SHA-256 thumbprint of the first `x5c` certificate"));
        }
    }

    let (signed_payload, payload) = if b64 {
        let decoded = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| malformed(format!("the payload is not base64url (b64 is true): {e}")))?;
        (payload.as_bytes().to_vec(), decoded)
    } else {
        (payload.as_bytes().to_vec(), payload.as_bytes().to_vec())
    };
    let signature_text = signature_object
        .get("signature")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no `signature`"))?;
    if signature_text.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return Err(malformed("the signature is longer than any supported key makes"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_text)
        .map_err(|e| malformed(format!("the signature is not base64url: {e}")))?;
    if signature.is_empty() {
        return Err(malformed("the signature is empty"));
    }
    Ok(Envelope {
        protected: protected.to_owned(),
        signed_payload,
        payload,
        signature,
        algorithm,
        signing_time,
        certificates,
    })
}

impl Envelope {
    /// ASCII(protected) ‖ '.' ‖ payload (RFC 7797 §3).
    pub fn signing_input(&self) -> Vec<u8> {
        let mut input = Vec::with_capacity(self.protected.len() + 1 + self.signed_payload.len());
        input.extend_from_slice(self.protected.as_bytes());
        input.push(b'.');
        input.extend_from_slice(&self.signed_payload);
        input
    }

    /// The seal certificate (`x5c`'s first).
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certificates.first()
    }

    /// Checks the signature with the leaf certificate's key.
    pub fn verify_signature(&self) -> Result<()> {
        let leaf = self.leaf().ok_or_else(|| malformed("no seal certificate"))?;
        let key = leaf.public_key()?;
        if !self.algorithm.fits(key) {
            return Err(refused(format!(
                "alg {} does not fit the seal certificate's {} key",
                self.algorithm.as_str(),
                key.describe()
            )));
        }
        key.verify(self.algorithm.scheme(), &self.signing_input(), &self.signature).map_err(|e| {
            match e.code {
                ProblemCode::CryptographicSecurityError => Error::new(
                    ProblemCode::CryptographicSecurityError,
                    "seal broken: the signature does not match the credential and its header \
                 (changed after sealing, or sealed with another key)",
                ),
                _ => e,
            }
        })
    }

    /// The payload as strict JSON.
    pub fn payload_json(&self, limits: &JsonLimits) -> Result<Value> {
        json::parse(&self.payload, limits)
    }
}

/// How the seal certificate relates to the trust list's anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOutcome {
    /// The path reached the anchor of this name.
    Anchored { anchor: String, path: Vec<String> },
    /// The path holds as far as it goes, but no anchor matched.
    NoAnchor { last_issuer: String },
    /// A signature, constraint or limit failed.
    Broken(Error),
}

/// Who sealed, as the seal certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealer {
    /// `Organisation (Common Name)`.
    pub holder: String,
    pub subject: String,
    pub organisation: Option<String>,
    pub common_name: Option<String>,
    /// The subject's organizationIdentifier (e.g. `VATES-A00000000`), which binds the seal
    /// to the credential's issuer (its `eIDASIdentifier`).
    pub organization_identifier: Option<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Seal {
    pub algorithm: Algorithm,
    pub signing_time: Timestamp,
    pub sealer: Sealer,
    /// The signature over the header and the payload.
    pub signature: Result<()>,
    pub chain: ChainOutcome,
    /// The seal certificate's key usage, and every certificate of the path valid at
    /// `sigT`.
    pub certificate: Result<()>,
    /// A certificate of the path that has expired since the signing time, and when (the
    /// soonest such expiry).
    pub expired_since: Option<(String, Timestamp)>,
    /// The credential: parsed only when the signature verified.
    pub payload: Result<Value>,
}

impl Seal {
    /// Signature, chain and certificate all hold and the chain reached an anchor.
    pub fn anchored(&self) -> Option<&str> {
        match (&self.signature, &self.chain, &self.certificate) {
            (Ok(()), ChainOutcome::Anchored { anchor, .. }, Ok(())) => Some(anchor),
            _ => None,
        }
    }
}

/// Decodes and verifies a seal against `anchors` at its signing time. `Err` only when
/// the document is not a readable seal (the pipeline's `parse` step).
pub fn verify(document: &Value, anchors: &[Anchor], now: Timestamp, limits: &JsonLimits) -> Result<Seal> {
    let envelope = decode(document, limits)?;
    let leaf = envelope.leaf().ok_or_else(|| malformed("no seal certificate"))?;
    let sealer = Sealer {
        holder: leaf.holder(),
        subject: leaf.subject(),
        organisation: leaf.organisation(),
        common_name: leaf.common_name(),
        organization_identifier: leaf.organization_identifier(),
        not_before: leaf.not_before(),
        not_after: leaf.not_after(),
    };
    let signature = envelope.verify_signature();
    let intermediates = envelope.certificates.get(1..).unwrap_or_default();
    let path = x509::build_path(leaf, intermediates, anchors);
    let chain = match path.outcome {
        PathOutcome::Anchored { anchor } => {
            ChainOutcome::Anchored { anchor, path: path.certificates.iter().map(|c| c.holder()).collect() }
        }
        PathOutcome::NoAnchor { last_issuer } => ChainOutcome::NoAnchor { last_issuer },
        PathOutcome::Broken(e) => ChainOutcome::Broken(e),
    };
    let at = envelope.signing_time;
    let certificate =
        leaf.check_signing_usage().and_then(|()| match path.certificates.iter().find(|c| !c.valid_at(at)) {
            None => Ok(()),
            Some(c) => Err(Error::new(
                ProblemCode::ValidityPeriodError,
                format!(
                    "the certificate of {} was not valid when sealed ({}): valid from {} to {}",
                    c.holder(),
                    at.to_rfc3339(),
                    c.not_before().to_rfc3339(),
                    c.not_after().to_rfc3339()
                ),
            )),
        });
    let expired_since = path
        .certificates
        .iter()
        .filter(|c| c.not_after() < now)
        .min_by_key(|c| c.not_after())
        .map(|c| (c.holder(), c.not_after()));
    let payload = match &signature {
        Ok(()) => envelope.payload_json(limits),
        Err(_) => Err(malformed("the payload is not read: the seal is broken")),
    };
    Ok(Seal {
        algorithm: envelope.algorithm,
        signing_time: at,
        sealer,
        signature,
        chain,
        certificate,
        expired_since,
        payload,
    })
}

fn check_crit(header: &Map<String, Value>) -> Result<()> {
    let names: Vec<&str> = match header.get("crit") {
        None => Vec::new(),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().ok_or_else(|| malformed("`crit` holds a value that is not a string")))
            .collect::<Result<_>>()?,
        Some(_) => return Err(malformed("`crit` is not a non-empty array (RFC 7515 §4.1.11)")),
    };
    for (i, name) in names.iter().enumerate() {
        if names.iter().take(i).any(|n| n == name) {
            return Err(malformed(format!("`crit` names {:?} twice", quote(name))));
        }
        if !UNDERSTOOD_CRIT.contains(name) {
            return Err(refused(format!(
                "`crit` names {:?}, which this verifier does not implement (only {})",
                quote(name),
                UNDERSTOOD_CRIT.join(", ")
            )));
        }
        if !header.contains_key(*name) {
            return Err(malformed(format!("`crit` names {:?}, which the header does not have", quote(name))));
        }
    }
    if header.contains_key("b64") && !names.contains(&"b64") {
        return Err(malformed("`b64` is used but not listed in `crit` (RFC 7797 §6)"));
    }
    Ok(())
}

fn x5c(header: &Map<String, Value>) -> Result<Vec<Certificate>> {
    let items = match header.get("x5c") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => return Err(malformed("`x5c` is not a non-empty array")),
        None => return Err(malformed("the protected header has no `x5c`: the seal names no certificate")),
    };
    if items.len() > MAX_X5C {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("`x5c` has {} certificates, more than the {MAX_X5C} allowed", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item.as_str().ok_or_else(|| malformed(format!("x5c[{i}] is not a string")))?;
            if text.len() > x509::MAX_CERTIFICATE_BYTES * 4 / 3 + 4 {
                return Err(Error::new(
                    ProblemCode::ResourceLimitExceeded,
                    format!("x5c[{i}] is larger than {} bytes", x509::MAX_CERTIFICATE_BYTES),
                ));
            }
            let der = STANDARD
                .decode(text)
                .map_err(|e| malformed(format!("x5c[{i}] is not base64 (RFC 7515 §4.1.6): {e}")))?;
            Certificate::from_der(&der).map_err(|e| Error::new(e.code, format!("x5c[{i}]: {}", e.message)))
        })
        .collect()
}

fn only_members(object: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(other) => Err(malformed(format!("{what} has an unexpected member {:?}", quote(other)))),
    }
}

/// At most 64 characters of an untrusted name, for messages.
fn quote(text: &str) -> String {
    text.chars().take(64).collect()
}

fn malformed(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::MalformedValueError, format!("JAdES: {}", message.into()))
}

fn refused(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::ProofVerificationError, message)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::x509::tests::{ca, issue, params, seal_params, TestCa};
    use rcgen::KeyPair;
    use serde_json::json;

    pub const SAMPLES: [&str; 2] =
        ["elm/Sample-MC-Annex1-signed.jsonld", "elm/Sample-CertOfPart-signed.jsonld"];

    fn sample(rel: &str) -> Value {
        json::parse(crate::testdata::read(rel).as_bytes(), &JsonLimits::default()).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        parse_datetime_stamp(s).unwrap()
    }

    fn anf_anchor() -> Anchor {
        Anchor {
            name: "ANF (test)".into(),
            certificate: Certificate::from_pem(&crate::testdata::read("elm/anf-eseal-ca.pem")).unwrap(),
        }
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A JAdES-shaped seal over `payload` made with an rcgen P-256 key (ES256, b64:false).
    pub fn seal_es256(payload: &str, header: Value, key: &KeyPair, chain: &[&[u8]]) -> Value {
        use p256::ecdsa::signature::Signer as _;
        use p256::pkcs8::DecodePrivateKey as _;
        let mut header = header;
        header["x5c"] = chain.iter().map(|der| STANDARD.encode(der)).collect();
        let protected = b64(header.to_string().as_bytes());
        let signing_key = p256::ecdsa::SigningKey::from_pkcs8_der(&key.serialize_der()).unwrap();
        let signature: p256::ecdsa::Signature = signing_key.sign(format!("{protected}.{payload}").as_bytes());
        json!({"payload": payload, "signatures": [{"protected": protected, "header": {"etsiU": []}, "signature": b64(&signature.to_bytes())}]})
    }

    pub fn jades_header(sig_t: &str) -> Value {
        json!({"alg": "ES256", "b64": false, "crit": ["b64", "sigT"], "sigT": sig_t, "typ": "jose+json"})
    }

    fn payload() -> String {
        json!({"type": ["VerifiableCredential"], "issuer": {"id": "urn:x"}}).to_string()
    }

    #[test]
    fn both_edc_samples_verify_and_chain_to_their_ca() {
        let now = at("2026-06-01T00:00:00Z");
        for rel in SAMPLES {
            let doc = sample(rel);
            let seal = verify(&doc, &[], now, &JsonLimits::default()).unwrap();
            seal.signature.as_ref().unwrap();
            assert_eq!(seal.algorithm, Algorithm::Rs256);
            assert_eq!(seal.sealer.organisation.as_deref(), Some("ORGANIZACION TEST"));
            assert_eq!(seal.sealer.common_name.as_deref(), Some("TEST SEAL"));
            assert!(
                matches!(seal.chain, ChainOutcome::NoAnchor { ref last_issuer } if last_issuer.contains("ANF AC Qualified Certificates for eSeal")),
                "{:?}",
                seal.chain
            );
            seal.certificate.as_ref().unwrap();
            let (who, when) = seal.expired_since.clone().unwrap();
            assert!(who.contains("TEST SEAL"));
            assert_eq!(when, at("2025-05-10T14:31:15Z"));
            assert!(seal.payload.as_ref().unwrap().get("credentialSubject").is_some());
            assert_eq!(seal.anchored(), None);

            let seal = verify(&doc, &[anf_anchor()], now, &JsonLimits::default()).unwrap();
            assert_eq!(seal.anchored(), Some("ANF (test)"), "{:?}", seal.chain);
            // Before the certificate expired, no note.
            let seal =
                verify(&doc, &[anf_anchor()], at("2024-01-01T00:00:00Z"), &JsonLimits::default()).unwrap();
            assert_eq!(seal.expired_since, None);
        }
    }

    #[test]
    fn a_changed_payload_or_header_breaks_the_seal() {
        let now = at("2026-06-01T00:00:00Z");
        let doc = sample(SAMPLES[0]);
        let mut tampered = doc.clone();
        let payload =
            doc["payload"].as_str().unwrap().replacen("VerifiableCredential", "VerifiableCredentiaL", 1);
        tampered["payload"] = payload.into();
        let seal = verify(&tampered, &[anf_anchor()], now, &JsonLimits::default()).unwrap();
        let e = seal.signature.clone().unwrap_err();
        assert_eq!(e.code, ProblemCode::CryptographicSecurityError);
        assert!(e.message.contains("seal broken"), "{}", e.message);
        assert!(seal.payload.is_err());
        assert_eq!(seal.anchored(), None);

        // The header: a different signing time, re-encoded.
        let protected = doc["signatures"][0]["protected"].as_str().unwrap();
        let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
        header["sigT"] = "2023-09-28T11:54:17Z".into();
        let mut tampered = doc.clone();
        tampered["signatures"][0]["protected"] = b64(header.to_string().as_bytes()).into();
        let seal = verify(&tampered, &[anf_anchor()], now, &JsonLimits::default()).unwrap();
        assert_eq!(seal.signature.unwrap_err().code, ProblemCode::CryptographicSecurityError);

        // The signature itself.
        let mut tampered = doc.clone();
        let sig = doc["signatures"][0]["signature"].as_str().unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        bytes[10] ^= 1;
        tampered["signatures"][0]["signature"] = b64(&bytes).into();
        assert!(verify(&tampered, &[], now, &JsonLimits::default()).unwrap().signature.is_err());
    }

    fn with_header(doc: &Value, change: impl FnOnce(&mut Value)) -> Value {
        let protected = doc["signatures"][0]["protected"].as_str().unwrap();
        let mut header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
        change(&mut header);
        let mut out = doc.clone();
        out["signatures"][0]["protected"] = b64(header.to_string().as_bytes()).into();
        out
    }

    #[test]
    fn headers_are_checked_strictly() {
        let doc = sample(SAMPLES[0]);
        let limits = JsonLimits::default();
        let err = |d: &Value| decode(d, &limits).unwrap_err().message;
        for alg in ["none", "HS256", "EdDSA", "rs256", "ES512"] {
            let e = err(&with_header(&doc, |h| h["alg"] = alg.into()));
            assert!(e.contains("alg"), "{alg}: {e}");
        }
        let e = err(&with_header(&doc, |h| h["crit"] = json!(["b64", "sigT", "adoTst", "exotic"])));
        assert!(e.contains("exotic"), "{e}");
        let e = err(&with_header(&doc, |h| h["crit"] = json!(["b64", "sigT", "adoTst", "sigD"])));
        assert!(e.contains("sigD"), "{e}");
        let e = err(&with_header(&doc, |h| h["crit"] = json!([])));
        assert!(e.contains("crit"), "{e}");
        let e = err(&with_header(&doc, |h| h["crit"] = json!(["sigT", "adoTst"])));
        assert!(e.contains("b64"), "{e}");
        let e = err(&with_header(&doc, |h| h["crit"] = json!(["b64", "b64", "sigT"])));
        assert!(e.contains("twice"), "{e}");
        let e = err(&with_header(&doc, |h| {
            h.as_object_mut().unwrap().remove("sigT");
            h["crit"] = json!(["b64"]);
        }));
        assert!(e.contains("sigT"), "{e}");
        let e = err(&with_header(&doc, |h| h["x5t#S256"] = "AAAA".into()));
        assert!(e.contains("x5t#S256"), "{e}");
        let e = err(&with_header(&doc, |h| h["x5c"] = json!([])));
        assert!(e.contains("x5c"), "{e}");
        let e = err(&with_header(&doc, |h| h["x5c"] = json!(["!!"])));
        assert!(e.contains("x5c[0]"), "{e}");
        let mut two = doc.clone();
        let one = two["signatures"][0].clone();
        two["signatures"] = json!([one.clone(), one]);
        assert!(err(&two).contains("only one signature"));
        let mut extra = doc.clone();
        extra["signatures"][0]["header"]["alg"] = "RS256".into();
        assert!(err(&extra).contains("alg"));
        let mut extra = doc.clone();
        extra["unexpected"] = true.into();
        assert!(err(&extra).contains("unexpected"));
    }

    #[test]
    fn the_flattened_form_and_an_encoded_payload_verify() {
        let root = ca("Test Root");
        let key = KeyPair::generate().unwrap();
        let leaf = issue(&root, seal_params("Seal"), &key);
        let payload = payload();
        let sealed = seal_es256(&payload, jades_header("2024-05-01T10:00:00Z"), &key, &[&leaf]);
        let mut flat = sealed["signatures"][0].clone();
        flat["payload"] = sealed["payload"].clone();
        let anchors =
            [Anchor { name: "Test Root".into(), certificate: Certificate::from_der(&root.der).unwrap() }];
        let now = at("2026-01-01T00:00:00Z");
        for doc in [&sealed, &flat] {
            assert!(is_envelope(doc.as_object().unwrap()));
            let seal = verify(doc, &anchors, now, &JsonLimits::default()).unwrap();
            assert_eq!(seal.anchored(), Some("Test Root"), "{:?} {:?}", seal.signature, seal.chain);
            assert_eq!(seal.payload.unwrap()["issuer"]["id"], "urn:x");
        }
        // b64 absent: the payload is base64url and is what is signed.
        let encoded = b64(payload.as_bytes());
        let header = json!({"alg": "ES256", "sigT": "2024-05-01T10:00:00Z"});
        let doc = seal_es256(&encoded, header, &key, &[&leaf]);
        let seal = verify(&doc, &anchors, now, &JsonLimits::default()).unwrap();
        assert_eq!(seal.anchored(), Some("Test Root"));
        assert_eq!(seal.payload.unwrap()["issuer"]["id"], "urn:x");
    }

    #[test]
    fn a_self_made_chain_decides_trust_validity_and_usage() {
        let root = ca("Test Root");
        let other = ca("Other Root");
        let key = KeyPair::generate().unwrap();
        let now = at("2026-01-01T00:00:00Z");
        let anchor = |c: &TestCa, name: &str| Anchor {
            name: name.into(),
            certificate: Certificate::from_der(&c.der).unwrap(),
        };
        let run = |leaf: &[u8], sig_t: &str, anchors: &[Anchor]| {
            let doc = seal_es256(&payload(), jades_header(sig_t), &key, &[leaf]);
            verify(&doc, anchors, now, &JsonLimits::default()).unwrap()
        };
        let leaf = issue(&root, seal_params("Seal"), &key);
        // Anchored → trusted.
        let seal = run(&leaf, "2024-05-01T10:00:00Z", &[anchor(&other, "Other"), anchor(&root, "Root")]);
        assert_eq!(seal.anchored(), Some("Root"));
        // Wrong anchor → not anchored, seal still valid.
        let seal = run(&leaf, "2024-05-01T10:00:00Z", &[anchor(&other, "Other")]);
        seal.signature.as_ref().unwrap();
        assert!(matches!(seal.chain, ChainOutcome::NoAnchor { .. }));
        assert_eq!(seal.anchored(), None);
        // Sealed after the certificate expired (sigT past notAfter).
        let mut p = seal_params("Seal");
        p.not_after = rcgen::date_time_ymd(2023, 1, 1);
        let expired = issue(&root, p, &key);
        let seal = run(&expired, "2024-05-01T10:00:00Z", &[anchor(&root, "Root")]);
        seal.signature.as_ref().unwrap();
        let e = seal.certificate.clone().unwrap_err();
        assert_eq!(e.code, ProblemCode::ValidityPeriodError);
        assert!(e.message.contains("not valid when sealed"), "{}", e.message);
        assert_eq!(seal.anchored(), None);
        // Sealed while valid, expired since: noted, still anchored.
        let seal = run(&expired, "2022-06-01T10:00:00Z", &[anchor(&root, "Root")]);
        assert_eq!(seal.anchored(), Some("Root"));
        assert_eq!(seal.expired_since.unwrap().1, at("2023-01-01T00:00:00Z"));
        // No keyUsage → refused.
        let bare = issue(&root, params("Seal", (2021, 1, 1), (2030, 1, 1)), &key);
        let seal = run(&bare, "2024-05-01T10:00:00Z", &[anchor(&root, "Root")]);
        assert!(seal.certificate.unwrap_err().message.contains("keyUsage"));
        // keyUsage without a signing bit → refused.
        let mut p = seal_params("Seal");
        p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
        let enc = issue(&root, p, &key);
        let seal = run(&enc, "2024-05-01T10:00:00Z", &[anchor(&root, "Root")]);
        assert!(seal.certificate.unwrap_err().message.contains("digitalSignature"));
        // A key that does not fit alg.
        let doc = seal_es256(&payload(), jades_header("2024-05-01T10:00:00Z"), &key, &[&leaf]);
        let doc = with_header(&doc, |h| h["alg"] = "ES384".into());
        let seal = verify(&doc, &[], now, &JsonLimits::default()).unwrap();
        assert!(seal.signature.unwrap_err().message.contains("does not fit"));
    }

    #[test]
    fn rsa_pss_seals_verify() {
        use rsa::pkcs8::EncodePrivateKey as _;
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
        let mut rng = rand_core::OsRng;
        let rsa_key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let pkcs8 = rsa_key.to_pkcs8_der().unwrap();
        let key =
            KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_bytes().into(), &rcgen::PKCS_RSA_SHA256).unwrap();
        let root = ca("Test Root");
        let leaf = issue(&root, seal_params("RSA Seal"), &key);
        let payload = payload();
        let mut header = jades_header("2024-05-01T10:00:00Z");
        header["alg"] = "PS256".into();
        header["x5c"] = json!([STANDARD.encode(&leaf)]);
        header["x5t#S256"] = b64(&Certificate::from_der(&leaf).unwrap().sha256()).into();
        header["crit"] = json!(["b64", "sigT", "x5t#S256"]);
        let protected = b64(header.to_string().as_bytes());
        let signer = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(rsa_key);
        let signature = signer.sign_with_rng(&mut rng, format!("{protected}.{payload}").as_bytes());
        let doc =
            json!({"payload": payload, "protected": protected, "signature": b64(&signature.to_bytes())});
        let anchors =
            [Anchor { name: "Root".into(), certificate: Certificate::from_der(&root.der).unwrap() }];
        let seal = verify(&doc, &anchors, at("2026-01-01T00:00:00Z"), &JsonLimits::default()).unwrap();
        assert_eq!(seal.anchored(), Some("Root"), "{:?}", seal.signature);
        // The same signature checked as PKCS#1 v1.5 does not verify.
        let key = Certificate::from_der(&leaf).unwrap();
        let input = format!("{protected}.{payload}");
        let pkcs1 = SignatureScheme::RsaPkcs1(Hash::Sha256);
        assert!(key.public_key().unwrap().verify(pkcs1, input.as_bytes(), &signature.to_bytes()).is_err());
    }

    #[test]
    fn truncated_and_garbage_envelopes_are_errors_never_panics() {
        let doc = sample(SAMPLES[1]);
        let text = doc.to_string();
        let limits = JsonLimits::default();
        let now = at("2026-01-01T00:00:00Z");
        // Truncations of the whole text (most are not JSON at all; the rest must not panic).
        for cut in (0..text.len()).step_by(997) {
            if let Ok(v) = json::parse(text.as_bytes().get(..cut).unwrap(), &limits) {
                let _ = verify(&v, &[anf_anchor()], now, &limits);
            }
        }
        // Truncated and corrupted members.
        let protected = doc["signatures"][0]["protected"].as_str().unwrap().to_owned();
        for cut in (0..protected.len()).step_by(331) {
            let mut d = doc.clone();
            d["signatures"][0]["protected"] = protected.get(..cut).unwrap().into();
            assert!(verify(&d, &[], now, &limits).is_err());
        }
        let header_bytes = URL_SAFE_NO_PAD.decode(&protected).unwrap();
        for i in (0..header_bytes.len()).step_by(97) {
            let mut bytes = header_bytes.clone();
            bytes[i] ^= 0x5a;
            let mut d = doc.clone();
            d["signatures"][0]["protected"] = b64(&bytes).into();
            let _ = verify(&d, &[anf_anchor()], now, &limits);
        }
        let garbage = [
            json!({"payload": "x", "signatures": "no"}),
            json!({"payload": "x", "signatures": []}),
            json!({"payload": "x", "signatures": [1]}),
            json!({"payload": "x", "signatures": [{}]}),
            json!({"payload": "x", "signatures": [{"protected": 5}]}),
            json!({"payload": "x", "signatures": [{"protected": "", "signature": ""}]}),
            json!({"payload": "x", "signatures": [{"protected": "e30", "signature": "AA"}]}),
            json!({"payload": "x", "protected": "eyJhbGciOiJSUzI1NiJ9", "signature": "AA"}),
            json!({"payload": 5, "protected": "x", "signature": "AA"}),
            json!([1, 2]),
            json!(null),
        ];
        for g in garbage {
            assert!(verify(&g, &[], now, &limits).is_err(), "{g}");
        }
    }
}
