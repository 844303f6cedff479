//! Making JAdES seals (ETSI TS 119 182-1, baseline B): the sealing side of
//! [`crate::jades`], shaped like the seals of EDC credentials.
//!
//! [`SealingKey`] is a PKCS#8 private key: RSA (sealing RS256, RSASSA-PKCS1-v1_5 with
//! SHA-256, as EDC does), ECDSA P-256 (ES256) or P-384 (ES384). [`SealIdentity`] pairs it
//! with its certificate chain once they are checked to belong together, and [`seal`]
//! wraps a payload (the credential's JSON text) into an enveloping JWS in the general JSON
//! serialization:
//!
//! ```text
//! {"payload": "<the credential JSON, unencoded>",
//!  "signatures": [{"protected": "<base64url of the header>", "signature": "<base64url>"}]}
//! header: {"alg", "cty": "octet-stream", "kid": base64(IssuerSerial), "x5t#S256", "x5c",
//!          "typ": "jose+json", "b64": false, "sigT", "crit": ["b64", "sigT"]}
//! ```
//!
//! The header names, their order and the `typ`/`cty` values are those of EDC's sealed
//! samples (`testdata/elm/Sample-*-signed.jsonld`); what EDC adds for the LTA level
//! (`adoTst` in the protected header, `etsiU` with `sigTst`, `xVals`, `rVals`, `arcTst`
//! unprotected) is not made here: see `docs/sealing.md`.
//!
//! Invariants:
//! - The signing input is the one [`crate::jades::verify`] checks (RFC 7797 §3):
//!   ASCII(protected) ‖ '.' ‖ the payload's UTF-8 bytes; the payload goes into the JSON
//!   as a string, unencoded (`b64: false`), so JSON escaping changes nothing signed.
//! - A [`SealIdentity`] holds only a key that is its leaf certificate's, a leaf whose
//!   keyUsage allows signatures, and a chain that holds (each certificate issued by the
//!   next one given). [`seal`] refuses a `sigT` at which a certificate of the chain is not
//!   valid: such a seal would never verify.
//! - Every seal is verified with the leaf's public key before it is returned, so a faulty
//!   signature (an RSA-CRT fault, a mismatched key) never leaves this module.
//! - RSA signs with blinding (`sign_with_rng`): the `rsa` crate's private-key operations
//!   are not constant-time (RUSTSEC-2023-0071), and blinding is what it offers against
//!   timing; ECDSA keys are preferred for that reason (see `docs/sealing.md`).
//! - Time and randomness are the caller's: `sigT` and the RNG are parameters.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand_core::CryptoRngCore;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::datetime::Timestamp;
use crate::jades::{self, Algorithm, MAX_X5C};
use crate::json::JsonLimits;
use crate::x509::{self, Certificate, PublicKey};
use crate::{Error, ProblemCode, Result};

/// `typ` of EDC's seals: the JWS JSON serialization (RFC 7515 §9.2.2).
pub const TYP: &str = "jose+json";
/// `cty` of EDC's seals.
pub const CTY: &str = "octet-stream";
/// The media type of a sealed credential (RFC 7515 §9.2.2, `application/jose+json`).
pub const MEDIA_TYPE: &str = "application/jose+json";

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256_CURVE: &str = "1.2.840.10045.3.1.7";
const P384_CURVE: &str = "1.3.132.0.34";

/// A private key that seals.
pub struct SealingKey {
    inner: KeyInner,
}

enum KeyInner {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({}, secret)", self.public_key().describe())
    }
}

impl SealingKey {
    /// Reads an unencrypted PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`).
    /// Other PEM forms are refused with a message saying how to convert them.
    pub fn from_pkcs8_pem(text: &str) -> Result<Self> {
        const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
        const END: &str = "-----END PRIVATE KEY-----";
        let Some(start) = text.find(BEGIN) else {
            let form = if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                "an encrypted PKCS#8 key; give it unencrypted (and keep the file 0600)"
            } else if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
                "a PKCS#1 RSA key; convert it with `openssl pkcs8 -topk8 -nocrypt`"
            } else if text.contains("-----BEGIN EC PRIVATE KEY-----") {
                "a SEC1 EC key; convert it with `openssl pkcs8 -topk8 -nocrypt`"
            } else {
                "no PEM private key"
            };
            return Err(key_error(format!("not a PKCS#8 private key ({BEGIN}): {form}")));
        };
        let from = text.get(start..).unwrap_or_default();
        let end = from
            .find(END)
            .map(|e| e + END.len())
            .ok_or_else(|| key_error(format!("the PEM private key has no {END} line")))?;
        if from.get(end..).unwrap_or_default().contains("-----BEGIN") {
            return Err(key_error("more than one PEM block: give one private key"));
        }
        let block = from.get(..end).unwrap_or_default();
        let (_, der) = x509_cert::der::pem::decode_vec(block.as_bytes())
            .map_err(|e| key_error(format!("the PEM private key is malformed: {e}")))?;
        Self::from_pkcs8_der(&der)
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` (DER): RSA, or EC on P-256 or P-384.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        use p256::pkcs8::DecodePrivateKey as _;
        let info = rsa::pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| key_error(format!("not a PKCS#8 PrivateKeyInfo: {e}")))?;
        let inner = match info.algorithm.oid.to_string().as_str() {
            RSA_ENCRYPTION => {
                let key = rsa::RsaPrivateKey::try_from(info)
                    .map_err(|e| key_error(format!("the RSA private key is not usable: {e}")))?;
                KeyInner::Rsa(Box::new(key))
            }
            EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| key_error("the EC private key names no curve"))?
                    .to_string();
                match curve.as_str() {
                    P256_CURVE => KeyInner::P256(
                        p256::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map_err(|e| key_error(format!("the P-256 private key is malformed: {e}")))?,
                    ),
                    P384_CURVE => KeyInner::P384(
                        p384::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map_err(|e| key_error(format!("the P-384 private key is malformed: {e}")))?,
                    ),
                    other => {
                        return Err(key_error(format!(
                            "EC curve {other} is not supported for seals (P-256, P-384)"
                        )))
                    }
                }
            }
            other => {
                return Err(key_error(format!(
                    "key algorithm {other} is not supported for seals (RSA, ECDSA P-256/P-384)"
                )))
            }
        };
        Ok(SealingKey { inner })
    }

    /// The JWS algorithm this key seals with: RS256, ES256 or ES384.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            KeyInner::Rsa(_) => Algorithm::Rs256,
            KeyInner::P256(_) => Algorithm::Es256,
            KeyInner::P384(_) => Algorithm::Es384,
        }
    }

    /// The public half, comparable with a certificate's key.
    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            KeyInner::Rsa(k) => PublicKey::Rsa(k.to_public_key()),
            KeyInner::P256(k) => PublicKey::P256(*k.verifying_key()),
            KeyInner::P384(k) => PublicKey::P384(*k.verifying_key()),
        }
    }

    /// The JWS signature of `message` (RFC 7518 §3.3, §3.4: PKCS#1 v1.5 bytes, or r ‖ s).
    fn sign(&self, message: &[u8], mut rng: &mut dyn CryptoRngCore) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::Signer as _;
        let failed = |e: &dyn std::fmt::Display| {
            Error::new(ProblemCode::CryptographicSecurityError, format!("sealing failed: {e}"))
        };
        match &self.inner {
            KeyInner::Rsa(key) => key
                .sign_with_rng(&mut rng, rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .map_err(|e| failed(&e)),
            KeyInner::P256(key) => {
                let signature: p256::ecdsa::Signature = key.try_sign(message).map_err(|e| failed(&e))?;
                Ok(signature.to_bytes().to_vec())
            }
            KeyInner::P384(key) => {
                let signature: p384::ecdsa::Signature = key.try_sign(message).map_err(|e| failed(&e))?;
                Ok(signature.to_bytes().to_vec())
            }
        }
    }
}

/// A sealing key and its certificate chain (leaf first), checked to belong together.
#[derive(Debug)]
pub struct SealIdentity {
    key: SealingKey,
    chain: Vec<Certificate>,
}

impl SealIdentity {
    /// Pairs `key` with `chain` (leaf first, then the issuers, optionally up to the
    /// root). Refused: an empty or too long chain, a key that is not the leaf's, a leaf
    /// whose keyUsage allows no signatures, a chain whose certificates do not issue one
    /// another in order.
    pub fn new(key: SealingKey, chain: Vec<Certificate>) -> Result<Self> {
        let leaf = chain.first().ok_or_else(|| seal_error("the certificate chain is empty"))?;
        if chain.len() > MAX_X5C {
            return Err(seal_error(format!("the chain has {} certificates, at most {MAX_X5C}", chain.len())));
        }
        let leaf_key = leaf.public_key()?;
        if *leaf_key != key.public_key() {
            return Err(Error::new(
                ProblemCode::InvalidVerificationMethod,
                format!(
                    "the private key ({}) is not the key of the seal certificate of {} ({})",
                    key.public_key().describe(),
                    leaf.holder(),
                    leaf_key.describe()
                ),
            ));
        }
        leaf.check_signing_usage()?;
        // The chain as given must be the path itself: each certificate issued by the next,
        // with the issuers' constraints (cA, keyCertSign, pathLen) holding.
        let path = x509::build_path(leaf, chain.get(1..).unwrap_or_default(), &[]);
        if let x509::PathOutcome::Broken(e) = &path.outcome {
            return Err(seal_error(format!("the chain does not hold: {}", e.message)));
        }
        for (i, given) in chain.iter().enumerate().skip(1) {
            if path.certificates.get(i) != Some(&given) {
                let below = chain.get(i - 1).map(Certificate::holder).unwrap_or_default();
                return Err(seal_error(format!(
                    "certificate {} ({}) is not the issuer of the one before it ({below}): give the \
                     seal certificate first, then each issuer in order",
                    i + 1,
                    given.holder()
                )));
            }
        }
        Ok(SealIdentity { key, chain })
    }

    /// The seal certificate.
    pub fn leaf(&self) -> Option<&Certificate> {
        self.chain.first()
    }

    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// Every certificate of the chain valid at `at`, else which is not and when it is.
    pub fn check_valid_at(&self, at: Timestamp) -> Result<()> {
        match self.chain.iter().find(|c| !c.valid_at(at)) {
            None => Ok(()),
            Some(c) => Err(Error::new(
                ProblemCode::ValidityPeriodError,
                format!(
                    "the certificate of {} is not valid at {}: valid from {} to {}",
                    c.holder(),
                    at.to_rfc3339(),
                    c.not_before().to_rfc3339(),
                    c.not_after().to_rfc3339()
                ),
            )),
        }
    }
}

/// The protected header of a seal made by `identity` at `signing_time` (whole seconds).
fn protected_header(identity: &SealIdentity, signing_time: Timestamp) -> Result<Value> {
    let leaf = identity.leaf().ok_or_else(|| seal_error("the certificate chain is empty"))?;
    let x5c: Vec<Value> = identity.chain.iter().map(|c| Value::String(STANDARD.encode(c.der()))).collect();
    Ok(json!({
        "alg": identity.algorithm().as_str(),
        "cty": CTY,
        "kid": STANDARD.encode(leaf.issuer_serial()?),
        "x5t#S256": URL_SAFE_NO_PAD.encode(leaf.sha256()),
        "x5c": x5c,
        "typ": TYP,
        "b64": false,
        "sigT": signing_time.to_rfc3339(),
        "crit": ["b64", "sigT"],
    }))
}

/// Seals `payload` (a credential's JSON text) with `identity` at `signing_time` (the
/// caller's clock; the fraction of a second is dropped): a JAdES baseline-B enveloping
/// JWS in the general JSON serialization, verified before it is returned.
pub fn seal(
    payload: &str,
    identity: &SealIdentity,
    signing_time: Timestamp,
    rng: &mut dyn CryptoRngCore,
) -> Result<Value> {
    let signing_time = Timestamp::from_unix(signing_time.unix_seconds());
    identity
        .check_valid_at(signing_time)
        .map_err(|e| Error::new(e.code, format!("cannot seal: {}", e.message)))?;
    let header = protected_header(identity, signing_time)?;
    let protected = URL_SAFE_NO_PAD.encode(header.to_string());
    let mut input = Vec::with_capacity(protected.len() + 1 + payload.len());
    input.extend_from_slice(protected.as_bytes());
    input.push(b'.');
    input.extend_from_slice(payload.as_bytes());
    let signature = identity.key.sign(&input, rng)?;
    let sealed = json!({
        "payload": payload,
        "signatures": [{"protected": protected, "signature": URL_SAFE_NO_PAD.encode(signature)}],
    });
    // The seal as any verifier reads it: decoded strictly, signature checked.
    jades::decode(&sealed, &JsonLimits::default())
        .and_then(|envelope| envelope.verify_signature())
        .map_err(|e| Error::new(e.code, format!("the seal just made does not verify: {}", e.message)))?;
    Ok(sealed)
}

fn key_error(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::MalformedValueError, format!("seal key: {}", message.into()))
}

fn seal_error(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, format!("seal certificate: {}", message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::parse_datetime_stamp;
    use crate::jades::ChainOutcome;
    use crate::x509::tests::{ca, issue, params, seal_params, TestCa};
    use crate::x509::Anchor;
    use rcgen::{BasicConstraints, IsCa, KeyPair, KeyUsagePurpose};

    fn at(s: &str) -> Timestamp {
        parse_datetime_stamp(s).unwrap()
    }

    fn payload() -> String {
        json!({
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "issuer": {"id": "urn:x", "name": "Ünïcode \"quoted\" <b>"},
            "credentialSubject": {"note": "line\nbreak \\ backslash"}
        })
        .to_string()
    }

    fn header(sealed: &Value) -> Value {
        let protected = sealed["signatures"][0]["protected"].as_str().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap()
    }

    fn anchor(c: &TestCa) -> Anchor {
        Anchor { name: "Test CA".into(), certificate: Certificate::from_der(&c.der).unwrap() }
    }

    /// An RSA 2048 key as rcgen and as PKCS#8 PEM.
    fn rsa_key() -> (KeyPair, String) {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap().to_string();
        let pair =
            KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &rcgen::PKCS_RSA_SHA256).unwrap();
        (pair, pem)
    }

    /// Root → intermediate → seal certificate for `key`; the chain leaf first.
    fn chain_for(root: &TestCa, key: &KeyPair) -> Vec<Certificate> {
        let inter_key = KeyPair::generate().unwrap();
        let mut ip = params("Test Intermediate", (2020, 1, 1), (2039, 1, 1));
        ip.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let inter = TestCa { der: issue(root, ip.clone(), &inter_key), key: inter_key, params: ip };
        let leaf = issue(&inter, seal_params("Test Seal"), key);
        vec![Certificate::from_der(&leaf).unwrap(), Certificate::from_der(&inter.der).unwrap()]
    }

    #[test]
    fn rsa_and_ecdsa_seals_verify_and_chain_to_the_test_ca() {
        let root = ca("Test Root");
        let now = at("2026-06-01T00:00:00Z");
        let (rsa_pair, rsa_pem) = rsa_key();
        let p384 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let p256 = KeyPair::generate().unwrap();
        let cases = [
            (rsa_pair, rsa_pem, Algorithm::Rs256),
            (KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(), String::new(), Algorithm::Es256),
            (p384, String::new(), Algorithm::Es384),
            (p256, String::new(), Algorithm::Es256),
        ];
        for (pair, pem, alg) in cases {
            let pem = if pem.is_empty() { pair.serialize_pem() } else { pem };
            let key = SealingKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(key.algorithm(), alg);
            let chain = chain_for(&root, &pair);
            let identity = SealIdentity::new(key, chain.clone()).unwrap();
            let payload = payload();
            let sealed =
                seal(&payload, &identity, at("2026-05-01T10:00:00.750Z"), &mut rand_core::OsRng).unwrap();

            // The shape of EDC's seals, baseline B.
            let obj = sealed.as_object().unwrap();
            assert_eq!(obj.keys().collect::<Vec<_>>(), ["payload", "signatures"]);
            assert_eq!(sealed["payload"], payload, "the payload is the credential's JSON, unencoded");
            let h = header(&sealed);
            let names: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(names, ["alg", "cty", "kid", "x5t#S256", "x5c", "typ", "b64", "sigT", "crit"]);
            assert_eq!(h["alg"], alg.as_str());
            assert_eq!((&h["typ"], &h["cty"]), (&json!("jose+json"), &json!("octet-stream")));
            assert_eq!(h["b64"], false);
            assert_eq!(h["crit"], json!(["b64", "sigT"]));
            assert_eq!(h["sigT"], "2026-05-01T10:00:00Z", "whole seconds");
            assert_eq!(h["x5c"].as_array().unwrap().len(), 2);
            assert_eq!(h["x5c"][0], STANDARD.encode(chain[0].der()));
            assert_eq!(h["x5t#S256"], URL_SAFE_NO_PAD.encode(chain[0].sha256()));
            assert_eq!(h["kid"], STANDARD.encode(chain[0].issuer_serial().unwrap()));

            // Verified by the core's verifier: trusted through the anchor, not without it.
            let result = jades::verify(&sealed, &[anchor(&root)], now, &JsonLimits::default()).unwrap();
            assert_eq!(
                result.anchored(),
                Some("Test CA"),
                "{alg:?}: {:?} {:?}",
                result.signature,
                result.chain
            );
            assert_eq!(result.algorithm, alg);
            assert_eq!(result.payload.unwrap(), serde_json::from_str::<Value>(&payload).unwrap());
            let result = jades::verify(&sealed, &[], now, &JsonLimits::default()).unwrap();
            result.signature.as_ref().unwrap();
            result.certificate.as_ref().unwrap();
            assert!(matches!(result.chain, ChainOutcome::NoAnchor { .. }), "{:?}", result.chain);
            assert_eq!(result.anchored(), None);

            // A byte of the payload changed → broken.
            let mut tampered = sealed.clone();
            tampered["payload"] = payload.replacen("urn:x", "urn:y", 1).into();
            let result = jades::verify(&tampered, &[anchor(&root)], now, &JsonLimits::default()).unwrap();
            let e = result.signature.clone().unwrap_err();
            assert!(e.message.contains("seal broken"), "{}", e.message);
            assert_eq!(result.anchored(), None);
            // The header changed (another signing time) → broken.
            let mut h2 = h.clone();
            h2["sigT"] = "2026-05-02T10:00:00Z".into();
            let mut tampered = sealed.clone();
            tampered["signatures"][0]["protected"] = URL_SAFE_NO_PAD.encode(h2.to_string()).into();
            let result = jades::verify(&tampered, &[anchor(&root)], now, &JsonLimits::default()).unwrap();
            assert_eq!(result.signature.unwrap_err().code, ProblemCode::CryptographicSecurityError);
            // The signature changed → broken.
            let mut tampered = sealed.clone();
            let mut sig =
                URL_SAFE_NO_PAD.decode(sealed["signatures"][0]["signature"].as_str().unwrap()).unwrap();
            sig[5] ^= 0x01;
            tampered["signatures"][0]["signature"] = URL_SAFE_NO_PAD.encode(sig).into();
            let result = jades::verify(&tampered, &[anchor(&root)], now, &JsonLimits::default()).unwrap();
            assert!(result.signature.is_err());
        }
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let root = ca("Test Root");
        let pair = KeyPair::generate().unwrap();
        let chain = chain_for(&root, &pair);
        let other = SealingKey::from_pkcs8_pem(&KeyPair::generate().unwrap().serialize_pem()).unwrap();
        let e = SealIdentity::new(other, chain.clone()).unwrap_err();
        assert!(e.message.contains("is not the key of the seal certificate"), "{}", e.message);
        let (_, rsa_pem) = rsa_key();
        let e = SealIdentity::new(SealingKey::from_pkcs8_pem(&rsa_pem).unwrap(), chain).unwrap_err();
        assert!(e.message.contains("RSA 2048"), "{}", e.message);
    }

    #[test]
    fn unfit_certificates_chains_and_times_are_refused() {
        let root = ca("Test Root");
        let pair = KeyPair::generate().unwrap();
        let key = || SealingKey::from_pkcs8_pem(&pair.serialize_pem()).unwrap();
        // No keyUsage; keyUsage without a signing bit.
        let bare = issue(&root, params("Seal", (2021, 1, 1), (2030, 1, 1)), &pair);
        let e = SealIdentity::new(key(), vec![Certificate::from_der(&bare).unwrap()]).unwrap_err();
        assert!(e.message.contains("keyUsage"), "{}", e.message);
        let mut p = seal_params("Seal");
        p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        let enc = issue(&root, p, &pair);
        let e = SealIdentity::new(key(), vec![Certificate::from_der(&enc).unwrap()]).unwrap_err();
        assert!(e.message.contains("digitalSignature"), "{}", e.message);
        // The chain out of order, or with a stranger in it.
        let chain = chain_for(&root, &pair);
        let reversed: Vec<Certificate> = chain.iter().rev().cloned().collect();
        assert!(SealIdentity::new(key(), reversed).is_err());
        let stranger = Certificate::from_der(&ca("Stranger").der).unwrap();
        let e = SealIdentity::new(key(), vec![chain[0].clone(), stranger]).unwrap_err();
        assert!(e.message.contains("not the issuer"), "{}", e.message);
        assert!(SealIdentity::new(key(), Vec::new()).is_err());
        // The whole chain up to the root is fine too.
        let mut full = chain.clone();
        full.push(Certificate::from_der(&root.der).unwrap());
        let identity = SealIdentity::new(key(), full).unwrap();
        // A signing time outside the validity of a certificate of the chain.
        let e = seal(&payload(), &identity, at("2031-01-01T00:00:00Z"), &mut rand_core::OsRng).unwrap_err();
        assert_eq!(e.code, ProblemCode::ValidityPeriodError);
        assert!(e.message.contains("Test Seal"), "{}", e.message);
        assert!(identity.check_valid_at(at("2020-06-01T00:00:00Z")).is_err());
        identity.check_valid_at(at("2025-06-01T00:00:00Z")).unwrap();
    }

    #[test]
    fn keys_are_read_from_pkcs8_pem_only() {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        let e = |text: &str| SealingKey::from_pkcs8_pem(text).unwrap_err().message;
        let rsa = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pkcs1 = rsa.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(e(&pkcs1).contains("openssl pkcs8 -topk8"), "{}", e(&pkcs1));
        assert!(e("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n").contains("SEC1"));
        assert!(e("-----BEGIN ENCRYPTED PRIVATE KEY-----\n").contains("encrypted"));
        assert!(e("").contains("no PEM private key"));
        assert!(e("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n").contains("malformed"));
        assert!(e("-----BEGIN PRIVATE KEY-----\nAAAA\n").contains("END PRIVATE KEY"));
        let ed = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap().serialize_pem();
        assert!(e(&ed).contains("not supported"), "{}", e(&ed));
        let two = format!("{0}{0}", KeyPair::generate().unwrap().serialize_pem());
        assert!(e(&two).contains("one private key"));
        // Text around the block is allowed; the key prints no secret.
        let key = SealingKey::from_pkcs8_pem(&format!(
            "my seal key\n{}",
            KeyPair::generate().unwrap().serialize_pem()
        ))
        .unwrap();
        assert_eq!(format!("{key:?}"), "SealingKey(P-256, secret)");
    }

    #[test]
    fn chains_are_read_from_pem_and_kid_is_edcs_issuer_serial() {
        let root = ca("Test Root");
        let chain = chain_for(&root, &KeyPair::generate().unwrap());
        let text = format!("seal\n{}intermediate\n{}", chain[0].to_pem(), chain[1].to_pem());
        assert_eq!(Certificate::chain_from_pem(&text).unwrap(), chain);
        assert!(Certificate::chain_from_pem("nothing").is_err());
        let cut = chain[0].to_pem();
        assert!(Certificate::chain_from_pem(cut.get(..cut.len() - 30).unwrap()).is_err());

        // EDC's `kid` is the base64 IssuerSerial of its seal certificate; ours is made the same way.
        let sample: Value =
            serde_json::from_str(&crate::testdata::read("elm/Sample-MC-Annex1-signed.jsonld")).unwrap();
        let protected = sample["signatures"][0]["protected"].as_str().unwrap();
        let h: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
        let leaf = Certificate::from_der(&STANDARD.decode(h["x5c"][0].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(h["kid"], STANDARD.encode(leaf.issuer_serial().unwrap()));
    }
}
