//! JOSE securing of credentials and presentations (VC-JOSE-COSE §3.1): compact JWS with
//! Ed25519, media types `application/vc+jwt` and `application/vp+jwt`, and Ed25519 JWKs.
//!
//! Invariants:
//! - Only `alg` `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864) exist here. `none`, HMAC, RSA,
//!   ECDSA and every other value are refused while the header is decoded, before any key is
//!   looked at. Signatures are checked with `verify_strict`, and weak (small-order) public
//!   keys are refused.
//! - Decoding is strict: exactly three segments, unpadded base64url with canonical trailing
//!   bits, a 64-byte signature, a protected header that is a JSON object without duplicate
//!   member names (parsed with [`crate::json::parse`]). `crit` may only name `b64`, and
//!   `b64: false` (RFC 7797 unencoded payload) is refused. Detached payloads are refused.
//! - `typ` and `cty` are optional; when present they must name a credential or
//!   presentation, compared case-insensitively with the `application/` prefix optional
//!   (RFC 7515 §4.1.9): `typ` one of `vc+jwt`, `vp+jwt`, `vc+ld+jwt`, `vp+ld+jwt` (so the
//!   generic `JWT` is refused), `cty` one of `vc`, `vp`, `vc+ld+json`, `vp+ld+json`; both
//!   must name the same kind of document. Other header members are ignored (VC-JOSE-COSE:
//!   members not understood MUST be ignored); in particular `jwk`, `jku`, `x5u` and `x5c`
//!   are never used to find a key: the caller resolves the key, typically from `kid`.
//! - The payload IS the credential or presentation: a JSON object whose `type` names
//!   exactly one of `VerifiableCredential` / `VerifiablePresentation`, agreeing with the
//!   header. The claims `vc` and `vp` are refused. `iss`, when present, must equal
//!   `issuer` (or `issuer.id`) of a credential, or `holder` (or `holder.id`) of a
//!   presentation that has a holder. `exp`, `nbf` and `iat`, when present, must be numbers
//!   (RFC 7519 NumericDate). [`sign_compact`] applies the same rules, so we never issue
//!   what we would refuse.
//! - Time is the caller's: [`check_time_claims`] takes `now` and applies no leeway.
//!
//! Verification order for a caller: [`decode_compact`] (never verifies), resolve the key
//! from [`Decoded::header`]'s `kid`, [`verify_compact`], then [`secured_document`] and
//! [`check_time_claims`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::json::{self, JsonLimits};
use crate::{Error, ProblemCode, Result};

/// The JWS algorithms this module signs and verifies with: both mean Ed25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// `EdDSA` with an OKP `Ed25519` key (RFC 8037 §3.1), the value most software uses.
    EdDsa,
    /// `Ed25519`, the fully specified algorithm identifier (RFC 9864).
    Ed25519,
}

impl JwsAlgorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// Reads an `alg` value (case-sensitive, RFC 7515 §4.1.1), refusing every other one.
    pub fn parse(alg: &str) -> Result<Self> {
        match alg {
            "EdDSA" => Ok(Self::EdDsa),
            "Ed25519" => Ok(Self::Ed25519),
            "none" => Err(verification(
                "JWS alg \"none\" marks an unsecured JWT, which VC-JOSE-COSE requires \
                 verifiers to ignore; only EdDSA and Ed25519 are accepted",
            )),
            other => Err(verification(format!(
                "JWS alg {other:?} is not supported: only EdDSA (RFC 8037) and Ed25519 \
                 (RFC 9864) are accepted"
            ))),
        }
    }
}

/// Whether a JWS secures a verifiable credential or a verifiable presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Credential,
    Presentation,
}

impl DocumentKind {
    /// The media type of the secured document (`application/vc+jwt`, `application/vp+jwt`).
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Credential => "application/vc+jwt",
            Self::Presentation => "application/vp+jwt",
        }
    }

    /// The `typ` header value VC-JOSE-COSE recommends.
    pub fn typ(self) -> &'static str {
        match self {
            Self::Credential => "vc+jwt",
            Self::Presentation => "vp+jwt",
        }
    }

    /// The `cty` header value VC-JOSE-COSE recommends.
    pub fn cty(self) -> &'static str {
        match self {
            Self::Credential => "vc",
            Self::Presentation => "vp",
        }
    }

    /// The `type` value the payload must carry (VCDM 2.0 §4.5).
    fn type_name(self) -> &'static str {
        match self {
            Self::Credential => "VerifiableCredential",
            Self::Presentation => "VerifiablePresentation",
        }
    }
}

/// Accepted `typ` values, without the optional `application/` prefix.
const TYP_VALUES: [(&str, DocumentKind); 4] = [
    ("vc+jwt", DocumentKind::Credential),
    ("vp+jwt", DocumentKind::Presentation),
    ("vc+ld+jwt", DocumentKind::Credential),
    ("vp+ld+jwt", DocumentKind::Presentation),
];

/// Accepted `cty` values, without the optional `application/` prefix.
const CTY_VALUES: [(&str, DocumentKind); 4] = [
    ("vc", DocumentKind::Credential),
    ("vp", DocumentKind::Presentation),
    ("vc+ld+json", DocumentKind::Credential),
    ("vp+ld+json", DocumentKind::Presentation),
];

/// The JWS protected header members this module reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    pub alg: JwsAlgorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub cty: Option<String>,
}

impl JwsHeader {
    /// The header VC-JOSE-COSE recommends for `kind`: `alg` EdDSA, `kid`, `typ`, `cty`.
    pub fn for_document(kind: DocumentKind, kid: Option<String>) -> Self {
        Self {
            alg: JwsAlgorithm::EdDsa,
            kid,
            typ: Some(kind.typ().to_owned()),
            cty: Some(kind.cty().to_owned()),
        }
    }

    /// The kind of document `typ` and `cty` name (`None` when both are absent); refuses
    /// values outside the accepted lists and a `typ` and `cty` that disagree.
    pub fn document_kind(&self) -> Result<Option<DocumentKind>> {
        let typ = match &self.typ {
            Some(typ) => Some(kind_of_media_type("typ", typ, &TYP_VALUES)?),
            None => None,
        };
        let cty = match &self.cty {
            Some(cty) => Some(kind_of_media_type("cty", cty, &CTY_VALUES)?),
            None => None,
        };
        match (typ, cty) {
            (Some(t), Some(c)) if t != c => Err(verification(format!(
                "JWS header typ {:?} names a {} but cty {:?} names a {}",
                self.typ.as_deref().unwrap_or_default(),
                t.type_name(),
                self.cty.as_deref().unwrap_or_default(),
                c.type_name()
            ))),
            (t, c) => Ok(t.or(c)),
        }
    }

    /// The header as compact JSON, members in the order `alg`, `kid`, `typ`, `cty`.
    fn to_json(&self) -> Result<Vec<u8>> {
        let mut map = Map::with_capacity(4);
        map.insert("alg".to_owned(), Value::from(self.alg.as_str()));
        for (name, value) in [("kid", &self.kid), ("typ", &self.typ), ("cty", &self.cty)] {
            if let Some(value) = value {
                map.insert(name.to_owned(), Value::from(value.as_str()));
            }
        }
        serde_json::to_vec(&Value::Object(map))
            .map_err(|e| generation(format!("cannot serialize the JWS header: {e}")))
    }
}

/// A compact JWS taken apart and checked for form, but NOT verified.
///
/// Invariant: the header passed every rule in the module documentation; the signature is
/// 64 bytes; `signing_input` is the exact `header.payload` text of the input.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    header: JwsHeader,
    header_json: Map<String, Value>,
    kind: Option<DocumentKind>,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Signature,
}

impl<'a> Decoded<'a> {
    /// The protected header members this module understands.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The whole protected header, including members this module ignores.
    pub fn header_json(&self) -> &Map<String, Value> {
        &self.header_json
    }

    /// The document kind `typ`/`cty` name, if either is present.
    pub fn header_kind(&self) -> Option<DocumentKind> {
        self.kind
    }

    /// The decoded payload bytes (not yet parsed: see [`secured_document`]).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The ASCII `BASE64URL(header) || '.' || BASE64URL(payload)` that was signed.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }
}

/// A verified JWS's payload: the credential or presentation it secures.
#[derive(Debug, Clone, PartialEq)]
pub struct SecuredDocument {
    pub kind: DocumentKind,
    pub document: Value,
}

/// Signs `payload` (a credential or presentation) as a compact JWS.
///
/// The payload and header must pass the same rules verification applies (see the module
/// documentation); anything else is refused with `PROOF_GENERATION_ERROR`.
pub fn sign_compact(payload: &Value, header: &JwsHeader, key: &SigningKey) -> Result<String> {
    let header_kind = header.document_kind().map_err(as_generation)?;
    check_document(payload, header_kind).map_err(as_generation)?;
    let bytes = serde_json::to_vec(payload)
        .map_err(|e| generation(format!("cannot serialize the JWS payload: {e}")))?;
    sign_compact_bytes(&bytes, header, key)
}

/// Signs arbitrary payload bytes as a compact JWS (RFC 7515 §7.1). Ed25519 is
/// deterministic, so equal inputs give byte-identical output. Only the header is checked:
/// use [`sign_compact`] for credentials and presentations.
pub fn sign_compact_bytes(payload: &[u8], header: &JwsHeader, key: &SigningKey) -> Result<String> {
    header.document_kind().map_err(as_generation)?;
    if payload.is_empty() {
        return Err(generation("cannot sign an empty JWS payload"));
    }
    let header_json = header.to_json()?;
    let mut out =
        String::with_capacity(base64_len(header_json.len()) + base64_len(payload.len()) + base64_len(64) + 2);
    URL_SAFE_NO_PAD.encode_string(&header_json, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let signature = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut out);
    Ok(out)
}

/// Takes a compact JWS apart and checks its form and header. Never verifies the signature.
pub fn decode_compact(jws: &str) -> Result<Decoded<'_>> {
    if jws.trim_start().starts_with('{') {
        return Err(verification(
            "the input is JSON, not a compact JWS: an unsecured credential or presentation \
             is not a vc+jwt or vp+jwt",
        ));
    }
    let limits = JsonLimits::default();
    let (signing_input, signature_b64) = jws.rsplit_once('.').ok_or_else(|| segment_count(jws))?;
    let (header_b64, payload_b64) = signing_input.split_once('.').ok_or_else(|| segment_count(jws))?;
    if payload_b64.contains('.') {
        return Err(segment_count(jws));
    }
    if header_b64.is_empty() {
        return Err(verification("the JWS protected header segment is empty"));
    }
    if payload_b64.is_empty() {
        return Err(verification("the JWS payload segment is empty: detached payloads are not supported"));
    }
    if signature_b64.is_empty() {
        return Err(verification("the JWS signature segment is empty: the JWS is not signed"));
    }

    // Bound the work before decoding: neither part may decode to more than the JSON limit.
    let max_segment = base64_len(limits.max_bytes);
    for (what, segment) in [("protected header", header_b64), ("payload", payload_b64)] {
        if segment.len() > max_segment {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!(
                    "the JWS {what} segment is {} characters; at most {max_segment} are accepted",
                    segment.len()
                ),
            ));
        }
    }

    let header_bytes = decode_base64url("JWS protected header", header_b64)?;
    let header_json = match json::parse(&header_bytes, &limits)? {
        Value::Object(map) => map,
        other => {
            return Err(verification(format!(
                "the JWS protected header must be a JSON object, found {}",
                json_type(&other)
            )))
        }
    };
    let header = parse_header(&header_json)?;
    let kind = header.document_kind()?;

    let signature_bytes = decode_base64url("JWS signature", signature_b64)?;
    let signature = <[u8; 64]>::try_from(signature_bytes.as_slice())
        .map(|bytes| Signature::from_bytes(&bytes))
        .map_err(|_| {
            verification(format!(
                "the JWS signature is {} bytes; an Ed25519 signature is exactly 64",
                signature_bytes.len()
            ))
        })?;
    let payload = decode_base64url("JWS payload", payload_b64)?;

    Ok(Decoded { header, header_json, kind, payload, signing_input, signature })
}

/// Verifies the signature of a decoded JWS with `key` (strict Ed25519 verification).
pub fn verify_compact(decoded: &Decoded<'_>, key: &VerifyingKey) -> Result<()> {
    if key.is_weak() {
        return Err(weak_key());
    }
    key.verify_strict(decoded.signing_input.as_bytes(), &decoded.signature).map_err(|_| {
        Error::new(
            ProblemCode::CryptographicSecurityError,
            "the JWS signature does not verify with the given Ed25519 key: the header or \
             payload was altered, or the key is not the signer's",
        )
    })
}

/// Parses the payload of a decoded (and, first, verified) JWS as the credential or
/// presentation it secures, applying the payload rules of the module documentation.
pub fn secured_document(decoded: &Decoded<'_>) -> Result<SecuredDocument> {
    let document = json::parse(&decoded.payload, &JsonLimits::default())?;
    let kind = check_document(&document, decoded.kind)?;
    Ok(SecuredDocument { kind, document })
}

/// Checks the JWT time claims of `payload` against `now_unix` (seconds since the epoch):
/// refuses `exp <= now` and `nbf > now`, with no leeway (a caller wanting leeway shifts
/// `now`). `iat` must be a number but may lie in the future. These claims concern the
/// signature; `validFrom`/`validUntil` are checked by the data model, not here.
pub fn check_time_claims(payload: &Value, now_unix: i64) -> Result<()> {
    let Value::Object(claims) = payload else {
        return Err(verification(format!(
            "a JWT claims set must be a JSON object, found {}",
            json_type(payload)
        )));
    };
    // Precision loss above 2^53 s (~285 million years) cannot change any comparison here.
    #[allow(clippy::cast_precision_loss)]
    let now = now_unix as f64;
    if let Some(exp) = numeric_date(claims, "exp")? {
        if exp <= now {
            return Err(Error::new(
                ProblemCode::ValidityPeriodError,
                format!("the JWT expired: exp {exp} is not after the current time {now_unix}"),
            ));
        }
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if nbf > now {
            return Err(Error::new(
                ProblemCode::ValidityPeriodError,
                format!("the JWT is not yet valid: nbf {nbf} is after the current time {now_unix}"),
            ));
        }
    }
    numeric_date(claims, "iat")?;
    Ok(())
}

/// Reads an Ed25519 public key from a JWK (RFC 8037 §2): `kty` `OKP`, `crv` `Ed25519`,
/// `x` the 32-byte key in unpadded base64url. Refuses other key types, private keys (`d`),
/// an `alg` other than EdDSA/Ed25519, a `use` other than `sig`, and weak keys.
pub fn public_key_from_jwk(jwk: &Value) -> Result<VerifyingKey> {
    let Value::Object(jwk) = jwk else {
        return Err(invalid_key(format!("a JWK must be a JSON object, found {}", json_type(jwk))));
    };
    let member = |name: &str| -> Result<Option<&str>> {
        match jwk.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(invalid_key(format!("JWK member {name} must be a string, found {}", json_type(other))))
            }
        }
    };
    match member("kty")? {
        Some("OKP") => {}
        Some(kty) => {
            return Err(invalid_key(format!(
                "JWK kty {kty:?} is not supported: only OKP Ed25519 keys (RFC 8037) are accepted"
            )))
        }
        None => return Err(invalid_key("the JWK has no kty")),
    }
    match member("crv")? {
        Some("Ed25519") => {}
        Some(crv) => {
            return Err(invalid_key(format!("JWK crv {crv:?} is not supported: only Ed25519 is accepted")))
        }
        None => return Err(invalid_key("the OKP JWK has no crv")),
    }
    if jwk.contains_key("d") {
        return Err(invalid_key(
            "the JWK contains the private key member d; a public key JWK must not carry \
             private key material",
        ));
    }
    if let Some(alg) = member("alg")? {
        JwsAlgorithm::parse(alg).map_err(|e| invalid_key(format!("JWK alg: {}", e.message)))?;
    }
    if let Some(usage) = member("use")? {
        if usage != "sig" {
            return Err(invalid_key(format!(
                "JWK use {usage:?} does not allow signature verification (expected \"sig\")"
            )));
        }
    }
    let x = member("x")?.ok_or_else(|| invalid_key("the Ed25519 JWK has no x"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(x)
        .map_err(|e| invalid_key(format!("JWK x is not unpadded base64url: {e}")))?;
    let bytes = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        invalid_key(format!("JWK x is {} bytes; an Ed25519 public key is exactly 32", bytes.len()))
    })?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| invalid_key("JWK x is not a valid Ed25519 curve point"))?;
    if key.is_weak() {
        return Err(weak_key());
    }
    Ok(key)
}

/// The public JWK of `key`: `{"kty":"OKP","crv":"Ed25519","x":...}`.
pub fn jwk_from_public_key(key: &VerifyingKey) -> Value {
    let mut jwk = Map::with_capacity(3);
    jwk.insert("kty".to_owned(), Value::from("OKP"));
    jwk.insert("crv".to_owned(), Value::from("Ed25519"));
    jwk.insert("x".to_owned(), Value::from(URL_SAFE_NO_PAD.encode(key.as_bytes())));
    Value::Object(jwk)
}

/// The RFC 7638 JWK thumbprint of `key`: base64url SHA-256 of the canonical JSON
/// `{"crv":"Ed25519","kty":"OKP","x":...}` (required members, sorted, no whitespace).
pub fn jwk_thumbprint(key: &VerifyingKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Reads the protected header members we understand and enforces `crit` and `b64`.
fn parse_header(header: &Map<String, Value>) -> Result<JwsHeader> {
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => JwsAlgorithm::parse(alg)?,
        Some(other) => {
            return Err(verification(format!("JWS header alg must be a string, found {}", json_type(other))))
        }
        None => return Err(verification("the JWS protected header has no alg")),
    };
    match header.get("b64") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            return Err(verification(
                "JWS header b64 false (RFC 7797 unencoded payload) is not allowed for \
                 vc+jwt and vp+jwt",
            ))
        }
        Some(other) => {
            return Err(verification(format!("JWS header b64 must be a boolean, found {}", json_type(other))))
        }
    }
    if let Some(crit) = header.get("crit") {
        check_crit(crit, header)?;
    }
    Ok(JwsHeader {
        alg,
        kid: header_string(header, "kid")?,
        typ: header_string(header, "typ")?,
        cty: header_string(header, "cty")?,
    })
}

/// RFC 7515 §4.1.11: a non-empty array of extension names, each present in the header and
/// understood. The only extension understood is `b64` (and only as `true`, checked above).
fn check_crit(crit: &Value, header: &Map<String, Value>) -> Result<()> {
    let Value::Array(names) = crit else {
        return Err(verification(format!(
            "JWS header crit must be an array of names, found {}",
            json_type(crit)
        )));
    };
    if names.is_empty() {
        return Err(verification("JWS header crit must not be an empty array (RFC 7515 §4.1.11)"));
    }
    for name in names {
        let Value::String(name) = name else {
            return Err(verification(format!(
                "JWS header crit must list names as strings, found {}",
                json_type(name)
            )));
        };
        match name.as_str() {
            "b64" if header.contains_key("b64") => {}
            "b64" => return Err(verification("JWS header crit names b64, but the header has no b64 member")),
            "alg" | "jku" | "jwk" | "kid" | "x5u" | "x5c" | "x5t" | "x5t#S256" | "typ" | "cty" | "crit" => {
                return Err(verification(format!(
                    "JWS header crit names {name:?}, a header parameter defined by RFC 7515 \
                     that must not be listed in crit"
                )))
            }
            _ => {
                return Err(verification(format!(
                    "JWS header crit names {name:?}, an extension this verifier does not \
                     understand"
                )))
            }
        }
    }
    Ok(())
}

/// An optional header member that must be a string when present.
fn header_string(header: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(verification(format!("JWS header {name} must be a string, found {}", json_type(other))))
        }
    }
}

/// Which document kind a `typ` or `cty` value names, per `accepted`.
fn kind_of_media_type(member: &str, value: &str, accepted: &[(&str, DocumentKind)]) -> Result<DocumentKind> {
    const PREFIX: &str = "application/";
    let subtype = match value.get(..PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => value.get(PREFIX.len()..).unwrap_or_default(),
        _ => value,
    };
    accepted.iter().find(|(name, _)| name.eq_ignore_ascii_case(subtype)).map(|&(_, kind)| kind).ok_or_else(
        || {
            let names: Vec<&str> = accepted.iter().map(|(name, _)| *name).collect();
            verification(format!(
                "JWS header {member} {value:?} does not name a verifiable credential or \
                 presentation; expected one of {}",
                names.join(", ")
            ))
        },
    )
}

/// The payload rules: a JSON object, no `vc`/`vp`, a `type` agreeing with the header,
/// `iss` matching the issuer or holder, numeric time claims. Returns the document kind.
fn check_document(document: &Value, header_kind: Option<DocumentKind>) -> Result<DocumentKind> {
    let Value::Object(claims) = document else {
        return Err(verification(format!(
            "the JWS payload must be a JSON object (the credential or presentation itself), \
             found {}",
            json_type(document)
        )));
    };
    for name in ["vc", "vp"] {
        if claims.contains_key(name) {
            return Err(verification(format!(
                "the JWT claim {name:?} must not be present (VC-JOSE-COSE): the payload is \
                 the credential or presentation itself"
            )));
        }
    }
    let kind = payload_kind(claims)?;
    if let Some(declared) = header_kind {
        if declared != kind {
            return Err(verification(format!(
                "the JWS header declares a {} but the payload's type is {}",
                declared.type_name(),
                kind.type_name()
            )));
        }
    }
    check_iss(claims, kind)?;
    for name in ["exp", "nbf", "iat"] {
        numeric_date(claims, name)?;
    }
    Ok(kind)
}

/// The document kind the payload's `type` names: exactly one of the two base types.
fn payload_kind(claims: &Map<String, Value>) -> Result<DocumentKind> {
    let names = |t: &'static str| match claims.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(t)),
        _ => false,
    };
    match (names(DocumentKind::Credential.type_name()), names(DocumentKind::Presentation.type_name())) {
        (true, false) => Ok(DocumentKind::Credential),
        (false, true) => Ok(DocumentKind::Presentation),
        (true, true) => Err(verification(
            "the JWS payload's type names both VerifiableCredential and VerifiablePresentation",
        )),
        (false, false) => Err(verification(
            "the JWS payload's type names neither VerifiableCredential nor \
             VerifiablePresentation",
        )),
    }
}

/// `iss`, when present, must be a string equal to the issuer's (or the holder's) id.
fn check_iss(claims: &Map<String, Value>, kind: DocumentKind) -> Result<()> {
    let Some(iss) = claims.get("iss") else {
        return Ok(());
    };
    let Value::String(iss) = iss else {
        return Err(verification(format!("the JWT claim iss must be a string, found {}", json_type(iss))));
    };
    let member = match kind {
        DocumentKind::Credential => "issuer",
        DocumentKind::Presentation => "holder",
    };
    let expected = match claims.get(member) {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(Value::Object(object)) => object.get("id").and_then(Value::as_str),
        // A presentation need not name its holder; then there is nothing to conflict with.
        None if kind == DocumentKind::Presentation => return Ok(()),
        _ => None,
    };
    match expected {
        Some(id) if id == iss => Ok(()),
        Some(id) => {
            Err(verification(format!("the JWT claim iss {iss:?} does not match the {member} {id:?}")))
        }
        None => Err(verification(format!(
            "the JWT claim iss {iss:?} is present but the {member} has no identifier to match"
        ))),
    }
}

/// A time claim that must be a number (RFC 7519 NumericDate) when present.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or_else(|| {
            verification(format!(
                "the JWT claim {name} must be a NumericDate (seconds since the epoch, RFC 7519 \
                 §2), found {}",
                json_type(value)
            ))
        }),
    }
}

/// Strict base64url: the URL-safe alphabet, no padding, canonical trailing bits.
fn decode_base64url(what: &str, segment: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| verification(format!("the {what} is not unpadded base64url: {e}")))
}

/// Length of the unpadded base64 encoding of `n` bytes.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

fn segment_count(jws: &str) -> Error {
    verification(format!(
        "a compact JWS has exactly three dot-separated segments; this input has {}",
        jws.split('.').count()
    ))
}

/// A short description of a JSON value's type (and of a short string, its value).
fn json_type(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() <= 64 => format!("the string {s:?}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn verification(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::ProofVerificationError, message)
}

fn generation(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::ProofGenerationError, message)
}

fn as_generation(error: Error) -> Error {
    generation(error.message)
}

fn invalid_key(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

fn weak_key() -> Error {
    invalid_key("the Ed25519 public key is a weak (small-order) point and cannot verify anything")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;
    use serde_json::json;
    use std::collections::HashMap;

    const SUITE: &str = "vc-jose-cose-test-suite/tests/input";
    /// 2024-12-15T00:47:00Z: inside the window of the suite's presentation vectors.
    const SUITE_NOW: i64 = 1_734_223_620 + 60;

    fn rfc8037() -> Value {
        serde_json::from_str(&testdata::read("rfc8037-appendix-a/rfc8037-appendix-a.json")).unwrap()
    }

    fn text<'v>(value: &'v Value, name: &str) -> &'v str {
        value[name].as_str().unwrap_or_else(|| panic!("{name} is not a string"))
    }

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn signing_key_from_d(d: &str) -> SigningKey {
        SigningKey::from_bytes(&b64(d).try_into().unwrap())
    }

    fn a1_key() -> SigningKey {
        signing_key_from_d(text(&rfc8037()["A.1_private_jwk"], "d"))
    }

    /// `key = value` pairs of an erlang-jose `.config` file (`{"k", <<"v">>}.` per line).
    fn erlang_config(name: &str) -> HashMap<String, String> {
        testdata::read(&format!("rfc8037-appendix-a/erlang-jose-test-data/{name}"))
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("{\"")?;
                let (key, rest) = rest.split_once("\", <<\"")?;
                let value = rest.strip_suffix("\">>}.")?;
                Some((key.to_owned(), value.replace("\\\"", "\"")))
            })
            .collect()
    }

    fn suite_text(name: &str) -> String {
        testdata::read(&format!("{SUITE}/{name}")).trim().to_owned()
    }

    fn suite_json(name: &str) -> Value {
        serde_json::from_str(&suite_text(name)).unwrap()
    }

    /// The suite's Ed25519 verification method: signing key, public key, kid.
    fn suite_key() -> (SigningKey, VerifyingKey, String) {
        let vm = suite_json("vm-ed25519.json");
        let signing = signing_key_from_d(text(&vm["secretKeyJwk"], "d"));
        let public = public_key_from_jwk(&vm["publicKeyJwk"]).unwrap();
        assert_eq!(signing.verifying_key(), public);
        (signing, public, text(&vm["publicKeyJwk"], "kid").to_owned())
    }

    /// Signs arbitrary header and payload text, so one test can isolate one defect.
    fn raw_token(header: &str, payload: &str, key: &SigningKey) -> String {
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    fn credential() -> Value {
        suite_json("credential-minimal.json")
    }

    fn credential_header() -> JwsHeader {
        JwsHeader::for_document(DocumentKind::Credential, Some("key-1".to_owned()))
    }

    #[track_caller]
    fn assert_error<T: std::fmt::Debug>(result: Result<T>, code: ProblemCode, needle: &str) {
        let error = result.expect_err("expected an error");
        assert_eq!(error.code, code, "{error}");
        assert!(error.message.contains(needle), "{needle:?} not in: {error}");
    }

    /// Decodes, verifies and reads the document of a token, with the A.1 public key.
    fn open(jws: &str, key: &VerifyingKey) -> Result<SecuredDocument> {
        let decoded = decode_compact(jws)?;
        verify_compact(&decoded, key)?;
        secured_document(&decoded)
    }

    // ---- RFC 8037 Appendix A ----

    #[test]
    fn rfc8037_a1_a2_keys() {
        let v = rfc8037();
        let key = a1_key();
        assert_eq!(hex(key.as_bytes()), text(&v, "A.1_secret_hex"));
        assert_eq!(hex(key.verifying_key().as_bytes()), text(&v, "A.1_public_hex"));
        // A.2: the public JWK parses to the A.1 key and is what we emit for it.
        let public = public_key_from_jwk(&v["A.2_public_jwk"]).unwrap();
        assert_eq!(public, key.verifying_key());
        assert_eq!(jwk_from_public_key(&public), v["A.2_public_jwk"]);
        // The private JWK is refused where a public one is expected.
        assert_error(
            public_key_from_jwk(&v["A.1_private_jwk"]),
            ProblemCode::InvalidVerificationMethod,
            "private key member d",
        );
        // erlang-jose's copies of A.1 and A.2 agree.
        let read = |name: &str| -> Value {
            serde_json::from_str(&testdata::read(&format!("rfc8037-appendix-a/erlang-jose-test-data/{name}")))
                .unwrap()
        };
        assert_eq!(read("a.1.jwk+json"), v["A.1_private_jwk"]);
        assert_eq!(public_key_from_jwk(&read("a.2.jwk+json")).unwrap(), public);
        let a1 = erlang_config("a.1.config");
        assert_eq!(a1["a.1.secret"], text(&v, "A.1_secret_hex"));
        assert_eq!(a1["a.1.pk"], text(&v, "A.1_public_hex"));
    }

    #[test]
    fn rfc8037_a3_thumbprint() {
        let v = rfc8037();
        let key = a1_key().verifying_key();
        assert_eq!(jwk_thumbprint(&key), text(&v, "A.3_thumbprint_b64url"));
        assert_eq!(
            hex(&Sha256::digest(text(&v, "A.3_thumbprint_input").as_bytes())),
            text(&v, "A.3_thumbprint_hex")
        );
        let a3 = erlang_config("a.3.config");
        assert_eq!(a3["a.3.jwk+json"], text(&v, "A.3_thumbprint_input"));
        assert_eq!(jwk_thumbprint(&key), a3["a.3.thumbprint+b64"]);
    }

    #[test]
    fn rfc8037_a4_signing_is_byte_for_byte() {
        let v = rfc8037();
        let header = JwsHeader { alg: JwsAlgorithm::EdDsa, kid: None, typ: None, cty: None };
        assert_eq!(header.to_json().unwrap(), text(&v, "A.4_protected_header").as_bytes());
        let jws = sign_compact_bytes(text(&v, "A.4_payload").as_bytes(), &header, &a1_key()).unwrap();
        assert_eq!(jws, text(&v, "A.4_A.5_compact_jws"));
        assert_eq!(jws, erlang_config("a.4.config")["a.4.sig+compact"]);
        let (input, signature) = jws.rsplit_once('.').unwrap();
        assert_eq!(input, text(&v, "A.4_signing_input"));
        assert_eq!(signature, text(&v, "A.4_signature_b64url"));
        assert_eq!(hex(&b64(signature)), text(&v, "A.4_signature_hex"));
    }

    #[test]
    fn rfc8037_a5_verification() {
        let v = rfc8037();
        let a5 = erlang_config("a.5.config");
        assert_eq!(a5["a.5.sig+compact"], text(&v, "A.4_A.5_compact_jws"));
        let decoded = decode_compact(&a5["a.5.sig+compact"]).unwrap();
        assert_eq!(decoded.header().alg, JwsAlgorithm::EdDsa);
        assert_eq!(decoded.header().kid, None);
        assert_eq!(decoded.header_kind(), None);
        assert_eq!(
            Value::Object(decoded.header_json().clone()),
            serde_json::from_str::<Value>(&a5["a.5.jws+json"]).unwrap()
        );
        assert_eq!(decoded.payload(), a5["a.5.txt"].as_bytes());
        assert_eq!(decoded.signing_input(), text(&v, "A.4_signing_input"));
        assert_eq!(hex(&decoded.signature().to_bytes()), text(&v, "A.4_signature_hex"));
        let key = public_key_from_jwk(&v["A.2_public_jwk"]).unwrap();
        verify_compact(&decoded, &key).unwrap();
        // A verified JWS is still not a credential: its payload is plain text.
        assert_eq!(secured_document(&decoded).unwrap_err().code, ProblemCode::ParsingError);
    }

    // ---- W3C vc-jose-cose-test-suite (TEST-MAPPING.md rows) ----

    /// Rows 1–4 use P-256/P-384/P-521 keys, which this module does not support: the same
    /// inputs are issued with the suite's Ed25519 key (vm-ed25519.json) and verified back.
    #[test]
    fn suite_issuance_rows_1_to_4_with_the_ed25519_key() {
        let (signing, public, kid) = suite_key();
        for (row, input, kind) in [
            (1, "credential-minimal.json", DocumentKind::Credential),
            (2, "credential-full.json", DocumentKind::Credential),
            (3, "presentation-single.json", DocumentKind::Presentation),
            (4, "presentation-multiple.json", DocumentKind::Presentation),
        ] {
            let document = suite_json(input);
            let header = JwsHeader::for_document(kind, Some(kid.clone()));
            let jws = sign_compact(&document, &header, &signing).unwrap();
            let decoded = decode_compact(&jws).unwrap();
            assert_eq!(decoded.header(), &header, "row {row}");
            assert_eq!(decoded.header_kind(), Some(kind), "row {row}");
            verify_compact(&decoded, &public).unwrap();
            let secured = secured_document(&decoded).unwrap();
            assert_eq!(secured, SecuredDocument { kind, document: document.clone() }, "row {row}");
            check_time_claims(&secured.document, SUITE_NOW).unwrap();
            // Deterministic: signing again gives the same token.
            assert_eq!(sign_compact(&document, &header, &signing).unwrap(), jws, "row {row}");
        }
    }

    /// Rows 6 and 7 (ES256, ES384, expected success in the suite) and row 9 (ES512) are
    /// refused on `alg` alone: this module is Ed25519-only.
    #[test]
    fn suite_rows_6_7_9_non_ed25519_algorithms_are_refused() {
        for (row, input, alg) in [
            (6, "credential-jose-minimal.txt", "\"ES256\""),
            (7, "presentation-jose-multiple.txt", "\"ES384\""),
            (9, "credential-jose-unknown-extensions.txt", "\"ES512\""),
        ] {
            let error = decode_compact(&suite_text(input)).unwrap_err();
            assert_eq!(error.code, ProblemCode::ProofVerificationError, "row {row}");
            assert!(error.message.contains(alg), "row {row}: {error}");
        }
    }

    /// Row 8 has a valid Ed25519 signature and matching iss/issuer, but its `iat` is the
    /// string "2010-01-01T19:23:24Z", not a NumericDate (RFC 7519 §4.1.6), so we refuse it.
    /// The same payload with a numeric `iat`, signed with the suite's key, is accepted.
    #[test]
    fn suite_row_8_issuer_match() {
        let (signing, public, kid) = suite_key();
        let jws = suite_text("credential-issuer-match-signed.txt");
        let decoded = decode_compact(&jws).unwrap();
        assert_eq!(decoded.header().kid.as_deref(), Some(kid.as_str()));
        assert_eq!(decoded.header_kind(), Some(DocumentKind::Credential));
        verify_compact(&decoded, &public).unwrap();
        assert_error(secured_document(&decoded), ProblemCode::ProofVerificationError, "iat");

        let mut payload: Value = serde_json::from_slice(decoded.payload()).unwrap();
        payload["iat"] = json!(1_262_373_804);
        let header = decoded.header().clone();
        let fixed = sign_compact(&payload, &header, &signing).unwrap();
        let secured = open(&fixed, &public).unwrap();
        assert_eq!(secured.kind, DocumentKind::Credential);
        assert_eq!(secured.document["iss"], secured.document["issuer"]);
        check_time_claims(&secured.document, SUITE_NOW).unwrap();
    }

    /// Rows 10 and 11: an unsecured credential or presentation is not a JWT.
    #[test]
    fn suite_rows_10_11_unsecured_documents_are_refused() {
        for input in ["credential-minimal.json", "presentation-single.json"] {
            assert_error(
                decode_compact(&suite_text(input)),
                ProblemCode::ProofVerificationError,
                "not a compact JWS",
            );
        }
    }

    #[test]
    fn suite_row_12_bad_signature() {
        let (_, public, _) = suite_key();
        let jws = suite_text("credential-jose-bad-signature.txt");
        let decoded = decode_compact(&jws).unwrap();
        assert_error(
            verify_compact(&decoded, &public),
            ProblemCode::CryptographicSecurityError,
            "does not verify",
        );
    }

    /// Rows 13 and 14 carry valid Ed25519 signatures; `typ` "bad+typ" alone refuses them.
    #[test]
    fn suite_rows_13_14_bad_media_type() {
        for input in ["credential-jose-bad-media-type.txt", "presentation-jose-bad-media-type.txt"] {
            assert_error(
                decode_compact(&suite_text(input)),
                ProblemCode::ProofVerificationError,
                "typ \"bad+typ\"",
            );
        }
        let header = JwsHeader { cty: None, ..credential_header() };
        let bad_cty = JwsHeader { cty: Some("bad+cty".to_owned()), ..header };
        assert_error(bad_cty.document_kind(), ProblemCode::ProofVerificationError, "cty");
    }

    /// Row 15: signature valid, but the payload carries `vc` and `vp` claims.
    #[test]
    fn suite_row_15_vc_vp_claims() {
        let (_, public, _) = suite_key();
        let jws = suite_text("credential-jose-vc-vp-claims.txt");
        let decoded = decode_compact(&jws).unwrap();
        verify_compact(&decoded, &public).unwrap();
        assert_error(secured_document(&decoded), ProblemCode::ProofVerificationError, "\"vc\"");
    }

    /// Row 16: the presentation JWS itself is sound (signature, iss = holder, numeric
    /// times); its enveloped credential "not-a-credential" is not a compact JWS. Checking
    /// that a presentation's credentials are secured is the pipeline's work; this shows the
    /// piece this module contributes.
    #[test]
    fn suite_row_16_presentation_with_bad_credential() {
        let (_, public, _) = suite_key();
        let secured = open(&suite_text("presentation-jose-bad-credential.txt"), &public).unwrap();
        assert_eq!(secured.kind, DocumentKind::Presentation);
        check_time_claims(&secured.document, SUITE_NOW).unwrap();
        // Its exp (1734310020) has passed for any later clock.
        assert_error(
            check_time_claims(&secured.document, 1_734_310_020),
            ProblemCode::ValidityPeriodError,
            "exp",
        );
        let enveloped = text(&secured.document["verifiableCredential"][0], "id");
        assert_error(decode_compact(enveloped), ProblemCode::ProofVerificationError, "segments");
    }

    // ---- algorithms ----

    #[test]
    fn only_eddsa_and_ed25519_algorithms_are_accepted() {
        let key = a1_key();
        let payload = credential().to_string();
        for alg in ["EdDSA", "Ed25519"] {
            let jws = raw_token(&format!(r#"{{"alg":"{alg}"}}"#), &payload, &key);
            open(&jws, &key.verifying_key()).unwrap();
        }
        for (alg, needle) in [
            ("none", "unsecured"),
            ("HS256", "\"HS256\" is not supported"),
            ("RS256", "\"RS256\" is not supported"),
            ("ES256", "\"ES256\" is not supported"),
            ("PS256", "\"PS256\" is not supported"),
            ("eddsa", "\"eddsa\" is not supported"),
            ("ED25519", "\"ED25519\" is not supported"),
        ] {
            let jws = raw_token(&format!(r#"{{"alg":"{alg}"}}"#), &payload, &key);
            assert_error(decode_compact(&jws), ProblemCode::ProofVerificationError, needle);
        }
        // `alg: none` with an empty signature, the classic unsecured JWT.
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
        let body = URL_SAFE_NO_PAD.encode(&payload);
        assert_error(
            decode_compact(&format!("{header}.{body}.")),
            ProblemCode::ProofVerificationError,
            "not signed",
        );
        for (header, needle) in [
            (r#"{"typ":"vc+jwt"}"#, "no alg"),
            (r#"{"alg":["EdDSA"]}"#, "alg must be a string"),
            (r#"{"alg":null}"#, "alg must be a string"),
        ] {
            let jws = raw_token(header, &payload, &key);
            assert_error(decode_compact(&jws), ProblemCode::ProofVerificationError, needle);
        }
        assert_error(JwsAlgorithm::parse("HS256"), ProblemCode::ProofVerificationError, "HS256");
    }

    // ---- header rules ----

    #[test]
    fn duplicate_header_members_are_refused() {
        let key = a1_key();
        let payload = credential().to_string();
        for header in [r#"{"alg":"EdDSA","alg":"none"}"#, r#"{"alg":"EdDSA","kid":"a","kid":"b"}"#] {
            let jws = raw_token(header, &payload, &key);
            assert!(decode_compact(&jws).is_err(), "{header}");
        }
    }

    #[test]
    fn header_must_be_a_json_object() {
        let key = a1_key();
        let payload = credential().to_string();
        for (header, code) in [
            ("[\"EdDSA\"]", ProblemCode::ProofVerificationError),
            ("\"EdDSA\"", ProblemCode::ProofVerificationError),
            ("{\"alg\":\"EdDSA\"", ProblemCode::ParsingError),
            ("not json", ProblemCode::ParsingError),
        ] {
            let jws = raw_token(header, &payload, &key);
            assert_eq!(decode_compact(&jws).unwrap_err().code, code, "{header}");
        }
    }

    #[test]
    fn crit_and_b64() {
        let key = a1_key();
        let payload = credential().to_string();
        let accepted = [r#"{"alg":"EdDSA","b64":true}"#, r#"{"alg":"EdDSA","b64":true,"crit":["b64"]}"#];
        for header in accepted {
            let jws = raw_token(header, &payload, &key);
            open(&jws, &key.verifying_key()).unwrap();
        }
        for (header, needle) in [
            (r#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#, "b64 false"),
            (r#"{"alg":"EdDSA","b64":false}"#, "b64 false"),
            (r#"{"alg":"EdDSA","b64":"false"}"#, "b64 must be a boolean"),
            (r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#, "does not understand"),
            (r#"{"alg":"EdDSA","crit":["sigT"],"sigT":"x"}"#, "does not understand"),
            (r#"{"alg":"EdDSA","crit":["b64"]}"#, "no b64 member"),
            (r#"{"alg":"EdDSA","crit":["alg"]}"#, "defined by RFC 7515"),
            (r#"{"alg":"EdDSA","crit":[]}"#, "empty array"),
            (r#"{"alg":"EdDSA","crit":"b64","b64":true}"#, "crit must be an array"),
            (r#"{"alg":"EdDSA","crit":[1]}"#, "as strings"),
        ] {
            let jws = raw_token(header, &payload, &key);
            assert_error(decode_compact(&jws), ProblemCode::ProofVerificationError, needle);
        }
    }

    #[test]
    fn typ_and_cty() {
        let key = a1_key();
        let vc = credential().to_string();
        let vp = suite_json("presentation-single.json").to_string();
        for (header, payload, kind) in [
            (r#"{"alg":"EdDSA"}"#, &vc, None),
            (r#"{"alg":"EdDSA","typ":"vc+jwt"}"#, &vc, Some(DocumentKind::Credential)),
            (r#"{"alg":"EdDSA","typ":"application/vc+jwt"}"#, &vc, Some(DocumentKind::Credential)),
            (r#"{"alg":"EdDSA","typ":"VC+JWT","cty":"VC"}"#, &vc, Some(DocumentKind::Credential)),
            (r#"{"alg":"EdDSA","typ":"vc+ld+jwt"}"#, &vc, Some(DocumentKind::Credential)),
            (r#"{"alg":"EdDSA","cty":"vc+ld+json"}"#, &vc, Some(DocumentKind::Credential)),
            (r#"{"alg":"EdDSA","typ":"vp+jwt","cty":"vp"}"#, &vp, Some(DocumentKind::Presentation)),
            (r#"{"alg":"EdDSA","typ":"vp+ld+jwt"}"#, &vp, Some(DocumentKind::Presentation)),
            (r#"{"alg":"EdDSA"}"#, &vp, None),
        ] {
            let jws = raw_token(header, payload, &key);
            let decoded = decode_compact(&jws).unwrap();
            assert_eq!(decoded.header_kind(), kind, "{header}");
            let expected = if payload == &vc { DocumentKind::Credential } else { DocumentKind::Presentation };
            assert_eq!(open(&jws, &key.verifying_key()).unwrap().kind, expected, "{header}");
        }
        for (header, needle) in [
            (r#"{"alg":"EdDSA","typ":"JWT"}"#, "typ \"JWT\""),
            (r#"{"alg":"EdDSA","typ":"vc+sd-jwt"}"#, "typ \"vc+sd-jwt\""),
            (r#"{"alg":"EdDSA","typ":"application/"}"#, "typ \"application/\""),
            (r#"{"alg":"EdDSA","typ":"text/vc+jwt"}"#, "typ \"text/vc+jwt\""),
            (r#"{"alg":"EdDSA","typ":"vc+jwt","cty":"vp"}"#, "cty \"vp\" names a Verifiable"),
            (r#"{"alg":"EdDSA","cty":"json"}"#, "cty \"json\""),
            (r#"{"alg":"EdDSA","typ":7}"#, "typ must be a string"),
            (r#"{"alg":"EdDSA","kid":{"id":"x"}}"#, "kid must be a string"),
        ] {
            let jws = raw_token(header, &vc, &key);
            assert_error(decode_compact(&jws), ProblemCode::ProofVerificationError, needle);
        }
        // typ/cty say one kind, the payload's type another.
        for (header, payload) in
            [(r#"{"alg":"EdDSA","typ":"vc+jwt"}"#, &vp), (r#"{"alg":"EdDSA","cty":"vp"}"#, &vc)]
        {
            let jws = raw_token(header, payload, &key);
            assert_error(
                open(&jws, &key.verifying_key()),
                ProblemCode::ProofVerificationError,
                "the JWS header declares",
            );
        }
    }

    #[test]
    fn unknown_header_members_are_ignored_and_never_supply_a_key() {
        let key = a1_key();
        let attacker = SigningKey::from_bytes(&[7; 32]);
        let header = json!({
            "alg": "EdDSA",
            "x-custom": {"nested": true},
            "jwk": jwk_from_public_key(&attacker.verifying_key()),
        });
        let jws = raw_token(&header.to_string(), &credential().to_string(), &attacker);
        let decoded = decode_compact(&jws).unwrap();
        assert_eq!(decoded.header_json()["x-custom"], json!({"nested": true}));
        // The embedded jwk verifies the token, but only the caller's key counts.
        assert_error(
            verify_compact(&decoded, &key.verifying_key()),
            ProblemCode::CryptographicSecurityError,
            "does not verify",
        );
    }

    // ---- serialization form ----

    #[test]
    fn malformed_compact_serializations_are_refused() {
        let good = rfc8037()["A.4_A.5_compact_jws"].as_str().unwrap().to_owned();
        let (h, rest) = good.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();
        for (jws, needle) in [
            (String::new(), "three dot-separated segments; this input has 1"),
            (format!("{h}.{p}"), "has 2"),
            (format!("{h}.{p}.{s}.{s}"), "has 4"),
            (format!("{h}..{s}"), "detached payloads"),
            (format!(".{p}.{s}"), "header segment is empty"),
            (format!("{h}.{p}."), "not signed"),
            (format!("{h}==.{p}.{s}"), "protected header is not unpadded base64url"),
            (format!("{h}.{p}=.{s}"), "payload is not unpadded base64url"),
            (format!("{h}.{p}.{s}=="), "signature is not unpadded base64url"),
            (format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/")), "signature is not"),
            (format!("{h} .{p}.{s}"), "protected header is not"),
            (format!("{h}.{p}.{s}\n"), "signature is not"),
            // Non-canonical trailing bits: 'd' instead of 'c' sets a bit beyond the data.
            (format!("{h}.{}d.{s}", p.strip_suffix('c').unwrap()), "payload is not"),
            (format!("{h}.{p}.{}", &s[..s.len() - 2]), "is 63 bytes"),
            (format!("{h}.{p}.{s}A"), "is 65 bytes"),
        ] {
            assert_error(decode_compact(&jws), ProblemCode::ProofVerificationError, needle);
        }
        let limit = base64_len(JsonLimits::default().max_bytes);
        let huge = "A".repeat(limit + 1);
        for jws in [format!("{h}.{huge}.{s}"), format!("{huge}.{p}.{s}")] {
            assert_error(decode_compact(&jws), ProblemCode::ResourceLimitExceeded, "at most");
        }
        // At the limit the size check passes and decoding goes on (here to the JSON limit).
        let at_limit = "A".repeat(limit);
        assert_error(decode_compact(&format!("{at_limit}.{p}.{s}")), ProblemCode::ResourceLimitExceeded, "");
    }

    // ---- signatures ----

    #[test]
    fn tampering_and_wrong_signatures_fail() {
        let key = a1_key();
        let public = key.verifying_key();
        let jws = sign_compact(&credential(), &credential_header(), &key).unwrap();
        open(&jws, &public).unwrap();
        let (h, rest) = jws.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();

        let mut altered = credential();
        altered["credentialSubject"]["degree"]["name"] = json!("Doctor of Everything");
        let altered_payload = URL_SAFE_NO_PAD.encode(altered.to_string());
        let altered_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"key-2"}"#);
        let mut flipped = b64(s);
        flipped[10] ^= 1;
        let other = SigningKey::from_bytes(&[9; 32]);
        let other_signature = other.sign(format!("{h}.{p}").as_bytes()).to_bytes();

        for (case, token) in [
            ("payload", format!("{h}.{altered_payload}.{s}")),
            ("header", format!("{altered_header}.{p}.{s}")),
            ("flipped bit", format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(&flipped))),
            ("zero signature", format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]))),
            ("other signer", format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(other_signature))),
        ] {
            let decoded = decode_compact(&token).unwrap();
            let error = verify_compact(&decoded, &public).unwrap_err();
            assert_eq!(error.code, ProblemCode::CryptographicSecurityError, "{case}: {error}");
        }
        // The right token with the wrong key.
        assert_error(
            open(&jws, &other.verifying_key()),
            ProblemCode::CryptographicSecurityError,
            "does not verify",
        );
    }

    /// The identity point is a weak key: with R = identity and s = 0, non-strict Ed25519
    /// verification accepts this "signature" on every message. We refuse the key itself.
    #[test]
    fn weak_keys_are_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        assert!(weak.is_weak());
        let forged_signature = URL_SAFE_NO_PAD.encode({
            let mut sig = [0u8; 64];
            sig[0] = 1;
            sig
        });
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA"}"#);
        let payload = URL_SAFE_NO_PAD.encode(credential().to_string());
        let jws = format!("{header}.{payload}.{forged_signature}");
        let decoded = decode_compact(&jws).unwrap();
        let lax =
            ed25519_dalek::Verifier::verify(&weak, decoded.signing_input().as_bytes(), decoded.signature());
        assert!(lax.is_ok(), "non-strict verification accepts the forgery");
        assert_error(verify_compact(&decoded, &weak), ProblemCode::InvalidVerificationMethod, "weak");
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(identity)});
        assert_error(public_key_from_jwk(&jwk), ProblemCode::InvalidVerificationMethod, "weak");
    }

    // ---- JWKs ----

    #[test]
    fn jwk_round_trip_and_refusals() {
        let public = a1_key().verifying_key();
        let jwk = jwk_from_public_key(&public);
        assert_eq!(public_key_from_jwk(&jwk).unwrap(), public);
        let x = jwk["x"].as_str().unwrap().to_owned();
        let with = |extra: Value| {
            let mut jwk = jwk.clone();
            for (name, value) in extra.as_object().unwrap() {
                jwk[name] = value.clone();
            }
            jwk
        };
        for accepted in
            [with(json!({"alg": "EdDSA", "use": "sig", "kid": "k"})), with(json!({"alg": "Ed25519"}))]
        {
            assert_eq!(public_key_from_jwk(&accepted).unwrap(), public);
        }
        let mut no_x = jwk.clone();
        no_x.as_object_mut().unwrap().remove("x");
        let mut short = b64(&x);
        short.pop();
        for (bad, needle) in [
            (json!("not an object"), "must be a JSON object"),
            (with(json!({"kty": "EC"})), "kty \"EC\""),
            (with(json!({"kty": "oct", "k": "c2VjcmV0"})), "kty \"oct\""),
            (with(json!({"kty": 1})), "kty must be a string"),
            (with(json!({"crv": "X25519"})), "crv \"X25519\""),
            (with(json!({"crv": "Ed448"})), "crv \"Ed448\""),
            (with(json!({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"})), "private"),
            (with(json!({"alg": "ES256"})), "JWK alg"),
            (with(json!({"use": "enc"})), "use \"enc\""),
            (no_x, "has no x"),
            (with(json!({"x": format!("{x}=")})), "not unpadded base64url"),
            (with(json!({"x": URL_SAFE_NO_PAD.encode(short)})), "31 bytes"),
        ] {
            assert_error(public_key_from_jwk(&bad), ProblemCode::InvalidVerificationMethod, needle);
        }
        let mut no_kty = jwk.clone();
        no_kty.as_object_mut().unwrap().remove("kty");
        assert_error(public_key_from_jwk(&no_kty), ProblemCode::InvalidVerificationMethod, "kty");
    }

    // ---- payload rules ----

    #[test]
    fn vc_and_vp_claims_are_refused() {
        let key = a1_key();
        for claim in ["vc", "vp"] {
            let mut payload = credential();
            payload[claim] = json!({"type": ["VerifiableCredential"]});
            let jws = raw_token(r#"{"alg":"EdDSA"}"#, &payload.to_string(), &key);
            let needle = format!("{claim:?} must not be present");
            assert_error(open(&jws, &key.verifying_key()), ProblemCode::ProofVerificationError, &needle);
            // And we refuse to sign it.
            assert_error(
                sign_compact(&payload, &credential_header(), &key),
                ProblemCode::ProofGenerationError,
                &needle,
            );
        }
    }

    #[test]
    fn iss_must_match_the_issuer_or_holder() {
        let key = a1_key();
        let check = |payload: &Value| {
            let jws = raw_token(r#"{"alg":"EdDSA"}"#, &payload.to_string(), &key);
            open(&jws, &key.verifying_key())
        };
        let issuer = "https://example.issuer/vc-jose-cose";
        let mut vc = credential();
        vc["iss"] = json!(issuer);
        check(&vc).unwrap();
        vc["issuer"] = json!({"id": issuer, "name": "Example"});
        check(&vc).unwrap();

        vc["iss"] = json!("https://evil.example");
        assert_error(check(&vc), ProblemCode::ProofVerificationError, "does not match the issuer");
        vc["issuer"] = json!(issuer);
        assert_error(check(&vc), ProblemCode::ProofVerificationError, "does not match the issuer");
        vc["issuer"] = json!({"name": "No id"});
        assert_error(check(&vc), ProblemCode::ProofVerificationError, "no identifier");
        vc.as_object_mut().unwrap().remove("issuer");
        assert_error(check(&vc), ProblemCode::ProofVerificationError, "no identifier");
        vc["issuer"] = json!(issuer);
        vc["iss"] = json!([issuer]);
        assert_error(check(&vc), ProblemCode::ProofVerificationError, "iss must be a string");

        let mut vp = suite_json("presentation-single.json");
        vp["iss"] = json!(issuer);
        assert_eq!(check(&vp).unwrap().kind, DocumentKind::Presentation);
        vp["iss"] = json!("did:example:someone-else");
        assert_error(check(&vp), ProblemCode::ProofVerificationError, "does not match the holder");
        vp.as_object_mut().unwrap().remove("holder");
        check(&vp).unwrap();
    }

    #[test]
    fn payload_must_be_a_credential_or_presentation_object() {
        let key = a1_key();
        for (payload, needle) in [
            ("[1,2]", "must be a JSON object"),
            (r#"{"type":"Thing"}"#, "neither"),
            (r#"{"type":["VerifiableCredential","VerifiablePresentation"]}"#, "both"),
            (r#"{"sub":"x"}"#, "neither"),
        ] {
            let jws = raw_token(r#"{"alg":"EdDSA"}"#, payload, &key);
            assert_error(open(&jws, &key.verifying_key()), ProblemCode::ProofVerificationError, needle);
        }
        // Duplicate claims are refused by the strict parser.
        let mut text = credential().to_string();
        text.insert_str(1, r#""issuer":"https://evil.example","#);
        let jws = raw_token(r#"{"alg":"EdDSA"}"#, &text, &key);
        assert!(open(&jws, &key.verifying_key()).is_err());
    }

    #[test]
    fn time_claims() {
        let now = 1_700_000_000;
        let with = |claims: Value| {
            let mut vc = credential();
            for (name, value) in claims.as_object().unwrap() {
                vc[name] = value.clone();
            }
            vc
        };
        for accepted in [
            json!({}),
            json!({"exp": now + 1, "nbf": now, "iat": now - 10}),
            json!({"exp": 1_700_000_000.5, "nbf": 1_699_999_999.5}),
            json!({"iat": now + 3600}),
        ] {
            check_time_claims(&with(accepted.clone()), now).unwrap();
        }
        for (claims, code, needle) in [
            (json!({"exp": now}), ProblemCode::ValidityPeriodError, "expired"),
            (json!({"exp": now - 1}), ProblemCode::ValidityPeriodError, "expired"),
            (json!({"nbf": now + 1}), ProblemCode::ValidityPeriodError, "not yet valid"),
            (json!({"exp": "2030-01-01T00:00:00Z"}), ProblemCode::ProofVerificationError, "exp"),
            (json!({"nbf": true}), ProblemCode::ProofVerificationError, "nbf"),
            (json!({"iat": "2010-01-01T19:23:24Z"}), ProblemCode::ProofVerificationError, "iat"),
        ] {
            assert_error(check_time_claims(&with(claims), now), code, needle);
        }
        assert_error(check_time_claims(&json!([]), now), ProblemCode::ProofVerificationError, "");
        // A non-numeric time claim is refused at signing and at reading, whatever the time.
        let key = a1_key();
        let bad = with(json!({"exp": "tomorrow"}));
        assert_error(
            sign_compact(&bad, &credential_header(), &key),
            ProblemCode::ProofGenerationError,
            "NumericDate",
        );
        let jws = raw_token(r#"{"alg":"EdDSA"}"#, &bad.to_string(), &key);
        assert_error(open(&jws, &key.verifying_key()), ProblemCode::ProofVerificationError, "NumericDate");
    }

    #[test]
    fn signing_refuses_what_verification_would_refuse() {
        let key = a1_key();
        let jwt = JwsHeader { typ: Some("JWT".to_owned()), ..credential_header() };
        assert_error(
            sign_compact(&credential(), &jwt, &key),
            ProblemCode::ProofGenerationError,
            "typ \"JWT\"",
        );
        let vp_header = JwsHeader::for_document(DocumentKind::Presentation, None);
        assert_error(
            sign_compact(&credential(), &vp_header, &key),
            ProblemCode::ProofGenerationError,
            "declares",
        );
        assert_error(
            sign_compact_bytes(b"", &credential_header(), &key),
            ProblemCode::ProofGenerationError,
            "empty",
        );
        assert_error(
            sign_compact(&json!("a string"), &credential_header(), &key),
            ProblemCode::ProofGenerationError,
            "JSON object",
        );
        // Algorithm `Ed25519` (RFC 9864) round-trips too.
        let header = JwsHeader { alg: JwsAlgorithm::Ed25519, ..credential_header() };
        let jws = sign_compact(&credential(), &header, &key).unwrap();
        assert_eq!(decode_compact(&jws).unwrap().header().alg, JwsAlgorithm::Ed25519);
        assert_eq!(open(&jws, &key.verifying_key()).unwrap().document, credential());
    }

    #[test]
    fn media_type_names() {
        assert_eq!(DocumentKind::Credential.media_type(), "application/vc+jwt");
        assert_eq!(DocumentKind::Presentation.media_type(), "application/vp+jwt");
        for kind in [DocumentKind::Credential, DocumentKind::Presentation] {
            let header = JwsHeader::for_document(kind, None);
            assert_eq!(header.document_kind().unwrap(), Some(kind));
            let media_type = JwsHeader { typ: Some(kind.media_type().to_owned()), ..header };
            assert_eq!(media_type.document_kind().unwrap(), Some(kind));
        }
    }
}
