//! Multibase (CID §2.4): the two encodings the core reads and writes, base58btc (`z`)
//! and base64url without padding (`u`).
//!
//! Invariants:
//! - every encoded value starts with its one-character multibase header; decoding
//!   refuses a missing or different header, so a value is never read in the wrong base;
//! - base58btc uses the Bitcoin alphabet; base64url uses the URL-safe alphabet, refuses
//!   `=` padding, the standard-alphabet characters `+` and `/`, and non-canonical
//!   trailing bits, so each byte string has exactly one accepted encoding;
//! - base58 decoding costs time quadratic in the input length, so base58btc input is
//!   capped at [`MAX_BASE58BTC_CHARS`] (keys and signatures are far shorter).
//!
//! Errors are `MALFORMED_VALUE_ERROR` (`RESOURCE_LIMIT_EXCEEDED` for the length cap);
//! callers that know what the value is (a key, a proof) re-label them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::{Error, ProblemCode, Result};

/// The multibase header of base58btc (Bitcoin alphabet).
pub const BASE58BTC: char = 'z';
/// The multibase header of base64url without padding.
pub const BASE64URL: char = 'u';
/// The longest base58btc value (header included) that [`decode_base58btc`] accepts:
/// 1024 characters, about 750 bytes, well above any key (34 bytes) or signature (64).
pub const MAX_BASE58BTC_CHARS: usize = 1024;

/// `z` followed by the base58btc encoding of `bytes`.
pub fn encode_base58btc(bytes: &[u8]) -> String {
    let body = bs58::encode(bytes).into_string();
    let mut out = String::with_capacity(1 + body.len());
    out.push(BASE58BTC);
    out.push_str(&body);
    out
}

/// Decodes a `z`-prefixed base58btc value.
pub fn decode_base58btc(value: &str) -> Result<Vec<u8>> {
    if value.len() > MAX_BASE58BTC_CHARS {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!(
                "base58btc multibase value is {} characters long, more than the {MAX_BASE58BTC_CHARS} accepted",
                value.len()
            ),
        ));
    }
    let body = strip_header(value, BASE58BTC, "base58btc")?;
    bs58::decode(body)
        .into_vec()
        .map_err(|e| Error::malformed(format!("invalid base58btc multibase value: {e}")))
}

/// `u` followed by the unpadded base64url encoding of `bytes`.
pub fn encode_base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    out.push(BASE64URL);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// Decodes a `u`-prefixed, unpadded base64url value.
pub fn decode_base64url(value: &str) -> Result<Vec<u8>> {
    let body = strip_header(value, BASE64URL, "base64url")?;
    if body.ends_with('=') {
        return Err(Error::malformed("base64url multibase value must not be padded with '='"));
    }
    URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|e| Error::malformed(format!("invalid base64url multibase value: {e}")))
}

/// `value` without its multibase header, which must be `header`.
fn strip_header<'a>(value: &'a str, header: char, base: &str) -> Result<&'a str> {
    let mut chars = value.chars();
    match chars.next() {
        Some(found) if found == header => Ok(chars.as_str()),
        Some(found) => Err(Error::malformed(format!(
            "expected a {base} multibase value (header '{header}'), found header {found:?}"
        ))),
        None => Err(Error::malformed(format!(
            "expected a {base} multibase value (header '{header}'), found an empty string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58btc_round_trips_and_keeps_leading_zeros() {
        for bytes in [&b""[..], b"\0\0\x01", b"hello world", &[0xed, 0x01, 0xff, 0x00]] {
            let encoded = encode_base58btc(bytes);
            assert!(encoded.starts_with('z'));
            assert_eq!(decode_base58btc(&encoded).unwrap(), bytes);
        }
        // The multibase spec's example: "Multibase is awesome! \o/".
        assert_eq!(encode_base58btc(b"Multibase is awesome! \\o/"), "zYAjKoNbau5KiqmHPmSxYCvn66dA1vLmwbt");
        assert_eq!(encode_base58btc(b"\0\0\x01"), "z112");
    }

    #[test]
    fn base58btc_refuses_bad_header_and_alphabet() {
        let err = decode_base58btc("uAQID").unwrap_err();
        assert_eq!(err.code, ProblemCode::MalformedValueError);
        assert!(err.message.contains("header 'z'") && err.message.contains("'u'"), "{}", err.message);
        let err = decode_base58btc("").unwrap_err();
        assert!(err.message.contains("empty"), "{}", err.message);
        // Base58 has no 0, O, I or l.
        for bad in ["z0abc", "zOabc", "zIabc", "zlabc", "zab+c", "zé"] {
            let err = decode_base58btc(bad).unwrap_err();
            assert_eq!(err.code, ProblemCode::MalformedValueError, "{bad}");
            assert!(err.message.contains("invalid base58btc"), "{bad}: {}", err.message);
        }
        let too_long = format!("z{}", "2".repeat(MAX_BASE58BTC_CHARS));
        assert_eq!(decode_base58btc(&too_long).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
    }

    #[test]
    fn base64url_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xfb\xff\xfe"] {
            let encoded = encode_base64url(bytes);
            assert!(encoded.starts_with('u') && !encoded.contains('='));
            assert_eq!(decode_base64url(&encoded).unwrap(), bytes);
        }
        assert_eq!(encode_base64url(b"\xfb\xff\xfe"), "u-__-");
        assert_eq!(encode_base64url(b"Multibase is awesome! \\o/"), "uTXVsdGliYXNlIGlzIGF3ZXNvbWUhIFxvLw");
    }

    #[test]
    fn base64url_refuses_padding_standard_alphabet_and_bad_header() {
        let padded = decode_base64url("uZm8=").unwrap_err();
        assert!(padded.message.contains("padded"), "{}", padded.message);
        for bad in ["u+__-", "u/__-", "u-_ _-", "uZm8*"] {
            let err = decode_base64url(bad).unwrap_err();
            assert_eq!(err.code, ProblemCode::MalformedValueError);
            assert!(err.message.contains("invalid base64url"), "{bad}: {}", err.message);
        }
        // "Zm9" has non-zero trailing bits: a second spelling of "fo" ("Zm8").
        assert!(decode_base64url("uZm9").is_err());
        // A length that no byte string encodes to.
        assert!(decode_base64url("uZ").is_err());
        let wrong = decode_base64url("zZm8").unwrap_err();
        assert!(wrong.message.contains("header 'u'"), "{}", wrong.message);
        assert!(decode_base64url("").is_err());
    }
}
