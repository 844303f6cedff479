//! Single-threaded benchmark of signing and verifying, per cryptosuite and credential
//! size. Run: `cargo bench -p bem-core --bench proofs` (prints medians and rates).
//!
//! Verification is the whole pipeline (`bem_core::verify::verify_credential`, offline,
//! did:key), which is what every scan pays, not just the signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::datetime::parse_datetime_stamp;
use bem_core::did_key::DidKey;
use bem_core::jose;
use bem_core::resolver::Offline;
use bem_core::trust::TrustList;
use bem_core::verify::{verify_credential, verify_jwt_credential, VerifyOptions};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// Whether `BENCH_ONLY` (a substring of the names, if set) selects the benchmark `name`.
fn selected(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

/// Runs `f` repeatedly for about `budget`, in batches; returns the median per-call time.
fn measure(name: &str, budget: Duration, mut f: impl FnMut()) {
    if !selected(name) {
        return;
    }
    for _ in 0..20 {
        f();
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..10 {
            f();
        }
        samples.push(t.elapsed() / 10);
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "{name:<56} median {:>9.1} µs   {:>9.0} /s   ({} samples)",
        median.as_secs_f64() * 1e6,
        1.0 / median.as_secs_f64(),
        samples.len() * 10
    );
}

fn credential_2kb(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:5c8e2f0a-61c4-4bd9-9f38-2f4d1c6a7b90",
        "type": ["VerifiableCredential", "MicroCredentialCertificate"],
        "name": "Digital skills for small businesses",
        "description": "Awarded on completion of a 3 ECTS micro-credential in digital tools for micro and small enterprises.",
        "issuer": {"id": issuer, "name": "Training Centre Chisinau (demo)"},
        "validFrom": "2026-01-15T09:00:00Z",
        "validUntil": "2031-01-15T09:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-4711",
            "name": "Olena Kovalenko",
            "achievement": {
                "title": "Digital skills for small businesses",
                "eqfLevel": 4,
                "ects": 3,
                "hours": 75,
                "assessment": "Practical project assessed by two assessors",
                "participation": "Blended: online modules and three on-site workshops",
                "qualityAssurance": "Internal QA of the provider, accredited by the national agency",
                "grading": "Pass / fail; a pass needs every learning outcome demonstrated in the project",
                "prerequisites": "None: open to adults with basic reading and writing skills",
                "stackability": "Counts towards the provider's certificate in digital entrepreneurship",
                "outcomes": [
                    "Set up and manage a business e-mail, calendar and shared drive",
                    "Create and maintain a simple website and social media page for a small business",
                    "Issue electronic invoices and keep simple digital accounts",
                    "Apply basic cyber-hygiene: passwords, two-factor authentication, backups",
                    "Use online marketplaces and payment services safely"
                ]
            }
        }
    })
}

fn credential_1kb(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:5c8e2f0a-61c4-4bd9-9f38-2f4d1c6a7b91",
        "type": ["VerifiableCredential", "MicroCredentialCertificate"],
        "issuer": issuer,
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-4711",
            "name": "Olena Kovalenko",
            "achievement": "Digital skills for small businesses (3 ECTS, EQF 4)",
            "description": "Completed the micro-credential with a practical project assessed by two assessors."
        }
    })
}

fn main() {
    let budget =
        Duration::from_millis(std::env::var("BENCH_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000));
    let key = SigningKey::from_bytes(&[7; 32]);
    let did = DidKey::from_public_key(&key.verifying_key());
    let vm = did.verification_method_id();
    let trust = TrustList::default();
    let now = parse_datetime_stamp("2026-06-01T00:00:00Z").unwrap();
    let mut options = VerifyOptions::new(now, &trust, &Offline);
    options.policy = ContextPolicy::CONFORMANCE;

    let elm: Value = {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elm/Sample-MC-Annex1-unsigned.jsonld");
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        doc["@context"] = json!([
            "https://www.w3.org/2018/credentials/v1",
            "http://data.europa.eu/snb/model/context/edc-ap",
            "https://w3id.org/security/data-integrity/v2"
        ]);
        doc["issuer"]["id"] = did.did().into();
        doc["issuanceDate"] = "2026-01-15T09:00:00Z".into();
        doc
    };

    // The floor: Ed25519 alone (ed25519-dalek `verify_strict`, what every proof pays).
    {
        use ed25519_dalek::Signer;
        let message = [42u8; 64];
        let signature = key.sign(&message);
        let public = key.verifying_key();
        measure("ed25519 verify_strict alone (64-byte message)", budget, || {
            public.verify_strict(&message, &signature).unwrap();
        });
    }

    // The issuer's own certificates (testdata/bench/, made by issuer/src/certificate.rs).
    let issued = |file: &str| -> Value {
        let path = format!("{}/../testdata/bench/{file}", env!("CARGO_MANIFEST_DIR"));
        let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        match &mut doc["issuer"] {
            Value::Object(issuer) => issuer.insert("id".into(), did.did().into()),
            other => Some(std::mem::replace(other, did.did().into())),
        };
        doc
    };

    let docs = [
        ("1kb", credential_1kb(did.did())),
        ("2kb", credential_2kb(did.did())),
        ("ob3-certificate", issued("ob3-certificate.json")),
        ("elm-certificate", issued("elm-certificate.json")),
        ("edc-annex1-sample", elm),
    ];
    // Sizes are those of the signed credential, compact JSON. Each `eddsa-rdfc-2022` row
    // is measured on the fast JSON-LD path and again on the general processor alone
    // (what every call paid before the fast path).
    for (label, doc) in &docs {
        for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
            let mut proof_options = ProofOptions::new(suite, vm.clone(), ProofPurpose::AssertionMethod);
            proof_options.created = Some("2026-01-15T09:00:00Z".into());
            let signed = match add_proof(doc, &proof_options, &key, ContextPolicy::CONFORMANCE) {
                Ok(s) => s,
                Err(e) => {
                    println!("{label} {}: cannot sign: {e}", suite.as_str());
                    continue;
                }
            };
            let size = serde_json::to_vec(&signed).unwrap().len();
            let paths: &[bool] = if suite == Cryptosuite::EddsaRdfc2022 { &[true, false] } else { &[true] };
            for &fast in paths {
                bem_core::fast_ld::set_enabled(fast);
                let tag = if suite == Cryptosuite::EddsaRdfc2022 {
                    if fast {
                        " [fast]"
                    } else {
                        " [general]"
                    }
                } else {
                    ""
                };
                let names = [
                    format!("sign   {} {label} ({size} B){tag}", suite.as_str()),
                    format!("verify {} {label} ({size} B){tag}", suite.as_str()),
                ];
                if !names.iter().any(|n| selected(n)) {
                    continue;
                }
                let report = verify_credential(&signed, &options);
                assert!(report.verified(), "{label} {suite:?}: {:#?}", report.checks);
                if suite == Cryptosuite::EddsaRdfc2022 {
                    assert_eq!(report.path, if fast { "fast" } else { "general" }, "{label}");
                }
                measure(&names[0], budget, || {
                    add_proof(doc, &proof_options, &key, ContextPolicy::CONFORMANCE).unwrap();
                });
                measure(&names[1], budget, || {
                    assert!(verify_credential(&signed, &options).verified());
                });
            }
            bem_core::fast_ld::set_enabled(true);
        }
    }

    for test in ["test044", "test045", "test046", "test074"] {
        if !selected(&format!("rdfc poison {test}")) {
            continue;
        }
        let path = format!("{}/../testdata/rdf-canon/tests/rdfc10/{test}-in.nq", env!("CARGO_MANIFEST_DIR"));
        let quads = bem_core::rdf::parse_nquads(&std::fs::read_to_string(path).unwrap()).unwrap();
        let outcome = if bem_core::rdfc::canonicalize(&quads, &Default::default()).is_ok() {
            "done"
        } else {
            "refused"
        };
        measure(&format!("rdfc poison {test} ({outcome})"), budget / 4, || {
            let _ = bem_core::rdfc::canonicalize(&quads, &Default::default());
        });
    }

    if ![
        "sign   vc+jwt 2kb",
        "verify vc+jwt 2kb (signature + checks)",
        "verify vc+jwt 2kb (decode + signature only)",
    ]
    .iter()
    .any(|n| selected(n))
    {
        return;
    }
    let payload = credential_2kb(did.did());
    let header = jose::JwsHeader::for_document(jose::DocumentKind::Credential, Some(vm.clone()));
    let jws = jose::sign_compact(&payload, &header, &key).unwrap();
    let report = verify_jwt_credential(&jws, &options);
    assert!(report.verified(), "{:#?}", report.checks);
    measure("sign   vc+jwt 2kb", budget, || {
        jose::sign_compact(&payload, &header, &key).unwrap();
    });
    measure("verify vc+jwt 2kb (signature + checks)", budget, || {
        assert!(verify_jwt_credential(&jws, &options).verified());
    });
    measure("verify vc+jwt 2kb (decode + signature only)", budget, || {
        let d = jose::decode_compact(&jws).unwrap();
        jose::verify_compact(&d, &key.verifying_key()).unwrap();
    });
}
