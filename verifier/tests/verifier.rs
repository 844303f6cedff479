//! bem-verifier end to end: the real binary on a free port, driven over HTTP and as a CLI,
//! with credentials signed here by bem-core and status lists served by a tiny local
//! server allowed with `--fetch-allow`. (One test binary, as style.md §8 asks.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::{self, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::did_key::DidKey;
use bem_core::status_list::Bitstring;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_bem-verifier");

/// A running `bem-verifier serve`, stopped on drop.
struct Verifier {
    child: Child,
    base: String,
}

impl Verifier {
    fn start(args: &[&str]) -> Verifier {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("BEM_FETCH_ALLOW")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{line}");
        Verifier { child, base }
    }

    fn post(&self, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let r =
            ureq::post(&format!("{}{path}", self.base)).set("Content-Type", content_type).send_string(body);
        read(r)
    }

    fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.post(path, "application/json", &body.to_string());
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    }

    fn get(&self, path_and_query: &str) -> (u16, String) {
        read(ureq::get(&format!("{}{path_and_query}", self.base)).call())
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(r: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

/// A tiny HTTP server of fixed JSON documents.
struct Files {
    base: String,
    docs: Arc<Mutex<HashMap<String, String>>>,
}

impl Files {
    fn start() -> Files {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let docs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let served = docs.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = served.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    reader.read_line(&mut first).unwrap();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                    }
                    let path = first.split(' ').nth(1).unwrap_or("/").to_owned();
                    let doc = served.lock().unwrap().get(&path).cloned();
                    let (status, body) = match doc {
                        Some(d) => ("200 OK", d),
                        None => ("404 Not Found", "{}".to_owned()),
                    };
                    let mut out = stream;
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Files { base, docs }
    }

    fn put(&self, path: &str, doc: &Value) -> String {
        self.docs.lock().unwrap().insert(path.to_owned(), doc.to_string());
        format!("{}{path}", self.base)
    }
}

fn key(seed: u8) -> (SigningKey, DidKey) {
    let signing = SigningKey::from_bytes(&[seed; 32]);
    let did = DidKey::from_public_key(&signing.verifying_key());
    (signing, did)
}

fn credential(issuer: &DidKey, learner: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0d3c9a48-4f41-4b5f-9d8e-1b1c2d3e4f50",
        "type": ["VerifiableCredential"],
        "name": "Digital skills for small businesses",
        "issuer": issuer.did(),
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": learner}
    })
}

fn sign(
    doc: &Value,
    key: &SigningKey,
    did: &DidKey,
    purpose: ProofPurpose,
    edit: impl Fn(&mut ProofOptions),
) -> Value {
    let mut options = ProofOptions::new(Cryptosuite::EddsaRdfc2022, did.verification_method_id(), purpose);
    options.created = Some("2026-01-15T09:00:00Z".into());
    edit(&mut options);
    data_integrity::add_proof(doc, &options, key, ContextPolicy::STRICT).unwrap()
}

fn issue(doc: &Value, key: &SigningKey, did: &DidKey) -> Value {
    sign(doc, key, did, ProofPurpose::AssertionMethod, |_| {})
}

fn status_list(issuer: &DidKey, key: &SigningKey, url: &str, set: &[usize]) -> Value {
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
        "credentialSubject": {"id": format!("{url}#list"), "type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": bits.encode()}
    });
    issue(&list, key, issuer)
}

fn with_status(mut doc: Value, url: &str, index: usize) -> Value {
    doc["credentialStatus"] = json!({
        "id": format!("{url}#{index}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index.to_string(),
        "statusListCredential": url
    });
    doc
}

fn trust_file(dir: &Path, issuer: &DidKey) -> String {
    let path = dir.join("trust.toml");
    std::fs::write(&path, format!("[[issuer]]\nid = \"{}\"\nname = \"Test Academy\"\n", issuer.did()))
        .unwrap();
    path.to_str().unwrap().to_owned()
}

fn codes(body: &Value) -> Vec<String> {
    body["problemDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

fn tampered(vc: &Value) -> Value {
    let mut t = vc.clone();
    t["credentialSubject"]["name"] = "Mallory".into();
    t
}

#[test]
fn credentials_verify_and_failures_are_400_with_problem_details() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(1);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did)]);
    let vc = issue(&credential(&did, "Olena Kovalenko"), &k, &did);

    let (status, body) = v.post_json(
        "/credentials/verify",
        &json!({"verifiableCredential": vc, "options": {"checks": ["proof"]}}),
    );
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["verified"], true);
    assert_eq!(body["verdict"], "valid");
    assert!(body["checks"].as_array().unwrap().contains(&json!("proof")));
    assert!(body.get("errors").is_none());
    assert!(body["results"]["checks"].as_array().unwrap().len() >= 5);

    let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": tampered(&vc)}));
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["verified"], false);
    assert_eq!(body["verdict"], "not-genuine");
    assert!(!codes(&body).is_empty());
    assert!(body["problemDetails"][0]["type"].as_str().unwrap().starts_with("https://w3id.org/security#"));

    // An untrusted issuer's valid credential is verified, but never plainly "valid".
    let (k2, other) = key(2);
    let (status, body) = v.post_json(
        "/credentials/verify",
        &json!({"verifiableCredential": issue(&credential(&other, "X"), &k2, &other)}),
    );
    assert_eq!(status, 200);
    assert_eq!(body["verdict"], "unknown-issuer");
    assert_eq!(body["warnings"][0]["code"], "UNTRUSTED_ISSUER");

    // A JSON string holding the credential, and proof: null (AC-01).
    let (status, _) = v.post_json("/credentials/verify", &json!({"verifiableCredential": vc.to_string()}));
    assert_eq!(status, 400);
    let mut no_proof = vc.clone();
    no_proof["proof"] = Value::Null;
    assert_eq!(v.post_json("/credentials/verify", &json!({"verifiableCredential": no_proof})).0, 400);

    // A proof made for authentication is refused for a credential (AC-10).
    let auth = sign(&credential(&did, "A"), &k, &did, ProofPurpose::Authentication, |_| {});
    assert_eq!(v.post_json("/credentials/verify", &json!({"verifiableCredential": auth})).0, 400);

    let (_, health) = v.get("/healthz");
    assert!(health.contains("ok"));
    let (_, metrics) = v.get("/metrics");
    assert!(
        metrics.contains("bem_verifier_http_requests_total{route=\"/credentials/verify\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("bem_verifier_verification_duration_seconds_count{kind=\"credential\"}"));
}

#[test]
fn bad_requests_are_refused_before_verifying() {
    let v = Verifier::start(&[]);
    let (k, did) = key(3);
    let vc = issue(&credential(&did, "A"), &k, &did);
    for (options, code) in [
        (json!({"proofPurpose": "authentication"}), "UNKNOWN_OPTION_PROVIDED"),
        (json!({"verificationMethod": did.verification_method_id()}), "UNKNOWN_OPTION_PROVIDED"),
        (json!({"challenge": "abc"}), "UNKNOWN_OPTION_PROVIDED"),
        (json!({"foo": true}), "UNKNOWN_OPTION_PROVIDED"),
        (json!({"returnResults": "yes"}), "MALFORMED_VALUE_ERROR"),
    ] {
        let (status, body) =
            v.post_json("/credentials/verify", &json!({"verifiableCredential": vc, "options": options}));
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{options}: {body}");
    }
    let dup = format!(r#"{{"verifiableCredential": {vc}, "verifiableCredential": {{}}}}"#);
    let (status, text) = v.post("/credentials/verify", "application/json", &dup);
    assert_eq!(status, 400);
    assert!(text.contains("duplicate member"), "{text}");
    let (status, _) = v.post("/credentials/verify", "application/json", "[1]");
    assert_eq!(status, 400);
    let (status, _) = v.post("/credentials/verify", "application/json", "{}");
    assert_eq!(status, 400);
    let big = format!(r#"{{"verifiableCredential": "{}"}}"#, "a".repeat(600 * 1024));
    let r = ureq::post(&format!("{}/credentials/verify", v.base))
        .set("Content-Type", "application/json")
        .send_string(&big);
    let (status, text) = read(r);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("RESOURCE_LIMIT_EXCEEDED"));
    let (status, _) = v.get("/nope");
    assert_eq!(status, 404);
}

#[test]
fn presentations_need_the_right_challenge_once() {
    let v = Verifier::start(&[]);
    let (ik, issuer) = key(4);
    let (hk, holder) = key(5);
    let vc = issue(&credential(&issuer, "Olena"), &ik, &issuer);
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
        "verifiableCredential": [vc]
    });
    let (status, body) = v.post_json("/challenges", &json!({}));
    assert_eq!(status, 200);
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    assert!(challenge.len() >= 22);
    let signed = |c: &str| {
        let c = c.to_owned();
        sign(&vp, &hk, &holder, ProofPurpose::Authentication, move |o| {
            o.created = Some("2026-05-30T10:00:00Z".into());
            o.challenge = Some(c.clone());
            o.domain = Some("employer.example".into());
        })
    };
    let request = |vp: &Value, c: &str| json!({"verifiablePresentation": vp, "options": {"challenge": c, "domain": "employer.example"}});
    let good = signed(&challenge);
    let (status, body) = v.post_json("/presentations/verify", &request(&good, &challenge));
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["verified"], true);
    // The same minted challenge cannot be used twice.
    let (status, body) = v.post_json("/presentations/verify", &request(&good, &challenge));
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_CHALLENGE_ERROR")), "{body}");
    // A presentation signed for another challenge.
    let other = signed("some-other-challenge");
    let (status, body) = v.post_json("/presentations/verify", &request(&other, "expected-challenge"));
    assert_eq!(status, 400);
    assert!(codes(&body).contains(&"INVALID_CHALLENGE_ERROR".to_owned()), "{body:#}");
    // A caller-chosen challenge that matches is fine; the wrong domain is not.
    let (status, _) = v.post_json("/presentations/verify", &request(&other, "some-other-challenge"));
    assert_eq!(status, 200);
    let (status, body) = v.post_json(
        "/presentations/verify",
        &json!({"verifiablePresentation": other, "options": {"challenge": "some-other-challenge", "domain": "evil.example"}}),
    );
    assert_eq!(status, 400);
    assert!(codes(&body).contains(&"INVALID_DOMAIN_ERROR".to_owned()), "{body:#}");
    // Unsigned presentations are refused outside conformance mode.
    let (status, _) = v.post_json("/presentations/verify", &json!({"verifiablePresentation": vp}));
    assert_eq!(status, 400);
}

#[test]
fn status_lists_are_fetched_only_from_allowed_origins() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::start();
    let (k, did) = key(6);
    let url = format!("{}/status/1", files.base);
    files.put("/status/1", &status_list(&did, &k, &url, &[7]));
    let allowed = format!("{}/", files.base);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did), "--fetch-allow", &allowed]);

    let ok = issue(&with_status(credential(&did, "A"), &url, 3), &k, &did);
    let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": ok}));
    assert_eq!((status, body["verdict"].as_str()), (200, Some("valid")), "{body:#}");

    let revoked = issue(&with_status(credential(&did, "B"), &url, 7), &k, &did);
    let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": revoked}));
    assert_eq!((status, body["verdict"].as_str()), (400, Some("revoked")), "{body:#}");
    assert!(codes(&body).contains(&"STATUS_ERROR".to_owned()));

    // The same list on a host nobody allowed: a failed status check, never a pass.
    let elsewhere = "https://status.not-allowed.example/status/1";
    let vc = issue(&with_status(credential(&did, "C"), elsewhere, 3), &k, &did);
    let (status, body) = v.post_json("/credentials/verify", &json!({"verifiableCredential": vc}));
    assert_eq!(status, 400, "{body:#}");
    assert!(codes(&body).contains(&"STATUS_RETRIEVAL_ERROR".to_owned()), "{body:#}");

    // Without --fetch-allow, the local server is out of reach.
    let strict = Verifier::start(&["--trust", &trust_file(dir.path(), &did)]);
    let (status, body) = strict.post_json("/credentials/verify", &json!({"verifiableCredential": ok}));
    assert_eq!(status, 400);
    assert!(codes(&body).contains(&"STATUS_RETRIEVAL_ERROR".to_owned()), "{body:#}");

    // The page opens a link on an allowed origin, and refuses one elsewhere.
    let link = files.put("/credentials/1", &ok);
    let (status, page) = v.get(&format!("/verify?credential={link}"));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-verdict="valid""#), "{page}");
    let (status, page) = strict.get(&format!("/verify?credential={link}"));
    assert_eq!(status, 400);
    assert!(page.contains("could not be checked"), "{page}");
    let (_, page) = v.get("/verify?credential=http://169.254.169.254/latest/meta-data/");
    assert!(page.contains("could not be checked"));
}

fn run_check(args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let mut child = Command::new(BIN)
        .arg("check")
        .args(args)
        .env_remove("BEM_FETCH_ALLOW")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap(), out)
}

#[test]
fn the_check_command_exits_0_1_2() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(7);
    let trust = trust_file(dir.path(), &did);
    let vc = issue(&credential(&did, "Olena"), &k, &did);
    let good = dir.path().join("good.json");
    std::fs::write(&good, vc.to_string()).unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, tampered(&vc).to_string()).unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "this is not json").unwrap();
    let good = good.to_str().unwrap();

    let (code, out) = run_check(&[good, "--trust", &trust, "--offline"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VERIFIED: Valid"), "{out}");
    assert!(out.contains("proof"));
    let (code, out) = run_check(&[bad.to_str().unwrap(), "--offline"], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("NOT VERIFIED: Not genuine"), "{out}");
    let (code, out) = run_check(&["-", "--json", "--offline"], Some(&vc.to_string()));
    assert_eq!(code, 0, "{out}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((body["verified"].as_bool(), body["verdict"].as_str()), (Some(true), Some("unknown-issuer")));
    let (code, out) = run_check(&[bad.to_str().unwrap(), "--json", "--offline"], None);
    assert_eq!(code, 1);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["verified"], false);

    // Offline, a status list is "not checked", never passed.
    let with = issue(&with_status(credential(&did, "S"), "https://status.example/1", 1), &k, &did);
    let (code, out) = run_check(&["-", "--offline", "--json"], Some(&with.to_string()));
    assert_eq!(code, 0, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["verdict"], "status-unknown");

    assert_eq!(run_check(&[junk.to_str().unwrap()], None).0, 2);
    assert_eq!(run_check(&[dir.path().join("missing.json").to_str().unwrap()], None).0, 2);
    assert_eq!(run_check(&[good, "--trust", dir.path().join("none.toml").to_str().unwrap()], None).0, 2);
    assert_eq!(run_check(&["--no-such-flag"], None).0, 2);
}

fn form_post(v: &Verifier, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    v.post("/verify", "application/x-www-form-urlencoded", &body)
}

#[test]
fn the_page_shows_the_verdict_and_escapes_credential_text() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(8);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did)]);
    let (status, page) = v.get("/verify");
    assert_eq!(status, 200);
    assert!(page.contains(r#"<label for="credential">"#) && page.contains(r#"<html lang="en">"#));

    let vc = issue(&credential(&did, "Olena <script>alert(1)</script>"), &k, &did);
    let (status, page) = form_post(&v, &[("credential", &vc.to_string()), ("lang", "en")]);
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-verdict="valid""#) && page.contains("Valid"), "{page}");
    assert!(page.contains("Olena &lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>"));
    assert!(page.contains("Test Academy"));
    assert!(page.contains("Digital skills for small businesses"));

    let (k2, stranger) = key(10);
    let mut doc = credential(&stranger, "B");
    doc["issuer"] = json!({"id": stranger.did(), "name": "Totally Real University"});
    let (_, page) = form_post(&v, &[("credential", &issue(&doc, &k2, &stranger).to_string())]);
    assert!(page.contains(r#"data-verdict="unknown-issuer""#), "{page}");
    assert!(page.contains("not on the trust list") && page.contains(stranger.did()), "{page}");

    let (status, page) = form_post(&v, &[("credential", &tampered(&vc).to_string())]);
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-verdict="not-genuine""#) && page.contains("Not genuine"), "{page}");
    assert!(!page.contains("Mallory"), "the content of a forged certificate is not shown");

    let (_, page) = form_post(&v, &[("credential", &vc.to_string()), ("lang", "uk")]);
    assert!(page.contains(r#"<html lang="uk">"#) && page.contains("Дійсний"), "{page}");
    let r = ureq::get(&format!("{}/verify", v.base)).set("Accept-Language", "uk-UA,uk;q=0.9").call();
    assert!(read(r).1.contains("Перевірка мікрокваліфікації"));

    // An uploaded file (multipart).
    let boundary = "XyZbOuNdArY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"lang\"\r\n\r\nen\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.json\"\r\nContent-Type: application/json\r\n\r\n{vc}\r\n--{boundary}--\r\n"
    );
    let (status, page) = v.post("/verify", &format!("multipart/form-data; boundary={boundary}"), &body);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-verdict="valid""#), "{page}");

    let (status, _) = form_post(&v, &[("credential", "  ")]);
    assert_eq!(status, 400);
}

#[test]
fn conformance_mode_accepts_unsigned_presentations_and_example_contexts() {
    let v = Verifier::start(&["--conformance"]);
    let (k, did) = key(9);
    let mut doc = credential(&did, "A");
    doc["@context"] =
        json!(["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]);
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        did.verification_method_id(),
        ProofPurpose::AssertionMethod,
    );
    options.created = Some("2026-01-15T09:00:00Z".into());
    let vc = data_integrity::add_proof(&doc, &options, &k, ContextPolicy::CONFORMANCE).unwrap();
    let (status, body) =
        v.post_json("/credentials/verify", &json!({"verifiableCredential": vc, "options": {}}));
    assert_eq!(status, 200, "{body:#}");
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [vc]
    });
    let (status, body) = v.post_json(
        "/presentations/verify",
        &json!({"verifiablePresentation": vp, "options": {"challenge": "c", "domain": "d"}}),
    );
    assert_eq!(status, 200, "{body:#}");
    // The default (strict) policy refuses the example context.
    let strict = Verifier::start(&[]);
    let (status, _) = strict
        .post_json("/credentials/verify", &json!({"verifiableCredential": vp["verifiableCredential"][0]}));
    assert_eq!(status, 400);
}
