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

/// A tiny HTTP (or HTTPS) server of fixed JSON documents.
struct Files {
    base: String,
    docs: Docs,
}

type Docs = Arc<Mutex<HashMap<String, String>>>;

impl Files {
    fn start() -> Files {
        Self::serve(None)
    }

    /// Serves over TLS with `tls`; `base` is still `http://127.0.0.1:PORT` (the caller
    /// names the host it reaches it by).
    fn start_tls(tls: Arc<rustls::ServerConfig>) -> Files {
        Self::serve(Some(tls))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Files {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let docs: Docs = Arc::default();
        let served = docs.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = served.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    None => answer(stream, &served),
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                        answer(rustls::StreamOwned::new(connection, stream), &served);
                    }
                });
            }
        });
        Files { base, docs }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn put(&self, path: &str, doc: &Value) -> String {
        self.docs.lock().unwrap().insert(path.to_owned(), doc.to_string());
        format!("{}{path}", self.base)
    }
}

/// Reads a request's head from `stream` (at most 16 KiB) and returns its path.
fn request_path(stream: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head);
    Some(head.split(' ').nth(1).unwrap_or("/").to_owned())
}

/// Answers one request on `stream` from `docs` (a path under `/500` answers 500).
fn answer(mut stream: impl Read + Write, docs: &Docs) {
    let Some(path) = request_path(&mut stream) else { return };
    let doc = docs.lock().unwrap().get(&path).cloned();
    let (status, body) = match doc {
        Some(d) => ("200 OK", d),
        None if path.starts_with("/500") => ("500 Internal Server Error", "{}".to_owned()),
        None => ("404 Not Found", "{}".to_owned()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
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
        "credentialSubject": {"id": "urn:example:learner", "name": learner}
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
    // Which JSON-LD processor canonicalized it (issue 10): the fast path, for our credentials.
    assert_eq!(body["results"]["path"], "fast", "{body:#}");

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
    let (code, out) = run_check(&["-", "--offline", "--json", "--trust", &trust], Some(&with.to_string()));
    assert_eq!(code, 0, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["verdict"], "status-unknown");
    // An issuer nobody vouches for is the headline, before an unknown status.
    let (code, out) = run_check(&["-", "--offline", "--json"], Some(&with.to_string()));
    assert_eq!(code, 0, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["verdict"], "unknown-issuer");

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

/// A multipart body of one file field and `lang`.
fn multipart(field: &str, file: &[u8], lang: &str) -> (String, Vec<u8>) {
    let boundary = "QrBoUnDaRy";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"lang\"\r\n\r\n{lang}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn the_page_reads_photos_of_qr_codes_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(12);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did)]);
    let post = |field: &str, file: &[u8], lang: &str| {
        let (content_type, body) = multipart(field, file, lang);
        read(ureq::post(&format!("{}/verify", v.base)).set("Content-Type", &content_type).send_bytes(&body))
    };
    let png = |text: &str| {
        let image = qrcode::QrCode::new(text.as_bytes()).unwrap().render::<image::Luma<u8>>().build();
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let (status, page) = v.get("/verify");
    assert_eq!(status, 200);
    assert!(page.contains(r#"<input type="file" id="qr" name="qr" accept="image/*""#), "{page}");
    assert!(page.contains(r#"<script src="/verify/scan.js?v="#) && !page.contains("<script>"), "{page}");

    // The credential itself in the code.
    let vc = issue(&credential(&did, "Olena Kovalenko"), &k, &did);
    let (status, page) = post("qr", &png(&vc.to_string()), "en");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"data-verdict="valid""#) && page.contains("Olena Kovalenko"), "{page}");
    // A link in the code goes through the fetch policy, like ?credential=.
    let (status, page) = post("qr", &png("http://127.0.0.1:9/credentials/1"), "en");
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("could not be checked"), "{page}");

    // Errors are told on the form, in the page's language.
    let (status, page) = post("qr", &png("just some text"), "uk");
    assert_eq!(status, 422);
    assert!(page.contains(r#"role="alert""#) && page.contains("не містить ні посилання"), "{page}");
    let (status, page) = post("qr", b"", "en");
    assert_eq!(status, 400);
    assert!(page.contains("Choose a photo or screenshot of the QR code first"), "{page}");
    let (status, page) = post("qr", b"%PDF-1.7 not an image", "en");
    assert_eq!(status, 400);
    assert!(page.contains("not a PNG or JPEG image"), "{page}");
    let (status, page) = post("qr", &vec![0x89; 4 * 1024 * 1024 + 128 * 1024], "en");
    assert_eq!(status, 413);
    assert!(page.contains("The file is too large"), "{page}");
}

/// The employer's page in a real headless Chromium (Debian's `chromium` and
/// `chromium-driver`, installed by scripts/install-chromium.sh), driven through
/// chromedriver's W3C WebDriver HTTP API: paste, photo upload of a QR code (with
/// JavaScript off), the camera scanner (with a fake camera), English and Ukrainian.
/// Without Chromium the tests print a notice and pass, unless `BEM_REQUIRE_BROWSER=1`
/// (scripts/test sets it), which makes a missing browser a failure.
/// The attack corpus over HTTP (`verifier/tests/verifier/attacks.rs`, `docs/security.md`).
#[path = "verifier/attacks.rs"]
mod attacks;
/// Bounded work per request and slow clients (issue 17), over HTTP.
#[path = "verifier/hostile_clients.rs"]
mod hostile_clients;

/// Issue 17, the verifier's judgement (`verifier/tests/verifier/judgement.rs`, `docs/security.md`).
#[path = "verifier/judgement.rs"]
mod judgement;

mod browser {
    use super::*;
    use std::time::{Duration, Instant};

    const CHROMIUM: &str = "/usr/bin/chromium";
    const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
    /// The W3C WebDriver key of an element reference.
    const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
    const WAIT: Duration = Duration::from_secs(20);

    /// Whether the browser is there; if not, fails under `BEM_REQUIRE_BROWSER=1`, else
    /// says why the test does nothing.
    fn available(test: &str) -> bool {
        if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
            return true;
        }
        assert!(
            std::env::var("BEM_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "{CHROMIUM} or {CHROMEDRIVER} is missing and BEM_REQUIRE_BROWSER=1: run scripts/install-chromium.sh"
        );
        eprintln!(
            "NOTICE: {test} did not run: {CHROMIUM} or {CHROMEDRIVER} is missing. \
             Run scripts/install-chromium.sh (BEM_REQUIRE_BROWSER=1 turns this into a failure)."
        );
        false
    }

    /// A chromedriver with one Chromium session; both end on drop.
    struct Browser {
        driver: Child,
        url: String,
        session: String,
        agent: ureq::Agent,
        _profile: tempfile::TempDir,
    }

    impl Browser {
        /// Headless Chromium with a fresh profile, plus `args` and Chromium `prefs`.
        fn start(args: &[&str], prefs: Value) -> Browser {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let driver = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
            let mut browser = Browser {
                driver,
                url: format!("http://127.0.0.1:{port}"),
                session: String::new(),
                agent,
                _profile: tempfile::tempdir().unwrap(),
            };
            let start = Instant::now();
            while !browser
                .agent
                .get(&format!("{}/status", browser.url))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|s| s["value"]["ready"] == true)
            {
                assert!(start.elapsed() < WAIT, "chromedriver did not start on port {port}");
                std::thread::sleep(Duration::from_millis(50));
            }
            let mut all_args: Vec<String> = [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=800,1000",
            ]
            .iter()
            .chain(args)
            .map(|a| (*a).to_owned())
            .collect();
            all_args.push(format!("--user-data-dir={}", browser._profile.path().display()));
            let capabilities = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": all_args, "prefs": prefs}
            }}});
            let answer = match browser.agent.post(&format!("{}/session", browser.url)).send_json(capabilities)
            {
                Ok(r) => r.into_json::<Value>().unwrap(),
                Err(ureq::Error::Status(code, r)) => {
                    panic!("no session ({code}): {}", r.into_string().unwrap())
                }
                Err(e) => panic!("no session: {e}"),
            };
            browser.session = answer["value"]["sessionId"].as_str().unwrap().to_owned();
            browser
        }

        /// One WebDriver command of the session; its `value`.
        fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
            let url = format!("{}/session/{}{path}", self.url, self.session);
            let request = self.agent.request(method, &url);
            let answer = match body {
                Some(body) => request.send_json(body),
                None => request.call(),
            };
            match answer {
                Ok(r) => r.into_json::<Value>().unwrap()["value"].take(),
                Err(ureq::Error::Status(code, r)) => {
                    panic!("WebDriver {method} {path}: {code} {}", r.into_string().unwrap())
                }
                Err(e) => panic!("WebDriver {method} {path}: {e}"),
            }
        }

        fn open(&self, url: &str) {
            self.call("POST", "/url", Some(json!({"url": url})));
        }

        fn elements(&self, css: &str) -> Vec<String> {
            let found = self.call("POST", "/elements", Some(json!({"using": "css selector", "value": css})));
            found
                .as_array()
                .unwrap_or_else(|| panic!("{found}"))
                .iter()
                .map(|e| e[ELEMENT].as_str().unwrap_or_else(|| panic!("{e}")).to_owned())
                .collect()
        }

        /// The first element matching `css`, waiting for it to appear.
        fn find(&self, css: &str) -> String {
            let start = Instant::now();
            loop {
                if let Some(e) = self.elements(css).into_iter().next() {
                    return e;
                }
                assert!(start.elapsed() < WAIT, "no {css} on {}:\n{}", self.location(), self.body_text());
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        fn text(&self, element: &str) -> String {
            self.call("GET", &format!("/element/{element}/text"), None).as_str().unwrap().to_owned()
        }

        fn attribute(&self, element: &str, name: &str) -> Option<String> {
            self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
                .as_str()
                .map(str::to_owned)
        }

        fn displayed(&self, element: &str) -> bool {
            self.call("GET", &format!("/element/{element}/displayed"), None) == true
        }

        fn send_keys(&self, element: &str, text: &str) {
            self.call("POST", &format!("/element/{element}/value"), Some(json!({"text": text})));
        }

        fn click(&self, element: &str) {
            self.call("POST", &format!("/element/{element}/click"), Some(json!({})));
        }

        fn script(&self, script: &str) -> Value {
            self.call("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
        }

        fn location(&self) -> String {
            self.call("GET", "/url", None).as_str().unwrap_or_default().to_owned()
        }

        fn body_text(&self) -> String {
            match self.elements("body").first() {
                Some(body) => self.text(body),
                None => String::new(),
            }
        }

        /// Waits until `condition` holds (a script returning true).
        fn wait_until(&self, condition: &str) {
            let start = Instant::now();
            while self.script(condition) != true {
                assert!(start.elapsed() < WAIT, "never true: {condition}\n{}", self.body_text());
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        /// Waits for a result page; returns its verdict slug, headline and whole text.
        fn verdict(&self) -> (String, String, String) {
            let section = self.find("[data-verdict]");
            let slug = self.attribute(&section, "data-verdict").unwrap();
            let headline = self.text(&self.find("#verdict"));
            (slug, headline, self.body_text())
        }

        /// Loads the form in `lang`, pastes `credential` by typing it, and submits.
        fn paste(&self, base: &str, lang: &str, credential: &Value) -> (String, String, String) {
            self.open(&format!("{base}/verify?lang={lang}"));
            let field = self.find("textarea#credential");
            self.send_keys(&field, &credential.to_string());
            self.click(&self.find("#form-paste button[type=submit]"));
            self.verdict()
        }

        /// Chooses `file` in the QR code photo input and submits its form.
        fn upload_qr(&self, base: &str, lang: &str, file: &Path) {
            self.open(&format!("{base}/verify?lang={lang}"));
            let input = self.find("input#qr[type=file]");
            self.send_keys(&input, file.to_str().unwrap());
            self.click(&self.find("#form-qr button[type=submit]"));
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            if !self.session.is_empty() {
                let _ = self.agent.delete(&format!("{}/session/{}", self.url, self.session)).call();
            }
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
    }

    /// The QR code of `text`, as the issuer draws it (EC level M, at least 320 pixels).
    fn qr(text: &str) -> image::GrayImage {
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .unwrap()
            .render::<image::Luma<u8>>()
            .min_dimensions(320, 320)
            .build()
    }

    fn save_png(image: &image::GrayImage, path: &Path) {
        image.save_with_format(path, image::ImageFormat::Png).unwrap();
    }

    /// A trusted issuer, a status list revoking index 7, and a verifier allowed to fetch
    /// from the local file server.
    struct Setup {
        _dir: tempfile::TempDir,
        files: Files,
        verifier: Verifier,
        valid: Value,
        revoked: Value,
    }

    fn setup(seed: u8) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::start();
        let (k, did) = key(seed);
        let list = format!("{}/status/1", files.base);
        files.put("/status/1", &status_list(&did, &k, &list, &[7]));
        let allowed = format!("{}/", files.base);
        let verifier =
            Verifier::start(&["--trust", &trust_file(dir.path(), &did), "--fetch-allow", &allowed]);
        let valid = issue(&with_status(credential(&did, "Olena Kovalenko"), &list, 3), &k, &did);
        let revoked = issue(&with_status(credential(&did, "Petro Melnyk"), &list, 7), &k, &did);
        Setup { _dir: dir, files, verifier, valid, revoked }
    }

    #[test]
    fn the_page_shows_valid_revoked_and_tampered_certificates_in_chromium() {
        if !available("the_page_shows_valid_revoked_and_tampered_certificates_in_chromium") {
            return;
        }
        let s = setup(20);
        let base = &s.verifier.base;
        let b = Browser::start(&[], json!({}));

        let (slug, headline, page) = b.paste(base, "en", &s.valid);
        assert_eq!(slug, "valid", "{page}");
        assert!(headline.contains("Valid"), "{headline}");
        for shown in
            ["Olena Kovalenko", "Digital skills for small businesses", "Test Academy", "What was checked"]
        {
            assert!(page.contains(shown), "{shown} not in:\n{page}");
        }
        assert!(page.contains("Signature: passed") && page.contains("Revocation status: passed"), "{page}");

        let (slug, headline, page) = b.paste(base, "en", &s.revoked);
        assert_eq!(slug, "revoked", "{page}");
        assert!(headline.contains("Revoked"), "{headline}");
        assert!(page.contains("Revocation status: failed"), "{page}");

        let (slug, headline, page) = b.paste(base, "en", &tampered(&s.valid));
        assert_eq!(slug, "not-genuine", "{page}");
        assert!(headline.contains("Not genuine"), "{headline}");
        assert!(
            !page.contains("Mallory") && !page.contains("Olena"),
            "a forged certificate's text is shown:\n{page}"
        );

        // Every control has a label; the language is chosen by the page's own links.
        b.open(&format!("{base}/verify"));
        let unlabelled = b.script(
            "return [...document.querySelectorAll('input:not([type=hidden]), textarea, select')]\
             .filter(e => e.labels.length === 0).map(e => e.id);",
        );
        assert_eq!(unlabelled, json!([]));
        b.click(&b.find("a[hreflang=uk]"));
        b.wait_until("return document.documentElement.lang === 'uk';");
        assert!(b.body_text().contains("Перевірка мікрокваліфікації"));

        let (slug, headline, page) = b.paste(base, "uk", &s.valid);
        assert_eq!(slug, "valid");
        assert!(headline.contains("Дійсний"), "{headline}");
        assert!(page.contains("Слухач") && page.contains("Olena Kovalenko"), "{page}");
        let (_, headline, _) = b.paste(base, "uk", &s.revoked);
        assert!(headline.contains("Відкликаний"), "{headline}");
        let (_, headline, _) = b.paste(base, "uk", &tampered(&s.valid));
        assert!(headline.contains("Не справжній"), "{headline}");
    }

    #[test]
    fn a_photo_of_the_qr_code_is_read_without_javascript() {
        if !available("a_photo_of_the_qr_code_is_read_without_javascript") {
            return;
        }
        let s = setup(21);
        let base = &s.verifier.base;
        let dir = tempfile::tempdir().unwrap();
        // JavaScript off for pages: everything but the camera must still work.
        let b = Browser::start(&[], json!({"profile.managed_default_content_settings.javascript": 2}));

        // A QR code holding the certificate's link, as the issuer prints it.
        let link = s.files.put("/credentials/valid", &s.valid);
        let photo = dir.path().join("link.png");
        save_png(&qr(&link), &photo);
        b.upload_qr(base, "en", &photo);
        let (slug, headline, page) = b.verdict();
        assert_eq!(slug, "valid", "{page}");
        assert!(headline.contains("Valid") && page.contains("Olena Kovalenko"), "{page}");

        // One holding the revoked certificate itself (JSON), read in Ukrainian.
        let photo = dir.path().join("json.png");
        save_png(&qr(&s.revoked.to_string()), &photo);
        b.upload_qr(base, "uk", &photo);
        let (slug, headline, _) = b.verdict();
        assert_eq!(slug, "revoked");
        assert!(headline.contains("Відкликаний"), "{headline}");

        // No QR code, or not an image at all: a clear message on the form, in its language.
        let blank = dir.path().join("blank.png");
        save_png(&image::GrayImage::from_pixel(300, 200, image::Luma([255])), &blank);
        b.upload_qr(base, "en", &blank);
        let alert = b.text(&b.find("[role=alert]"));
        assert!(alert.contains("No QR code was found"), "{alert}");
        assert!(!b.elements("textarea#credential").is_empty(), "the form is shown again");
        assert!(!b.displayed(&b.find("#scan")), "no camera button without JavaScript");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not an image").unwrap();
        b.upload_qr(base, "uk", &text);
        let alert = b.text(&b.find("[role=alert]"));
        assert!(alert.contains("не є зображенням PNG або JPEG"), "{alert}");
    }

    /// Writes what Chromium's fake camera plays (`--use-file-for-fake-video-capture`): a
    /// Y4M video of 640×480 frames (grey only) showing `picture` in the middle, on white.
    fn y4m(picture: &image::GrayImage, path: &Path) {
        let (width, height) = (640, 480);
        let mut frame = image::GrayImage::from_pixel(width, height, image::Luma([255]));
        let x = i64::from(width.saturating_sub(picture.width()) / 2);
        let y = i64::from(height.saturating_sub(picture.height()) / 2);
        image::imageops::overlay(&mut frame, picture, x, y);
        let mut video = format!("YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
        for _ in 0..2 {
            video.extend(b"FRAME\n");
            video.extend(frame.as_raw());
            video.extend(vec![128u8; usize::try_from(width * height / 2).unwrap()]);
            // U and V
        }
        std::fs::write(path, video).unwrap();
    }

    const FAKE_CAMERA: [&str; 2] = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"];
    /// True once scan.js has run and shown the camera button.
    const SCANNER_READY: &str = "return !document.getElementById('scan').hidden;";

    #[test]
    fn the_camera_scanner_reads_a_qr_code_and_stops_on_cancel() {
        if !available("the_camera_scanner_reads_a_qr_code_and_stops_on_cancel") {
            return;
        }
        let s = setup(22);
        let base = &s.verifier.base;
        let (status, script) = s.verifier.get("/verify/scan.js");
        assert_eq!(
            status, 200,
            "GET /verify/scan.js: {script}\nserver.rs must route page::scanner::script and page::scanner::decode"
        );
        let dir = tempfile::tempdir().unwrap();
        let link = s.files.put("/credentials/valid", &s.valid);
        let video = dir.path().join("camera.y4m");
        y4m(&qr(&link), &video);
        let capture = format!("--use-file-for-fake-video-capture={}", video.display());
        let b = Browser::start(&[FAKE_CAMERA[0], FAKE_CAMERA[1], &capture], json!({}));
        // The browser's own BarcodeDetector (absent on Linux anyway) is taken away, so
        // that the frames go to the verifier's reader, POST /verify/qr.
        b.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": "delete window.BarcodeDetector;"}})),
        );
        b.open(&format!("{base}/verify?lang=uk"));
        b.wait_until(SCANNER_READY);
        let start = b.find("#scan-start");
        assert!(b.displayed(&start));
        assert_eq!(b.text(&start), "Сканувати QR-код камерою");
        // From the keyboard: Enter on the focused button.
        b.script("document.getElementById('scan-start').focus(); return true;");
        b.send_keys(&start, "\u{E007}");
        let (slug, headline, page) = b.verdict();
        assert_eq!(slug, "valid", "{page}");
        assert!(headline.contains("Дійсний") && page.contains("Olena Kovalenko"), "{page}");
        assert!(b.location().contains("lang=uk"), "{}", b.location());
        let (_, metrics) = s.verifier.get("/metrics");
        assert!(metrics.contains(r#"route="/verify/qr",status="200""#), "{metrics}");
        drop(b);

        // Cancel: a camera that shows no QR code; Stop (or Escape) turns it off.
        let b = Browser::start(&FAKE_CAMERA, json!({}));
        b.open(&format!("{base}/verify"));
        b.wait_until(SCANNER_READY);
        b.click(&b.find("#scan-start"));
        b.wait_until(
            "const v = document.getElementById('scan-video'); window.seen = v.srcObject; \
             return v.srcObject !== null && v.readyState >= 2 \
             && document.getElementById('scan-status').textContent.includes('Point the camera');",
        );
        assert!(b.displayed(&b.find("#scan-video")));
        b.click(&b.find("#scan-stop"));
        let stopped = "const v = document.getElementById('scan-video'); \
             return [v.srcObject === null, window.seen.getTracks().every(t => t.readyState === 'ended'), \
             document.getElementById('scan-view').hidden, document.activeElement.id, \
             document.getElementById('scan-status').textContent];";
        assert_eq!(b.script(stopped), json!([true, true, true, "scan-start", "Camera stopped."]));
        b.click(&b.find("#scan-start"));
        b.wait_until(
            "const v = document.getElementById('scan-video'); window.seen = v.srcObject; \
             return v.srcObject !== null;",
        );
        b.send_keys(&b.find("#scan-stop"), "\u{E00C}"); // Escape
        assert_eq!(b.script(stopped), json!([true, true, true, "scan-start", "Camera stopped."]));
        assert!(b.location().ends_with("/verify"), "no result page: {}", b.location());
    }
    /// A phone's camera opens `/verify#BEM2:…` (the compact QR form's link): the page's
    /// script submits the fragment, the result shows, and the fragment leaves the address.
    #[test]
    fn the_page_verifies_a_compact_certificate_from_the_link_fragment() {
        if !available("the_page_verifies_a_compact_certificate_from_the_link_fragment") {
            return;
        }
        let vectors = super::compact_vectors();
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("trust.toml");
        let issuer = vectors["issuer"].as_str().unwrap();
        std::fs::write(&trust, format!("[[issuer]]\nid = \"{issuer}\"\nname = \"Test Academy\"\n")).unwrap();
        let v = Verifier::start(&["--trust", trust.to_str().unwrap()]);
        let fragment = vectors["link"].as_str().unwrap().split_once('#').unwrap().1.to_owned();
        let b = Browser::start(&[], json!({}));
        b.open(&format!("{}/verify#{fragment}", v.base));
        b.wait_until("return document.querySelector('[data-verdict]') !== null");
        let (slug, _, page) = b.verdict();
        assert_eq!(slug, "status-unknown", "{page}");
        assert!(page.contains("Cloud fundamentals for SMEs") && page.contains("Test Academy"), "{page}");
        assert!(!b.location().contains('#'), "{}", b.location());
    }
}

mod tls {
    //! `serve` with TLS: the real binary with a certificate made here, reached by clients
    //! that trust exactly that certificate.
    use super::*;
    use std::net::{SocketAddr, TcpStream};
    use std::path::PathBuf;
    use std::process::Output;
    use std::time::{Duration, Instant};

    /// A self-signed certificate for `names`, as `<stem>.crt` and `<stem>.key` in `dir`.
    fn certificate(dir: &Path, stem: &str, names: &[&str]) -> (PathBuf, PathBuf, ureq::Agent) {
        let made =
            rcgen::generate_simple_self_signed(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let (cert, key) = (dir.join(format!("{stem}.crt")), dir.join(format!("{stem}.key")));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
        // Key files are refused unless only their owner can read them; the certificate
        // file too, as some tests give it as the key.
        for file in [&cert, &key] {
            let owner_only = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
            std::fs::set_permissions(file, owner_only).unwrap();
        }
        // A client that trusts only this certificate.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(made.cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let agent =
            ureq::AgentBuilder::new().tls_config(Arc::new(config)).timeout(Duration::from_secs(60)).build();
        (cert, key, agent)
    }

    fn command(args: &[&str], env: &[(&str, &Path)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve").args(["--listen", "127.0.0.1:0"]).args(args);
        cmd.env_remove("BEM_FETCH_ALLOW").env_remove("BEM_TLS_CERT").env_remove("BEM_TLS_KEY");
        cmd.env("RUST_LOG", "warn");
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd
    }

    /// `bem-verifier serve` that must come up over https.
    fn start(args: &[&str], env: &[(&str, &Path)]) -> Verifier {
        let mut child = command(args, env).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("bem-verifier listening on ").unwrap_or_default().to_owned();
        let verifier = Verifier { child, base };
        assert!(verifier.base.starts_with("https://127.0.0.1:"), "{line}");
        verifier
    }

    /// `bem-verifier serve` that must fail to start (exit 2); its standard error.
    fn failed_start(args: &[&str], env: &[(&str, &Path)]) -> String {
        let mut child = command(args, env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve {args:?} did not stop: {:?}", child.wait_with_output().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out: Output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
        stderr
    }

    fn post_json(agent: &ureq::Agent, url: &str, body: &Value) -> (u16, Value) {
        let (status, text) =
            read(agent.post(url).set("Content-Type", "application/json").send_string(&body.to_string()));
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    }

    #[test]
    fn verifies_over_tls_refuses_plain_http_and_stops_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let (k, did) = key(41);
        let (cert, key, agent) = certificate(dir.path(), "server", &["localhost", "127.0.0.1"]);
        let trust = trust_file(dir.path(), &did);
        let mut v = start(
            &["--trust", &trust, "--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
            &[],
        );

        let (status, health) = read(agent.get(&format!("{}/healthz", v.base)).call());
        assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
        let vc = issue(&credential(&did, "Olena Kovalenko"), &k, &did);
        let (status, body) = post_json(
            &agent,
            &format!("{}/credentials/verify", v.base),
            &json!({"verifiableCredential": vc}),
        );
        assert_eq!(
            (status, &body["verified"], &body["verdict"]),
            (200, &json!(true), &json!("valid")),
            "{body:#}"
        );
        let (status, body) = post_json(
            &agent,
            &format!("{}/credentials/verify", v.base),
            &json!({"verifiableCredential": tampered(&vc)}),
        );
        assert_eq!((status, &body["verified"]), (400, &json!(false)), "{body:#}");
        let (status, page) = read(agent.get(&format!("{}/verify", v.base)).call());
        assert_eq!(status, 200);
        assert!(page.contains("<form"), "{page}");

        // A client that does not trust the certificate gets no answer; nor does plain HTTP.
        let untrusting = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        assert!(matches!(
            untrusting.get(&format!("{}/healthz", v.base)).call(),
            Err(ureq::Error::Transport(_))
        ));
        let addr: SocketAddr = v.base.trim_start_matches("https://").parse().unwrap();
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        assert!(
            !answer.starts_with(b"HTTP/"),
            "plain HTTP was answered: {}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(read(agent.get(&format!("{}/healthz", v.base)).call()).0, 200, "still serving");

        // SIGTERM stops it cleanly although the client keeps an idle connection open.
        assert!(Command::new("kill").args(["-TERM", &v.child.id().to_string()]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = v.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "no exit 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
    }

    #[test]
    fn tls_from_the_environment_and_bad_files_stop_the_start_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key, agent) = certificate(dir.path(), "a", &["localhost"]);
        let (_, other_key, _) = certificate(dir.path(), "b", &["localhost"]);
        let v = start(&[], &[("BEM_TLS_CERT", &cert), ("BEM_TLS_KEY", &key)]);
        let port = v.base.rsplit(':').next().unwrap();
        assert_eq!(read(agent.get(&format!("https://localhost:{port}/healthz")).call()).0, 200);
        drop(v);

        let path = |p: &Path| p.to_str().unwrap().to_owned();
        let e = failed_start(&["--tls-cert", &path(&cert), "--tls-key", &path(&other_key)], &[]);
        assert!(
            e.contains(&format!(
                "TLS key file {} does not match the certificate in {}",
                path(&other_key),
                path(&cert)
            )),
            "{e}"
        );
        let missing = dir.path().join("missing.crt");
        let e = failed_start(&[], &[("BEM_TLS_CERT", &missing), ("BEM_TLS_KEY", &key)]);
        assert!(e.contains(&format!("cannot read TLS certificate file {}", path(&missing))), "{e}");
        let e = failed_start(&["--tls-cert", &path(&cert), "--tls-key", &path(&cert)], &[]);
        assert!(e.contains(&format!("TLS key file {} holds no private key", path(&cert))), "{e}");
        let e = failed_start(&["--tls-key", &path(&key)], &[("BEM_TLS_CERT", &cert), ("BEM_TLS_KEY", &key)]);
        assert!(e.contains("--tls-cert and --tls-key must be given together"), "{e}");
        let e = failed_start(&[], &[("BEM_TLS_KEY", &key)]);
        assert!(e.contains("BEM_TLS_CERT and BEM_TLS_KEY must be given together"), "{e}");
    }
}

// EDC credentials sealed with JAdES: the seal, its certificate and chain to X.509 anchors.

fn sealed_sample(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elm").join(name)
}

/// A trust file naming the EDC samples' seal CA as an X.509 anchor, from a PEM file next
/// to it (the CA's certificate is in the samples' unprotected validation data, not x5c).
fn anchor_trust_file(dir: &Path) -> String {
    std::fs::create_dir_all(dir.join("anchors")).unwrap();
    std::fs::copy(sealed_sample("anf-eseal-ca.pem"), dir.join("anchors/anf.pem")).unwrap();
    let path = dir.join("anchor-trust.toml");
    std::fs::write(
        &path,
        "[[anchor]]\nname = \"ANF eSeal CA (test)\"\ncertificate_file = \"anchors/anf.pem\"\n",
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn sealed_edc_credentials_check_as_seal_valid_and_trusted_with_an_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let sample = sealed_sample("Sample-MC-Annex1-signed.jsonld");
    let sample = sample.to_str().unwrap();

    let (code, out) = run_check(&[sample, "--offline"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VERIFIED: Unknown issuer"), "{out}");
    assert!(out.contains("issuer: ORGANIZACION TEST (TEST SEAL)"), "{out}");
    assert!(out.contains("title: "), "the sealed credential's details are shown: {out}");
    assert!(out.contains("ok      seal"), "{out}");
    assert!(out.contains("warning chain") && out.contains("[UNTRUSTED_ISSUER]"), "{out}");
    assert!(out.contains("seal valid, issuer not trusted"), "{out}");
    assert!(out.contains("has expired since 2025-05-10"), "{out}");
    let (code, out) = run_check(&[sample, "--offline", "--json"], None);
    assert_eq!(code, 0, "{out}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["verdict"], "unknown-issuer");
    assert_eq!(body["trusted"], false);
    assert!(body["checks"].as_array().unwrap().contains(&json!("seal")));

    let trust = anchor_trust_file(dir.path());
    for name in ["Sample-MC-Annex1-signed.jsonld", "Sample-CertOfPart-signed.jsonld"] {
        let path = sealed_sample(name);
        let (code, out) = run_check(&[path.to_str().unwrap(), "--offline", "--trust", &trust], None);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with("VERIFIED: Valid"), "{name}: {out}");
        // Shown under the sealer (the seal certificate's subject); the anchor vouches for it.
        assert!(out.contains("issuer: ORGANIZACION TEST (TEST SEAL)"), "{out}");
        assert!(out.contains("chains to the trusted \"ANF eSeal CA (test)\""), "{out}");
        assert!(out.contains("ok      chain"), "{out}");
        assert!(out.contains("it was valid when sealed"), "{out}");
    }

    // One character of the sealed credential changed: the seal is broken.
    let doc: Value = serde_json::from_slice(&std::fs::read(sample).unwrap()).unwrap();
    let mut tampered = doc.clone();
    tampered["payload"] = doc["payload"].as_str().unwrap().replacen("1999-10-01", "1989-10-01", 1).into();
    assert_ne!(tampered, doc);
    let bad = dir.path().join("tampered.jsonld");
    std::fs::write(&bad, tampered.to_string()).unwrap();
    let (code, out) = run_check(&[bad.to_str().unwrap(), "--offline", "--trust", &trust], None);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("NOT VERIFIED: Not genuine"), "{out}");
    assert!(out.contains("seal broken"), "{out}");
    assert!(!out.contains("title: "), "nothing of a broken seal is shown: {out}");

    // An anchor whose certificate file is missing stops the check as unreadable input.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[[anchor]]\nname = \"X\"\ncertificate_file = \"anchors/gone.pem\"\n").unwrap();
    assert_eq!(run_check(&[sample, "--offline", "--trust", broken.to_str().unwrap()], None).0, 2);
}

#[test]
fn the_page_shows_a_sealed_credential_and_its_seal() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sealed_sample("Sample-CertOfPart-signed.jsonld")).unwrap();
    let payload: Value =
        serde_json::from_str(serde_json::from_str::<Value>(&text).unwrap()["payload"].as_str().unwrap())
            .unwrap();
    let view = bem_core::certificate::CertificateView::read(&payload, "en");
    let title = view.title.expect("the sample has a title");

    let v = Verifier::start(&[]);
    let (status, page) = form_post(&v, &[("credential", &text), ("lang", "en")]);
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-verdict="unknown-issuer""#), "{page}");
    assert!(page.contains(&title.replace('&', "&amp;").replace('\'', "&#39;")), "{title}: {page}");
    assert!(
        page.contains("ORGANIZACION TEST (TEST SEAL)") && page.contains("seal valid, issuer not trusted")
    );
    drop(v);

    let v = Verifier::start(&["--trust", &anchor_trust_file(dir.path())]);
    let (_, page) = form_post(&v, &[("credential", &text), ("lang", "en")]);
    assert!(page.contains(r#"data-verdict="valid""#), "{page}");
    assert!(page.contains("ANF eSeal CA (test)"), "{page}");
    assert!(page.contains("has expired since"), "{page}");
}

/// Issue 7 item 3: a did:web issuer's compact QR text verifies with no network at all
/// when its key is pinned in the trust file (`[[issuer.key]]`), and not without the pin.
#[test]
fn check_verifies_a_did_web_issuers_qr_text_offline_with_the_key_in_the_trust_file() {
    let vectors = compact_vectors();
    let (k, dk) = key(30);
    let did = "did:web:academy.example";
    let vm = format!("{did}#key-1");
    let mut credential = vectors["credential"].clone();
    credential["issuer"]["id"] = json!(did);
    let text = bem_core::compact::sign(&credential, &vm, &k).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write_trust = |name: &str, key_table: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("[[issuer]]\nid = \"{did}\"\nname = \"Academy\"\n{key_table}"))
            .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let public = dk.did().trim_start_matches("did:key:");
    let pinned = write_trust(
        "pinned.toml",
        &format!("[[issuer.key]]\nid = \"{vm}\"\npublic_key_multibase = \"{public}\"\n"),
    );
    let bare = write_trust("bare.toml", "");

    let (code, out) = run_check(&["--offline", "--trust", &pinned], Some(&text));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("issuer: Academy"), "{out}");
    assert!(out.contains("not checked (offline)"), "{out}");
    let (code, out) = run_check(&["--offline", "--trust", &bare], Some(&text));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("offline"), "{out}");
    // A pinned key of another issuer's id is a start-up error naming the problem.
    let wrong = write_trust(
        "wrong.toml",
        &format!(
            "[[issuer.key]]\nid = \"did:web:evil.example#key-1\"\npublic_key_multibase = \"{public}\"\n"
        ),
    );
    let out = Command::new(BIN).args(["check", "--offline", "--trust", &wrong, "-"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did:web:academy.example#<fragment>"), "{stderr}");
}

/// The published compact QR test vectors (`testdata/qr/compact-vectors.json`).
fn compact_vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/qr/compact-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The compact QR form (`BEM2:`, docs/qr-compact.md): `check` reads the text, a link
/// carrying it, and a photo of its QR code (rotated and blurred), with no network; bad
/// texts are clear errors.
#[test]
fn check_reads_the_compact_qr_form_offline() {
    let vectors = compact_vectors();
    let text = vectors["qrText"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust.toml");
    std::fs::write(
        &trust,
        format!("[[issuer]]\nid = \"{}\"\nname = \"Test Academy\"\n", vectors["issuer"].as_str().unwrap()),
    )
    .unwrap();
    let trust = trust.to_str().unwrap();
    let file = dir.path().join("qr.txt");
    std::fs::write(&file, format!("{text}\n")).unwrap();

    let (code, out) = run_check(&["--offline", "--trust", trust, file.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("issuer: Test Academy"), "{out}");
    assert!(out.contains("title: Cloud fundamentals for SMEs"), "{out}");
    assert!(out.contains("not checked (offline)"), "{out}");
    let (code, out) = run_check(&["--offline", "--trust", trust], Some(vectors["link"].as_str().unwrap()));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run_check(&["--offline", "--json", "--trust", trust], Some(text));
    assert_eq!(code, 0, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["verified"], true);

    for case in vectors["invalid"].as_array().unwrap() {
        let (code, out) = run_check(&["--offline", "--trust", trust], case["qrText"].as_str());
        if case["case"] == "wrong prefix" {
            // Neither a BEM2: text nor JSON: unreadable input.
            assert_eq!(code, 2, "{out}");
            continue;
        }
        assert_eq!(code, 1, "{case}: {out}");
        assert!(
            out.contains("NOT VERIFIED") && out.contains(case["error"].as_str().unwrap()),
            "{case}: {out}"
        );
    }

    // A photo: the code at EC level M, turned 7 degrees, blurred, on a grey background.
    let code_image = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .render::<image::Luma<u8>>()
        .min_dimensions(700, 700)
        .build();
    let (w, h) = code_image.dimensions();
    let side = w.max(h) + 200;
    let (sin, cos) = 7f64.to_radians().sin_cos();
    let c = f64::from(side) / 2.0;
    let photo = image::GrayImage::from_fn(side, side, |x, y| {
        let (dx, dy) = (f64::from(x) - c, f64::from(y) - c);
        let sx = cos * dx + sin * dy + f64::from(w) / 2.0;
        let sy = -sin * dx + cos * dy + f64::from(h) / 2.0;
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *code_image.get_pixel(sx as u32, sy as u32)
        } else {
            image::Luma([200])
        }
    });
    let photo = image::imageops::blur(&photo, 1.5);
    let png = dir.path().join("photo.png");
    photo.save_with_format(&png, image::ImageFormat::Png).unwrap();
    let (code, out) = run_check(&["--offline", "--trust", trust, "--image", png.to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("title: Cloud fundamentals for SMEs"), "{out}");

    // Not an image, and an image without a code: unreadable input (2).
    let (code, _) = run_check(&["--offline", "--image", file.to_str().unwrap()], None);
    assert_eq!(code, 2);
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(300, 300, image::Luma([255]))
        .save_with_format(&blank, image::ImageFormat::Png)
        .unwrap();
    let (code, _) = run_check(&["--offline", "--image", blank.to_str().unwrap()], None);
    assert_eq!(code, 2);
}

/// The page verifies a compact QR text (what its script submits from a `#BEM2:…`
/// fragment, a scan or a paste), bare or as a verifier link, and names a damaged one.
#[test]
fn the_page_verifies_the_compact_qr_form() {
    let vectors = compact_vectors();
    let dir = tempfile::tempdir().unwrap();
    let trust = dir.path().join("trust.toml");
    let issuer = vectors["issuer"].as_str().unwrap();
    std::fs::write(&trust, format!("[[issuer]]\nid = \"{issuer}\"\nname = \"Test Academy\"\n")).unwrap();
    let v = Verifier::start(&["--trust", trust.to_str().unwrap()]);
    for text in [vectors["qrText"].as_str().unwrap(), vectors["link"].as_str().unwrap()] {
        let (status, page) = form_post(&v, &[("credential", text)]);
        assert_eq!(status, 200, "{page}");
        // Signed and trusted; the status list (academy.example) is not reachable from here.
        assert!(page.contains(r#"data-verdict="status-unknown""#), "{page}");
        assert!(page.contains("Cloud fundamentals for SMEs") && page.contains("Olena Kovalenko"), "{page}");
    }
    let truncated = vectors["invalid"][0]["qrText"].as_str().unwrap();
    let (_, page) = form_post(&v, &[("credential", truncated)]);
    assert!(page.contains(r#"data-verdict="not-genuine""#) && page.contains("truncated"), "{page}");
    let (_, page) = v.get("/verify");
    assert!(page.contains("/verify/scan.js"), "the fragment reader is in the page's script");
}
