//! The pinned JSON-LD contexts: embedded copies, their digests, and the context policy.
//!
//! Every context the core can process is compiled into the binary (`core/contexts/`,
//! origins in `core/contexts/SOURCES.md`) together with the sha256 published for it. The
//! digests are checked once, when the loader is first built; a mismatch makes every
//! JSON-LD operation fail with an error, never a silent use of altered bytes. No context
//! is ever fetched: a URL outside the set is an error.
//!
//! Invariant: a document's `@context` passes [`validate`] only if every entry is a URL of
//! the policy's set (and, unless the policy allows it, no entry is an embedded object).
//! This is the context validation of VC Data Integrity §4.6, run after a proof verifies.

use std::sync::OnceLock;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{Error, ProblemCode, Result};

pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
pub const DATA_INTEGRITY_V1: &str = "https://w3id.org/security/data-integrity/v1";
pub const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
pub const JWK_V1: &str = "https://w3id.org/security/jwk/v1";
pub const CID_V1: &str = "https://www.w3.org/ns/cid/v1";
pub const STATUS_V1: &str = "https://www.w3.org/ns/credentials/status/v1";
pub const OPEN_BADGES_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
pub const ELM_EDC_AP: &str = "http://data.europa.eu/snb/model/context/edc-ap";
pub const EXAMPLES_V2: &str = "https://www.w3.org/ns/credentials/examples/v2";

/// One embedded context: its URL, bytes and pinned digest.
pub struct PinnedContext {
    pub url: &'static str,
    pub text: &'static str,
    pub sha256: &'static str,
    /// Only for test fixtures (the W3C examples context is a bare `@vocab`).
    pub example_only: bool,
}

macro_rules! pinned {
    ($url:expr, $file:literal, $sha:literal, $example:literal) => {
        PinnedContext {
            url: $url,
            text: include_str!(concat!("../contexts/", $file)),
            sha256: $sha,
            example_only: $example,
        }
    };
}

/// Every embedded context. The digests are those of `shared/reference/SOURCES.md`.
pub static PINNED: &[PinnedContext] = &[
    pinned!(
        CREDENTIALS_V2,
        "credentials_v2.jsonld",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
        false
    ),
    pinned!(
        CREDENTIALS_V1,
        "credentials_v1.jsonld",
        "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc",
        false
    ),
    pinned!(
        DATA_INTEGRITY_V2,
        "data-integrity_v2.jsonld",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
        false
    ),
    pinned!(
        DATA_INTEGRITY_V1,
        "data-integrity_v1.jsonld",
        "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554",
        false
    ),
    pinned!(
        MULTIKEY_V1,
        "multikey_v1.jsonld",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
        false
    ),
    pinned!(
        JWK_V1,
        "jwk_v1.jsonld",
        "0f14b62f6071aafe00df265770ea0c7508e118247d79b7d861a406d2aa00bece",
        false
    ),
    pinned!(
        CID_V1,
        "cid_v1.jsonld",
        "ea216ecc1cb02cd39b693dba2250141e270ba0bf95890be107dd9a9e8e43de85",
        false
    ),
    pinned!(
        STATUS_V1,
        "credentials_status_v1.jsonld",
        "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7",
        false
    ),
    pinned!(
        OPEN_BADGES_V3,
        "ob_v3p0_context-3.0.3.json",
        "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
        false
    ),
    pinned!(
        ELM_EDC_AP,
        "elm-3.2-lts_edc-ap.jsonld",
        "fde0b3fd92e98a8870c173fb98baff361be6dd07e44653a9a5ac6c0fe626b411",
        false
    ),
    pinned!(
        EXAMPLES_V2,
        "credentials_examples_v2.jsonld",
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
        true
    ),
];

/// Which contexts a caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContextPolicy {
    /// Accept the W3C examples context (`@vocab` only: hides undefined terms). For the W3C
    /// test suites and vectors; never for production certificates.
    pub allow_examples: bool,
    /// Accept embedded context objects in `@context` (the W3C suites use them). Off in
    /// production: an embedded context can remap terms after signing (attack case AC-23).
    pub allow_inline: bool,
}

impl ContextPolicy {
    /// What production certificates use: pinned URLs only.
    pub const STRICT: Self = Self { allow_examples: false, allow_inline: false };
    /// What the W3C test suites and vectors need.
    pub const CONFORMANCE: Self = Self { allow_examples: true, allow_inline: true };

    fn accepts_url(&self, url: &str) -> bool {
        PINNED.iter().any(|c| c.url == url && (self.allow_examples || !c.example_only))
    }
}

/// Checks each embedded context against its pinned digest.
pub fn verify_digests() -> Result<()> {
    for ctx in PINNED {
        let digest = Sha256::digest(ctx.text.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        if hex != ctx.sha256 {
            return Err(Error::new(
                ProblemCode::InvalidContextError,
                format!("embedded context {} does not match its pinned sha256", ctx.url),
            ));
        }
    }
    Ok(())
}

/// The JSON-LD loader for a policy, built once (digests checked then).
pub fn loader(policy: ContextPolicy) -> Result<&'static bem_jsonld::PinnedLoader> {
    static STRICT: OnceLock<std::result::Result<bem_jsonld::PinnedLoader, Error>> = OnceLock::new();
    static WITH_EXAMPLES: OnceLock<std::result::Result<bem_jsonld::PinnedLoader, Error>> = OnceLock::new();
    let cell = if policy.allow_examples { &WITH_EXAMPLES } else { &STRICT };
    cell.get_or_init(|| {
        verify_digests()?;
        bem_jsonld::PinnedLoader::new(
            PINNED.iter().filter(|c| policy.allow_examples || !c.example_only).map(|c| (c.url, c.text)),
        )
        .map_err(|e| Error::new(ProblemCode::InvalidContextError, e.to_string()))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Context validation (VC Data Integrity §4.6): every `@context` entry is a known URL,
/// or an embedded object where the policy allows it.
pub fn validate(context: &Value, policy: ContextPolicy) -> Result<()> {
    let entries = crate::json::items(context);
    if entries.is_empty() {
        return Err(invalid("`@context` is empty".into()));
    }
    for entry in entries {
        match entry {
            Value::String(url) if policy.accepts_url(url) => {}
            Value::String(url) => {
                return Err(invalid(format!("context {url} is not one of the known, pinned contexts")))
            }
            Value::Object(_) if policy.allow_inline => {}
            Value::Object(_) => {
                return Err(invalid(
                    "embedded context objects are not accepted (only pinned context URLs)".into(),
                ))
            }
            other => return Err(invalid(format!("`@context` entry {other} is not a URL"))),
        }
    }
    Ok(())
}

fn invalid(message: String) -> Error {
    Error::new(ProblemCode::InvalidContextError, message)
}

/// Expands `document` with the policy's pinned contexts and returns its RDF quads.
///
/// Undefined terms are a [`ProblemCode::DataLossDetectionError`]; an unknown context is
/// an [`ProblemCode::InvalidContextError`]; other JSON-LD errors are malformed values.
pub fn to_rdf(document: &Value, policy: ContextPolicy) -> Result<Vec<crate::rdf::Quad>> {
    to_rdf_with_path(document, policy).map(|(quads, _)| quads)
}

/// [`to_rdf`], saying which processor produced the quads: the fast path
/// ([`crate::fast_ld`]) when it supports the document, else the general JSON-LD 1.1
/// processor, which also gives every error (the fast path never decides one).
pub fn to_rdf_with_path(
    document: &Value,
    policy: ContextPolicy,
) -> Result<(Vec<crate::rdf::Quad>, crate::fast_ld::Path)> {
    match crate::fast_ld::to_rdf(document, policy) {
        Ok(quads) => Ok((quads, crate::fast_ld::Path::Fast)),
        Err(_) => to_rdf_general(document, policy).map(|quads| (quads, crate::fast_ld::Path::General)),
    }
}

/// [`to_rdf_with_path`] of `document` without its top-level `proof` entry (Data
/// Integrity's unsecured document); the document is copied only if the general processor
/// has to answer.
pub fn to_rdf_without_proof_with_path(
    document: &Map<String, Value>,
    policy: ContextPolicy,
) -> Result<(Vec<crate::rdf::Quad>, crate::fast_ld::Path)> {
    match crate::fast_ld::to_rdf_without_proof(document, policy) {
        Ok(quads) => Ok((quads, crate::fast_ld::Path::Fast)),
        Err(_) => {
            let mut unsecured = document.clone();
            unsecured.remove("proof");
            to_rdf_general(&Value::Object(unsecured), policy)
                .map(|quads| (quads, crate::fast_ld::Path::General))
        }
    }
}

/// The general JSON-LD 1.1 processor alone (`bem-jsonld`): what the fast path is
/// differentially tested against.
pub fn to_rdf_general(document: &Value, policy: ContextPolicy) -> Result<Vec<crate::rdf::Quad>> {
    let loader = loader(policy)?;
    let unwrapped;
    let document = match unwrap_wrapped_contexts(document, policy) {
        Some(doc) => {
            unwrapped = doc;
            &unwrapped
        }
        None => document,
    };
    let narrowed;
    let document = match without_repeated_definitions(document) {
        Some(doc) => {
            narrowed = doc;
            &narrowed
        }
        None => document,
    };
    let quads = bem_jsonld::to_rdf(document, loader).map_err(|e| {
        use bem_jsonld::Error as J;
        let code = match &e {
            J::UnknownContext(_) => ProblemCode::InvalidContextError,
            J::UndefinedTerm(_) | J::UndefinedType => ProblemCode::DataLossDetectionError,
            J::ProtectedTermRedefinition | J::Invalid(_) | J::NotJson(_) => ProblemCode::MalformedValueError,
        };
        Error::new(code, e.to_string())
    })?;
    Ok(quads.into_iter().map(crate::rdf::Quad::from).collect())
}

/// Data-loss detection without keeping the RDF: every term and type of `document` is
/// defined by its contexts (and every value is one JSON-LD can process).
///
/// Used where the RDF itself is not needed (eddsa-jcs-2022, VC-JOSE). Whether JSON-LD
/// expansion succeeds depends on the document's keys, its `@context`, its `type` and
/// `@`-keyword values, and, for other strings, only on whether they read as absolute IRIs
/// and whether they hold characters that are not allowed in IRIs. So the verdict is cached
/// by that *shape* (a digest of the document with every other string replaced by its
/// class): a cohort of certificates from one issuer shares one shape, and only the first
/// pays for a full expansion. The cache is bounded.
pub fn check_terms(document: &Value, policy: ContextPolicy) -> Result<()> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    const CAPACITY: usize = 4096;
    type Verdicts = HashMap<([u8; 32], ContextPolicy), Result<()>>;
    static CACHE: OnceLock<Mutex<Verdicts>> = OnceLock::new();

    let mut hasher = Sha256::new();
    shape(document, false, &mut hasher);
    let key: ([u8; 32], ContextPolicy) = (hasher.finalize().into(), policy);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let verdict = to_rdf(document, policy).map(|_| ());
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(key, verdict.clone());
    }
    verdict
}

/// Feeds the expansion-relevant shape of `value` to `h` (see [`check_terms`]).
fn shape(value: &Value, keep_strings: bool, h: &mut Sha256) {
    match value {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
        Value::Number(n) => {
            h.update(b"#");
            h.update(n.to_string().as_bytes());
        }
        Value::String(s) if keep_strings => {
            h.update(b"=");
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Value::String(s) => h.update(string_class(s)),
        Value::Array(items) => {
            h.update(b"[");
            h.update((items.len() as u64).to_le_bytes());
            for item in items {
                shape(item, keep_strings, h);
            }
        }
        Value::Object(map) => {
            h.update(b"{");
            h.update((map.len() as u64).to_le_bytes());
            for (k, v) in map {
                h.update((k.len() as u64).to_le_bytes());
                h.update(k.as_bytes());
                // Contexts, types and keyword values decide how terms expand: kept whole.
                let keep = keep_strings
                    || k == "@context"
                    || k == "type"
                    || k.starts_with('@')
                    || vocab_typed_terms().iter().any(|t| t == k);
                shape(v, keep, h);
            }
        }
    }
}

/// Terms whose values are expanded against the vocabulary (`"@type": "@vocab"`) in any
/// pinned context: their values name terms, so the shape keeps them whole.
fn vocab_typed_terms() -> &'static [String] {
    static TERMS: OnceLock<Vec<String>> = OnceLock::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, def) in map {
                    if def.get("@type").and_then(Value::as_str) == Some("@vocab") && !out.contains(k) {
                        out.push(k.clone());
                    }
                    walk(def, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    TERMS.get_or_init(|| {
        let mut out = Vec::new();
        for ctx in PINNED {
            if let Ok(v) = serde_json::from_str::<Value>(ctx.text) {
                walk(&v, &mut out);
            }
        }
        out
    })
}

/// How JSON-LD may read a plain string: empty, absolute IRI or not, IRI-safe or not.
fn string_class(s: &str) -> &'static [u8] {
    let absolute = s.split_once(':').is_some_and(|(scheme, _)| {
        scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    let iri_safe = !s.chars().any(|c| {
        c.is_control()
            || c.is_whitespace()
            || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
    });
    match (s.is_empty(), absolute, iri_safe) {
        (true, _, _) => b"s0",
        (false, true, true) => b"sA",
        (false, true, false) => b"sa",
        (false, false, true) => b"sR",
        (false, false, false) => b"sr",
    }
}

/// The Data Integrity v2 context after the VC 2.0 context, as jsonld.js reads it: VC 2.0
/// already defines its `id`, `type` and `DataIntegrityProof` (protected, and JSON for JSON
/// the same), so what it adds is only the rest (`proof` at the top level). JSON-LD 1.1
/// allows a protected term to be defined again the same way; json-ld-core (the general
/// processor) counts the scoped context of `DataIntegrityProof` as different because it
/// comes from another document, and stops with "protected term redefinition", so
/// credentials Digital Bazaar's libraries sign with both contexts did not verify here.
/// In every `@context` array of the document (the top level's, and an embedded
/// credential's inside a presentation), a Data Integrity v2 entry after a VC 2.0 entry is
/// replaced by the part that is new (computed from the pinned texts:
/// `data_integrity_v2_additions`). Returns `None` when nothing changes.
fn without_repeated_definitions(document: &Value) -> Option<Value> {
    if !has_repeated_definitions(document, 0) {
        return None;
    }
    let additions = data_integrity_v2_additions()?;
    let mut doc = document.clone();
    narrow_contexts(&mut doc, additions, 0);
    Some(doc)
}

/// Deeper than this, the JSON parser has refused the document already.
const MAX_WALK_DEPTH: usize = 256;

/// Whether a `@context` array of `value`, at any depth, has Data Integrity v2 after VC 2.0.
fn has_repeated_definitions(value: &Value, depth: usize) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    match value {
        Value::Object(map) => map.iter().any(|(key, v)| {
            (key == "@context" && v.as_array().is_some_and(|a| di_after_v2(a).next().is_some()))
                || has_repeated_definitions(v, depth + 1)
        }),
        Value::Array(items) => items.iter().any(|v| has_repeated_definitions(v, depth + 1)),
        _ => false,
    }
}

/// The positions in a `@context` array of Data Integrity v2 entries that follow VC 2.0.
fn di_after_v2(entries: &[Value]) -> impl Iterator<Item = usize> + '_ {
    let first_v2 = entries.iter().position(|e| e.as_str() == Some(CREDENTIALS_V2));
    entries
        .iter()
        .enumerate()
        .filter(move |(i, e)| first_v2.is_some_and(|v2| *i > v2) && e.as_str() == Some(DATA_INTEGRITY_V2))
        .map(|(i, _)| i)
}

fn narrow_contexts(value: &mut Value, additions: &Value, depth: usize) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "@context" {
                    if let Value::Array(entries) = v {
                        let positions: Vec<usize> = di_after_v2(entries).collect();
                        for i in positions {
                            if let Some(entry) = entries.get_mut(i) {
                                *entry = additions.clone();
                            }
                        }
                    }
                } else {
                    narrow_contexts(v, additions, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| narrow_contexts(v, additions, depth + 1)),
        _ => {}
    }
}

/// The definitions of the Data Integrity v2 context that the VC 2.0 context does not
/// already make, the same, at its top level (with `@protected` kept).
pub(crate) fn data_integrity_v2_additions() -> Option<&'static Value> {
    static ADDITIONS: std::sync::OnceLock<Option<Value>> = std::sync::OnceLock::new();
    ADDITIONS
        .get_or_init(|| {
            let top = |url: &str| -> Option<Map<String, Value>> {
                let text = PINNED.iter().find(|c| c.url == url)?.text;
                let doc: Value = serde_json::from_str(text).ok()?;
                doc.get("@context")?.as_object().cloned()
            };
            let (v2, di) = (top(CREDENTIALS_V2)?, top(DATA_INTEGRITY_V2)?);
            let new: Map<String, Value> = di
                .into_iter()
                .filter(|(term, definition)| term.starts_with('@') || v2.get(term) != Some(definition))
                .collect();
            Some(Value::Object(new))
        })
        .as_ref()
}

/// Embedded contexts written as `{"@context": {...}}`, as the W3C Data Integrity test
/// suite's fixtures do, are read the way jsonld.js reads them: as the inner context. Only
/// where the policy allows embedded contexts at all; returns `None` when nothing changes.
fn unwrap_wrapped_contexts(document: &Value, policy: ContextPolicy) -> Option<Value> {
    if !policy.allow_inline {
        return None;
    }
    let entries = document.get("@context")?.as_array()?;
    let wrapped = |e: &Value| e.as_object().is_some_and(|o| o.len() == 1 && o.contains_key("@context"));
    if !entries.iter().any(wrapped) {
        return None;
    }
    let mut doc = document.clone();
    if let Some(Value::Array(items)) = doc.get_mut("@context") {
        for item in items.iter_mut() {
            if wrapped(item) {
                if let Some(inner) = item.get("@context").cloned() {
                    *item = inner;
                }
            }
        }
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON-LD 1.1 §8.6 "Object to RDF Conversion": a boolean keeps the datatype its term
    /// gives it, and a non-integral number is written as a canonical double with it
    /// (what jsonld.js does; ssi's `linked_data` conversion did neither).
    /// Found by fuzzing: `%ed` (a percent-encoding that is not UTF-8) in an IRI made the
    /// JSON-LD stack panic; it must be an error, in both policies.
    /// Credentials/v2 followed by data-integrity/v2 (as Digital Bazaar's libraries sign
    /// them): read as jsonld.js reads them, the second adding only `proof`; the quads of a
    /// credential are those of credentials/v2 alone.
    #[test]
    fn data_integrity_v2_after_credentials_v2_adds_only_what_is_new() {
        let additions = data_integrity_v2_additions().unwrap();
        assert_eq!(additions.as_object().unwrap().keys().collect::<Vec<_>>(), ["@protected", "proof"]);
        let vc = |context: Value| {
            serde_json::json!({
                "@context": context, "id": "urn:uuid:1", "type": ["VerifiableCredential"],
                "issuer": "did:example:issuer", "credentialSubject": {"id": "did:example:s", "name": "Olena"}
            })
        };
        let both = vc(serde_json::json!([CREDENTIALS_V2, DATA_INTEGRITY_V2]));
        let alone = vc(serde_json::json!([CREDENTIALS_V2]));
        let canonical = |doc: &Value, policy| {
            crate::rdfc::canonicalize(&to_rdf(doc, policy).unwrap(), &crate::rdfc::Limits::default()).unwrap()
        };
        for policy in [ContextPolicy::STRICT, ContextPolicy::CONFORMANCE] {
            assert_eq!(canonical(&both, policy), canonical(&alone, policy));
        }
        // Data Integrity v2 alone, or before credentials/v2, is left as it is.
        let first = vc(serde_json::json!([DATA_INTEGRITY_V2, CREDENTIALS_V2]));
        assert!(without_repeated_definitions(&first).is_none());
        assert!(without_repeated_definitions(&alone).is_none());
    }

    #[test]
    fn a_percent_encoding_that_is_not_utf8_is_an_error_not_a_panic() {
        for (policy, context) in [
            (ContextPolicy::STRICT, serde_json::json!([CREDENTIALS_V2])),
            (
                ContextPolicy::CONFORMANCE,
                serde_json::json!([CREDENTIALS_V2, "https://www.w3.org/ns/credentials/examples/v2"]),
            ),
        ] {
            for doc in [
                serde_json::json!({"@context": context, "type": ["VerifiableCredential", "VerifiableCr%edential"], "credentialSubject": {"id": "did:example:x"}}),
                serde_json::json!({"@context": context, "id": "https://example.org/#%ed%a0", "type": "VerifiableCredential", "credentialSubject": {"id": "https://example.org/#%ff"}}),
            ] {
                assert!(to_rdf(&doc, policy).is_err(), "{doc}");
            }
        }
    }

    #[test]
    fn typed_booleans_and_numbers_are_converted_as_json_ld_says() {
        let doc = serde_json::json!({
            "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": false, "identityHash": "A"}],
                "creditsEarned": 1.5,
                "achievement": {"id": "https://x.example/a", "type": ["Achievement"], "creditsAvailable": 3}
            }
        });
        let nquads: Vec<String> = crate::rdf::to_nquads(&to_rdf(&doc, ContextPolicy::STRICT).unwrap())
            .lines()
            .map(str::to_owned)
            .collect();
        let has = |needle: &str| nquads.iter().any(|q| q.contains(needle));
        assert!(has(r#""false"^^<https://www.w3.org/2001/XMLSchema#boolean>"#), "{nquads:#?}");
        assert!(has(r#""1.5E0"^^<https://www.w3.org/2001/XMLSchema#float>"#), "{nquads:#?}");
        assert!(has(r#""3"^^<https://www.w3.org/2001/XMLSchema#float>"#), "{nquads:#?}");
    }

    #[test]
    fn embedded_contexts_match_their_pinned_digests() {
        verify_digests().unwrap();
        assert!(loader(ContextPolicy::STRICT).is_ok());
    }

    #[test]
    fn validation_accepts_pinned_urls_only() {
        let ok = serde_json::json!([CREDENTIALS_V2, ELM_EDC_AP]);
        validate(&ok, ContextPolicy::STRICT).unwrap();
        let examples = serde_json::json!([CREDENTIALS_V2, EXAMPLES_V2]);
        assert_eq!(
            validate(&examples, ContextPolicy::STRICT).unwrap_err().code,
            ProblemCode::InvalidContextError
        );
        validate(&examples, ContextPolicy::CONFORMANCE).unwrap();
        let inline = serde_json::json!([CREDENTIALS_V2, {"x": "https://example.org/x"}]);
        assert!(validate(&inline, ContextPolicy::STRICT).is_err());
        let remote = serde_json::json!([CREDENTIALS_V2, "https://evil.example/ctx"]);
        assert!(validate(&remote, ContextPolicy::CONFORMANCE).is_err());
    }

    #[test]
    fn unknown_context_is_an_error_not_a_fetch() {
        let doc = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"],
            "type": "VerifiableCredential"
        });
        let err = to_rdf(&doc, ContextPolicy::CONFORMANCE).unwrap_err();
        assert_eq!(err.code, ProblemCode::InvalidContextError, "{err}");
        assert!(err.message.contains("evil.example"), "{err}");
    }

    #[test]
    fn undefined_term_is_data_loss() {
        let doc = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": "VerifiableCredential",
            "notDefinedAnywhere": "x"
        });
        let err = to_rdf(&doc, ContextPolicy::STRICT).unwrap_err();
        assert_eq!(err.code, ProblemCode::DataLossDetectionError, "{err}");
        assert!(err.message.contains("notDefinedAnywhere"), "{err}");
    }

    #[test]
    fn the_term_check_cache_gives_the_full_expansion_verdict() {
        let base = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "credentialSubject": {"id": "did:example:a", "name": "Olena"}
        });
        check_terms(&base, ContextPolicy::STRICT).unwrap();
        // Same shape, other values: still fine (and served from the cache).
        let mut other = base.clone();
        other["credentialSubject"]["name"] = "Mykola".into();
        check_terms(&other, ContextPolicy::STRICT).unwrap();
        // An undefined term, an undefined type, or an id that is no IRI changes the shape.
        let mut undefined = base.clone();
        undefined["credentialSubject"]["grade"] = "A".into();
        assert_eq!(
            check_terms(&undefined, ContextPolicy::STRICT).unwrap_err().code,
            ProblemCode::DataLossDetectionError
        );
        let mut bad_type = base.clone();
        bad_type["type"] = serde_json::json!(["VerifiableCredential", "Bogus"]);
        assert!(check_terms(&bad_type, ContextPolicy::STRICT).is_err());
        let mut bad_id = base.clone();
        bad_id["credentialSubject"]["id"] = "not an iri".into();
        assert_eq!(
            check_terms(&bad_id, ContextPolicy::STRICT).is_ok(),
            to_rdf(&bad_id, ContextPolicy::STRICT).is_ok()
        );
    }

    #[test]
    fn protected_term_redefinition_is_rejected() {
        let doc = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2",
                {"VerifiableCredential": "https://example.org/#Bad"}],
            "type": "VerifiableCredential"
        });
        assert!(to_rdf(&doc, ContextPolicy::CONFORMANCE).is_err());
    }
}
