//! Across the binaries and across implementations: a certificate issued by the real
//! `bem-issuer`, held by the real `bem-wallet`, presented to the real `bem-verifier`; and
//! Digital Bazaar's libraries (the independent implementation, `interop/`) verifying what
//! we make and making what we verify. (One test binary, as style.md §8 asks.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use bem_e2e::{tampered, Interop, Issuer, JsonServer, Verifier, Wallet};
use serde_json::{json, Value};

const MC: &str = "ua-cyber-hygiene-ngos";

/// One issuer, one learner's wallet holding a certificate imported by its link.
struct World {
    issuer: Issuer,
    wallet: Wallet,
    /// The wallet's id of the certificate.
    held: String,
    /// The certificate as issued.
    certificate: Value,
}

fn world() -> World {
    let issuer = Issuer::start();
    let award = issuer.award(MC, "Тарас Шевчук");
    let wallet = Wallet::new(&[&issuer.origin()]);
    let held = wallet.import(award["links"]["credential"].as_str().unwrap());
    World { issuer, wallet, held, certificate: award["verifiableCredential"].clone() }
}

fn verify_presentation(
    verifier: &Verifier,
    vp: &Value,
    challenge: &str,
    domain: Option<&str>,
) -> (u16, Value) {
    let mut options = json!({"challenge": challenge});
    if let Some(domain) = domain {
        options["domain"] = json!(domain);
    }
    let answer =
        verifier.post("/presentations/verify", &json!({"verifiablePresentation": vp, "options": options}));
    (answer.status, answer.body)
}

/// Issue 10's differential check on what the independent implementation signs: the
/// credential, without its proof, and its proof configuration expand through the fast
/// JSON-LD path and the general processor to the same canonical N-Quads.
fn both_json_ld_paths_agree(signed: &Value) {
    use bem_core::contexts::{to_rdf_general, ContextPolicy};
    use bem_core::{fast_ld, rdfc};
    let mut unsecured = signed.as_object().unwrap().clone();
    let proof = unsecured.remove("proof").unwrap();
    let mut config = proof.as_object().unwrap().clone();
    config.remove("proofValue");
    config.insert("@context".into(), signed["@context"].clone());
    for doc in [Value::Object(unsecured), Value::Object(config)] {
        let policy = ContextPolicy::STRICT;
        let fast =
            fast_ld::to_rdf(&doc, policy).unwrap_or_else(|e| panic!("fast path declined {e:?}: {doc}"));
        let general = to_rdf_general(&doc, policy).unwrap();
        let limits = rdfc::Limits::CREDENTIALS;
        assert_eq!(
            rdfc::canonicalize(&fast, &limits).unwrap(),
            rdfc::canonicalize(&general, &limits).unwrap()
        );
    }
}

fn problem_codes(body: &Value) -> Vec<String> {
    body["problemDetails"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[test]
fn the_wallet_presents_to_the_real_verifier_and_only_the_right_challenge_and_domain_pass() {
    let w = world();
    let verifier = Verifier::start(&[&w.issuer.did()], &[&w.issuer.origin()]);

    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        let challenge = verifier.challenge();
        let vp = w.wallet.present(&[&w.held], &challenge, Some("employer.example"), Some(suite));
        assert_eq!(vp["proof"]["cryptosuite"], suite);
        assert_eq!(vp["proof"]["proofPurpose"], "authentication");

        // Wrong challenge, wrong domain, missing domain: 400 with the spec's codes.
        let (status, body) =
            verify_presentation(&verifier, &vp, "not-the-challenge", Some("employer.example"));
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["verified"], false);
        assert!(problem_codes(&body).iter().any(|c| c == "INVALID_CHALLENGE_ERROR"), "{body}");
        let (status, body) = verify_presentation(&verifier, &vp, &challenge, Some("other.example"));
        assert_eq!(status, 400, "{body}");
        assert!(problem_codes(&body).iter().any(|c| c == "INVALID_DOMAIN_ERROR"), "{body}");

        // Right challenge and domain: verified, the issuer trusted, the status checked.
        let (status, body) = verify_presentation(&verifier, &vp, &challenge, Some("employer.example"));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["verified"], true);
        assert_eq!(body["verdict"], "valid", "{body}");

        // A minted challenge is good for one verified presentation only.
        let (status, body) = verify_presentation(&verifier, &vp, &challenge, Some("employer.example"));
        assert_eq!(status, 400, "{body}");
        assert!(problem_codes(&body).iter().any(|c| c == "INVALID_CHALLENGE_ERROR"), "{body}");
    }

    // Revoked at the issuer after the wallet presented: the verifier reads "revoked"; and
    // the wallet itself no longer presents it, saying why.
    // (The first verifier may serve the list from its cache for the issuer's max-age of
    // 60 s; a verifier without it in cache sees the revocation at once. A challenge is
    // accepted only by the process that minted it.)
    let fresh = Verifier::start(&[&w.issuer.did()], &[&w.issuer.origin()]);
    let challenge = fresh.challenge();
    let vp = w.wallet.present(&[&w.held], &challenge, None, None);
    w.issuer.set_status(w.certificate["id"].as_str().unwrap(), "revocation", true);
    let (status, body) = verify_presentation(&fresh, &vp, &challenge, None);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["verdict"], "revoked", "{body}");
    let out = w.wallet.run(&["present", &w.held, "--challenge", &verifier.challenge()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("revoked"), "{out:?}");
}

#[test]
fn tampered_presentations_and_credentials_fail_at_the_verifier() {
    let w = world();
    let verifier = Verifier::start(&[&w.issuer.did()], &[&w.issuer.origin()]);
    let challenge = verifier.challenge();
    let vp = w.wallet.present(&[&w.held], &challenge, None, None);
    // Changed after the holder signed: the holder's proof no longer verifies.
    let forged = tampered(&vp, "/verifiableCredential/0/credentialSubject/fullName/en", "Mallory");
    let (status, body) = verify_presentation(&verifier, &forged, &challenge, None);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["verified"], false);

    // A tampered certificate stored with --force is never presented by the wallet.
    let file = w.wallet.home.path().join("forged.json");
    let forged = tampered(&w.certificate, "/credentialSubject/fullName/en", "Mallory");
    let forged = tampered(&forged, "/id", "urn:uuid:00000000-0000-4000-8000-000000000001");
    std::fs::write(&file, forged.to_string()).unwrap();
    let refused = w.wallet.run(&["import", file.to_str().unwrap()]);
    assert_eq!(refused.code, 1, "{refused:?}");
    let forced = w.wallet.run(&["--json", "import", "--force", file.to_str().unwrap()]);
    assert_eq!(forced.code, 1, "{forced:?}");
    let forced = forced.json();
    assert_eq!(forced["stored"], true);
    assert_eq!(forced["verification"]["verdict"], "not-genuine");
    let out = w.wallet.run(&["present", forced["id"].as_str().unwrap(), "--challenge", &challenge]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("does not verify"), "{out:?}");
}

#[test]
fn the_independent_implementation_accepts_our_certificates_presentations_and_status_lists() {
    let w = world();
    let Some(them) = Interop::get(&[&w.issuer.origin()]) else { return };

    // The ELM certificate (VC 1.1 envelope, eddsa-rdfc-2022). Its one status entry is also
    // an elm:CredentialStatus (EDC's shapes), a `type` their status library does not
    // read: they verify the proof and leave the status unchecked (the Open Badges
    // certificate below carries their status check).
    let (verified, out) = them.verify_credential(&w.certificate);
    assert!(verified, "{out}");
    assert_eq!((&out["status"], &out["statusUnchecked"]), (&json!({}), &json!(true)), "{out}");

    // eddsa-jcs-2022 through the VC API.
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": w.issuer.did(),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:example:learner", "name": "Тарас Шевчук"}
    });
    let answer = w.issuer.admin(
        "/credentials/issue",
        &json!({"credential": unsigned, "options": {"cryptosuite": "eddsa-jcs-2022"}}),
    );
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let jcs = answer.body["verifiableCredential"].clone();
    let (verified, out) = them.verify_credential(&jcs);
    assert!(verified, "{out}");

    // The wallet's presentations, both cryptosuites; wrong challenge or domain fail there too.
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        let vp = w.wallet.present(&[&w.held], "c-8f2d", Some("employer.example"), Some(suite));
        let (verified, out) = them.verify_presentation(&vp, "c-8f2d", Some("employer.example"));
        assert!(verified, "{suite}: {out}");
        let (verified, out) = them.verify_presentation(&vp, "another", Some("employer.example"));
        assert!(!verified, "{suite}: {out}");
        let (verified, out) = them.verify_presentation(&vp, "c-8f2d", Some("other.example"));
        assert!(!verified, "{suite}: {out}");
    }

    // Tampered on our side: fails on theirs.
    for (doc, pointer) in
        [(&w.certificate, "/credentialSubject/fullName/en"), (&jcs, "/credentialSubject/name")]
    {
        let (verified, out) = them.verify_credential(&tampered(doc, pointer, "Mallory"));
        assert!(!verified, "{out}");
    }
    // Their holder signs a presentation around our tampered certificate: the holder's
    // proof is good, the credential inside is not, and our verifier says so.
    let verifier = Verifier::start(&[&w.issuer.did()], &[&w.issuer.origin()]);
    let challenge = verifier.challenge();
    let vp = them.sign_presentation(
        &json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [tampered(&w.certificate, "/credentialSubject/fullName/en", "Mallory")]
        }),
        &challenge,
        None,
    );
    let (status, body) = verify_presentation(&verifier, &vp, &challenge, None);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["verdict"], "not-genuine", "{body}");

    // An Open Badges certificate's two entries: their checkStatus fetches our status list
    // credentials and verifies their proofs; revoked and suspended at our issuer, their
    // status check reads our signed lists.
    let answer = w.issuer.admin(
        &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
        &json!({"name": "Тарас Шевчук"}),
    );
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let badge = answer.body["verifiableCredential"].clone();
    let (verified, out) = them.verify_credential(&badge);
    assert!(verified, "{out}");
    assert_eq!(out["status"], json!({"revocation": false, "suspension": false}), "{out}");
    assert_eq!(out["statusUnchecked"], false, "{out}");
    let id = badge["id"].as_str().unwrap();
    w.issuer.set_status(id, "suspension", true);
    let (_, out) = them.verify_credential(&badge);
    assert_eq!(out["status"], json!({"revocation": false, "suspension": true}), "{out}");
    w.issuer.set_status(id, "suspension", false);
    w.issuer.set_status(id, "revocation", true);
    let (_, out) = them.verify_credential(&badge);
    assert_eq!(out["status"], json!({"revocation": true, "suspension": false}), "{out}");
    // The ELM certificate revoked: ours says so (their library does not read its entry).
    let id = w.certificate["id"].as_str().unwrap();
    w.issuer.set_status(id, "revocation", true);
    let verifier = Verifier::start(&[&w.issuer.did()], &[&w.issuer.origin()]);
    let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": w.certificate}));
    assert_eq!(answer.body["verdict"], "revoked", "{:?}", answer.body);
}

#[test]
fn we_verify_what_the_independent_implementation_signs() {
    let Some(them) = Interop::get(&[]) else { return };
    let verifier = Verifier::start(&[], &[]);
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:example:learner", "name": "Amina Haddad"}
    });
    let wallet = Wallet::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    for (n, suite) in ["eddsa-rdfc-2022", "eddsa-jcs-2022"].into_iter().enumerate() {
        let mut unsigned = unsigned.clone();
        unsigned["id"] = json!(format!("urn:uuid:7d0c1c3e-5a4f-4e8b-9f63-2b1f3c4d5e6{n}"));
        let theirs = them.issue(&unsigned, suite);
        assert_eq!(theirs["proof"]["cryptosuite"], suite);
        both_json_ld_paths_agree(&theirs);

        // Our verifier: genuine, issuer unknown (nobody put their did:key on the trust list).
        let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": theirs}));
        assert_eq!(answer.status, 200, "{suite}: {:?}", answer.body);
        assert_eq!(answer.body["verified"], true);
        assert_eq!(answer.body["verdict"], "unknown-issuer");

        // Tampered on their side: fails on ours, at the verifier and in the wallet.
        let forged = tampered(&theirs, "/credentialSubject/name", "Mallory");
        let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": forged}));
        assert_eq!(answer.status, 400, "{suite}: {:?}", answer.body);
        let file = dir.path().join(format!("{suite}-forged.json"));
        std::fs::write(&file, forged.to_string()).unwrap();
        let out = wallet.run(&["import", file.to_str().unwrap()]);
        assert_eq!(out.code, 1, "{suite}: {out:?}");

        // Our wallet imports theirs.
        let file = dir.path().join(format!("{suite}.json"));
        std::fs::write(&file, theirs.to_string()).unwrap();
        wallet.import(file.to_str().unwrap());

        // Their holder's presentation of it, verified by ours with the challenge it names.
        let challenge = verifier.challenge();
        let vp = them.sign_presentation(
            &json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiablePresentation"],
                "verifiableCredential": [theirs]
            }),
            &challenge,
            Some("employer.example"),
        );
        both_json_ld_paths_agree(&vp);
        let (status, body) = verify_presentation(&verifier, &vp, "other-challenge", Some("employer.example"));
        assert_eq!(status, 400, "{suite}: {body}");
        let (status, body) = verify_presentation(&verifier, &vp, &challenge, Some("employer.example"));
        assert_eq!(status, 200, "{suite}: {body}");
        assert_eq!(body["verified"], true);
    }

    // Their credentials often name the Data Integrity context after VC 2.0's; json-ld-core
    // alone refused that as a protected term redefinition (contexts.rs,
    // `without_repeated_definitions`). Both suites, both JSON-LD paths (the fast one
    // answers), and a change still breaks them.
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        let mut unsigned = unsigned.clone();
        unsigned["@context"] =
            json!(["https://www.w3.org/ns/credentials/v2", "https://w3id.org/security/data-integrity/v2"]);
        unsigned["id"] = json!(format!("urn:uuid:7d0c1c3e-5a4f-4e8b-9f63-2b1f3c4d5e7{}", suite.len() % 10));
        let theirs = them.issue(&unsigned, suite);
        both_json_ld_paths_agree(&theirs);
        let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": theirs}));
        assert_eq!(
            (answer.status, &answer.body["verified"]),
            (200, &json!(true)),
            "{suite}: {:?}",
            answer.body
        );
        if suite == "eddsa-rdfc-2022" {
            assert_eq!(answer.body["results"]["path"], "fast", "{:?}", answer.body);
        }
        let forged = tampered(&theirs, "/credentialSubject/name", "Mallory");
        let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": forged}));
        assert_eq!(answer.status, 400, "{suite}: {:?}", answer.body);

        // Inside a presentation the embedded `@context` is read the same way: our wallet
        // presents their credential, and ours and theirs verify the presentation.
        let file = dir.path().join(format!("{suite}-di.json"));
        std::fs::write(&file, theirs.to_string()).unwrap();
        let held = wallet.import(file.to_str().unwrap());
        let challenge = verifier.challenge();
        let vp = wallet.present(&[&held], &challenge, Some("employer.example"), None);
        both_json_ld_paths_agree(&vp);
        let (status, body) = verify_presentation(&verifier, &vp, &challenge, Some("employer.example"));
        assert_eq!(status, 200, "{suite}: {body}");
        let (verified, out) = them.verify_presentation(&vp, &challenge, Some("employer.example"));
        assert!(verified, "{suite}: {out}");
    }
}

#[test]
fn we_read_the_independent_implementations_status_lists() {
    let Some(them) = Interop::get(&[]) else { return };
    let server = JsonServer::start();
    let origin = format!("{}/", server.origin);
    let wallet = Wallet::new(&[&origin]);
    let dir = tempfile::tempdir().unwrap();
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:example:learner", "name": "Amina Haddad"}
    });
    for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
        for (revoked, index) in [(false, 94_567), (true, 1_234)] {
            let path = format!("/{suite}/lists/{index}");
            let list_url = format!("{}{path}", server.origin);
            let (credential, list) = them.issue_with_status_list(&unsigned, suite, &list_url, index, revoked);
            assert_eq!(list["type"], json!(["VerifiableCredential", "BitstringStatusListCredential"]));
            both_json_ld_paths_agree(&credential);
            both_json_ld_paths_agree(&list);
            server.serve(&path, &list);
            let what = format!("{suite}, revoked: {revoked}");

            // A verifier trusting their issuer fetches their list, verifies its proof and
            // issuer, reads the bit (what an unknown issuer names is never fetched).
            let issuer =
                credential["issuer"].as_str().or(credential["issuer"]["id"].as_str()).unwrap().to_owned();
            let verifier = Verifier::start(&[&issuer], &[&origin]);
            let answer = verifier.post("/credentials/verify", &json!({"verifiableCredential": credential}));
            let checks = answer.body["results"]["checks"].as_array().unwrap();
            let status = checks.iter().find(|c| c["name"] == "status").unwrap();
            if revoked {
                assert_eq!(answer.status, 400, "{what}: {:?}", answer.body);
                assert_eq!(answer.body["verdict"], "revoked", "{what}");
                assert_eq!(status["status"], "failed", "{what}: {status}");
            } else {
                assert_eq!(answer.status, 200, "{what}: {:?}", answer.body);
                assert_eq!(answer.body["verdict"], "valid", "{what}");
                assert_eq!(status["status"], "ok", "{what}: {status}");
            }

            // The wallet: imports the good one, refuses the revoked one.
            let file = dir.path().join(format!("{suite}-{revoked}.json"));
            std::fs::write(&file, credential.to_string()).unwrap();
            let out = wallet.run(&["import", file.to_str().unwrap()]);
            assert_eq!(out.code, if revoked { 1 } else { 0 }, "{what}: {out:?}");

            // Their list changed by a byte: its proof fails, so the status cannot be known.
            if !revoked {
                server.serve(&path, &tampered(&list, "/credentialSubject/statusPurpose", "suspension"));
                let fresh = Verifier::start(&[&issuer], &[&origin]);
                let answer = fresh.post("/credentials/verify", &json!({"verifiableCredential": credential}));
                assert_eq!(answer.status, 400, "{what}: {:?}", answer.body);
                assert_ne!(answer.body["verified"], true, "{what}");
            }
        }
    }
}

#[test]
fn open_badges_certificates_verify_here_and_at_the_independent_implementation() {
    let issuer = Issuer::start();
    let answer = issuer.admin(
        &format!("/micro-credentials/{MC}/certificates?profile=openbadges"),
        &json!({"name": "Амина Хаддад", "email": "amina@example.org", "grade": "Pass"}),
    );
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let badge = answer.body["verifiableCredential"].clone();
    assert_eq!(badge["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
    assert_eq!(badge["credentialSubject"]["achievement"]["achievementType"], "MicroCredential");
    assert_eq!(badge["proof"]["cryptosuite"], "eddsa-rdfc-2022");

    // Ours: the verifier (trusted, status checked) and the wallet's reading of it.
    let verifier = Verifier::start(&[&issuer.did()], &[&issuer.origin()]);
    let verified = verifier.post("/credentials/verify", &json!({"verifiableCredential": badge}));
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    assert_eq!(verified.body["verdict"], "valid");
    let wallet = Wallet::new(&[&issuer.origin()]);
    let held = wallet.import(answer.body["links"]["credential"].as_str().unwrap());
    let show = wallet.ok(&["show", &held]).stdout;
    for needle in ["Амина Хаддад", "Cyber hygiene", "Pass"] {
        assert!(show.contains(needle), "{needle} missing from\n{show}");
    }
    // The hosted certificate page reads it too.
    let link = answer.body["links"]["credential"].as_str().unwrap();
    let page = ureq::get(link).set("Accept", "text/html").call().unwrap().into_string().unwrap();
    assert!(page.contains("Амина Хаддад") && page.contains("Cyber hygiene"), "{page}");

    // Theirs, and a tampered copy.
    let Some(them) = Interop::get(&[&issuer.origin()]) else { return };
    let (ok, out) = them.verify_credential(&badge);
    assert!(ok, "{out}");
    assert_eq!(out["status"], json!({"revocation": false, "suspension": false}), "{out}");
    let forged = tampered(&badge, "/credentialSubject/achievement/name", "Brain surgery");
    let (ok, out) = them.verify_credential(&forged);
    assert!(!ok, "{out}");

    // An unknown profile is refused, and nothing is issued.
    let refused =
        issuer.admin(&format!("/micro-credentials/{MC}/certificates?profile=pdf"), &json!({"name": "X"}));
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("openbadges"), "{:?}", refused.body);
}
