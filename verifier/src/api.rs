//! The W3C VC API routes: `POST /credentials/verify`, `POST /presentations/verify`,
//! `POST /challenges`, and the answer body they share with `check --json`.
//!
//! Status codes (attack-cases.md note N1): a credential or presentation that fails
//! verification answers **400** with `verified: false` and `problemDetails`, because the
//! W3C suites count only 400/422 as a rejection (VCALM would answer 200 for a failed
//! presentation; we keep one rule for both). A malformed request (not strict JSON,
//! duplicate keys, no `verifiableCredential`) is 400 `PARSING_ERROR`; an option the VC
//! API does not define for the route is 400 `UNKNOWN_OPTION_PROVIDED` — in particular
//! `proofPurpose` and `verificationMethod`, which a caller may never set (AC-10); a body
//! over [`MAX_DOCUMENT_BYTES`] is 413; overload is 503 with `Retry-After`.
//!
//! Accepted options. Credentials: `checks` (a list of names; every check always runs,
//! the list is accepted for compatibility), `returnResults` (default true: the per-check
//! `results`), `returnProblemDetails` (default true), `returnCredential` (default
//! false). Presentations: the same plus `challenge`, `domain` (strings) and
//! `returnPresentation`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bem_core::verify::{Report, Status};
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};

use crate::metrics::Kind;
use crate::problem::{self, ApiError};
use crate::server::AppState;
use crate::verification::{Verifier, MAX_DOCUMENT_BYTES};

/// The options a verify request may carry, read strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOptions {
    pub return_results: bool,
    pub return_problem_details: bool,
    pub return_document: bool,
    pub challenge: Option<String>,
    pub domain: Option<String>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        Self {
            return_results: true,
            return_problem_details: true,
            return_document: false,
            challenge: None,
            domain: None,
        }
    }
}

/// Which verify route the options are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Credential,
    Presentation,
}

impl RequestOptions {
    pub fn parse(options: Option<&Value>, route: Route) -> Result<Self, ApiError> {
        let mut parsed = Self::default();
        let map = match options {
            None | Some(Value::Null) => return Ok(parsed),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(ApiError::bad_request("MALFORMED_VALUE_ERROR", "`options` is not an object"))
            }
        };
        for (name, value) in map {
            let flag = |v: &Value| {
                v.as_bool().ok_or_else(|| {
                    ApiError::bad_request(
                        "MALFORMED_VALUE_ERROR",
                        format!("option `{name}` is not a boolean"),
                    )
                })
            };
            let text = |v: &Value| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::bad_request("MALFORMED_VALUE_ERROR", format!("option `{name}` is not a string"))
                })
            };
            match (name.as_str(), route) {
                ("checks", _) => {
                    let ok = value.as_array().is_some_and(|items| items.iter().all(Value::is_string));
                    if !ok {
                        return Err(ApiError::bad_request(
                            "MALFORMED_VALUE_ERROR",
                            "option `checks` is not a list of names",
                        ));
                    }
                }
                ("returnResults", _) => parsed.return_results = flag(value)?,
                ("returnProblemDetails", _) => parsed.return_problem_details = flag(value)?,
                ("returnCredential", Route::Credential) | ("returnPresentation", Route::Presentation) => {
                    parsed.return_document = flag(value)?;
                }
                ("challenge", Route::Presentation) => parsed.challenge = Some(text(value)?),
                ("domain", Route::Presentation) => parsed.domain = Some(text(value)?),
                (other, _) => {
                    let shown: String = other.chars().take(64).collect();
                    return Err(ApiError::bad_request(
                        "UNKNOWN_OPTION_PROVIDED",
                        format!("option {shown:?} is not supported by this endpoint"),
                    ));
                }
            }
        }
        Ok(parsed)
    }
}

/// The answer body for a report (the VC API's VerificationResponse, plus our `verdict`).
pub fn response_body(report: &Report, options: &RequestOptions, document: Option<&Value>) -> Value {
    let mut body = Map::new();
    body.insert("verified".into(), report.verified().into());
    body.insert("verdict".into(), serde_json::to_value(report.verdict()).unwrap_or(Value::Null));
    body.insert("trusted".into(), report.trusted().into());
    let mut passed: Vec<&str> = Vec::new();
    for c in report.checks.iter().filter(|c| c.status == Status::Ok) {
        if !passed.contains(&c.name) {
            passed.push(c.name);
        }
    }
    body.insert("checks".into(), json!(passed));
    let warnings: Vec<Value> =
        all_checks(report).filter(|c| c.status == Status::Warning).map(problem::of_check).collect();
    body.insert("warnings".into(), warnings.into());
    if options.return_problem_details {
        let failures: Vec<Value> =
            all_checks(report).filter(|c| c.status == Status::Failed).map(problem::of_check).collect();
        body.insert("problemDetails".into(), failures.into());
    }
    if options.return_results {
        body.insert("results".into(), serde_json::to_value(report).unwrap_or(Value::Null));
    }
    if let (true, Some(doc)) = (options.return_document, document) {
        let key = if report.kind == "presentation" { "presentation" } else { "credential" };
        body.insert(key.into(), doc.clone());
    }
    Value::Object(body)
}

/// The report's checks and those of the credentials inside it.
fn all_checks(report: &Report) -> Box<dyn Iterator<Item = &bem_core::verify::Check> + '_> {
    Box::new(report.checks.iter().chain(report.credentials.iter().flat_map(all_checks)))
}

/// How far past the limit a body is still read (and thrown away) before the 413, so that
/// a client that sends a somewhat oversized body gets the answer rather than a connection
/// closed under it while it writes ("broken pipe"); bodies larger than this are cut off.
const DRAIN_FACTOR: usize = 4;

/// Reads a request body up to `limit` bytes (413 beyond it). A body over the limit is
/// kept only up to the limit; the rest is read and dropped up to `DRAIN_FACTOR` times the
/// limit (one announced larger by its `Content-Length` is refused at once).
pub async fn read_body(request: Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let drain_limit = limit.saturating_mul(DRAIN_FACTOR);
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > drain_limit) {
        return Err(ApiError::too_large(limit));
    }
    let unreadable = |e: axum::Error| {
        if bem_serve::BodyTimeout::caused(&e) {
            ApiError::new(StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT", e.to_string())
        } else {
            ApiError::bad_request("PARSING_ERROR", "the request body could not be read")
        }
    };
    let mut body = request.into_body();
    let mut bytes = Vec::with_capacity(announced.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(unreadable)?.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            bytes.extend_from_slice(&data);
        } else if seen > drain_limit {
            return Err(ApiError::too_large(limit));
        }
    }
    if seen > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(bytes)
}

/// Reads a request body as one strict JSON object; with the body's length.
async fn read_request(request: Request) -> Result<(Map<String, Value>, usize), ApiError> {
    let bytes = read_body(request, MAX_DOCUMENT_BYTES).await?;
    match bem_core::json::parse(&bytes, &Verifier::json_limits()) {
        Ok(Value::Object(map)) => Ok((map, bytes.len())),
        Ok(_) => Err(ApiError::bad_request("PARSING_ERROR", "the request body is not a JSON object")),
        Err(e) => Err(ApiError::bad_request(
            e.code.as_str(),
            format!("the request body is not strict JSON: {}", e.message),
        )),
    }
}

/// Largest document verified in place rather than on the blocking pool.
const QUICK_MAX_BYTES: usize = 16 * 1024;
/// Largest `eddsa-rdfc-2022` document verified in place: the fast JSON-LD path takes
/// ~100 µs for such a credential; were it to decline, the general processor and the
/// bounded RDFC still answer in about a millisecond at this size.
const QUICK_RDFC_MAX_BYTES: usize = 4 * 1024;

/// Whether verifying `document` is quick enough to try in place: small, no status list
/// and a `did:key` issuer (so most likely no network; one that needs it after all is run
/// again on the blocking pool), and either an `eddsa-jcs-2022` proof (tens of
/// microseconds) or an `eddsa-rdfc-2022` proof over a document of at most 4 KiB whose
/// contexts are all embedded ones (the fast JSON-LD path's). Anything else, and anything
/// that fetches, goes to the blocking pool.
pub fn is_quick(document: &Value, body_len: usize) -> bool {
    let Some(doc) = document.as_object() else { return false };
    let issuer = match doc.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
        _ => None,
    };
    let pinned = |c: &Value| {
        c.as_str()
            .is_some_and(|url| bem_core::contexts::PINNED.iter().any(|p| p.url == url && !p.example_only))
    };
    let embedded_contexts = match doc.get("@context") {
        Some(Value::Array(items)) => items.iter().all(pinned),
        Some(single) => pinned(single),
        None => false,
    };
    let quick_proof = match doc.get("proof").and_then(|p| p.get("cryptosuite")).and_then(Value::as_str) {
        Some("eddsa-jcs-2022") => true,
        Some("eddsa-rdfc-2022") => body_len <= QUICK_RDFC_MAX_BYTES && embedded_contexts,
        _ => false,
    };
    body_len <= QUICK_MAX_BYTES
        && !doc.contains_key("credentialStatus")
        && issuer.is_some_and(|i| i.starts_with("did:key:"))
        && quick_proof
}

fn answer(report: &Report, options: &RequestOptions, document: Option<&Value>) -> Response {
    let status = if report.verified() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let body = response_body(report, options, document);
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

pub async fn verify_credential(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut map, body_len) = read_request(request).await?;
    let options = RequestOptions::parse(map.get("options"), Route::Credential)?;
    let document = map
        .remove("verifiableCredential")
        .ok_or_else(|| ApiError::bad_request("PARSING_ERROR", "the request has no `verifiableCredential`"))?;
    let quick = is_quick(&document, body_len);
    let document = Arc::new(document);
    let shared = document.clone();
    let report =
        state.clone().verify_quick_or_pooled(Kind::Credential, quick, move |v| v.credential(&shared)).await?;
    Ok(answer(&report, &options, Some(&document)))
}

pub async fn verify_presentation(
    State(state): State<Arc<AppState>>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut map, _) = read_request(request).await?;
    let options = RequestOptions::parse(map.get("options"), Route::Presentation)?;
    let document = map.remove("verifiablePresentation").ok_or_else(|| {
        ApiError::bad_request("PARSING_ERROR", "the request has no `verifiablePresentation`")
    })?;
    let now = crate::verification::now().unix_seconds();
    // An early refusal spares the verification; the decision is the consume below.
    if let Some(refusal) = options.challenge.as_ref().and_then(|c| state.challenges.inspect(c, now).refusal())
    {
        return Err(ApiError::bad_request("INVALID_CHALLENGE_ERROR", refusal));
    }
    let (challenge, domain) = (options.challenge.clone(), options.domain.clone());
    let (report, document) = state
        .clone()
        .verify(Kind::Presentation, move |v| {
            let report = v.presentation(&document, challenge.as_deref(), domain.as_deref());
            (report, document)
        })
        .await?;
    // Single use: one atomic consume, once the presentation verified (a failed one does
    // not use the challenge up). Of concurrent presentations of one challenge, one wins.
    if let (true, Some(challenge)) = (report.verified(), &options.challenge) {
        if let Some(refusal) = state.challenges.consume(challenge, now).refusal() {
            return Err(ApiError::bad_request("INVALID_CHALLENGE_ERROR", refusal));
        }
    }
    Ok(answer(&report, &options, Some(&document)))
}

/// `POST /challenges`: a fresh challenge (any body is ignored, up to the cap).
pub async fn challenges(State(state): State<Arc<AppState>>, request: Request) -> Result<Response, ApiError> {
    read_body(request, MAX_DOCUMENT_BYTES).await?;
    let challenge = state.challenges.mint(crate::verification::now().unix_seconds()).map_err(|wait| {
        ApiError::unavailable(
            "RESOURCE_LIMIT_EXCEEDED",
            format!(
                "{} challenges minted in the last {} seconds are still outstanding; try again later or use a challenge of your own",
                state.challenges.max_outstanding(),
                crate::challenge::MAX_AGE_SECS
            ),
            u32::try_from(wait).unwrap_or(1),
        )
    })?;
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json!({"challenge": challenge}).to_string(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_strictly() {
        let parse = |v: Value, r| RequestOptions::parse(Some(&v), r);
        assert_eq!(parse(json!({}), Route::Credential).unwrap(), RequestOptions::default());
        assert!(parse(json!({"checks": ["proof"], "returnResults": false}), Route::Credential).is_ok());
        for bad in [
            json!({"proofPurpose": "authentication"}),
            json!({"verificationMethod": "did:key:z6Mk#z6Mk"}),
            json!({"challenge": "abc"}),
            json!({"domain": "x"}),
            json!({"returnPresentation": true}),
            json!({"anything": 1}),
        ] {
            let e = parse(bad.clone(), Route::Credential).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert!(e.body()["code"] == "UNKNOWN_OPTION_PROVIDED", "{bad}");
        }
        let p = parse(json!({"challenge": "c", "domain": "d"}), Route::Presentation).unwrap();
        assert_eq!((p.challenge.as_deref(), p.domain.as_deref()), (Some("c"), Some("d")));
        assert!(parse(json!({"challenge": 5}), Route::Presentation).is_err());
        assert!(parse(json!({"checks": "proof"}), Route::Credential).is_err());
        assert!(RequestOptions::parse(Some(&json!([])), Route::Credential).is_err());
    }

    #[test]
    fn only_small_offline_credentials_over_embedded_contexts_run_in_place() {
        let vc = |suite: &str, context: Value| json!({"@context": context, "issuer": "did:key:z6Mkq", "proof": {"cryptosuite": suite}});
        let v2 = json!(["https://www.w3.org/ns/credentials/v2"]);
        assert!(is_quick(&vc("eddsa-jcs-2022", v2.clone()), 2_000));
        assert!(is_quick(&vc("eddsa-rdfc-2022", v2.clone()), 2_000));
        assert!(is_quick(&vc("eddsa-rdfc-2022", json!("https://www.w3.org/ns/credentials/v2")), 2_000));
        // Too big for RDFC in place; contexts the fast path does not take; not embedded.
        assert!(!is_quick(&vc("eddsa-rdfc-2022", v2.clone()), 5_000));
        assert!(is_quick(&vc("eddsa-jcs-2022", v2.clone()), 5_000));
        let examples =
            json!(["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]);
        assert!(!is_quick(&vc("eddsa-rdfc-2022", examples), 2_000));
        let inline = json!(["https://www.w3.org/ns/credentials/v2", {"x": "urn:x"}]);
        assert!(!is_quick(&vc("eddsa-rdfc-2022", inline), 2_000));
        // Anything that may fetch: a status entry, a did:web issuer.
        let mut listed = vc("eddsa-jcs-2022", v2.clone());
        listed["credentialStatus"] = json!({});
        assert!(!is_quick(&listed, 2_000));
        let mut web = vc("eddsa-jcs-2022", v2);
        web["issuer"] = json!({"id": "did:web:academy.example"});
        assert!(!is_quick(&web, 2_000));
        assert!(!is_quick(&json!([]), 2));
    }
}
