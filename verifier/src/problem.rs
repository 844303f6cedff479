//! RFC 9457 problem details: the service's one error type and the problem objects of
//! failed checks.
//!
//! Every error the HTTP edge returns is `application/problem+json` with a stable `type`
//! URI and `code` (the specifications' codes, e.g. `PARSING_ERROR`,
//! `UNKNOWN_OPTION_PROVIDED`). Answers of the VC API verify routes also carry
//! `verified: false` and `problemDetails`, as the VC API's own error shape. Internal
//! failures are logged and shown without detail.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bem_core::verify::Check;
use serde_json::{json, Value};

/// The `type` URI of a problem code (as `ProblemCode::type_uri` writes it).
pub fn type_uri(code: &str) -> String {
    format!("https://w3id.org/security#{code}")
}

/// `PROOF_VERIFICATION_ERROR` → `Proof verification error`.
pub fn title(code: &str) -> String {
    let words = code.to_ascii_lowercase().replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The problem object of a failed or warning check.
pub fn of_check(check: &Check) -> Value {
    let code = check.code.unwrap_or("VERIFICATION_ERROR");
    json!({
        "type": type_uri(code),
        "code": code,
        "title": title(code),
        "detail": format!("{}: {}", check.name, check.message),
    })
}

/// An error answer of the service.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), retry_after: None }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RESOURCE_LIMIT_EXCEEDED",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn overloaded() -> Self {
        Self {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_OVERLOADED",
                "too many verifications in progress; try again shortly",
            )
        }
    }

    /// 503 with `Retry-After`: the service cannot do this now, but will.
    pub fn unavailable(code: &'static str, detail: impl Into<String>, retry_after: u32) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail) }
    }

    /// An internal failure: logged in full, shown without detail.
    pub fn internal(log: &str) -> Self {
        tracing::error!(error = log, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "the verifier failed; the failure was logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn body(&self) -> Value {
        let problem = json!({"type": type_uri(self.code), "code": self.code, "title": title(self.code), "detail": self.detail});
        json!({
            "type": type_uri(self.code),
            "code": self.code,
            "title": title(self.code),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "verified": false,
            "problemDetails": [problem],
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_read_as_words() {
        assert_eq!(title("PROOF_VERIFICATION_ERROR"), "Proof verification error");
        assert_eq!(title(""), "");
    }
}
