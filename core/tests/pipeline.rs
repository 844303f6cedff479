//! The verification pipeline end to end, through the public API only: W3C fixtures,
//! issuer/key binding, context policy, validity, status lists, presentations and keys
//! resolved through a caller-supplied resolver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::path::PathBuf;

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::{self, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::datetime::{parse_datetime_stamp, Timestamp};
use bem_core::did_key::DidKey;
use bem_core::resolver::{Fetched, Offline, Resolver};
use bem_core::status_list::Bitstring;
use bem_core::trust::{TrustList, TrustedIssuer};
use bem_core::verify::{self, Status, Verdict, VerifyOptions};
use bem_core::{Error, ProblemCode};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata").join(rel)
}

fn now() -> Timestamp {
    parse_datetime_stamp("2026-06-01T12:00:00Z").unwrap()
}

fn key(seed: u8) -> (SigningKey, DidKey) {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let did = DidKey::from_public_key(&signing.verifying_key());
    (signing, did)
}

/// A resolver over fixed documents, as a verifier with a warm cache would see them.
#[derive(Default)]
struct Fixtures {
    documents: HashMap<String, Value>,
}

impl Resolver for Fixtures {
    fn controller_document(&self, identifier: &str) -> Fetched {
        self.get(identifier)
    }
    fn status_list_credential(&self, url: &str) -> Fetched {
        self.get(url)
    }
    fn credential_schema(&self, url: &str) -> Fetched {
        self.get(url)
    }
}

impl Fixtures {
    fn get(&self, url: &str) -> Fetched {
        match self.documents.get(url) {
            Some(d) => Fetched::Document(d.clone()),
            None => Fetched::Failed(Error::new(ProblemCode::StatusRetrievalError, format!("{url}: 404"))),
        }
    }
}

fn credential(issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0d3c9a48-4f41-4b5f-9d8e-1b1c2d3e4f50",
        "type": ["VerifiableCredential"],
        "name": "Digital skills for small businesses",
        "issuer": issuer,
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"id": "urn:example:learner", "name": "Olena Kovalenko"}
    })
}

fn sign(doc: &Value, key: &SigningKey, vm: &str, suite: Cryptosuite, purpose: ProofPurpose) -> Value {
    let mut options = ProofOptions::new(suite, vm, purpose);
    options.created = Some("2026-01-15T09:00:00Z".into());
    data_integrity::add_proof(doc, &options, key, ContextPolicy::STRICT).unwrap()
}

fn issue(key: &SigningKey, did: &DidKey, suite: Cryptosuite) -> Value {
    sign(&credential(did.did()), key, &did.verification_method_id(), suite, ProofPurpose::AssertionMethod)
}

/// A trust list naming one issuer.
fn trusting(did: &str, name: Option<&str>) -> TrustList {
    TrustList {
        issuers: vec![TrustedIssuer {
            id: did.to_owned(),
            name: name.map(str::to_owned),
            credential_types: vec![],
            keys: vec![],
        }],
        anchors: vec![],
    }
}

fn opts<'a>(trust: &'a TrustList, resolver: &'a dyn Resolver) -> VerifyOptions<'a> {
    VerifyOptions::new(now(), trust, resolver)
}

fn failed_codes(report: &verify::Report) -> Vec<&'static str> {
    report.failures().filter_map(|c| c.code).collect()
}

#[test]
fn a_fresh_certificate_verifies_with_both_suites_and_names_an_unknown_issuer() {
    let (k, did) = key(1);
    let trust = TrustList::default();
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let vc = issue(&k, &did, suite);
        let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
        assert!(report.verified(), "{suite:?}: {:#?}", report.checks);
        assert_eq!(report.verdict(), Verdict::UnknownIssuer);
        assert!(!report.trusted());
    }
    let trusted = trusting(did.did(), Some("Demo provider"));
    let report =
        verify::verify_credential(&issue(&k, &did, Cryptosuite::EddsaRdfc2022), &opts(&trusted, &Offline));
    assert_eq!(report.verdict(), Verdict::Valid, "{:#?}", report.checks);
    assert_eq!(report.trusted_name.as_deref(), Some("Demo provider"));
}

#[test]
fn signature_by_someone_other_than_the_issuer_is_not_genuine() {
    // AC-11: the attacker signs with their own did:key and names the victim as issuer.
    let (attacker, attacker_did) = key(2);
    let (_, victim) = key(3);
    let vc = sign(
        &credential(victim.did()),
        &attacker,
        &attacker_did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let trust = TrustList::default();
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(!report.verified());
    assert_eq!(report.verdict(), Verdict::NotGenuine);
    assert!(report.checks.iter().any(|c| c.name == "issuer" && c.status == Status::Failed));
}

#[test]
fn wrong_proof_purpose_is_rejected() {
    let (k, did) = key(4);
    let vc = sign(
        &credential(did.did()),
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::Authentication,
    );
    let trust = TrustList::default();
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(!report.verified());
    assert!(failed_codes(&report).contains(&"PROOF_VERIFICATION_ERROR"), "{:#?}", report.checks);
}

#[test]
fn validity_period_is_enforced() {
    let (k, did) = key(5);
    let trust = TrustList::default();
    let mut expired = credential(did.did());
    expired["validUntil"] = "2026-03-01T00:00:00Z".into();
    let vc = sign(
        &expired,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(!report.verified());
    assert_eq!(report.verdict(), Verdict::Expired);

    let mut future = credential(did.did());
    future["validFrom"] = "2027-01-01T00:00:00-06:00".into();
    let vc = sign(
        &future,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert_eq!(report.verdict(), Verdict::NotYetValid, "{:#?}", report.checks);

    // A verifier whose clock is a little behind the issuer's still accepts a fresh one.
    let mut fresh = credential(did.did());
    fresh["validFrom"] = "2026-06-01T12:00:30Z".into();
    let vc = sign(
        &fresh,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    assert!(verify::verify_credential(&vc, &opts(&trust, &Offline)).verified());
    let mut strict = opts(&trust, &Offline);
    strict.clock_skew_seconds = 0;
    assert_eq!(verify::verify_credential(&vc, &strict).verdict(), Verdict::NotYetValid);
}

#[test]
fn strict_policy_refuses_example_and_inline_contexts() {
    let (k, did) = key(6);
    let mut doc = credential(did.did());
    doc["@context"] = json!(["https://www.w3.org/ns/credentials/v2", {"extra": "https://example.org/extra"}]);
    doc["credentialSubject"]["extra"] = "x".into();
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        did.verification_method_id(),
        ProofPurpose::AssertionMethod,
    );
    options.created = Some("2026-01-15T09:00:00Z".into());
    let vc = data_integrity::add_proof(&doc, &options, &k, ContextPolicy::CONFORMANCE).unwrap();
    let trust = TrustList::default();
    let mut o = opts(&trust, &Offline);
    o.policy = ContextPolicy::CONFORMANCE;
    assert!(verify::verify_credential(&vc, &o).verified());
    o.policy = ContextPolicy::STRICT;
    let report = verify::verify_credential(&vc, &o);
    assert!(!report.verified());
    assert!(failed_codes(&report).contains(&"INVALID_CONTEXT_ERROR"), "{:#?}", report.checks);
}

#[test]
fn data_added_after_issuance_under_an_undefined_term_is_data_loss() {
    let (k, did) = key(7);
    for suite in [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022] {
        let mut vc = issue(&k, &did, suite);
        vc["credentialSubject"]["grade"] = "A+".into();
        let trust = TrustList::default();
        let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
        assert!(!report.verified());
        assert!(
            failed_codes(&report).contains(&"DATA_LOSS_DETECTION_ERROR"),
            "{suite:?} {:#?}",
            report.checks
        );
    }
}

fn status_list_credential(
    issuer: &DidKey,
    key: &SigningKey,
    url: &str,
    purpose: &str,
    set: &[usize],
) -> Value {
    let mut bits = Bitstring::new(131_072).unwrap();
    for i in set {
        bits.set(*i, true).unwrap();
    }
    let list = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did(),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": bits.encode()
        }
    });
    sign(
        &list,
        key,
        &issuer.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    )
}

fn with_status(did: &DidKey, entries: &[(&str, &str, usize)]) -> Value {
    let mut doc = credential(did.did());
    doc["credentialStatus"] = entries
        .iter()
        .map(|(purpose, url, index)| {
            json!({
                "id": format!("{url}#{index}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": index.to_string(),
                "statusListCredential": url
            })
        })
        .collect();
    doc
}

#[test]
fn message_entries_report_the_issuers_message_and_need_well_formed_messages() {
    let (k, did) = key(9);
    let url = "https://issuer.example/status-lists/m1";
    // Two bits per entry: entry 5 holds 0b10 (bits 10, 11), entry 6 holds 0.
    let mut bits = Bitstring::new(2 * 131_072).unwrap();
    bits.set_status(5, 2, 2).unwrap();
    let mut list = status_list_credential(&did, &k, url, "message", &[]);
    list.as_object_mut().unwrap().remove("proof");
    list["credentialSubject"]["encodedList"] = bits.encode().into();
    let list = sign(
        &list,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let mut resolver = Fixtures::default();
    resolver.documents.insert(url.into(), list);
    let trust = TrustList::default();
    let messages = json!([
        {"status": "0x0", "message": "no notice"},
        {"status": "0x1", "message": "under review"},
        {"status": "0x2", "message": "corrected"},
        {"status": "0x3", "message": "contact us"}
    ]);
    let check = |index: usize, status_message: Option<Value>| {
        let mut doc = with_status(&did, &[("message", url, index)]);
        doc["credentialStatus"][0]["statusSize"] = 2.into();
        if let Some(m) = status_message {
            doc["credentialStatus"][0]["statusMessage"] = m;
        }
        let vc = sign(
            &doc,
            &k,
            &did.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        );
        verify::verify_credential(&vc, &opts(&trust, &resolver))
    };
    let status_check =
        |report: &verify::Report| report.checks.iter().find(|c| c.name == "status").unwrap().clone();

    let quiet = check(6, Some(messages.clone()));
    assert!(quiet.verified(), "{:#?}", quiet.checks);
    assert_eq!(status_check(&quiet).status, Status::Ok);
    assert!(status_check(&quiet).message.contains("no notice"));

    // A message is news, not a failure: verified, with the issuer's words as a warning.
    let noted = check(5, Some(messages.clone()));
    assert!(noted.verified(), "{:#?}", noted.checks);
    assert_eq!(status_check(&noted).status, Status::Warning);
    assert!(status_check(&noted).message.contains("corrected"), "{:?}", status_check(&noted));

    // statusSize 2 needs four messages, each with a hexadecimal status.
    for bad in [
        None,
        Some(json!([{"status": "0x0", "message": "a"}])),
        Some(json!("text")),
        Some(
            json!([{"status": "0", "message": "a"}, {"status": "1", "message": "b"}, {"status": "2", "message": "c"}, {"status": "3", "message": "d"}]),
        ),
    ] {
        let report = check(5, bad.clone());
        assert!(!report.verified(), "{bad:?}");
        assert_eq!(status_check(&report).status, Status::Failed, "{bad:?}");
    }
}

#[test]
fn revocation_and_suspension_lists_decide_the_verdict() {
    let (k, did) = key(8);
    let rev = "https://issuer.example/status-lists/r1";
    let sus = "https://issuer.example/status-lists/s1";
    let mut resolver = Fixtures::default();
    resolver
        .documents
        .insert(rev.into(), status_list_credential(&did, &k, rev, "revocation", &[0, 7, 131_071]));
    resolver.documents.insert(sus.into(), status_list_credential(&did, &k, sus, "suspension", &[8]));
    let trust = TrustList::default();
    let check = |rev_index: usize, sus_index: usize| {
        let doc = with_status(&did, &[("revocation", rev, rev_index), ("suspension", sus, sus_index)]);
        let vc = sign(
            &doc,
            &k,
            &did.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        );
        verify::verify_credential(&vc, &opts(&trust, &resolver))
    };
    let good = check(1, 1);
    assert!(good.verified(), "{:#?}", good.checks);
    assert_eq!(good.verdict(), Verdict::UnknownIssuer);
    for revoked in [0, 7, 131_071] {
        assert_eq!(check(revoked, 1).verdict(), Verdict::Revoked);
    }
    let suspended = check(1, 8);
    assert!(!suspended.verified());
    assert_eq!(suspended.verdict(), Verdict::Suspended);

    // Offline: the status is not checked, never passed.
    let doc = with_status(&did, &[("revocation", rev, 1)]);
    let vc = sign(
        &doc,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let offline = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert_eq!(offline.verdict(), Verdict::UnknownIssuer, "an unknown issuer outranks an unknown status");
    assert!(offline.checks.iter().any(|c| c.name == "status" && c.status == Status::Skipped));
    let trusting = trusting(did.did(), Some("Test Academy"));
    let offline = verify::verify_credential(&vc, &opts(&trusting, &Offline));
    assert_eq!(offline.verdict(), Verdict::StatusUnknown);
    assert!(offline.checks.iter().any(|c| c.name == "status" && c.status == Status::Skipped));

    // A list that cannot be fetched is a failed status check.
    let doc = with_status(&did, &[("revocation", "https://issuer.example/status-lists/missing", 1)]);
    let vc = sign(
        &doc,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(!report.verified());
    assert!(failed_codes(&report).contains(&"STATUS_RETRIEVAL_ERROR"));
}

#[test]
fn forged_or_mismatched_status_lists_fail() {
    let (k, did) = key(9);
    let (other, other_did) = key(10);
    let url = "https://issuer.example/status-lists/r2";
    let trust = TrustList::default();
    let doc = with_status(&did, &[("revocation", url, 3)]);
    let vc = sign(
        &doc,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );

    // A list signed by an untrusted third party that clears the bit.
    let mut resolver = Fixtures::default();
    resolver.documents.insert(url.into(), status_list_credential(&other_did, &other, url, "revocation", &[]));
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(failed_codes(&report).contains(&"STATUS_VERIFICATION_ERROR"), "{:#?}", report.checks);

    // A tampered list (bit cleared after signing).
    let mut list = status_list_credential(&did, &k, url, "revocation", &[3]);
    list["credentialSubject"]["encodedList"] = Bitstring::new(131_072).unwrap().encode().into();
    resolver.documents.insert(url.into(), list);
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(failed_codes(&report).contains(&"STATUS_VERIFICATION_ERROR"), "{:#?}", report.checks);

    // A suspension list offered for a revocation entry.
    resolver.documents.insert(url.into(), status_list_credential(&did, &k, url, "suspension", &[]));
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(failed_codes(&report).contains(&"STATUS_VERIFICATION_ERROR"));

    // Properly signed by the issuer, but another list (its id is another URL), or not a
    // BitstringStatusListCredential: each refused for that reason.
    let status_message = |report: &verify::Report| {
        report.checks.iter().find(|c| c.name == "status").map(|c| c.message.clone()).unwrap_or_default()
    };
    let elsewhere =
        status_list_credential(&did, &k, "https://issuer.example/status-lists/r9", "revocation", &[]);
    resolver.documents.insert(url.into(), elsewhere);
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(failed_codes(&report).contains(&"STATUS_VERIFICATION_ERROR"), "{:#?}", report.checks);
    assert!(status_message(&report).contains("must be the URL it is fetched from"), "{:#?}", report.checks);
    let mut untyped = status_list_credential(&did, &k, url, "revocation", &[]);
    untyped.as_object_mut().unwrap().remove("proof");
    untyped["type"] = json!(["VerifiableCredential"]);
    let untyped = sign(
        &untyped,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    resolver.documents.insert(url.into(), untyped);
    let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
    assert!(failed_codes(&report).contains(&"STATUS_VERIFICATION_ERROR"), "{:#?}", report.checks);
    assert!(status_message(&report).contains("not a BitstringStatusListCredential"), "{:#?}", report.checks);
    // The same list under its URL with a fragment is the same list.
    let mut fragment = with_status(&did, &[("revocation", url, 3)]);
    fragment["credentialStatus"][0]["statusListCredential"] = json!(format!("{url}#x"));
    let fragment = sign(
        &fragment,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    resolver.documents.insert(format!("{url}#x"), status_list_credential(&did, &k, url, "revocation", &[]));
    let report = verify::verify_credential(&fragment, &opts(&trust, &resolver));
    assert!(report.verified(), "{:#?}", report.checks);

    // Bad indexes fail closed.
    for bad in [json!("abc"), json!(5), json!(true), json!("131072"), json!("-1")] {
        let mut doc = with_status(&did, &[("revocation", url, 0)]);
        doc["credentialStatus"][0]["statusListIndex"] = bad.clone();
        let vc = sign(
            &doc,
            &k,
            &did.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        );
        resolver.documents.insert(url.into(), status_list_credential(&did, &k, url, "revocation", &[]));
        let report = verify::verify_credential(&vc, &opts(&trust, &resolver));
        assert!(!report.verified(), "index {bad} passed");
    }
}

fn presentation(holder: &DidKey, credentials: Vec<Value>) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
        "verifiableCredential": credentials
    })
}

fn present(holder_key: &SigningKey, holder: &DidKey, vp: &Value, challenge: &str, domain: &str) -> Value {
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        holder.verification_method_id(),
        ProofPurpose::Authentication,
    );
    options.created = Some("2026-05-30T10:00:00Z".into());
    options.challenge = Some(challenge.into());
    options.domain = Some(domain.into());
    data_integrity::add_proof(vp, &options, holder_key, ContextPolicy::STRICT).unwrap()
}

#[test]
fn presentations_bind_holder_challenge_domain_and_every_credential() {
    let (ik, issuer) = key(11);
    let (hk, holder) = key(12);
    let vc = issue(&ik, &issuer, Cryptosuite::EddsaRdfc2022);
    let vp = present(&hk, &holder, &presentation(&holder, vec![vc.clone()]), "c-123", "employer.example");
    let trust = TrustList::default();
    let mut o = opts(&trust, &Offline);
    o.challenge = Some("c-123");
    o.domain = Some("employer.example");
    let report = verify::verify_presentation(&vp, &o);
    assert!(report.verified(), "{:#?}", report.checks);
    assert_eq!(report.credentials.len(), 1);
    // The holder is no issuer: trust and the verdict come from the credentials inside.
    assert!(!report.trusted());
    assert_eq!(report.verdict(), Verdict::UnknownIssuer);
    let trusted = trusting(issuer.did(), None);
    let report = verify::verify_presentation(&vp, &VerifyOptions { trust: &trusted, ..o });
    assert!(report.trusted());
    assert_eq!(report.verdict(), Verdict::Valid);

    let mut wrong = o;
    wrong.challenge = Some("c-999");
    let report = verify::verify_presentation(&vp, &wrong);
    assert!(failed_codes(&report).contains(&"INVALID_CHALLENGE_ERROR"));
    let mut wrong = o;
    wrong.domain = Some("attacker.example");
    assert!(failed_codes(&verify::verify_presentation(&vp, &wrong)).contains(&"INVALID_DOMAIN_ERROR"));

    // Someone else signs a presentation naming our holder.
    let (mk, mallory) = key(13);
    let forged =
        present(&mk, &mallory, &presentation(&holder, vec![vc.clone()]), "c-123", "employer.example");
    let report = verify::verify_presentation(&forged, &o);
    assert!(report.checks.iter().any(|c| c.name == "holder" && c.status == Status::Failed));

    // A tampered credential inside a validly signed presentation.
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["name"] = "Mallory".into();
    let vp = present(&hk, &holder, &presentation(&holder, vec![tampered]), "c-123", "employer.example");
    let report = verify::verify_presentation(&vp, &o);
    assert!(!report.verified());
    assert!(report.checks.iter().any(|c| c.name == "credential" && c.status == Status::Failed));
    assert_eq!(report.verdict(), Verdict::NotGenuine);

    // Unsigned presentations: refused by default, accepted (with a warning) when allowed.
    let unsigned = presentation(&holder, vec![vc]);
    assert!(!verify::verify_presentation(&unsigned, &opts(&trust, &Offline)).verified());
    let mut lenient = opts(&trust, &Offline);
    lenient.require_holder_proof = false;
    assert!(verify::verify_presentation(&unsigned, &lenient).verified());
}

/// A did:web-style controller document served by the caller's resolver.
fn controller_document(did: &str, vm_id: &str, controller: &str, public: &str, relationship: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/cid/v1"],
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": public}],
        relationship: [vm_id]
    })
}

#[test]
fn controller_documents_are_checked_as_cid_requires() {
    let (k, dk) = key(14);
    let did = "did:web:issuer.example";
    let vm = format!("{did}#key-1");
    let public = dk.did().trim_start_matches("did:key:").to_owned();
    let trust = TrustList::default();
    let vc = sign(&credential(did), &k, &vm, Cryptosuite::EddsaRdfc2022, ProofPurpose::AssertionMethod);
    let run = |doc: Value| {
        let mut resolver = Fixtures::default();
        resolver.documents.insert(did.into(), doc);
        verify::verify_credential(&vc, &opts(&trust, &resolver))
    };
    let ok = run(controller_document(did, &vm, did, &public, "assertionMethod"));
    assert!(ok.verified(), "{:#?}", ok.checks);
    let codes = |r: verify::Report| failed_codes(&r).join(",");
    assert!(codes(run(controller_document(did, &vm, did, &public, "authentication")))
        .contains("INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"));
    assert!(codes(run(controller_document("did:web:evil.example", &vm, did, &public, "assertionMethod")))
        .contains("INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID"));
    assert!(codes(run(controller_document(did, &vm, "did:web:evil.example", &public, "assertionMethod")))
        .contains("INVALID_VERIFICATION_METHOD"));
    let mut revoked = controller_document(did, &vm, did, &public, "assertionMethod");
    revoked["verificationMethod"][0]["revoked"] = "2026-01-01T00:00:00Z".into();
    assert!(codes(run(revoked)).contains("INVALID_VERIFICATION_METHOD"));
    let (_, other) = key(15);
    let wrong_key = other.did().trim_start_matches("did:key:").to_owned();
    assert!(codes(run(controller_document(did, &vm, did, &wrong_key, "assertionMethod")))
        .contains("CRYPTOGRAPHIC_SECURITY_ERROR"));
}

/// Keys pinned in the trust list verify a did:web issuer's credentials offline and when
/// its document cannot be fetched; a document that is fetched decides (a key withdrawn
/// there is withdrawn); pinned keys never vouch for a presentation.
#[test]
fn pinned_issuer_keys_verify_offline_and_never_outrank_the_live_document() {
    let (k, dk) = key(16);
    let did = "did:web:issuer.example";
    let vm = format!("{did}#key-1");
    let public = dk.did().trim_start_matches("did:key:").to_owned();
    let vc = sign(&credential(did), &k, &vm, Cryptosuite::EddsaRdfc2022, ProofPurpose::AssertionMethod);
    let pinned: TrustList = toml::from_str(&format!(
        "[[issuer]]\nid = \"{did}\"\nname = \"Issuer\"\n[[issuer.key]]\nid = \"{vm}\"\npublic_key_multibase = \"{public}\"\n"
    ))
    .unwrap();
    pinned.check_keys().unwrap();

    // Offline: not resolvable without the pin; verified and trusted with it.
    let unpinned = TrustList::default();
    assert!(!verify::verify_credential(&vc, &opts(&unpinned, &Offline)).verified());
    let offline = verify::verify_credential(&vc, &opts(&pinned, &Offline));
    assert!(offline.verified(), "{:#?}", offline.checks);
    assert_eq!(offline.verdict(), verify::Verdict::Valid);
    // The issuer's server answers 404 (gone): the pin answers.
    let gone = Fixtures::default();
    assert!(verify::verify_credential(&vc, &opts(&pinned, &gone)).verified());
    // The live document no longer lists the key (withdrawn): refused despite the pin.
    let mut live = Fixtures::default();
    let (_, other) = key(17);
    let rotated = other.did().trim_start_matches("did:key:").to_owned();
    live.documents.insert(
        did.into(),
        controller_document(did, &format!("{did}#key-2"), did, &rotated, "assertionMethod"),
    );
    let withdrawn = verify::verify_credential(&vc, &opts(&pinned, &live));
    assert!(!withdrawn.verified());
    assert!(
        failed_codes(&withdrawn).join(",").contains("INVALID_VERIFICATION_METHOD"),
        "{:#?}",
        withdrawn.checks
    );
    // A pinned key is an assertion method only: not a holder's authentication key.
    let doc = pinned.pinned_document(did).unwrap();
    assert_eq!(doc["assertionMethod"], json!([vm]));
    assert!(doc.get("authentication").is_none());
}

#[test]
fn w3c_proof_set_and_chain_fixtures_verify_or_fail_as_named() {
    let dir = testdata("di-test-suite-assertion/inputs/eddsa-rdfc-2022");
    let trust = TrustList::default();
    let mut o = opts(&trust, &Offline);
    o.policy = ContextPolicy::CONFORMANCE;
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = verify::verify_credential_bytes(&std::fs::read(&path).unwrap(), &o);
        if name.contains("Ok") {
            assert!(report.verified(), "{name}: {:#?}", report.checks);
        } else {
            assert!(!report.verified(), "{name} verified");
            assert!(
                failed_codes(&report).contains(&"PROOF_VERIFICATION_ERROR"),
                "{name}: {:#?}",
                report.checks
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 12);
}

#[test]
fn hostile_bytes_give_reports_not_panics() {
    let trust = TrustList::default();
    let o = opts(&trust, &Offline);
    let deep = "[".repeat(100_000);
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{\"@context\": [".to_vec(),
        b"\"a string\"".to_vec(),
        b"[1,2,3]".to_vec(),
        b"{\"issuer\": 1, \"issuer\": 2}".to_vec(),
        deep.into_bytes(),
        vec![0xff, 0xfe, 0x00],
        b"{\"proof\": null}".to_vec(),
    ];
    for bytes in cases {
        let report = verify::verify_credential_bytes(&bytes, &o);
        assert!(!report.verified());
        assert_eq!(report.verdict(), Verdict::NotGenuine);
        assert!(report.failures().next().is_some());
    }
}

#[test]
fn an_edc_micro_credential_signs_and_verifies_in_the_vc_1_1_envelope() {
    // EDC's own Annex I sample, as EDC completes it at sealing (issuanceDate), with the
    // Data Integrity context added and our did:key as issuer.
    let (k, did) = key(16);
    let path = testdata("elm/Sample-MC-Annex1-unsigned.jsonld");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["@context"] = json!([
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
        "https://w3id.org/security/data-integrity/v2"
    ]);
    doc["issuer"]["id"] = did.did().into();
    doc["issuanceDate"] = "2026-01-15T09:00:00Z".into();
    let quads = bem_core::contexts::to_rdf(&doc, ContextPolicy::STRICT).unwrap();
    assert!(quads.len() > 250, "{} quads", quads.len());
    let vc = sign(
        &doc,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let trust = TrustList::default();
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(report.verified(), "{:#?}", report.checks);
    let mut tampered = vc.clone();
    tampered["credentialSubject"]["fullName"]["en"] = "Someone Else".into();
    assert!(!verify::verify_credential(&tampered, &opts(&trust, &Offline)).verified());
}

#[test]
fn json_schemas_named_by_the_credential_are_enforced() {
    let (k, did) = key(17);
    let url = "https://issuer.example/schemas/certificate.json";
    let mut resolver = Fixtures::default();
    resolver.documents.insert(
        url.into(),
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["credentialSubject"],
            "properties": {"credentialSubject": {"type": "object", "required": ["name"]}}
        }),
    );
    let trust = TrustList::default();
    let run = |subject: Value| {
        let mut doc = credential(did.did());
        doc["credentialSubject"] = subject;
        doc["credentialSchema"] = json!({"id": url, "type": "JsonSchema"});
        let vc = sign(
            &doc,
            &k,
            &did.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        );
        verify::verify_credential(&vc, &opts(&trust, &resolver))
    };
    let ok = run(json!({"id": "did:example:learner", "name": "Olena"}));
    assert!(ok.verified(), "{:#?}", ok.checks);
    assert!(ok.checks.iter().any(|c| c.name == "schema" && c.status == Status::Ok));
    let bad = run(json!({"id": "did:example:learner", "description": "no name"}));
    assert!(!bad.verified());
    assert!(failed_codes(&bad).contains(&"SCHEMA_VALIDATION_ERROR"), "{:#?}", bad.checks);
    // Offline, the schema is reported as not checked.
    let mut doc = credential(did.did());
    doc["credentialSchema"] = json!({"id": url, "type": "JsonSchema"});
    let vc = sign(
        &doc,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let offline = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(offline.checks.iter().any(|c| c.name == "schema" && c.status == Status::Skipped));
}

fn signed_with(doc: &Value, k: &SigningKey, did: &DidKey, edit: impl Fn(&mut ProofOptions)) -> Value {
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        did.verification_method_id(),
        ProofPurpose::AssertionMethod,
    );
    options.created = Some("2026-01-15T09:00:00Z".into());
    edit(&mut options);
    data_integrity::add_proof(doc, &options, k, ContextPolicy::STRICT).unwrap()
}

#[test]
fn proof_times_are_enforced_ac16() {
    let (k, did) = key(18);
    let trust = TrustList::default();
    let expired =
        signed_with(&credential(did.did()), &k, &did, |o| o.expires = Some("2026-02-01T00:00:00Z".into()));
    let report = verify::verify_credential(&expired, &opts(&trust, &Offline));
    assert!(!report.verified());
    assert!(report.failures().any(|c| c.message.contains("expired")), "{:#?}", report.checks);
    // A `created` without a zone offset is read as UTC and verifies.
    let no_offset =
        signed_with(&credential(did.did()), &k, &did, |o| o.created = Some("2026-01-15T09:00:00".into()));
    assert!(verify::verify_credential(&no_offset, &opts(&trust, &Offline)).verified());
}

#[test]
fn a_signature_with_s_above_the_group_order_is_refused_ac19() {
    let (k, did) = key(19);
    let vc = issue(&k, &did, Cryptosuite::EddsaRdfc2022);
    let mut sig = bem_core::multibase::decode_base58btc(vc["proof"]["proofValue"].as_str().unwrap()).unwrap();
    // S + L (little-endian), the classic malleability: lax verifiers accept it.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        sig[32 + i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    let mut forged = vc.clone();
    forged["proof"]["proofValue"] = bem_core::multibase::encode_base58btc(&sig).into();
    let trust = TrustList::default();
    assert!(!verify::verify_credential(&forged, &opts(&trust, &Offline)).verified());
}

#[test]
fn json_ld_attacks_are_refused_ac22_to_ac25() {
    let mut o_trust = TrustList::default();
    o_trust.issuers.clear();
    let cases = [
        // AC-22: an embedded context that imports a remote one.
        json!({"@context": ["https://www.w3.org/ns/credentials/v2", {"@import": "https://evil.example/ctx", "x": "https://e.example/x"}],
               "type": "VerifiableCredential", "x": 1}),
        // AC-24: a protected term redefined after the base context.
        json!({"@context": ["https://www.w3.org/ns/credentials/v2", {"VerifiableCredential": "https://example.org/#Bad"}],
               "type": "VerifiableCredential"}),
        // AC-25: a v1 term under the v2 context, and a relative type through @base.
        json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential",
               "issuanceDate": "2026-01-01T00:00:00Z"}),
        json!({"@context": ["https://www.w3.org/ns/credentials/v2", {"@base": "https://evil.example/"}],
               "type": ["VerifiableCredential", "Relative"]}),
    ];
    for case in cases {
        assert!(bem_core::contexts::to_rdf(&case, ContextPolicy::CONFORMANCE).is_err(), "{case}");
    }
    // AC-24: a base context that is not first is refused by the data model checks.
    let not_first = json!({"@context": [{"VerifiableCredential": "https://example.org/#Bad"}, "https://www.w3.org/ns/credentials/v2"],
        "type": "VerifiableCredential", "issuer": "did:example:i", "credentialSubject": {"id": "did:example:s"}});
    assert!(!bem_core::model::check_credential(&not_first).is_empty());
    // The VCDM fixtures that only JSON-LD can reject.
    for name in [
        "credential-redef-type-fail.json",
        "credential-redef-type2-fail.json",
        "credential-type-mapped-nonurl-fail.json",
        "credential-type-unmapped-fail.json",
    ] {
        let doc: Value = serde_json::from_slice(
            &std::fs::read(testdata(&format!("vcdm2-test-suite/tests/input/{name}"))).unwrap(),
        )
        .unwrap();
        assert!(bem_core::contexts::to_rdf(&doc, ContextPolicy::CONFORMANCE).is_err(), "{name}");
    }
}

#[test]
fn oversized_proof_sets_and_presentations_are_refused_ac05() {
    let (k, did) = key(20);
    let mut vc = issue(&k, &did, Cryptosuite::EddsaRdfc2022);
    let proof = vc["proof"].clone();
    vc["proof"] = Value::Array(vec![proof; verify::MAX_PROOFS + 1]);
    let trust = TrustList::default();
    let report = verify::verify_credential(&vc, &opts(&trust, &Offline));
    assert!(failed_codes(&report).contains(&"RESOURCE_LIMIT_EXCEEDED"));

    let (_, holder) = key(21);
    let one = issue(&k, &did, Cryptosuite::EddsaRdfc2022);
    let vp = presentation(&holder, vec![one; verify::MAX_CREDENTIALS + 1]);
    let mut o = opts(&trust, &Offline);
    o.require_holder_proof = false;
    let report = verify::verify_presentation(&vp, &o);
    assert!(!report.verified());
    assert!(failed_codes(&report).contains(&"RESOURCE_LIMIT_EXCEEDED"));
}

#[test]
fn a_presentation_signed_for_assertion_is_refused_ac10() {
    let (ik, issuer) = key(22);
    let (hk, holder) = key(23);
    let vc = issue(&ik, &issuer, Cryptosuite::EddsaRdfc2022);
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        holder.verification_method_id(),
        ProofPurpose::AssertionMethod,
    );
    options.challenge = Some("c-1".into());
    let vp =
        data_integrity::add_proof(&presentation(&holder, vec![vc]), &options, &hk, ContextPolicy::STRICT)
            .unwrap();
    let trust = TrustList::default();
    let mut o = opts(&trust, &Offline);
    o.challenge = Some("c-1");
    assert!(!verify::verify_presentation(&vp, &o).verified());
}

// EDC credentials sealed with JAdES (an eIDAS e-seal in a JWS JSON serialization).

const SEALED_SAMPLES: [&str; 2] =
    ["elm/Sample-MC-Annex1-signed.jsonld", "elm/Sample-CertOfPart-signed.jsonld"];

fn sealed(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel)).unwrap()
}

fn check<'a>(report: &'a verify::Report, name: &str) -> &'a verify::Check {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} check: {:#?}", report.checks))
}

/// The samples' seal certificate was issued by "ANF AC Qualified Certificates for eSeal";
/// that CA's certificate is not in `x5c` (only the seal certificate is) but in the seal's
/// unprotected validation data (`etsiU` → `xVals`), from where testdata/ has it.
fn anf_trust() -> TrustList {
    let mut trust: TrustList = TrustList::default();
    trust.anchors.push(bem_core::trust::TrustedAnchor {
        name: "ANF AC (test eSeal CA)".into(),
        certificate: Some(std::fs::read_to_string(testdata("elm/anf-eseal-ca.pem")).unwrap()),
        certificate_file: None,
    });
    trust.check_anchors().unwrap();
    trust
}

#[test]
fn the_edc_sealed_samples_read_seal_valid_issuer_not_trusted() {
    let trust = TrustList::default();
    for rel in SEALED_SAMPLES {
        let report = verify::verify_credential_bytes(&sealed(rel), &opts(&trust, &Offline));
        assert!(report.verified(), "{rel}: {:#?}", report.checks);
        assert_eq!(report.verdict(), Verdict::UnknownIssuer, "{rel}: {:#?}", report.checks);
        assert!(!report.trusted());
        assert_eq!(check(&report, "seal").status, Status::Ok);
        assert!(check(&report, "seal").message.contains("RS256"));
        assert_eq!(check(&report, "chain").status, Status::Warning);
        assert_eq!(check(&report, "chain").code, Some("UNTRUSTED_ISSUER"));
        assert_eq!(check(&report, "trust").status, Status::Warning);
        assert!(check(&report, "trust").message.contains("seal valid, issuer not trusted"));
        assert_eq!(check(&report, "certificate").status, Status::Warning);
        assert!(check(&report, "certificate").message.contains("expired since 2025-05-10"));
        assert_eq!(check(&report, "model").status, Status::Ok);
        assert_eq!(check(&report, "context").status, Status::Ok, "{:#?}", report.checks);
        assert_eq!(check(&report, "validity").status, Status::Ok);
        assert_eq!(report.subject_of_trust.as_deref(), Some("ORGANIZACION TEST (TEST SEAL)"));
        assert_eq!(report.trusted_name, None);
        let payload = report.payload.as_ref().unwrap();
        assert!(bem_core::model::has_type(payload, "EuropeanDigitalCredential"));
        // The payload is for screens, not for the serialized report.
        assert!(serde_json::to_value(&report).unwrap().get("payload").is_none());
    }
}

#[test]
fn with_their_ca_as_anchor_the_edc_samples_are_trusted_with_the_expiry_noted() {
    let trust = anf_trust();
    for rel in SEALED_SAMPLES {
        let report = verify::verify_credential_bytes(&sealed(rel), &opts(&trust, &Offline));
        assert_eq!(report.verdict(), Verdict::Valid, "{rel}: {:#?}", report.checks);
        assert!(report.verified() && report.trusted());
        // Shown under the sealer's name (the certificate's subject), not the CA's; the
        // issuer's eIDAS identifier is the certificate's organizationIdentifier.
        assert_eq!(report.trusted_name.as_deref(), Some("ORGANIZACION TEST (TEST SEAL)"));
        assert!(check(&report, "trust").message.contains("ANF AC (test eSeal CA)"));
        assert_eq!(check(&report, "issuer").status, Status::Ok, "{:#?}", report.checks);
        assert!(check(&report, "issuer").message.contains("VATES-A00000000"));
        assert_eq!(check(&report, "chain").status, Status::Ok);
        let certificate = check(&report, "certificate");
        assert_eq!(certificate.status, Status::Warning);
        assert!(
            certificate.message.contains("it was valid when sealed (2023-09-27"),
            "{}",
            certificate.message
        );
    }
    // Checked while the seal certificate was still valid: nothing to note.
    let mut o = opts(&trust, &Offline);
    o.now = parse_datetime_stamp("2024-06-01T00:00:00Z").unwrap();
    let report = verify::verify_credential_bytes(&sealed(SEALED_SAMPLES[0]), &o);
    assert_eq!(check(&report, "certificate").status, Status::Ok);
    assert_eq!(report.verdict(), Verdict::Valid);
}

#[test]
fn a_tampered_sealed_credential_is_not_genuine() {
    let trust = anf_trust();
    let doc: Value = serde_json::from_slice(&sealed(SEALED_SAMPLES[0])).unwrap();
    let payload = doc["payload"].as_str().unwrap();
    let mut tampered = doc.clone();
    tampered["payload"] = payload.replacen("2022-12-31T23:00:00Z", "2022-12-30T23:00:00Z", 1).into();
    assert_ne!(tampered, doc);
    let report = verify::verify_credential(&tampered, &opts(&trust, &Offline));
    assert!(!report.verified());
    assert_eq!(report.verdict(), Verdict::NotGenuine);
    assert_eq!(check(&report, "seal").status, Status::Failed);
    assert!(check(&report, "seal").message.contains("seal broken"));
    assert_eq!(check(&report, "trust").status, Status::Skipped);
    assert_eq!(report.payload, None);
    assert!(!report.trusted());

    // A seal in a presentation is checked like any credential in it.
    let (_, holder) = key(40);
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
        "verifiableCredential": [tampered]
    });
    let mut o = opts(&trust, &Offline);
    o.require_holder_proof = false;
    o.policy = ContextPolicy::CONFORMANCE;
    assert_eq!(verify::verify_presentation(&vp, &o).verdict(), Verdict::NotGenuine);

    // Garbage shaped like a seal is a parse failure.
    for bad in [
        json!({"payload": "{}", "signatures": []}),
        json!({"payload": "{}", "signature": "x", "protected": 1}),
    ] {
        let report = verify::verify_credential(&bad, &opts(&trust, &Offline));
        assert_eq!(check(&report, "parse").status, Status::Failed);
        assert_eq!(report.verdict(), Verdict::NotGenuine);
    }
}

/// Holder binding: a subject with a DID must be the presenter; without one the report says
/// that nothing shows the presenter is the learner; an empty presentation is no "valid".
#[test]
fn the_presenter_must_be_the_subject_it_names() {
    let (ik, issuer) = key(23);
    let (hk, holder) = key(24);
    let (mk, mallory) = key(25);
    let issued_to = |subject: Value| {
        let mut doc = credential(issuer.did());
        doc["credentialSubject"] = subject;
        sign(
            &doc,
            &ik,
            &issuer.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        )
    };
    let trust = trusting(issuer.did(), None);
    let mut o = opts(&trust, &Offline);
    o.challenge = Some("c-1");
    o.domain = Some("employer.example");
    let presenter = |report: &verify::Report| report.checks.iter().find(|c| c.name == "presenter").cloned();

    // The learner's own DID, presented by the learner: bound.
    let own = issued_to(json!({"id": holder.did(), "name": "Olena"}));
    let report = verify::verify_presentation(
        &present(&hk, &holder, &presentation(&holder, vec![own.clone()]), "c-1", "employer.example"),
        &o,
    );
    assert!(report.verified(), "{:#?}", report.checks);
    assert_eq!(report.verdict(), Verdict::Valid);
    assert_eq!(presenter(&report).unwrap().status, Status::Ok);

    // Someone else presents it with their own key: not verified, and the verdict says why.
    let report = verify::verify_presentation(
        &present(&mk, &mallory, &presentation(&mallory, vec![own]), "c-1", "employer.example"),
        &o,
    );
    assert!(!report.verified());
    assert_eq!(report.verdict(), Verdict::WrongHolder);
    let check = presenter(&report).unwrap();
    assert_eq!((check.status, check.code), (Status::Failed, Some("INVALID_VERIFICATION_METHOD")));
    assert!(
        check.message.contains(holder.did()) && check.message.contains(mallory.did()),
        "{}",
        check.message
    );

    // A subject without a DID: verified, but the report says the presenter is not shown to
    // be the learner.
    let public = issued_to(json!({"id": "urn:uuid:6a0c0ab6-7d1e-4a38-9b6a-0d5d2e7d2c11", "name": "Olena"}));
    let report = verify::verify_presentation(
        &present(&mk, &mallory, &presentation(&mallory, vec![public]), "c-1", "employer.example"),
        &o,
    );
    assert!(report.verified(), "{:#?}", report.checks);
    let check = presenter(&report).unwrap();
    assert_eq!(check.status, Status::Warning);
    assert!(check.message.contains("nothing shows that the presenter is the learner"), "{}", check.message);

    // No credential at all: never "valid".
    let mut nothing = presentation(&holder, vec![]);
    nothing.as_object_mut().unwrap().remove("verifiableCredential");
    let empty = present(&hk, &holder, &nothing, "c-1", "employer.example");
    let report = verify::verify_presentation(&empty, &o);
    assert_eq!(report.verdict(), Verdict::NoCredential, "{:#?}", report.checks);
    assert!(!report.trusted());
}

/// A credential signed with `[VC 2.0, Data Integrity v2]` (as Digital Bazaar's libraries
/// sign) inside a presentation: the presentation's proof covers the embedded `@context`
/// too, which both paths read as jsonld.js does (Data Integrity v2 adds only what is new).
#[test]
fn presentations_of_credentials_with_the_data_integrity_context_verify() {
    let (ik, issuer) = key(21);
    let (hk, holder) = key(22);
    let mut doc = credential(issuer.did());
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", "https://w3id.org/security/data-integrity/v2"]);
    let vc = sign(
        &doc,
        &ik,
        &issuer.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let vp = present(&hk, &holder, &presentation(&holder, vec![vc.clone()]), "c-9", "employer.example");
    let trust = TrustList::default();
    let mut o = opts(&trust, &Offline);
    o.challenge = Some("c-9");
    o.domain = Some("employer.example");
    for fast in [true, false] {
        bem_core::fast_ld::set_enabled(fast);
        let report = verify::verify_presentation(&vp, &o);
        bem_core::fast_ld::set_enabled(true);
        assert!(report.verified(), "fast path {fast}: {:#?}", report.checks);
        let mut tampered = vp.clone();
        tampered["verifiableCredential"][0]["credentialSubject"]["name"] = "Mallory".into();
        assert!(!verify::verify_presentation(&tampered, &o).verified());
    }
}

/// A resolver that counts what it is asked for and answers from `inner`.
struct Counting<'a> {
    inner: &'a Fixtures,
    asked: std::sync::atomic::AtomicUsize,
}

impl Counting<'_> {
    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn count(&self) {
        self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Resolver for Counting<'_> {
    fn controller_document(&self, identifier: &str) -> Fetched {
        self.count();
        self.inner.get(identifier)
    }
    fn status_list_credential(&self, url: &str) -> Fetched {
        self.count();
        self.inner.get(url)
    }
    fn credential_schema(&self, url: &str) -> Fetched {
        self.count();
        self.inner.get(url)
    }
}

#[test]
fn status_entries_and_schemas_are_capped_before_anything_is_fetched() {
    let (k, did) = key(11);
    let url = "https://issuer.example/status-lists/cap";
    let mut fixtures = Fixtures::default();
    fixtures.documents.insert(url.into(), status_list_credential(&did, &k, url, "revocation", &[]));
    let trust = TrustList::default();
    let sign_rdfc = |doc: &Value| {
        sign(
            doc,
            &k,
            &did.verification_method_id(),
            Cryptosuite::EddsaRdfc2022,
            ProofPurpose::AssertionMethod,
        )
    };

    let entries: Vec<(&str, &str, usize)> =
        (0..=verify::MAX_STATUS_ENTRIES).map(|i| ("revocation", url, i)).collect();
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report =
        verify::verify_credential(&sign_rdfc(&with_status(&did, &entries)), &opts(&trust, &counting));
    assert!(!report.verified());
    assert_eq!(failed_codes(&report), vec!["RESOURCE_LIMIT_EXCEEDED"]);
    assert_eq!(counting.asked(), 0, "nothing fetched for a credential over the cap");

    let at_cap = &entries[..verify::MAX_STATUS_ENTRIES];
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report = verify::verify_credential(&sign_rdfc(&with_status(&did, at_cap)), &opts(&trust, &counting));
    assert!(report.verified(), "{:#?}", report.checks);

    let mut doc = credential(did.did());
    doc["credentialSchema"] = (0..=verify::MAX_SCHEMAS)
        .map(|i| json!({"id": format!("https://issuer.example/schema/{i}"), "type": "JsonSchema"}))
        .collect();
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report = verify::verify_credential(&sign_rdfc(&doc), &opts(&trust, &counting));
    assert_eq!(failed_codes(&report), vec!["RESOURCE_LIMIT_EXCEEDED"]);
    assert_eq!(counting.asked(), 0);
}

#[test]
fn a_service_fetches_nothing_that_an_unknown_or_forging_issuer_names() {
    let (k, did) = key(12);
    let (mallory, mallory_did) = key(13);
    let url = "https://issuer.example/status-lists/gate";
    let mut fixtures = Fixtures::default();
    fixtures.documents.insert(url.into(), status_list_credential(&did, &k, url, "revocation", &[4]));
    let trusting = trusting(did.did(), Some("Test Academy"));
    let service = |trust: &TrustList, resolver: &Counting<'_>, vc: &Value| {
        let mut options = opts(trust, resolver);
        options.fetch_for_unknown_issuers = false;
        verify::verify_credential(vc, &options)
    };
    let revoked = with_status(&did, &[("revocation", url, 4)]);
    let genuine = sign(
        &revoked,
        &k,
        &did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );

    // A trusted issuer: the list is fetched and decides.
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    assert_eq!(service(&trusting, &counting, &genuine).verdict(), Verdict::Revoked);
    assert_eq!(counting.asked(), 1);

    // The same credential with nobody trusting its issuer: nothing fetched.
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report = service(&TrustList::default(), &counting, &genuine);
    assert_eq!(report.verdict(), Verdict::UnknownIssuer);
    assert_eq!(counting.asked(), 0);

    // Mallory names the trusted issuer and its list but signs with her own key.
    let forged = sign(
        &revoked,
        &mallory,
        &mallory_did.verification_method_id(),
        Cryptosuite::EddsaRdfc2022,
        ProofPurpose::AssertionMethod,
    );
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report = service(&trusting, &counting, &forged);
    assert_eq!(report.verdict(), Verdict::NotGenuine);
    assert_eq!(counting.asked(), 0);

    // The wallet's default: its own certificates' lists are fetched whoever issued them.
    let counting = Counting { inner: &fixtures, asked: Default::default() };
    let report = verify::verify_credential(&genuine, &opts(&TrustList::default(), &counting));
    assert_eq!(report.verdict(), Verdict::Revoked);
    assert_eq!(counting.asked(), 1);
}
