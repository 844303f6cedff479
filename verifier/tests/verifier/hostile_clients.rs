//! Issue 17, "the verifier: bounded work per request", at the attacker's level: the real
//! `bem-verifier serve`, raw sockets and a counting origin server. Fetch amplification
//! (status entries, fragments, distinct documents, one time budget, remembered
//! failures, unknown issuers), slow clients (head, body and idle limits, connection
//! caps, `/healthz` outside the queue), no I/O on the async workers, and work that stops
//! when the client goes away. A module of the one verifier test binary.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{credential, issue, key, status_list, trust_file, with_status, Verifier};

/// An origin that counts requests per path. `/slow/NAME` answers after `delay`; a path
/// without a document answers 500.
struct Origin {
    base: String,
    docs: Arc<Mutex<HashMap<String, String>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Origin {
    fn start(delay: Duration) -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let docs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (served, counted) = (docs.clone(), hits.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (served, counted) = (served.clone(), counted.clone());
                std::thread::spawn(move || answer(stream, &served, &counted, delay));
            }
        });
        Origin { base, docs, hits }
    }

    fn put(&self, path: &str, doc: &Value) -> String {
        self.docs.lock().unwrap().insert(path.to_owned(), doc.to_string());
        self.url(path)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }

    fn allowed(&self) -> String {
        format!("{}/", self.base)
    }
}

fn answer(
    mut stream: TcpStream,
    docs: &Mutex<HashMap<String, String>>,
    hits: &Mutex<HashMap<String, usize>>,
    delay: Duration,
) {
    let Some(path) = super::request_path(&mut stream) else { return };
    *hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
    if path.starts_with("/slow/") {
        std::thread::sleep(delay);
    }
    let doc = docs.lock().unwrap().get(&path).cloned();
    let (status, body) = match doc {
        Some(d) => ("200 OK", d),
        None => ("500 Internal Server Error", "{}".to_owned()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The texts of every problem in a verify answer.
fn details(body: &Value) -> String {
    body["problemDetails"]
        .as_array()
        .map(|p| p.iter().map(|d| d["detail"].to_string()).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

/// `entries` status entries, each `(url, index)`, all revocation.
fn with_entries(mut doc: Value, entries: &[(String, usize)]) -> Value {
    doc["credentialStatus"] = entries
        .iter()
        .map(|(url, index)| {
            json!({
                "id": format!("{url}#{index}"),
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": index.to_string(),
                "statusListCredential": url
            })
        })
        .collect();
    doc
}

fn verify(v: &Verifier, vc: &Value) -> (u16, Value) {
    v.post_json("/credentials/verify", &json!({"verifiableCredential": vc}))
}

#[test]
fn status_fetching_is_bounded_per_verification() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(Duration::from_secs(6));
    let (k, did) = key(40);
    let list = origin.url("/lists/1");
    origin.put("/lists/1", &status_list(&did, &k, &list, &[5]));
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did), "--fetch-allow", &origin.allowed()]);

    // 1,000 entries naming one list with different fragments: refused, nothing fetched.
    let many: Vec<(String, usize)> = (0..1000).map(|i| (list.clone(), i)).collect();
    let (status, body) = verify(&v, &issue(&with_entries(credential(&did, "A"), &many), &k, &did));
    assert_eq!(status, 400, "{body:#}");
    assert!(details(&body).contains("1000 status entries"), "{body:#}");
    assert_eq!(origin.total_hits(), 0);

    // Eight entries (the cap), one list, eight fragments: one fetch decides them all.
    let eight: Vec<(String, usize)> = (0..8).map(|i| (list.clone(), i)).collect();
    let (status, body) = verify(&v, &issue(&with_entries(credential(&did, "B"), &eight), &k, &did));
    assert_eq!((status, body["verdict"].as_str()), (400, Some("revoked")), "{body:#}");
    assert_eq!(origin.hits("/lists/1"), 1, "the fragment is not part of the document");

    // A list that fails is remembered: a second verification does not ask again.
    let broken = origin.url("/lists/broken");
    for learner in ["C", "D"] {
        let (status, body) =
            verify(&v, &issue(&with_status(credential(&did, learner), &broken, 1), &k, &did));
        assert_eq!(status, 400, "{body:#}");
        assert!(details(&body).contains("HTTP status 500"), "{body:#}");
    }
    assert_eq!(origin.hits("/lists/broken"), 1);

    // One time budget for all fetching: three lists that never answer in time cost the
    // budget once (two fetches at the fetcher's own limit), not three times over.
    let slow: Vec<(String, usize)> =
        ["a", "b", "c"].iter().map(|n| (origin.url(&format!("/slow/{n}")), 1)).collect();
    let (status, body) = verify(&v, &issue(&with_entries(credential(&did, "E"), &slow), &k, &did));
    assert_eq!(status, 400, "{body:#}");
    assert!(details(&body).contains("for fetching documents are spent"), "{body:#}");
    assert_eq!(origin.hits("/slow/c"), 0, "{body:#}");
    assert_eq!(origin.hits("/slow/a"), 1);
    // ... and a list that timed out on its own time is remembered too.
    let (status, body) = verify(&v, &issue(&with_entries(credential(&did, "F"), &slow[..1]), &k, &did));
    assert_eq!(status, 400, "{body:#}");
    assert!(details(&body).contains("timed out"), "{body:#}");
    assert_eq!(origin.hits("/slow/a"), 1);

    // An issuer nobody trusts: what it names is not fetched at all (AC-20).
    let (stranger_key, stranger) = key(41);
    let unknown = issue(
        &with_status(credential(&stranger, "G"), &origin.url("/lists/stranger"), 1),
        &stranger_key,
        &stranger,
    );
    let (status, body) = verify(&v, &unknown);
    assert_eq!((status, body["verdict"].as_str()), (200, Some("unknown-issuer")), "{body:#}");
    assert_eq!(origin.hits("/lists/stranger"), 0);
}

#[test]
fn distinct_documents_are_capped_per_presentation() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(Duration::ZERO);
    let (k, did) = key(42);
    let (hk, holder) = key(43);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did), "--fetch-allow", &origin.allowed()]);
    // Three credentials of eight lists each: 24 distinct lists, more than one
    // verification may fetch (16).
    let credentials: Vec<Value> = (0..3)
        .map(|c| {
            let entries: Vec<(String, usize)> = (0..8)
                .map(|i| {
                    let path = format!("/lists/{c}-{i}");
                    let url = origin.url(&path);
                    origin.put(&path, &status_list(&did, &k, &url, &[]));
                    (url, 1)
                })
                .collect();
            issue(&with_entries(credential(&did, &format!("L{c}")), &entries), &k, &did)
        })
        .collect();
    let vp = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did(),
        "verifiableCredential": credentials
    });
    let signed =
        super::sign(&vp, &hk, &holder, bem_core::data_integrity::ProofPurpose::Authentication, |o| {
            o.challenge = Some("c-17".into());
            o.domain = Some("employer.example".into());
        });
    let (status, body) = v.post_json(
        "/presentations/verify",
        &json!({"verifiablePresentation": signed, "options": {"challenge": "c-17", "domain": "employer.example"}}),
    );
    assert_eq!(status, 400, "{body:#}");
    assert!(details(&body).contains("16 distinct documents"), "{body:#}");
    assert_eq!(origin.total_hits(), 16);
}

/// A connection to `to` from the loopback address `from` (another client than the test's
/// own requests from 127.0.0.1, as far as the per-client cap is concerned).
fn connect_from(from: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((from, 0)).into())?;
    socket.connect_timeout(&to.into(), Duration::from_secs(5))?;
    Ok(socket.into())
}

fn addr(v: &Verifier) -> SocketAddr {
    v.base.trim_start_matches("http://").parse().unwrap()
}

/// Whether the server closed `stream` (read gives 0 or an error) within `wait`; what it
/// sent first, if anything.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> (bool, String) {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return (false, String::from_utf8_lossy(&got).into_owned())
            }
            Err(_) => return (true, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

fn healthz_ms(v: &Verifier) -> (u16, u128) {
    let start = Instant::now();
    let (status, _) = v.get("/healthz");
    (status, start.elapsed().as_millis())
}

#[test]
fn slow_clients_cannot_hold_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let (k, did) = key(44);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did)]);
    let to = addr(&v);
    let good = issue(&credential(&did, "Olena"), &k, &did);

    // 600 connections from one client, each one byte into a 100,000-byte body: it gets
    // 128 places, the rest are closed at once; nobody else is turned away meanwhile.
    let head = b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
    let mut slow: Vec<TcpStream> = Vec::new();
    for _ in 0..600 {
        if let Ok(mut s) = connect_from([127, 0, 0, 2], to) {
            let _ = s.write_all(head);
            slow.push(s);
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut held = Vec::new();
    for mut s in slow {
        if !closed_within(&mut s, Duration::from_millis(20)).0 {
            held.push(s);
        }
    }
    assert_eq!(held.len(), 128, "connections of one client held open");

    // A half-sent head and an idle keep-alive connection are closed after 10 s; a body
    // that does not arrive within 30 s gets 408.
    let mut half = TcpStream::connect(to).unwrap();
    half.write_all(b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut idle = TcpStream::connect(to).unwrap();
    idle.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let started = Instant::now();

    let (status, ms) = healthz_ms(&v);
    assert_eq!(status, 200);
    assert!(ms < 1000, "/healthz took {ms} ms");
    let (status, body) = verify(&v, &good);
    assert_eq!(status, 200, "{body:#}");

    let (closed, sent) = closed_within(&mut half, Duration::from_secs(20));
    assert!(closed, "a half-sent head was kept open for {:?}", started.elapsed());
    assert!(sent.is_empty() || sent.starts_with("HTTP/1.1 408"), "{sent}");
    let (closed, sent) = closed_within(&mut idle, Duration::from_secs(20));
    assert!(closed && sent.starts_with("HTTP/1.1 200"), "an idle keep-alive connection stayed open: {sent}");
    let (closed, sent) = closed_within(&mut held[0], Duration::from_secs(40));
    assert!(closed, "a body trickling in was waited for {:?}", started.elapsed());
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("application/problem+json") && sent.contains("REQUEST_TIMEOUT"), "{sent}");
}

#[test]
fn healthz_answers_while_slow_fetches_run_and_abandoned_work_stops() {
    let dir = tempfile::tempdir().unwrap();
    let origin = Origin::start(Duration::from_secs(4));
    let (k, did) = key(45);
    let v = Verifier::start(&["--trust", &trust_file(dir.path(), &did), "--fetch-allow", &origin.allowed()]);
    let schema = origin.put("/slow/schema", &json!({"type": "object"}));

    // A small did:key credential with a schema looks "quick"; its fetch must not run on
    // an async worker. Eight at once, then /healthz and a quick verification.
    let mut doc = credential(&did, "Olena");
    doc["credentialSchema"] = json!({"id": schema, "type": "JsonSchema"});
    let vc = issue(&doc, &k, &did);
    let base = v.base.clone();
    let running: Vec<_> = (0..8)
        .map(|_| {
            let (base, vc) = (base.clone(), vc.clone());
            std::thread::spawn(move || {
                ureq::post(&format!("{base}/credentials/verify"))
                    .send_json(json!({"verifiableCredential": vc}))
                    .map(|r| r.status())
                    .unwrap_or_else(|e| match e {
                        ureq::Error::Status(code, _) => code,
                        ureq::Error::Transport(_) => 0,
                    })
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    assert!(origin.hits("/slow/schema") >= 1, "the slow fetch is under way");
    let mut worst = 0;
    for _ in 0..5 {
        let (status, ms) = healthz_ms(&v);
        assert_eq!(status, 200);
        worst = worst.max(ms);
    }
    assert!(worst < 100, "/healthz took {worst} ms while fetches ran");
    let quick = issue(&credential(&did, "Petro"), &k, &did);
    let (status, body) = verify(&v, &quick);
    assert_eq!(status, 200, "{body:#}");
    for r in running {
        assert_eq!(r.join().unwrap(), 200);
    }

    // A client that sends its request and leaves: the verification stops fetching.
    let first = origin.put("/slow/first", &status_list(&did, &k, &origin.url("/slow/first"), &[]));
    let second = origin.put("/lists/second", &status_list(&did, &k, &origin.url("/lists/second"), &[]));
    let vc = issue(&with_entries(credential(&did, "H"), &[(first, 1), (second, 1)]), &k, &did);
    let body = json!({"verifiableCredential": vc}).to_string();
    let mut gone = TcpStream::connect(addr(&v)).unwrap();
    write!(
        gone,
        "POST /credentials/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(origin.hits("/slow/first"), 1);
    drop(gone);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(origin.hits("/lists/second"), 0, "the abandoned verification went on fetching");
}

/// A JPEG whose frame header says `marker` (0xC0 baseline, 0xC2 progressive), `side` ×
/// `side` pixels of four components (CMYK) at full sampling; no picture follows.
fn jpeg_frame_header(marker: u8, side: u16) -> Vec<u8> {
    let [hi, lo] = side.to_be_bytes();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00];
    jpeg.extend([0xFF, marker, 0x00, 0x14, 0x08, hi, lo, hi, lo, 0x04]);
    jpeg.extend([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0, 0xFF, 0xD9]);
    jpeg
}

#[test]
fn a_jpeg_that_would_take_more_memory_than_allowed_is_refused_from_its_header() {
    let v = Verifier::start(&[]);
    // A progressive CMYK image of 4096² keeps 128 MiB of coefficients while it decodes
    // (140 MB peak measured with a real one): refused before decoding.
    let frame = jpeg_frame_header(0xC2, 4096);
    let r = ureq::post(&format!("{}/verify/qr", v.base)).set("Content-Type", "image/jpeg").send_bytes(&frame);
    let (status, body) = super::read(r);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("RESOURCE_LIMIT_EXCEEDED") && body.contains("progressive JPEG"), "{body}");
    // The same size as an ordinary (baseline) JPEG passes the header check and fails only
    // because no picture follows.
    let r = ureq::post(&format!("{}/verify/qr", v.base))
        .set("Content-Type", "image/jpeg")
        .send_bytes(&jpeg_frame_header(0xC0, 2048));
    let (status, body) = super::read(r);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("could not be decoded"), "{body}");
}

/// Behind a reverse proxy every connection is the proxy's: the per-client cap is a
/// setting (`--max-connections-per-client`, `BEM_MAX_CONNECTIONS_PER_CLIENT`).
#[test]
fn the_per_client_connection_cap_is_a_setting() {
    let v = Verifier::start(&["--max-connections-per-client", "4"]);
    let to = addr(&v);
    let open: Vec<TcpStream> = (0..10).filter_map(|_| connect_from([127, 0, 0, 3], to).ok()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let held = open
        .into_iter()
        .filter(|s| !closed_within(&mut s.try_clone().unwrap(), Duration::from_millis(50)).0)
        .count();
    assert_eq!(held, 4);
    let (status, _) = v.get("/healthz");
    assert_eq!(status, 200);
    let out = std::process::Command::new(super::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--max-connections-per-client", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("max-connections-per-client"), "{out:?}");
}

/// A wrong method is answered like every other error: 405 problem+json naming it.
#[test]
fn a_wrong_method_is_a_405_problem() {
    let v = Verifier::start(&[]);
    for (method, path) in
        [("GET", "/credentials/verify"), ("DELETE", "/presentations/verify"), ("PUT", "/healthz")]
    {
        let r = ureq::request(method, &format!("{}{path}", v.base)).call();
        let Err(ureq::Error::Status(status, answer)) = r else { panic!("{method} {path}: not refused") };
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(answer.content_type(), "application/problem+json", "{method} {path}");
        let body: Value = answer.into_json().unwrap();
        assert_eq!(body["code"], "METHOD_NOT_ALLOWED", "{method} {path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(method), "{body}");
    }
}
