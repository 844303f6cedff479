//! Serving an axum router over plain HTTP or TLS: the one piece of I/O the issuer and the
//! verifier share.
//!
//! [`serve`] runs a router on a bound listener until a shutdown future completes, then
//! stops accepting, lets the requests under way finish and returns. One accept loop serves
//! both modes with hyper's HTTP/1.1 server: without TLS over the TCP listener, with a
//! [`Tls`] loaded from PEM files ([`Tls::load`]) over a listener that does the TLS
//! handshake first (rustls 0.23, the `ring` provider, TLS 1.2 and 1.3, ALPN `http/1.1`),
//! so both modes answer HTTP alike, keep the same [`Limits`] and shut down alike.
//!
//! Invariants:
//! - a bad certificate or key is an [`Error`] naming the file and the problem, found by
//!   [`Tls::load`] before anything listens; a key file that group or others may access
//!   (mode & 0o077) is refused;
//! - a TLS handshake never holds up the others: each runs in its own task, at most
//!   [`MAX_HANDSHAKES`] at once (more connections are closed at once), each given
//!   [`HANDSHAKE_TIMEOUT`]; a failed handshake (a plain-HTTP client, a scanner) only
//!   closes that connection;
//! - on shutdown, handshakes under way are dropped and established connections are
//!   closed once their current request is answered;
//! - every request carries the peer's address as `axum::extract::ConnectInfo<Peer>`
//!   (per-client limits, such as the issuer's failed-token limit, key on it);
//! - one client cannot hold the service ([`Limits`]): connections over the caps (in all,
//!   and per client) are closed as soon as they are accepted; a request head must arrive,
//!   and an idle keep-alive connection must send its next one, within the head timeout;
//!   a body must arrive whole within the body timeout, or reading it gives
//!   [`BodyTimeout`] (the services answer 408).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod body;
mod connections;
mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

pub use body::BodyTimeout;
pub use tls::Tls;

/// Longest time a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes under way at once; connections beyond are closed at once.
pub const MAX_HANDSHAKES: usize = 1024;

/// The TLS certificate chain and private key files, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain: the server's certificate first, then intermediates.
    pub cert: PathBuf,
    /// The private key of the first certificate: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: PathBuf,
}

/// What can go wrong loading the TLS files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A certificate or key file could not be read (missing, unreadable).
    #[error("cannot read TLS {what} file {}", path.display())]
    Read { what: &'static str, path: PathBuf, source: io::Error },
    /// A file holds a PEM section that does not decode.
    #[error("TLS {what} file {} is not valid PEM: {detail}", path.display())]
    Pem { what: &'static str, path: PathBuf, detail: String },
    /// The certificate file holds no `CERTIFICATE` section.
    #[error("TLS certificate file {} holds no certificate (no PEM \"BEGIN CERTIFICATE\" section)", path.display())]
    NoCertificate { path: PathBuf },
    /// The key file holds no unencrypted private key.
    #[error(
        "TLS key file {} holds no private key (no unencrypted PEM \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" section)",
        path.display()
    )]
    NoKey { path: PathBuf },
    /// The key file may be read or written by its group or others (the rule of every
    /// secret file here: the issuer's signing key, admin token and seal key too).
    #[error(
        "TLS key file {} has mode {mode:04o}: group or others can access it. Run `chmod 600 {}` and start again",
        path.display(),
        path.display()
    )]
    KeyReadable { path: PathBuf, mode: u32 },
    /// The key is of a kind or size the TLS library cannot sign with.
    #[error("TLS key file {} holds a key that cannot be used: {detail}", path.display())]
    UnusableKey { path: PathBuf, detail: String },
    /// The key is not the key of the first certificate.
    #[error("TLS key file {} does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// The certificate (or the pair) was refused for another reason, e.g. a malformed certificate.
    #[error("TLS certificate file {} was refused: {detail}", path.display())]
    Refused { path: PathBuf, detail: String },
}

/// The address of the client a request came from, in both modes
/// (`axum::extract::ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

/// Limits on connections and on how long a client may take to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Most connections open at once from one client (an IPv4 address or an IPv6 /64).
    pub max_connections_per_client: usize,
    /// Longest time to send a request's head; also how long an idle keep-alive
    /// connection is kept open waiting for the next request.
    pub header_timeout: Duration,
    /// Longest time to send a request's whole body, from the end of its head.
    pub body_timeout: Duration,
}

impl Default for Limits {
    /// 2,048 connections, 128 from one client; 10 s for a head or an idle keep-alive
    /// connection; 30 s for a body (the largest body either service takes, a bulk CSV of a
    /// few MiB, needs about 1 Mbit/s).
    fn default() -> Self {
        Self {
            max_connections: 2048,
            max_connections_per_client: 128,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes and the requests under way
/// are answered. With `tls`, every connection is TLS; without it, plain HTTP.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, router, tls, Limits::default(), shutdown).await;
}

/// [`serve`] under the given [`Limits`].
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    tls: Option<Tls>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    match tls {
        None => run(listener, router, limits, shutdown).await,
        Some(tls) => {
            let listener =
                TlsListener { tcp: listener, acceptor: tls.acceptor(), handshakes: JoinSet::new() };
            run(listener, router, limits, shutdown).await;
        }
    }
}

/// The accept loop: admits each connection under the caps and serves it in its own task
/// with HTTP/1.1 (hyper), the head timeout and the body deadline; on shutdown stops
/// accepting, asks every connection to close after its current request, and waits.
async fn run<L>(mut listener: L, router: Router, limits: Limits, shutdown: impl Future<Output = ()>)
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let connections =
        connections::Connections::new(limits.max_connections, limits.max_connections_per_client);
    let (closing, _) = tokio::sync::watch::channel(());
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while tasks.try_join_next().is_some() {}
        let Some(slot) = connections.admit(peer.ip()) else {
            continue; // dropping `io` closes the connection
        };
        let router = router.clone();
        let mut closing = closing.subscribe();
        tasks.spawn(async move {
            let _slot = slot;
            let service =
                hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request =
                        request.map(|incoming| body::with_deadline(incoming, limits.body_timeout));
                    request.extensions_mut().insert(axum::extract::ConnectInfo(Peer(peer)));
                    let mut router = router.clone();
                    async move { tower_service::Service::call(&mut router, request).await }
                });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(io), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(());
    while tasks.join_next().await.is_some() {}
}

/// A TCP listener whose connections come out TLS: accepted sockets are handed to
/// handshake tasks, and finished handshakes are what [`axum::serve::Listener::accept`]
/// returns. Dropping it (the accept loop does on shutdown) closes the socket and aborts
/// handshakes.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    fn start_handshake(&mut self, stream: TcpStream, peer: SocketAddr) {
        while self.handshakes.try_join_next().is_some() {}
        if self.handshakes.len() >= MAX_HANDSHAKES {
            return; // dropping `stream` closes it
        }
        let acceptor = self.acceptor.clone();
        self.handshakes.spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => Some((tls, peer)),
                Ok(Err(_)) | Err(_) => None,
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Cancel-safe (the accept loop drops it on shutdown): both branches are, and nothing is
    // held across an await.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => self.start_handshake(stream, peer),
                    Err(e) => accept_failed(e).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// As axum's own TCP listener: a connection that failed before it was accepted is
/// skipped; anything else (e.g. out of file descriptors) waits a second before retrying.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::ServerName;

    use crate::tls::tests::{write_pair, Pair};

    fn client(pair: &Pair) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pair.cert_der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// One HTTP/1.1 GET over a fresh TLS connection; the whole answer.
    async fn get_over_tls(connector: &tokio_rustls::TlsConnector, addr: SocketAddr, path: &str) -> String {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        tls.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn serves_over_tls_past_a_stalled_handshake_and_shuts_down_gracefully() {
        let dir = tempfile::tempdir().unwrap();
        let pair = write_pair(dir.path(), "a");
        let tls = Tls::load(&pair.files).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/hello", get(|| async { "hello over tls" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, Some(tls), async move {
            let _ = stopped.await;
        }));

        // A client that connects and never says anything must not hold up the next one.
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let connector = client(&pair);
        let answer = get_over_tls(&connector, addr, "/hello").await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("hello over tls"), "{answer}");

        // Plain HTTP on the TLS port gets no HTTP answer.
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut bytes = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut bytes)).await.unwrap();
        assert!(!bytes.starts_with(b"HTTP/"), "{}", String::from_utf8_lossy(&bytes));

        // An idle keep-alive TLS connection does not keep the server from stopping.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut idle = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
        idle.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut first = [0u8; 15];
        idle.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200 OK");

        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "the port is closed after shutdown");
        let mut rest = Vec::new();
        let _ = silent.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn plain_http_without_tls() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/hello", get(|| async { "hello" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, None, async move {
            let _ = stopped.await;
        }));
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("hello"), "{answer}");
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap();
    }
}
