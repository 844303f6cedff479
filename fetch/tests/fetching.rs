//! The fetcher against a real local HTTP server: policy, post-DNS address guard,
//! redirects, limits, strict JSON and the cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bem_core::resolver::{Fetched, Resolver};
use bem_fetch::{AllowedOrigin, ErrorKind, FetchConfig, FetchPolicy, Fetcher, HostRule};

/// A tiny HTTP/1.1 server: one thread per connection, `Connection: close`.
struct Server {
    addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    conditional: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let conditional = Arc::new(AtomicUsize::new(0));
        let (h, c) = (hits.clone(), conditional.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (h, c) = (h.clone(), c.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    reader.read_line(&mut first).unwrap();
                    let path = first.split(' ').nth(1).unwrap_or("/").to_owned();
                    let mut if_none_match = None;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                            if_none_match = Some(v.trim().to_owned());
                        }
                    }
                    *h.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                    if if_none_match.is_some() {
                        c.fetch_add(1, Ordering::SeqCst);
                    }
                    let (status, headers, body) = route(&path, addr, if_none_match.as_deref());
                    let mut out = stream;
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                        body.len()
                    );
                    let _ = out.write_all(body.as_bytes());
                });
            }
        });
        Server { addr, hits, conditional }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn route(path: &str, addr: SocketAddr, if_none_match: Option<&str>) -> (&'static str, String, String) {
    let ok = |headers: &str, body: &str| ("200 OK", headers.to_owned(), body.to_owned());
    let redirect = |to: String| ("302 Found", format!("Location: {to}\r\n"), String::new());
    match path {
        "/doc" => ok("", r#"{"id": "doc", "n": 1}"#),
        "/dup" => ok("", r#"{"a": 1, "a": 2}"#),
        "/big" => ok("", &format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024))),
        "/cached" => ok("Cache-Control: max-age=60\r\n", r#"{"cached": true}"#),
        "/nostore" => ok("Cache-Control: no-store\r\n", r#"{"nostore": true}"#),
        "/etag" if if_none_match == Some("\"v1\"") => {
            ("304 Not Modified", "ETag: \"v1\"\r\n".into(), String::new())
        }
        "/etag" => ok("ETag: \"v1\"\r\nCache-Control: no-cache\r\n", r#"{"etag": 1}"#),
        "/to-doc" => redirect("/doc".into()),
        "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/".into()),
        "/to-decimal" => redirect("http://2130706433/doc".into()),
        "/to-rebind" => redirect(format!("https://rebind.example:{}/doc", addr.port())),
        "/loop" => redirect("/loop".into()),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(3));
            ok("", "{}")
        }
        _ => ("404 Not Found", String::new(), "{}".into()),
    }
}

fn fetcher_for(server: &Server) -> Fetcher {
    let origin = AllowedOrigin::parse(&server.url("/")).unwrap();
    let mut config =
        FetchConfig::new(FetchPolicy { allowed_origins: vec![origin], hosts: HostRule::AnyPublic });
    config.timeout = Duration::from_secs(1);
    Fetcher::new(config)
}

#[test]
fn an_allowed_origin_is_fetched_and_parsed_strictly() {
    let server = Server::start();
    let f = fetcher_for(&server);
    assert_eq!(f.fetch_json(&server.url("/doc")).unwrap()["n"], 1);
    assert_eq!(f.fetch_json(&server.url("/dup")).unwrap_err().kind(), ErrorKind::Json);
    assert_eq!(f.fetch_json(&server.url("/big")).unwrap_err().kind(), ErrorKind::TooLarge);
    assert_eq!(f.fetch_json(&server.url("/missing")).unwrap_err().kind(), ErrorKind::Status);
    assert_eq!(f.fetch_json(&server.url("/slow")).unwrap_err().kind(), ErrorKind::Timeout);
}

#[test]
fn without_the_operators_word_loopback_is_refused() {
    let server = Server::start();
    let f = Fetcher::new(FetchConfig::new(FetchPolicy {
        allowed_origins: Vec::new(),
        hosts: HostRule::AnyPublic,
    }));
    for url in [
        server.url("/doc"),
        format!("https://{}/doc", server.addr),
        format!("https://localhost:{}/doc", server.addr.port()),
    ] {
        assert_eq!(f.fetch_json(&url).unwrap_err().kind(), ErrorKind::Refused, "{url}");
    }
    assert_eq!(server.hits("/doc"), 0, "nothing reached the server");
}

#[test]
fn every_redirect_is_checked_again() {
    let server = Server::start();
    let f = fetcher_for(&server);
    assert_eq!(f.fetch_json(&server.url("/to-doc")).unwrap()["id"], "doc");
    for path in ["/to-metadata", "/to-decimal"] {
        let e = f.fetch_json(&server.url(path)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Refused, "{path}: {e}");
    }
    assert_eq!(f.fetch_json(&server.url("/loop")).unwrap_err().kind(), ErrorKind::Redirect);
    assert_eq!(server.hits("/loop"), 4, "the first request and three redirects");
}

#[test]
fn a_public_name_that_resolves_to_an_internal_address_is_refused_after_dns() {
    let server = Server::start();
    let port = server.addr.port();
    let lookup: bem_fetch::DnsLookup = Arc::new(move |netloc: &str| {
        if netloc.starts_with("rebind.example:") {
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        } else {
            std::net::ToSocketAddrs::to_socket_addrs(netloc).map(Iterator::collect)
        }
    });
    let origin = AllowedOrigin::parse(&server.url("/")).unwrap();
    let mut hosts = std::collections::BTreeSet::new();
    hosts.insert("rebind.example".to_owned());
    let config =
        FetchConfig::new(FetchPolicy { allowed_origins: vec![origin], hosts: HostRule::Listed(hosts) });
    let f = Fetcher::with_dns(config, lookup);
    let e = f.fetch_json(&format!("https://rebind.example:{port}/doc")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    assert!(e.message().contains("non-public address 127.0.0.1"), "{e}");
    let e = f.fetch_json(&server.url("/to-rebind")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    assert_eq!(server.hits("/doc"), 0);
}

#[test]
fn the_cache_honours_max_age_no_store_and_etags() {
    let server = Server::start();
    let f = fetcher_for(&server);
    for _ in 0..3 {
        f.fetch_json(&server.url("/cached")).unwrap();
        f.fetch_json(&server.url("/nostore")).unwrap();
        assert_eq!(f.fetch_json(&server.url("/etag")).unwrap()["etag"], 1);
    }
    assert_eq!(server.hits("/cached"), 1);
    assert_eq!(server.hits("/nostore"), 3);
    assert_eq!(server.hits("/etag"), 3);
    assert_eq!(server.conditional.load(Ordering::SeqCst), 2, "revalidated with If-None-Match");
}

#[test]
fn the_core_resolver_reports_failures_with_their_codes() {
    let server = Server::start();
    let f = fetcher_for(&server);
    assert!(matches!(f.status_list_credential(&server.url("/doc")), Fetched::Document(_)));
    match f.status_list_credential("https://evil.example.invalid.localhost/list") {
        Fetched::Failed(e) => assert_eq!(e.code.as_str(), "STATUS_RETRIEVAL_ERROR"),
        other => panic!("{other:?}"),
    }
    for did in [
        "did:web:127.0.0.1",
        "did:web:localhost%3A8080",
        "did:web:user@evil.example",
        "did:web:a.example:b%2Fc",
        "did:example:x",
    ] {
        assert!(matches!(f.controller_document(did), Fetched::Failed(_)), "{did}");
    }
}
