//! Loading the server's TLS certificate chain and key from PEM files into a rustls
//! configuration.
//!
//! Invariants: every failure names the file and what is wrong with it; the key must be
//! the key of the first certificate in the chain (checked here, not at the first
//! handshake); the key file is readable by its owner only; only the `ring` provider is
//! used, never the process-wide default.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::{Error, TlsFiles};

/// A checked TLS server configuration, ready to serve.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls { .. }")
    }
}

impl Tls {
    /// Reads the PEM certificate chain and private key of `files` and checks that they
    /// belong together.
    pub fn load(files: &TlsFiles) -> Result<Tls, Error> {
        let chain = certificates(&files.cert)?;
        let key = private_key(&files.key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Refused { path: files.cert.clone(), detail: e.to_string() })?
            .with_no_client_auth();
        let mut config = builder.with_single_cert(chain, key).map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                Error::KeyMismatch { cert: files.cert.clone(), key: files.key.clone() }
            }
            rustls::Error::General(detail) => Error::UnusableKey { path: files.key.clone(), detail },
            other => Error::Refused { path: files.cert.clone(), detail: other.to_string() },
        })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls { config: Arc::new(config) })
    }

    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read { what, path: path.to_owned(), source })
}

/// Every `CERTIFICATE` section of the file, in order; at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read("certificate", path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| Error::Pem { what: "certificate", path: path.to_owned(), detail: e.to_string() })?;
    if chain.is_empty() {
        return Err(Error::NoCertificate { path: path.to_owned() });
    }
    Ok(chain)
}

/// Refuses a key file that its group or others may access (Unix modes).
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| Error::Read {
        what: "key",
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyReadable { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> Result<(), Error> {
    Ok(())
}

/// The first private key section of the file: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY`
/// (PKCS#1) or `EC PRIVATE KEY` (SEC1).
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    owner_only(path)?;
    let bytes = read("key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => Error::NoKey { path: path.to_owned() },
        e => Error::Pem { what: "key", path: path.to_owned(), detail: e.to_string() },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A self-signed certificate for localhost and 127.0.0.1, written as `<name>.crt`
    /// and `<name>.key` in `dir`.
    pub(crate) struct Pair {
        pub files: TlsFiles,
        pub cert_der: CertificateDer<'static>,
        pub cert_pem: String,
        pub key_pem: String,
    }

    pub(crate) fn write_pair(dir: &Path, name: &str) -> Pair {
        let generated =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert_pem = generated.cert.pem();
        let key_pem = generated.key_pair.serialize_pem();
        let files = TlsFiles { cert: dir.join(format!("{name}.crt")), key: dir.join(format!("{name}.key")) };
        std::fs::write(&files.cert, &cert_pem).unwrap();
        std::fs::write(&files.key, &key_pem).unwrap();
        owner_only_mode(&files.key);
        // Some tests give the certificate file as the key file.
        owner_only_mode(&files.cert);
        Pair { files, cert_der: generated.cert.der().clone(), cert_pem, key_pem }
    }

    fn load_err(cert: &Path, key: &Path) -> (Error, String) {
        let e = Tls::load(&TlsFiles { cert: cert.to_owned(), key: key.to_owned() }).unwrap_err();
        let text = e.to_string();
        (e, text)
    }

    /// Writes `text` to `dir/name`, readable by its owner only (as a key file must be).
    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        owner_only_mode(&path);
        path
    }

    pub(crate) fn owner_only_mode(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&a.files.key, std::fs::Permissions::from_mode(mode)).unwrap();
            let (e, text) = load_err(&a.files.cert, &a.files.key);
            assert!(matches!(e, Error::KeyReadable { .. }), "{mode:o}: {e:?}");
            assert!(text.contains("chmod 600") && text.contains(&*a.files.key.to_string_lossy()), "{text}");
        }
        std::fs::set_permissions(&a.files.key, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(Tls::load(&a.files).is_ok());
    }

    #[test]
    fn a_matching_pair_loads_with_a_chain_and_keys_of_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        assert!(Tls::load(&a.files).is_ok());

        // The certificate file may hold the chain (and other sections, which are skipped).
        let b = write_pair(dir.path(), "b");
        let chain = write(dir.path(), "chain.crt", &format!("{}{}{}", a.cert_pem, b.key_pem, b.cert_pem));
        assert!(Tls::load(&TlsFiles { cert: chain, key: a.files.key.clone() }).is_ok());

        let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&ed25519)
            .unwrap();
        let files = TlsFiles {
            cert: write(dir.path(), "ed.crt", &cert.pem()),
            key: write(dir.path(), "ed.key", &ed25519.serialize_pem()),
        };
        assert!(Tls::load(&files).is_ok());
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        let missing = dir.path().join("missing.key");
        let (e, text) = load_err(&a.files.cert, &missing);
        assert!(matches!(e, Error::Read { what: "key", .. }), "{e:?}");
        assert!(text.contains("key file") && text.contains(&*missing.to_string_lossy()), "{text}");
        assert!(std::error::Error::source(&e).is_some(), "the OS error is the source");

        let missing = dir.path().join("missing.crt");
        let (e, text) = load_err(&missing, &a.files.key);
        assert!(matches!(e, Error::Read { what: "certificate", .. }), "{e:?}");
        assert!(text.contains(&*missing.to_string_lossy()), "{text}");
    }

    #[test]
    fn a_file_without_what_it_should_hold_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        // Certificate and key given the wrong way round.
        let (e, text) = load_err(&a.files.key, &a.files.key);
        assert!(matches!(e, Error::NoCertificate { .. }), "{e:?}");
        assert!(text.contains(&*a.files.key.to_string_lossy()) && text.contains("no certificate"), "{text}");
        let (e, text) = load_err(&a.files.cert, &a.files.cert);
        assert!(matches!(e, Error::NoKey { .. }), "{e:?}");
        assert!(text.contains(&*a.files.cert.to_string_lossy()) && text.contains("no private key"), "{text}");

        let empty = write(dir.path(), "empty", "");
        assert!(matches!(load_err(&empty, &a.files.key).0, Error::NoCertificate { .. }));
        assert!(matches!(load_err(&a.files.cert, &empty).0, Error::NoKey { .. }));

        // An encrypted key is not a key we can use: said as "no (unencrypted) private key".
        let encrypted = write(
            dir.path(),
            "encrypted.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let (e, text) = load_err(&a.files.cert, &encrypted);
        assert!(matches!(e, Error::NoKey { .. }) && text.contains("unencrypted"), "{text}");
    }

    #[test]
    fn broken_pem_and_unusable_contents_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        let truncated = write(dir.path(), "truncated.crt", &a.cert_pem[..a.cert_pem.len() - 30]);
        let (e, text) = load_err(&truncated, &a.files.key);
        assert!(matches!(e, Error::Pem { what: "certificate", .. }), "{e:?}");
        assert!(text.contains(&*truncated.to_string_lossy()) && text.contains("not valid PEM"), "{text}");

        let bad_base64 =
            write(dir.path(), "bad.key", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n");
        assert!(matches!(load_err(&a.files.cert, &bad_base64).0, Error::Pem { what: "key", .. }));

        let not_a_key = write(
            dir.path(),
            "junk.key",
            "-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n",
        );
        let (e, text) = load_err(&a.files.cert, &not_a_key);
        assert!(matches!(e, Error::UnusableKey { .. }), "{e:?}");
        assert!(text.contains(&*not_a_key.to_string_lossy()), "{text}");

        let not_a_cert = write(
            dir.path(),
            "junk.crt",
            "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
        );
        let (e, text) = load_err(&not_a_cert, &a.files.key);
        assert!(matches!(e, Error::Refused { .. }), "{e:?}");
        assert!(text.contains(&*not_a_cert.to_string_lossy()), "{text}");
    }

    #[test]
    fn a_key_of_another_certificate_is_a_mismatch_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        let b = write_pair(dir.path(), "b");
        let (e, text) = load_err(&a.files.cert, &b.files.key);
        assert!(matches!(e, Error::KeyMismatch { .. }), "{e:?}");
        assert!(text.contains(&*a.files.cert.to_string_lossy()), "{text}");
        assert!(text.contains(&*b.files.key.to_string_lossy()) && text.contains("does not match"), "{text}");
    }
}
