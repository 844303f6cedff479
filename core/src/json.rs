//! Strict JSON parsing: the only way untrusted bytes become a [`serde_json::Value`].
//!
//! serde_json alone is too lenient for signed data: it keeps the last of duplicate member
//! names (another parser may keep the first, so two parties would see different
//! documents), and it silently rounds large integers. This parser is serde_json driven by
//! a strict visitor.
//!
//! Invariants of every value returned (RFC 8259 + I-JSON, RFC 7493):
//! - the input was at most [`JsonLimits::max_bytes`] long, valid UTF-8, exactly one JSON
//!   value with nothing but whitespace after it;
//! - no object has two members of the same name, at any depth;
//! - no string or member name holds a lone surrogate or a Unicode noncharacter
//!   (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF in every plane);
//! - arrays and objects nest at most [`JsonLimits::max_depth`] deep (checked as the input
//!   is read, so deep input is an error, never a stack overflow);
//! - every integer is within ±(2^53−1), so it reads the same as an IEEE-754 double
//!   everywhere (JCS, JavaScript); every number is a finite double.
//!
//! Too large or too deep input is `RESOURCE_LIMIT_EXCEEDED`; anything else is
//! `PARSING_ERROR`, with the line, column and path (`$.a.b[2]`) of the problem.
//!
//! Numbers are read from their own literal text, correctly rounded (serde_json's default
//! float parsing can be one ULP off, which would change a JCS signature). This works
//! whether or not serde_json's `arbitrary_precision` feature is on somewhere in the build
//! (then serde_json hands some numbers over as a one-member map).

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use crate::{Error, ProblemCode, Result};

/// Bounds on the JSON a parse accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects (`[]` is depth 1). Values above
    /// [`MAX_SUPPORTED_DEPTH`] act as [`MAX_SUPPORTED_DEPTH`].
    pub max_depth: usize,
}

/// Largest credential, in bytes of its JSON text, that this project reads: the verifier
/// refuses larger ones (413), and the issuer refuses to sign one.
pub const MAX_CREDENTIAL_BYTES: usize = 512 * 1024;

impl Default for JsonLimits {
    /// 2 MiB and 64 levels: far above any credential, far below harm.
    fn default() -> Self {
        Self { max_bytes: 2 * 1024 * 1024, max_depth: 64 }
    }
}

/// The deepest nesting [`JsonLimits::max_depth`] can allow. serde_json stops at 128 levels
/// on its own; staying below keeps the error ours (and `RESOURCE_LIMIT_EXCEEDED`).
pub const MAX_SUPPORTED_DEPTH: usize = 126;

/// 2^53 − 1, the largest integer an IEEE-754 double holds together with all below it.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The member name serde_json's `arbitrary_precision` feature uses to pass a number.
const ARBITRARY_PRECISION_TOKEN: &str = "$serde_json::private::Number";

/// A JSON-LD value that is one item or an array of them, as a slice (`credentialStatus`,
/// `@context`, `@container`, …): an array's items, else the value itself.
pub fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        one => std::slice::from_ref(one),
    }
}

/// Parses `bytes` as one strict JSON value.
pub fn parse(bytes: &[u8], limits: &JsonLimits) -> Result<Value> {
    check_size(bytes.len(), limits)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| Error::parsing(format!("JSON input is not valid UTF-8: {e}")))?;
    parse_checked(text, limits)
}

/// Parses `text` as one strict JSON value.
pub fn parse_str(text: &str, limits: &JsonLimits) -> Result<Value> {
    check_size(text.len(), limits)?;
    parse_checked(text, limits)
}

fn check_size(len: usize, limits: &JsonLimits) -> Result<()> {
    if len > limits.max_bytes {
        return Err(Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("JSON input is {len} bytes, more than the {} allowed", limits.max_bytes),
        ));
    }
    Ok(())
}

fn parse_checked(text: &str, limits: &JsonLimits) -> Result<Value> {
    let mut state = State {
        max_depth: limits.max_depth.min(MAX_SUPPORTED_DEPTH),
        depth: 0,
        path: Vec::new(),
        depth_exceeded: false,
        numbers: NumberLiterals { text, pos: 0 },
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = ValueSeed { state: &mut state }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| {
        let code =
            if state.depth_exceeded { ProblemCode::ResourceLimitExceeded } else { ProblemCode::ParsingError };
        let mut message = format!("invalid JSON: {e}");
        if !state.path.is_empty() {
            message.push_str(" (in ");
            message.push_str(&format_path(&state.path));
            message.push(')');
        }
        Error::new(code, message)
    })
}

/// What the visitor tracks while it builds the value.
struct State<'a> {
    max_depth: usize,
    depth: usize,
    /// Where the parser is; on an error, where the error is.
    path: Vec<Segment>,
    depth_exceeded: bool,
    /// The number literals of the text, met in the order serde_json visits them.
    numbers: NumberLiterals<'a>,
}

enum Segment {
    Member(String),
    Index(usize),
}

/// `$.name[3]["odd name"]`, for error messages.
fn format_path(path: &[Segment]) -> String {
    let mut out = String::from("$");
    for segment in path {
        match segment {
            Segment::Member(name)
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '$' | '-')) =>
            {
                out.push('.');
                out.push_str(name);
            }
            Segment::Member(name) => out.push_str(&format!("[{name:?}]")),
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Builds one value, and is the visitor for it.
struct ValueSeed<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'a> ValueSeed<'_, 'a> {
    fn child(&mut self) -> ValueSeed<'_, 'a> {
        ValueSeed { state: self.state }
    }

    /// The text of the number serde_json is visiting.
    fn literal<E: de::Error>(&mut self) -> Result<&'a str, E> {
        self.state.numbers.next().ok_or_else(|| E::custom("internal error: number literals out of step"))
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        if self.state.depth >= self.state.max_depth {
            self.state.depth_exceeded = true;
            return Err(E::custom(format_args!(
                "arrays and objects nest deeper than {} levels",
                self.state.max_depth
            )));
        }
        self.state.depth += 1;
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Value, E> {
        self.literal()?;
        if v > MAX_SAFE_INTEGER {
            return Err(unsafe_integer(v));
        }
        Ok(Value::from(v))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Value, E> {
        self.literal()?;
        if v.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(unsafe_integer(v));
        }
        Ok(Value::from(v))
    }

    /// serde_json's own float parsing is not correctly rounded (without its
    /// `float_roundtrip` feature), and it turns integers beyond 64 bits into doubles: so
    /// the literal is read again here, exactly.
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<Value, E> {
        let literal = self.literal()?;
        number_from_literal(literal)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        check_characters(v, "string value")?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        check_characters(&v, "string value")?;
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.state.path.push(Segment::Index(items.len()));
            let Some(item) = seq.next_element_seed(self.child())? else {
                break;
            };
            self.state.path.pop();
            items.push(item);
        }
        self.state.path.pop();
        self.state.depth -= 1;
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        let mut next = map.next_key::<String>()?;
        if next.as_deref() == Some(ARBITRARY_PRECISION_TOKEN) && arbitrary_precision() {
            map.next_value::<de::IgnoredAny>()?;
            let literal = self.literal()?;
            return number_from_literal(literal);
        }
        self.enter()?;
        while let Some(name) = next {
            check_characters(&name, "member name")?;
            self.state.path.push(Segment::Member(name));
            let value = map.next_value_seed(self.child())?;
            let Some(Segment::Member(name)) = self.state.path.pop() else {
                return Err(de::Error::custom("internal error: JSON path out of step"));
            };
            match members.entry(name) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => {
                    return Err(de::Error::custom(format_args!("duplicate member name {:?}", slot.key())));
                }
            }
            next = map.next_key::<String>()?;
        }
        self.state.depth -= 1;
        Ok(Value::Object(members))
    }
}

fn unsafe_integer<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format_args!("the integer {v} is outside the I-JSON range ±(2^53-1)"))
}

/// Refuses Unicode noncharacters in `s` (lone surrogates never reach a `&str`).
fn check_characters<E: de::Error>(s: &str, what: &str) -> Result<(), E> {
    // Every noncharacter is U+FDD0 or above, so its UTF-8 starts with 0xEF or 0xF0..=0xF4.
    if !s.bytes().any(|b| b >= 0xef) {
        return Ok(());
    }
    match s.chars().find(|&c| is_noncharacter(c)) {
        Some(c) if what == "member name" => Err(E::custom(format_args!(
            "member name {s:?} contains the Unicode noncharacter U+{:04X}",
            u32::from(c)
        ))),
        Some(c) => {
            Err(E::custom(format_args!("{what} contains the Unicode noncharacter U+{:04X}", u32::from(c))))
        }
        None => Ok(()),
    }
}

/// Whether `c` is a Unicode noncharacter (U+FDD0..U+FDEF, or U+xFFFE/U+xFFFF of any
/// plane): the one definition every producer of signed text checks against, so nothing
/// is signed that this parser refuses.
pub fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xfdd0..=0xfdef).contains(&c) || c & 0xfffe == 0xfffe
}

/// Whether serde_json's `arbitrary_precision` feature is on in this build (it keeps a
/// number's text, so "1.50" prints as "1.50" rather than "1.5").
fn arbitrary_precision() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| serde_json::from_str::<Number>("1.50").is_ok_and(|n| n.to_string() == "1.50"))
}

/// The number of the JSON number literal `literal` (which serde_json has accepted), if
/// it is a finite double and, when written as an integer, within ±(2^53−1).
fn number_from_literal<E: de::Error>(literal: &str) -> Result<Value, E> {
    let is_integer = !literal.contains(['.', 'e', 'E']);
    if is_integer && literal != "-0" {
        match literal.parse::<i64>() {
            Ok(v) if v.unsigned_abs() <= MAX_SAFE_INTEGER => {}
            _ => return Err(unsafe_integer(literal)),
        }
    }
    // Rust's float parsing is correctly rounded (round-half-even, as ECMAScript reads).
    literal
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| E::custom(format_args!("the number {literal} is not a finite double")))
}

/// A cursor over the number literals of a JSON text, outside its strings.
///
/// serde_json visits numbers in text order and only after reading them, so the text up to
/// the cursor is valid JSON, and the k-th literal found here is the k-th number visited.
struct NumberLiterals<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for NumberLiterals<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.text.as_bytes();
        let mut i = self.pos;
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    i += 1;
                    loop {
                        match *bytes.get(i)? {
                            b'\\' => i += 2,
                            b'"' => break,
                            _ => i += 1,
                        }
                    }
                    i += 1;
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while matches!(bytes.get(i), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
                        i += 1;
                    }
                    self.pos = i;
                    return self.text.get(start..i);
                }
                _ => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_default(text: &str) -> Result<Value> {
        parse(text.as_bytes(), &JsonLimits::default())
    }

    fn parsing_error(text: &str) -> String {
        let err = parse_default(text).unwrap_err();
        assert_eq!(err.code, ProblemCode::ParsingError, "{text}: {}", err.message);
        err.message
    }

    #[test]
    fn accepts_every_vc_di_eddsa_test_vector() {
        let mut stack = vec![crate::testdata::path("vc-di-eddsa/TestVectors")];
        let mut count = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let bytes = std::fs::read(&path).unwrap();
                    let strict = parse(&bytes, &JsonLimits::default())
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    let lenient: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(strict, lenient, "{}", path.display());
                    count += 1;
                }
            }
        }
        assert_eq!(count, 27);
    }

    #[test]
    fn keeps_member_order_and_values() {
        let value = parse_default(r#" {"b": [1, -2, 3.5, "x", true, false, null], "a": {}} "#).unwrap();
        assert_eq!(value, json!({"b": [1, -2, 3.5, "x", true, false, null], "a": {}}));
        let names: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(names, ["b", "a"]);
    }

    #[test]
    fn refuses_duplicate_member_names_anywhere() {
        let message = parsing_error(r#"{"a": 1, "a": 1}"#);
        assert!(message.contains(r#"duplicate member name "a""#), "{message}");
        let message = parsing_error(r#"{"x": [{"ok": 1}, {"id": 1, "b": 2, "id": 3}]}"#);
        assert!(message.contains(r#"duplicate member name "id""#), "{message}");
        assert!(message.contains("$.x[1]"), "{message}");
        // The same name spelled with an escape is the same name.
        let message = parsing_error(r#"{"credentialSubject": {"name": 1, "n\u0061me": 2}}"#);
        assert!(message.contains(r#""name""#) && message.contains("$.credentialSubject"), "{message}");
        // The same name in different objects is fine.
        assert!(parse_default(r#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8() {
        for bytes in [&b"\"\xff\""[..], b"{\"a\xc3\": 1}", b"\"\xed\xa0\x80\"", b"[\"\xe2\x82\"]"] {
            let err = parse(bytes, &JsonLimits::default()).unwrap_err();
            assert_eq!(err.code, ProblemCode::ParsingError);
            assert!(err.message.contains("UTF-8"), "{}", err.message);
        }
    }

    #[test]
    fn refuses_lone_surrogates() {
        for text in [r#""\ud800""#, r#""\udc00""#, r#""\ud800x""#, r#"{"\udfff": 1}"#, r#""\ud800\u0041""#] {
            let message = parsing_error(text);
            assert!(message.contains("surrogate") || message.contains("escape"), "{text}: {message}");
        }
        // A proper pair is a character.
        assert_eq!(parse_default(r#""\ud83d\ude02""#).unwrap(), json!("😂"));
    }

    #[test]
    fn refuses_noncharacters_in_strings_and_names() {
        for (text, code_point) in [
            ("\"\u{fdd0}\"", "U+FDD0"),
            ("\"a\u{fdef}\"", "U+FDEF"),
            ("\"\u{fffe}\"", "U+FFFE"),
            (r#""\uffff""#, "U+FFFF"),
            ("\"\u{1fffe}\"", "U+1FFFE"),
            (r#""\udbff\udfff""#, "U+10FFFF"),
        ] {
            let message = parsing_error(text);
            assert!(message.contains(code_point) && message.contains("string value"), "{message}");
        }
        let message = parsing_error("{\"ok\": {\"bad\u{fdd5}\": 1}}");
        assert!(message.contains("member name") && message.contains("U+FDD5"), "{message}");
        assert!(message.contains("$.ok"), "{message}");
        // Neighbours of noncharacters are ordinary characters.
        assert!(parse_default("[\"\u{fdcf}\u{fdf0}\u{fffd}\u{1fffd}\u{10000}\"]").is_ok());
    }

    #[test]
    fn refuses_nesting_beyond_the_limit_without_overflowing_the_stack() {
        let limits = JsonLimits { max_depth: 3, ..JsonLimits::default() };
        assert!(parse(br#"[{"a": [1]}]"#, &limits).is_ok());
        let err = parse(br#"[{"a": [[1]]}]"#, &limits).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
        assert!(
            err.message.contains("deeper than 3") && err.message.contains("$[0].a[0]"),
            "{}",
            err.message
        );

        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_default(&nested(64)).is_ok());
        assert_eq!(parse_default(&nested(65)).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
        // A limit above serde_json's own still ends in our error, and deep input is cheap.
        let generous = JsonLimits { max_depth: 10_000, ..JsonLimits::default() };
        assert!(parse(nested(MAX_SUPPORTED_DEPTH).as_bytes(), &generous).is_ok());
        for depth in [MAX_SUPPORTED_DEPTH + 1, 500_000] {
            let err = parse(nested(depth).as_bytes(), &generous).unwrap_err();
            assert_eq!(err.code, ProblemCode::ResourceLimitExceeded, "{}", err.message);
        }
        let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
        assert_eq!(parse_default(&objects).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
    }

    #[test]
    fn refuses_integers_outside_the_safe_range() {
        assert_eq!(
            parse_default("[9007199254740991, -9007199254740991]").unwrap(),
            json!([9007199254740991i64, -9007199254740991i64])
        );
        for text in [
            "9007199254740992",
            "-9007199254740992",
            "18446744073709551615",
            "-9223372036854775808",
            "18446744073709551616",
            "-18446744073709551616",
            r#"{"a": "1", "n": [0, 123456789012345678901234567890]}"#,
        ] {
            let message = parsing_error(text);
            assert!(message.contains("I-JSON"), "{text}: {message}");
        }
        // Doubles, however large, are doubles; digits inside strings are text.
        assert!(parse_default(r#"[1e30, 123456789012345678901.5, "123456789012345678901234567890"]"#).is_ok());
        assert!(parse_default(r#"["\"123456789012345678901234567890", 1e300]"#).is_ok());
        assert!(parse_default("1E400").is_err());
        assert_eq!(parse_default("-0").unwrap().as_f64(), Some(-0.0));
    }

    #[test]
    fn reads_doubles_correctly_rounded() {
        // serde_json's default parser reads this one ULP off (…33325).
        let value = parse_default("[333333333.33333329, 0.1, 2.2250738585072011e-308, 1e23]").unwrap();
        let expected = [333333333.3333333f64, 0.1, 2.225073858507201e-308, 1e23];
        for (read, expected) in value.as_array().unwrap().iter().zip(expected) {
            assert_eq!(read.as_f64().unwrap().to_bits(), expected.to_bits(), "{expected}");
        }
        // Numbers inside strings, keys and escapes do not disturb the reading order.
        let value = parse_default(r#"{"1.5": "2.5\"3.5", "k": [-4.25e1, 7, "8", 9.5]}"#).unwrap();
        assert_eq!(value, json!({"1.5": "2.5\"3.5", "k": [-42.5, 7, "8", 9.5]}));
    }

    #[test]
    fn refuses_trailing_garbage_and_bad_syntax() {
        for text in [
            "{} x",
            "[1] [2]",
            "1 2",
            "{}}",
            "",
            "   ",
            "[1,]",
            r#"{"a":1,}"#,
            "NaN",
            "Infinity",
            "01",
            "'a'",
            "\u{feff}{}",
            "[1] // comment",
            "\"\t\"",
        ] {
            parsing_error(text);
        }
        assert!(parse_default(" \n\t{}\r\n ").is_ok());
    }

    #[test]
    fn refuses_input_over_max_bytes() {
        let limits = JsonLimits { max_bytes: 10, ..JsonLimits::default() };
        assert!(parse(b"[1,2,3,4] ", &limits).is_ok());
        let err = parse(b"[1,2,3,4,5]", &limits).unwrap_err();
        assert_eq!(err.code, ProblemCode::ResourceLimitExceeded);
        assert!(err.message.contains("11 bytes"), "{}", err.message);
        assert_eq!(parse_str("[1,2,3,4,5]", &limits).unwrap_err().code, ProblemCode::ResourceLimitExceeded);
        assert_eq!(
            parse(&vec![b' '; JsonLimits::default().max_bytes + 1], &JsonLimits::default()).unwrap_err().code,
            ProblemCode::ResourceLimitExceeded
        );
    }

    #[test]
    fn number_literal_checks() {
        let read = number_from_literal::<serde_json::Error>;
        assert_eq!(read("-0").unwrap().as_f64(), Some(-0.0));
        assert_eq!(read("1.5").unwrap(), json!(1.5));
        assert!(read("18446744073709551616").unwrap_err().to_string().contains("I-JSON"));
        assert!(read("1e400").unwrap_err().to_string().contains("finite"));
        // This build does not enable arbitrary_precision, so the token is an ordinary name.
        assert!(!arbitrary_precision());
        assert_eq!(
            parse_default(r#"{"$serde_json::private::Number": "1"}"#).unwrap(),
            json!({"$serde_json::private::Number": "1"})
        );
    }
}
