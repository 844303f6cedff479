//! Differential test of the fast JSON-LD path (`bem_core::fast_ld`) against the general
//! processor (`bem-jsonld`): every JSON document of `testdata/` (W3C vectors and
//! fixtures, EDC samples, the VC-JOSE and status-list suites), of the fuzz seed corpora
//! and of the interop fixtures, and inside each of them every embedded credential, proof
//! configuration and document without its proof, is expanded by both. Wherever the fast
//! path answers, the general processor must answer too, with byte-identical canonical
//! N-Quads. Where the fast path declines, the general processor decides alone, so no
//! verdict can differ.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use bem_core::contexts::{self, ContextPolicy};
use bem_core::{fast_ld, rdfc};
use serde_json::{Map, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The documents a verifier or signer would hand to JSON-LD, found in `value`: the value
/// itself, without its proof, each proof's configuration, and the same for every
/// credential inside (presentations, enveloped test cases).
fn documents(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if let Some(context) = map.get("@context") {
                out.push(value.clone());
                if let Some(proof) = map.get("proof") {
                    let mut unsecured = map.clone();
                    unsecured.remove("proof");
                    out.push(Value::Object(unsecured));
                    let proofs: Vec<&Value> = match proof {
                        Value::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    for p in proofs.into_iter().filter_map(Value::as_object) {
                        let mut config: Map<String, Value> = p.clone();
                        config.remove("proofValue");
                        config.insert("@context".into(), context.clone());
                        out.push(Value::Object(config));
                    }
                }
            }
            for (k, v) in map {
                if k != "@context" {
                    documents(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| documents(i, out)),
        _ => {}
    }
}

#[derive(Default, Debug)]
struct Tally {
    documents: usize,
    fast: usize,
    declined: usize,
    reasons: std::collections::BTreeMap<&'static str, usize>,
}

fn compare(doc: &Value, policy: ContextPolicy, tally: &mut Tally, origin: &str) {
    tally.documents += 1;
    let fast = match fast_ld::to_rdf(doc, policy) {
        Ok(quads) => quads,
        Err(fast_ld::Unsupported(why)) => {
            tally.declined += 1;
            *tally.reasons.entry(why).or_default() += 1;
            if std::env::var("BEM_FAST_PATH_DEBUG").is_ok() {
                println!("declined ({why}): {origin}");
            }
            return;
        }
    };
    tally.fast += 1;
    let general = contexts::to_rdf_general(doc, policy).unwrap_or_else(|e| {
        panic!("{origin}: the fast path answered where the general processor fails ({e}):\n{doc}")
    });
    let limits = rdfc::Limits::default();
    let a = rdfc::canonicalize(&fast, &limits).unwrap_or_else(|e| panic!("{origin}: fast quads: {e}"));
    let b = rdfc::canonicalize(&general, &limits).unwrap_or_else(|e| panic!("{origin}: general quads: {e}"));
    assert_eq!(a, b, "{origin}: canonical N-Quads differ for\n{doc}");
}

/// What signing and verifying read, the document without its `proof` walked in place
/// (`to_rdf_without_proof`), is exactly the fast path over a copy without `proof` (which
/// `compare` holds to the general processor).
fn skipping_the_proof_is_removing_it(doc: &Value, policy: ContextPolicy, origin: &str) {
    let Value::Object(map) = doc else { return };
    let mut copy = map.clone();
    copy.remove("proof");
    let removed = fast_ld::to_rdf(&Value::Object(copy), policy).ok();
    let skipped = fast_ld::to_rdf_without_proof(map, policy).ok();
    assert_eq!(skipped, removed, "{origin}: skipping `proof` differs from removing it in\n{doc}");
}

#[test]
fn fast_and_general_paths_agree_on_every_document_of_the_test_data() {
    let mut paths = Vec::new();
    for dir in ["testdata", "fuzz/corpus", "interop", "schemas"] {
        files(&root().join(dir), &mut paths);
    }
    paths.retain(|p| !p.components().any(|c| c.as_os_str() == "node_modules"));
    paths.sort();
    let mut tally = Tally::default();
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else { continue };
        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else { continue };
        let mut docs = Vec::new();
        documents(&value, &mut docs);
        let origin = path.strip_prefix(root()).unwrap_or(path).display().to_string();
        for doc in &docs {
            for policy in [ContextPolicy::STRICT, ContextPolicy::CONFORMANCE] {
                compare(doc, policy, &mut tally, &origin);
                skipping_the_proof_is_removing_it(doc, policy, &origin);
            }
        }
    }
    println!("{tally:?}");
    assert!(tally.documents > 500, "{tally:?}");
    // The fast path must carry most of the real documents, or it is not a fast path.
    assert!(tally.fast * 3 > tally.documents, "{tally:?}");
}

/// Inputs the `fast_ld` fuzz target found, each a difference once.
#[test]
fn fuzzer_findings_agree() {
    let found = [
        // VC v2 and Data Integrity v2 both define `DataIntegrityProof` with a scoped
        // context; json-ld-core compares the definitions' base URLs too, so for it this is
        // a protected term redefinition. Both paths now read it as jsonld.js does (only
        // what Data Integrity v2 adds: `contexts::without_repeated_definitions`, and
        // `Local::DataIntegrityAdditions` in the fast path), and must agree.
        r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/security/data-integrity/v2"],"type":["VerifiableCredential"]}"#,
        // The same inside a presentation: an embedded credential's `@context` (its proof
        // too), which the presentation's proof covers.
        r#"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiablePresentation"],"verifiableCredential":[{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/security/data-integrity/v2"],"type":["VerifiableCredential"],"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofValue":"z1"}}]}"#,
        // `x` is not a well-formed language tag: the general processor drops the literal.
        r#"{"@context":["https://www.w3.org/2018/credentials/v1","http://data.europa.eu/snb/model/context/edc-ap","https://w3id.org/security/data-integrity/v2"],"type":["DataIntegrityProof"],"location":22.75,"prefLabel":{"x":"17"}}"#,
    ];
    let mut tally = Tally::default();
    for (i, text) in found.iter().enumerate() {
        let doc: Value = serde_json::from_str(text).unwrap();
        for policy in [ContextPolicy::STRICT, ContextPolicy::CONFORMANCE] {
            compare(&doc, policy, &mut tally, &format!("finding {i}"));
        }
    }
    for text in &found[..2] {
        assert!(contexts::to_rdf_general(&serde_json::from_str(text).unwrap(), ContextPolicy::STRICT).is_ok());
    }
    // The first two on the fast path (both policies), the last left to the general one.
    assert_eq!((tally.fast, tally.declined), (4, 2), "{tally:?}");
}
