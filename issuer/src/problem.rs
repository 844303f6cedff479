//! The HTTP error type: RFC 9457 `application/problem+json` with a stable `type`, and the
//! extractors whose rejections use it (admin bearer token, strict JSON bodies).
//!
//! Invariants:
//! - every error a client sees is problem+json, never axum's plain-text rejections;
//! - internal errors are logged with their detail and shown as a bare 500;
//! - the admin token is compared in constant time (over SHA-256 digests, so the length
//!   leaks nothing either), before any body is read: a request without it (401) or with
//!   a wrong one (403) changes nothing;
//! - a client with too many wrong tokens gets 429 with `Retry-After` before its token
//!   is looked at ([`crate::auth_limit`]); a missing token is never counted; the client
//!   is the peer, or what trusted proxies report ([`crate::client_address`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use bem_core::ProblemCode;

use crate::auth_limit::Lock;
use crate::http::AppState;
use crate::issuance::IssueError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable code, e.g. `UNAUTHORIZED` or a specification's `MALFORMED_VALUE_ERROR`.
    pub code: String,
    /// Whether `code` is a specification's (type `https://w3id.org/security#CODE`).
    pub spec: bool,
    pub detail: String,
    pub problems: Vec<Value>,
    /// Seconds for `Retry-After` (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with one of this service's own codes.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            spec: false,
            detail: detail.into(),
            problems: Vec::new(),
            retry_after: None,
        }
    }

    /// An error with a specification's code (type `https://w3id.org/security#CODE`).
    pub fn spec(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiError { spec: true, ..ApiError::new(status, code.as_str(), detail) }
    }

    pub fn with_problems(mut self, problems: Vec<Value>) -> Self {
        self.problems = problems;
        self
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", detail)
    }

    /// A 500 whose detail is logged, not shown.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        eprintln!("bem-issuer: internal error: {error}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "the server could not complete the request",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let type_uri = if self.spec {
            format!("https://w3id.org/security#{}", self.code)
        } else {
            format!("urn:bem-credentials:problem:{}", self.code)
        };
        let mut body = json!({
            "type": type_uri,
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let (false, Some(obj)) = (self.problems.is_empty(), body.as_object_mut()) {
            obj.insert("problems".into(), Value::Array(self.problems));
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::NotFound(m) => ApiError::not_found(m),
            IssueError::Invalid { code, problems } => {
                let status = if code == ProblemCode::SchemaValidationError {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::BAD_REQUEST
                };
                let detail = match problems.as_slice() {
                    [one] => one.clone(),
                    many => format!("{} problems", many.len()),
                };
                ApiError::spec(status, code, detail)
                    .with_problems(problems.into_iter().map(Value::String).collect())
            }
            IssueError::UnknownOption(name) => ApiError::spec(
                StatusCode::BAD_REQUEST,
                ProblemCode::UnknownOptionProvided,
                format!("unknown option {name:?}"),
            ),
            IssueError::ForeignIssuer(m) => ApiError::new(StatusCode::BAD_REQUEST, "FOREIGN_ISSUER", m),
            IssueError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "CONFLICT", m),
            IssueError::NotIssued { code, problem } => {
                ApiError::spec(StatusCode::UNPROCESSABLE_ENTITY, code, problem.clone())
                    .with_problems(vec![Value::String(problem)])
            }
            IssueError::Internal(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

/// Proof that the request carries the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Without a peer address (the router driven in-process), all share one record.
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<bem_serve::Peer>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0 .0.ip());
        let ip = state.trusted_proxies.client(peer, &parts.headers);
        let now = std::time::Instant::now();
        let too_many = |left: std::time::Duration| {
            let seconds = left.as_secs().max(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                format!("too many wrong admin tokens from this address; try again in {seconds} s"),
            );
            error.retry_after = Some(seconds);
            error
        };
        let shared = match state.failed_auth.lock(ip, now) {
            Lock::Own(left) => return Err(too_many(left)),
            Lock::Shared(left) => Some(left),
            Lock::None => None,
        };
        match check_bearer(parts.headers.get(AUTHORIZATION), &state.admin_token) {
            Ok(()) => {
                state.failed_auth.succeeded(ip);
                Ok(Admin)
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => {
                state.failed_auth.failed(ip, now);
                Err(shared.map_or(e, too_many))
            }
            Err(e) => Err(e),
        }
    }
}

/// 401 without a bearer token, 403 with a wrong one.
pub fn check_bearer(header: Option<&HeaderValue>, expected: &str) -> Result<(), ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "this call needs `Authorization: Bearer <admin token>`",
        )
    };
    let value = header.ok_or_else(unauthorized)?.as_bytes();
    let scheme = value.get(..7).ok_or_else(unauthorized)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return Err(unauthorized());
    }
    let given = value.get(7..).unwrap_or_default();
    let given = Sha256::digest(given.trim_ascii());
    let wanted = Sha256::digest(expected.as_bytes());
    if bool::from(given.ct_eq(&wanted)) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", "the admin token is wrong"))
    }
}

/// A JSON body parsed strictly (bem-core's parser: no duplicate keys, no unsafe
/// integers), then deserialized; every failure is a problem+json 400/413/415.
pub struct StrictJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .is_some_and(|m| {
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        let value = bem_core::json::parse(
            &bytes,
            &bem_core::json::JsonLimits { max_bytes: usize::MAX, max_depth: 64 },
        )
        .map_err(|e| ApiError::spec(StatusCode::BAD_REQUEST, ProblemCode::ParsingError, e.message))?;
        let parsed = serde_json::from_value(value).map_err(|e| {
            ApiError::spec(
                StatusCode::BAD_REQUEST,
                ProblemCode::MalformedValueError,
                format!("the request body does not fit: {e}"),
            )
        })?;
        Ok(StrictJson(parsed))
    }
}

/// The raw body, with the size limit's and the body deadline's rejections as problem+json.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e: BytesRejection| {
        let status = e.status();
        if bem_serve::BodyTimeout::caused(&e) {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "the request body did not arrive in time; send it again",
            )
        } else if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "PAYLOAD_TOO_LARGE", "the request body is larger than this server accepts")
        } else {
            ApiError::new(status, "BAD_BODY", e.body_text())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let token = "s3cret-token-of-some-length";
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(check_bearer(Some(&header(&format!("Bearer {token}"))), token).is_ok());
        assert!(check_bearer(Some(&header(&format!("bearer {token} "))), token).is_ok());
        assert_eq!(check_bearer(None, token).unwrap_err().status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            check_bearer(Some(&header("Basic abc")), token).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            check_bearer(Some(&header("Bearer nope")), token).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(check_bearer(Some(&header("Bearer ")), token).unwrap_err().status, StatusCode::FORBIDDEN);
    }
}
