//! Issue 26, the issuer's input: what a careless provider or an attacker sends reaches
//! no certificate that our own readers refuse, no terminal as raw escapes, and no
//! certificate twice; all through the real binary over HTTP and its CLI.
use super::support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BULK: &str = "/micro-credentials/md-digital-tools-small-business/certificates/bulk";

fn count(s: &Server, table: &str) -> i64 {
    s.db().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

/// A GET with `accept`: status, `Content-Type` and `Vary`.
fn negotiated(s: &Server, path: &str, accept: &str) -> (u16, String, String) {
    let resp = match ureq::get(&s.url(path)).set("Accept", accept).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let vary = resp.all("Vary").join(",").to_ascii_lowercase();
    (resp.status(), resp.header("Content-Type").unwrap_or_default().to_owned(), vary)
}

/// The served JSON of a certificate link, read as every reader of ours reads it.
fn served_reads_strictly(s: &Server, link: &str) -> Value {
    let a = s.get(&link.replace(&s.base, ""), "application/json");
    assert_eq!(a.status, 200, "{}", a.text);
    let doc = bem_core::json::parse(&a.bytes, &bem_core::json::JsonLimits::default())
        .unwrap_or_else(|e| panic!("our own parser refuses the served JSON: {}", e.message));
    assert!(a.bytes.len() <= bem_core::json::MAX_CREDENTIAL_BYTES);
    assert!(verify(s, &doc).verified());
    doc
}

#[test]
fn learner_text_has_one_rule_on_every_path_and_what_is_issued_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let bad = [
        ("Ann\u{FFFE}a", "U+FFFE"),
        ("\u{FDD0}Bob", "U+FDD0"),
        ("Ann\u{202E}anoJ", "U+202E"),
        ("Eve\u{2066}x", "U+2066"),
        ("\u{200B}\u{2060}", "U+200B"),
        ("\u{3164}", "U+3164"),
        ("Zed\u{200B}", "U+200B"),
    ];
    // Bulk: every bad name is a failed row naming its character; the good ones issue.
    let mut csv = String::from("name,identifier\n");
    for (i, (name, _)) in bad.iter().enumerate() {
        csv.push_str(&format!("{name},bad-{i}\n"));
    }
    csv.push_str("Олена Ковальчук,good-1\nمی\u{200C}خواهم,good-2\n");
    let a = s.post_raw(BULK, "text/csv", csv.as_bytes());
    assert_eq!(a.status, 200, "{}", a.text);
    let body = a.json();
    assert_eq!((body["issued"].as_u64(), body["failed"].as_u64()), (Some(2), Some(7)), "{body}");
    for (row, (_, code)) in body["results"].as_array().unwrap().iter().zip(bad) {
        assert_eq!(row["status"], "failed");
        assert!(row["problems"].to_string().contains(code), "{row}");
    }
    for row in body["results"].as_array().unwrap().iter().filter(|r| r["status"] == "issued") {
        served_reads_strictly(&s, row["links"]["credential"].as_str().unwrap());
    }
    // One award: the same rule.
    for (name, code) in bad {
        let path = "/micro-credentials/md-digital-tools-small-business/certificates";
        let problem = s.admin(path, &json!({"name": name})).problem(400);
        assert!(problem.to_string().contains(code), "{problem}");
    }
    // The VC API: the same rule over the credential's subject.
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner", "name": "Ann\u{202E}anoJ"},
    });
    let problem = s.admin("/credentials/issue", &json!({"credential": credential})).problem(400);
    assert!(problem.to_string().contains("U+202E"), "{problem}");
    assert_eq!(count(&s, "credentials"), 2);
}

#[test]
fn nothing_larger_than_verifiers_read_is_signed_and_status_indexes_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    // A credential the strict parser and the model accept, too large for any verifier.
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner", "name": "x".repeat(600 * 1024)},
    });
    let request = json!({"credential": credential, "options": {"credentialStatus": [
        {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]}});
    let problem = s.admin("/credentials/issue", &request).problem(422);
    assert_eq!(problem["code"], "RESOURCE_LIMIT_EXCEEDED", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains(&bem_core::json::MAX_CREDENTIAL_BYTES.to_string()));
    assert!(problem.to_string().len() < 2_000, "the answer does not echo the credential");
    assert_eq!((count(&s, "credentials"), count(&s, "status_entries")), (0, 0));
    // The index it had reserved is free again: the next credential is issued and verifies.
    let small = json!({"credential": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:learner"},
    }, "options": {"credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]}});
    let a = s.admin("/credentials/issue", &small);
    assert_eq!(a.status, 201, "{}", a.text);
    assert!(verify(&s, &a.json()["verifiableCredential"]).verified());
}

/// `n` distinct two-letter language codes.
fn languages(n: usize) -> Vec<String> {
    (b'a'..=b'z')
        .flat_map(|a| (b'a'..=b'z').map(move |b| format!("{}{}", a as char, b as char)))
        .take(n)
        .collect()
}

#[test]
fn definitions_are_bounded_at_entry() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let demo = s.get("/micro-credentials/md-digital-tools-small-business", "application/json").json();
    let put = |def: &Value| s.admin("/micro-credentials", def);
    let mut def = demo.clone();
    def["id"] = "bounded-test".into();
    assert_eq!(put(&def).status, 201);

    // A language map of 300 languages (the 1.1 MB definition of the report).
    let mut wide = def.clone();
    wide["title"] = languages(300).into_iter().map(|l| (l, Value::from("t".repeat(3000)))).collect();
    wide["title"]["en"] = "Title".into();
    let a = put(&wide);
    let problem = a.problem(422);
    assert!(problem.to_string().contains("bytes") || problem.to_string().contains("32"), "{problem}");
    assert!(a.bytes.len() < 20_000, "the answer quotes, not echoes: {} bytes", a.bytes.len());
    let mut wide = def.clone();
    wide["title"] = languages(40).into_iter().map(|l| (l, Value::from("t"))).collect();
    wide["title"]["en"] = "Title".into();
    let problem = put(&wide).problem(422);
    assert!(problem.to_string().contains("/title"), "{problem}");
    // Unbounded arrays are bounded now.
    for (field, item) in [
        ("targetGroups", json!({"en": "group"})),
        ("languages", Value::Null),
        ("targetGroupConcepts", Value::Null),
    ] {
        let mut long = def.clone();
        long[field] = match field {
            "languages" => languages(33).into_iter().map(Value::from).collect(),
            "targetGroupConcepts" => Value::Array(vec![def["targetGroupConcepts"][0].clone(); 21]),
            _ => Value::Array(vec![item; 21]),
        };
        let problem = put(&long).problem(422);
        assert!(problem.to_string().contains(field), "{field}: {problem}");
    }
    // Within every bound but too large as a whole: refused, naming the size.
    let mut large = def.clone();
    let outcome = |i: usize| {
        let title: serde_json::Map<String, Value> =
            languages(32).into_iter().map(|l| (l, Value::from(format!("{i} {}", "o".repeat(400))))).collect();
        json!({"title": title})
    };
    large["learningOutcomes"] = (0..30).map(outcome).collect();
    let problem = put(&large).problem(422);
    assert!(problem["detail"].as_str().unwrap().contains("bytes"), "{problem}");
    // A course address with user information (it names another host).
    let mut sneaky = def.clone();
    sneaky["courseUrl"] = "https://trusted.example@evil.example/course".into();
    let problem = put(&sneaky).problem(422);
    assert!(problem.to_string().contains("courseUrl"), "{problem}");
    // Nothing of it reached the catalogue.
    let stored = s.get("/micro-credentials/bounded-test", "application/json").json();
    assert_eq!(stored, def);
}

#[test]
fn bulk_time_is_linear_rows_are_capped_and_problems_quote_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    // 500,000 blank rows before one bad row: the line is right, and it is quick (the
    // quadratic count took minutes at this size).
    let mut csv = String::from("name,email\n");
    csv.push_str(&" ,\n".repeat(500_000));
    csv.push_str(&format!("Ana,{}\n", "x".repeat(1_000_000)));
    let started = Instant::now();
    let a = s.post_raw(BULK, "text/csv", csv.as_bytes());
    let took = started.elapsed();
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(took < Duration::from_secs(30), "{took:?}");
    let body = a.json();
    assert_eq!(body["results"][0]["line"], 500_002, "{}", a.text.chars().take(500).collect::<String>());
    // A 2.5 MB file answers in a few hundred bytes: problems quote a short prefix.
    assert!(a.bytes.len() < 2_000, "{} bytes", a.bytes.len());
    assert!(body["results"][0]["problems"].to_string().contains('…'), "{body}");
    let long_header = format!("name,{}\nAna,x\n", "\u{1b}".repeat(100_000));
    let a = s.post_raw(BULK, "text/csv", long_header.as_bytes());
    assert!(a.problem(400).to_string().len() < 2_000);
    assert!(!a.text.contains('\u{1b}'));

    // One row over the cap refuses the whole file before anything is signed.
    let mut csv = String::from("name\n");
    for i in 0..=10_000 {
        csv.push_str(&format!("L{i}\n"));
    }
    let problem = s.post_raw(BULK, "text/csv", csv.as_bytes()).problem(400);
    assert!(problem.to_string().contains("more than 10000"), "{problem}");
    assert_eq!(count(&s, "credentials"), 0);
}

/// Sends a bulk request on a raw connection and returns it unread.
fn send_bulk(s: &Server, key: &str, csv: &str) -> TcpStream {
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST {BULK} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\n\
         Idempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n",
        s.token,
        csv.len()
    );
    tcp.write_all(head.as_bytes()).unwrap();
    tcp.write_all(csv.as_bytes()).unwrap();
    tcp
}

fn jobs(s: &Server) -> Vec<Value> {
    let a = call(
        ureq::get(&s.url("/credentials/bulk")).set("Authorization", &format!("Bearer {}", s.token)),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.text);
    a.json()["jobs"].as_array().unwrap().clone()
}

fn job(s: &Server, id: &str) -> Value {
    let a = call(
        ureq::get(&s.url(&format!("/credentials/bulk/{id}")))
            .set("Authorization", &format!("Bearer {}", s.token)),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.text);
    a.json()
}

fn post_bulk(s: &Server, key: Option<&str>, csv: &str) -> Answer {
    let mut req = ureq::post(&s.url(BULK))
        .set("Content-Type", "text/csv")
        .set("Authorization", &format!("Bearer {}", s.token));
    if let Some(key) = key {
        req = req.set("Idempotency-Key", key);
    }
    call(req, Some(csv.as_bytes().to_vec()))
}

#[test]
fn a_client_that_leaves_mid_bulk_finds_its_results_and_repeats_issue_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    const ROWS: usize = 300;
    let csv: String = std::iter::once("name,identifier".to_owned())
        .chain((0..ROWS).map(|i| format!("Learner {i},L-{i}")))
        .collect::<Vec<_>>()
        .join("\n");
    // Send, wait until the job is under way, then drop the connection unanswered.
    let tcp = send_bulk(&s, "cohort-2026-spring", &csv);
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        if let Some(j) = jobs(&s).first() {
            break j["job"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "the job never appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    let was_running = job(&s, &id)["status"] == "running";
    drop(tcp);
    // The award goes on without its client; its results stay retrievable.
    let deadline = Instant::now() + Duration::from_secs(300);
    let finished = loop {
        let j = job(&s, &id);
        if j["status"] == "finished" {
            break j;
        }
        assert_eq!(j["status"], "running", "{j}");
        assert!(Instant::now() < deadline, "the job never finished");
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "the client left while the job was {}",
        if was_running { "running" } else { "already finished" }
    );
    assert_eq!(finished["issued"], ROWS, "{finished}");
    let results = finished["results"].as_array().unwrap();
    assert_eq!(results.len(), ROWS);
    let first = results[0]["links"]["credential"].as_str().unwrap();
    served_reads_strictly(&s, first);
    assert_eq!(count(&s, "credentials"), ROWS as i64);

    // The same key again: the first results, nothing issued.
    let again = post_bulk(&s, Some("cohort-2026-spring"), &csv);
    assert_eq!(again.status, 200, "{}", again.text);
    let again = again.json();
    assert_eq!(again["job"], id.as_str());
    assert_eq!(again["results"], finished["results"]);
    assert_eq!(count(&s, "credentials"), ROWS as i64);
    // The same file without a key: every learner identifier holds its certificate already.
    let repeat = post_bulk(&s, None, &csv);
    assert_eq!(repeat.status, 200, "{}", repeat.text);
    let repeat = repeat.json();
    assert_eq!((repeat["issued"].as_u64(), repeat["existing"].as_u64()), (Some(0), Some(ROWS as u64)));
    assert_eq!(repeat["results"][7]["links"], finished["results"][7]["links"]);
    assert_eq!(count(&s, "credentials"), ROWS as i64);
    // The key with another file is a conflict, and issues nothing.
    let problem = post_bulk(&s, Some("cohort-2026-spring"), "name\nSomeone else\n").problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("another request"), "{problem}");
    assert_eq!(count(&s, "credentials"), ROWS as i64);
    // Unknown job, bad key, no token.
    let a = call(
        ureq::get(&s.url("/credentials/bulk/nope")).set("Authorization", &format!("Bearer {}", s.token)),
        None,
    );
    a.problem(404);
    post_bulk(&s, Some("bad key with spaces"), "name\nX\n").problem(400);
    assert_eq!(s.get("/credentials/bulk", "application/json").problem(401)["code"], "UNAUTHORIZED");
    assert_eq!(count(&s, "credentials"), ROWS as i64);
}

#[test]
fn negotiated_pages_follow_q_values_and_vary_on_accept() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let awarded = s.award(MC, "Ana Beridze");
    let link = awarded["links"]["credential"].as_str().unwrap().replace(&s.base, "");
    for path in [link.as_str(), "/micro-credentials"] {
        for (accept, html) in [
            ("text/html", true),
            ("text/html;q=0, application/json", false),
            ("text/html;q=0", false),
            ("application/json;q=0.5, text/html;q=0.9", true),
            ("text/html;q=0.1, */*;q=0.5", false),
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true),
            ("text/*;q=0.9, application/json;q=0.2", true),
            ("", false),
        ] {
            let (status, content_type, vary) = negotiated(&s, path, accept);
            assert_eq!(status, 200);
            assert_eq!(content_type.starts_with("text/html"), html, "{path} {accept:?}: {content_type}");
            assert!(vary.contains("accept"), "{path} {accept:?}: Vary {vary:?}");
        }
    }
    let definition = format!("/micro-credentials/{MC}");
    for (accept, wanted) in [
        ("application/ld+json", "application/ld+json"),
        ("application/ld+json;q=0.5, application/json", "application/json"),
        ("application/json;q=0, application/ld+json;q=0.1", "application/ld+json"),
        ("*/*", "application/json"),
    ] {
        let (_, content_type, vary) = negotiated(&s, &definition, accept);
        assert!(content_type.starts_with(wanted), "{accept:?}: {content_type}");
        assert!(vary.contains("accept"), "{accept:?}");
    }
    // An error of a negotiated route varies too (a cache keys it the same way).
    let (status, _, vary) = negotiated(&s, "/credentials/00000000000000000000000000000000", "text/html");
    assert_eq!(status, 404);
    assert!(vary.contains("accept"), "{vary:?}");
}

#[test]
fn catalogue_import_prints_no_raw_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    let mut def = s.get(&format!("/micro-credentials/{MC}"), "application/json").json();
    drop(s);
    def["id"] = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{202E}".into();
    def["title"]["e\u{1b}[31mn"] = "red".into();
    let file = dir.path().join("catalogue.json");
    std::fs::write(&file, serde_json::to_string(&json!([def])).unwrap()).unwrap();
    let out = Command::new(BIN)
        .args(["catalogue", "import", "--data-dir"])
        .arg(dir.path())
        .arg(&file)
        .env_remove("BEM_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        !printed.contains('\u{1b}') && !printed.contains('\u{7}') && !printed.contains('\u{202E}'),
        "{printed:?}"
    );
    assert!(printed.contains("\\u{001B}") && printed.contains("\\u{202E}"), "{printed}");
    assert!(printed.contains("PROBLEM"), "{printed}");
}

/// `bem-issuer serve` that must stop at once with exit code 2; its standard error.
fn refused_start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    for name in [
        "BEM_TLS_CERT",
        "BEM_TLS_KEY",
        "BEM_CONFIG",
        "BEM_ISSUER_HOMEPAGE",
        "BEM_VERIFIER_URL",
        "BEM_PUBLIC_URL",
    ] {
        cmd.env_remove(name);
    }
    cmd.arg("serve").arg("--data-dir").arg(dir.join("data")).args(["--listen", "127.0.0.1:0"]).args(args);
    cmd.envs(env.iter().copied());
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve {args:?} {env:?} did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let mut stderr = String::new();
    out.stderr.as_slice().read_to_string(&mut stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
    assert!(!dir.join("data").exists(), "nothing is created before the settings are checked");
    stderr
}

#[test]
fn configured_urls_must_be_http_without_user_information() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, setting) in [
        ("BEM_ISSUER_HOMEPAGE", "javascript:alert(document.domain)", "issuer homepage"),
        ("BEM_ISSUER_HOMEPAGE", "https://trusted.example@evil.example/", "issuer homepage"),
        ("BEM_VERIFIER_URL", "javascript:alert(1)//", "verifier_url"),
        ("BEM_VERIFIER_URL", "data:text/html,<script>x</script>", "verifier_url"),
        ("BEM_PUBLIC_URL", "https://trusted.example@evil.example", "public URL"),
    ] {
        let e = refused_start(dir.path(), &[], &[(name, value)]);
        assert!(e.contains(setting), "{name}={value}: {e}");
    }
}

#[test]
fn a_tls_key_others_can_read_stops_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    for mode in [0o644, 0o640] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
        let e = refused_start(
            dir.path(),
            &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
            &[],
        );
        assert!(e.contains(&format!("has mode {mode:04o}")) && e.contains("chmod 600"), "{e}");
        assert!(e.contains(key.to_str().unwrap()), "{e}");
    }
}

/// `Prefer: respond-async`: the answer is 202 with the job's `Location` before the rows are
/// issued; the job resource fills as they are, and a repeat with the key issues nothing.
#[test]
fn a_bulk_job_can_be_answered_at_once_and_followed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path());
    const ROWS: usize = 200;
    let csv: String = std::iter::once("name,identifier".to_owned())
        .chain((0..ROWS).map(|i| format!("Learner {i},A-{i}")))
        .collect::<Vec<_>>()
        .join("\n");
    let req = ureq::post(&s.url(BULK))
        .set("Content-Type", "text/csv")
        .set("Authorization", &format!("Bearer {}", s.token))
        .set("Idempotency-Key", "cohort-async")
        .set("Prefer", "respond-async, wait=0");
    let a = call(req, Some(csv.as_bytes().to_vec()));
    assert_eq!(a.status, 202, "{}", a.text);
    let body = a.json();
    assert!(body["results"].as_array().unwrap().len() < ROWS, "answered before the rows were issued: {body}");
    let id = body["job"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(300);
    let finished = loop {
        let j = job(&s, &id);
        if j["status"] == "finished" {
            break j;
        }
        assert!(Instant::now() < deadline, "the job never finished: {j}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(finished["issued"], ROWS, "{finished}");
    assert_eq!(count(&s, "credentials"), ROWS as i64);
    let again = post_bulk(&s, Some("cohort-async"), &csv);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json()["job"], id.as_str());
    assert_eq!(count(&s, "credentials"), ROWS as i64);
}
