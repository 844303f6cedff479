//! The HTTP interface: routes of the contract, content negotiation, and the mapping of
//! each request to one call of the issuing service.
//!
//! Handlers extract, call [`Issuer`] (on the blocking pool: SQLite and signing block),
//! and map the result; they hold no credential logic. Admin routes take [`Admin`] as
//! their first extractor, so a request without the token is refused before its body is
//! read.
//!
//! Routes that answer in more than one form (HTML or JSON by `Accept`) choose by
//! q-value ([`negotiate`]) and send `Vary: Accept` on every answer, so no cache hands
//! one client's form to another.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::certificate::{Learner, Profile};
use crate::issuance::{BulkStart, IssueError, Issuer};
use crate::problem::{body_bytes, Admin, ApiError, StrictJson};
use crate::status_lists::Purpose;
use crate::store::StatusChange;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub issuer: Arc<Issuer>,
    pub admin_token: Arc<str>,
    /// Failed admin-token attempts by client (429 beyond the limit).
    pub failed_auth: Arc<crate::auth_limit::FailedAuth>,
    /// Whose `X-Forwarded-For` names the client (`crate::client_address`).
    pub trusted_proxies: Arc<crate::client_address::TrustedProxies>,
    /// Rendered PDFs and QR images (`crate::render_cache`).
    pub render_cache: Arc<crate::render_cache::RenderCache>,
    pub issuer_name: Arc<str>,
    /// The JAdES seal, when configured (`GET /credentials/{id}/sealed`).
    pub seal: Option<Arc<crate::seal::Seal>>,
}

/// The service's routes.
pub fn router(state: AppState, max_body_bytes: usize, max_csv_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/.well-known/did.json", get(did_document))
        .route("/did.json", get(did_document))
        .route("/micro-credentials", get(catalogue).layer(map_response(vary_accept)).post(put_definition))
        .route("/micro-credentials/{id}", get(definition).layer(map_response(vary_accept)))
        .route("/micro-credentials/{id}/certificates", post(award))
        .route(
            "/micro-credentials/{id}/certificates/bulk",
            post(award_bulk).layer(DefaultBodyLimit::max(max_csv_bytes)),
        )
        .route("/credentials/issue", post(issue))
        .route("/credentials/status", post(update_status))
        .route("/credentials/bulk", get(bulk_jobs))
        .route("/credentials/bulk/{job}", get(bulk_job))
        .route("/credentials/{id}", get(credential).layer(map_response(vary_accept)))
        .route("/credentials/{id}/sealed", get(crate::seal::sealed))
        .route("/credentials/{id}/qr.png", get(qr_png))
        .route("/credentials/{id}/qr.svg", get(qr_svg))
        .route("/status-lists/{id}", get(status_list))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Headers on every answer: `X-Content-Type-Options: nosniff`; on HTML pages the
/// Content-Security-Policy (`crate::pages::content_security_policy`, with
/// `frame-ancestors 'none'`) and `Referrer-Policy: no-referrer` (a certificate's link is
/// its key: it must not leak to the sites it links to); on every certificate answer
/// (`/credentials/…`: page, JSON, PDF, QR) `X-Robots-Tag: noindex` and no referrer either.
async fn security_headers(request: Request, next: axum::middleware::Next) -> Response {
    let certificate = request.uri().path().starts_with("/credentials/");
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if html {
        if let Ok(csp) = HeaderValue::from_str(&crate::pages::content_security_policy()) {
            headers.insert("content-security-policy", csp);
        }
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    if html || certificate {
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    }
    if certificate {
        headers.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this resource does not accept that method",
    )
}

/// Runs blocking work (SQLite, signing) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

pub(crate) fn path(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s).map_err(|e| ApiError::not_found(e.body_text()))
}

/// Adds `Vary: Accept` to an answer of a negotiated route (errors included).
async fn vary_accept(mut response: Response) -> Response {
    response.headers_mut().append(axum::http::header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The media type of `offers` (server preference first) that the request's `Accept`
/// prefers (RFC 9110 §12.5.1): each offer takes the q-value of the most specific range
/// that matches it (`type/sub` over `type/*` over `*/*`); the highest q above 0 wins,
/// ties going to the earlier offer. With no `Accept`, or nothing acceptable, the first
/// offer (a 406 would help no client here).
fn negotiate(headers: &HeaderMap, offers: &[&'static str]) -> &'static str {
    let ranges: Vec<(String, u8, f32)> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let specificity = match media.as_str() {
                "*/*" => 1,
                m if m.ends_with("/*") => 2,
                m if m.contains('/') => 3,
                _ => return None,
            };
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((name, value)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        q = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some((media, specificity, q))
        })
        .collect();
    let Some(first) = offers.first().copied() else { return "application/json" };
    if ranges.is_empty() {
        return first;
    }
    let quality = |offer: &str| -> f32 {
        let kind = offer.split('/').next().unwrap_or_default();
        ranges
            .iter()
            .filter(|(media, specificity, _)| match specificity {
                1 => true,
                2 => media.strip_suffix("/*") == Some(kind),
                _ => media == offer,
            })
            .max_by_key(|(_, specificity, _)| *specificity)
            .map_or(0.0, |(_, _, q)| *q)
    };
    let mut best = (first, 0.0_f32);
    for offer in offers {
        let q = quality(offer);
        if q > best.1 {
            best = (offer, q);
        }
    }
    best.0
}

fn json_with(content_type: &'static str, body: String) -> Response {
    ([(CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// This service's OpenAPI 3.1 document (`issuer/openapi.json`; its paths are the routes
/// above, checked by `tests/e2e.rs` `openapi`).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn did_document(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let doc = blocking(move || issuer.did_document().map_err(ApiError::internal)).await?;
    Ok(json_with("application/did+json", doc.to_string()))
}

async fn catalogue(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let definitions = blocking(move || issuer.db().definitions().map_err(ApiError::internal)).await?;
    if negotiate(&headers, &["application/json", "text/html"]) == "text/html" {
        return Ok(Html(crate::pages::catalogue(&definitions, &state.issuer_name)).into_response());
    }
    Ok(Json(json!({"microCredentials": definitions})).into_response())
}

async fn definition(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let issuer = state.issuer.clone();
    let lookup = id.clone();
    let def = blocking(move || issuer.db().definition(&lookup).map_err(ApiError::internal))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no micro-credential {id:?} in the catalogue")))?;
    if negotiate(&headers, &["application/json", "application/ld+json"]) == "application/ld+json" {
        let elm = crate::certificate::definition_document(&def, state.issuer.public_url());
        return Ok(json_with("application/ld+json", elm.to_string()));
    }
    Ok(Json(def).into_response())
}

async fn put_definition(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(def): StrictJson<Value>,
) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let stored = def.clone();
    let (id, created) = blocking(move || issuer.put_definition(&stored).map_err(ApiError::from)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let location = format!("{}/micro-credentials/{id}", state.issuer.public_url());
    Ok(with_location((status, Json(def)).into_response(), &location))
}

/// `response` with a `Location` header naming `url`.
fn with_location(mut response: Response, url: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(url) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// The certificate form an award asks for: `?profile=elm` (the default) or
/// `?profile=openbadges`; any other query is a 400.
fn profile(query: Option<String>) -> Result<Profile, ApiError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else { return Ok(Profile::default()) };
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_VALUE_ERROR", detail);
    let mut chosen = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("profile", name)) if chosen.is_none() => {
                chosen = Some(Profile::parse(name).ok_or_else(|| {
                    bad(format!("unknown profile {name:?}: use `elm` (the default) or `openbadges`"))
                })?);
            }
            _ => return Err(bad(format!("unknown query {pair:?}: the only parameter is `profile`"))),
        }
    }
    Ok(chosen.unwrap_or_default())
}

async fn award(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    StrictJson(learner): StrictJson<Learner>,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let profile = profile(query)?;
    let issuer = state.issuer.clone();
    let awarded = blocking(move || issuer.award(&id, &learner, profile).map_err(ApiError::from)).await?;
    Ok(with_location((StatusCode::CREATED, Json(&awarded)).into_response(), &awarded.links.credential))
}

async fn award_bulk(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let profile = profile(query)?;
    let is_csv = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "the body must be text/csv",
        ));
    }
    let key = idempotency_key(request.headers())?;
    let respond_async = prefers_async(request.headers());
    let body: Bytes = body_bytes(request, &()).await?;
    let issuer = state.issuer.clone();
    let started = std::time::Instant::now();
    let (status, view) = blocking(move || {
        let rows = crate::bulk::parse(&body).map_err(|problems| {
            ApiError::new(StatusCode::BAD_REQUEST, "INVALID_CSV", "the CSV file cannot be used")
                .with_problems(problems.into_iter().map(Value::String).collect())
        })?;
        let digest: String = Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
        let (status, job) = match issuer.start_bulk(&id, profile, key.as_deref(), &digest, rows.len())? {
            BulkStart::Run(job) if respond_async => {
                let (issuer, running, id) = (issuer.clone(), job.clone(), id.clone());
                tokio::runtime::Handle::current().spawn_blocking(move || {
                    if let Err(e) = issuer.award_bulk(&running, &id, rows, profile) {
                        eprintln!(
                            "bem-issuer: bulk job {running} stopped ({e:?}); sent again with its Idempotency-Key it resumes"
                        );
                    }
                });
                (StatusCode::ACCEPTED, job)
            }
            BulkStart::Run(job) => {
                issuer.award_bulk(&job, &id, rows, profile)?;
                (StatusCode::OK, job)
            }
            BulkStart::Finished(job) => (StatusCode::OK, job),
            BulkStart::Running(job) => (StatusCode::ACCEPTED, job),
        };
        let view = issuer.bulk_job(&job)?.ok_or_else(|| ApiError::internal("a bulk job vanished"))?;
        Ok((status, view))
    })
    .await?;
    let location = format!("{}/credentials/bulk/{}", state.issuer.public_url(), view.job);
    let mut body = serde_json::to_value(&view).map_err(ApiError::internal)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
    }
    Ok(with_location((status, Json(body)).into_response(), &location))
}

/// Whether the request says `Prefer: respond-async` (RFC 7240): then a bulk job is
/// answered 202 with its `Location` at once, and its rows appear there as they are issued.
fn prefers_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("respond-async"))
}

/// The `Idempotency-Key` of a bulk request: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_VALUE_ERROR",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// `GET /credentials/bulk`: the newest bulk jobs (a client that left without its job's
/// address finds it here).
async fn bulk_jobs(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let jobs = blocking(move || issuer.bulk_jobs(100).map_err(ApiError::from)).await?;
    Ok(Json(json!({"jobs": jobs})).into_response())
}

/// `GET /credentials/bulk/{job}`: a bulk job and its rows' outcomes so far.
async fn bulk_job(
    State(state): State<AppState>,
    _admin: Admin,
    job: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let job = path(job)?;
    let issuer = state.issuer.clone();
    let lookup = job.clone();
    let view = blocking(move || issuer.bulk_job(&lookup).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no bulk job {}", crate::learner::quoted(&job))))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    credential: Value,
    #[serde(default)]
    options: Option<Value>,
}

async fn issue(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(request): StrictJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let options = Issuer::issue_options(request.options.as_ref())?;
    let issuer = state.issuer.clone();
    let signed = blocking(move || issuer.issue(request.credential, &options).map_err(ApiError::from)).await?;
    Ok((StatusCode::CREATED, Json(json!({"verifiableCredential": signed}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StatusRequest {
    credential_id: String,
    credential_status: StatusSelector,
    status: StatusValue,
}

/// The status to set: `true`/`false` for revocation and suspension; for messages a
/// status value as `statusMessage` writes it (`"0x0"` .. `"0x3"`), or `false` for 0.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum StatusValue {
    Flag(bool),
    Value(String),
}

impl StatusValue {
    fn for_purpose(&self, purpose: Purpose) -> Option<u8> {
        let value = match self {
            StatusValue::Flag(on) => u8::from(*on),
            StatusValue::Value(text) => u8::from_str_radix(text.strip_prefix("0x")?, 16).ok()?,
        };
        let fits = u32::from(value) < 1 << purpose.status_size();
        let flag_for_message = purpose == Purpose::Message && matches!(self, StatusValue::Flag(true));
        (fits && !flag_for_message).then_some(value)
    }

    fn to_json(&self) -> Value {
        match self {
            StatusValue::Flag(on) => Value::Bool(*on),
            StatusValue::Value(text) => Value::String(text.clone()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StatusSelector {
    #[serde(rename = "type")]
    kind: String,
    status_purpose: String,
}

async fn update_status(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(request): StrictJson<StatusRequest>,
) -> Result<Response, ApiError> {
    if request.credential_status.kind != "BitstringStatusListEntry" {
        return Err(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![format!(
                "credentialStatus.type {:?} is not BitstringStatusListEntry",
                request.credential_status.kind
            )],
        }
        .into());
    }
    let purpose = Purpose::parse(&request.credential_status.status_purpose).ok_or_else(|| {
        ApiError::from(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![format!(
                "statusPurpose {:?} is not revocation, suspension or message",
                request.credential_status.status_purpose
            )],
        })
    })?;
    let value = request.status.for_purpose(purpose).ok_or_else(|| {
        ApiError::from(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![match purpose {
                Purpose::Message => {
                    "status must be one of \"0x0\", \"0x1\", \"0x2\", \"0x3\" for a message".to_owned()
                }
                _ => format!("status must be true or false for {}", purpose.as_str()),
            }],
        })
    })?;
    let issuer = state.issuer.clone();
    let id = request.credential_id.clone();
    let change = blocking(move || issuer.set_status(&id, purpose, value).map_err(ApiError::from)).await?;
    let changed = matches!(change, StatusChange::Applied { changed: true, .. });
    Ok(Json(json!({
        "credentialId": request.credential_id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose.as_str()},
        "status": request.status.to_json(),
        "changed": changed,
    }))
    .into_response())
}

async fn status_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let raw = path(id)?;
    let id: i64 = raw
        .parse()
        .ok()
        .filter(|n| *n > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::not_found(format!("no status list {raw:?}")))?;
    let issuer = state.issuer.clone();
    let list = blocking(move || issuer.status_list(id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no status list {id}")))?;
    let etag = HeaderValue::from_str(&list.etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("public, max-age=60, must-revalidate");
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == list.etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag), (CACHE_CONTROL, cache)]).into_response());
    }
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/vc+ld+json")),
            (ETAG, etag),
            (CACHE_CONTROL, cache),
        ],
        list.body,
    )
        .into_response())
}

/// A stored certificate as the public routes serve it.
pub(crate) struct Stored {
    pub document: Value,
    /// The status notice printed on the page and the PDF.
    pub notice: Option<String>,
    /// Why no compact form may be made (revoked, suspended).
    pub withheld: Option<&'static str>,
    /// Changes with every status change of the certificate (`Db::status_version`).
    pub status_version: String,
}

/// The stored credential of a link token, and its status; 404 for an unknown token, 410
/// for an erased one (`bem-issuer learner erase`).
pub(crate) async fn stored(state: &AppState, token: String) -> Result<Stored, ApiError> {
    if !crate::clock::is_token(&token) {
        return Err(ApiError::not_found("no such credential"));
    }
    let issuer = state.issuer.clone();
    blocking(move || {
        let db = issuer.db();
        let row = db
            .credential_by_token(&token)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("no such credential"))?;
        if let Some(when) = row.erased {
            return Err(ApiError::new(
                StatusCode::GONE,
                "ERASED",
                format!(
                    "this certificate's personal data was erased at the learner's request on {when}; \
                     it is revoked"
                ),
            ));
        }
        let statuses = db.statuses(&token).map_err(ApiError::internal)?;
        let status_version = db.status_version(&token).map_err(ApiError::internal)?;
        let set = |purpose: Purpose| statuses.iter().find(|(p, v)| *p == purpose && *v != 0).map(|(_, v)| *v);
        let (notice, withheld) = if set(Purpose::Revocation).is_some() {
            (Some("This certificate has been revoked by its issuer.".to_owned()), Some("it is revoked"))
        } else if set(Purpose::Suspension).is_some() {
            (
                Some("This certificate is currently suspended by its issuer.".to_owned()),
                Some("it is suspended"),
            )
        } else {
            let notice = set(Purpose::Message)
                .and_then(|v| crate::status_lists::MESSAGES.get(usize::from(v)))
                .map(|(_, message)| format!("Notice from the issuer: {message}."));
            (notice, None)
        };
        Ok(Stored { document: row.document, notice, withheld, status_version })
    })
    .await
}

/// The cache key and entity tag of what `kind` renders of a stored certificate: they
/// name everything the bytes depend on (`crate::render_cache`): the token, its status
/// version, the signing key, the verifier URL and, for forms that may carry the signed
/// compact text, the day that fixes its expiry.
fn render_key(state: &AppState, kind: &str, token: &str, stored: &Stored, compact: bool) -> (String, String) {
    use sha2::Digest as _;
    let day =
        if compact { crate::clock::now().get(..10).unwrap_or_default().to_owned() } else { String::new() };
    let key = format!(
        "{kind}|{token}|{}|{}|{}|{day}",
        stored.status_version,
        state.issuer.key_id(),
        state.issuer.verifier_url().unwrap_or_default()
    );
    let digest = sha2::Sha256::digest(key.as_bytes());
    let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    (key, etag)
}

/// Whether `If-None-Match` names `etag`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// A rendered answer, served from [`crate::render_cache`] or rendered once by `render`
/// (on the blocking pool); 304 when the client holds it. `BEM-Cache` says `hit` or `miss`.
async fn cached(
    state: &AppState,
    headers: &HeaderMap,
    (key, etag): (String, String),
    content_type: &'static str,
    extra: Vec<(&'static str, HeaderValue)>,
    render: impl FnOnce() -> Result<crate::render_cache::Rendered, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let etag_value = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let cache_control = HeaderValue::from_static("private, no-cache");
    if not_modified(headers, &etag) {
        return Ok(
            (StatusCode::NOT_MODIFIED, [(ETAG, etag_value), (CACHE_CONTROL, cache_control)]).into_response()
        );
    }
    let (rendered, hit) = match state.render_cache.get(&key) {
        Some(r) => (r, "hit"),
        None => {
            let rendered = blocking(render).await?;
            state.render_cache.put(&key, rendered.clone());
            (rendered, "miss")
        }
    };
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (ETAG, etag_value),
            (CACHE_CONTROL, cache_control),
        ],
        axum::body::Body::from(Bytes::copy_from_slice(&rendered.body)),
    )
        .into_response();
    let out = response.headers_mut();
    out.insert("bem-cache", HeaderValue::from_static(hit));
    for (name, value) in extra {
        out.insert(name, value);
    }
    for (name, value) in &rendered.headers {
        out.insert(*name, value.clone());
    }
    Ok(response)
}

/// `GET /credentials/{id}`: the stored credential as JSON, or its printable page for a
/// browser; `GET /credentials/{id}.pdf` (the same path segment: axum matches whole
/// segments) its PDF.
async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let segment = path(id)?;
    if let Some(token) = segment.strip_suffix(".pdf") {
        return certificate_pdf(&state, &headers, token.to_owned()).await;
    }
    let token = segment;
    let stored = stored(&state, token.clone()).await?;
    if negotiate(&headers, &["application/json", "text/html"]) == "text/html" {
        let (signed, note) = printed_form(&state, &token, &stored).await?;
        return Ok(Html(crate::pages::certificate(
            &stored.document,
            &token,
            stored.notice.as_deref(),
            signed,
            note.as_deref(),
        ))
        .into_response());
    }
    Ok(json_with("application/json", served_json(&stored.document)))
}

/// Whether the page's QR code is the signed compact form, and the note when it is not
/// (`crate::qr::printed`); decided once per certificate, status version and day (making
/// the compact form signs it), through the render cache.
async fn printed_form(
    state: &AppState,
    token: &str,
    stored: &Stored,
) -> Result<(bool, Option<String>), ApiError> {
    let compact = state.issuer.verifier_url().is_some() && stored.withheld.is_none();
    let (key, _) = render_key(state, "printed", token, stored, compact);
    let read = |r: &crate::render_cache::Rendered| {
        let note = (!r.body.is_empty()).then(|| String::from_utf8_lossy(&r.body).into_owned());
        (r.headers.iter().any(|(n, v)| *n == "bem-qr-form" && v == "compact"), note)
    };
    if let Some(r) = state.render_cache.get(&key) {
        return Ok(read(&r));
    }
    let (issuer, token, doc, withheld) =
        (state.issuer.clone(), token.to_owned(), stored.document.clone(), stored.withheld);
    let code = blocking(move || {
        let day = crate::clock::now();
        Ok(crate::qr::printed(&issuer, &doc, &token, withheld, day.get(..10).unwrap_or_default()))
    })
    .await?;
    let form = HeaderValue::from_static(if code.signed { "compact" } else { "link" });
    let rendered = crate::render_cache::Rendered::new(
        code.note.clone().unwrap_or_default().into_bytes(),
        vec![("bem-qr-form", form)],
    );
    state.render_cache.put(&key, rendered);
    Ok((code.signed, code.note))
}

/// The JSON text of a stored credential as `GET /credentials/{id}` serves it, and as the
/// PDF carries it.
fn served_json(doc: &Value) -> String {
    doc.to_string()
}

/// The printable certificate as PDF (`crate::pdf`): the page's text, its QR code and the
/// served JSON attached; the same status notice as the page. Cached per certificate and
/// status version.
async fn certificate_pdf(state: &AppState, headers: &HeaderMap, token: String) -> Result<Response, ApiError> {
    let stored = stored(state, token.clone()).await?;
    let link = state.issuer.links(&token).credential;
    let compact = state.issuer.verifier_url().is_some() && stored.withheld.is_none();
    let key = render_key(state, "pdf", &token, &stored, compact);
    // The token is 32 hex digits (checked by `stored`): safe in a header.
    let short = token.get(..8).unwrap_or(&token);
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"certificate-{short}.pdf\""))
        .map_err(ApiError::internal)?;
    let issuer = state.issuer.clone();
    cached(state, headers, key, "application/pdf", vec![("content-disposition", disposition)], move || {
        let day = crate::clock::now();
        let code = crate::qr::printed(
            &issuer,
            &stored.document,
            &token,
            stored.withheld,
            day.get(..10).unwrap_or_default(),
        );
        let qr = crate::qr::modules(&code.text).map_err(ApiError::internal)?;
        let json = served_json(&stored.document);
        let input = crate::pdf::Input {
            credential: &stored.document,
            json: &json,
            link: &link,
            qr: &qr,
            qr_signed: code.signed,
            qr_note: code.note.as_deref(),
            notice: stored.notice.as_deref(),
        };
        let body = crate::pdf::render(&input).map_err(ApiError::internal)?;
        Ok(crate::render_cache::Rendered::new(body, Vec::new()))
    })
    .await
}

async fn qr_png(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    qr(&state, &headers, id, query, "image/png", crate::qr::png).await
}

async fn qr_svg(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    qr(&state, &headers, id, query, "image/svg+xml", |text| crate::qr::svg(text).map(String::into_bytes))
        .await
}

/// The QR code of a stored certificate, rendered by `render` as `content_type`: its link
/// (`?form=link`, the default) or its compact signed form (`?form=compact`, `crate::qr`).
/// A revoked or suspended certificate has no compact form (409); one whose compact form
/// cannot be made gets its link, and says so: `BEM-QR-Form: link` and `BEM-QR-Note`.
/// Cached per certificate, status version and form.
async fn qr<E: std::fmt::Display>(
    state: &AppState,
    headers: &HeaderMap,
    id: Result<Path<String>, PathRejection>,
    query: Option<String>,
    content_type: &'static str,
    render: impl Fn(&str) -> Result<Vec<u8>, E> + Send + 'static,
) -> Result<Response, ApiError> {
    let token = path(id)?;
    let form = crate::qr::Form::parse(query.as_deref())
        .map_err(|detail| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_VALUE_ERROR", detail))?;
    let stored = stored(state, token.clone()).await?;
    let compact = form == crate::qr::Form::Compact;
    if let (true, Some(reason)) = (compact, stored.withheld) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "COMPACT_FORM_WITHHELD",
            format!(
                "no signed compact form is made of this certificate: {reason}, and a verifier with no \
                 network could not see that. Its link (?form=link) shows the current status"
            ),
        ));
    }
    let kind = format!("qr|{content_type}|{form:?}");
    let key = render_key(state, &kind, &token, &stored, compact);
    let issuer = state.issuer.clone();
    cached(state, headers, key, content_type, Vec::new(), move || {
        let link = issuer.links(&token).credential;
        let (text, form_headers) = if compact {
            let day = crate::clock::now();
            match crate::qr::compact_text(
                &issuer,
                &stored.document,
                &token,
                day.get(..10).unwrap_or_default(),
            ) {
                Ok(text) => (text, vec![("bem-qr-form", HeaderValue::from_static("compact"))]),
                Err(crate::qr::NoCompact(reason)) => {
                    let note = format!("the link is drawn instead of the signed compact form: {reason}");
                    let note = HeaderValue::from_str(
                        &note.replace(|c: char| !c.is_ascii() || c.is_ascii_control(), "?"),
                    )
                    .map_err(ApiError::internal)?;
                    (link, vec![("bem-qr-form", HeaderValue::from_static("link")), ("bem-qr-note", note)])
                }
            }
        } else {
            (link, vec![("bem-qr-form", HeaderValue::from_static("link"))])
        };
        let body = render(&text).map_err(ApiError::internal)?;
        Ok(crate::render_cache::Rendered::new(body, form_headers))
    })
    .await
}
