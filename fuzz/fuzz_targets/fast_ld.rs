//! Differential fuzzing of the fast JSON-LD path (`bem_core::fast_ld`) against the general
//! processor (`bem-jsonld`): wherever the fast path answers, the general processor must
//! answer too, with the same canonical N-Quads (or both canonicalizations must refuse).
//! Any difference is a crash.
//!
//! The first byte picks the input form and the context policy: raw JSON (even), or a
//! credential generated from the rest of the bytes (odd) out of the terms, types, contexts
//! and value shapes our credentials use, so the fuzzer spends its time on documents the
//! fast path accepts rather than on JSON syntax.
#![no_main]

use bem_core::contexts::{self, ContextPolicy};
use bem_core::json::{self, JsonLimits};
use bem_core::{fast_ld, rdfc};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

#[path = "common/known_panic.rs"]
mod known_panic;
use known_panic::allow_the_known_json_ld_panic;

const V2: &str = "https://www.w3.org/ns/credentials/v2";
const V1: &str = "https://www.w3.org/2018/credentials/v1";
const OB3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
const ELM: &str = "http://data.europa.eu/snb/model/context/edc-ap";
const DI2: &str = "https://w3id.org/security/data-integrity/v2";
const EXAMPLES: &str = "https://www.w3.org/ns/credentials/examples/v2";

const CONTEXTS: &[&[&str]] = &[
    &[V2],
    &[V2, EXAMPLES],
    &[V2, OB3],
    &[V1, ELM, DI2],
    &[V1, DI2],
    &[V2, DI2],
    &[V1, EXAMPLES],
];

const TERMS: &[&str] = &[
    "id", "type", "name", "description", "issuer", "validFrom", "validUntil", "issuanceDate",
    "credentialSubject", "achievement", "credentialStatus", "statusPurpose", "statusListIndex",
    "statusListCredential", "evidence", "termsOfUse", "credentialSchema", "proof", "cryptosuite",
    "proofPurpose", "verificationMethod", "created", "proofValue", "holder", "verifiableCredential",
    "title", "fullName", "givenName", "familyName", "hasClaim", "awardedBy", "identifier",
    "creditsAvailable", "hashed", "image", "criteria", "narrative", "learningOutcome", "prefLabel",
    "displayParameter", "language", "dateOfBirth", "legalName", "location", "@id", "@type",
    "@value", "@language", "@context", "https://example.org/p", "ex:foo", "_:b0", "unknownTerm",
];

const TYPES: &[&str] = &[
    "VerifiableCredential", "VerifiablePresentation", "OpenBadgeCredential", "Achievement",
    "AchievementSubject", "EuropeanDigitalCredential", "Person", "BitstringStatusListEntry",
    "DataIntegrityProof", "MicroCredentialCertificate", "Concept", "Organisation", "Profile",
    "LearningAchievement", "EnvelopedVerifiableCredential", "https://example.org/T", "_:t", "ex:T",
    "Undefined",
];

const STRINGS: &[&str] = &[
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "urn:uuid:5c8e2f0a-61c4-4bd9-9f38-2f4d1c6a7b90",
    "https://example.org/a#b",
    "https://example.org/a#b#c",
    "https://example.org/%ed",
    "http://example.org/a b",
    "relative",
    "_:b1",
    "_:b0",
    "ex:thing",
    "2026-01-01T00:00:00Z",
    "text with \"quotes\"\n\t\\ and \u{7f}",
    "",
    "en",
    "VerifiableCredential",
    "Achievement",
    "@id",
    "@vocab",
    "Олена Ковальчук",
    "assertionMethod",
    "eddsa-rdfc-2022",
    "revocation",
    "17",
];

struct Gen<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Gen<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::from(self.byte()) % items.len()]
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.byte() % 12 {
            0 | 1 | 2 => Value::String(self.pick(STRINGS).to_owned()),
            3 => json!(i64::from(self.byte()) - 100),
            4 => json!(self.byte() & 1 == 1),
            5 => Value::Null,
            6 => json!(f64::from(self.byte()) / 4.0),
            7 => {
                let mut langs = Map::new();
                for _ in 0..self.byte() % 3 {
                    let lang = self.pick(&["en", "uk", "EN", "pt-br", "@none", "x"]);
                    langs.insert(lang.to_owned(), Value::String(self.pick(STRINGS).to_owned()));
                }
                Value::Object(langs)
            }
            8 => json!({"@value": self.pick(STRINGS), "@language": self.pick(&["en", "uk", "EN"])}),
            9 if depth < 6 => {
                let n = self.byte() % 4;
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            _ if depth < 6 => self.node(depth + 1, false),
            _ => Value::String(self.pick(STRINGS).to_owned()),
        }
    }

    fn node(&mut self, depth: usize, top: bool) -> Value {
        let mut map = Map::new();
        if top || self.byte() % 8 == 0 {
            let contexts = self.pick(CONTEXTS);
            map.insert("@context".into(), json!(contexts));
        }
        match self.byte() % 4 {
            0 => {}
            1 => {
                map.insert("type".into(), Value::String(self.pick(TYPES).to_owned()));
            }
            _ => {
                let n = 1 + self.byte() % 3;
                let types: Vec<Value> = (0..n).map(|_| Value::String(self.pick(TYPES).to_owned())).collect();
                map.insert("type".into(), Value::Array(types));
            }
        }
        for _ in 0..self.byte() % 6 {
            let key = self.pick(TERMS);
            let value = self.value(depth);
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    }
}

fn compare(document: &Value, policy: ContextPolicy) {
    let Ok(fast) = fast_ld::to_rdf(document, policy) else { return };
    let general = match contexts::to_rdf_general(document, policy) {
        Ok(quads) => quads,
        Err(e) => panic!("the fast path answered where the general processor fails ({e}):\n{document}"),
    };
    let limits = rdfc::Limits::default();
    match (rdfc::canonicalize(&fast, &limits), rdfc::canonicalize(&general, &limits)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "canonical N-Quads differ for\n{document}"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("canonicalization differs ({:?} / {:?}) for\n{document}", a.is_ok(), b.is_ok()),
    }
}

fuzz_target!(|data: &[u8]| {
    allow_the_known_json_ld_panic();
    let Some((&mode, body)) = data.split_first() else { return };
    let policy = if mode & 2 == 2 { ContextPolicy::CONFORMANCE } else { ContextPolicy::STRICT };
    if mode & 1 == 0 {
        let Ok(document) = json::parse(body, &JsonLimits::default()) else { return };
        compare(&document, policy);
    } else {
        let document = Gen { bytes: body, at: 0 }.node(0, true);
        compare(&document, policy);
    }
});
