//! `FetchConfig::with_ca_file`: an https server on loopback whose certificate comes from a
//! test CA is refused with Mozilla's roots alone and fetched once the CA is added; bad CA
//! files are configuration errors naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use bem_fetch::{AllowedOrigin, ErrorKind, FetchConfig, FetchPolicy, Fetcher, HostRule};
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};

/// A test CA (PEM) and an https server for `localhost` with a certificate it issued,
/// answering `{"n":1}` to every request; the server's port.
fn ca_and_server() -> (String, u16) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let chain = vec![CertificateDer::from_pem_slice(leaf.pem().as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(leaf_key.serialize_pem().as_bytes()).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(connection) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let mut reader = BufReader::new(&mut tls);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let body = r#"{"n":1}"#;
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (ca.pem(), port)
}

fn config(port: u16) -> FetchConfig {
    let origin = AllowedOrigin::parse(&format!("https://localhost:{port}/")).unwrap();
    FetchConfig::new(FetchPolicy { allowed_origins: vec![origin], hosts: HostRule::AnyPublic })
}

#[test]
fn a_test_ca_added_as_root_makes_its_servers_reachable() {
    let (ca_pem, port) = ca_and_server();
    let url = format!("https://localhost:{port}/doc");

    let without = Fetcher::new(config(port));
    let refused = without.fetch_json(&url).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Network, "{refused}");

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let with = Fetcher::new(config(port).with_ca_file(&ca_file).unwrap());
    assert_eq!(with.fetch_json(&url).unwrap()["n"], 1);
}

#[test]
fn unusable_ca_files_are_configuration_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
    for file in [&missing, &empty, &garbage] {
        let error = config(1).with_ca_file(file).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{error}");
        assert!(error.to_string().contains(&file.display().to_string()), "{error}");
    }
}
