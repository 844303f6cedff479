//! W3C Bitstring Status List v1.0 codec: the bitstring, its `encodedList` form, and the
//! `statusListIndex` of an entry.
//!
//! Bit order (BSL §3.1): index 0 is the most significant bit of byte 0 (`0x80 >> (i % 8)`).
//! An entry of `statusSize` bits at index `i` covers bits `i*size .. (i+1)*size`, the first
//! of them the most significant bit of its value.
//!
//! Invariants:
//! - a [`Bitstring`] is a whole number of bytes; one made by [`Bitstring::new`] has at least
//!   [`MIN_ENTRIES`] bits; one made by [`Bitstring::decode`] came from a `u`-prefixed,
//!   unpadded base64url GZIP stream (one member, checksum verified, nothing after it)
//!   no longer than the caller's [`DecodeLimits`] before and after inflating; the
//!   output cap is enforced while inflating, so a GZIP bomb costs at most the cap;
//! - a [`StatusListIndex`] was a JSON string of ASCII decimal digits only.
//!
//! Errors use the BSL codes: `MALFORMED_VALUE_ERROR` for a bad encoding or index,
//! `RANGE_ERROR` for an index beyond the list, `STATUS_LIST_LENGTH_ERROR` for a short list,
//! `RESOURCE_LIMIT_EXCEEDED` for input over the limits.

use std::io::{Read, Write};

use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

use crate::{multibase, Error, ProblemCode, Result};

/// The minimum number of entries of a status list (BSL §3.2, `minimumNumberOfEntries`):
/// 131,072, i.e. 16 KiB of single-bit entries.
pub const MIN_ENTRIES: usize = 131_072;
/// The widest `statusSize` read or written here, in bits.
pub const MAX_STATUS_SIZE: u32 = 32;

/// Bounds on an `encodedList` that [`Bitstring::decode`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Longest `encodedList` string, in bytes.
    pub max_encoded_len: usize,
    /// Largest bitstring after inflating, in bytes.
    pub max_decoded_bytes: usize,
}

impl Default for DecodeLimits {
    /// 1 MiB encoded, 16 MiB (134,217,728 entries) decoded.
    fn default() -> Self {
        Self { max_encoded_len: 1024 * 1024, max_decoded_bytes: 16 * 1024 * 1024 }
    }
}

/// A status list bitstring.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Bitstring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.bytes.iter().map(|b| b.count_ones() as usize).sum::<usize>();
        write!(f, "Bitstring {{ len_bits: {}, set_bits: {set} }}", self.len_bits())
    }
}

impl Bitstring {
    /// An all-zero list of `len_bits` bits: a multiple of 8, at least [`MIN_ENTRIES`], and
    /// at most the default decoding limit (so that every verifier can read it back).
    pub fn new(len_bits: usize) -> Result<Bitstring> {
        let (len_bytes, extra_bits) = (len_bits / 8, len_bits % 8);
        if extra_bits != 0 {
            return Err(Error::malformed(format!(
                "a status list of {len_bits} bits is not a whole number of bytes"
            )));
        }
        if len_bits < MIN_ENTRIES {
            return Err(Error::new(
                ProblemCode::StatusListLengthError,
                format!("a status list of {len_bits} bits is shorter than the minimum of {MIN_ENTRIES}"),
            ));
        }
        let max_bits = DecodeLimits::default().max_decoded_bytes.saturating_mul(8);
        if len_bits > max_bits {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!("a status list of {len_bits} bits is longer than the maximum of {max_bits}"),
            ));
        }
        Ok(Bitstring { bytes: vec![0; len_bytes] })
    }

    /// The length in bits.
    pub fn len_bits(&self) -> usize {
        self.bytes.len().saturating_mul(8)
    }

    /// The bit at `index`, or `None` beyond the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.bytes.get(index / 8)?;
        Some(byte & mask(index) != 0)
    }

    /// Sets the bit at `index` (`RANGE_ERROR` beyond the end).
    pub fn set(&mut self, index: usize, value: bool) -> Result<()> {
        let len_bits = self.len_bits();
        let byte = self.bytes.get_mut(index / 8).ok_or_else(|| {
            Error::new(
                ProblemCode::RangeError,
                format!("bit {index} is outside the status list of {len_bits} bits"),
            )
        })?;
        if value {
            *byte |= mask(index);
        } else {
            *byte &= !mask(index);
        }
        Ok(())
    }

    /// The value of the `status_size`-bit entry at `index` (bits `index*size ..
    /// (index+1)*size`, most significant first). `RANGE_ERROR` if the entry does not fit.
    pub fn get_status(&self, index: usize, status_size: u32) -> Result<u32> {
        let bits = self.entry_bits(index, status_size)?;
        Ok(bits.fold(0, |value, bit| (value << 1) | u32::from(self.get(bit) == Some(true))))
    }

    /// Sets the `status_size`-bit entry at `index` to `status`, which must fit the size.
    pub fn set_status(&mut self, index: usize, status_size: u32, status: u32) -> Result<()> {
        let bits = self.entry_bits(index, status_size)?;
        if status_size < 32 && status >> status_size != 0 {
            return Err(Error::malformed(format!(
                "status {status:#x} does not fit in statusSize {status_size}"
            )));
        }
        for (bit, shift) in bits.zip((0..status_size).rev()) {
            self.set(bit, (status >> shift) & 1 == 1)?;
        }
        Ok(())
    }

    /// The bit positions of entry `index`, checked against the list.
    fn entry_bits(&self, index: usize, status_size: u32) -> Result<std::ops::Range<usize>> {
        check_status_size(status_size)?;
        let size = status_size as usize;
        let start = index.checked_mul(size);
        match start.and_then(|s| s.checked_add(size).map(|end| s..end)) {
            Some(bits) if bits.end <= self.len_bits() => Ok(bits),
            _ => Err(Error::new(
                ProblemCode::RangeError,
                format!(
                    "status list index {index} (statusSize {status_size}) is outside the status list of {} bits",
                    self.len_bits()
                ),
            )),
        }
    }

    /// The `encodedList` form: `u` + base64url (no padding) of the GZIP of the bits.
    pub fn encode(&self) -> String {
        let mut gzip = GzEncoder::new(Vec::with_capacity(self.bytes.len() / 64 + 64), Compression::best());
        // Compressing into a Vec cannot fail: io errors could only come from the Vec. Were
        // it to, the empty result would be refused by every decoder (fails closed).
        let compressed = gzip.write_all(&self.bytes).and_then(|()| gzip.finish()).unwrap_or_default();
        multibase::encode_base64url(&compressed)
    }

    /// Decodes an `encodedList` (BSL §3.4 Bitstring Expansion), within `limits`.
    pub fn decode(encoded: &str, limits: &DecodeLimits) -> Result<Bitstring> {
        if encoded.len() > limits.max_encoded_len {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!(
                    "encodedList is {} bytes long, more than the {} accepted",
                    encoded.len(),
                    limits.max_encoded_len
                ),
            ));
        }
        if encoded.starts_with("H4sI") {
            return Err(Error::malformed(
                "encodedList lacks the multibase 'u' header (an unprefixed GZIP base64 value of the older StatusList2021 form)",
            ));
        }
        let compressed = multibase::decode_base64url(encoded)
            .map_err(|e| Error::malformed(format!("encodedList: {}", e.message)))?;
        let not_gzip =
            |e: std::io::Error| Error::malformed(format!("encodedList is not a valid GZIP stream: {e}"));

        let mut decoder = GzDecoder::new(compressed.as_slice());
        let cap = limits.max_decoded_bytes;
        let mut bytes = Vec::new();
        decoder.by_ref().take(cap as u64 + 1).read_to_end(&mut bytes).map_err(not_gzip)?;
        if bytes.len() > cap {
            return Err(Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!("encodedList inflates to more than {cap} bytes"),
            ));
        }
        let trailing = decoder.get_ref().len();
        if trailing != 0 {
            return Err(Error::malformed(format!(
                "encodedList has {trailing} bytes after the end of its GZIP stream"
            )));
        }
        Ok(Bitstring { bytes })
    }
}

/// `STATUS_LIST_LENGTH_ERROR` unless `list` has at least [`MIN_ENTRIES`] entries of
/// `status_size` bits.
///
/// This follows BSL §3.2 Validate Algorithm step 9 as written: "If the length of the
/// revocation bitstring divided by statusSize is less than minimumNumberOfEntries, raise a
/// STATUS_LIST_LENGTH_ERROR", so a list of 2-bit entries needs 262,144 bits.
pub fn check_length(list: &Bitstring, status_size: u32) -> Result<()> {
    check_status_size(status_size)?;
    let entries = list.len_bits() / status_size as usize;
    if entries < MIN_ENTRIES {
        return Err(Error::new(
            ProblemCode::StatusListLengthError,
            format!(
                "the status list has {entries} entries of {status_size} bits ({} bits), fewer than the minimum of {MIN_ENTRIES}",
                list.len_bits()
            ),
        ));
    }
    Ok(())
}

fn check_status_size(status_size: u32) -> Result<()> {
    if !(1..=MAX_STATUS_SIZE).contains(&status_size) {
        return Err(Error::malformed(format!(
            "statusSize {status_size} is not between 1 and {MAX_STATUS_SIZE}"
        )));
    }
    Ok(())
}

fn mask(index: usize) -> u8 {
    0x80 >> (index % 8)
}

/// The entry type this module reads.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";

/// Whether a `credentialStatus` entry is a `BitstringStatusListEntry`: its `type` is that
/// term, or an array holding it beside other types (an EDC certificate's entry is also an
/// `elm:CredentialStatus`, the one class EDC's shapes accept there).
pub fn is_bitstring_entry(entry: &serde_json::Map<String, Value>) -> bool {
    match entry.get("type") {
        Some(Value::String(t)) => t == ENTRY_TYPE,
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(ENTRY_TYPE)),
        _ => false,
    }
}

/// The `statusListIndex` of a `BitstringStatusListEntry`: a JSON string of decimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusListIndex(usize);

impl StatusListIndex {
    /// Parses the JSON value of `statusListIndex`. Only a string of ASCII digits is a
    /// status list index: numbers, signs, spaces, fractions and empty strings are
    /// `MALFORMED_VALUE_ERROR`; a value beyond the address space is `RANGE_ERROR`.
    pub fn parse(value: &Value) -> Result<StatusListIndex> {
        let Value::String(text) = value else {
            return Err(Error::malformed(format!(
                "statusListIndex {value} is not a string (it must be a base-10 integer in a string)"
            )));
        };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::malformed(format!("statusListIndex {text:?} is not a base-10 integer")));
        }
        text.parse().map(StatusListIndex).map_err(|_| {
            Error::new(ProblemCode::RangeError, format!("statusListIndex {text:?} is out of range"))
        })
    }

    /// The index as a number.
    pub fn value(self) -> usize {
        self.0
    }

    /// `RANGE_ERROR` unless the entry of `status_size` bits at this index lies inside `list`.
    pub fn check_range(self, list: &Bitstring, status_size: u32) -> Result<()> {
        list.entry_bits(self.0, status_size).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use serde_json::json;
    use std::time::{Duration, Instant};

    #[test]
    fn entries_are_read_by_their_bitstring_type_alone_or_among_others() {
        let read = |t: serde_json::Value| {
            let entry = json!({"type": t, "statusPurpose": "revocation"});
            is_bitstring_entry(entry.as_object().unwrap())
        };
        assert!(read(json!("BitstringStatusListEntry")));
        assert!(read(json!(["BitstringStatusListEntry", "CredentialStatus"])));
        assert!(read(json!(["CredentialStatus", "BitstringStatusListEntry"])));
        for other in
            [json!("StatusList2021Entry"), json!(["CredentialStatus"]), json!([]), json!(7), json!(null)]
        {
            assert!(!read(other.clone()), "{other}");
        }
        assert!(!is_bitstring_entry(json!({"statusPurpose": "revocation"}).as_object().unwrap()));
    }

    const W3C_EXAMPLE: &str = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";

    fn decode(encoded: &str) -> Result<Bitstring> {
        Bitstring::decode(encoded, &DecodeLimits::default())
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn w3c_example_list_is_131072_zero_bits() {
        let list = decode(W3C_EXAMPLE).unwrap();
        assert_eq!(list.len_bits(), 131_072);
        assert!(list.bytes.iter().all(|&b| b == 0));
        check_length(&list, 1).unwrap();
        assert_eq!(list.get(131_071), Some(false));
        assert_eq!(list.get(131_072), None);
    }

    #[test]
    fn encoded_lists_of_the_bitstring_status_list_vectors_decode() {
        let dir = crate::testdata::path("bitstring-status-list");
        let mut found = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let doc = crate::json::parse(&std::fs::read(&path).unwrap(), &Default::default()).unwrap();
            let Some(encoded) = doc.pointer("/credentialSubject/encodedList").and_then(Value::as_str) else {
                continue;
            };
            let list = decode(encoded).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            check_length(&list, 1).unwrap();
            assert_eq!(list.len_bits(), 131_072, "{}", path.display());
            found += 1;
        }
        assert_eq!(found, 2);
    }

    #[test]
    fn entry_indexes_of_the_vectors_parse() {
        let doc = crate::json::parse_str(
            &crate::testdata::read("bitstring-status-list/A-Revocable-Verifiable-Credential.json"),
            &Default::default(),
        )
        .unwrap();
        let index = StatusListIndex::parse(&doc["credentialStatus"]["statusListIndex"]).unwrap();
        assert_eq!(index.value(), 94567);
        let list = decode(W3C_EXAMPLE).unwrap();
        index.check_range(&list, 1).unwrap();
        assert_eq!(list.get_status(index.value(), 1).unwrap(), 0);
    }

    #[test]
    fn bits_land_msb_first_and_round_trip() {
        let mut list = Bitstring::new(MIN_ENTRIES).unwrap();
        list.set(0, true).unwrap();
        assert_eq!(list.bytes[0], 0x80);
        list.set(7, true).unwrap();
        assert_eq!(list.bytes[0], 0x81);
        list.set(8, true).unwrap();
        assert_eq!(list.bytes[1], 0x80);
        list.set(131_071, true).unwrap();
        assert_eq!(list.bytes[16_383], 0x01);
        assert_eq!(list.set(131_072, true).unwrap_err().code, ProblemCode::RangeError);

        let encoded = list.encode();
        assert!(encoded.starts_with("uH4sI"), "{encoded}");
        let back = decode(&encoded).unwrap();
        assert_eq!(back, list);
        for index in [0, 7, 8, 131_071] {
            assert_eq!(back.get(index), Some(true), "{index}");
        }
        for index in [1, 6, 9, 131_070] {
            assert_eq!(back.get(index), Some(false), "{index}");
        }
        list.set(7, false).unwrap();
        assert_eq!(list.bytes[0], 0x80);
    }

    #[test]
    fn multi_bit_statuses() {
        let mut list = Bitstring::new(MIN_ENTRIES * 2).unwrap();
        list.set_status(0, 2, 0b10).unwrap();
        list.set_status(3, 2, 0b11).unwrap();
        assert_eq!(list.bytes[0], 0b1000_0011);
        assert_eq!(list.get_status(0, 2).unwrap(), 2);
        assert_eq!(list.get_status(1, 2).unwrap(), 0);
        assert_eq!(list.get_status(3, 2).unwrap(), 3);
        // Entry 1 of 4 bits is the low nibble of byte 0.
        assert_eq!(list.get_status(1, 4).unwrap(), 0b0011);
        assert_eq!(list.get_status(0, 8).unwrap(), 0b1000_0011);
        list.set_status(131_071, 2, 1).unwrap();
        assert_eq!(list.get_status(131_071, 2).unwrap(), 1);
        assert_eq!(list.get_status(131_072, 2).unwrap_err().code, ProblemCode::RangeError);
        assert_eq!(list.get_status(usize::MAX, 2).unwrap_err().code, ProblemCode::RangeError);
        assert_eq!(list.set_status(0, 2, 4).unwrap_err().code, ProblemCode::MalformedValueError);
        assert_eq!(list.get_status(0, 0).unwrap_err().code, ProblemCode::MalformedValueError);
        assert_eq!(list.get_status(0, 33).unwrap_err().code, ProblemCode::MalformedValueError);
        list.set_status(1, 32, u32::MAX).unwrap();
        assert_eq!(list.get_status(1, 32).unwrap(), u32::MAX);
    }

    #[test]
    fn length_checks_divide_by_status_size() {
        let list = decode(W3C_EXAMPLE).unwrap();
        check_length(&list, 1).unwrap();
        let err = check_length(&list, 2).unwrap_err();
        assert_eq!(err.code, ProblemCode::StatusListLengthError);
        assert!(err.message.contains("65536 entries"), "{}", err.message);
        check_length(&Bitstring::new(MIN_ENTRIES * 2).unwrap(), 2).unwrap();

        let short = decode(&multibase::encode_base64url(&gzip(&[0; 16_383]))).unwrap();
        assert_eq!(check_length(&short, 1).unwrap_err().code, ProblemCode::StatusListLengthError);
        assert_eq!(Bitstring::new(MIN_ENTRIES - 8).unwrap_err().code, ProblemCode::StatusListLengthError);
        assert_eq!(Bitstring::new(MIN_ENTRIES + 1).unwrap_err().code, ProblemCode::MalformedValueError);
        assert_eq!(Bitstring::new(usize::MAX - 7).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
    }

    #[test]
    fn refuses_bad_encodings() {
        let legacy = decode(&W3C_EXAMPLE[1..]).unwrap_err();
        assert_eq!(legacy.code, ProblemCode::MalformedValueError);
        assert!(legacy.message.contains("'u' header"), "{}", legacy.message);

        let compressed = gzip(&[0; 16_384]);
        let standard = base64::engine::general_purpose::STANDARD.encode(&compressed);
        let standard = standard.trim_end_matches('=');
        assert!(standard.contains(['+', '/']), "{standard}");
        let padded = format!("{}==", &W3C_EXAMPLE[..W3C_EXAMPLE.len() - 1]);
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(&compressed);
        let mut corrupt = compressed.clone();
        let crc_at = corrupt.len() - 8;
        corrupt[crc_at] ^= 1;
        let truncated = &compressed[..compressed.len() - 4];
        let cases = [
            (format!("z{}", &W3C_EXAMPLE[1..]), "header 'u'"),
            (String::new(), "empty"),
            (padded, "padded"),
            (format!("u{standard}"), "invalid base64url"),
            (format!("u{}", W3C_EXAMPLE[1..].replace('-', "+")), "invalid base64url"),
            (multibase::encode_base64url(b"not gzip at all"), "not a valid GZIP"),
            (multibase::encode_base64url(&[0x78, 0x9c, 0x03, 0x00]), "not a valid GZIP"),
            (multibase::encode_base64url(&corrupt), "not a valid GZIP"),
            (multibase::encode_base64url(truncated), "not a valid GZIP"),
            (multibase::encode_base64url(&trailing), "after the end"),
        ];
        for (encoded, needle) in cases {
            let err = decode(&encoded).unwrap_err();
            assert_eq!(err.code, ProblemCode::MalformedValueError, "{encoded}: {}", err.message);
            assert!(err.message.contains(needle), "{encoded}: {}", err.message);
        }
    }

    #[test]
    fn refuses_gzip_bombs_quickly() {
        let bomb = multibase::encode_base64url(&gzip(&vec![0; 64 * 1024 * 1024]));
        assert!(bomb.len() < DecodeLimits::default().max_encoded_len, "{}", bomb.len());
        let started = Instant::now();
        let err = decode(&bomb).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
        assert!(err.message.contains("inflates to more than"), "{}", err.message);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

        let small = DecodeLimits { max_decoded_bytes: 16_383, ..DecodeLimits::default() };
        let err = Bitstring::decode(W3C_EXAMPLE, &small).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);

        let long = format!("u{}", "A".repeat(DecodeLimits::default().max_encoded_len));
        let err = decode(&long).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
        assert!(err.message.contains("encodedList is"), "{}", err.message);
    }

    #[test]
    fn status_list_index_is_only_a_decimal_string() {
        for (value, expected) in [(json!("0"), 0), (json!("94567"), 94567), (json!("007"), 7)] {
            assert_eq!(StatusListIndex::parse(&value).unwrap().value(), expected);
        }
        for value in [
            json!("abc"),
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!("1 "),
            json!("1.0"),
            json!("1e3"),
            json!("0x10"),
            json!("١"),
            json!(""),
            json!(1),
            json!(true),
            json!(null),
            json!(["1"]),
        ] {
            let err = StatusListIndex::parse(&value).unwrap_err();
            assert_eq!(err.code, ProblemCode::MalformedValueError, "{value}");
            assert!(err.message.contains("statusListIndex"), "{}", err.message);
        }
        let huge = StatusListIndex::parse(&json!("99999999999999999999999999")).unwrap_err();
        assert_eq!(huge.code, ProblemCode::RangeError);

        let list = decode(W3C_EXAMPLE).unwrap();
        let last = StatusListIndex::parse(&json!("131071")).unwrap();
        last.check_range(&list, 1).unwrap();
        assert_eq!(last.check_range(&list, 2).unwrap_err().code, ProblemCode::RangeError);
        let beyond = StatusListIndex::parse(&json!("131072")).unwrap();
        let err = beyond.check_range(&list, 1).unwrap_err();
        assert_eq!(err.code, ProblemCode::RangeError);
        assert!(err.message.contains("131072"), "{}", err.message);
    }
}
