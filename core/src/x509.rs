//! X.509 certificates of seals: parsing, what people are shown of them, signature
//! checks, and the certification path from a seal certificate to the trust list's X.509
//! anchors.
//!
//! Owns [`Certificate`] (one parsed DER certificate), [`PublicKey`] and
//! [`SignatureScheme`] (the signatures a seal or a certificate may carry), and
//! [`build_path`] (leaf → issuers → anchor). [`crate::jades`] uses them for EDC's eIDAS
//! e-seals; the trust list ([`crate::trust`]) holds the anchors.
//!
//! Invariants:
//! - Parsing is DER-strict (the `der` crate: no BER, no trailing bytes) and bounded: a
//!   certificate is at most [`MAX_CERTIFICATE_BYTES`]; an extension that appears twice
//!   is an error. Keys: RSA of 2048 to 8192 bits, ECDSA on P-256 or P-384; any other key
//!   parses but can verify nothing.
//! - Only SHA-2 signatures are checked: `sha256/384/512WithRSAEncryption`, RSASSA-PSS
//!   with SHA-2 and MGF1 of the same hash, `ecdsa-with-SHA256/384/512`. SHA-1, MD5 and
//!   every other algorithm are refused. An anchor's own signature is never checked: an
//!   anchor is trusted because the trust list names it.
//! - A path starts at the leaf; each next certificate is the issuer of the one before
//!   (its subject equals the issuer name, compared as DER) and its key verifies that
//!   certificate's signature. Every issuer has `basicConstraints` cA=true, a `keyUsage`
//!   with keyCertSign, and a `pathLenConstraint` (when present) that the path below it
//!   does not exceed. A certificate that is an anchor (the same DER, or the same subject
//!   and key) ends the path. Anchors are tried before the other certificates; the first
//!   candidate whose signature verifies is taken (no backtracking). At most
//!   [`MAX_PATH`] certificates.
//! - A certificate in the path with a critical extension not understood here (name
//!   constraints, policy constraints, anything unknown) breaks the path: its limits
//!   could not be honoured. Understood: basicConstraints, keyUsage, extKeyUsage (not
//!   enforced), subjectAltName, certificatePolicies (any policy accepted), key
//!   identifiers.
//! - Time is the caller's: [`Certificate::valid_at`] takes the instant. Not here:
//!   revocation (CRL, OCSP), name constraints, policy processing, qualified status.

use std::fmt;

use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use x509_cert::der::asn1::{
    Ia5StringRef, ObjectIdentifier, PrintableStringRef, TeletexStringRef, Utf8StringRef,
};
use x509_cert::der::{
    Any, Decode as _, DecodePem as _, Encode as _, Reader as _, SliceReader, Tag, Tagged as _,
};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::datetime::Timestamp;
use crate::{Error, ProblemCode, Result};

/// Largest certificate accepted, in bytes of DER.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;
/// Most certificates in a path, leaf and anchor included.
pub const MAX_PATH: usize = 8;
/// Smallest and largest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 8192;
/// How much of a name a message quotes.
const NAME_LIMIT: usize = 300;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// X.520 organizationIdentifier (ETSI EN 319 412-1 §5.1.4: `VATES-A00000000`, `NTRBE-…`).
const ORGANIZATION_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const CERTIFICATE_POLICIES: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.32");
const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// Critical extensions this module understands (see the module doc).
const UNDERSTOOD_CRITICAL: [ObjectIdentifier; 7] = [
    BASIC_CONSTRAINTS,
    KEY_USAGE,
    EXT_KEY_USAGE,
    SUBJECT_ALT_NAME,
    CERTIFICATE_POLICIES,
    SUBJECT_KEY_ID,
    AUTHORITY_KEY_ID,
];

/// A SHA-2 hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// The digest's length in bytes.
    pub fn output_size(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }

    fn from_oid(oid: ObjectIdentifier) -> Result<Self> {
        match oid {
            SHA256 => Ok(Hash::Sha256),
            SHA384 => Ok(Hash::Sha384),
            SHA512 => Ok(Hash::Sha512),
            other => Err(unsupported(format!("hash algorithm {other} is not supported (SHA-2 only)"))),
        }
    }
}

/// How a signature is computed over a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(Hash),
    /// RSASSA-PSS with MGF1 of the same hash.
    RsaPss { hash: Hash, salt_len: usize },
    /// ECDSA; `fixed` = the JOSE form (r ‖ s, RFC 7518 §3.4), else DER (X.509).
    Ecdsa { hash: Hash, fixed: bool },
}

/// A public key that can check signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Reads a `SubjectPublicKeyInfo`: RSA (2048–8192 bits) or ECDSA P-256/P-384.
    fn from_spki(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<Self> {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| malformed_certificate("the public key is not a whole number of bytes"))?;
        match spki.algorithm.oid {
            RSA_ENCRYPTION => {
                let key = rsa::pkcs1::RsaPublicKey::from_der(bits)
                    .map_err(|e| malformed_certificate(format!("the RSA public key is malformed: {e}")))?;
                let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
                let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
                let key = rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
                    .map_err(|e| unsupported(format!("the RSA public key is not usable: {e}")))?;
                let size = key.n().bits();
                if size < MIN_RSA_BITS {
                    return Err(unsupported(format!(
                        "an RSA key of {size} bits is too weak (at least {MIN_RSA_BITS})"
                    )));
                }
                Ok(PublicKey::Rsa(key))
            }
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .ok_or_else(|| malformed_certificate("the EC public key names no curve"))?;
                match curve {
                    P256_CURVE => {
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map(PublicKey::P256).map_err(|_| {
                            malformed_certificate("the P-256 public key is not a point on the curve")
                        })
                    }
                    P384_CURVE => {
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(bits).map(PublicKey::P384).map_err(|_| {
                            malformed_certificate("the P-384 public key is not a point on the curve")
                        })
                    }
                    other => {
                        Err(unsupported(format!("EC curve {other} is not supported (P-256, P-384 only)")))
                    }
                }
            }
            other => Err(unsupported(format!(
                "public key algorithm {other} is not supported (RSA, ECDSA P-256/P-384 only)"
            ))),
        }
    }

    /// A short description: `RSA 2048`, `P-256`.
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA {}", k.n().bits()),
            PublicKey::P256(_) => "P-256".to_owned(),
            PublicKey::P384(_) => "P-384".to_owned(),
        }
    }

    /// Checks `signature` over `message` with this key. The key type must fit the scheme.
    pub fn verify(&self, scheme: SignatureScheme, message: &[u8], signature: &[u8]) -> Result<()> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        let mismatch = || {
            Err(Error::new(
                ProblemCode::CryptographicSecurityError,
                "the signature does not match the signed data for this key",
            ))
        };
        match (self, scheme) {
            (PublicKey::Rsa(key), SignatureScheme::RsaPkcs1(hash)) => {
                let padding = match hash {
                    Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
                };
                key.verify(padding, &hash.digest(message), signature).or_else(|_| mismatch())
            }
            (PublicKey::Rsa(key), SignatureScheme::RsaPss { hash, salt_len }) => {
                let padding = match hash {
                    Hash::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt_len),
                    Hash::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt_len),
                    Hash::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt_len),
                };
                key.verify(padding, &hash.digest(message), signature).or_else(|_| mismatch())
            }
            (PublicKey::P256(key), SignatureScheme::Ecdsa { hash, fixed }) => {
                let sig = if fixed {
                    p256::ecdsa::Signature::from_slice(signature)
                } else {
                    p256::ecdsa::Signature::from_der(signature)
                };
                match sig {
                    Ok(sig) => key.verify_prehash(&hash.digest(message), &sig).or_else(|_| mismatch()),
                    Err(_) => mismatch(),
                }
            }
            (PublicKey::P384(key), SignatureScheme::Ecdsa { hash, fixed }) => {
                let sig = if fixed {
                    p384::ecdsa::Signature::from_slice(signature)
                } else {
                    p384::ecdsa::Signature::from_der(signature)
                };
                match sig {
                    Ok(sig) => key.verify_prehash(&hash.digest(message), &sig).or_else(|_| mismatch()),
                    Err(_) => mismatch(),
                }
            }
            (key, scheme) => Err(Error::new(
                ProblemCode::InvalidVerificationMethod,
                format!("a {} key cannot check a {scheme:?} signature", key.describe()),
            )),
        }
    }
}

/// One X.509 certificate, parsed and checked for shape (not for trust).
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// The `tbsCertificate` bytes exactly as received: what the issuer signed.
    tbs: Vec<u8>,
    inner: x509_cert::Certificate,
    key: Result<PublicKey, Error>,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    /// Critical extensions not understood here (see the module doc).
    unknown_critical: Vec<ObjectIdentifier>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!(
                    "a certificate of {} bytes is larger than the {MAX_CERTIFICATE_BYTES} allowed",
                    der.len()
                ),
            ));
        }
        let inner = x509_cert::Certificate::from_der(der)
            .map_err(|e| malformed_certificate(format!("not a DER X.509 certificate: {e}")))?;
        let tbs = tbs_bytes(der)?;
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        let mut unknown_critical = Vec::new();
        let mut basic_constraints = None;
        let mut key_usage = None;
        for extension in inner.tbs_certificate.extensions.as_deref().unwrap_or_default() {
            if seen.contains(&extension.extn_id) {
                return Err(malformed_certificate(format!(
                    "the extension {} appears twice (RFC 5280 §4.2)",
                    extension.extn_id
                )));
            }
            seen.push(extension.extn_id);
            let value = extension.extn_value.as_bytes();
            match extension.extn_id {
                BASIC_CONSTRAINTS => {
                    basic_constraints = Some(BasicConstraints::from_der(value).map_err(|e| {
                        malformed_certificate(format!("the basicConstraints extension is malformed: {e}"))
                    })?);
                }
                KEY_USAGE => {
                    key_usage = Some(KeyUsage::from_der(value).map_err(|e| {
                        malformed_certificate(format!("the keyUsage extension is malformed: {e}"))
                    })?);
                }
                oid if extension.critical && !UNDERSTOOD_CRITICAL.contains(&oid) => {
                    unknown_critical.push(oid)
                }
                _ => {}
            }
        }
        let key = PublicKey::from_spki(&inner.tbs_certificate.subject_public_key_info);
        Ok(Self { der: der.to_vec(), tbs, inner, key, basic_constraints, key_usage, unknown_critical })
    }

    /// Parses one PEM certificate (`-----BEGIN CERTIFICATE-----`). Text around the block
    /// (explanations, RFC 7468 §5.2) is allowed; more than one certificate is an error.
    pub fn from_pem(text: &str) -> Result<Self> {
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let start = text
            .find(BEGIN)
            .ok_or_else(|| malformed_certificate(format!("no PEM certificate ({BEGIN}) found")))?;
        let rest = text.get(start..).unwrap_or_default();
        let end = rest
            .find(END)
            .map(|e| e + END.len())
            .ok_or_else(|| malformed_certificate(format!("the PEM certificate has no {END} line")))?;
        let block = rest.get(..end).unwrap_or_default();
        if rest.get(end..).unwrap_or_default().contains(BEGIN) {
            return Err(malformed_certificate(
                "more than one PEM certificate: give one certificate per anchor",
            ));
        }
        let parsed = x509_cert::Certificate::from_pem(block.as_bytes())
            .map_err(|e| malformed_certificate(format!("the PEM certificate is malformed: {e}")))?;
        let der = parsed
            .to_der()
            .map_err(|e| malformed_certificate(format!("cannot re-read the certificate: {e}")))?;
        Self::from_der(&der)
    }

    /// The certificate in PEM.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Parses a PEM certificate chain: every `-----BEGIN CERTIFICATE-----` block of
    /// `text`, in order (for a seal: the leaf first, then its issuers). Text between the
    /// blocks is allowed; at least one and at most [`MAX_PATH`] certificates.
    pub fn chain_from_pem(text: &str) -> Result<Vec<Self>> {
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let mut chain = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let from = rest.get(start..).unwrap_or_default();
            let end = from.find(END).map(|e| e + END.len()).ok_or_else(|| {
                malformed_certificate(format!("certificate {} has no {END} line", chain.len() + 1))
            })?;
            if chain.len() == MAX_PATH {
                return Err(Error::new(
                    ProblemCode::ResourceLimitExceeded,
                    format!("more than {MAX_PATH} certificates in the chain"),
                ));
            }
            let block = from.get(..end).unwrap_or_default();
            let certificate = Self::from_pem(block)
                .map_err(|e| Error::new(e.code, format!("certificate {}: {}", chain.len() + 1, e.message)))?;
            chain.push(certificate);
            rest = from.get(end..).unwrap_or_default();
        }
        if chain.is_empty() {
            return Err(malformed_certificate(format!("no PEM certificate ({BEGIN}) found")));
        }
        Ok(chain)
    }

    /// The DER of this certificate's RFC 5035 `IssuerSerial`: `SEQUENCE { issuer
    /// GeneralNames (one directoryName), serialNumber }`, whose base64 JAdES puts in
    /// `kid` (ETSI TS 119 182-1 §5.1.4), as EDC does.
    pub fn issuer_serial(&self) -> Result<Vec<u8>> {
        use x509_cert::der::{Header, Length};
        use x509_cert::ext::pkix::name::GeneralName;
        let tbs = &self.inner.tbs_certificate;
        let encoding =
            |e: x509_cert::der::Error| malformed_certificate(format!("cannot encode IssuerSerial: {e}"));
        let names = vec![GeneralName::DirectoryName(tbs.issuer.clone())];
        let mut body = names.to_der().map_err(encoding)?;
        body.extend(tbs.serial_number.to_der().map_err(encoding)?);
        let length = Length::try_from(body.len()).map_err(encoding)?;
        let mut out = Header::new(Tag::Sequence, length).and_then(|h| h.to_der()).map_err(encoding)?;
        out.extend(body);
        Ok(out)
    }

    /// SHA-256 of the DER (the `x5t#S256` thumbprint).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// The subject as an RFC 4514 string (`CN=TEST SEAL,O=...`), bounded in length.
    pub fn subject(&self) -> String {
        bounded(self.inner.tbs_certificate.subject.to_string())
    }

    /// The issuer's name as an RFC 4514 string, bounded in length.
    pub fn issuer(&self) -> String {
        bounded(self.inner.tbs_certificate.issuer.to_string())
    }

    /// The subject's first common name (CN), if it has one.
    pub fn common_name(&self) -> Option<String> {
        attribute(&self.inner.tbs_certificate.subject, COMMON_NAME)
    }

    /// The subject's first organisation (O), if it has one.
    pub fn organisation(&self) -> Option<String> {
        attribute(&self.inner.tbs_certificate.subject, ORGANIZATION)
    }

    /// The subject's organizationIdentifier (2.5.4.97), the legal person's registered
    /// identifier an eIDAS seal certificate carries, if it has one.
    pub fn organization_identifier(&self) -> Option<String> {
        attribute(&self.inner.tbs_certificate.subject, ORGANIZATION_IDENTIFIER)
    }

    /// Who the certificate names, for people: `Organisation (Common Name)`, else one of
    /// them, else the whole subject.
    pub fn holder(&self) -> String {
        for_people(&self.inner.tbs_certificate.subject)
    }

    /// The issuer's name for people, as [`Certificate::holder`] writes a subject.
    pub fn issuer_for_people(&self) -> String {
        for_people(&self.inner.tbs_certificate.issuer)
    }

    pub fn not_before(&self) -> Timestamp {
        time(self.inner.tbs_certificate.validity.not_before)
    }

    pub fn not_after(&self) -> Timestamp {
        time(self.inner.tbs_certificate.validity.not_after)
    }

    /// Whether `at` lies within the validity period (both ends included, RFC 5280 §4.1.2.5).
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// The subject's public key, or why it cannot be used.
    pub fn public_key(&self) -> Result<&PublicKey> {
        self.key.as_ref().map_err(Clone::clone)
    }

    /// Whether the key may make signatures over documents: keyUsage present with
    /// digitalSignature or nonRepudiation (contentCommitment), as a seal needs.
    pub fn check_signing_usage(&self) -> Result<()> {
        match &self.key_usage {
            Some(ku) if ku.digital_signature() || ku.non_repudiation() => Ok(()),
            Some(_) => Err(usage(format!(
                "the certificate of {} does not allow signatures: its keyUsage has neither \
                 digitalSignature nor nonRepudiation",
                self.holder()
            ))),
            None => Err(usage(format!(
                "the certificate of {} has no keyUsage extension: nothing says its key may seal",
                self.holder()
            ))),
        }
    }

    /// Whether this certificate may issue certificates with `below` CA certificates
    /// between it and the leaf: cA=true, keyCertSign, pathLenConstraint ≥ `below`.
    fn check_issuer_constraints(&self, below: usize) -> Result<()> {
        let who = self.subject();
        match &self.basic_constraints {
            Some(bc) if bc.ca => {
                if let Some(limit) = bc.path_len_constraint {
                    if below > usize::from(limit) {
                        return Err(chain(format!(
                            "{who} allows {limit} intermediate CA certificate(s) below it, the path has {below}"
                        )));
                    }
                }
            }
            _ => {
                return Err(chain(format!(
                    "{who} issued a certificate but is not a CA (basicConstraints cA)"
                )))
            }
        }
        match &self.key_usage {
            Some(ku) if ku.key_cert_sign() => Ok(()),
            _ => Err(chain(format!("{who} issued a certificate but its keyUsage lacks keyCertSign"))),
        }
    }

    fn check_known_critical(&self) -> Result<()> {
        match self.unknown_critical.first() {
            None => Ok(()),
            Some(oid) => Err(chain(format!(
                "{} has a critical extension {oid} that this verifier does not process",
                self.subject()
            ))),
        }
    }

    /// Whether `issuer` signed this certificate (its key verifies the signature).
    fn check_signed_by(&self, issuer: &Certificate) -> Result<()> {
        let scheme = signature_scheme(&self.inner.signature_algorithm)?;
        if self.inner.signature_algorithm != self.inner.tbs_certificate.signature {
            return Err(malformed_certificate(
                "the signature algorithm differs inside and outside the signed part (RFC 5280 §4.1.1.2)",
            ));
        }
        let signature = self
            .inner
            .signature
            .as_bytes()
            .ok_or_else(|| malformed_certificate("the signature is not a whole number of bytes"))?;
        issuer.public_key()?.verify(scheme, &self.tbs, signature).map_err(|_| {
            chain(format!(
                "the signature on {} does not verify with the key of {}",
                self.subject(),
                issuer.subject()
            ))
        })
    }

    fn issued_by_name(&self, issuer: &Certificate) -> bool {
        self.inner.tbs_certificate.issuer == issuer.inner.tbs_certificate.subject
    }

    fn self_issued(&self) -> bool {
        self.issued_by_name(self)
    }

    /// The same certificate, or the same subject with the same key (a re-issued anchor).
    fn same_as(&self, other: &Certificate) -> bool {
        self.der == other.der
            || self.inner.tbs_certificate.subject == other.inner.tbs_certificate.subject
                && self.inner.tbs_certificate.subject_public_key_info
                    == other.inner.tbs_certificate.subject_public_key_info
    }
}

impl fmt::Display for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.subject())
    }
}

/// A trusted certificate and the name the trust list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub name: String,
    pub certificate: Certificate,
}

/// How a path ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathOutcome {
    /// It reached the anchor of this name.
    Anchored { anchor: String },
    /// Every signature in it held, but no anchor matched; `last_issuer` names, for people,
    /// the issuer that could not be found (or the self-signed root that is not an anchor).
    NoAnchor { last_issuer: String },
    /// A signature, a constraint or a limit failed.
    Broken(Error),
}

/// A certification path and how it ended.
#[derive(Debug, Clone)]
pub struct CertificationPath<'a> {
    /// Leaf first; the anchor's certificate last when anchored.
    pub certificates: Vec<&'a Certificate>,
    pub outcome: PathOutcome,
}

/// Builds the path from `leaf` through `intermediates` (in any order) to one of
/// `anchors`, checking each signature and each issuer's constraints (see the module
/// doc). Validity periods are the caller's to check, on [`CertificationPath::certificates`].
pub fn build_path<'a>(
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    anchors: &'a [Anchor],
) -> CertificationPath<'a> {
    let mut certificates = vec![leaf];
    let outcome = walk(leaf, intermediates, anchors, &mut certificates);
    CertificationPath { certificates, outcome }
}

fn walk<'a>(
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    anchors: &'a [Anchor],
    path: &mut Vec<&'a Certificate>,
) -> PathOutcome {
    let mut current = leaf;
    loop {
        if let Err(e) = current.check_known_critical() {
            return PathOutcome::Broken(e);
        }
        if let Some(anchor) = anchors.iter().find(|a| a.certificate.same_as(current)) {
            return PathOutcome::Anchored { anchor: anchor.name.clone() };
        }
        if path.len() >= MAX_PATH {
            return PathOutcome::Broken(chain(format!(
                "the certificate path is longer than the {MAX_PATH} certificates allowed"
            )));
        }
        // CA certificates between the next issuer and the leaf.
        let below = path.len().saturating_sub(1);
        let mut last_error = None;
        for anchor in anchors.iter().filter(|a| current.issued_by_name(&a.certificate)) {
            let checked = anchor
                .certificate
                .check_issuer_constraints(below)
                .and_then(|()| anchor.certificate.check_known_critical())
                .and_then(|()| current.check_signed_by(&anchor.certificate));
            match checked {
                Ok(()) => {
                    path.push(&anchor.certificate);
                    return PathOutcome::Anchored { anchor: anchor.name.clone() };
                }
                Err(e) => last_error = Some(e),
            }
        }
        let mut next = None;
        for candidate in intermediates.iter().filter(|c| current.issued_by_name(c) && !path.contains(c)) {
            let checked =
                candidate.check_issuer_constraints(below).and_then(|()| current.check_signed_by(candidate));
            match checked {
                Ok(()) => {
                    next = Some(candidate);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match (next, last_error) {
            (Some(issuer), _) => {
                path.push(issuer);
                current = issuer;
            }
            (None, Some(e)) => return PathOutcome::Broken(e),
            (None, None) => {
                let last_issuer = if current.self_issued() {
                    format!("{} (self-signed)", current.holder())
                } else {
                    current.issuer_for_people()
                };
                return PathOutcome::NoAnchor { last_issuer };
            }
        }
    }
}

/// The scheme of a certificate's `signatureAlgorithm`.
fn signature_scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<SignatureScheme> {
    let ecdsa = |hash| Ok(SignatureScheme::Ecdsa { hash, fixed: false });
    match algorithm.oid {
        SHA256_WITH_RSA => Ok(SignatureScheme::RsaPkcs1(Hash::Sha256)),
        SHA384_WITH_RSA => Ok(SignatureScheme::RsaPkcs1(Hash::Sha384)),
        SHA512_WITH_RSA => Ok(SignatureScheme::RsaPkcs1(Hash::Sha512)),
        ECDSA_SHA256 => ecdsa(Hash::Sha256),
        ECDSA_SHA384 => ecdsa(Hash::Sha384),
        ECDSA_SHA512 => ecdsa(Hash::Sha512),
        RSASSA_PSS => pss_scheme(algorithm.parameters.as_ref()),
        other => Err(unsupported(format!(
            "certificate signature algorithm {other} is not supported (RSA or ECDSA with SHA-2 only)"
        ))),
    }
}

/// RSASSA-PSS parameters (RFC 4055 §3.1): SHA-2, MGF1 with the same hash, trailer 1.
fn pss_scheme(parameters: Option<&Any>) -> Result<SignatureScheme> {
    let parameters = parameters.ok_or_else(|| unsupported("RSASSA-PSS without parameters means SHA-1"))?;
    let encoded =
        parameters.to_der().map_err(|e| malformed_certificate(format!("RSASSA-PSS parameters: {e}")))?;
    let params = rsa::pkcs1::RsaPssParams::from_der(&encoded)
        .map_err(|e| malformed_certificate(format!("RSASSA-PSS parameters are malformed: {e}")))?;
    let hash = Hash::from_oid(params.hash.oid)?;
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if params.mask_gen.oid != MGF1 || mgf_hash.map(Hash::from_oid).transpose()? != Some(hash) {
        return Err(unsupported("RSASSA-PSS must use MGF1 with the same hash as the signature"));
    }
    if params.trailer_field != rsa::pkcs1::TrailerField::BC {
        return Err(unsupported("RSASSA-PSS trailer field other than 1"));
    }
    Ok(SignatureScheme::RsaPss { hash, salt_len: usize::from(params.salt_len) })
}

/// The `tbsCertificate` element of `der`, byte for byte.
fn tbs_bytes(der: &[u8]) -> Result<Vec<u8>> {
    let read = || -> x509_cert::der::Result<Vec<u8>> {
        let outer = x509_cert::der::asn1::AnyRef::from_der(der)?;
        let mut reader = SliceReader::new(outer.value())?;
        let tbs: x509_cert::der::asn1::AnyRef<'_> = reader.decode()?;
        if tbs.tag() != Tag::Sequence {
            return Err(Tag::Sequence.value_error());
        }
        tbs.to_der()
    };
    read().map_err(|e| malformed_certificate(format!("cannot find the signed part of the certificate: {e}")))
}

fn for_people(name: &Name) -> String {
    match (attribute(name, ORGANIZATION), attribute(name, COMMON_NAME)) {
        (Some(o), Some(cn)) if o != cn => format!("{o} ({cn})"),
        (Some(o), _) => o,
        (None, Some(cn)) => cn,
        (None, None) => bounded(name.to_string()),
    }
}

fn attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| text_of(&atv.value))
        .map(bounded)
}

fn text_of(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(value).ok().map(|s| s.as_str().to_owned()),
        Tag::PrintableString => PrintableStringRef::try_from(value).ok().map(|s| s.as_str().to_owned()),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok().map(|s| s.as_str().to_owned()),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok().map(|s| s.as_str().to_owned()),
        _ => None,
    }
}

fn bounded(text: String) -> String {
    if text.chars().count() <= NAME_LIMIT {
        return text;
    }
    let mut cut: String = text.chars().take(NAME_LIMIT).collect();
    cut.push('…');
    cut
}

fn time(t: x509_cert::time::Time) -> Timestamp {
    Timestamp::from_unix(i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}

fn malformed_certificate(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::MalformedValueError, format!("X.509: {}", message.into()))
}

fn unsupported(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

fn usage(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

fn chain(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rcgen::{BasicConstraints as Bc, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

    /// A test CA made at run time.
    pub struct TestCa {
        pub key: KeyPair,
        pub params: CertificateParams,
        pub der: Vec<u8>,
    }

    pub fn params(cn: &str, from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.distinguished_name.push(DnType::OrganizationName, format!("{cn} Org"));
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        p
    }

    pub fn ca(cn: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut p = params(cn, (2020, 1, 1), (2040, 1, 1));
        p.is_ca = IsCa::Ca(Bc::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let der = p.clone().self_signed(&key).unwrap().der().to_vec();
        TestCa { key, params: p, der }
    }

    /// A certificate for `key` issued by `ca` (the issuer is rebuilt from its params and key,
    /// so its name and key are the CA's).
    pub fn issue(ca: &TestCa, params: CertificateParams, key: &KeyPair) -> Vec<u8> {
        let issuer = ca.params.clone().self_signed(&ca.key).unwrap();
        params.signed_by(key, &issuer, &ca.key).unwrap().der().to_vec()
    }

    pub fn seal_params(cn: &str) -> CertificateParams {
        let mut p = params(cn, (2021, 1, 1), (2030, 1, 1));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        // rcgen writes extensions only when one of a few others is asked for.
        p.is_ca = IsCa::ExplicitNoCa;
        p
    }

    fn anchor(name: &str, der: &[u8]) -> Anchor {
        Anchor { name: name.into(), certificate: Certificate::from_der(der).unwrap() }
    }

    #[test]
    fn a_leaf_chains_through_an_intermediate_to_an_anchor() {
        let root = ca("Root");
        let inter_key = KeyPair::generate().unwrap();
        let mut ip = params("Intermediate", (2020, 1, 1), (2035, 1, 1));
        ip.is_ca = IsCa::Ca(Bc::Constrained(0));
        ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let inter = TestCa { der: issue(&root, ip.clone(), &inter_key), key: inter_key, params: ip };
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = Certificate::from_der(&issue(&inter, seal_params("Seal"), &leaf_key)).unwrap();
        assert_eq!(leaf.common_name().as_deref(), Some("Seal"));
        assert_eq!(leaf.holder(), "Seal Org (Seal)");
        leaf.check_signing_usage().unwrap();

        let pool = vec![Certificate::from_der(&inter.der).unwrap()];
        let anchors = vec![anchor("Test root", &root.der)];
        let path = build_path(&leaf, &pool, &anchors);
        assert_eq!(path.outcome, PathOutcome::Anchored { anchor: "Test root".into() });
        assert_eq!(path.certificates.len(), 3);
        // The intermediate itself may be the anchor.
        let anchors = vec![anchor("Inter", &inter.der)];
        let path = build_path(&leaf, &[], &anchors);
        assert_eq!(path.outcome, PathOutcome::Anchored { anchor: "Inter".into() });
        // Without the intermediate, the root cannot be reached.
        let outcome = build_path(&leaf, &[], &[anchor("Test root", &root.der)]).outcome;
        assert!(
            matches!(outcome, PathOutcome::NoAnchor { ref last_issuer } if last_issuer.contains("Intermediate"))
        );
        // A stranger with the root's name but another key is a forgery of the root.
        let mut fake_params = root.params.clone();
        fake_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let fake_key = KeyPair::generate().unwrap();
        let fake = fake_params.self_signed(&fake_key).unwrap().der().to_vec();
        let outcome = build_path(&leaf, &pool, &[anchor("Fake root", &fake)]).outcome;
        assert!(matches!(outcome, PathOutcome::Broken(_)), "{outcome:?}");
    }

    #[test]
    fn issuers_must_be_cas_with_key_cert_sign_and_path_lengths_hold() {
        let root = ca("Root");
        // Not a CA at all.
        let key = KeyPair::generate().unwrap();
        let p = seal_params("Not a CA");
        let not_ca = TestCa { der: issue(&root, p.clone(), &key), key, params: p };
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = Certificate::from_der(&issue(&not_ca, seal_params("Seal"), &leaf_key)).unwrap();
        let pool = vec![Certificate::from_der(&not_ca.der).unwrap()];
        let outcome = build_path(&leaf, &pool, &[anchor("Root", &root.der)]).outcome;
        match outcome {
            PathOutcome::Broken(e) => assert!(e.message.contains("not a CA"), "{}", e.message),
            other => panic!("{other:?}"),
        }
        // pathLen 0 at the root, with an intermediate below it.
        let mut rp = params("Tight root", (2020, 1, 1), (2040, 1, 1));
        rp.is_ca = IsCa::Ca(Bc::Constrained(0));
        rp.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let rkey = KeyPair::generate().unwrap();
        let tight =
            TestCa { der: rp.clone().self_signed(&rkey).unwrap().der().to_vec(), key: rkey, params: rp };
        let ikey = KeyPair::generate().unwrap();
        let mut ip = params("Inter", (2020, 1, 1), (2040, 1, 1));
        ip.is_ca = IsCa::Ca(Bc::Unconstrained);
        ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let inter = TestCa { der: issue(&tight, ip.clone(), &ikey), key: ikey, params: ip };
        let leaf = Certificate::from_der(&issue(&inter, seal_params("Seal"), &leaf_key)).unwrap();
        let pool = vec![Certificate::from_der(&inter.der).unwrap()];
        let outcome = build_path(&leaf, &pool, &[anchor("Tight", &tight.der)]).outcome;
        match outcome {
            PathOutcome::Broken(e) => assert!(e.message.contains("intermediate"), "{}", e.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sample_seal_certificate_reads_and_its_ca_signed_it() {
        let pem = crate::testdata::read("elm/anf-eseal-ca.pem");
        let ca = Certificate::from_pem(&pem).unwrap();
        assert_eq!(ca.common_name().as_deref(), Some("ANF AC Qualified Certificates for eSeal"));
        assert!(matches!(ca.public_key().unwrap(), PublicKey::Rsa(_)));
        assert_eq!(Certificate::from_pem(&ca.to_pem()).unwrap(), ca);
        assert!(Certificate::from_pem(&format!("{pem}{pem}")).is_err());
        assert!(Certificate::from_pem("no certificate").is_err());
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let root = ca("Root");
        for cut in (0..root.der.len()).step_by(7) {
            assert!(Certificate::from_der(root.der.get(..cut).unwrap()).is_err());
        }
        let mut flipped = root.der.clone();
        for i in (0..flipped.len()).step_by(3) {
            flipped[i] ^= 0x41;
            let _ =
                Certificate::from_der(&flipped).map(|c| (c.subject(), c.holder(), c.check_signing_usage()));
            flipped[i] ^= 0x41;
        }
        assert!(Certificate::from_der(&vec![0x30; MAX_CERTIFICATE_BYTES + 1]).is_err());
        assert!(Certificate::from_der(&[]).is_err());
    }
}
