//! The compact, signed QR form of a certificate (`BEM2:`, and version 1, `BEM1:`): a small
//! W3C VC 2.0 credential with the essential facts, secured as a VC-JOSE compact JWS
//! (EdDSA/Ed25519), packed with DEFLATE and written in the QR alphanumeric characters.
//! `docs/qr-compact.md` is the format's specification.
//!
//! Packed bytes (before DEFLATE): `H` (one byte, 1..=255), the protected header JSON (`H`
//! bytes), the 64-byte Ed25519 signature, the payload JSON (the rest). The JWS is
//! `BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)`, rebuilt byte for
//! byte: the signature is a standard JWS signature, checked by [`crate::verify`]'s
//! `vc+jwt` pipeline, and only the transport avoids base64 (which DEFLATE cannot shrink).
//! Version 1 writes the DEFLATE stream in Base45 (RFC 9285); version 2, which is written,
//! in Base45's algorithm with radix 43 over the alphanumeric characters a URL keeps as
//! they are (Base45's alphabet without space and `%`): the same length (3 characters for
//! 2 bytes), and the text goes into a link's fragment unchanged, so the link's QR code is
//! smaller. Both are read.
//!
//! Invariants: reading never panics on any input; text over [`MAX_TEXT_CHARS`] and
//! inflated data over [`MAX_INFLATED_BYTES`] are refused (decompression bombs); a wrong
//! prefix or version, a character outside the version's alphabet or a bad group, a
//! truncated or damaged stream are each a distinct, named error; nothing in the payload is
//! trusted before the pipeline verified its signature.

use std::io::Read;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Map, Value};

use crate::certificate::{CertificateView, Workload};
use crate::error::{Error, ProblemCode, Result};
use crate::jose::{JwsAlgorithm, JwsHeader};
use crate::verify::{Check, Report, VerifyOptions};

/// The prefix of the format version written (2). Every character is in the QR
/// alphanumeric set.
pub const PREFIX: &str = "BEM2:";
/// The prefix of format version 1 (Base45), still read.
pub const PREFIX_V1: &str = "BEM1:";
/// Longest compact text read (a version-40 QR code holds at most 4,296 characters).
pub const MAX_TEXT_CHARS: usize = 4296;
/// Most bytes DEFLATE may inflate to.
pub const MAX_INFLATED_BYTES: usize = 8 * 1024;

const BASE45: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
/// Version 2's digits: Base45's alphabet without the two characters a URL escapes.
const BASE43: &[u8; 43] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:";

/// Base45 (RFC 9285 §4) of `bytes`.
pub fn base45_encode(bytes: &[u8]) -> String {
    radix_encode(bytes, BASE45)
}

/// Bytes of Base45 text (RFC 9285 §4.2): every character in the alphabet, no group of one
/// character, no group over its range.
pub fn base45_decode(text: &str) -> Result<Vec<u8>> {
    radix_decode(text, BASE45, "Base45", PREFIX_V1.len())
}

/// Version 2's text of `bytes`: RFC 9285's algorithm with radix 43 ([`BASE43`]); as long
/// as Base45 (43³ > 65,535, so 2 bytes still take 3 characters).
pub fn base43_encode(bytes: &[u8]) -> String {
    radix_encode(bytes, BASE43)
}

/// Bytes of version 2's text ([`base43_encode`]), with Base45's rules.
pub fn base43_decode(text: &str) -> Result<Vec<u8>> {
    radix_decode(text, BASE43, "Base43", PREFIX.len())
}

/// RFC 9285 §4 with `alphabet.len()` as the radix: 2 bytes → 3 digits, least significant
/// first; a last single byte → 2 digits.
fn radix_encode(bytes: &[u8], alphabet: &[u8]) -> String {
    let radix = alphabet.len();
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |n: usize| {
        if let Some(&c) = alphabet.get(n % radix) {
            out.push(char::from(c));
        }
    };
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = usize::from(a) * 256 + usize::from(b);
                push(n);
                push(n / radix);
                push(n / (radix * radix));
            }
            [a] => {
                let n = usize::from(a);
                push(n);
                push(n / radix);
            }
            _ => {}
        }
    }
    out
}

/// Undoes [`radix_encode`]: every character in `alphabet` (`name` in errors, positions
/// counted after a prefix of `offset` characters), no group of one character, no group
/// over its range.
fn radix_decode(text: &str, alphabet: &[u8], name: &str, offset: usize) -> Result<Vec<u8>> {
    let value = |(i, c): (usize, u8)| -> Result<u32> {
        alphabet.iter().position(|&a| a == c).and_then(|p| u32::try_from(p).ok()).ok_or_else(|| {
            Error::malformed(format!(
                "the QR text has a character that is not {name} at position {}: {:?}",
                i + offset,
                char::from(c)
            ))
        })
    };
    let radix = u32::try_from(alphabet.len()).unwrap_or(45);
    let digits = text.bytes().enumerate().map(value).collect::<Result<Vec<u32>>>()?;
    let mut out = Vec::with_capacity(digits.len() / 3 * 2 + 1);
    let out_of_range = || Error::malformed(format!("the QR text has a {name} group out of range"));
    for group in digits.chunks(3) {
        match *group {
            [c, d, e] => {
                let n = c + d * radix + e * radix * radix;
                let [_, _, hi, lo] = n.to_be_bytes();
                if n > 0xFFFF {
                    return Err(out_of_range());
                }
                out.extend([hi, lo]);
            }
            [c, d] => {
                let n = c + d * radix;
                let [_, _, _, lo] = n.to_be_bytes();
                if n > 0xFF {
                    return Err(out_of_range());
                }
                out.push(lo);
            }
            _ => {
                return Err(Error::malformed(format!(
                    "the QR text is truncated (a {name} group of one character)"
                )))
            }
        }
    }
    Ok(out)
}

/// The compact text inside `input`: the text itself (`BEM1:…`, surrounding white space
/// ignored) or a link whose fragment carries it percent-encoded (`https://…/verify#BEM1:…`).
/// `None` when `input` is neither, so the caller can read it as something else; a text
/// that looks like another version (`BEM2:`) is returned as it is, for [`unpack`] to name.
pub fn find(input: &str) -> Option<String> {
    let input = input.trim();
    let is_web = |base: &str| {
        let scheme = base.split_once("://").map(|(scheme, _)| scheme);
        scheme.is_some_and(|s| s.eq_ignore_ascii_case("https") || s.eq_ignore_ascii_case("http"))
    };
    let candidate = match input.split_once('#') {
        Some((base, fragment)) if is_web(base) => percent_decode(fragment)?,
        _ => input.to_owned(),
    };
    let looks_like = candidate.len() > 4
        && candidate.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("BEM"))
        && candidate
            .get(3..)
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(v, _)| !v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit()));
    looks_like.then_some(candidate)
}

/// The link form: `verifier_page` (the verifier's `/verify` URL) + `#` + the compact text
/// (a version 2 text goes in as it is; a version 1 text's `%` and space, the only Base45
/// characters a URL changes, are percent-encoded). The scheme and host, which URLs
/// compare without case, are written in capitals: with the text they are then QR
/// alphanumeric characters, which take 5.5 bits rather than 8 (the path keeps its case).
pub fn link(verifier_page: &str, text: &str) -> String {
    let mut out = String::with_capacity(verifier_page.len() + text.len() * 3 + 1);
    match verifier_page.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (host, path) = rest.split_at(host_end);
            out.push_str(&scheme.to_ascii_uppercase());
            out.push_str("://");
            out.push_str(&host.to_ascii_uppercase());
            out.push_str(path);
        }
        None => out.push_str(verifier_page),
    }
    out.push('#');
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The preset dictionary of versions 1 and 2 (`docs/qr-compact.md`): DEFLATE starts with its
/// window holding these bytes (zlib's `inflateSetDictionary` on a raw stream), so the
/// names every credential repeats cost a back-reference, not their letters. Never change
/// it within a version.
pub const DICTIONARY: &[u8] = br##"{"alg":"EdDSA","kid":"#z6Mk"}{"@context":["https://www.w3.org/ns/credentials/v2","https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],"id":"https://","type":["VerifiableCredential","OpenBadgeCredential"],"issuer":{"id":"did:key:z6Mk","id":"did:web:","type":["Profile"],"name":"Academy"},"validFrom":"2026-01-01T00:00:00Z","validUntil":"","credentialSubject":{"type":["AchievementSubject"],"name":"","achievement":{"id":"https://","type":["Achievement"],"name":"","description":"Workload: 0 hours","creditsAvailable":1,"alignment":[{"type":["Alignment"],"targetName":"EQF level ","targetFramework":"European Qualifications Framework","targetUrl":"http://data.europa.eu/snb/eqf/"}]}},"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"","statusListCredential":"https://"}}/status-lists//credentials/"##;

/// The DEFLATE stream of [`DICTIONARY`] alone, ended by a sync flush (byte-aligned, not
/// final): compressing `DICTIONARY ‖ data` in one stream and dropping this prefix is
/// DEFLATE of `data` with the dictionary preset; inflating `prefix ‖ stream` undoes it.
fn dictionary_prefix(compress: &mut flate2::Compress) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(DICTIONARY.len() * 2 + 64);
    compress
        .compress_vec(DICTIONARY, &mut out, flate2::FlushCompress::Sync)
        .map_err(|e| Error::malformed(format!("DEFLATE failed: {e}")))?;
    Ok(out)
}

fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let prefix = dictionary_prefix(&mut compress)?;
    let mut out = prefix.clone();
    out.reserve(data.len() * 2 + 64);
    match compress.compress_vec(data, &mut out, flate2::FlushCompress::Finish) {
        Ok(flate2::Status::StreamEnd) => Ok(out.split_off(prefix.len())),
        Ok(_) => Err(Error::malformed("DEFLATE did not finish")),
        Err(e) => Err(Error::malformed(format!("DEFLATE failed: {e}"))),
    }
}

/// Inflates `stream` with the dictionary preset, reading at most [`MAX_INFLATED_BYTES`] + 1.
fn inflate(stream: &[u8]) -> Result<Vec<u8>> {
    let prefix = dictionary_prefix(&mut flate2::Compress::new(flate2::Compression::best(), false))?;
    let whole = [prefix.as_slice(), stream].concat();
    let mut out = Vec::new();
    let limit = u64::try_from(DICTIONARY.len() + MAX_INFLATED_BYTES).unwrap_or(u64::MAX) + 1;
    flate2::read::DeflateDecoder::new(whole.as_slice())
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| Error::malformed(format!("the QR text is truncated or damaged (DEFLATE: {e})")))?;
    match out.get(..DICTIONARY.len()) {
        Some(dictionary) if dictionary == DICTIONARY => Ok(out.split_off(DICTIONARY.len())),
        _ => Err(Error::malformed("the QR text is truncated or damaged (DEFLATE)")),
    }
}

/// The compact text of a signed compact JWS (made by [`sign`], or any JWS whose header
/// is at most 255 bytes and whose signature is 64 bytes).
pub fn pack(jws: &str) -> Result<String> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Error::malformed("not a compact JWS"));
    };
    let b64 = |seg: &str| {
        URL_SAFE_NO_PAD.decode(seg).map_err(|e| Error::malformed(format!("bad base64url in the JWS: {e}")))
    };
    let (header, payload, signature) = (b64(h)?, b64(p)?, b64(s)?);
    let header_len = u8::try_from(header.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| Error::malformed("the JWS header must be 1 to 255 bytes"))?;
    if signature.len() != 64 {
        return Err(Error::malformed("the JWS signature must be 64 bytes"));
    }
    let mut packed = Vec::with_capacity(1 + header.len() + 64 + payload.len());
    packed.push(header_len);
    packed.extend_from_slice(&header);
    packed.extend_from_slice(&signature);
    packed.extend_from_slice(&payload);
    Ok(format!("{PREFIX}{}", base43_encode(&deflate(&packed)?)))
}

/// The compact JWS inside a compact text; checks form only (prefix, version, Base45,
/// DEFLATE, size caps, layout), never the signature.
pub fn unpack(text: &str) -> Result<String> {
    let text = text.trim();
    if text.len() > MAX_TEXT_CHARS {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("the QR text is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    let not_ours = || Error::malformed(format!("the QR text does not start with {PREFIX} (or {PREFIX_V1})"));
    let Some((prefix, body)) = text.split_once(':') else { return Err(not_ours()) };
    let deflated = if prefix.eq_ignore_ascii_case("BEM2") {
        base43_decode(body)?
    } else if prefix.eq_ignore_ascii_case("BEM1") {
        base45_decode(body)?
    } else {
        let other_version = prefix.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("BEM"))
            && prefix.len() > 3
            && prefix.bytes().skip(3).all(|b| b.is_ascii_digit());
        return Err(if other_version {
            Error::malformed(format!(
                "the QR text is of format version {} (this verifier reads versions 1 and 2)",
                prefix.get(3..).unwrap_or("")
            ))
        } else {
            not_ours()
        });
    };
    let packed = inflate(&deflated)?;
    if packed.len() > MAX_INFLATED_BYTES {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("the QR text inflates to more than {MAX_INFLATED_BYTES} bytes"),
        ));
    }
    let truncated = || Error::malformed("the QR text is truncated (header, signature or payload missing)");
    let (&header_len, rest) = packed.split_first().ok_or_else(truncated)?;
    let header_len = usize::from(header_len);
    if header_len == 0 {
        return Err(Error::malformed("the QR text's header length is 0"));
    }
    let header = rest.get(..header_len).ok_or_else(truncated)?;
    let signature = rest.get(header_len..header_len + 64).ok_or_else(truncated)?;
    let payload = rest.get(header_len + 64..).filter(|p| !p.is_empty()).ok_or_else(truncated)?;
    Ok(format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// Signs `credential` (from [`summary`]) with `key` as the verification method `kid`
/// and returns the compact text. A `kid` under the issuer's DID is written relative
/// (`#…`), which the pipeline resolves against `issuer`.
pub fn sign(credential: &Value, kid: &str, key: &SigningKey) -> Result<String> {
    let issuer = crate::model::issuer_id(credential).map_err(|e| Error::malformed(e.message))?;
    let kid = match kid.strip_prefix(issuer) {
        Some(fragment) if fragment.starts_with('#') => fragment.to_owned(),
        _ => kid.to_owned(),
    };
    let header = JwsHeader { alg: JwsAlgorithm::EdDsa, kid: Some(kid), typ: None, cty: None };
    pack(&crate::jose::sign_compact(credential, &header, key)?)
}

/// The compact text (or a link carrying it) as a VC 2.0 `EnvelopedVerifiableCredential`
/// (`data:application/vc+jwt,…`), the form a wallet stores and the pipeline verifies.
/// Checks form only, like [`unpack`].
pub fn enveloped(input: &str) -> Result<Value> {
    let text = find(input).unwrap_or_else(|| input.trim().to_owned());
    let jws = unpack(&text)?;
    Ok(json!({
        "@context": [crate::contexts::CREDENTIALS_V2],
        "id": format!("data:application/vc+jwt,{jws}"),
        "type": "EnvelopedVerifiableCredential",
    }))
}

/// Verifies a compact text (or a link carrying one) through the `vc+jwt` pipeline. A text
/// that cannot be unpacked gives a report with one failed `parse` check naming why.
pub fn verify(input: &str, options: &VerifyOptions<'_>) -> Report {
    let text = find(input).unwrap_or_else(|| input.trim().to_owned());
    match unpack(&text) {
        Ok(jws) => {
            let mut report = crate::verify::verify_jwt_credential(&jws, options);
            // What screens read, once the signature verified (as for a sealed credential).
            let signed =
                report.checks.iter().any(|c| c.name == "proof" && c.status == crate::verify::Status::Ok);
            if signed {
                report.payload = crate::jose::decode_compact(&jws)
                    .and_then(|d| crate::jose::secured_document(&d))
                    .ok()
                    .map(|s| s.document);
            }
            report
        }
        Err(e) => {
            let mut report = Report::new("credential");
            report.checks.push(Check::failed("parse", &e));
            report
        }
    }
}

/// The compact credential of a full certificate (ELM, Open Badges or plain VC 2.0): the
/// learner's name, the micro-credential's title and id, the issuer (its DID: people read
/// the name the verifier's trust list gives it), the
/// award date (`validFrom`), EQF level, workload, every Bitstring Status List entry
/// (revocation, suspension, message: one entry as an object, more as an array), and `id`
/// = `link`, where the full credential is served. `expires` (a dateTimeStamp, the
/// caller's choice: the core has no clock) is its `validUntil`, or the full certificate's
/// own when that is earlier: a compact text checked with no network cannot learn of a
/// later revocation, so it must stop being valid on its own. Unsigned; see [`sign`].
pub fn summary(full: &Value, link: &str, expires: Option<&str>) -> Result<Value> {
    let view = CertificateView::read(full, "en");
    let issuer_id = crate::model::issuer_id(full).map_err(|e| Error::malformed(e.message))?;
    let mut issuer = Map::new();
    issuer.insert("id".into(), Value::from(issuer_id));
    issuer.insert("type".into(), json!(["Profile"]));
    let title = view.title.clone().ok_or_else(|| Error::malformed("the certificate has no title"))?;
    let mut achievement = Map::new();
    if let Some(id) = micro_credential_id(full) {
        achievement.insert("id".into(), Value::from(id));
    }
    achievement.insert("type".into(), json!(["Achievement"]));
    achievement.insert("name".into(), Value::from(title));
    for w in &view.workload {
        match w {
            Workload::Hours { hours } => {
                achievement.insert("description".into(), Value::from(format!("Workload: {hours} hours")));
            }
            Workload::Credits { amount, system } if system == "ECTS" => {
                let credits = amount.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
                if let Some(n) = credits {
                    achievement.insert("creditsAvailable".into(), Value::Number(n));
                }
            }
            _ => {}
        }
    }
    if let Some(level) = &view.eqf_level {
        achievement.insert(
            "alignment".into(),
            json!([{
                "type": ["Alignment"],
                "targetName": format!("EQF level {level}"),
                "targetFramework": crate::certificate::OB_EQF_FRAMEWORK,
                "targetUrl": format!("http://data.europa.eu/snb/eqf/{level}"),
            }]),
        );
    }
    let mut subject = Map::new();
    subject.insert("type".into(), json!(["AchievementSubject"]));
    if let Some(learner) = &view.learner {
        subject.insert("name".into(), Value::from(learner.as_str()));
    }
    subject.insert("achievement".into(), Value::Object(achievement));
    let issued = full
        .get("validFrom")
        .or_else(|| full.get("issuanceDate"))
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("the certificate has no validFrom or issuanceDate"))?;
    let mut credential = Map::new();
    credential
        .insert("@context".into(), json!([crate::contexts::CREDENTIALS_V2, crate::contexts::OPEN_BADGES_V3]));
    credential.insert("id".into(), Value::from(link));
    credential.insert("type".into(), json!(["VerifiableCredential", "OpenBadgeCredential"]));
    credential.insert("issuer".into(), Value::Object(issuer));
    credential.insert("validFrom".into(), Value::from(issued));
    let own = full.get("validUntil").or_else(|| full.get("expirationDate")).and_then(Value::as_str);
    let expires = expires
        .map(|e| {
            crate::datetime::parse_datetime_stamp(e)
                .map(|t| (e, t))
                .map_err(|err| Error::malformed(format!("the compact form's expiry {e:?}: {}", err.message)))
        })
        .transpose()?;
    let until = match (own, expires) {
        (Some(own), Some((e, at))) => match crate::datetime::parse_datetime_lenient(own) {
            Ok(own_at) if own_at <= at => Some(own),
            _ => Some(e),
        },
        (Some(own), None) => Some(own),
        (None, Some((e, _))) => Some(e),
        (None, None) => None,
    };
    if let Some(until) = until {
        credential.insert("validUntil".into(), Value::from(until));
    }
    credential.insert("credentialSubject".into(), Value::Object(subject));
    let mut entries = status_entries(full);
    match entries.len() {
        0 => {}
        1 => {
            credential.insert("credentialStatus".into(), entries.remove(0));
        }
        _ => {
            credential.insert("credentialStatus".into(), Value::Array(entries));
        }
    }
    Ok(Value::Object(credential))
}

fn micro_credential_id(full: &Value) -> Option<String> {
    let first = |v: Option<&Value>| -> Option<Value> {
        match v? {
            Value::Array(a) => a.first().cloned(),
            other => Some(other.clone()),
        }
    };
    let subject = first(full.get("credentialSubject"))?;
    let spec = first(first(subject.get("hasClaim")).as_ref().and_then(|c| c.get("specifiedBy")));
    let badge = first(subject.get("achievement"));
    spec.or(badge)?.get("id")?.as_str().map(str::to_owned)
}

/// Every Bitstring Status List entry of `full`, in its order, as the summary carries it.
fn status_entries(full: &Value) -> Vec<Value> {
    let Some(status) = full.get("credentialStatus") else { return Vec::new() };
    crate::json::items(status)
        .iter()
        .filter_map(Value::as_object)
        .filter(|e| crate::status_list::is_bitstring_entry(e))
        .filter_map(|entry| {
            // The summary is a VC 2.0 credential: the entry keeps only its Bitstring Status
            // List type (an EDC certificate's `CredentialStatus` is no term there), and the
            // terms a verifier reads.
            let mut out = Map::new();
            out.insert("type".into(), crate::status_list::ENTRY_TYPE.into());
            for key in ["statusPurpose", "statusListIndex", "statusListCredential"] {
                out.insert(key.into(), entry.get(key)?.clone());
            }
            for key in ["statusSize", "statusMessage", "statusReference"] {
                if let Some(v) = entry.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            Some(Value::Object(out))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did_key::DidKey;
    use crate::resolver::Offline;
    use crate::trust::{TrustList, TrustedIssuer};
    use crate::verify::{Status, Verdict};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    /// A full ELM certificate as the issuer makes it (the parts the summary reads).
    fn full(did: &str) -> Value {
        json!({
            "@context": ["https://www.w3.org/2018/credentials/v1", "http://data.europa.eu/snb/model/context/edc-ap"],
            "id": "urn:uuid:2f1d8c3e-6a2b-4c1d-9e8f-0a1b2c3d4e5f",
            "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
            "issuer": {"id": did, "type": "Organisation", "legalName": {"en": "Kyiv Digital Skills Academy"}},
            "issuanceDate": "2026-03-02T10:00:00Z",
            "credentialSubject": {
                "id": "urn:epass:person:1", "fullName": {"en": "Olena Kovalenko"},
                "hasClaim": [{"title": {"en": "Cloud fundamentals for SMEs"},
                    "specifiedBy": {"id": "https://academy.example/mc/cloud-fundamentals",
                        "title": {"en": "Cloud fundamentals for SMEs"},
                        "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/5"},
                        "volumeOfLearning": "PT50H"}}]
            },
            "credentialStatus": [
                {"id": "https://academy.example/status-lists/1#93122", "type": "BitstringStatusListEntry",
                 "statusPurpose": "revocation", "statusListIndex": "93122",
                 "statusListCredential": "https://academy.example/status-lists/1"},
                {"id": "https://academy.example/status-lists/2#17", "type": "BitstringStatusListEntry",
                 "statusPurpose": "suspension", "statusListIndex": "17",
                 "statusListCredential": "https://academy.example/status-lists/2"}
            ]
        })
    }

    /// Why the JWS is packed rather than deflated as text: base64url hides the JSON's
    /// repetitions from DEFLATE.
    /// An EDC certificate's one status entry (typed also `CredentialStatus`, written as an
    /// object) gives the summary the same revocation entry, typed for VC 2.0 alone.
    #[test]
    fn an_edc_status_entry_gives_the_same_summary_entry() {
        let array = full("did:key:z6MkTest");
        let mut single = array.clone();
        let mut entry = array["credentialStatus"][0].clone();
        entry["type"] = json!(["BitstringStatusListEntry", "CredentialStatus"]);
        single["credentialStatus"] = entry;
        let link = "https://academy.example/c/1";
        let (a, b) = (summary(&array, link, None).unwrap(), summary(&single, link, None).unwrap());
        assert_eq!(a["credentialStatus"][0], b["credentialStatus"]);
        assert_eq!(b["credentialStatus"]["type"], "BitstringStatusListEntry");
        // Every entry is carried: the suspension entry too (issue 17).
        assert_eq!(a["credentialStatus"][1]["statusPurpose"], "suspension");
        assert_eq!(a["credentialStatus"][1]["statusListIndex"], "17");
        single["credentialStatus"] = array["credentialStatus"][1].clone();
        assert_eq!(summary(&single, link, None).unwrap()["credentialStatus"]["statusPurpose"], "suspension");
        single.as_object_mut().unwrap().remove("credentialStatus");
        assert!(summary(&single, link, None).unwrap().get("credentialStatus").is_none());
    }

    /// The compact form expires: at the caller's date, or the certificate's own when earlier.
    #[test]
    fn the_summary_expires_at_the_earlier_of_its_expiry_and_the_certificates() {
        let link = "https://academy.example/c/1";
        let mut doc = full("did:key:z6MkTest");
        let made = summary(&doc, link, Some("2027-06-01T00:00:00Z")).unwrap();
        assert_eq!(made["validUntil"], "2027-06-01T00:00:00Z");
        doc["expirationDate"] = "2027-01-01T00:00:00Z".into();
        assert_eq!(
            summary(&doc, link, Some("2027-06-01T00:00:00Z")).unwrap()["validUntil"],
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            summary(&doc, link, Some("2026-12-01T00:00:00Z")).unwrap()["validUntil"],
            "2026-12-01T00:00:00Z"
        );
        assert!(summary(&doc, link, Some("tomorrow")).is_err());
    }

    #[test]
    fn packing_beats_deflating_the_jws_text() {
        use std::io::Write;
        let (_, text, _) = signed();
        let jws = unpack(&text).unwrap();
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(jws.as_bytes()).unwrap();
        let plain = PREFIX.len() + base43_encode(&enc.finish().unwrap()).len();
        assert!(text.len() * 2 < plain, "{} vs {plain}", text.len());
    }

    fn signed() -> (String, String, Value) {
        let did = DidKey::from_public_key(&key().verifying_key());
        let summary = summary(
            &full(did.did()),
            "https://academy.example/credentials/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            Some("2099-12-31T00:00:00Z"),
        )
        .unwrap();
        let text = sign(&summary, &did.verification_method_id(), &key()).unwrap();
        (did.did().to_owned(), text, summary)
    }

    fn verify_offline(text: &str, did: &str) -> Report {
        let trust = TrustList {
            issuers: vec![TrustedIssuer {
                id: did.into(),
                name: Some("Academy".into()),
                credential_types: vec![],
                keys: vec![],
            }],
            anchors: vec![],
        };
        let now = crate::datetime::parse_datetime_stamp("2026-06-01T00:00:00Z").unwrap();
        verify(text, &VerifyOptions::new(now, &trust, &Offline))
    }

    fn parse_error(text: &str) -> String {
        let report = verify_offline(text, "did:key:x");
        let check = report.checks.iter().find(|c| c.status == Status::Failed).unwrap();
        assert!(!report.verified());
        check.message.clone()
    }

    #[test]
    fn base45_matches_rfc_9285_examples() {
        assert_eq!(base45_encode(b"AB"), "BB8");
        assert_eq!(base45_encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(base45_encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(base45_decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(base45_decode("%69 VD92EX0").unwrap(), b"Hello!!");
        assert!(base45_decode("GGW").unwrap_err().message.contains("out of range"));
        assert!(base45_decode("ab").unwrap_err().message.contains("not Base45"));
        for n in 0..600usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 131 % 256) as u8).collect();
            assert_eq!(base45_decode(&base45_encode(&bytes)).unwrap(), bytes);
        }
    }

    /// Version 2's digits: as long as Base45, only URL-safe QR alphanumeric characters,
    /// every value of a group reachable and the largest ones refused.
    #[test]
    fn base43_round_trips_and_keeps_to_its_alphabet() {
        for n in 0..600usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 131 % 256) as u8).collect();
            let text = base43_encode(&bytes);
            assert_eq!(text.len(), base45_encode(&bytes).len());
            assert!(text.bytes().all(|b| BASE43.contains(&b)), "{text}");
            assert_eq!(base43_decode(&text).unwrap(), bytes);
        }
        assert_eq!(base43_encode(&[0xFF, 0xFF]), "3JZ"); // 65535 = 3 + 19·43 + 35·43²
        assert_eq!(base43_decode("3JZ").unwrap(), [0xFF, 0xFF]);
        assert!(base43_decode("4JZ").unwrap_err().message.contains("out of range"));
        assert!(base43_decode("::").unwrap_err().message.contains("out of range"));
        assert!(base43_decode("A B").unwrap_err().message.contains("not Base43"));
        assert!(base43_decode("A%B").unwrap_err().message.contains("not Base43"));
        assert!(base43_decode("A").unwrap_err().message.contains("truncated"));
    }

    #[test]
    fn a_signed_summary_verifies_offline_with_status_not_checked() {
        let (did, text, summary) = signed();
        assert!(text.starts_with("BEM2:"));
        assert!(text[PREFIX.len()..].bytes().all(|b| BASE43.contains(&b)), "{text}");
        assert!(text.len() <= 700, "{} characters", text.len());
        let report = verify_offline(&text, &did);
        assert!(report.verified(), "{:#?}", report.checks);
        assert_eq!(report.payload.as_ref(), Some(&summary));
        // The same credential as a wallet stores it.
        let envelope = enveloped(&text).unwrap();
        let trust = TrustList::default();
        let now = crate::datetime::parse_datetime_stamp("2026-06-01T00:00:00Z").unwrap();
        let stored = crate::verify::verify_credential(&envelope, &VerifyOptions::new(now, &trust, &Offline));
        assert!(stored.verified(), "{:#?}", stored.checks);
        assert_eq!(report.verdict(), Verdict::StatusUnknown, "{:#?}", report.checks);
        let status = report.checks.iter().find(|c| c.name == "status").unwrap();
        assert_eq!(status.status, Status::Skipped);
        assert!(status.message.contains("not checked"), "{}", status.message);
        assert_eq!(summary["credentialStatus"][0]["statusListIndex"], "93122");
        assert_eq!(summary["credentialStatus"][1]["statusPurpose"], "suspension");
        assert_eq!(summary["validUntil"], "2099-12-31T00:00:00Z");
        assert_eq!(summary["credentialSubject"]["achievement"]["description"], "Workload: 50 hours");
        let view = CertificateView::read(&summary, "en");
        assert_eq!(view.title.as_deref(), Some("Cloud fundamentals for SMEs"));
        assert_eq!(view.learner.as_deref(), Some("Olena Kovalenko"));
        assert_eq!(view.eqf_level.as_deref(), Some("5"));
        // The link form carries the same text as it is, after a capitalised scheme and host.
        let url = link("https://verify.example/verify", &text);
        assert_eq!(url, format!("HTTPS://VERIFY.EXAMPLE/verify#{text}"));
        assert_eq!(find(&url).as_deref(), Some(text.as_str()));
        assert!(verify_offline(&url, &did).verified());
        assert_eq!(find(&format!("https://verify.example/verify#{text}")).as_deref(), Some(text.as_str()));
    }

    /// Version 1 (Base45) texts, printed before version 2, still verify, bare and in a
    /// link (where `%` and space are percent-encoded).
    #[test]
    fn version_1_texts_are_still_read() {
        let (did, text, _) = signed();
        let v1 = version_1(&text);
        assert!(v1.starts_with("BEM1:") && v1.len() == text.len());
        assert!(verify_offline(&v1, &did).verified());
        let url = link("https://verify.example/verify", &v1);
        assert!(!url.contains(' '));
        assert_eq!(find(&url).as_deref(), Some(v1.as_str()));
        assert!(verify_offline(&url, &did).verified());
        // A version 2 body under the version 1 prefix reads as other bytes: refused.
        assert!(!verify_offline(&format!("BEM1:{}", &text[PREFIX.len()..]), &did).verified());
    }

    /// The version 1 text of a version 2 text: the same bytes in Base45.
    fn version_1(text: &str) -> String {
        format!("{PREFIX_V1}{}", base45_encode(&base43_decode(&text[PREFIX.len()..]).unwrap()))
    }

    #[test]
    fn bad_texts_are_named_errors_never_panics() {
        let (did, text, _) = signed();
        let whole_groups = PREFIX.len() + ((text.len() - PREFIX.len()) / 3 - 2) * 3;
        assert!(parse_error(&text[..whole_groups]).contains("truncated"));
        assert!(
            parse_error(&text[..text.len() - 1]).contains("truncated")
                || parse_error(&text[..text.len() - 1]).contains("out of range")
        );
        assert!(parse_error(&format!("{}a{}", &text[..20], &text[21..])).contains("not Base43"));
        assert!(parse_error(&format!("{} {}", &text[..20], &text[21..])).contains("not Base43"));
        assert!(parse_error(&text.replacen("BEM2:", "BEM3:", 1)).contains("version 3"));
        assert!(parse_error(&text.replacen("BEM2:", "HC1:", 1)).contains("does not start with BEM2:"));
        assert!(parse_error("BEM2:").contains("truncated"));
        assert!(parse_error("BEM1:").contains("truncated"));
        assert!(parse_error(&"A".repeat(5000)).contains("longer than"));
        // A decompression bomb: 1 MiB of zeros deflates to about 1 KiB.
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 1 << 20]).unwrap();
        let bomb = format!("{PREFIX}{}", base43_encode(&enc.finish().unwrap()));
        assert!(bomb.len() < 4000);
        assert!(parse_error(&bomb).contains("inflates to more than 8192 bytes"));
        // A wrong signature: another key signs the same credential under the same kid.
        let forged = {
            let kid = format!("{did}#{}", did.trim_start_matches("did:key:"));
            let summary = summary(&full(&did), "https://academy.example/credentials/x", None).unwrap();
            sign(&summary, &kid, &SigningKey::from_bytes(&[8u8; 32])).unwrap()
        };
        let report = verify_offline(&forged, &did);
        assert!(!report.verified());
        let proof = report.checks.iter().find(|c| c.name == "proof").unwrap();
        assert_eq!(proof.status, Status::Failed);
        assert_eq!(proof.code, Some("CRYPTOGRAPHIC_SECURITY_ERROR"), "{}", proof.message);
        // Every prefix of a valid text and every one-character change is an error or a
        // failed verification, never a panic.
        for cut in 0..text.len() {
            assert!(!verify_offline(&text[..cut], &did).verified());
        }
        for i in PREFIX.len()..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(!verify_offline(&changed, &did).verified(), "position {i}");
        }
    }

    /// The published test vectors (`testdata/qr/`), made here: the key, the credential,
    /// the JWS and the compact text must come out byte for byte as stored. Set
    /// `BEM_WRITE_QR_VECTORS=1` to write them again after a deliberate change.
    #[test]
    fn test_vectors_are_reproduced() {
        let (did, text, summary) = signed();
        let jws = unpack(&text).unwrap();
        let vectors = json!({
            "description": "BEM2 compact QR form (and the same bytes as a version 1 text), made by bem-core's compact::tests (docs/qr-compact.md)",
            "secretKeyHex": "0707070707070707070707070707070707070707070707070707070707070707",
            "issuer": did,
            "verificationMethod": DidKey::from_public_key(&key().verifying_key()).verification_method_id(),
            "now": "2026-06-01T00:00:00Z",
            "credential": summary,
            "jws": jws,
            "qrText": text,
            "link": link("https://verify.example/verify", &text),
            "qrTextVersion1": version_1(&text),
            "invalid": [
                {"case": "truncated", "qrText": &text[..PREFIX.len() + ((text.len() - PREFIX.len()) / 3 - 2) * 3], "error": "truncated"},
                {"case": "bad Base43 character", "qrText": format!("{}a{}", &text[..20], &text[21..]), "error": "not Base43"},
                {"case": "wrong version", "qrText": text.replacen("BEM2:", "BEM3:", 1), "error": "version 3"},
                {"case": "wrong prefix", "qrText": text.replacen("BEM2:", "HC1:", 1), "error": "does not start with BEM2:"},
            ]
        });
        let path = crate::testdata::path("qr/compact-vectors.json");
        let made = format!("{}\n", serde_json::to_string_pretty(&vectors).unwrap());
        if std::env::var_os("BEM_WRITE_QR_VECTORS").is_some() || !path.exists() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &made).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), made);
        for case in vectors["invalid"].as_array().unwrap() {
            let message = parse_error(case["qrText"].as_str().unwrap());
            assert!(message.contains(case["error"].as_str().unwrap()), "{case}: {message}");
        }
        assert_eq!(pack(&jws).unwrap(), text);
        assert!(verify_offline(&text, &did).verified());
        assert!(verify_offline(vectors["qrTextVersion1"].as_str().unwrap(), &did).verified());
    }
}
