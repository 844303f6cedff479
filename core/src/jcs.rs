//! RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON value that
//! `eddsa-jcs-2022` hashes.
//!
//! Invariants:
//! - object members are sorted by the UTF-16 code units of their names (RFC 8785 §3.2.3),
//!   never by bytes or locale; no whitespace is emitted;
//! - strings are escaped as ECMAScript `JSON.stringify` does (§3.2.2.2): `\b \f \n \r \t
//!   \" \\`, `\u00XX` (lowercase hex) for the other controls, everything else literal UTF-8;
//! - numbers are written as ECMAScript `Number.prototype.toString` writes the IEEE-754
//!   double (§3.2.2.3, via `ryu-js`); `-0` is `0`. Integers outside the I-JSON safe range
//!   ±(2^53−1) and values that are not finite doubles are refused, never rounded: two
//!   parties could otherwise sign and check different numbers;
//! - nesting is bounded by [`MAX_DEPTH`] (an error, not a stack overflow).

use serde_json::{Map, Number, Value};

use crate::{Error, ProblemCode, Result};

/// The deepest nesting of arrays and objects that is canonicalized.
pub const MAX_DEPTH: usize = 256;
/// 2^53 − 1, the largest integer every IEEE-754 double consumer reads exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The RFC 8785 canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<String> {
    let mut out = String::new();
    canonicalize_into(value, &mut out)?;
    Ok(out)
}

/// Appends the RFC 8785 canonical form of `value` to `out`. On error `out` holds a
/// partial result and must be discarded.
pub fn canonicalize_into(value: &Value, out: &mut String) -> Result<()> {
    write_value(value, out, 0)
}

fn write_value(value: &Value, out: &mut String, depth: usize) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            let depth = enter(depth)?;
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out, depth)?;
            }
            out.push(']');
        }
        Value::Object(members) => write_object(members, out, enter(depth)?)?,
    }
    Ok(())
}

fn enter(depth: usize) -> Result<usize> {
    if depth >= MAX_DEPTH {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("JSON value nests deeper than {MAX_DEPTH} levels; it is not canonicalized"),
        ));
    }
    Ok(depth + 1)
}

fn write_object(members: &Map<String, Value>, out: &mut String, depth: usize) -> Result<()> {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_unstable_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push('{');
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        write_value(value, out, depth)?;
    }
    out.push('}');
    Ok(())
}

/// Writes `n` as ECMAScript writes the double it denotes.
fn write_number(n: &Number, out: &mut String) -> Result<()> {
    let unsafe_integer = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u > MAX_SAFE_INTEGER,
        (None, Some(i)) => i.unsigned_abs() > MAX_SAFE_INTEGER,
        (None, None) => false,
    };
    if unsafe_integer {
        return Err(Error::malformed(format!(
            "the integer {n} is outside the I-JSON range ±(2^53-1): it has no exact canonical form"
        )));
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            write_double(f, out);
            Ok(())
        }
        _ => Err(Error::malformed(format!("the number {n} is not a finite IEEE-754 double"))),
    }
}

/// ECMAScript `Number.prototype.toString` of a finite double.
fn write_double(f: f64, out: &mut String) {
    if f == 0.0 {
        // Both zeros are "0".
        out.push('0');
    } else {
        out.push_str(ryu_js::Buffer::new().format_finite(f));
    }
}

/// Writes `s` as a JSON string literal, escaped as ECMAScript `JSON.stringify` does.
fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run_start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every escaped byte is ASCII, so `run_start..i` lies on char boundaries.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        run_start = i + 1;
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    out.push('"');
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    fn canonical_number(text: &str) -> Result<String> {
        canonicalize(&crate::json::parse_str(text, &Default::default())?)
    }

    #[test]
    fn rfc8785_test_data() {
        let dir = crate::testdata::path("jcs-rfc8785/testdata/input");
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names.len(), 6, "{names:?}");
        for name in names {
            let input = crate::testdata::read(&format!("jcs-rfc8785/testdata/input/{name}"));
            let expected =
                std::fs::read(crate::testdata::path(&format!("jcs-rfc8785/testdata/output/{name}"))).unwrap();
            let hex_name = name.replace(".json", ".txt");
            let hex = crate::testdata::read(&format!("jcs-rfc8785/testdata/outhex/{hex_name}"));
            let from_hex: Vec<u8> =
                hex.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect();
            assert_eq!(from_hex, expected, "{name}: outhex and output disagree");

            let value = crate::json::parse_str(&input, &Default::default()).unwrap();
            let canonical = canonicalize(&value).unwrap();
            assert_eq!(canonical.as_bytes(), expected, "{name}");
            // Canonicalization is idempotent.
            let again =
                canonicalize(&crate::json::parse_str(&canonical, &Default::default()).unwrap()).unwrap();
            assert_eq!(again, canonical, "{name}");
        }
    }

    #[test]
    fn numbers_are_written_as_ecmascript_writes_them() {
        for (input, expected) in [
            ("1E30", "1e+30"),
            ("4.50", "4.5"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("333333333.33333329", "333333333.3333333"),
            ("2e-3", "0.002"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("9007199254740991", "9007199254740991"),
            ("-9007199254740991", "-9007199254740991"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("-1.5", "-1.5"),
            ("100", "100"),
        ] {
            assert_eq!(canonical_number(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_integers_outside_the_safe_range() {
        for n in [json!(9007199254740992u64), json!(u64::MAX), json!(-9007199254740992i64), json!(i64::MIN)] {
            let err = canonicalize(&json!({ "n": n })).unwrap_err();
            assert_eq!(err.code, ProblemCode::MalformedValueError);
            assert!(err.message.contains("I-JSON"), "{}", err.message);
        }
        assert_eq!(canonicalize(&json!(-9007199254740991i64)).unwrap(), "-9007199254740991");
    }

    #[test]
    fn escapes_strings_like_json_stringify() {
        let value = json!("\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}\"\\/<>é€😂");
        assert_eq!(
            canonicalize(&value).unwrap(),
            "\"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\u{7f}\\\"\\\\/<>é€😂\""
        );
    }

    #[test]
    fn sorts_by_utf16_code_units_not_bytes() {
        // U+FB33 is one UTF-16 unit (0xFB33); U+1F602 is the pair 0xD83D 0xDE02, which sorts
        // first although its UTF-8 bytes (F0 ..) sort after EF AC B3.
        let value = json!({ "\u{fb33}": 1, "\u{1f602}": 2, "\u{e9}": 3, "a": 4, "": 5 });
        assert_eq!(canonicalize(&value).unwrap(), "{\"\":5,\"a\":4,\"é\":3,\"😂\":2,\"\u{fb33}\":1}");
    }

    #[test]
    fn bounds_nesting() {
        let mut deep = json!(0);
        for _ in 0..MAX_DEPTH {
            deep = json!([deep]);
        }
        assert!(canonicalize(&deep).is_ok());
        let err = canonicalize(&json!([deep])).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
    }

    /// The RFC 8785 number test file (testdata/README.md): its first 100,000 lines are
    /// regenerated from the README's algorithm with our formatting, and the SHA-256 of the
    /// result must be the published one.
    #[test]
    fn es6_number_test_file_first_100000_lines() {
        let readme = crate::testdata::read("jcs-rfc8785/testdata/README.md");
        let block = readme
            .split("staticU64s = new BigUint64Array([")
            .nth(1)
            .and_then(|rest| rest.split("])").next())
            .unwrap();
        let statics: Vec<u64> = block
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| u64::from_str_radix(s.trim_start_matches("0x").trim_end_matches('n'), 16).unwrap())
            .collect();
        assert_eq!(statics.len(), 168);
        let expected_hash = readme
            .lines()
            .find(|l| l.contains("| 100000 "))
            .and_then(|l| l.split('|').nth(1))
            .map(str::trim)
            .unwrap()
            .to_owned();

        let serial = (0..2000u64).map(|i| 0x0010_0000_0000_0000 + i);
        let mut block = [0u8; 32];
        let mut pending: Vec<u64> = Vec::new();
        let random = std::iter::from_fn(|| loop {
            if pending.is_empty() {
                block = Sha256::digest(block).into();
                pending =
                    block.chunks_exact(8).rev().map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
            }
            let bits = pending.pop().unwrap();
            let f = f64::from_bits(bits);
            if f != 0.0 && f.is_finite() {
                return Some(bits);
            }
        });
        let mut hasher = Sha256::new();
        let mut line = String::new();
        let all = statics.iter().copied().chain(serial).chain(random);
        for bits in all.take(100_000) {
            line.clear();
            line.push_str(&format!("{bits:x},"));
            write_double(f64::from_bits(bits), &mut line);
            line.push('\n');
            hasher.update(line.as_bytes());
        }
        let hash: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash, expected_hash);
    }
}
