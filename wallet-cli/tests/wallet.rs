//! The `bem-wallet` binary end to end: each test runs the real binary against a fresh
//! temporary wallet home, with credentials signed in the test by `bem_core` (did:key
//! issuer), and checks exit codes, output and files. Offline throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::datetime::Timestamp;
use bem_core::did_key::DidKey;
use bem_core::resolver::Offline;
use bem_core::trust::TrustList;
use bem_core::verify::{verify_presentation, VerifyOptions};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `bem-wallet --home HOME ARGS`, with `stdin` (or none) and extra environment.
fn run_with(home: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bem-wallet"));
    cmd.arg("--home").arg(home).args(args);
    for var in ["BEM_WALLET_HOME", "BEM_WALLET_PASSPHRASE", "BEM_FETCH_ALLOW"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start bem-wallet");
    if let Some(bytes) = stdin {
        // The wallet may stop reading early (an oversized input): a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(bytes);
    }
    let output = child.wait_with_output().unwrap();
    let out = Out {
        code: output.status.code().expect("exited with a code, not a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked"), "panic: {}", out.stderr);
    out
}

fn run(home: &Path, args: &[&str]) -> Out {
    run_with(home, args, None, &[])
}

fn ok(home: &Path, args: &[&str]) -> Out {
    let out = run(home, args);
    assert_eq!(out.code, 0, "{args:?}\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
    out
}

/// A fresh, initialised wallet home.
fn wallet() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("wallet");
    ok(&home, &["init"]);
    (dir, home)
}

fn issuer() -> (SigningKey, DidKey) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let did = DidKey::from_public_key(&key.verifying_key());
    (key, did)
}

fn sign(doc: &Value) -> Value {
    let (key, did) = issuer();
    let mut options = ProofOptions::new(
        Cryptosuite::EddsaRdfc2022,
        did.verification_method_id(),
        ProofPurpose::AssertionMethod,
    );
    options.created = Some("2026-01-15T09:00:00Z".into());
    add_proof(doc, &options, &key, ContextPolicy::STRICT).unwrap()
}

/// A signed VC 2.0 certificate with this `id` and `name`.
fn certificate(id: &str, name: &str) -> Value {
    let (_, did) = issuer();
    sign(&json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential"],
        "name": name,
        "issuer": did.did(),
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"id": "urn:example:learner", "name": "Olena Kovalenko"}
    }))
}

/// EDC's own Annex I micro-credential sample, in the VC 1.1 envelope, signed by our issuer.
fn elm_certificate() -> Value {
    let (_, did) = issuer();
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/elm/Sample-MC-Annex1-unsigned.jsonld");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["@context"] = json!([
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
        "https://w3id.org/security/data-integrity/v2"
    ]);
    doc["issuer"]["id"] = did.did().into();
    doc["issuanceDate"] = "2026-01-15T09:00:00Z".into();
    sign(&doc)
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_creates_a_private_key_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("w");
    let out = ok(&home, &["--json", "init"]);
    let did = out.json()["did"].as_str().unwrap().to_owned();
    assert!(DidKey::parse(&did).is_ok(), "{did}");
    assert_eq!(mode(&home.join("key.json")), 0o600);
    assert_eq!(mode(&home), 0o700);
    let key: Value = serde_json::from_slice(&std::fs::read(home.join("key.json")).unwrap()).unwrap();
    assert_eq!(key["protection"], "none");

    let again = run(&home, &["init"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already holds a wallet"), "{}", again.stderr);
    let after: Value = serde_json::from_slice(&std::fs::read(home.join("key.json")).unwrap()).unwrap();
    assert_eq!(after, key, "the key must not change");

    let missing = run(&dir.path().join("nowhere"), &["list"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("bem-wallet init"), "{}", missing.stderr);
}

#[test]
fn imports_from_file_and_stdin_lists_shows_and_recognises_duplicates() {
    let (dir, home) = wallet();
    let first =
        certificate("urn:uuid:11111111-0000-4000-8000-000000000001", "Digital skills for small businesses");
    let file = write(dir.path(), "first.json", &first);
    let out = ok(&home, &["import", file.to_str().unwrap()]);
    assert!(out.stdout.contains("Stored as"), "{}", out.stdout);
    let second = elm_certificate();
    let out = run_with(&home, &["--json", "import", "-"], Some(&serde_json::to_vec(&second).unwrap()), &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let imported = out.json();
    assert_eq!(imported["stored"], true);
    // Offline, with an empty trust list: genuine, issuer unknown.
    assert_eq!(imported["verification"]["verdict"], "unknown-issuer");
    let elm_id = imported["id"].as_str().unwrap().to_owned();

    let dup = ok(&home, &["import", file.to_str().unwrap()]);
    assert!(dup.stdout.contains("Already in your wallet"), "{}", dup.stdout);
    let dup = run_with(&home, &["--json", "import", "-"], Some(&serde_json::to_vec(&second).unwrap()), &[]);
    assert_eq!(dup.json()["duplicate"], true);

    // Same id, different content: refused with what to do.
    let changed = certificate("urn:uuid:11111111-0000-4000-8000-000000000001", "Another title");
    let changed = write(dir.path(), "changed.json", &changed);
    let out = run(&home, &["import", changed.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("remove it first"), "{}", out.stderr);

    let list = ok(&home, &["list"]);
    assert!(list.stdout.contains("Digital skills for small businesses"), "{}", list.stdout);
    assert!(list.stdout.contains("unknown-issuer"), "{}", list.stdout);
    let items = ok(&home, &["list", "--json"]).json();
    assert_eq!(items.as_array().unwrap().len(), 2);

    let show = ok(&home, &["show", &elm_id]);
    for needle in [
        "Ana Andromeda",
        "Developing digital content",
        "EQF level",
        "Level 6",
        "60 hours",
        "ECTS",
        "Last verified",
    ] {
        assert!(show.stdout.contains(needle), "{needle} missing from\n{}", show.stdout);
    }
    let shown = ok(&home, &["show", &elm_id, "--json"]).json();
    assert_eq!(shown["certificate"]["learner"], "Ana Andromeda");
    assert_eq!(shown["credential"], second, "stored exactly as imported");
    let by_full_id = ok(&home, &["show", "urn:uuid:11111111-0000-4000-8000-000000000001"]);
    assert!(by_full_id.stdout.contains("Olena Kovalenko"), "{}", by_full_id.stdout);

    let verify = ok(&home, &["verify", &elm_id]);
    assert!(verify.stdout.contains("ok   proof"), "{}", verify.stdout);
}

#[test]
fn a_tampered_credential_is_refused_unless_forced() {
    let (dir, home) = wallet();
    let mut tampered = certificate("urn:uuid:22222222-0000-4000-8000-000000000002", "Welding basics");
    tampered["credentialSubject"]["name"] = "Someone Else".into();
    let file = write(dir.path(), "tampered.json", &tampered);
    let out = run(&home, &["import", file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Refused") && out.stderr.contains("FAIL"), "{}", out.stderr);
    assert_eq!(ok(&home, &["list", "--json"]).json(), json!([]));

    let forced = run(&home, &["import", "--force", file.to_str().unwrap()]);
    assert_eq!(forced.code, 1, "{}", forced.stderr);
    assert!(forced.stdout.contains("marked as failed"), "{}", forced.stdout);
    let items = ok(&home, &["list", "--json"]).json();
    assert_eq!(items[0]["status"], "not-genuine");
    assert_eq!(items[0]["forced"], true);
    let id = items[0]["id"].as_str().unwrap();
    assert!(ok(&home, &["list"]).stdout.contains("--force"));
    assert!(ok(&home, &["show", id]).stdout.starts_with("WARNING: this credential did NOT verify"));
    assert_eq!(run(&home, &["verify", id]).code, 1);

    let garbage = run_with(&home, &["import", "-"], Some(b"{\"a\":1,\"a\":2}"), &[]);
    assert_eq!(garbage.code, 2);
    assert!(garbage.stderr.contains("not a readable credential"), "{}", garbage.stderr);
    let missing = run(&home, &["import", dir.path().join("missing.json").to_str().unwrap()]);
    assert_eq!(missing.code, 2);
}

#[test]
fn ids_abbreviate_like_git() {
    // Two credential ids whose store hashes share their first four characters.
    let ids: Vec<String> = (0..5000).map(|i| format!("urn:uuid:33333333-0000-4000-8000-{i:012}")).collect();
    let mut seen = std::collections::HashMap::new();
    let (a, b) = ids
        .iter()
        .find_map(|id| {
            let prefix = hash(id)[..4].to_owned();
            seen.insert(prefix, id.clone()).map(|other| (other, id.clone()))
        })
        .expect("a 4-character collision among 5000 hashes");
    let (dir, home) = wallet();
    for (n, id) in [&a, &b].into_iter().enumerate() {
        let file = write(dir.path(), &format!("{n}.json"), &certificate(id, &format!("Course {n}")));
        ok(&home, &["import", file.to_str().unwrap()]);
    }
    let shared = &hash(&a)[..4];
    let ambiguous = run(&home, &["show", shared]);
    assert_eq!(ambiguous.code, 2);
    assert!(ambiguous.stderr.contains("ambiguous"), "{}", ambiguous.stderr);
    assert!(ambiguous.stderr.contains(&a) && ambiguous.stderr.contains(&b), "{}", ambiguous.stderr);
    let full_a = hash(&a);
    let long = ok(&home, &["show", &full_a[..8]]);
    assert!(long.stdout.contains("Course 0"), "{}", long.stdout);
    assert_eq!(ok(&home, &["show", &full_a[..12].to_uppercase()]).code, 0);
    assert_eq!(run(&home, &["show", "ab"]).code, 2);
    assert_eq!(run(&home, &["show", "ffff0000ffff"]).code, 2);
}

#[test]
fn presentations_verify_with_the_right_challenge_only() {
    let (dir, home) = wallet();
    let vc = certificate("urn:uuid:44444444-0000-4000-8000-000000000004", "Data literacy");
    let file = write(dir.path(), "vc.json", &vc);
    let id =
        ok(&home, &["--json", "import", file.to_str().unwrap()]).json()["id"].as_str().unwrap().to_owned();
    let elm = write(dir.path(), "elm.json", &elm_certificate());
    let elm_id =
        ok(&home, &["--json", "import", elm.to_str().unwrap()]).json()["id"].as_str().unwrap().to_owned();

    let vp_path = dir.path().join("vp.json");
    ok(
        &home,
        &[
            "present",
            &id,
            &elm_id,
            "--challenge",
            "c-123",
            "--domain",
            "jobs.example",
            "-o",
            vp_path.to_str().unwrap(),
        ],
    );
    let vp: Value = serde_json::from_slice(&std::fs::read(&vp_path).unwrap()).unwrap();
    assert_eq!(vp["@context"], json!(["https://www.w3.org/ns/credentials/v2"]));
    assert_eq!(vp["verifiableCredential"].as_array().unwrap().len(), 2);
    assert_eq!(vp["proof"]["proofPurpose"], "authentication");
    let key: Value = serde_json::from_slice(&std::fs::read(home.join("key.json")).unwrap()).unwrap();
    assert_eq!(vp["holder"], key["did"]);

    let trust = TrustList::default();
    let now = Timestamp::from_unix(
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
            .unwrap(),
    );
    let mut options = VerifyOptions::new(now, &trust, &Offline);
    options.challenge = Some("c-123");
    options.domain = Some("jobs.example");
    let report = verify_presentation(&vp, &options);
    assert!(report.verified(), "{:#?}", report.checks);
    options.challenge = Some("c-999");
    assert!(!verify_presentation(&vp, &options).verified());
    options.challenge = Some("c-123");
    options.domain = Some("elsewhere.example");
    assert!(!verify_presentation(&vp, &options).verified());

    // To standard output, with the JCS suite.
    let out = ok(&home, &["present", &id, "--challenge", "c-7", "--cryptosuite", "eddsa-jcs-2022"]);
    let vp: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(vp["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let mut options = VerifyOptions::new(now, &trust, &Offline);
    options.challenge = Some("c-7");
    assert!(verify_presentation(&vp, &options).verified());

    // A verifier's challenge is base64url and may begin with `-`: it is the option's
    // value, not another option.
    let out = ok(&home, &["present", &id, "--challenge", "-50QgedRdymb7wR10YlHBw", "--domain", "-x.example"]);
    let vp: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(vp["proof"]["challenge"], "-50QgedRdymb7wR10YlHBw");
    assert_eq!(vp["proof"]["domain"], "-x.example");

    let missing_challenge = run(&home, &["present", &id]);
    assert_eq!(missing_challenge.code, 2);
    assert!(missing_challenge.stderr.contains("--challenge"), "{}", missing_challenge.stderr);
}

#[test]
fn qr_codes_need_a_link_and_write_png() {
    let (dir, home) = wallet();
    let linked = certificate("https://academy.example/credentials/4f2a9c", "Cyber hygiene");
    let file = write(dir.path(), "linked.json", &linked);
    let id =
        ok(&home, &["--json", "import", file.to_str().unwrap()]).json()["id"].as_str().unwrap().to_owned();
    let png = dir.path().join("qr.png");
    ok(&home, &["qr", &id, "--png", png.to_str().unwrap()]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let terminal = ok(&home, &["qr", &id]);
    assert!(terminal.stdout.contains('▀') || terminal.stdout.contains('▄') || terminal.stdout.contains('█'));
    assert!(terminal.stdout.contains("https://academy.example/credentials/4f2a9c"));

    // An issuer's award response gives the link.
    let award = json!({
        "verifiableCredential": certificate("urn:uuid:55555555-0000-4000-8000-000000000005", "Award"),
        "links": {"credential": "http://127.0.0.1:8080/credentials/tok", "verify": "x", "qr": "y"}
    });
    let out = run_with(&home, &["--json", "import", "-"], Some(&serde_json::to_vec(&award).unwrap()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let award_id = out.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ok(&home, &["--json", "qr", &award_id]).json()["link"],
        "http://127.0.0.1:8080/credentials/tok"
    );

    let plain = write(
        dir.path(),
        "plain.json",
        &certificate("urn:uuid:66666666-0000-4000-8000-000000000006", "No link"),
    );
    let plain_id =
        ok(&home, &["--json", "import", plain.to_str().unwrap()]).json()["id"].as_str().unwrap().to_owned();
    let refused = run(&home, &["qr", &plain_id]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("no web link"), "{}", refused.stderr);
}

#[test]
fn export_then_remove() {
    let (dir, home) = wallet();
    let vcs = [
        certificate("urn:uuid:77777777-0000-4000-8000-000000000007", "One"),
        certificate("urn:uuid:77777777-0000-4000-8000-000000000008", "Two"),
    ];
    for (n, vc) in vcs.iter().enumerate() {
        let file = write(dir.path(), &format!("{n}.json"), vc);
        ok(&home, &["import", file.to_str().unwrap()]);
    }
    let out_dir = dir.path().join("export");
    ok(&home, &["export", out_dir.to_str().unwrap()]);
    let mut exported: Vec<Value> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    exported.sort_by_key(|v| v["name"].as_str().unwrap().to_owned());
    assert_eq!(exported, vcs.to_vec());

    let id = hash("urn:uuid:77777777-0000-4000-8000-000000000007")[..8].to_owned();
    let removed = ok(&home, &["remove", &id]);
    assert!(removed.stdout.contains("Removed"), "{}", removed.stdout);
    assert_eq!(ok(&home, &["list", "--json"]).json().as_array().unwrap().len(), 1);
    assert_eq!(run(&home, &["show", &id]).code, 2);
}

#[test]
fn a_damaged_store_file_is_reported_not_a_panic() {
    let (dir, home) = wallet();
    for (n, id) in
        ["urn:uuid:88888888-0000-4000-8000-000000000001", "urn:uuid:88888888-0000-4000-8000-000000000002"]
            .iter()
            .enumerate()
    {
        let file = write(dir.path(), &format!("{n}.json"), &certificate(id, &format!("Kept {n}")));
        ok(&home, &["import", file.to_str().unwrap()]);
    }
    let damaged_hash = hash("urn:uuid:88888888-0000-4000-8000-000000000001");
    let record = home.join("credentials").join(format!("{damaged_hash}.json"));
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, &text[..text.len() / 2]).unwrap();
    // A leftover temporary file of an interrupted write is ignored.
    std::fs::write(home.join("credentials").join(".tmp-x.json-1"), "{").unwrap();

    let list = run(&home, &["list"]);
    assert_eq!(list.code, 2);
    assert!(list.stdout.contains("Kept 1"), "{}", list.stdout);
    assert!(list.stderr.contains("damaged") && list.stderr.contains(&damaged_hash), "{}", list.stderr);
    let show = run(&home, &["show", &damaged_hash[..8]]);
    assert_eq!(show.code, 2);
    assert!(show.stderr.contains(&format!("bem-wallet remove {}", &damaged_hash[..8])), "{}", show.stderr);
    // The advice works.
    ok(&home, &["remove", &damaged_hash[..8]]);
    assert_eq!(ok(&home, &["list", "--json"]).json().as_array().unwrap().len(), 1);

    std::fs::write(home.join("key.json"), "not json").unwrap();
    let present = run(
        &home,
        &["present", &hash("urn:uuid:88888888-0000-4000-8000-000000000002")[..8], "--challenge", "c"],
    );
    assert_eq!(present.code, 2);
    assert!(present.stderr.contains("key file") && present.stderr.contains("damaged"), "{}", present.stderr);
}

/// Issue 17: another local user who can write to the wallet's directories plants symbolic
/// links under the temporary names the wallet used to write through (`.tmp-NAME-PID`, for
/// the next few hundred process ids): the wallet must not follow them, so the file they
/// point at stays as it was and the record is a regular file. A key file that group or
/// others can read is refused when it is read, with the fix in the message.
#[test]
fn planted_temp_links_are_not_followed_and_a_readable_key_is_refused() {
    let (dir, home) = wallet();
    let id = "urn:uuid:77777777-0000-4000-8000-000000000001";
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "the victim's file\n").unwrap();
    let credentials = home.join("credentials");
    let name = format!("{}.json", hash(id));
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1);
    for pid in last..last + 400 {
        std::os::unix::fs::symlink(&victim, credentials.join(format!(".tmp-{name}-{pid}"))).unwrap();
    }
    let file = write(dir.path(), "c.json", &certificate(id, "Linked"));
    ok(&home, &["import", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the victim's file\n");
    let record = credentials.join(&name);
    assert!(
        std::fs::symlink_metadata(&record).unwrap().file_type().is_file(),
        "the record is a regular file"
    );
    assert_eq!(mode(&record), 0o600);
    assert!(ok(&home, &["show", &hash(id)[..8]]).stdout.contains("Linked"));

    // A key file that others can read is refused, and left as it is.
    let key = home.join("key.json");
    let before = std::fs::read(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let present = run(&home, &["present", &hash(id)[..8], "--challenge", "c"]);
    assert_eq!(present.code, 2, "{}", present.stderr);
    assert!(
        present.stderr.contains("mode 0644") && present.stderr.contains("chmod 600"),
        "{}",
        present.stderr
    );
    assert!(present.stdout.is_empty(), "nothing was signed: {}", present.stdout);
    assert_eq!(std::fs::read(&key).unwrap(), before);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&home, &["present", &hash(id)[..8], "--challenge", "c"]);
}

#[test]
fn a_passphrase_protects_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("w");
    let pass = [("BEM_WALLET_PASSPHRASE", "correct horse battery staple")];
    let out = run_with(&home, &["--json", "init"], None, &pass);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["protected"], true);
    let key_text = std::fs::read_to_string(home.join("key.json")).unwrap();
    let key: Value = serde_json::from_str(&key_text).unwrap();
    assert_eq!(key["protection"], "argon2id-xchacha20poly1305");
    assert!(key.get("secretKeyMultibase").is_none());
    assert!(!key_text.contains("z3u2"), "no Multikey secret in the clear");
    assert_eq!(mode(&home.join("key.json")), 0o600);

    let file = write(
        dir.path(),
        "vc.json",
        &certificate("urn:uuid:99999999-0000-4000-8000-000000000009", "Secured"),
    );
    ok(&home, &["import", file.to_str().unwrap()]);
    let id = &hash("urn:uuid:99999999-0000-4000-8000-000000000009")[..8];

    let out = run_with(&home, &["present", id, "--challenge", "c-1"], None, &pass);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let vp: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(vp["holder"], key["did"]);

    let wrong =
        run_with(&home, &["present", id, "--challenge", "c-1"], None, &[("BEM_WALLET_PASSPHRASE", "wrong")]);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("wrong passphrase"), "{}", wrong.stderr);
    let none = run(&home, &["present", id, "--challenge", "c-1"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("BEM_WALLET_PASSPHRASE"), "{}", none.stderr);
    assert!(none.stdout.is_empty());

    let insist = run(&dir.path().join("other"), &["init", "--passphrase"]);
    assert_eq!(insist.code, 2);
    assert!(insist.stderr.contains("BEM_WALLET_PASSPHRASE"), "{}", insist.stderr);
}

#[test]
fn hostile_text_is_escaped_on_the_terminal_ac30() {
    let (dir, home) = wallet();
    let hostile = certificate(
        "urn:uuid:aaaaaaaa-0000-4000-8000-00000000000a",
        "Real title\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp.exe",
    );
    let file = write(dir.path(), "hostile.json", &hostile);
    let imported = ok(&home, &["import", file.to_str().unwrap()]);
    let id = &hash("urn:uuid:aaaaaaaa-0000-4000-8000-00000000000a")[..8];
    for out in [imported, ok(&home, &["list"]), ok(&home, &["show", id])] {
        assert!(
            !out.stdout.contains('\u{1b}')
                && !out.stdout.contains('\u{7}')
                && !out.stdout.contains('\u{202e}')
        );
        assert!(out.stdout.contains("Real title\\u{1b}[2J"), "{}", out.stdout);
    }
}

#[test]
fn trust_list_decides_trusted_issuers() {
    let (dir, home) = wallet();
    let (_, did) = issuer();
    std::fs::write(
        home.join("trust.toml"),
        format!("[[issuer]]\nid = \"{}\"\nname = \"Test Academy\"\n", did.did()),
    )
    .unwrap();
    let file = write(
        dir.path(),
        "vc.json",
        &certificate("urn:uuid:bbbbbbbb-0000-4000-8000-00000000000b", "Trusted"),
    );
    let out = ok(&home, &["--json", "import", file.to_str().unwrap()]);
    assert_eq!(out.json()["verification"]["verdict"], "valid");

    let bad_trust = write(dir.path(), "bad.toml", &json!("x"));
    let out = run(
        &home,
        &["--trust", bad_trust.to_str().unwrap(), "verify", "urn:uuid:bbbbbbbb-0000-4000-8000-00000000000b"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("[[issuer]]"), "{}", out.stderr);
}

#[test]
fn help_teaches_and_completions_generate() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("w");
    let top = ok(&home, &["--help"]);
    assert!(top.stdout.contains("bem-wallet init") && top.stdout.contains("Exit codes"), "{}", top.stdout);
    for command in
        ["init", "import", "list", "show", "verify", "present", "qr", "remove", "export", "completions"]
    {
        let help = ok(&home, &[command, "--help"]);
        assert!(help.stdout.contains("Examples:\n  bem-wallet"), "{command}: {}", help.stdout);
    }
    for shell in ["bash", "zsh", "fish"] {
        assert!(ok(&home, &["completions", shell]).stdout.contains("bem-wallet"));
    }
    let usage = run(&home, &["frobnicate"]);
    assert_eq!(usage.code, 2);
    let (_other, other_home) = wallet();
    let url = run(&other_home, &["import", "https://academy.example/credentials/1"]);
    assert_eq!(url.code, 2);
    assert!(url.stderr.contains("bem-wallet import -"), "{}", url.stderr);
}

/// A real `bem-issuer serve` on a free loopback port, stopped on drop.
struct Issuer {
    child: std::process::Child,
    base: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Issuer {
    /// Starts the workspace's `bem-issuer` when it was built next to this binary.
    fn start() -> Option<Issuer> {
        use std::io::BufRead;
        let binary = Path::new(env!("CARGO_BIN_EXE_bem-wallet")).with_file_name("bem-issuer");
        if !binary.exists() {
            eprintln!("NOTE: {} not built; the test against a real issuer did not run", binary.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("bem-issuer: listening on ").map(str::to_owned))
            .expect("the issuer says where it listens");
        std::thread::spawn(move || for _ in lines {});
        let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap().trim().to_owned();
        Some(Issuer { child, base, token, _dir: dir })
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        ureq::post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.token))
            .send_json(body.clone())
            .unwrap()
            .into_json()
            .unwrap()
    }
}

#[test]
fn against_a_real_issuer_import_by_link_then_revocation_shows() {
    let Some(issuer) = Issuer::start() else { return };
    let award = issuer.post(
        "/micro-credentials/ua-cyber-hygiene-ngos/certificates",
        &json!({"name": "Ana Beridze", "grade": "Pass"}),
    );
    let link = award["links"]["credential"].as_str().unwrap().to_owned();
    let credential_id = award["verifiableCredential"]["id"].as_str().unwrap().to_owned();
    let (_dir, home) = wallet();
    let allow = format!("{}/", issuer.base);

    // Not fetched unless the origin is allowed.
    let refused = run(&home, &["import", &link]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--fetch-allow"), "{}", refused.stderr);

    let out = run(&home, &["--json", "--fetch-allow", &allow, "import", &link]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let id = out.json()["id"].as_str().unwrap().to_owned();
    let checks = out.json()["verification"]["checks"].clone();
    assert!(
        checks.as_array().unwrap().iter().any(|c| c["name"] == "status" && c["status"] == "ok"),
        "{checks}"
    );
    let show = ok(&home, &["show", &id]);
    assert!(show.stdout.contains("Ana Beridze") && show.stdout.contains("Cyber hygiene"), "{}", show.stdout);
    assert_eq!(ok(&home, &["--json", "qr", &id]).json()["link"], link.as_str());

    // Without the origin allowed, the status list cannot be fetched: a failed status check
    // (never a pass), so the exit code is 1; the headline is the issuer nobody here
    // vouches for, which outranks an unknown status.
    let refused = run(&home, &["--json", "verify", &id]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert_eq!(refused.json()["verification"]["verdict"], "unknown-issuer");
    assert!(refused.stdout.contains("STATUS_RETRIEVAL_ERROR"), "{}", refused.stdout);

    issuer.post(
        "/credentials/status",
        &json!({"credentialId": credential_id, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}),
    );
    let revoked = run_with(&home, &["--json", "verify", &id], None, &[("BEM_FETCH_ALLOW", allow.as_str())]);
    assert_eq!(revoked.code, 1, "{}", revoked.stderr);
    assert_eq!(revoked.json()["verification"]["verdict"], "revoked");
    assert!(ok(&home, &["list"]).stdout.contains("revoked"));
}

#[test]
fn sealed_edc_credentials_import_trusted_through_an_x509_anchor() {
    let (dir, home) = wallet();
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/elm");
    let mc = samples.join("Sample-MC-Annex1-signed.jsonld");
    // No anchor: the seal is valid, the issuer unknown; stored.
    let out = ok(&home, &["--json", "import", mc.to_str().unwrap()]);
    let imported = out.json();
    assert_eq!(imported["stored"], true);
    assert_eq!(imported["verification"]["verdict"], "unknown-issuer");
    let checks = imported["verification"]["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["name"] == "seal" && c["status"] == "ok"), "{checks:?}");

    // The seal's CA as an anchor, from a certificate file next to the trust list.
    std::fs::create_dir(dir.path().join("anchors")).unwrap();
    std::fs::copy(samples.join("anf-eseal-ca.pem"), dir.path().join("anchors/anf.pem")).unwrap();
    let trust = dir.path().join("trust.toml");
    std::fs::write(&trust, "[[anchor]]\nname = \"ANF eSeal CA\"\ncertificate_file = \"anchors/anf.pem\"\n")
        .unwrap();
    let trust = trust.to_str().unwrap();
    let part = samples.join("Sample-CertOfPart-signed.jsonld");
    let out = ok(&home, &["--json", "--trust", trust, "import", part.to_str().unwrap()]);
    assert_eq!(out.json()["verification"]["verdict"], "valid", "{}", out.stdout);
    let id = out.json()["id"].as_str().unwrap().to_owned();
    let out = ok(&home, &["--trust", trust, "verify", &id]);
    assert!(out.stdout.contains("seal") && out.stdout.contains("chain"), "{}", out.stdout);

    // A changed sealed credential is refused.
    let doc: Value = serde_json::from_slice(&std::fs::read(&mc).unwrap()).unwrap();
    let mut tampered = doc.clone();
    tampered["payload"] = doc["payload"].as_str().unwrap().replacen("Ana", "Ann", 1).into();
    let file = write(dir.path(), "tampered.jsonld", &tampered);
    let out = run(&home, &["--trust", trust, "import", file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("Refused") && out.stderr.contains("seal broken"), "{}", out.stderr);

    // An anchor file that is not there: an error naming it.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[[anchor]]\nname = \"X\"\ncertificate_file = \"anchors/gone.pem\"\n").unwrap();
    let out = run(&home, &["--trust", broken.to_str().unwrap(), "verify", &id]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("anchors/gone.pem"), "{}", out.stderr);
}

/// A certificate's compact QR text (`BEM2:`, testdata/qr/) is imported from the command
/// line, standard input or a verifier link, verified with no network, and re-verified;
/// a damaged text is refused with the reason.
#[test]
fn imports_the_compact_qr_text_offline() {
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/qr/compact-vectors.json"))
            .unwrap(),
    )
    .unwrap();
    let text = vectors["qrText"].as_str().unwrap();
    let (_dir, home) = wallet();
    // Online, the status list cannot be fetched here (academy.example): not stored. The
    // issuer, on no trust list here, is the headline.
    let online = run(&home, &["--json", "import", text]);
    assert_eq!(online.code, 1, "{}", online.stdout);
    assert_eq!(online.json()["verification"]["verdict"], "unknown-issuer");
    assert!(online.stdout.contains("STATUS_RETRIEVAL_ERROR"), "{}", online.stdout);
    let out = ok(&home, &["--offline", "--json", "import", text]);
    assert_eq!(out.json()["stored"], true, "{}", out.stdout);
    assert!(out.stdout.contains("not checked (offline)"), "{}", out.stdout);
    let items = ok(&home, &["list", "--json"]).json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    let id = items[0]["id"].as_str().unwrap();
    assert_eq!(run(&home, &["--offline", "verify", id]).code, 0);
    // Shown from its signed payload, like any certificate.
    let show = ok(&home, &["--offline", "show", id]);
    for needle in [
        "Cloud fundamentals for SMEs",
        "Olena Kovalenko",
        "Level 5",
        "50 hours",
        vectors["credential"]["id"].as_str().unwrap(),
    ] {
        assert!(show.stdout.contains(needle), "{needle} missing from\n{}", show.stdout);
    }
    assert!(!show.stdout.contains("data:application/vc+jwt"), "{}", show.stdout);
    assert!(ok(&home, &["list"]).stdout.contains("Cloud fundamentals"));
    let dup =
        run_with(&home, &["--offline", "--json", "import", "-"], Some(format!("{text}\n").as_bytes()), &[]);
    assert_eq!(dup.code, 0, "{}", dup.stderr);
    assert_eq!(dup.json()["duplicate"], true, "{}", dup.stdout);
    let dup = ok(&home, &["--offline", "--json", "import", vectors["link"].as_str().unwrap()]);
    assert_eq!(dup.json()["duplicate"], true, "{}", dup.stdout);

    for case in vectors["invalid"].as_array().unwrap() {
        if case["case"] == "wrong prefix" {
            continue; // not recognised as a QR text: read as a file name
        }
        let out = run(&home, &["import", case["qrText"].as_str().unwrap()]);
        assert_eq!(out.code, 2, "{case}: {}", out.stderr);
        assert!(out.stderr.contains(case["error"].as_str().unwrap()), "{case}: {}", out.stderr);
    }
}

/// AC-05 and hostile files at the wallet's door: oversized (file and standard input), deep,
/// duplicate keys, bad UTF-8, binary, empty, a directory, a missing file, thousands of
/// proofs. Each is refused with a message naming the problem, quickly, without a panic,
/// and the wallet holds exactly what it held before (`--force` keeps only a credential
/// that parses, marked as failed, so it is tried on the unreadable ones).
#[test]
fn hostile_files_are_refused_with_a_message_and_change_nothing_ac05() {
    let (dir, home) = wallet();
    let good = certificate("urn:uuid:bbbbbbbb-0000-4000-8000-00000000000b", "Kept safe");
    ok(&home, &["import", write(dir.path(), "good.json", &good).to_str().unwrap()]);
    let before = ok(&home, &["list", "--json"]).json();

    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let mut big = b"{\"padding\":\"".to_vec();
    big.resize(3 * 1024 * 1024, b'a');
    big.extend_from_slice(b"\"}");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut many_proofs = good.clone();
    let proof = many_proofs["proof"].clone();
    many_proofs["proof"] = Value::Array(vec![proof; 5_000]);
    let cases: Vec<(&str, String, &str)> = vec![
        ("oversized", file("big.json", &big), "larger than"),
        ("deep", file("deep.json", deep.as_bytes()), "deep"),
        ("duplicate keys", file("dup.json", br#"{"id":"urn:a","id":"urn:b"}"#), "duplicate"),
        ("bad UTF-8", file("utf8.json", b"{\"name\":\"\xff\xfe\"}"), "UTF-8"),
        ("binary", file("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), ""),
        ("empty", file("empty.json", b""), ""),
        ("directory", dir.path().to_str().unwrap().to_owned(), ""),
        ("missing", dir.path().join("nothing.json").to_str().unwrap().to_owned(), "nothing.json"),
        ("5,000 proofs", file("proofs.json", &serde_json::to_vec(&many_proofs).unwrap()), "proofs"),
    ];
    for (case, path, says) in &cases {
        let mut tries = vec![vec!["import", path.as_str()]];
        if *case != "5,000 proofs" {
            tries.push(vec!["import", "--force", path.as_str()]);
        }
        for args in tries {
            let started = std::time::Instant::now();
            let out = run(&home, &args);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{case}: {:?}",
                started.elapsed()
            );
            assert_ne!(out.code, 0, "{case} {args:?}: {}{}", out.stdout, out.stderr);
            let message = format!("{}{}", out.stdout, out.stderr);
            assert!(message.contains(says), "{case}: {says:?} not in {message}");
            assert!(!out.stderr.trim().is_empty() || !out.stdout.trim().is_empty(), "{case}: no message");
            println!("{case} {args:?}: exit {}: {}", out.code, message.trim());
        }
    }
    // The same oversized bytes on standard input (the wallet stops reading at the limit).
    let out = run_with(&home, &["import", "-"], Some(&big), &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("larger than"), "{}", out.stderr);

    assert_eq!(ok(&home, &["list", "--json"]).json(), before, "the wallet changed");
    let show = ok(&home, &["show", &hash("urn:uuid:bbbbbbbb-0000-4000-8000-00000000000b")[..8]]);
    assert!(show.stdout.contains("Kept safe"), "{}", show.stdout);
}
