//! The crate's one error type: why a document could not be fetched.

use std::fmt;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The fetch policy refused the URL, a redirect target, or the address a name
    /// resolved to (not https, IP literal, private or loopback address, host not allowed).
    Refused,
    /// The URL could not be parsed.
    InvalidUrl,
    /// DNS, connection or TLS failure, or the connection broke.
    Network,
    /// The time limit ran out.
    Timeout,
    /// The server answered with an HTTP status other than 200 (or 304 when revalidating).
    Status,
    /// More redirects than allowed, or a redirect without a usable `Location`.
    Redirect,
    /// The response body is larger than the size limit.
    TooLarge,
    /// The body is not strict JSON (duplicate keys, bad UTF-8, too deep...).
    Json,
    /// A configuration value (an allowed origin) is malformed.
    Config,
}

/// Why a fetch failed: a kind and a message naming the URL (without query or userinfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
