//! Issue 17, the verifier's judgement, at the attacker's level (raw HTTP against the real
//! `bem-verifier serve`): challenges used once (concurrently, across replicas and
//! restarts, with bounded memory), trust restricted to credential types, sealed
//! credentials shown under their sealer, and holder binding (the status-list cases are
//! AC-37 in `attacks.rs`). The map is `docs/security.md`, "Issue 17: the verifier's
//! judgement".

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use bem_core::data_integrity::ProofPurpose;
use bem_core::did_key::DidKey;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use super::{codes, credential, form_post, issue, key, read, sign, trust_file, Verifier, BIN};

/// A presentation of `credentials` (none: `[]`) by `holder`, signed for `challenge` and
/// the domain `employer.example`, as the VC API request body.
fn presented(holder_key: &SigningKey, holder: &DidKey, credentials: Value, challenge: &str) -> Value {
    let mut vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
    });
    if credentials != json!([]) {
        vp["verifiableCredential"] = credentials;
    }
    let c = challenge.to_owned();
    let signed = sign(&vp, holder_key, holder, ProofPurpose::Authentication, move |o| {
        o.created = Some("2026-05-30T10:00:00Z".into());
        o.challenge = Some(c.clone());
        o.domain = Some("employer.example".into());
    });
    json!({"verifiablePresentation": signed, "options": {"challenge": challenge, "domain": "employer.example"}})
}

/// A credential issued by `issuer` to the subject `subject` (a DID or another id).
fn issued_to(issuer_key: &SigningKey, issuer: &DidKey, subject: &str) -> Value {
    let mut doc = credential(issuer, "Olena Kovalenko");
    doc["credentialSubject"]["id"] = json!(subject);
    issue(&doc, issuer_key, issuer)
}

fn mint(v: &Verifier) -> String {
    let (status, body) = v.post_json("/challenges", &json!({}));
    assert_eq!(status, 200, "{body}");
    body["challenge"].as_str().unwrap().to_owned()
}

/// Posts a presentation; asserts a refusal INVALID_CHALLENGE_ERROR whose detail says `why`.
fn refused_challenge(v: &Verifier, request: &Value, why: &str) {
    let (status, body) = v.post_json("/presentations/verify", request);
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_CHALLENGE_ERROR")), "{body:#}");
    assert!(body["detail"].as_str().unwrap().contains(why), "expected {why:?}: {body:#}");
    assert_eq!(v.get("/healthz").0, 200);
}

/// `bem-verifier serve` that must refuse to start: its exit code and what it said.
fn refused_start(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("BEM_CHALLENGE_KEY_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the verifier started with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code().unwrap_or(-1), err)
}

/// Item 4 (a), (b): one presentation posted six times at once with one minted challenge
/// gives exactly one 200; a challenge is accepted only by the process that minted it (not
/// by a replica sharing the key file, not after a restart), a challenge of our form with a
/// broken tag is refused, and the key file must be private.
#[test]
fn minted_challenges_are_used_once_by_the_process_that_minted_them() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("challenge.key");
    let key_arg = key_file.to_str().unwrap();
    let a = Verifier::start(&["--challenge-key-file", key_arg]);
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let (ik, issuer) = key(60);
    let (hk, holder) = key(61);
    let vc = issued_to(&ik, &issuer, holder.did());

    // (a) Six at once: exactly one is accepted.
    let challenge = mint(&a);
    let request = presented(&hk, &holder, json!([vc]), &challenge).to_string();
    let barrier = Arc::new(Barrier::new(6));
    let url = format!("{}/presentations/verify", a.base);
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (barrier, url, request) = (barrier.clone(), url.clone(), request.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let (status, text) =
                    read(ureq::post(&url).set("Content-Type", "application/json").send_string(&request));
                (status, serde_json::from_str::<Value>(&text).unwrap())
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    let accepted = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(accepted, 1, "{answers:#?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, body["code"].as_str()), (400, Some("INVALID_CHALLENGE_ERROR")), "{body:#}");
    }
    let used: Value = serde_json::from_str(&request).unwrap();
    refused_challenge(&a, &used, "already been used");

    // (b) A replica with the same key file: it knows the challenge for ours, and refuses
    // it, used or not, because it did not mint it.
    let b = Verifier::start(&["--challenge-key-file", key_arg]);
    refused_challenge(&b, &used, "another instance");
    let unused = mint(&a);
    refused_challenge(&b, &presented(&hk, &holder, json!([vc]), &unused), "another instance");
    // Our form with a broken tag is refused, not taken for the caller's own challenge.
    let mut forged: Vec<char> = unused.chars().collect();
    forged[10] = if forged[10] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    refused_challenge(&a, &presented(&hk, &holder, json!([vc]), &forged), "not one this verifier minted");
    // A caller's own challenge (not of our form) is only compared with the proof's.
    let (status, body) =
        a.post_json("/presentations/verify", &presented(&hk, &holder, json!([vc]), "caller-7"));
    assert_eq!(status, 200, "{body:#}");

    // A restart with the key file: the used challenge stays refused.
    drop(a);
    let a = Verifier::start(&["--challenge-key-file", key_arg]);
    refused_challenge(&a, &used, "another instance");
    // And a fresh one from the restarted process verifies once.
    let fresh = mint(&a);
    let request = presented(&hk, &holder, json!([vc]), &fresh);
    assert_eq!(a.post_json("/presentations/verify", &request).0, 200);
    refused_challenge(&a, &request, "already been used");

    // Without a key file, a restart draws a new key: the old challenge is not ours.
    let c = Verifier::start(&[]);
    let once = presented(&hk, &holder, json!([vc]), &mint(&c));
    assert_eq!(c.post_json("/presentations/verify", &once).0, 200);
    drop(c);
    let c = Verifier::start(&[]);
    refused_challenge(&c, &once, "not one this verifier minted");

    // The key file must be private and well formed.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = refused_start(&["--challenge-key-file", key_arg]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
    let junk = dir.path().join("junk.key");
    std::fs::write(&junk, "not a key\n").unwrap();
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, err) = refused_start(&["--challenge-key-file", junk.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("32 bytes"), "{err}");
}

/// Item 4 (c): when the bound of outstanding challenges is reached, minting answers 503
/// with `Retry-After`, and every challenge minted before still verifies, once. (The real
/// bound is a million; a test-only flag lowers it to reach it in a second. Forgetting used
/// challenges as they expire is `challenge.rs`'s unit test, over simulated time.)
#[test]
fn a_full_verifier_stops_minting_and_never_refuses_a_fresh_challenge() {
    let v = Verifier::start(&["--challenge-max-outstanding", "12"]);
    let (ik, issuer) = key(62);
    let (hk, holder) = key(63);
    let vc = issued_to(&ik, &issuer, holder.did());
    let minted: Vec<String> = (0..12).map(|_| mint(&v)).collect();
    let r = ureq::post(&format!("{}/challenges", v.base))
        .set("Content-Type", "application/json")
        .send_string("{}");
    let Err(ureq::Error::Status(503, response)) = r else { panic!("a 13th challenge was minted") };
    let retry: i64 = response.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=660).contains(&retry), "{retry}");
    let body: Value = serde_json::from_str(&response.into_string().unwrap()).unwrap();
    assert_eq!(body["code"], "RESOURCE_LIMIT_EXCEEDED", "{body:#}");
    for challenge in &minted {
        let request = presented(&hk, &holder, json!([vc]), challenge);
        let (status, body) = v.post_json("/presentations/verify", &request);
        assert_eq!(status, 200, "{body:#}");
        refused_challenge(&v, &request, "already been used");
    }
}

/// Item 7: holder binding, and a presentation holding no credential.
#[test]
fn the_presenter_must_be_the_learner_the_credential_names() {
    let dir = tempfile::tempdir().unwrap();
    let (ik, issuer) = key(64);
    let (hk, holder) = key(65);
    let (mk, mallory) = key(66);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &issuer)]);
    let bound = issued_to(&ik, &issuer, holder.did());
    let public = issued_to(&ik, &issuer, "urn:uuid:2f1e0d9c-8b7a-4c6d-9e8f-0a1b2c3d4e5f");

    // The learner presents their own credential: valid, and bound.
    let (status, body) =
        v.post_json("/presentations/verify", &presented(&hk, &holder, json!([bound]), "c-1"));
    assert_eq!((status, body["verdict"].as_str()), (200, Some("valid")), "{body:#}");
    assert!(body["warnings"].as_array().unwrap().is_empty(), "{body:#}");

    // Mallory presents it with her own key: not verified, and the verdict says why.
    let (status, body) =
        v.post_json("/presentations/verify", &presented(&mk, &mallory, json!([bound]), "c-2"));
    assert_eq!((status, body["verified"].as_bool()), (400, Some(false)), "{body:#}");
    assert_eq!(body["verdict"], "wrong-holder", "{body:#}");
    assert!(codes(&body).contains(&"INVALID_VERIFICATION_METHOD".to_owned()), "{body:#}");
    let detail = body["problemDetails"][0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("presenter:") && detail.contains("not the credential's subject"), "{detail}");
    assert!(detail.contains(holder.did()) && detail.contains(mallory.did()), "{detail}");

    // A subject without a DID: verified, with a warning that the presenter is not shown
    // to be the learner.
    let (status, body) =
        v.post_json("/presentations/verify", &presented(&mk, &mallory, json!([public]), "c-3"));
    assert_eq!((status, body["verdict"].as_str()), (200, Some("valid")), "{body:#}");
    let warnings: Vec<&str> =
        body["warnings"].as_array().unwrap().iter().filter_map(|w| w["detail"].as_str()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("nothing shows that the presenter is the learner")),
        "{warnings:#?}"
    );

    // No credential at all is not "valid".
    let (_, body) = v.post_json("/presentations/verify", &presented(&hk, &holder, json!([]), "c-4"));
    assert_eq!(body["verdict"], "no-credential", "{body:#}");
    assert_eq!(body["trusted"], false);

    // The page says it too: a pasted certificate shows nothing about who handed it over; a
    // presentation by someone else is refused for that reason; the learner's own is bound.
    let (_, page) = form_post(&v, &[("credential", &bound.to_string()), ("lang", "en")]);
    assert!(
        page.contains(r#"data-verdict="valid""#) && page.contains(r#"data-holder="not-shown""#),
        "{page}"
    );
    let theirs = presented(&mk, &mallory, json!([bound]), "c-5")["verifiablePresentation"].to_string();
    let (status, page) = form_post(&v, &[("credential", &theirs), ("lang", "en")]);
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"data-verdict="wrong-holder""#) && page.contains("Not presented by the learner"),
        "{page}"
    );
    let own = presented(&hk, &holder, json!([bound]), "c-6")["verifiablePresentation"].to_string();
    let (_, page) = form_post(&v, &[("credential", &own), ("lang", "en")]);
    assert!(
        page.contains(r#"data-verdict="valid""#) && !page.contains(r#"data-holder="not-shown""#),
        "{page}"
    );
    assert!(page.contains("Olena Kovalenko") && page.contains("Test Academy"), "{page}");
    assert_eq!(v.get("/healthz").0, 200);
}

/// Item 6: a trust entry restricted to credential types trusts no other type.
#[test]
fn a_trust_entry_restricted_to_types_does_not_trust_other_types() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(67);
    let restricted = dir.path().join("restricted.toml");
    std::fs::write(
        &restricted,
        format!(
            "[[issuer]]\nid = \"{}\"\nname = \"Test Academy\"\ncredential_types = [\"MicroCredential\"]\n",
            did.did()
        ),
    )
    .unwrap();
    let v = Verifier::start(&["--trust", restricted.to_str().unwrap()]);
    let vc = issue(&credential(&did, "Olena"), &k, &did);
    let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": vc}));
    assert_eq!(
        (status, body["verified"].as_bool(), body["trusted"].as_bool()),
        (200, Some(true), Some(false)),
        "{body:#}"
    );
    assert_eq!(body["verdict"], "unknown-issuer", "{body:#}");
    let warning = body["warnings"][0]["detail"].as_str().unwrap();
    assert!(warning.contains("Test Academy is trusted, but not to issue VerifiableCredential"), "{warning}");

    // Control: the same issuer allowed this type is trusted.
    let allowed = dir.path().join("allowed.toml");
    std::fs::write(
        &allowed,
        format!("[[issuer]]\nid = \"{}\"\nname = \"Test Academy\"\ncredential_types = [\"VerifiableCredential\"]\n", did.did()),
    )
    .unwrap();
    let v = Verifier::start(&["--trust", allowed.to_str().unwrap()]);
    let (_, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": vc}));
    assert_eq!(
        (body["verdict"].as_str(), body["trusted"].as_bool()),
        (Some("valid"), Some(true)),
        "{body:#}"
    );
}

/// A test CA and seal certificates with and without an organizationIdentifier.
mod seals {
    use bem_core::jades_seal::{SealIdentity, SealingKey};
    use bem_core::x509::Certificate;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

    pub struct Ca {
        key: KeyPair,
        params: CertificateParams,
        pub pem: String,
        der: Vec<u8>,
    }

    pub fn ca() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, "Test eSeal CA");
        p.distinguished_name.push(DnType::OrganizationName, "Test Trust Services");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2040, 1, 1);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.clone().self_signed(&key).unwrap();
        Ca { pem: cert.pem(), der: cert.der().to_vec(), key, params: p }
    }

    /// A seal identity of `organisation` (with `organization_identifier` in its subject
    /// when given), issued by `ca`.
    pub fn identity(ca: &Ca, organisation: &str, organization_identifier: Option<&str>) -> SealIdentity {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, "TEST SEAL");
        p.distinguished_name.push(DnType::OrganizationName, organisation);
        if let Some(id) = organization_identifier {
            p.distinguished_name.push(DnType::CustomDnType(vec![2, 5, 4, 97]), id);
        }
        p.not_before = rcgen::date_time_ymd(2021, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
        p.is_ca = IsCa::ExplicitNoCa;
        let issuer = ca.params.clone().self_signed(&ca.key).unwrap();
        let leaf = p.signed_by(&key, &issuer, &ca.key).unwrap();
        let chain = vec![Certificate::from_der(leaf.der()).unwrap(), Certificate::from_der(&ca.der).unwrap()];
        SealIdentity::new(SealingKey::from_pkcs8_pem(&key.serialize_pem()).unwrap(), chain).unwrap()
    }
}

/// Item 6: a sealed credential is shown under its sealer (the seal certificate's subject),
/// not under the CA that anchors it; the issuer's eIDAS identifier is bound to the
/// certificate's organizationIdentifier, and where they differ the answer says so and the
/// credential is not trusted.
#[test]
fn sealed_credentials_are_shown_under_their_sealer_and_bound_to_its_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let ca = seals::ca();
    let trust = dir.path().join("trust.toml");
    std::fs::write(
        &trust,
        format!("[[anchor]]\nname = \"Test eSeal CA\"\ncertificate = \"\"\"\n{}\"\"\"\n", ca.pem),
    )
    .unwrap();
    let v = Verifier::start(&["--trust", trust.to_str().unwrap()]);
    // EDC's own sample credential; its issuer's eIDASIdentifier is VATES-A00000000.
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../testdata/elm/Sample-MC-Annex1-signed.jsonld"),
        )
        .unwrap(),
    )
    .unwrap();
    let payload: Value = serde_json::from_str(sample["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["issuer"]["eIDASIdentifier"]["notation"], "VATES-A00000000");
    let now = bem_core::datetime::Timestamp::from_unix(
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap(),
    );
    let seal = |identity: &bem_core::jades_seal::SealIdentity, payload: &Value| {
        bem_core::jades_seal::seal(&payload.to_string(), identity, now, &mut rand_core::OsRng).unwrap()
    };
    let verify = |sealed: &Value| {
        let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": sealed}));
        assert_eq!(v.get("/healthz").0, 200);
        (status, body)
    };
    let check = |body: &Value, name: &str| -> Value {
        body["results"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_default()
    };

    // Bound: the certificate's organizationIdentifier is the issuer's eIDAS identifier.
    let organizacion = seals::identity(&ca, "ORGANIZACION TEST", Some("VATES-A00000000"));
    let (status, body) = verify(&seal(&organizacion, &payload));
    assert_eq!((status, body["verdict"].as_str()), (200, Some("valid")), "{body:#}");
    assert_eq!(body["results"]["trusted_name"], "ORGANIZACION TEST (TEST SEAL)", "{body:#}");
    assert_eq!(check(&body, "issuer")["status"], "ok", "{body:#}");
    assert!(check(&body, "trust")["message"].as_str().unwrap().contains("Test eSeal CA"));
    // The page names the sealer as the issuer, not the CA.
    let (_, page) =
        form_post(&v, &[("credential", &seal(&organizacion, &payload).to_string()), ("lang", "en")]);
    assert!(page.contains("ORGANIZACION TEST (TEST SEAL)"), "{page}");
    assert!(!page.contains("<dd>Test eSeal CA</dd>"), "{page}");

    // Another organisation's seal over a credential naming VATES-A00000000: they differ,
    // said plainly, and the credential is not trusted.
    let other = seals::identity(&ca, "OTRA ENTIDAD", Some("VATES-B99999999"));
    let (status, body) = verify(&seal(&other, &payload));
    assert_eq!(
        (status, body["verified"].as_bool(), body["trusted"].as_bool()),
        (200, Some(true), Some(false)),
        "{body:#}"
    );
    assert_eq!(body["verdict"], "unknown-issuer", "{body:#}");
    let issuer = check(&body, "issuer");
    assert_eq!(issuer["status"], "warning", "{body:#}");
    let said = issuer["message"].as_str().unwrap();
    assert!(
        said.contains("VATES-A00000000") && said.contains("VATES-B99999999") && said.contains("they differ"),
        "{said}"
    );
    assert!(body.pointer("/results/trusted_name").is_none(), "{body:#}");

    // A seal certificate without an organizationIdentifier: trusted through the anchor,
    // shown under the sealer, with a warning that nothing binds the two.
    let unnamed = seals::identity(&ca, "ORGANIZACION TEST", None);
    let (status, body) = verify(&seal(&unnamed, &payload));
    assert_eq!((status, body["verdict"].as_str()), (200, Some("valid")), "{body:#}");
    assert_eq!(body["results"]["trusted_name"], "ORGANIZACION TEST (TEST SEAL)");
    let issuer = check(&body, "issuer");
    assert_eq!(issuer["status"], "warning", "{body:#}");
    assert!(issuer["message"].as_str().unwrap().contains("carries no organizationIdentifier"), "{issuer}");
}
