//! Ed25519 Multikey encoding (CID §2.2.2): `publicKeyMultibase` and `secretKeyMultibase`.
//!
//! A Multikey value is `z` + base58btc(multicodec header ‖ raw key): header `0xed 0x01`
//! (ed25519-pub) and 32 key bytes for a public key, `0x80 0x26` (ed25519-priv) and a
//! 32-byte seed for a secret key.
//!
//! Invariants:
//! - [`decode_public`] returns only keys that are valid curve points and not of small
//!   order ([`VerifyingKey::is_weak`]): a weak key lets anyone forge signatures;
//! - a header other than the expected one (an X25519 key, a secret key offered as a public
//!   one, another curve) is refused with an error naming the header;
//! - every failure is `INVALID_VERIFICATION_METHOD`.

use ed25519_dalek::{SigningKey, VerifyingKey, PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH};

use crate::{multibase, Error, ProblemCode, Result};

/// Multicodec varint header of an Ed25519 public key (ed25519-pub, 0xed).
pub const ED25519_PUB_HEADER: [u8; 2] = [0xed, 0x01];
/// Multicodec varint header of an Ed25519 secret key seed (ed25519-priv, 0x1300).
pub const ED25519_PRIV_HEADER: [u8; 2] = [0x80, 0x26];

/// `publicKeyMultibase` of `key`: `z6Mk...`.
pub fn encode_public(key: &VerifyingKey) -> String {
    encode(ED25519_PUB_HEADER, key.as_bytes())
}

/// Most decoded public keys remembered (an issuer's key signs many credentials).
const DECODED_CAPACITY: usize = 1024;

/// Parses an Ed25519 `publicKeyMultibase`, refusing invalid and small-order points.
///
/// Decoded keys are remembered (bounded): decompressing the curve point is a fifth of an
/// `eddsa-jcs-2022` verification, and a verifier sees the same issuer keys again and
/// again. Only keys that passed every check are remembered.
pub fn decode_public(value: &str) -> Result<VerifyingKey> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static DECODED: OnceLock<Mutex<HashMap<String, VerifyingKey>>> = OnceLock::new();
    let cache = DECODED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(key) = cache.lock().ok().and_then(|m| m.get(value).copied()) {
        return Ok(key);
    }
    let key = decode_public_uncached(value)?;
    if let Ok(mut m) = cache.lock() {
        if m.len() >= DECODED_CAPACITY {
            m.clear();
        }
        m.insert(value.to_owned(), key);
    }
    Ok(key)
}

fn decode_public_uncached(value: &str) -> Result<VerifyingKey> {
    let bytes = decode(value, ED25519_PUB_HEADER, "public", PUBLIC_KEY_LENGTH)?;
    let raw: [u8; PUBLIC_KEY_LENGTH] = bytes.try_into().map_err(|_| invalid("unreachable length"))?;
    let key = VerifyingKey::from_bytes(&raw).map_err(|_| {
        invalid(format!("Multikey {value} is not a valid Ed25519 public key (not a curve point)"))
    })?;
    if key.is_weak() {
        return Err(invalid(format!(
            "Multikey {value} is a weak Ed25519 public key (a point of small order)"
        )));
    }
    Ok(key)
}

/// `secretKeyMultibase` of `key` (its 32-byte seed). The result is secret material.
pub fn encode_secret(key: &SigningKey) -> String {
    encode(ED25519_PRIV_HEADER, key.as_bytes())
}

/// Parses an Ed25519 `secretKeyMultibase` (a 32-byte seed with the 0x8026 header).
pub fn decode_secret(value: &str) -> Result<SigningKey> {
    let mut bytes = decode(value, ED25519_PRIV_HEADER, "secret", SECRET_KEY_LENGTH)?;
    let key = <[u8; SECRET_KEY_LENGTH]>::try_from(bytes.as_slice())
        .map(|seed| SigningKey::from_bytes(&seed))
        .map_err(|_| invalid("unreachable length"));
    // Best effort: do not leave the seed behind in freed memory.
    bytes.fill(0);
    std::hint::black_box(&bytes);
    key
}

fn encode(header: [u8; 2], key: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(header.len() + key.len());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(key);
    multibase::encode_base58btc(&bytes)
}

/// The key bytes of the Multikey `value`, checked for `header` and `len`.
fn decode(value: &str, header: [u8; 2], kind: &str, len: usize) -> Result<Vec<u8>> {
    if !value.starts_with(multibase::BASE58BTC) {
        return Err(invalid(format!(
            "Multikey {value:?} is not base58btc multibase (it must start with 'z')"
        )));
    }
    let mut bytes = multibase::decode_base58btc(value)
        .map_err(|e| invalid(format!("Multikey {value}: {}", e.message)))?;
    let found = bytes.get(..2).unwrap_or(&bytes);
    if found != header {
        let found = found.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let name = codec_name(&bytes);
        bytes.fill(0);
        return Err(invalid(format!(
            "Multikey {value} has multicodec header 0x{found} ({}), not 0x{:02x}{:02x} (Ed25519 {kind} key)",
            name, header[0], header[1],
        )));
    }
    let key_len = bytes.len().saturating_sub(header.len());
    if key_len != len {
        bytes.fill(0);
        return Err(invalid(format!(
            "Multikey {value} holds a {key_len}-byte key, an Ed25519 {kind} key has {len} bytes"
        )));
    }
    bytes.drain(..header.len());
    Ok(bytes)
}

/// The multicodec name of the header `bytes` start with, for error messages.
fn codec_name(bytes: &[u8]) -> &'static str {
    match bytes.get(..2) {
        Some([0xed, 0x01]) => "ed25519-pub",
        Some([0xec, 0x01]) => "x25519-pub",
        Some([0xe7, 0x01]) => "secp256k1-pub",
        Some([0x80, 0x24]) => "p256-pub",
        Some([0x81, 0x24]) => "p384-pub",
        Some([0x80, 0x26]) => "ed25519-priv",
        Some([0x81, 0x26]) => "secp256k1-priv",
        Some([0x82, 0x26]) => "x25519-priv",
        Some([0x86, 0x26]) => "p256-priv",
        Some(_) => "unknown codec",
        None => "too short for a header",
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ProblemCode::InvalidVerificationMethod, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn key_pairs() -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let single: Value =
            serde_json::from_str(&crate::testdata::read("vc-di-eddsa/TestVectors/keyPair.json")).unwrap();
        let multi: Value = serde_json::from_str(&crate::testdata::read(
            "vc-di-eddsa/TestVectors/proof-set-chain/multiKeyPairs.json",
        ))
        .unwrap();
        let multi = multi.as_object().unwrap().values().cloned();
        for pair in std::iter::once(single).chain(multi) {
            pairs.push((
                pair["publicKeyMultibase"].as_str().unwrap().to_owned(),
                pair["privateKeyMultibase"].as_str().unwrap().to_owned(),
            ));
        }
        pairs
    }

    #[test]
    fn vc_di_eddsa_key_pairs_round_trip_and_match() {
        let pairs = key_pairs();
        assert_eq!(pairs.len(), 5);
        for (public, secret) in pairs {
            let verifying = decode_public(&public).unwrap();
            let signing = decode_secret(&secret).unwrap();
            assert_eq!(signing.verifying_key(), verifying, "{public} is not the key of {secret}");
            assert_eq!(encode_public(&verifying), public);
            assert_eq!(encode_secret(&signing), secret);
        }
    }

    #[test]
    fn refuses_other_headers_naming_them() {
        let (public, secret) = key_pairs().remove(0);
        let key = decode_public(&public).unwrap();
        let x25519 = encode([0xec, 0x01], key.as_bytes());
        let err = decode_public(&x25519).unwrap_err();
        assert_eq!(err.code, ProblemCode::InvalidVerificationMethod);
        assert!(err.message.contains("0xec01 (x25519-pub)"), "{}", err.message);
        // A secret key where a public key is expected, and the reverse.
        let err = decode_public(&secret).unwrap_err();
        assert!(err.message.contains("0x8026 (ed25519-priv)"), "{}", err.message);
        let err = decode_secret(&public).unwrap_err();
        assert!(err.message.contains("0xed01 (ed25519-pub)"), "{}", err.message);
        let err = decode_public(&multibase::encode_base58btc(&[0xed])).unwrap_err();
        assert!(err.message.contains("too short"), "{}", err.message);
    }

    #[test]
    fn refuses_wrong_base_and_lengths() {
        let (public, _) = key_pairs().remove(0);
        let key = decode_public(&public).unwrap();
        let mut raw = ED25519_PUB_HEADER.to_vec();
        raw.extend_from_slice(key.as_bytes());
        let err = decode_public(&multibase::encode_base64url(&raw)).unwrap_err();
        assert_eq!(err.code, ProblemCode::InvalidVerificationMethod);
        assert!(err.message.contains("must start with 'z'"), "{}", err.message);
        assert!(decode_public(&public[1..]).is_err());
        let err = decode_public("z6Mk0OIl").unwrap_err();
        assert_eq!(err.code, ProblemCode::InvalidVerificationMethod);

        let short = encode(ED25519_PUB_HEADER, &key.as_bytes()[..31]);
        let err = decode_public(&short).unwrap_err();
        assert!(err.message.contains("31-byte key"), "{}", err.message);
        let mut long = key.as_bytes().to_vec();
        long.push(0);
        let err = decode_public(&encode(ED25519_PUB_HEADER, &long)).unwrap_err();
        assert!(err.message.contains("33-byte key"), "{}", err.message);
        let err = decode_secret(&encode(ED25519_PRIV_HEADER, &[7; 64])).unwrap_err();
        assert!(err.message.contains("64-byte key"), "{}", err.message);
    }

    #[test]
    fn refuses_weak_and_invalid_points() {
        // The identity (y = 1) and the point of order 2 (y = -1): both small order.
        let identity = {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        };
        let order_two = {
            let mut b = [0xffu8; 32];
            b[0] = 0xec;
            b[31] = 0x7f;
            b
        };
        for weak in [identity, order_two, [0u8; 32]] {
            let err = decode_public(&encode(ED25519_PUB_HEADER, &weak)).unwrap_err();
            assert_eq!(err.code, ProblemCode::InvalidVerificationMethod);
            assert!(err.message.contains("weak"), "{}", err.message);
        }
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        let err = decode_public(&encode(ED25519_PUB_HEADER, &off_curve)).unwrap_err();
        assert!(err.message.contains("not a curve point"), "{}", err.message);
    }
}
